/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <unistd.h>

#include "bus-error.h"
#include "cluster.h"
#include "domain-xml.h"
#include "host.h"
#include "libvirt-uri.h"
#include "log.h"
#include "manager.h"
#include "util.h"

/* ---- the hosts the broker knows ----------------------------------------------- */

Host *host_free(Host *h) {
        if (!h)
                return NULL;
        virt_free(h->virt);
        sd_event_source_disable_unref(h->add_timeout);
        free(h->load.names);
        free(h->load.cpu_ns);
        free(h->uri);
        free(h);
        return NULL;
}

void hosts_free(Manager *m) {
        while (m->hosts) {
                Host *h = m->hosts;
                m->hosts = h->next;
                host_free(h);
        }
        while (m->adding_hosts) {
                Host *h = m->adding_hosts;
                m->adding_hosts = h->next;
                /* its AddHost gets an answer, not silence */
                if (h->add_done)
                        h->add_done(h, &SD_BUS_ERROR_MAKE_CONST(VDESK_ERROR_NOT_READY, "vdesk-brokerd is stopping"),
                                    h->add_userdata);
                host_free(h);
        }
        m->local = NULL;
        m->virt = NULL;
}

static void host_unlink(Host **list, Host *h) {
        for (Host **p = list; *p; p = &(*p)->next)
                if (*p == h) {
                        *p = h->next;
                        h->next = NULL;
                        return;
                }
}

bool host_use_kvm(const Host *h) {
        const char *accelerator = h->manager->config.accelerator;

        if (streq(accelerator, "auto"))
                return h->kvm;
        return streq(accelerator, "kvm");
}

const char *host_state_name(const Host *h) {
        return !h->up ? "down" : h->maintenance ? "maintenance" : "up";
}

Host *host_by_id(Manager *m, uint64_t id) {
        for (Host *h = m->hosts; h; h = h->next)
                if (h->id == id)
                        return h;
        return NULL;
}

Host *host_by_name(Manager *m, const char *name) {
        for (Host *h = m->hosts; h; h = h->next)
                if (streq(h->name, name))
                        return h;
        return NULL;
}

Host *host_for_desktop(Manager *m, uint64_t host_id, const char *desktop, sd_bus_error *error) {
        Host *h = host_by_id(m, host_id);

        if (!h) {
                bus_error_setf(error, VDESK_ERROR_NO_SUCH_HOST, "Desktop %s has no host", desktop);
                return NULL;
        }
        if (!h->up) {
                bus_error_setf(error, VDESK_ERROR_HOST_DOWN, "Host %s of desktop %s is down (%s)", h->name, desktop,
                               h->reason);
                return NULL;
        }
        return h;
}

int host_public_address(Host *h, uint32_t *ret) {
        if (h->address == 0)
                return manager_public_address(h->manager, ret);
        *ret = h->address;
        return 0;
}

/* Records an up or down the database does not know yet: the row, the
 * journal, the object's State. */
static void host_record_state(Host *h, bool up, const char *reason) {
        Manager *m = h->manager;
        int r;

        h->up = up;
        if (h->state_known && h->recorded == up) {
                /* down still, for another reason now */
                if (!streq(h->reason, reason)) {
                        snprintf(h->reason, sizeof h->reason, "%s", reason);
                        manager_object_changed(m, OBJECT_HOST, h->name, "Reason", NULL);
                }
                return;
        }
        snprintf(h->reason, sizeof h->reason, "%s", reason);
        h->state_known = true;
        h->recorded = up;
        r = db_exec(m->db, "UPDATE hosts SET state = ?, state_reason = ?, state_since = CURRENT_TIMESTAMP WHERE id = ?",
                    (DbValue[]) { DBV_STR(up ? "up" : "down"), DBV_STR(reason), DBV_UINT(h->id) }, 3, NULL, NULL,
                    NULL);
        if (r < 0)
                log_error("Cannot record that host %s is %s: %s", h->name, up ? "up" : "down", db_error(m->db));
        log_event(up ? LOG_INFO : LOG_WARNING, up ? MID_HOST_UP : MID_HOST_DOWN,
                  "VDESK_HOST=%s", h->name,
                  "VDESK_LIBVIRT_URI=%s", h->uri,
                  "VDESK_REASON=%s", reason,
                  up ? "MESSAGE=Host %s is up (%s)" : "MESSAGE=Host %s is down: %s", h->name, up ? h->uri : reason);
        manager_object_changed(m, OBJECT_HOST, h->name, "State", "Reason", NULL);
}


