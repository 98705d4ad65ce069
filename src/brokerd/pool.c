/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <systemd/sd-id128.h>

#include "allocate.h"
#include "bus-error.h"
#include "host.h"
#include "log.h"
#include "metadata.h"
#include "pool.h"
#include "probe.h"
#include "util.h"

/* How often the pools are looked at without a kick: each look does at
 * most one thing per host, so this bounds the refill's rate as well. */
#define POOL_CHECK_USEC (5 * USEC_PER_SEC)

/* What the pools asked for and is not over yet: a desktop being made,
 * started (until its guest answers), stopped or removed, off the loop.
 * Its host makes or starts nothing else for a pool meanwhile (host_id 0:
 * holds no host), and its category's pool waits for it. */
typedef struct PoolOp {
        Manager *manager;
        uint64_t host_id;
        char desktop[64];
        char category[64];
        bool booting;                   /* being started, until the guest answers */
        TcpProbe *probe;
        struct PoolOp *next;
} PoolOp;

struct PoolState {
        sd_event_source *timer;
        PoolOp *ops;
        char **warned;          /* categories whose pool cannot be kept, journaled once */
        char **short_pools;     /* categories below their sizes, journaled when full again */
};

/* ---- reading --------------------------------------------------------------- */

static int pool_row(char *const *c, unsigned n, void *userdata) {
        PoolInfo *p = db_rows_push(userdata);

        if (!p)
                return -ENOMEM;
        snprintf(p->category, sizeof p->category, "%s", c[0]);
        snprintf(p->template, sizeof p->template, "%s", c[1]);
        p->size = (unsigned) strtoul(c[2], NULL, 10);
        p->started = (unsigned) strtoul(c[3], NULL, 10);
        p->made = (unsigned) strtoul(c[4], NULL, 10);
        p->running = (unsigned) strtoul(c[5], NULL, 10);
        return 0;
}

int pool_list(Manager *m, PoolInfo **ret, size_t *ret_n) {
        DbRows rows = { .size = sizeof(PoolInfo) };
        int r;

        r = db_exec(m->db,
                    "SELECT c.name, COALESCE(t.name, ''), c.pool_size, c.pool_started, COUNT(d.id), "
                    "COALESCE(SUM(d.state = 'running'), 0) FROM categories c "
                    "LEFT JOIN templates t ON t.id = c.template_id "
                    "LEFT JOIN desktops d ON d.category_id = c.id AND d.account_id IS NULL "
                    "GROUP BY c.id, c.name, t.name, c.pool_size, c.pool_started "
                    "HAVING c.pool_size > 0 OR COUNT(d.id) > 0 ORDER BY c.name",
                    NULL, 0, pool_row, &rows, NULL);
        if (r < 0) {
                free(rows.items);
                return r;
        }
        *ret = rows.items;
        *ret_n = rows.n;
        return 0;
}

/* ---- handing over ------------------------------------------------------------ */

static int free_desktop_row(char *const *c, unsigned n, void *userdata) {
        snprintf(userdata, 64, "%s", c[0]);
        return 0;
}

/* A desktop the pools asked to make, stop or remove and that is not
 * done: not to be handed over. */
static bool desktop_pool_busy(Manager *m, const char *name) {
        for (PoolOp *o = m->pool ? m->pool->ops : NULL; o; o = o->next)
                if (!o->booting && streq(o->desktop, name))
                        return true;
        return false;
}

static bool desktop_booting(Manager *m, const char *name) {
        for (PoolOp *o = m->pool ? m->pool->ops : NULL; o; o = o->next)
                if (o->booting && streq(o->desktop, name))
                        return true;
        return false;
}

/* The free desktops' names and states, running ones first. */
typedef struct PoolCandidate {
        char name[64];
        bool running;
} PoolCandidate;

static int candidate_row(char *const *c, unsigned n, void *userdata) {
        PoolCandidate *p = db_rows_push(userdata);

        if (!p)
                return -ENOMEM;
        snprintf(p->name, sizeof p->name, "%s", c[0]);
        p->running = streq(c[1], "running");
        return 0;
}

