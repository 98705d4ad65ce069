/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "bus-error.h"
#include "bus-util.h"

int bus_open_from_config(const VdeskConfig *c, sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        if (isempty(c->bus_address))
                r = sd_bus_open_system(&bus);
        else {
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, c->bus_address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(bus, 1);
                if (r >= 0)
                        r = sd_bus_start(bus);
        }
        if (r < 0) {
                sd_bus_unref(bus);
                return r;
        }
        *ret = bus;
        return bus_set_timeout_from_config(bus, c);
}

int bus_set_timeout_from_config(sd_bus *bus, const VdeskConfig *c) {
        return sd_bus_set_method_call_timeout(bus, (uint64_t) c->bus_timeout_ms * 1000);
}

/* On dbus-daemon a message carries no credentials: asking costs a round
 * trip to the bus. A unique name is never given twice on a bus, so what
 * the bus said of one stays true: a few recent senders are remembered. */
#define SENDER_CACHE_SIZE 16

static struct {
        sd_bus *bus;
        char name[32];
        uid_t uid;
} sender_cache[SENDER_CACHE_SIZE];
static unsigned sender_cache_next;

int bus_sender_uid(sd_bus_message *m, uid_t *ret) {
        sd_bus *bus = sd_bus_message_get_bus(m);
        const char *sender = sd_bus_message_get_sender(m);
        sd_bus_creds *creds = NULL;
        uid_t uid;
        int r;

        for (unsigned i = 0; sender && i < SENDER_CACHE_SIZE; i++)
                if (sender_cache[i].bus == bus && streq(sender_cache[i].name, sender)) {
                        *ret = sender_cache[i].uid;
                        return 0;
                }

        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &uid);
        sd_bus_creds_unref(creds);
        if (r < 0)
                return r;

        if (sender && strlen(sender) < sizeof sender_cache[0].name) {
                unsigned i = sender_cache_next++ % SENDER_CACHE_SIZE;
                sender_cache[i].bus = bus;
                strcpy(sender_cache[i].name, sender);
                sender_cache[i].uid = uid;
        }
        *ret = uid;
        return 0;
}

/* A few system users' uids, remembered once found: the users exist from
 * installation on (sysusers). One not found yet is looked up again at the
 * next call, so that a user made after the daemon started is found. */
#define SYSTEM_USER_CACHE_SIZE 4

static int system_user_uid(const char *user, uid_t *ret) {
        static struct {
                char name[32];
                uid_t uid;
        } cache[SYSTEM_USER_CACHE_SIZE];
        static unsigned n_cache;
        struct passwd pw, *res = NULL;
        char buf[1024];

        for (unsigned i = 0; i < n_cache; i++)
                if (streq(cache[i].name, user)) {
                        *ret = cache[i].uid;
                        return 0;
                }
        if (getpwnam_r(user, &pw, buf, sizeof buf, &res) != 0 || !res)
                return -ESRCH;
        if (n_cache < SYSTEM_USER_CACHE_SIZE && strlen(user) < sizeof cache[0].name) {
                strcpy(cache[n_cache].name, user);
                cache[n_cache++].uid = res->pw_uid;
        }
        *ret = res->pw_uid;
        return 0;
}

/* The sender's groups as the bus daemon vouches for them
 * (GetConnectionCredentials' UnixGroupIDs, from SO_PEERGROUPS): not
 * /proc, which a sandboxed daemon may not see. -ENODATA if it gives none. */
static int bus_sender_gids(sd_bus_message *m, gid_t **ret, size_t *ret_n) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) gid_t *gids = NULL;
        const char *key;
        size_t n = 0;
        int r;

        r = sd_bus_call_method(sd_bus_message_get_bus(m), "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "GetConnectionCredentials", NULL, &reply, "s",
                               sd_bus_message_get_sender(m));
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                r = sd_bus_message_read(reply, "s", &key);
                if (r >= 0 && streq(key, "UnixGroupIDs")) {
                        const void *v;
                        size_t size;

                        r = sd_bus_message_enter_container(reply, 'v', "au");
                        if (r >= 0)
                                r = sd_bus_message_read_array(reply, 'u', &v, &size);
                        n = size / sizeof(uint32_t);
                        if (r >= 0 && !(gids = new0(gid_t, n)))
                                r = -ENOMEM;
                        for (size_t i = 0; r >= 0 && i < n; i++)
                                gids[i] = ((const uint32_t *) v)[i];
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                } else if (r >= 0)
                        r = sd_bus_message_skip(reply, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r < 0)
                return r;
        if (!gids)
                return -ENODATA;
        *ret = TAKE_PTR(gids);
        *ret_n = n;
        return 0;
}

int bus_sender_in_group(sd_bus_message *m, const char *group) {
        _cleanup_(freep) gid_t *gids = NULL;
        struct group *g;
        size_t n = 0;
        int r;

        errno = 0;
        g = getgrnam(group);
        if (!g)
                return errno > 0 ? -errno : 0;          /* no such group: nobody is in it */
        r = bus_sender_gids(m, &gids, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (gids[i] == g->gr_gid)
                        return 1;
        return 0;
}

int bus_check_caller(sd_bus_message *m, const char *user, sd_bus_error *error, const char *what) {
        uid_t uid, u;
        int r;

        r = bus_sender_uid(m, &uid);
        if (r < 0)
                return r;
        /* root, and the daemon's own user, as sd-bus's own check allows */
        if (uid == 0 || uid == geteuid())
                return 0;
        if (system_user_uid(user, &u) >= 0 && u == uid)
                return 0;
        return bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "Only root and %s may %s", user, what);
}

int bus_check_agent_caller(sd_bus_message *m, sd_bus_error *error, const char *what) {
        return bus_check_caller(m, VDESK_BROKER_USER, error, what);
}

int bus_message_new_callv(sd_bus *bus, sd_bus_message **ret, const char *dest, const char *path, const char *iface,
                          const char *member, const char *types, va_list ap) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, dest, path, iface, member);
        if (r < 0)
                return r;
        r = sd_bus_message_appendv(m, types, ap);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}
