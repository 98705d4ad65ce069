/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bus-api.h"
#include "libvirt-uri.h"
#include "log.h"
#include "monitor.h"
#include "util.h"

static MonHost *mon_host_free(MonHost *h) {
        if (!h)
                return NULL;
        virt_free(h->virt);
        free(h->domains);
        free(h->hostname);
        free(h->uri);
        free(h);
        return NULL;
}

int monitor_new(Monitor **ret) {
        Monitor *m = calloc(1, sizeof *m);

        if (!m)
                return -ENOMEM;
        *ret = m;
        return 0;
}

void monitor_close_hosts(Monitor *m) {
        while (m->hosts) {
                MonHost *h = m->hosts;
                m->hosts = h->next;
                mon_host_free(h);
        }
}

Monitor *monitor_free(Monitor *m) {
        if (!m)
                return NULL;
        monitor_close_hosts(m);
        sd_event_source_disable_unref(m->timer);
        sd_event_source_disable_unref(m->refresh);
        sd_bus_slot_unref(m->host_signal);
        sd_bus_slot_unref(m->list_call);
        sd_bus_slot_unref(m->pool_call);
        free(m->pools);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        config_done(&m->config);
        free(m);
        return NULL;
}

static MonDomain *domain_find(MonHost *h, const char *name) {
        for (size_t i = 0; i < h->n_domains; i++)
                if (streq(h->domains[i].st.name, name))
                        return &h->domains[i];
        return NULL;
}

size_t mon_host_running_desktops(const MonHost *h) {
        size_t n = 0;

        for (size_t i = 0; i < h->n_domains; i++)
                n += h->domains[i].desktop && h->domains[i].st.running;
        return n;
}

/* ---- alerts ------------------------------------------------------------------- */

static void alert_crashed(MonHost *h, const char *name) {
        log_event(LOG_WARNING, MID_MONITOR_ALERT,
                  "VDESK_ALERT=crashed",
                  "VDESK_HOST=%s", h->name,
                  "VDESK_DESKTOP=%s", name,
                  "MESSAGE=Desktop %s on %s crashed", name, h->name);
        (void) sd_bus_emit_signal(h->monitor->bus, MONITORD_OBJECT_PATH, MONITORD_INTERFACE, "DesktopCrashed", "ss",
                                  h->name, name);
}

/* above: the figure is over its threshold now; raises the alert once it
 * stayed there ThresholdSec, and again only after it fell below. */
static void threshold_check(MonHost *h, const char *metric, double value, unsigned percent, uint64_t *over_since,
                            bool *alerted) {
        Monitor *m = h->monitor;
        uint64_t now = now_realtime_usec();

        if (value * 100.0 <= percent) {
                *over_since = 0;
                *alerted = false;
                return;
        }
        if (*over_since == 0)
                *over_since = now;
        if (*alerted || now - *over_since < (uint64_t) m->config.monitor_threshold_sec * USEC_PER_SEC)
                return;
        *alerted = true;
        log_event(LOG_WARNING, MID_MONITOR_ALERT,
                  "VDESK_ALERT=threshold",
                  "VDESK_HOST=%s", h->name,
                  "VDESK_METRIC=%s", metric,
                  "VDESK_VALUE=%.1f", value * 100.0,
                  "VDESK_THRESHOLD=%u", percent,
                  "MESSAGE=Host %s: %s use %.1f %% above %u %% for %u s", h->name, metric, value * 100.0, percent,
                  m->config.monitor_threshold_sec);
        (void) sd_bus_emit_signal(m->bus, MONITORD_OBJECT_PATH, MONITORD_INTERFACE, "ThresholdCrossed", "ssdu",
                                  h->name, metric, value * 100.0, percent);
}

/* ---- sampling -------------------------------------------------------------------- */

/* When QEMU started, for a domain of this machine's libvirtd: its pid
 * file's process. 0 elsewhere. */
static uint64_t local_start_usec(const MonHost *h, const char *name) {
        _cleanup_(freep) char *path = NULL;
        char buf[64], stat_path[64];
        struct stat st;
        FILE *f;
        long pid = 0;

        if (!startswith(h->uri, "qemu:///"))
                return 0;
        if (asprintf(&path, "/run/libvirt/qemu/%s.pid", name) < 0)
                return 0;
        f = fopen(path, "re");
        if (!f)
                return 0;
        if (fgets(buf, sizeof buf, f))
                pid = strtol(buf, NULL, 10);
        fclose(f);
        snprintf(stat_path, sizeof stat_path, "/proc/%ld", pid);
        if (pid <= 0 || stat(stat_path, &st) < 0)
                return 0;
        return (uint64_t) st.st_mtim.tv_sec * USEC_PER_SEC + (uint64_t) st.st_mtim.tv_nsec / 1000;
}