/* Readdressed only when nothing runs on it: a network restarted under a
 * guest leaves the guest cut off (libvirt does not reattach its tap). */
static void host_network_readdress(Host *h, const char *xml) {
        Manager *m = h->manager;
        _cleanup_(freep) char *e = NULL;
        int r;

        r = virt_network_readdress(h->virt, m->config.network_name, xml, &e);
        if (r < 0 && r != -EBUSY)
                log_error("Cannot bring network %s on %s to %s/%u: %s", m->config.network_name, h->name,
                          m->config.gateway, m->config.prefix, e ?: strerror(-r));
        else if (r > 0 || (r == -EBUSY && !h->network_outdated))      /* a wait told once */
                log_event(r > 0 ? LOG_NOTICE : LOG_WARNING,
                          r > 0 ? MID_NETWORK_READDRESSED : MID_NETWORK_READDRESS_DEFERRED,
                          "VDESK_NETWORK=%s", m->config.network_name,
                          "VDESK_HOST=%s", h->name,
                          "VDESK_SUBNET=%s/%u", m->config.gateway, m->config.prefix,
                          "MESSAGE=Desktop network %s on %s %s %s/%u%s", m->config.network_name, h->name,
                          r > 0 ? "defined anew for" : "is not on", m->config.gateway, m->config.prefix,
                          r > 0 ? " and restarted" : "; it is changed when no guest runs on it");
        h->network_outdated = r == -EBUSY;
}

void host_network_ensure(Host *h) {
        Manager *m = h->manager;
        _cleanup_(freep) char *xml = NULL, *e = NULL;
        int r;

        r = network_xml_build(&(LibvirtNetwork) {
                        .name = m->config.network_name, .bridge = m->config.bridge, .gateway = m->config.gateway,
                        .prefix = m->config.prefix,
                }, &xml);
        if (r >= 0) {
                host_network_readdress(h, xml);
                r = virt_network_ensure(h->virt, m->config.network_name, xml, &e);
        }
        if (r < 0)
                log_error("Cannot set up network %s on %s: %s", m->config.network_name, h->name, e ?: strerror(-r));
        else
                log_event(LOG_INFO, MID_NETWORK_READY,
                          "VDESK_NETWORK=%s", m->config.network_name,
                          "VDESK_BRIDGE=%s", m->config.bridge,
                          "VDESK_HOST=%s", h->name,
                          "MESSAGE=Desktop network %s (%s, %s/%u) on %s %s", m->config.network_name, m->config.bridge,
                          m->config.gateway, m->config.prefix, h->name, r > 0 ? "set up" : "ready");
}

static void on_lifecycle(const char *name, VirtDomainState state, VirtStopReason reason, void *userdata) {
        Host *h = userdata;
        Manager *m = h->manager;

        /* its load changed: read again before the next placement */
        h->load.stale = true;
        /* the next chance of a readdress put off */
        if (h->network_outdated && state == VIRT_DOMAIN_STOPPED)
                host_network_ensure(h);
        if (m->events.domain_changed)
                m->events.domain_changed(m, h, name, state, reason);
}

static void host_add_finish(Host *h, const char *error_name, const char *format, ...) _printf_(3, 4);