/* Which of the free desktops (locked) to hand over: one that runs and
 * answers, else one booting, else a stopped one. */
static int pool_choose(Manager *m, const char *category, char ret[static 64], const char **ret_state) {
        DbRows rows = { .size = sizeof(PoolCandidate) };
        const PoolCandidate *c, *pick = NULL;
        int r;

        /* Locked until the commit; a row another transaction holds is
         * skipped, not waited for: two opens never get the same desktop.
         * A few rows: the booting ones (one per host) are passed over. */
        r = db_exec(m->db,
                    "SELECT d.name, d.state FROM desktops d JOIN categories c ON c.id = d.category_id "
                    "WHERE c.name = ? AND d.account_id IS NULL AND d.template_id = c.template_id "
                    "AND d.state <> '" DESKTOP_STATE_CREATING "' "
                    "ORDER BY d.state = 'running' DESC, d.id LIMIT 16 FOR UPDATE SKIP LOCKED",
                    (DbValue[]) { DBV_STR(category) }, 1, candidate_row, &rows, NULL);
        c = rows.items;
        for (size_t i = 0; r >= 0 && !pick && i < rows.n; i++)
                if (c[i].running && !desktop_booting(m, c[i].name) && !desktop_pool_busy(m, c[i].name))
                        pick = &c[i];
        for (size_t i = 0; r >= 0 && !pick && i < rows.n; i++)
                if (!desktop_pool_busy(m, c[i].name))
                        pick = &c[i];
        if (pick) {
                snprintf(ret, 64, "%s", pick->name);
                *ret_state = desktop_booting(m, pick->name) ? "booting" : pick->running ? "running" : "stopped";
        }
        free(rows.items);
        return r;
}

/* A hand-over: the row claimed already, the domain's metadata to write. */
typedef struct Handover {
        char account[64];
        char category[64];
        const char *state;              /* what the desktop was when claimed */
        uid_t actor;
        Desktop d;
        Virt *virt;                     /* its host's connection, borrowed */
        char *error;                    /* libvirt's message */
} Handover;

static void handover_free(void *data) {
        Handover *o = data;

        if (!o)
                return;
        desktop_done(&o->d);
        virt_free(o->virt);
        free(o->error);
        free(o);
}

static int handover_begin(Manager *m, void *data, sd_bus_error *error) {
        Handover *o = data;
        Host *h;
        int r;

        h = host_for_desktop(m, o->d.host_id, o->d.name, error);
        if (!h)
                return -EHOSTDOWN;
        r = virt_borrow(h->virt, &o->virt);
        if (r == -ENOTCONN)
                return bus_error_setf(error, VDESK_ERROR_HOST_DOWN, "Host %s of desktop %s is down", h->name,
                                      o->d.name);
        return r < 0 ? r : 1;
}

/* Writes the account into the domain's vdesk metadata (a worker). */
static int handover_work(void *data) {
        _cleanup_(desktop_meta_done) DesktopMeta meta = {};
        _cleanup_(freep) char *xml = NULL, *fragment = NULL;
        Handover *o = data;
        int r;

        r = virt_domain_get_xml(o->virt, o->d.name, true, &xml, &o->error);
        if (r >= 0)
                r = desktop_meta_parse_domain(xml, &meta, &o->error);
        if (r >= 0)
                r = free_and_strdup(&meta.account, o->account);
        if (r >= 0)
                r = desktop_meta_format_unprefixed(&meta, &fragment);
        if (r >= 0)
                r = virt_domain_set_metadata(o->virt, o->d.name, fragment, &o->error);
        return r;
}

