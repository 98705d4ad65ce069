/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus-api.h"
#include "db.h"
#include "desktop.h"
#include "host.h"
#include "idle.h"
#include "log.h"
#include "message-id.h"
#include "util.h"

/* When a desktop was last seen with a connection; sorted by name. */
typedef struct IdleSeen {
        char name[64];
        uint64_t usec;
} IdleSeen;

struct IdleState {
        sd_event_source *timer;
        sd_bus_slot *call;              /* the ListForwardActivity in flight */
        uint64_t start_usec;            /* the broker's start */
        IdleSeen *seen;
        size_t n_seen;
        bool warned;                    /* netd's failure said once, until it answers */
};

/* A running desktop the check may stop. */
typedef struct IdleCandidate {
        char name[64];
        char account[64];
        char category[64];
        unsigned minutes;
        uint64_t started_usec;
} IdleCandidate;

uint64_t idle_since(uint64_t started_usec, uint64_t seen_usec, uint64_t broker_start_usec) {
        return MAX(started_usec, MAX(seen_usec, broker_start_usec));
}

bool idle_due(uint64_t since_usec, uint64_t now_usec, unsigned minutes) {
        return minutes > 0 && now_usec >= since_usec &&
               now_usec - since_usec >= (uint64_t) minutes * 60 * USEC_PER_SEC;
}

static int seen_compare(const void *a, const void *b) {
        return strcmp(((const IdleSeen *) a)->name, ((const IdleSeen *) b)->name);
}

static const IdleSeen *seen_find(const IdleSeen *seen, size_t n, const char *name) {
        IdleSeen key = {};

        snprintf(key.name, sizeof key.name, "%s", name);
        return n > 0 ? bsearch(&key, seen, n, sizeof *seen, seen_compare) : NULL;
}

static int candidate_row(char *const *c, unsigned n, void *userdata) {
        IdleCandidate *d = db_rows_push(userdata);

        if (!d)
                return -ENOMEM;
        snprintf(d->name, sizeof d->name, "%s", c[0]);
        snprintf(d->account, sizeof d->account, "%s", c[1]);
        snprintf(d->category, sizeof d->category, "%s", c[2]);
        d->minutes = (unsigned) strtoul(c[3], NULL, 10);
        d->started_usec = strtoull(c[4], NULL, 10);
        return 0;
}

/* The running desktops of this host whose category stops them when idle.
 * The inner join on accounts leaves out those without one (a pool's). */
static int candidates_read(Manager *m, IdleCandidate **ret, size_t *ret_n) {
        DbRows rows = { .size = sizeof(IdleCandidate) };
        int r;

        r = db_exec(m->db,
                    "SELECT d.name, a.name, c.name, c.idle_stop_minutes, "
                    "CAST(UNIX_TIMESTAMP(d.state_changed_at) * 1000000 AS UNSIGNED) "
                    "FROM desktops d JOIN accounts a ON a.id = d.account_id "
                    "JOIN categories c ON c.id = d.category_id "
                    "WHERE d.state = 'running' AND c.idle_stop_minutes > 0 AND d.host_id = ? ORDER BY d.name",
                    (DbValue[]) { DBV_UINT(m->local->id) }, 1, candidate_row, &rows, NULL);
        if (r < 0) {
                free(rows.items);
                return r;
        }
        *ret = rows.items;
        *ret_n = rows.n;
        return 0;
}

/* The desktops with a connection open, from netd's reply, sorted by name
 * (a thousand desktops are looked up a thousand times). */
