/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-error.h"
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

typedef struct AuthRequest {
        PolkitMethod method;
        void *userdata;
        const char *action;
} AuthRequest;

/* The callers polkit allowed lately, for polkit_sender_allowed(): a bus's
 * unique names are never given out twice, so a name stands for one
 * connection of one process. A small table: a new caller takes the place
 * of the one whose answer runs out first. */
#define ALLOWED_MAX 64
#define ALLOWED_USEC (5 * 60 * USEC_PER_SEC)

static struct {
        char sender[64];
        const char *action;
        uint64_t until_usec;
} allowed_senders[ALLOWED_MAX];

static void remember_allowed(sd_bus_message *msg, const char *action) {
        const char *sender = sd_bus_message_get_sender(msg);
        unsigned slot = 0;

        if (!sender || strlen(sender) >= sizeof allowed_senders[0].sender)
                return;
        /* the sender's slot for this action, else the one that runs out
         * first (an expired one, or the least lately allowed) */
        for (unsigned i = 0; i < ALLOWED_MAX; i++) {
                if (streq(allowed_senders[i].sender, sender) && streq_ptr(allowed_senders[i].action, action)) {
                        slot = i;
                        break;
                }
                if (allowed_senders[i].until_usec < allowed_senders[slot].until_usec)
                        slot = i;
        }
        snprintf(allowed_senders[slot].sender, sizeof allowed_senders[0].sender, "%s", sender);
        allowed_senders[slot].action = action;
        allowed_senders[slot].until_usec = now_usec() + ALLOWED_USEC;
}

bool polkit_sender_allowed(const char *sender, const char *action) {
        uint64_t now = now_usec();

        if (!sender)
                return false;
        for (unsigned i = 0; i < ALLOWED_MAX; i++)
                if (streq(allowed_senders[i].sender, sender) && streq_ptr(allowed_senders[i].action, action) &&
                    allowed_senders[i].until_usec > now)
                        return true;
        return false;
}

static void on_authorized(sd_bus_message *msg, int allowed, const sd_bus_error *perr, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        AuthRequest *a = userdata;
        uid_t uid = (uid_t) -1;
        int r;

        (void) bus_sender_uid(msg, &uid);
        if (allowed <= 0) {
                log_event(LOG_NOTICE, MID_ACCESS_DENIED,
                          "VDESK_ACTOR_UID=%u", (unsigned) uid,
                          "VDESK_METHOD=%s", sd_bus_message_get_member(msg),
                          "VDESK_ACTION=%s", a->action,
                          "MESSAGE=uid %u refused %s (%s)", (unsigned) uid, sd_bus_message_get_member(msg),
                          allowed < 0 ? "authorization could not be checked" : "not authorized");
                if (allowed < 0)
                        (void) sd_bus_reply_method_errorf(msg, VDESK_ERROR_ACCESS_DENIED,
                                                          "Cannot check authorization for %s: %s",
                                                          a->action, perr && perr->message ? perr->message : "?");
                else
                        (void) sd_bus_reply_method_errorf(msg, VDESK_ERROR_ACCESS_DENIED,
                                                          "Not authorized for %s", a->action);
                goto out;
        }

        remember_allowed(msg, a->action);
        r = a->method(a->userdata, msg, uid, &error);
        if (r < 0) {
                if (sd_bus_error_is_set(&error))
                        (void) sd_bus_reply_method_error(msg, &error);
                else
                        (void) sd_bus_reply_method_errno(msg, r, NULL);
        }
out:
        free(a);
}

int polkit_authorize_then(sd_bus_message *msg, const char *action, PolkitMethod method, void *userdata) {
        AuthRequest *a = calloc(1, sizeof *a);
        int r;

        if (!a)
                return -ENOMEM;
        /* action is a string constant of the caller's */
        *a = (AuthRequest) { .method = method, .userdata = userdata, .action = action };
        r = polkit_check_async(msg, action, on_authorized, a);
        if (r < 0) {
                free(a);
                return r;
        }
        return 1;
}