static double rate(uint64_t now_v, uint64_t prev_v, double seconds) {
        return now_v >= prev_v && seconds > 0 ? (double) (now_v - prev_v) / seconds : 0;
}

static int mon_host_sample(MonHost *h) {
        _cleanup_(freep) VirtDomainStats *st = NULL;
        MonDomain *doms;
        uint64_t busy, total, now = 0;
        size_t n = 0;
        int r;

        /* every time: a host's memory can change under it (hotplug, or a
         * balloon of the machine it is itself a guest of) */
        r = virt_node_info(h->virt, &h->node);
        if (r < 0)
                return r;
        if (!h->have_node) {
                free(h->hostname);
                h->hostname = NULL;
                (void) virt_hostname(h->virt, &h->hostname);
                h->max_vcpus = virt_max_vcpus(h->virt);
                h->have_node = true;
        }
        r = virt_node_load(h->virt, &h->free_kib, &busy, &total);
        if (r >= 0)
                r = virt_all_domain_stats(h->virt, VIRT_STATS_ALL, false, &st, &n);
        if (r < 0)
                return r;
        (void) sd_event_now(h->monitor->event, CLOCK_MONOTONIC, &now);
        if (h->cpu_total_ns && total > h->cpu_total_ns)
                h->cpu = (double) (busy - MIN(busy, h->cpu_busy_ns)) / (double) (total - h->cpu_total_ns);
        h->cpu_busy_ns = busy;
        h->cpu_total_ns = total;

        doms = calloc(n ?: 1, sizeof *doms);
        if (!doms)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                MonDomain *d = &doms[i], *prev = domain_find(h, st[i].name);

                d->st = st[i];
                d->sampled_usec = now;
                if (prev) {
                        double s = (double) (now - prev->sampled_usec) / USEC_PER_SEC;

                        d->desktop = prev->desktop;
                        d->started_usec = prev->started_usec;
                        if (prev->st.running && d->st.running && s > 0) {
                                d->cpu = MIN(1.0, rate(d->st.cpu_time_ns, prev->st.cpu_time_ns, s) / 1e9 /
                                                  MAX(1u, d->st.vcpus));
                                d->rd_bps = rate(d->st.rd_bytes, prev->st.rd_bytes, s);
                                d->wr_bps = rate(d->st.wr_bytes, prev->st.wr_bytes, s);
                                d->rd_iops = rate(d->st.rd_reqs, prev->st.rd_reqs, s);
                                d->wr_iops = rate(d->st.wr_reqs, prev->st.wr_reqs, s);
                                d->rx_bps = rate(d->st.rx_bytes, prev->st.rx_bytes, s);
                                d->tx_bps = rate(d->st.tx_bytes, prev->st.tx_bytes, s);
                        }
                } else
                        /* a name seen the first time: one look at its metadata */
                        d->desktop = virt_domain_is_desktop(h->virt, d->st.name) > 0;
                if (!d->st.running)
                        d->started_usec = 0;
                else if (d->started_usec == 0)
                        d->started_usec = local_start_usec(h, d->st.name) ?: now_realtime_usec();
        }
        free(h->domains);
        h->domains = doms;
        h->n_domains = n;

        if (h->node.memory_kib > 0)
                threshold_check(h, "memory", 1.0 - (double) h->free_kib / (double) h->node.memory_kib,
                                h->monitor->config.monitor_memory_percent, &h->memory_over_usec, &h->memory_alerted);
        threshold_check(h, "cpu", h->cpu, h->monitor->config.monitor_cpu_percent, &h->cpu_over_usec, &h->cpu_alerted);
        return 0;
}

void monitor_sample(Monitor *m) {
        for (MonHost *h = m->hosts; h; h = h->next)
                if (h->up && mon_host_sample(h) < 0)
                        log_debug("Cannot read %s: %s", h->name, strempty(virt_last_error(h->virt)));
        m->sampled_usec = now_realtime_usec();
}

/* ---- the categories' pools (the broker's figures) -------------------------------------- */

