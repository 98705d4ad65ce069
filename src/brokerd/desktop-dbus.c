/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-error.h"
#include "desktop.h"
#include "desktop-dbus.h"
#include "desktop-open.h"
#include "manager.h"
#include "object-dbus.h"
#include "polkit.h"
#include "util.h"

/* The desktops' methods: polkit's org.vdesk.broker1.read to read,
 * org.vdesk.broker1.manage to change anything or open a desktop. A method
 * runs once polkitd said yes; it replies at once, or later (OpenDesktop). */

#define AUTHORIZED(name) POLKIT_METHOD_EXPORTED(name, Manager, BROKERD_ACTION_MANAGE)
#define AUTHORIZED_READ(name) POLKIT_METHOD_EXPORTED(name, Manager, BROKERD_ACTION_READ)

/* ---- desktops ------------------------------------------------------------ */

int append_desktop(sd_bus_message *reply, const Desktop *d) {
        char addr[16];

        ipv4_format(d->address, addr);
        return sd_bus_message_append(reply, DESKTOP_SIGNATURE, d->name, d->uuid, d->account, d->template,
                                     addr, d->mac, d->rdp_port, d->state, d->host);
}

/* Replies with d and frees it. */
static int reply_desktop(sd_bus_message *msg, Desktop *d) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_desktop(reply, d);
        desktop_done(d);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

AUTHORIZED(create_desktop) {
        const char *name, *account, *template;
        Desktop d = {};
        int r;

        r = sd_bus_message_read(msg, "sss", &name, &account, &template);
        if (r < 0)
                return r;
        r = desktop_create(m, name, account, template, NULL, actor, &d, error);
        if (r < 0)
                return r;
        return reply_desktop(msg, &d);
}

AUTHORIZED_READ(get_desktop) {
        const char *name;
        Desktop d = {};
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = desktop_get(m, name, &d, error);
        if (r < 0)
                return r;
        return reply_desktop(msg, &d);
}

AUTHORIZED_READ(list_desktops) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Desktop *d = NULL;
        size_t n = 0;
        int r;

        r = desktop_list(m, NULL, &d, &n);
        if (r < 0)
                return bus_error_setf(error, VDESK_ERROR_DATABASE, "Database failure: %s", db_error(m->db));
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', DESKTOP_SIGNATURE);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = append_desktop(reply, &d[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        desktop_list_free(d, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* The desktop a per-desktop method is about: the Manager's take its name
 * as their first argument, a Desktop object's methods are its own. */
static int read_desktop(Manager *m, sd_bus_message *msg, Desktop *ret, sd_bus_error *error) {
        _cleanup_(freep) char *name = NULL;
        int r;

        r = bus_object_name(msg, DESKTOP_OBJECT_PREFIX, &name);
        if (r < 0)
                return r;
        return desktop_get(m, name, ret, error);
}

