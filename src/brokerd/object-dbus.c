/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <unistd.h>

#include "bus-util.h"
#include "log.h"
#include "object-dbus.h"
#include "polkit.h"
#include "util.h"

typedef struct BusObjects BusObjects;

/* What a fallback vtable's find and enumerate callbacks are given. */
typedef struct ObjectSlot {
        BusObjects *objects;
        const BusObjectType *type;
} ObjectSlot;

struct BusObjects {
        Manager *manager;               /* first: a slot as the methods take it */
        ObjectSlot slots[_OBJECT_KIND_MAX];
        bool emitting;                  /* a signal of ours is being built: no caller to check */
        /* the message last checked, and the answer: a GetManagedObjects
         * finds every object, the caller is asked about once (held, so
         * that its address is not another message's) */
        sd_bus_message *checked;
        bool checked_may_read;
};

static const char *const object_prefixes[_OBJECT_KIND_MAX] = {
        [OBJECT_DESKTOP] = BROKERD_OBJECT_PATH "/desktop",
        [OBJECT_TEMPLATE] = BROKERD_OBJECT_PATH "/template",
        [OBJECT_HOST] = BROKERD_OBJECT_PATH "/host",
        [OBJECT_NETWORK] = BROKERD_OBJECT_PATH "/network",
        [OBJECT_CLUSTER] = BROKERD_OBJECT_PATH "/cluster",
        [OBJECT_JOB] = BROKERD_OBJECT_PATH "/job",
};

int bus_object_path(ObjectKind kind, const char *name, char **ret) {
        assert(kind >= 0 && kind < _OBJECT_KIND_MAX);
        return sd_bus_path_encode(object_prefixes[kind], name, ret);
}

int bus_object_name(sd_bus_message *msg, const char *prefix, char **ret) {
        const char *name;
        int r;

        if (!streq_ptr(sd_bus_message_get_path(msg), BROKERD_OBJECT_PATH))
                return sd_bus_path_decode(sd_bus_message_get_path(msg), prefix, ret) > 0 ? 0 : -ENOENT;
        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        *ret = strdup(name);
        return *ret ? 0 : -ENOMEM;
}

/* Whether the caller whose message is being answered may read objects. */
/* Whether msg's sender may read objects: the bus daemon asked for its
 * groups, polkit's recent answers looked up. */
static bool sender_may_read(sd_bus_message *msg) {
        const char *sender = sd_bus_message_get_sender(msg);
        uid_t uid;

        if (bus_sender_uid(msg, &uid) >= 0 && (uid == 0 || uid == geteuid()))
                return true;
        if (bus_sender_in_group(msg, VDESK_ADMIN_GROUP) > 0)
                return true;
        return polkit_sender_allowed(sender, BROKERD_ACTION_READ) ||
               polkit_sender_allowed(sender, BROKERD_ACTION_MANAGE);
}

static bool caller_may_read(BusObjects *o, sd_bus *bus) {
        sd_bus_message *msg = sd_bus_get_current_message(bus);

        if (o->emitting || !msg)
                return true;
        if (msg != o->checked) {
                sd_bus_message_unref(o->checked);
                o->checked = sd_bus_message_ref(msg);
                o->checked_may_read = sender_may_read(msg);
        }
        return o->checked_may_read;
}

/* Whether the message being answered calls a method of interface (not a
 * property's Get, nor an introspection). */
static bool calls_method_of(sd_bus *bus, const char *interface) {
        sd_bus_message *msg = sd_bus_get_current_message(bus);

        return msg && sd_bus_message_is_method_call(msg, interface, NULL);
}

static int object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                       sd_bus_error *error) {
        _cleanup_(freep) char *name = NULL;
        ObjectSlot *s = userdata;
        bool method;
        int r;

        /* A method of the object's own asks polkit itself, and then
         * answers NoSuch... for what is not there: a caller polkit refuses
         * learns nothing of what exists either way. */
        method = calls_method_of(bus, s->type->interface);
        if (!method && !caller_may_read(s->objects, bus))
                return 0;
        r = sd_bus_path_decode(path, s->type->prefix, &name);
        if (r <= 0 || isempty(name) || name_invalid_reason(name))
                return 0;
        r = s->type->load(s->objects->manager, name, found);
        if (r == 0 && method) {
                *found = &s->objects->manager;  /* what the methods take: the Manager */
                return 1;
        }
        if (r < 0)
                /* the caller gets the failure, not a claim that nothing is there */
                return log_warning_errno(r, "Cannot read %s: %m", path);
        return r > 0;
}