static int handover_end(Manager *m, void *data, int r, sd_bus_error *error) {
        Handover *o = data;
        int k;

        if (r < 0) {
                /* the claim undone: the desktop is the pool's again */
                k = db_exec(m->db, "UPDATE desktops SET account_id = NULL WHERE id = ?",
                            (DbValue[]) { DBV_UINT(o->d.id) }, 1, NULL, NULL, NULL);
                if (k < 0)
                        log_warning("Desktop %s stays %s's in the database, but its domain does not name them: %s",
                                    o->d.name, o->account, db_error(m->db));
                else
                        manager_object_changed(m, OBJECT_DESKTOP, o->d.name, "Account", NULL);
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot write the owner of %s into its domain: %s",
                                      o->d.name, o->error ?: strerror(-r));
        }
        log_event(LOG_INFO, MID_POOL_HANDED_OVER,
                  "VDESK_DESKTOP=%s", o->d.name,
                  "VDESK_ACCOUNT=%s", o->account,
                  "VDESK_CATEGORY=%s", o->category,
                  "VDESK_STATE=%s", o->state,
                  "VDESK_HOST=%s", o->d.host,
                  "VDESK_ACTOR_UID=%u", (unsigned) o->actor,
                  "MESSAGE=Desktop %s of category %s's pool handed over to %s (%s)", o->d.name, o->category,
                  o->account, o->state);
        pool_kick(m);
        return 1;
}

static const DesktopOpType handover_op = {
        .begin = handover_begin, .work = handover_work, .end = handover_end, .free = handover_free,
};

/* Claims a free desktop of the pool for account_id in one transaction:
 * its name in ret, "" if none is free. */
static int pool_claim(Manager *m, const char *category, uint64_t account_id, char ret[static 64],
                      const char **ret_state) {
        int r;

        ret[0] = 0;
        r = db_begin(m->db);
        if (r >= 0)
                r = pool_choose(m, category, ret, ret_state);
        if (r >= 0 && ret[0])
                r = db_exec(m->db, "UPDATE desktops SET account_id = ? WHERE name = ? AND account_id IS NULL",
                            (DbValue[]) { DBV_UINT(account_id), DBV_STR(ret) }, 2, NULL, NULL, NULL);
        if (r >= 0)
                r = db_commit(m->db);
        if (r < 0)
                db_rollback(m->db);
        return r;
}

int pool_take_async(Manager *m, const char *account, const char *category, uid_t actor, DesktopDoneFunc done,
                    void *userdata) {
        Handover *o;
        uint64_t account_id = 0;
        const char *state = NULL;
        char name[64];
        int r;

        r = db_exec(m->db, "SELECT id FROM accounts WHERE name = ?", (DbValue[]) { DBV_STR(account) }, 1, db_row_u64,
                    &account_id, NULL);
        if (r < 0)
                return r;
        if (account_id == 0)
                return 0;       /* the directory's, not yet the broker's: desktop_create names it */
        r = pool_claim(m, category, account_id, name, &state);
        if (r == -EEXIST)
                return 0;       /* has one of the category already: the open finds it */
        if (r < 0 || !name[0])
                return r;
        o = new0(Handover, 1);
        if (!o)
                return -ENOMEM;
        *o = (Handover) { .state = state, .actor = actor };
        snprintf(o->account, sizeof o->account, "%s", account);
        snprintf(o->category, sizeof o->category, "%s", category);
        r = desktop_get(m, name, &o->d, NULL);
        if (r < 0)
                handover_free(o);
        else {
                manager_object_changed(m, OBJECT_DESKTOP, name, "Account", NULL);
                /* the queue owns o from here, also if this fails */
                r = desktop_queue_push(m, name, &handover_op, o, done, userdata);
                if (r >= 0)
                        return 1;
        }
        /* nothing queued: the claim undone */
        if (db_exec(m->db, "UPDATE desktops SET account_id = NULL WHERE name = ?", (DbValue[]) { DBV_STR(name) }, 1,
                    NULL, NULL, NULL) < 0)
                log_warning("Desktop %s stays %s's: %s", name, account, db_error(m->db));
        return r;
}

/* ---- keeping the pools --------------------------------------------------------- */

static PoolOp *pool_op_free(PoolOp *o) {
        if (o) {
                tcp_probe_free(o->probe);
                free(o);
        }
        return NULL;
}