static void on_connected(void *userdata) {
        Host *h = userdata;
        Manager *m = h->manager;

        if (h->add_done) {
                host_add_finish(h, NULL, NULL);
                return;
        }
        host_record_state(h, true, "");
        h->kvm = virt_kvm_usable(h->virt);
        log_info("Host %s: desktops run under %s.", h->name,
                 host_use_kvm(h) ? "KVM" : "QEMU's software emulation (TCG)");
        (void) host_sample(h);
        if (m->events.host_connected)
                m->events.host_connected(m, h);
}

static void on_failed(const char *error, void *userdata) {
        Host *h = userdata;

        if (h->add_done) {
                host_add_finish(h, VDESK_ERROR_HOST_UNREACHABLE, "Host unreachable: cannot connect to %s: %s",
                                h->uri, error);
                return;
        }
        host_record_state(h, false, error);
}

static void on_disconnected(const char *why, void *userdata) {
        host_record_state(userdata, false, why);
}

static void on_graphics_authenticated(const char *name, const char *client, void *userdata) {
        Host *h = userdata;
        Manager *m = h->manager;

        if (h == m->local && m->events.console_client)
                m->events.console_client(m, name, client);
}

static const VirtCallbacks host_callbacks = {
        .lifecycle = on_lifecycle,
        .connected = on_connected,
        .failed = on_failed,
        .disconnected = on_disconnected,
        .graphics_authenticated = on_graphics_authenticated,
};

int host_new(Manager *m, uint64_t id, const char *name, const char *uri, uint64_t cluster_id,
             uint32_t address, bool maintenance, bool recorded_up, Host **ret) {
        char buf[LIBVIRT_URI_REASON_MAX];
        Host *h = calloc(1, sizeof *h);
        const char *why;
        int r;

        if (!h)
                return -ENOMEM;
        *h = (Host) { .manager = m, .id = id, .cluster_id = cluster_id, .address = address,
                      .maintenance = maintenance, .recorded = recorded_up };
        snprintf(h->name, sizeof h->name, "%s", name);
        h->uri = strdup(uri);
        if (!h->uri) {
                host_free(h);
                return -ENOMEM;
        }
        why = libvirt_uri_invalid_reason(uri, buf, NULL);
        if (why)
                /* never connected, and so never up: hosts_start records why */
                snprintf(h->reason, sizeof h->reason, "URI refused: %s", why);
        else {
                r = virt_new(m->event, uri, 0, &host_callbacks, h, &h->virt);
                if (r < 0) {
                        host_free(h);
                        return r;
                }
        }
        *ret = h;
        return 0;
}

/* ---- start-up ------------------------------------------------------------------ */

typedef struct HostRow {
        uint64_t id;
        char name[64];
        char *uri;
        uint64_t cluster_id;
        uint32_t address;
        bool maintenance;
        bool up;
} HostRow;

static int host_row(char *const *c, unsigned n, void *userdata) {
        HostRow *h = db_rows_push(userdata);

        if (!h)
                return -ENOMEM;
        h->id = strtoull(c[0], NULL, 10);
        snprintf(h->name, sizeof h->name, "%s", c[1]);
        h->uri = strdup(c[2]);
        h->cluster_id = strtoull(c[3], NULL, 10);
        h->address = (uint32_t) strtoul(c[4], NULL, 10);
        h->maintenance = streq(c[5], "1");
        h->up = streq(c[6], "up");
        return h->uri ? 0 : -ENOMEM;
}

static void host_rows_free(HostRow *rows, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(rows[i].uri);
        free(rows);
}

#define HOST_COLUMNS "id, name, uri, cluster_id, COALESCE(address, 0), maintenance, state FROM hosts "

