/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-error.h"
#include "desktop.h"
#include "desktop-dbus.h"
#include "desktop-open.h"
#include "manager.h"
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

/* Reads the desktop name every per-desktop method starts with. */
static int read_desktop(Manager *m, sd_bus_message *msg, Desktop *ret, sd_bus_error *error) {
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
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