static bool host_busy(PoolState *p, uint64_t host_id) {
        for (PoolOp *o = p->ops; o; o = o->next)
                if (o->host_id == host_id)
                        return true;
        return false;
}

static bool category_busy(PoolState *p, const char *category) {
        for (PoolOp *o = p->ops; o; o = o->next)
                if (streq(o->category, category))
                        return true;
        return false;
}

/* Above [Monitor] HostMemoryPercent= or HostCPUPercent= by the figures placement
 * reads (host.h's load; memory is the score less its CPU term). */
static bool host_too_loaded(Manager *m, Host *h) {
        double memory;

        if (!h->load.valid)
                return false;
        memory = h->load.score - HOST_CPU_WEIGHT * h->load.cpu;
        return memory * 100 >= m->config.monitor_memory_percent || h->load.cpu * 100 >= m->config.monitor_cpu_percent;
}

/* Whether a host may make or start a pooled desktop now; acted on hosts
 * that already did so in this round. */
static bool host_idle(Manager *m, Host *h, uint64_t *acted, size_t n_acted) {
        if (!h || !h->up || h->maintenance || host_busy(m->pool, h->id))
                return false;
        for (size_t i = 0; i < n_acted; i++)
                if (acted[i] == h->id)
                        return false;
        if (host_too_loaded(m, h)) {
                log_debug("Host %s is above its load thresholds; the pools wait", h->name);
                return false;
        }
        return true;
}

/* Remembers an operation the pools asked for, until pool_op_end(). */
static PoolOp *pool_op_new(Manager *m, uint64_t host_id, const char *desktop, const char *category, bool booting) {
        PoolOp *o = new0(PoolOp, 1);

        if (!o)
                return NULL;
        *o = (PoolOp) { .manager = m, .host_id = host_id, .booting = booting, .next = m->pool->ops };
        snprintf(o->desktop, sizeof o->desktop, "%s", desktop);
        snprintf(o->category, sizeof o->category, "%s", category);
        m->pool->ops = o;
        return o;
}

/* It is over: the next round may act for its host and category, at
 * once after a success, else at the timer's (a lasting failure is tried
 * again every few seconds, not in a loop). */
static void pool_op_end(PoolOp *o, bool ok) {
        Manager *m = o->manager;

        for (PoolOp **q = &m->pool->ops; *q; q = &(*q)->next)
                if (*q == o) {
                        *q = o->next;
                        break;
                }
        pool_op_free(o);
        if (ok)
                pool_kick(m);
}

static void on_pooled_answers(TcpProbe *probe, int result, void *userdata) {
        PoolOp *o = userdata;
        Manager *m = o->manager;

        if (result < 0)
                log_warning("Pooled desktop %s did not answer on its RDP port within %u s", o->desktop,
                            m->config.open_timeout_sec);
        else
                log_debug("Pooled desktop %s answers", o->desktop);
        pool_op_end(o, result >= 0);
}

/* A pool's operation done: logged if it failed, and over. */
static void on_pool_op_done(Manager *m, const char *name, int r, const sd_bus_error *error, void *userdata) {
        PoolOp *o = userdata;

        if (r < 0)
                log_warning("Cannot keep category %s's pool (%s): %s", o->category, name,
                            error && error->message ? error->message : strerror(-r));
        pool_op_end(o, r >= 0);
}

/* A pooled desktop started: its host waits until the guest answers
 * before it makes or starts another. */
static void on_pooled_started(Manager *m, const char *name, int r, const sd_bus_error *error, void *userdata) {
        PoolOp *o = userdata;
        uint32_t address;
        Desktop d = {};
        Host *h;

        if (r < 0) {
                on_pool_op_done(m, name, r, error, o);
                return;
        }
        h = host_by_id(m, o->host_id);
        if (!h || host_public_address(h, &address) < 0 || desktop_get(m, name, &d, NULL) < 0) {
                pool_op_end(o, true);
                return;
        }
        r = tcp_probe_start(m->event, address, d.rdp_port, (uint64_t) m->config.open_timeout_sec * USEC_PER_SEC,
                            on_pooled_answers, o, &o->probe);
        desktop_done(&d);
        if (r < 0)
                pool_op_end(o, false);
}

