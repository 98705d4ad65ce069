/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-error.h"
#include "iso.h"
#include "iso-dbus.h"
#include "manager.h"
#include "polkit.h"
#include "util.h"

/* The ISO catalog's methods: polkit's org.vdesk.broker1.read to list,
 * org.vdesk.broker1.manage to change. */

#define AUTHORIZED(name) POLKIT_METHOD_EXPORTED(name, Manager, BROKERD_ACTION_MANAGE)
#define AUTHORIZED_READ(name) POLKIT_METHOD_EXPORTED(name, Manager, BROKERD_ACTION_READ)

/* ---- ISOs -------------------------------------------------------------------- */

AUTHORIZED_READ(list_isos) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) Iso *isos = NULL;
        size_t n = 0;
        int r;

        r = iso_list(m, &isos, &n);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', ISO_SIGNATURE);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, ISO_SIGNATURE, isos[i].name, isos[i].format, isos[i].size,
                                          isos[i].created_usec);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

AUTHORIZED(refresh_isos) {
        unsigned added = 0, removed = 0;
        int r;

        r = iso_rescan(m, &added, &removed);
        if (r == -EIO || r == -ENOTCONN)
                return db_bus_error(m->db, r, error);
        if (r < 0)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot read %s: %s", m->config.iso_dir, strerror(-r));
        return sd_bus_reply_method_return(msg, "uu", added, removed);
}

AUTHORIZED(register_iso) {
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = iso_register(m, name, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(unregister_iso) {
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = iso_unregister(m, name, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

