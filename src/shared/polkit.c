/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-util.h"
#include "log.h"
#include "macro.h"
#include "polkit.h"

typedef struct PolkitQuery {
        sd_bus_message *call;
        PolkitDoneFunc done;
        void *userdata;
        char *action;
} PolkitQuery;

static void query_free(PolkitQuery *q) {
        if (!q)
                return;
        sd_bus_message_unref(q->call);
        free(q->action);
        free(q);
}

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PolkitQuery *q = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int authorized = 0, challenge = 0, r;

        if (e) {
                if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
                        uid_t uid;

                        r = bus_sender_uid(q->call, &uid);
                        log_debug("No polkitd on the bus: %s only for uid 0.", q->action);
                        q->done(q->call, r >= 0 && uid == 0, NULL, q->userdata);
                } else
                        q->done(q->call, -EIO, e, q->userdata);
                goto out;
        }
        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r >= 0)
                r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r < 0) {
                sd_bus_error err = SD_BUS_ERROR_NULL;
                sd_bus_error_set_const(&err, SD_BUS_ERROR_FAILED, "polkitd answered with a malformed reply");
                q->done(q->call, -EIO, &err, q->userdata);
                sd_bus_error_free(&err);
                goto out;
        }
        q->done(q->call, authorized ? 1 : 0, NULL, q->userdata);
out:
        query_free(q);
        return 0;
}

int polkit_check_async(sd_bus_message *call, const char *action, PolkitDoneFunc done, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        sd_bus *bus = sd_bus_message_get_bus(call);
        PolkitQuery *q;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.PolicyKit1",
                                           "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "(sa{sv})s", "system-bus-name", 1, "name", "s",
                                  sd_bus_message_get_sender(call), action);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "a{ss}us", 0,
                                  (uint32_t) (sd_bus_message_get_allow_interactive_authorization(call) ? 1 : 0), "");
        if (r < 0)
                return r;

        q = calloc(1, sizeof *q);
        if (!q)
                return -ENOMEM;
        q->call = sd_bus_message_ref(call);
        q->done = done;
        q->userdata = userdata;
        q->action = strdup(action);
        if (!q->action) {
                query_free(q);
                return -ENOMEM;
        }
        /* Interactive authorization may wait for a person: no short timeout. */
        r = sd_bus_call_async(bus, NULL, m, on_reply, q, 120 * 1000 * 1000ULL);
        if (r < 0)
                query_free(q);
        return r;
}