static int on_pool_list(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Monitor *m = userdata;
        MonPool *pools = NULL;
        const char *name;
        uint32_t size, started, made, running;
        size_t n = 0;
        int r;

        m->pool_call = sd_bus_slot_unref(m->pool_call);
        if (sd_bus_message_is_method_error(reply, NULL)) {
                /* no broker: no pools to show */
                log_debug("No pools from the broker: %s", sd_bus_message_get_error(reply)->message);
                m->pools = mfree(m->pools);
                m->n_pools = 0;
                return 0;
        }
        r = sd_bus_message_enter_container(reply, 'a', POOL_SIGNATURE);
        while (r > 0) {
                r = sd_bus_message_read(reply, POOL_SIGNATURE, &name, &size, &started, &made, &running);
                if (r > 0) {
                        MonPool *g = reallocarray(pools, n + 1, sizeof *pools);

                        if (!g) {
                                r = -ENOMEM;
                                break;
                        }
                        pools = g;
                        pools[n] = (MonPool) { .size = size, .started = started, .made = made, .running = running };
                        snprintf(pools[n].category, sizeof pools[n].category, "%s", name);
                        n++;
                }
        }
        if (r < 0) {
                free(pools);
                return log_warning_errno(r, "Cannot read the broker's pools: %m"), 0;
        }
        free(m->pools);
        m->pools = pools;
        m->n_pools = n;
        return 0;
}

/* Calls the broker's method (without arguments) unless a call of it is
 * in flight (*slot), never by starting the broker: one an admin stopped
 * stays stopped. */
static int ask_broker(Monitor *m, const char *method, sd_bus_slot **slot, sd_bus_message_handler_t done) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        int r;

        if (*slot)
                return 0;
        r = sd_bus_message_new_method_call(m->bus, &call, BROKERD, method);
        if (r >= 0)
                r = sd_bus_message_set_auto_start(call, false);
        if (r >= 0)
                r = sd_bus_call_async(m->bus, slot, call, done, m, 0);
        return r;
}

static void monitor_refresh_pools(Monitor *m) {
        int r;

        r = ask_broker(m, "ListPools", &m->pool_call, on_pool_list);
        if (r < 0)
                log_debug_errno(r, "Cannot ask the broker for its pools: %m");
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Monitor *m = userdata;

        monitor_sample(m);
        monitor_refresh_pools(m);
        (void) sd_event_source_set_time_relative(s, (uint64_t) m->config.monitor_interval_sec * USEC_PER_SEC);
        return 0;
}

/* ---- hosts ------------------------------------------------------------------------ */

static void on_lifecycle(const char *name, VirtDomainState state, VirtStopReason reason, void *userdata) {
        MonHost *h = userdata;
        MonDomain *d = domain_find(h, name);

        if (state == VIRT_DOMAIN_RUNNING) {
                if (d)
                        d->started_usec = now_realtime_usec();
                return;
        }
        if (d)
                d->st.running = false;
        /* a desktop's; one not yet seen may have started and died
         * between two samples: its metadata tells */
        if (reason == VIRT_STOP_CRASHED && (d ? d->desktop : virt_domain_is_desktop(h->virt, name) > 0))
                alert_crashed(h, name);
}

static void on_connected(void *userdata) {
        MonHost *h = userdata;

        h->up = true;
        h->have_node = false;
        (void) mon_host_sample(h);
}

static void on_down(MonHost *h) {
        h->up = false;
}

static void on_failed(const char *error, void *userdata) {
        on_down(userdata);
}

static void on_disconnected(const char *why, void *userdata) {
        on_down(userdata);
}

static const VirtCallbacks mon_callbacks = {
        .lifecycle = on_lifecycle,
        .connected = on_connected,
        .failed = on_failed,
        .disconnected = on_disconnected,
};