/* The broker's own host, registered once: named after this machine. */
static int register_local_host(Manager *m) {
        char hostname[64] = "";
        uint64_t cluster_id = 0, found = 0;
        int r;

        r = db_exec(m->db, "SELECT id FROM hosts WHERE uri = ?", (DbValue[]) { DBV_STR(m->config.libvirt_uri) }, 1,
                    db_row_u64, &found, NULL);
        if (r < 0 || found)
                return r;
        if (gethostname(hostname, sizeof hostname - 1) < 0 || name_invalid_reason(hostname))
                snprintf(hostname, sizeof hostname, "local");
        r = db_begin(m->db);
        if (r >= 0)
                r = db_exec(m->db, "INSERT IGNORE INTO clusters (name, capacity) VALUES ('default', ?)",
                            (DbValue[]) { DBV_UINT(m->config.default_capacity) }, 1, NULL, NULL, NULL);
        if (r >= 0)
                r = db_exec(m->db, "SELECT id FROM clusters WHERE name = 'default'", NULL, 0, db_row_u64, &cluster_id,
                            NULL);
        if (r >= 0)
                r = db_exec(m->db,
                            "INSERT INTO hosts (name, uri, cluster_id) SELECT IF(EXISTS (SELECT 1 FROM hosts "
                            "WHERE name = ?), CONCAT(?, '-', UUID_SHORT() % 10000), ?), ?, ?",
                            (DbValue[]) { DBV_STR(hostname), DBV_STR(hostname), DBV_STR(hostname),
                                          DBV_STR(m->config.libvirt_uri), DBV_UINT(cluster_id) }, 5, NULL, NULL, NULL);
        if (r >= 0)
                r = db_commit(m->db);
        if (r < 0)
                return r;
        log_event(LOG_INFO, MID_HOST_ADDED,
                  "VDESK_HOST=%s", hostname,
                  "VDESK_LIBVIRT_URI=%s", m->config.libvirt_uri,
                  "VDESK_CLUSTER=default",
                  "MESSAGE=The broker's own host (%s) registered in cluster default", m->config.libvirt_uri);
        return 0;
}

static int on_sample_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        for (Host *h = m->hosts; h; h = h->next)
                if (h->up)
                        (void) host_sample(h);
        (void) sd_event_source_set_time_relative(s, (uint64_t) m->config.host_sample_sec * USEC_PER_SEC);
        return 0;
}

int hosts_start(Manager *m) {
        DbRows rows = { .size = sizeof(HostRow) };
        HostRow *hr;
        int r;

        r = register_local_host(m);
        if (r >= 0)
                r = db_exec(m->db, "SELECT " HOST_COLUMNS "ORDER BY id", NULL, 0, host_row, &rows, NULL);
        if (r < 0) {
                host_rows_free(rows.items, rows.n);
                return log_error_errno(r, "Cannot read the hosts: %s", db_error(m->db));
        }
        hr = rows.items;
        for (size_t i = 0; r >= 0 && i < rows.n; i++) {
                Host *h;

                r = host_new(m, hr[i].id, hr[i].name, hr[i].uri, hr[i].cluster_id, hr[i].address, hr[i].maintenance,
                             hr[i].up, &h);
                if (r < 0)
                        break;
                h->next = m->hosts;
                m->hosts = h;
                if (streq(hr[i].uri, m->config.libvirt_uri))
                        m->local = h;
                /* written by an older vdesk or by hand: down, in the
                 * database, the journal and by signal, the rest served */
                if (!h->virt) {
                        char why[sizeof h->reason];

                        /* a copy: host_record_state() writes h->reason */
                        snprintf(why, sizeof why, "%s", h->reason);
                        host_record_state(h, false, why);
                }
        }
        host_rows_free(rows.items, rows.n);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the hosts' connections: %m");
        if (!m->local) {
                log_error("The broker's own host %s is not registered.", m->config.libvirt_uri);
                return -ENOENT;
        }
        m->virt = m->local->virt;
        m->local_cluster_id = m->local->cluster_id;

        /* desktops made before there were hosts live on this one */
        r = db_exec(m->db, "UPDATE desktops SET host_id = ? WHERE host_id IS NULL",
                    (DbValue[]) { DBV_UINT(m->local->id) }, 1, NULL, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "Cannot assign desktops to %s: %s", m->local->name, db_error(m->db));

        r = sd_event_add_time_relative(m->event, &m->sample_timer, CLOCK_MONOTONIC,
                                       (uint64_t) m->config.host_sample_sec * USEC_PER_SEC, 0, on_sample_timer, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->sample_timer, SD_EVENT_ON);
        return r;
}

