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

/* A pooled desktop started and not answering yet: its host makes or
 * starts nothing else meanwhile. */
typedef struct PoolBoot {
        Manager *manager;
        uint64_t host_id;
        char desktop[64];
        TcpProbe *probe;
        struct PoolBoot *next;
} PoolBoot;

struct PoolState {
        sd_event_source *timer;
        PoolBoot *boots;
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

/* Writes account (NULL: nobody) into the domain's vdesk metadata. */
static int set_account(Manager *m, const Desktop *d, const char *account, sd_bus_error *error) {
        _cleanup_(desktop_meta_done) DesktopMeta meta = {};
        _cleanup_(freep) char *xml = NULL, *fragment = NULL, *e = NULL;
        Host *h;
        int r;

        h = host_for_desktop(m, d->host_id, d->name, error);
        if (!h)
                return -EHOSTDOWN;
        r = virt_domain_get_xml(h->virt, d->name, true, &xml, &e);
        if (r >= 0)
                r = desktop_meta_parse_domain(xml, &meta, &e);
        if (r >= 0) {
                free(meta.account);
                meta.account = account ? strdup(account) : NULL;
                r = account && !meta.account ? -ENOMEM : 0;
        }
        if (r >= 0)
                r = desktop_meta_format_unprefixed(&meta, &fragment);
        if (r >= 0)
                r = virt_domain_set_metadata(h->virt, d->name, fragment, &e);
        if (r < 0)
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot write the owner of %s into its domain: %s",
                                      d->name, e ?: strerror(-r));
        return 0;
}

static int free_desktop_row(char *const *c, unsigned n, void *userdata) {
        snprintf(userdata, 64, "%s", c[0]);
        return 0;
}

static bool desktop_booting(Manager *m, const char *name) {
        for (PoolBoot *b = m->pool ? m->pool->boots : NULL; b; b = b->next)
                if (streq(b->desktop, name))
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
                    "ORDER BY d.state = 'running' DESC, d.id LIMIT 16 FOR UPDATE SKIP LOCKED",
                    (DbValue[]) { DBV_STR(category) }, 1, candidate_row, &rows, NULL);
        c = rows.items;
        for (size_t i = 0; r >= 0 && !pick && i < rows.n; i++)
                if (c[i].running && !desktop_booting(m, c[i].name))
                        pick = &c[i];
        if (r >= 0 && !pick && rows.n > 0)
                pick = &c[0];
        if (pick) {
                snprintf(ret, 64, "%s", pick->name);
                *ret_state = !pick->running ? "stopped" : desktop_booting(m, pick->name) ? "booting" : "running";
        }
        free(rows.items);
        return r;
}

int pool_take(Manager *m, const char *account, const char *category, uid_t actor, Desktop *ret,
              sd_bus_error *error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e2 = SD_BUS_ERROR_NULL;
        const char *state = NULL;
        char name[64] = "";
        uint64_t account_id = 0;
        Desktop d = {};
        int r;

        r = db_begin(m->db);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = pool_choose(m, category, name, &state);
        if (r >= 0 && name[0])
                r = db_exec(m->db, "SELECT id FROM accounts WHERE name = ?", (DbValue[]) { DBV_STR(account) }, 1,
                            db_row_u64, &account_id, NULL);
        if (r < 0) {
                db_rollback(m->db);
                return db_bus_error(m->db, r, error);
        }
        if (!name[0] || account_id == 0) {
                /* none free (or an account the directory has and the
                 * broker's database not: desktop_create names it) */
                db_rollback(m->db);
                return 0;
        }
        r = db_exec(m->db, "UPDATE desktops SET account_id = ? WHERE name = ? AND account_id IS NULL",
                    (DbValue[]) { DBV_UINT(account_id), DBV_STR(name) }, 2, NULL, NULL, NULL);
        if (r == -EEXIST) {
                db_rollback(m->db);
                return bus_error_setf(error, VDESK_ERROR_DESKTOP_EXISTS, "%s has a desktop of category %s already",
                                      account, category);
        }
        if (r < 0) {
                db_rollback(m->db);
                return db_bus_error(m->db, r, error);
        }
        r = desktop_get(m, name, &d, error);
        if (r < 0) {
                db_rollback(m->db);
                return r;
        }
        r = set_account(m, &d, account, error);
        if (r < 0) {
                db_rollback(m->db);
                desktop_done(&d);
                return r;
        }
        r = db_commit(m->db);
        if (r < 0) {
                db_rollback(m->db);
                if (set_account(m, &d, NULL, &e2) < 0)
                        log_warning("Desktop %s stays nobody's in the database, but its domain names %s: %s",
                                    d.name, account, e2.message);
                desktop_done(&d);
                return db_bus_error(m->db, r, error);
        }

        log_event(LOG_INFO, MID_POOL_HANDED_OVER,
                  "VDESK_DESKTOP=%s", d.name,
                  "VDESK_ACCOUNT=%s", account,
                  "VDESK_CATEGORY=%s", category,
                  "VDESK_STATE=%s", state,
                  "VDESK_HOST=%s", d.host,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Desktop %s of category %s's pool handed over to %s (%s)", d.name, category, account,
                  state);
        manager_object_changed(m, OBJECT_DESKTOP, d.name, "Account", NULL);
        pool_kick(m);
        *ret = d;
        return 1;
}