/* Queues one operation of the pools on desktop name (async: one of
 * desktop.h's *_async() calls given done and the op). */
#define POOL_OP(m, host_id, name, category, booting, call, done, ...)                            \
        ({                                                                                      \
                PoolOp *_o = pool_op_new(m, host_id, name, category, booting);                  \
                int _r = _o ? call(m, name, __VA_ARGS__, done, _o) : -ENOMEM;                   \
                if (_o && _r < 0) {                                                             \
                        log_warning_errno(_r, "Cannot keep category %s's pool (%s): %m", category, name); \
                        pool_op_end(_o, false);                                                 \
                }                                                                               \
                _r;                                                                             \
        })

/* The one place a pooled desktop is started. */
static int pool_boot(Manager *m, const Desktop *d, Host *h) {
        return POOL_OP(m, h->id, d->name, d->category, true, desktop_start_async, on_pooled_started, getuid());
}

/* The one place a pooled desktop is made: on the host placement picks,
 * if that host is free. */
static int pool_make(Manager *m, const PoolInfo *p, uint64_t *acted, size_t *n_acted) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        char name[64];
        sd_id128_t id;
        Host *h = NULL;
        int r;

        r = desktop_place(m, p->category, &h, NULL, &e);
        if (r < 0) {
                log_debug("No room for category %s's pool: %s", p->category, e.message);
                return 0;
        }
        if (!host_idle(m, h, acted, *n_acted))
                return 0;
        r = sd_id128_randomize(&id);
        if (r < 0)
                return r;
        snprintf(name, sizeof name, "%.48s-pool-%08" PRIx32, p->category, (uint32_t) id.qwords[0]);
        acted[(*n_acted)++] = h->id;
        return POOL_OP(m, h->id, name, p->category, false, desktop_create_async, on_pool_op_done, NULL, p->template,
                       p->category, getuid());
}

/* A pooled desktop of the category picked by sql (one parameter: the
 * category), in *ret. 0 if there is none. */
static int pool_pick(Manager *m, const char *category, const char *order, Desktop *ret) {
        _cleanup_(freep) char *sql = NULL;
        char name[64] = "";
        int r;

        if (asprintf(&sql, "SELECT d.name FROM desktops d JOIN categories c ON c.id = d.category_id "
                     "WHERE c.name = ? AND d.account_id IS NULL %s LIMIT 1", order) < 0)
                return -ENOMEM;
        r = db_exec(m->db, sql, (DbValue[]) { DBV_STR(category) }, 1, free_desktop_row, name, NULL);
        if (r < 0)
                return r;
        if (!name[0])
                return 0;
        r = desktop_get(m, name, ret, NULL);
        return r < 0 ? r : 1;
}

/* A desktop too many (or of a template the category no longer names)
 * goes, a stopped one first (powered off, then removed: one desktop's
 * operations run in order): true if one was there to remove. */
static bool pool_shrink_one(Manager *m, const PoolInfo *p, bool stale_only) {
        Desktop d = {};
        int r;

        r = pool_pick(m, p->category,
                      stale_only ? "AND NOT d.template_id <=> c.template_id ORDER BY d.state = 'running', d.id DESC"
                                 : "ORDER BY NOT d.template_id <=> c.template_id DESC, d.state = 'running', d.id DESC",
                      &d);
        if (r <= 0)
                return false;
        if (streq(d.state, "running"))
                (void) POOL_OP(m, 0, d.name, p->category, false, desktop_stop_async, on_pool_op_done, true, getuid());
        (void) POOL_OP(m, 0, d.name, p->category, false, desktop_delete_async, on_pool_op_done, getuid());
        desktop_done(&d);
        return true;
}

