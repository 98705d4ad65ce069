/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-error.h"
#include "bus-util.h"
#include "manager.h"
#include "object-dbus.h"
#include "polkit.h"
#include "template.h"
#include "template-dbus.h"
#include "util.h"

/* The templates' methods: polkit's org.vdesk.broker1.read to read,
 * org.vdesk.broker1.manage to change anything or hand out a console. */

#define AUTHORIZED(name) POLKIT_METHOD_EXPORTED(name, Manager, BROKERD_ACTION_MANAGE)
#define AUTHORIZED_READ(name) POLKIT_METHOD_EXPORTED(name, Manager, BROKERD_ACTION_READ)

/* ---- templates ----------------------------------------------------------- */

static int append_template(sd_bus_message *reply, const Template *t) {
        return sd_bus_message_append(reply, TEMPLATE_SIGNATURE, t->name, t->state, t->format, t->version, t->size,
                                     t->memory_mib, t->vcpus, t->os_type, t->description, t->iso, t->path);
}

AUTHORIZED(register_template) {
        const char *name, *path;
        int r;

        r = sd_bus_message_read(msg, "ss", &name, &path);
        if (r < 0)
                return r;
        r = template_register(m, name, path, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED_READ(list_templates) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Template *t = NULL;
        size_t n = 0;
        int r;

        r = template_list(m, &t, &n);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', TEMPLATE_SIGNATURE);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = append_template(reply, &t[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        template_list_free(t, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

AUTHORIZED_READ(get_template) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(template_done) Template t = {};
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = template_get(m, name, &t, error);
        if (r >= 0)
                r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_template(reply, &t);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

AUTHORIZED_READ(list_template_versions) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        TemplateVersion *v = NULL;
        _cleanup_(freep) char *name = NULL;
        size_t n = 0;
        int r;

        r = bus_object_name(msg, TEMPLATE_OBJECT_PREFIX, &name);
        if (r >= 0)
                r = template_versions(m, name, &v, &n, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', TEMPLATE_VERSION_SIGNATURE);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = sd_bus_message_open_container(reply, 'r', TEMPLATE_VERSION_FIELDS);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "ust", v[i].version, v[i].path, v[i].created_usec);
                if (r >= 0)
                        r = sd_bus_message_append_strv(reply, v[i].desktops);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        template_versions_free(v, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int append_console(sd_bus_message *reply, const Console *c) {
        return sd_bus_message_append(reply, CONSOLE_SIGNATURE, c->uri, c->host, (uint16_t) c->port, c->ticket,
                                     c->valid_until_usec, c->vv);
}

/* Replies with a console and forgets it (it holds a ticket). */
static int reply_console(sd_bus_message *msg, Console *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_console(reply, c);
        console_done(c);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

AUTHORIZED(create_template) {
        _cleanup_(console_done) Console c = {};
        TemplateSpec s = {};
        int r;

        r = sd_bus_message_read(msg, "sxssuuss", &s.name, &s.size, &s.format, &s.iso, &s.memory_mib, &s.vcpus,
                                &s.description, &s.os_type);
        if (r >= 0)
                r = template_create(m, &s, actor, &c, error);
        if (r < 0)
                return r;
        return reply_console(msg, &c);
}

AUTHORIZED(console_of_template) {
        _cleanup_(console_done) Console c = {};
        _cleanup_(freep) char *name = NULL;
        int r;

        r = bus_object_name(msg, TEMPLATE_OBJECT_PREFIX, &name);
        if (r >= 0)
                r = template_console(m, name, actor, &c, error);
        if (r < 0)
                return r;
        return reply_console(msg, &c);
}

/* The template a method with a force flag is about, and the flag. */
static int read_name_and_force(sd_bus_message *msg, char **ret_name, int *ret_force) {
        int r;

        r = bus_object_name(msg, TEMPLATE_OBJECT_PREFIX, ret_name);
        if (r >= 0)
                r = sd_bus_message_read(msg, "b", ret_force);
        return r;
}

AUTHORIZED(finish_template) {
        _cleanup_(freep) char *name = NULL;
        int force = 0, r;

        r = read_name_and_force(msg, &name, &force);
        if (r >= 0)
                r = template_finish(m, name, force, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(edit_template) {
        _cleanup_(console_done) Console c = {};
        _cleanup_(freep) char *name = NULL;
        const char *iso;
        int r;

        r = bus_object_name(msg, TEMPLATE_OBJECT_PREFIX, &name);
        if (r >= 0)
                r = sd_bus_message_read(msg, "s", &iso);
        if (r >= 0)
                r = template_edit(m, name, iso, actor, &c, error);
        if (r < 0)
                return r;
        return reply_console(msg, &c);
}

AUTHORIZED(commit_template) {
        _cleanup_(freep) char *name = NULL;
        int force = 0, r;

        r = read_name_and_force(msg, &name, &force);
        if (r >= 0)
                r = template_commit_begin(m, msg, name, force, actor, error);
        return r;       /* the reply comes when the new version is in place */
}

AUTHORIZED(discard_template_edit) {
        _cleanup_(freep) char *name = NULL;
        int force = 0, r;

        r = read_name_and_force(msg, &name, &force);
        if (r >= 0)
                r = template_discard(m, name, force, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(delete_template) {
        _cleanup_(freep) char *name = NULL;
        int r;

        r = bus_object_name(msg, TEMPLATE_OBJECT_PREFIX, &name);
        if (r >= 0)
                r = template_delete(m, name, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(prune_template) {
        _cleanup_(freep) uint32_t *versions = NULL;
        _cleanup_(freep) char *name = NULL;
        size_t n = 0;
        int r;

        r = bus_object_name(msg, TEMPLATE_OBJECT_PREFIX, &name);
        if (r >= 0)
                r = template_prune(m, name, actor, &versions, &n, error);
        if (r < 0)
                return r;
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

                r = sd_bus_message_new_method_return(msg, &reply);
                if (r >= 0)
                        r = sd_bus_message_append_array(reply, 'u', versions, n * sizeof *versions);
                if (r < 0)
                        return r;
                return sd_bus_send(NULL, reply, NULL);
        }
}


/* ---- the Template objects ------------------------------------------------------------ */

static struct {
        Manager *manager;               /* first: the methods' userdata */
        Template template;
} loaded_template;

static int template_load(Manager *m, const char *name, void **ret_slot) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        Template t = {};
        int r;

        r = template_get(m, name, &t, &e);
        if (r < 0)
                return sd_bus_error_has_name(&e, VDESK_ERROR_NO_SUCH_TEMPLATE) ? 0 : r;
        template_done(&loaded_template.template);
        loaded_template.manager = m;
        loaded_template.template = t;
        *ret_slot = &loaded_template;
        return 1;
}

static int property_get_console(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        char buf[TEMPLATE_DOMAIN_MAX];

        return sd_bus_message_append(reply, "s", strempty(template_console_domain(&loaded_template.template, buf)));
}

static int property_get_versions(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        TemplateVersion *v = NULL;
        size_t n = 0;
        int r;

        r = template_versions(loaded_template.manager, loaded_template.template.name, &v, &n, error);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "u");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "u", v[i].version);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        template_versions_free(v, n);
        return r;
}

#define TEMPLATE_FIELD(f) (offsetof(typeof(loaded_template), template) + offsetof(Template, f))
#define TEMPLATE_CHARS(name, f, flags) SD_BUS_PROPERTY(name, "s", bus_property_get_chars, TEMPLATE_FIELD(f), flags)

#define OBJECT_METHOD(name)                                                                          \
        static int object_##name(sd_bus_message *msg, void *userdata, sd_bus_error *error) {         \
                return method_##name(msg, *(Manager **) userdata, error);                            \
        }
OBJECT_METHOD(list_template_versions)
OBJECT_METHOD(console_of_template)
OBJECT_METHOD(finish_template)
OBJECT_METHOD(edit_template)
OBJECT_METHOD(commit_template)
OBJECT_METHOD(discard_template_edit)
OBJECT_METHOD(prune_template)
OBJECT_METHOD(delete_template)

static const sd_bus_vtable template_vtable[] = {
        SD_BUS_VTABLE_START(0),
        TEMPLATE_CHARS("Name", name, SD_BUS_VTABLE_PROPERTY_CONST),
        /* building, installed, editing or committing */
        TEMPLATE_CHARS("State", state, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        TEMPLATE_CHARS("Format", format, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Version", "u", NULL, TEMPLATE_FIELD(version), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Path", "s", NULL, TEMPLATE_FIELD(path), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        /* the versions on disk, oldest first (ListVersions: with their files and desktops) */
        SD_BUS_PROPERTY("Versions", "au", property_get_versions, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Size", "t", NULL, TEMPLATE_FIELD(size), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MemoryMiB", "u", NULL, TEMPLATE_FIELD(memory_mib), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("VCPUs", "u", NULL, TEMPLATE_FIELD(vcpus), SD_BUS_VTABLE_PROPERTY_CONST),
        TEMPLATE_CHARS("OSType", os_type, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Description", "s", NULL, TEMPLATE_FIELD(description), SD_BUS_VTABLE_PROPERTY_CONST),
        TEMPLATE_CHARS("ISO", iso, SD_BUS_VTABLE_PROPERTY_CONST),
        /* the domain whose console is open for the build or the edit, or "" */
        SD_BUS_PROPERTY("ConsoleDomain", "s", property_get_console, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("ListVersions",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a" TEMPLATE_VERSION_SIGNATURE, versions),
                                object_list_template_versions, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Console",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT(CONSOLE_SIGNATURE, console),
                                object_console_of_template, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("Finish",
                                SD_BUS_ARGS("b", force),
                                SD_BUS_NO_RESULT,
                                object_finish_template, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Edit",
                                SD_BUS_ARGS("s", iso),
                                SD_BUS_RESULT(CONSOLE_SIGNATURE, console),
                                object_edit_template, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("Commit",
                                SD_BUS_ARGS("b", force),
                                SD_BUS_RESULT("u", version),
                                object_commit_template, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Discard",
                                SD_BUS_ARGS("b", force),
                                SD_BUS_NO_RESULT,
                                object_discard_template_edit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Prune",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("au", removed_versions),
                                object_prune_template, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Delete",
                                SD_BUS_NO_ARGS,
                                SD_BUS_NO_RESULT,
                                object_delete_template, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

const BusObjectType template_object_type = {
        .kind = OBJECT_TEMPLATE,
        .prefix = TEMPLATE_OBJECT_PREFIX,
        .interface = BROKERD_TEMPLATE_INTERFACE,
        .vtable = template_vtable,
        .load = template_load,
        .list = template_names,
};