AUTHORIZED(start_desktop) {
        Desktop d = {};
        int r;

        r = read_desktop(m, msg, &d, error);
        if (r >= 0)
                r = desktop_start(m, &d, actor, error);
        desktop_done(&d);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(stop_desktop) {
        Desktop d = {};
        int force = 0, r;

        r = read_desktop(m, msg, &d, error);
        if (r >= 0)
                r = sd_bus_message_read(msg, "b", &force);
        if (r >= 0)
                r = desktop_stop(m, &d, force, actor, error);
        desktop_done(&d);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(reissue_desktop) {
        Desktop d = {};
        unsigned version = 0;
        int r;

        r = read_desktop(m, msg, &d, error);
        if (r >= 0)
                r = desktop_reissue(m, &d, actor, &version, error);
        desktop_done(&d);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "u", version);
}

AUTHORIZED(move_desktop) {
        const char *host;
        Desktop d = {};
        int r;

        r = read_desktop(m, msg, &d, error);
        if (r >= 0)
                r = sd_bus_message_read(msg, "s", &host);
        if (r >= 0)
                r = desktop_move(m, &d, host, actor, error);
        desktop_done(&d);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(delete_desktop) {
        Desktop d = {};
        int r;

        r = read_desktop(m, msg, &d, error);
        if (r >= 0)
                r = desktop_delete(m, &d, actor, error);
        desktop_done(&d);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

typedef struct OpenCall {
        sd_bus_message *msg;
        bool reply_with_name;           /* OpenMyDesktop's reply starts with the desktop */
} OpenCall;

static void on_opened(const DesktopOpened *o, const sd_bus_error *e, void *userdata) {
        OpenCall *c = userdata;

        if (!o)
                (void) sd_bus_reply_method_error(c->msg, e);
        else if (c->reply_with_name)
                (void) sd_bus_reply_method_return(c->msg, "ssqss", o->desktop, o->host, o->port, o->rdp_file,
                                                  o->freerdp_command);
        else
                (void) sd_bus_reply_method_return(c->msg, "sqss", o->host, o->port, o->rdp_file,
                                                  o->freerdp_command);
        sd_bus_message_unref(c->msg);
        free(c);
}

int desktop_open_reply(Manager *m, sd_bus_message *msg, Desktop *d, const RdpRedirect *redirect,
                       bool reply_with_name, uid_t actor, sd_bus_error *error) {
        OpenCall *c;
        int r;

        c = new0(OpenCall, 1);
        if (!c) {
                desktop_done(d);
                return -ENOMEM;
        }
        *c = (OpenCall) { .msg = sd_bus_message_ref(msg), .reply_with_name = reply_with_name };
        r = desktop_open(m, d, redirect, actor, on_opened, c, error);
        if (r < 0) {
                sd_bus_message_unref(c->msg);
                free(c);
        }
        return r;
}

AUTHORIZED(open_desktop) {
        RdpRedirect redirect = {
                .printers = m->config.redirect_printers,
                .drives = m->config.redirect_drives,
                .clipboard = m->config.redirect_clipboard,
        };
        Desktop d = {};
        int r;

        r = read_desktop(m, msg, &d, error);
        if (r < 0)
                return r;
        return desktop_open_reply(m, msg, &d, &redirect, false, actor, error);
}


/* ---- the Desktop objects ------------------------------------------------------- */

static struct {
        Manager *manager;               /* first: the methods' userdata */
        Desktop desktop;
        char address[16];
} loaded_desktop;

static int desktop_load(Manager *m, const char *name, void **ret_slot) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        Desktop d = {};
        int r;

        r = desktop_get(m, name, &d, &e);
        if (r < 0)
                return sd_bus_error_has_name(&e, VDESK_ERROR_NO_SUCH_DESKTOP) ? 0 : r;
        desktop_done(&loaded_desktop.desktop);
        loaded_desktop.manager = m;
        loaded_desktop.desktop = d;
        ipv4_format(d.address, loaded_desktop.address);
        *ret_slot = &loaded_desktop;
        return 1;
}

#define DESKTOP_FIELD(f) (offsetof(typeof(loaded_desktop), desktop) + offsetof(Desktop, f))
#define DESKTOP_CHARS(name, f, flags) \
        SD_BUS_PROPERTY(name, "s", bus_property_get_chars, DESKTOP_FIELD(f), flags)

/* The object's methods are the Manager's, with the Manager as userdata. */
#define OBJECT_METHOD(name)                                                                          \
        static int object_##name(sd_bus_message *msg, void *userdata, sd_bus_error *error) {         \
                return method_##name(msg, *(Manager **) userdata, error);                             \
        }
OBJECT_METHOD(start_desktop)
OBJECT_METHOD(stop_desktop)
OBJECT_METHOD(open_desktop)
OBJECT_METHOD(reissue_desktop)
OBJECT_METHOD(move_desktop)
OBJECT_METHOD(delete_desktop)

static const sd_bus_vtable desktop_vtable[] = {
        SD_BUS_VTABLE_START(0),
        DESKTOP_CHARS("Name", name, SD_BUS_VTABLE_PROPERTY_CONST),
        DESKTOP_CHARS("UUID", uuid, SD_BUS_VTABLE_PROPERTY_CONST),
        /* "" for a desktop of a category's pool, until it is handed over */
        DESKTOP_CHARS("Account", account, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        DESKTOP_CHARS("Template", template, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("TemplateVersion", "u", NULL, DESKTOP_FIELD(template_version),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        DESKTOP_CHARS("Category", category, SD_BUS_VTABLE_PROPERTY_CONST),
        DESKTOP_CHARS("Host", host, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        DESKTOP_CHARS("Network", network, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Address", "s", bus_property_get_chars, offsetof(typeof(loaded_desktop), address),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        DESKTOP_CHARS("MAC", mac, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("RdpPort", "q", NULL, DESKTOP_FIELD(rdp_port), SD_BUS_VTABLE_PROPERTY_CONST),
        DESKTOP_CHARS("State", state, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StateSince", "t", NULL, DESKTOP_FIELD(state_since_usec),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("Start",
                                SD_BUS_NO_ARGS,
                                SD_BUS_NO_RESULT,
                                object_start_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Stop",
                                SD_BUS_ARGS("b", force),
                                SD_BUS_NO_RESULT,
                                object_stop_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Open",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("s", host, "q", port, "s", rdp_file, "s", freerdp_command),
                                object_open_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reissue",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("u", template_version),
                                object_reissue_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Move",
                                SD_BUS_ARGS("s", host),
                                SD_BUS_NO_RESULT,
                                object_move_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Delete",
                                SD_BUS_NO_ARGS,
                                SD_BUS_NO_RESULT,
                                object_delete_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

const BusObjectType desktop_object_type = {
        .kind = OBJECT_DESKTOP,
        .prefix = DESKTOP_OBJECT_PREFIX,
        .interface = BROKERD_DESKTOP_INTERFACE,
        .vtable = desktop_vtable,
        .load = desktop_load,
        .list = desktop_names,
};