static int connected_read(sd_bus_message *reply, IdleSeen **ret, size_t *ret_n) {
        _cleanup_(freep) IdleSeen *names = NULL;
        size_t n = 0, allocated = 0;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', FORWARD_ACTIVITY_SIGNATURE);
        while (r >= 0) {
                const char *desktop;
                uint16_t port;
                uint32_t connections;

                r = sd_bus_message_read(reply, FORWARD_ACTIVITY_SIGNATURE, &desktop, &port, &connections);
                if (r <= 0)
                        break;
                if (connections == 0)
                        continue;
                if (n == allocated) {
                        IdleSeen *t;

                        allocated = allocated ? allocated * 2 : 64;
                        t = realloc(names, allocated * sizeof *t);
                        if (!t)
                                return -ENOMEM;
                        names = t;
                }
                names[n] = (IdleSeen) {};
                snprintf(names[n++].name, sizeof names->name, "%s", desktop);
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;
        if (n > 0)
                qsort(names, n, sizeof *names, seen_compare);
        *ret = TAKE_PTR(names);
        *ret_n = n;
        return 0;
}

static void on_idle_stopped(Manager *m, const char *name, int r, const sd_bus_error *error, void *userdata) {
        if (r < 0)
                log_warning_errno(r, "Cannot stop idle desktop %s: %s", name,
                                  error && error->message ? error->message : strerror(-r));
}

/* 0 once the shutdown was asked for (it runs off the loop; a failure is
 * logged when it comes). */
static int idle_stop_one(Manager *m, const IdleCandidate *c) {
        int r;

        r = desktop_stop_async(m, c->name, false, getuid(), on_idle_stopped, NULL);
        if (r < 0)
                return log_warning_errno(r, "Cannot stop idle desktop %s of %s: %m", c->name, c->account);
        log_event(LOG_INFO, MID_DESKTOP_IDLE_STOPPED,
                  "VDESK_DESKTOP=%s", c->name,
                  "VDESK_ACCOUNT=%s", c->account,
                  "VDESK_CATEGORY=%s", c->category,
                  "VDESK_IDLE_MINUTES=%u", c->minutes,
                  "MESSAGE=Desktop %s of %s stopped after %u min without an RDP connection (category %s)",
                  c->name, c->account, c->minutes, c->category);
        return 0;
}

/* Stops the candidates due, and remembers who is in use now. */
static int idle_apply(Manager *m, const IdleSeen *connected, size_t n_connected, uint64_t now) {
        struct IdleState *s = m->idle;
        _cleanup_(freep) IdleCandidate *c = NULL;
        IdleSeen *seen;
        size_t n = 0;
        int r;

        r = candidates_read(m, &c, &n);
        if (r < 0)
                return log_warning_errno(r, "Cannot read the desktops for the idle check: %s", db_error(m->db));
        seen = new0(IdleSeen, n);
        if (!seen)
                return -ENOMEM;
        /* rows come sorted by name, so the new list is sorted as well */
        for (size_t i = 0; i < n; i++) {
                const IdleSeen *old = seen_find(s->seen, s->n_seen, c[i].name);

                snprintf(seen[i].name, sizeof seen[i].name, "%s", c[i].name);
                if (seen_find(connected, n_connected, c[i].name))
                        seen[i].usec = now;
                else if (old)
                        seen[i].usec = old->usec;
                /* A guest takes its time to shut down (and may ignore the
                 * button): asked once, it is asked again only after
                 * another idle period, not at every check meanwhile. */
                if (idle_due(idle_since(c[i].started_usec, seen[i].usec, s->start_usec), now, c[i].minutes) &&
                    idle_stop_one(m, &c[i]) >= 0)
                        seen[i].usec = now;
        }
        free(s->seen);
        s->seen = seen;
        s->n_seen = n;
        return 0;
}

void idle_touch(Manager *m, const char *name) {
        struct IdleState *s = m->idle;
        IdleSeen *seen;
        size_t i = 0;

        if (!s)
                return;
        seen = (IdleSeen *) seen_find(s->seen, s->n_seen, name);
        if (seen) {
                seen->usec = now_realtime_usec();
                return;
        }
        /* not a candidate at the last check (just started, or handed
         * over): kept in name order for the next */
        seen = reallocarray(s->seen, s->n_seen + 1, sizeof *seen);
        if (!seen)
                return;
        s->seen = seen;
        while (i < s->n_seen && strcmp(seen[i].name, name) < 0)
                i++;
        memmove(seen + i + 1, seen + i, (s->n_seen - i) * sizeof *seen);
        seen[i] = (IdleSeen) { .usec = now_realtime_usec() };
        snprintf(seen[i].name, sizeof seen[i].name, "%s", name);
        s->n_seen++;
}

static int on_activity(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Manager *m = userdata;
        struct IdleState *s = m->idle;
        _cleanup_(freep) IdleSeen *connected = NULL;
        size_t n_connected = 0;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int r;

        s->call = sd_bus_slot_unref(s->call);
        /* without knowing who is connected, nothing is stopped */
        if (e) {
                if (!s->warned)
                        log_warning("Idle check: cannot ask vdesk-netd for the forwards' connections: %s",
                                    e->message ?: e->name);
                s->warned = true;
                return 0;
        }
        s->warned = false;
        r = connected_read(reply, &connected, &n_connected);
        if (r < 0)
                return log_warning_errno(r, "Idle check: cannot read vdesk-netd's answer: %m"), 0;
        (void) idle_apply(m, connected, n_connected, now_realtime_usec());
        return 0;
}

static int on_idle_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        struct IdleState *s = m->idle;
        int r;

        (void) sd_event_source_set_time_relative(source, (uint64_t) m->config.idle_check_sec * USEC_PER_SEC);
        if (s->call)
                return 0;       /* the last one is still out */
        r = sd_bus_call_method_async(m->bus, &s->call, NETD, "ListForwardActivity", on_activity, m, NULL);
        if (r < 0)
                log_warning_errno(r, "Idle check: cannot call vdesk-netd: %m");
        return 0;
}

int idle_check_start(Manager *m) {
        struct IdleState *s;
        int r;

        s = new0(struct IdleState, 1);
        if (!s)
                return -ENOMEM;
        m->idle = s;
        s->start_usec = now_realtime_usec();
        r = sd_event_add_time_relative(m->event, &s->timer, CLOCK_MONOTONIC,
                                       (uint64_t) m->config.idle_check_sec * USEC_PER_SEC, 0, on_idle_timer, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->timer, SD_EVENT_ON);
        return r;
}

void idle_check_stop(Manager *m) {
        struct IdleState *s = m->idle;

        if (!s)
                return;
        sd_event_source_disable_unref(s->timer);
        sd_bus_slot_unref(s->call);
        free(s->seen);
        free(s);
        m->idle = NULL;
}