static int object_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        _cleanup_(strv_freep) char **names = NULL, **paths = NULL;
        ObjectSlot *s = userdata;
        size_t n = 0;
        int r;

        if (!caller_may_read(s->objects, bus))
                return 0;
        r = s->type->list(s->objects->manager, &names);
        if (r < 0)
                return r;
        n = strv_length(names);
        paths = new0(char *, n + 1);
        if (!paths)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = sd_bus_path_encode(s->type->prefix, names[i], &paths[i]);
                if (r < 0)
                        return r;
        }
        *nodes = TAKE_PTR(paths);
        return 0;
}

static const BusObjectType *type_of(Manager *m, ObjectKind kind) {
        BusObjects *o = m->objects;

        return o ? o->slots[kind].type : NULL;
}

/* The signals of an object added (properties NULL) or changed. */
static void emit_object(Manager *m, ObjectKind kind, const char *name, char **properties) {
        const BusObjectType *t = type_of(m, kind);
        _cleanup_(freep) char *path = NULL;
        BusObjects *o = m->objects;

        if (!t || sd_bus_path_encode(t->prefix, name, &path) < 0)
                return;
        o->emitting = true;
        if (properties)
                (void) sd_bus_emit_properties_changed_strv(m->bus, path, t->interface, properties);
        else
                (void) sd_bus_emit_object_added(m->bus, path);
        if (t->changed)
                t->changed(m, name, properties);
        o->emitting = false;
}

static void on_object_added(Manager *m, ObjectKind kind, const char *name) {
        emit_object(m, kind, name, NULL);
}

static void on_object_removed(Manager *m, ObjectKind kind, const char *name) {
        const BusObjectType *t = type_of(m, kind);
        _cleanup_(freep) char *path = NULL;

        /* what sd_bus_emit_object_removed() would list, had the object
         * still been there to ask */
        if (t && sd_bus_path_encode(t->prefix, name, &path) >= 0)
                (void) sd_bus_emit_interfaces_removed(m->bus, path, "org.freedesktop.DBus.Peer",
                                                      "org.freedesktop.DBus.Introspectable",
                                                      "org.freedesktop.DBus.Properties", t->interface, NULL);
}

static void on_object_changed(Manager *m, ObjectKind kind, const char *name, char **properties) {
        emit_object(m, kind, name, properties);
}

int bus_objects_register(Manager *m, const BusObjectType *const *types, size_t n) {
        BusObjects *o;
        int r;

        o = new0(BusObjects, 1);
        if (!o)
                return -ENOMEM;
        o->manager = m;
        m->objects = o;
        r = sd_bus_add_object_manager(m->bus, NULL, BROKERD_OBJECT_PATH);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const BusObjectType *t = types[i];
                ObjectSlot *s = &o->slots[t->kind];

                assert(streq(t->prefix, object_prefixes[t->kind]));
                *s = (ObjectSlot) { .objects = o, .type = t };
                r = sd_bus_add_fallback_vtable(m->bus, NULL, t->prefix, t->interface, t->vtable, object_find, s);
                if (r >= 0)
                        r = sd_bus_add_node_enumerator(m->bus, NULL, t->prefix, object_enumerate, s);
        }
        if (r < 0)
                return r;
        m->events.object_added = on_object_added;
        m->events.object_removed = on_object_removed;
        m->events.object_changed = on_object_changed;
        return 0;
}

void bus_objects_free(Manager *m) {
        BusObjects *o = m->objects;

        if (o)
                sd_bus_message_unref(o->checked);
        m->objects = mfree(o);
}

int bus_property_get_chars(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append_basic(reply, 's', userdata);
}

int bus_property_get_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        int b = *(bool *) userdata;

        return sd_bus_message_append_basic(reply, 'b', &b);
}