/* ---- load and placement ----------------------------------------------------------- */

int host_sample(Host *h) {
        _cleanup_(freep) VirtDomainStats *st = NULL;
        HostLoad *l = &h->load;
        char (*names)[64] = NULL;
        uint64_t *cpu_ns = NULL, busy, total, now = 0, committed = 0, dt, used_ns = 0;
        size_t n = 0;
        int r;

        /* the memory too can change (hotplug, a balloon) */
        r = virt_node_info(h->virt, &l->node);
        if (r >= 0)
                r = virt_node_load(h->virt, &l->free_kib, &busy, &total);
        if (r >= 0)
                r = virt_all_domain_stats(h->virt, VIRT_STATS_LOAD, true, &st, &n);
        if (r < 0)
                return r;
        (void) sd_event_now(h->manager->event, CLOCK_MONOTONIC, &now);

        names = calloc(n ?: 1, sizeof *names);
        cpu_ns = calloc(n ?: 1, sizeof *cpu_ns);
        if (!names || !cpu_ns) {
                free(names);
                free(cpu_ns);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                committed += st[i].memory_kib ?: st[i].max_memory_kib;
                memcpy(names[i], st[i].name, sizeof names[i]);
                cpu_ns[i] = st[i].cpu_time_ns;
                /* CPU used since the last sample, by domains in both */
                for (size_t j = 0; l->valid && j < l->n; j++)
                        if (streq(l->names[j], st[i].name) && st[i].cpu_time_ns >= l->cpu_ns[j])
                                used_ns += st[i].cpu_time_ns - l->cpu_ns[j];
        }
        dt = l->valid && now > l->sampled_usec ? now - l->sampled_usec : 0;
        if (dt >= USEC_PER_SEC / 2 && l->node.cpus > 0)
                l->cpu = MIN(1.0, (double) used_ns / ((double) dt * 1000.0 * l->node.cpus));
        else if (!l->valid)
                l->cpu = 0;
        /* between close samples the last utilisation stands */
        if (dt >= USEC_PER_SEC / 2 || !l->valid) {
                free(l->names);
                free(l->cpu_ns);
                l->names = names;
                l->cpu_ns = cpu_ns;
                l->n = n;
                l->sampled_usec = now;
        } else {
                free(names);
                free(cpu_ns);
        }
        l->committed_kib = committed;
        l->running = (unsigned) n;
        l->stale = false;
        l->score = (l->node.memory_kib ? (double) committed / (double) l->node.memory_kib : 1.0) +
                   HOST_CPU_WEIGHT * l->cpu;
        l->valid = true;
        return 0;
}

/* ---- adding and removing hosts -------------------------------------------------- */

static int on_add_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Host *h = userdata;

        host_add_finish(h, VDESK_ERROR_HOST_UNREACHABLE, "Host unreachable: %s did not answer within %u s", h->uri,
                        h->manager->config.host_connect_timeout_sec);
        return 0;
}