/* ---- keeping the pools --------------------------------------------------------- */

static PoolBoot *pool_boot_free(PoolBoot *b) {
        if (b) {
                tcp_probe_free(b->probe);
                free(b);
        }
        return NULL;
}

static bool host_booting(PoolState *p, uint64_t host_id) {
        for (PoolBoot *b = p->boots; b; b = b->next)
                if (b->host_id == host_id)
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
        if (!h || !h->up || h->maintenance || host_booting(m->pool, h->id))
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

static void pool_boot_unlink(PoolState *p, PoolBoot *b) {
        for (PoolBoot **q = &p->boots; *q; q = &(*q)->next)
                if (*q == b) {
                        *q = b->next;
                        return;
                }
}

static void on_pooled_answers(TcpProbe *probe, int result, void *userdata) {
        PoolBoot *b = userdata;
        Manager *m = b->manager;

        if (result < 0)
                log_warning("Pooled desktop %s did not answer on its RDP port within %u s", b->desktop,
                            m->config.open_timeout_sec);
        else
                log_debug("Pooled desktop %s answers", b->desktop);
        pool_boot_unlink(m->pool, b);
        pool_boot_free(b);
        pool_kick(m);
}

/* The one place a pooled desktop is started: its host then waits until
 * the guest answers before it makes or starts another. */
static int pool_boot(Manager *m, const Desktop *d, Host *h) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        PoolBoot *b;
        uint32_t address;
        int r;

        r = desktop_start(m, d, getuid(), &e);
        if (r < 0) {
                log_warning("Cannot start pooled desktop %s: %s", d->name, e.message ?: strerror(-r));
                return r;
        }
        if (host_public_address(h, &address) < 0)
                return 0;
        b = new0(PoolBoot, 1);
        if (!b)
                return -ENOMEM;
        *b = (PoolBoot) { .manager = m, .host_id = h->id };
        snprintf(b->desktop, sizeof b->desktop, "%s", d->name);
        r = tcp_probe_start(m->event, address, d->rdp_port, (uint64_t) m->config.open_timeout_sec * USEC_PER_SEC,
                            on_pooled_answers, b, &b->probe);
        if (r < 0) {
                pool_boot_free(b);
                return r;
        }
        b->next = m->pool->boots;
        m->pool->boots = b;
        return 0;
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
        r = desktop_create(m, name, NULL, p->template, p->category, getuid(), NULL, &e);
        if (r < 0)
                log_warning("Cannot add a desktop to category %s's pool: %s", p->category, e.message ?: strerror(-r));
        return r;
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
 * goes, a stopped one first: true if one was there to remove. */
static bool pool_shrink_one(Manager *m, const PoolInfo *p, bool stale_only) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        Desktop d = {};
        int r;

        r = pool_pick(m, p->category,
                      stale_only ? "AND NOT d.template_id <=> c.template_id ORDER BY d.state = 'running', d.id DESC"
                                 : "ORDER BY NOT d.template_id <=> c.template_id DESC, d.state = 'running', d.id DESC",
                      &d);
        if (r <= 0)
                return false;
        if (streq(d.state, "running"))
                r = desktop_stop(m, &d, true, getuid(), &e);
        if (r >= 0)
                r = desktop_delete(m, &d, getuid(), &e);
        if (r < 0)
                log_warning("Cannot remove %s from category %s's pool: %s", d.name, p->category,
                            e.message ?: strerror(-r));
        desktop_done(&d);
        return true;
}

static void pool_keep(Manager *m, const PoolInfo *p, uint64_t *acted, size_t *n_acted) {
        PoolState *s = m->pool;
        Desktop d = {};
        Host *h;

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
                        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                        if (desktop_stop(m, &d, true, getuid(), &e) < 0)
                                log_warning("Cannot stop pooled desktop %s: %s", d.name, e.message);
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
        while (m->pool->boots) {
                PoolBoot *b = m->pool->boots;
                m->pool->boots = b->next;
                pool_boot_free(b);
        }
        strv_free(m->pool->warned);
        strv_free(m->pool->short_pools);
        m->pool = mfree(m->pool);
}