static void pool_keep(Manager *m, const PoolInfo *p, uint64_t *acted, size_t *n_acted) {
        PoolState *s = m->pool;
        Desktop d = {};
        Host *h;

        /* one thing at a time for a pool: what it asked for is counted
         * in made and running only once it is over */
        if (category_busy(s, p->category))
                return;
        if (p->made > p->size) {
                (void) pool_shrink_one(m, p, false);
                return;
        }
        if (p->size > 0 && isempty(p->template)) {
                if (!strv_contains(s->warned, p->category)) {
                        log_warning("Category %s has PoolSize=%u but names no template: its pool stays empty",
                                    p->category, p->size);
                        (void) strv_extend(&s->warned, p->category);
                }
                return;
        }
        strv_remove(s->warned, p->category);
        if (pool_shrink_one(m, p, true))
                return;

        if (p->made == p->size && p->running == p->started) {
                if (strv_contains(s->short_pools, p->category)) {
                        log_event(LOG_INFO, MID_POOL_REFILLED,
                                  "VDESK_CATEGORY=%s", p->category,
                                  "VDESK_POOL_SIZE=%u", p->size,
                                  "VDESK_POOL_STARTED=%u", p->started,
                                  "MESSAGE=Category %s's pool is full: %u desktops, %u of them running", p->category,
                                  p->size, p->started);
                        strv_remove(s->short_pools, p->category);
                }
                return;
        }
        if (!strv_contains(s->short_pools, p->category))
                (void) strv_extend(&s->short_pools, p->category);

        if (p->running > p->started) {
                if (pool_pick(m, p->category, "AND d.state = 'running' ORDER BY d.id DESC", &d) > 0) {
                        (void) POOL_OP(m, 0, d.name, p->category, false, desktop_stop_async, on_pool_op_done, true,
                                       getuid());
                        desktop_done(&d);
                }
                return;
        }
        /* a stopped one started before another is made: the first opens
         * are the ones that wait */
        if (p->running < p->started && pool_pick(m, p->category, "AND d.state <> 'running' ORDER BY d.id", &d) > 0) {
                h = host_by_id(m, d.host_id);
                if (host_idle(m, h, acted, *n_acted)) {
                        acted[(*n_acted)++] = h->id;
                        (void) pool_boot(m, &d, h);
                }
                desktop_done(&d);
                return;
        }
        if (p->made < p->size)
                (void) pool_make(m, p, acted, n_acted);
}

static void pool_round(Manager *m) {
        _cleanup_(freep) uint64_t *acted = NULL;
        PoolInfo *p = NULL;
        size_t n = 0, n_acted = 0, n_hosts = 0;
        int r;

        r = pool_list(m, &p, &n);
        if (r < 0) {
                log_warning("Cannot read the pools: %s", db_error(m->db));
                return;
        }
        for (Host *h = m->hosts; h; h = h->next)
                n_hosts++;
        acted = new0(uint64_t, n_hosts + 1);
        for (size_t i = 0; acted && i < n; i++)
                pool_keep(m, &p[i], acted, &n_acted);
        free(p);
}

static int on_pool_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        pool_round(m);
        (void) sd_event_source_set_time_relative(s, POOL_CHECK_USEC);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

int pool_start(Manager *m) {
        m->pool = new0(PoolState, 1);
        if (!m->pool)
                return -ENOMEM;
        return sd_event_add_time_relative(m->event, &m->pool->timer, CLOCK_MONOTONIC, POOL_CHECK_USEC, 0,
                                          on_pool_timer, m);
}

void pool_kick(Manager *m) {
        if (!m->pool || !m->pool->timer)
                return;
        (void) sd_event_source_set_time_relative(m->pool->timer, 0);
        (void) sd_event_source_set_enabled(m->pool->timer, SD_EVENT_ONESHOT);
}

void pool_stop(Manager *m) {
        if (!m->pool)
                return;
        sd_event_source_disable_unref(m->pool->timer);
        /* the desktops' queue is gone already (brokerd.c): what is left
         * waits for a guest to answer */
        while (m->pool->ops) {
                PoolOp *o = m->pool->ops;
                m->pool->ops = o->next;
                pool_op_free(o);
        }
        strv_free(m->pool->warned);
        strv_free(m->pool->short_pools);
        m->pool = mfree(m->pool);
}