int host_add(Manager *m, const char *name, const char *uri, uint64_t cluster_id, uint32_t address, uid_t actor,
             HostAddDone done, void *userdata, sd_bus_error *error) {
        Host *h;
        int r;

        for (Host *o = m->hosts; o; o = o->next)
                if (streq(o->name, name) || streq(o->uri, uri))
                        return bus_error_setf(error, VDESK_ERROR_HOST_EXISTS, "Host %s (%s) is there already", o->name,
                                              o->uri);
        for (Host *o = m->adding_hosts; o; o = o->next)
                if (streq(o->name, name) || streq(o->uri, uri))
                        return bus_error_setf(error, VDESK_ERROR_HOST_EXISTS, "Host %s (%s) is being added already",
                                              o->name, o->uri);

        r = host_new(m, 0, name, uri, cluster_id, address, false, false, &h);
        if (r < 0)
                return r;
        h->add_done = done;
        h->add_userdata = userdata;
        h->add_actor = actor;
        r = sd_event_add_time_relative(m->event, &h->add_timeout, CLOCK_MONOTONIC,
                                       (uint64_t) m->config.host_connect_timeout_sec * USEC_PER_SEC, 0,
                                       on_add_timeout, h);
        if (r < 0) {
                host_free(h);
                return r;
        }
        h->next = m->adding_hosts;
        m->adding_hosts = h;
        return 0;
}

static int on_dispose(sd_event_source *s, void *userdata) {
        host_free(userdata);
        sd_event_source_disable_unref(s);
        return 0;
}

/* Frees h from the loop: never inside its own connection's callback. */
static void host_dispose(Host *h) {
        sd_event_source *s = NULL;

        (void) virt_free(TAKE_PTR(h->virt));
        if (sd_event_add_defer(h->manager->event, &s, on_dispose, h) < 0)
                log_oom();      /* leaked rather than freed under a caller */
}

/* The added host's row, journal entry and object. */
static int host_add_record(Host *h, sd_bus_error *error) {
        Manager *m = h->manager;
        char cname[64];
        int r;

        r = db_exec(m->db, "INSERT INTO hosts (name, uri, cluster_id, address, state) VALUES (?, ?, ?, ?, 'up')",
                    (DbValue[]) { DBV_STR(h->name), DBV_STR(h->uri), DBV_UINT(h->cluster_id),
                                  h->address ? DBV_UINT(h->address) : DBV_NULL }, 4, NULL, NULL, NULL);
        if (r == -EEXIST)
                return bus_error_setf(error, VDESK_ERROR_HOST_EXISTS, "Host %s (%s) is there already", h->name,
                                      h->uri);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        h->id = db_last_insert_id(m->db);
        h->state_known = h->recorded = h->up = true;
        h->next = m->hosts;
        m->hosts = h;
        log_event(LOG_INFO, MID_HOST_ADDED,
                  "VDESK_HOST=%s", h->name,
                  "VDESK_LIBVIRT_URI=%s", h->uri,
                  "VDESK_CLUSTER=%s", cluster_name(m, h->cluster_id, cname),
                  "VDESK_ACTOR_UID=%u", (unsigned) h->add_actor,
                  "MESSAGE=Host %s (%s) added to cluster %s", h->name, h->uri, cname);
        return 0;
}

/* Ends a pending AddHost: recorded and told (error_name NULL), or told the
 * error and freed. */
static void host_add_finish(Host *h, const char *error_name, const char *format, ...) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        Manager *m = h->manager;
        HostAddDone done = TAKE_PTR(h->add_done);
        void *userdata = TAKE_PTR(h->add_userdata);

        h->add_timeout = sd_event_source_disable_unref(h->add_timeout);
        host_unlink(&m->adding_hosts, h);
        if (error_name) {
                va_list ap;

                va_start(ap, format);
                (void) sd_bus_error_setfv(&e, error_name, format, ap);
                va_end(ap);
        } else if (host_add_record(h, &e) >= 0) {
                done(h, NULL, userdata);
                manager_object_added(m, OBJECT_HOST, h->name);
                (void) host_sample(h);
                if (m->events.host_connected)
                        m->events.host_connected(m, h);
                return;
        }
        done(h, &e, userdata);
        host_dispose(h);
}