/* Keeps h (name, uri) or makes it. */
static int monitor_keep_host(Monitor *m, const char *name, const char *uri) {
        char buf[LIBVIRT_URI_REASON_MAX];
        const char *why;
        MonHost *h;
        int r;

        for (h = m->hosts; h; h = h->next)
                if (streq(h->name, name) && streq(h->uri, uri)) {
                        h->keep = true;
                        return 0;
                }
        h = calloc(1, sizeof *h);
        if (!h)
                return -ENOMEM;
        h->monitor = m;
        snprintf(h->name, sizeof h->name, "%s", name);
        h->uri = strdup(uri);
        if (!h->uri) {
                mon_host_free(h);
                return -ENOMEM;
        }
        why = libvirt_uri_invalid_reason(uri, buf, NULL);
        if (why)
                /* the broker lists such a host (down), and a read-only
                 * connection would run its programs all the same: kept, so
                 * that it is said once, and shown down, never opened */
                log_warning("Not monitoring host %s: its URI %s %s", name, uri, why);
        else {
                r = virt_new(m->event, uri, VIRT_READ_ONLY, &mon_callbacks, h, &h->virt);
                if (r < 0) {
                        mon_host_free(h);
                        return r;
                }
                log_info("Monitoring host %s (%s).", name, uri);
        }
        h->keep = true;
        h->next = m->hosts;
        m->hosts = h;
        return 0;
}

static void monitor_drop_unkept(Monitor *m) {
        for (MonHost **p = &m->hosts; *p;) {
                MonHost *h = *p;

                if (h->keep) {
                        h->keep = false;
                        p = &h->next;
                        continue;
                }
                log_info("No longer monitoring host %s (%s).", h->name, h->uri);
                *p = h->next;
                mon_host_free(h);
        }
}

static int on_host_list(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Monitor *m = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        const char *name, *uri, *cluster, *address, *state, *reason;
        uint32_t desktops, running;
        uint64_t memory, free_kib, committed;
        double cpu, score;
        int r;

        m->list_call = sd_bus_slot_unref(m->list_call);
        if (e) {
                char hostname[64] = "";

                /* no broker here: this host alone */
                log_debug("No host list from the broker (%s); monitoring %s.", e->message, m->config.libvirt_uri);
                if (gethostname(hostname, sizeof hostname - 1) < 0 || isempty(hostname))
                        snprintf(hostname, sizeof hostname, "local");
                r = monitor_keep_host(m, hostname, m->config.libvirt_uri);
                if (r >= 0)
                        monitor_drop_unkept(m);
                return 0;
        }
        r = sd_bus_message_enter_container(reply, 'a', HOST_SIGNATURE);
        while (r > 0) {
                r = sd_bus_message_read(reply, HOST_SIGNATURE, &name, &uri, &cluster, &address, &state, &reason,
                                        &desktops, &running, &memory, &free_kib, &committed, &cpu, &score);
                if (r > 0)
                        /* 0 on success: the next host all the same */
                        r = monitor_keep_host(m, name, uri) ?: 1;
        }
        if (r < 0) {
                log_warning_errno(r, "Cannot read the broker's hosts: %m");
                for (MonHost *h = m->hosts; h; h = h->next)
                        h->keep = false;
                return 0;
        }
        monitor_drop_unkept(m);
        return 0;
}

static void monitor_refresh_hosts(Monitor *m) {
        int r;

        /* Without a broker this host alone is followed, and the broker's
         * HostStateChanged brings the list back when it runs again. */
        r = ask_broker(m, "ListHosts", &m->list_call, on_host_list);
        if (r < 0)
                log_warning_errno(r, "Cannot ask the broker for its hosts: %m");
}

static int on_host_state_changed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        monitor_refresh_hosts(userdata);
        return 0;
}

static int on_refresh(sd_event_source *s, uint64_t usec, void *userdata) {
        monitor_refresh_hosts(userdata);
        (void) sd_event_source_set_time_relative(s, 60 * USEC_PER_SEC);
        return 0;
}

int monitor_start(Monitor *m) {
        int r;

        r = sd_bus_match_signal_async(m->bus, &m->host_signal, "org.vdesk.broker1", "/org/vdesk/broker1",
                                      "org.vdesk.broker1.Manager", "HostStateChanged", on_host_state_changed, NULL,
                                      m);
        if (r < 0)
                return log_error_errno(r, "Cannot follow the broker's hosts: %m");
        /* at once, then every minute (a host added while the signal was
         * missed) */
        monitor_refresh_pools(m);
        r = sd_event_add_time_relative(m->event, &m->refresh, CLOCK_MONOTONIC, 0, 0, on_refresh, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->refresh, SD_EVENT_ON);
        if (r >= 0)
                r = sd_event_add_time_relative(m->event, &m->timer, CLOCK_MONOTONIC,
                                               (uint64_t) m->config.monitor_interval_sec * USEC_PER_SEC, 0, on_timer, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->timer, SD_EVENT_ON);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the timers: %m");
        return 0;
}