Host *host_get(Manager *m, const char *name, sd_bus_error *error) {
        Host *h;

        if (bus_error_check_name(error, "name", name) < 0)
                return NULL;
        h = host_by_name(m, name);
        if (!h)
                bus_error_setf(error, VDESK_ERROR_NO_SUCH_HOST, "Invalid name: no host '%s'", name);
        return h;
}

int host_remove(Manager *m, const char *name, uid_t actor, sd_bus_error *error) {
        uint64_t desktops = 0;
        Host *h;
        int r;

        h = host_get(m, name, error);
        if (!h)
                return -ENOENT;
        if (h == m->local)
                return bus_error_setf(error, VDESK_ERROR_HOST_IN_USE,
                                      "Host %s is the broker's own ([Libvirt] URI=), where templates are built", name);
        r = db_begin(m->db);
        if (r >= 0)
                r = db_exec(m->db, "SELECT COUNT(*) FROM desktops WHERE host_id = ? FOR UPDATE",
                            (DbValue[]) { DBV_UINT(h->id) }, 1, db_row_u64, &desktops, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (desktops > 0) {
                db_rollback(m->db);
                return bus_error_setf(error, VDESK_ERROR_HOST_IN_USE,
                                      "Host %s has %" PRIu64 " desktops defined; delete or move them first", name,
                                      desktops);
        }
        r = db_exec(m->db, "DELETE FROM hosts WHERE id = ?", (DbValue[]) { DBV_UINT(h->id) }, 1, NULL, NULL, NULL);
        if (r >= 0)
                r = db_commit(m->db);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        log_event(LOG_INFO, MID_HOST_REMOVED,
                  "VDESK_HOST=%s", h->name,
                  "VDESK_LIBVIRT_URI=%s", h->uri,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Host %s (%s) removed", h->name, h->uri);
        manager_object_removed(m, OBJECT_HOST, h->name);
        host_unlink(&m->hosts, h);
        host_dispose(h);
        return 0;
}

int host_set_maintenance(Manager *m, const char *name, bool on, uid_t actor, sd_bus_error *error) {
        Host *h;
        int r;

        h = host_get(m, name, error);
        if (!h)
                return -ENOENT;
        r = db_exec(m->db, "UPDATE hosts SET maintenance = ? WHERE id = ?",
                    (DbValue[]) { DBV_UINT(on), DBV_UINT(h->id) }, 2, NULL, NULL, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (h->maintenance == on)
                return 0;
        h->maintenance = on;
        log_event(LOG_INFO, MID_HOST_MAINTENANCE,
                  "VDESK_HOST=%s", h->name,
                  "VDESK_MAINTENANCE=%d", on,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  on ? "MESSAGE=Host %s in maintenance: no new desktops go there"
                     : "MESSAGE=Host %s out of maintenance", h->name);
        manager_object_changed(m, OBJECT_HOST, h->name, "State", "Maintenance", NULL);
        return 0;
}

int host_desktop_count(Manager *m, const Host *h, uint32_t *ret) {
        uint64_t n = 0;
        int r;

        r = db_exec(m->db, "SELECT COUNT(*) FROM desktops WHERE host_id = ?", (DbValue[]) { DBV_UINT(h->id) }, 1,
                    db_row_u64, &n, NULL);
        if (r < 0)
                return r;
        *ret = (uint32_t) n;
        return 0;
}

static int host_compare(const void *a, const void *b) {
        return strcmp((*(Host *const *) a)->name, (*(Host *const *) b)->name);
}

int hosts_sorted(Manager *m, Host ***ret, size_t *ret_n) {
        Host **v;
        size_t n = 0;

        for (Host *h = m->hosts; h; h = h->next)
                n++;
        v = calloc(n ?: 1, sizeof *v);
        if (!v)
                return -ENOMEM;
        n = 0;
        for (Host *h = m->hosts; h; h = h->next)
                v[n++] = h;
        qsort(v, n, sizeof *v, host_compare);
        *ret = v;
        *ret_n = n;
        return 0;
}
