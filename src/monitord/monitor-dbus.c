/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stddef.h>

#include "bus-api.h"
#include "monitor-dbus.h"
#include "monitor.h"
#include "polkit.h"

/* org.vdesk.monitor1.Manager: read-only figures. The figures name staff's
 * desktops and hosts' load, so the methods ask polkit for
 * org.vdesk.monitor1.read (as brokerd's listings ask for
 * org.vdesk.broker1.read); the properties, which an sd-bus getter cannot
 * hold back for polkit's answer, stay root's by the bus policy
 * (dbus/org.vdesk.monitor1.conf). */

static int append_hosts(sd_bus_message *reply, Monitor *m) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', HOST_STATS_SIGNATURE);
        for (MonHost *h = m->hosts; r >= 0 && h; h = h->next)
                r = sd_bus_message_append(reply, HOST_STATS_SIGNATURE, h->name, h->uri, h->up ? "up" : "down",
                                          strempty(h->hostname), h->node.model, h->node.cpus, h->node.sockets,
                                          h->node.cores, h->node.threads, h->node.mhz, h->max_vcpus,
                                          h->node.memory_kib, h->up ? h->free_kib : 0, h->up ? h->cpu : 0.0,
                                          h->up ? (uint32_t) mon_host_running_desktops(h) : 0);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int append_desktops(sd_bus_message *reply, Monitor *m) {
        uint64_t now = now_realtime_usec();
        int r;

        r = sd_bus_message_open_container(reply, 'a', DESKTOP_STATS_SIGNATURE);
        for (MonHost *h = m->hosts; r >= 0 && h; h = h->next)
                for (size_t i = 0; r >= 0 && h->up && i < h->n_domains; i++) {
                        const MonDomain *d = &h->domains[i];

                        if (!d->desktop)
                                continue;
                        r = sd_bus_message_append(reply, DESKTOP_STATS_SIGNATURE, h->name, d->st.name,
                                                  d->st.running ? "running" : "stopped", d->st.vcpus,
                                                  d->st.memory_kib, d->st.max_memory_kib, d->cpu, d->rd_bps,
                                                  d->wr_bps, d->rd_iops, d->wr_iops, d->rx_bps, d->tx_bps,
                                                  d->st.running && d->started_usec && now > d->started_usec
                                                          ? (now - d->started_usec) / USEC_PER_SEC : 0);
                }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int reply_snapshot(Monitor *m, sd_bus_message *msg) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "t", m->sampled_usec);
        if (r >= 0)
                r = append_hosts(reply, m);
        if (r >= 0)
                r = append_desktops(reply, m);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

POLKIT_METHOD(get_snapshot, Monitor, MONITORD_ACTION_READ) {
        return reply_snapshot(m, msg);
}

/* Samples every host now, then answers as GetSnapshot. It changes nothing
 * but the monitor's own figures: reading's action. */
POLKIT_METHOD(sample, Monitor, MONITORD_ACTION_READ) {
        monitor_sample(m);
        return reply_snapshot(m, msg);
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Monitor *m = userdata;

        if (streq(property, "Hosts"))
                return append_hosts(reply, m);
        if (streq(property, "Desktops"))
                return append_desktops(reply, m);
        return -ENOENT;
}

static const sd_bus_vtable monitor_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("IntervalSec", "u", NULL, offsetof(Monitor, config.monitor_interval_sec),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("HostMemoryPercent", "u", NULL, offsetof(Monitor, config.monitor_memory_percent),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("HostCPUPercent", "u", NULL, offsetof(Monitor, config.monitor_cpu_percent),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ThresholdSec", "u", NULL, offsetof(Monitor, config.monitor_threshold_sec),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SampledAt", "t", NULL, offsetof(Monitor, sampled_usec), 0),
        SD_BUS_PROPERTY("Hosts", "a" HOST_STATS_SIGNATURE, property_get, 0, 0),
        SD_BUS_PROPERTY("Desktops", "a" DESKTOP_STATS_SIGNATURE, property_get, 0, 0),
        SD_BUS_METHOD_WITH_ARGS("GetSnapshot",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("t", sampled_at, "a" HOST_STATS_SIGNATURE, hosts,
                                              "a" DESKTOP_STATS_SIGNATURE, desktops),
                                method_get_snapshot, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Sample",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("t", sampled_at, "a" HOST_STATS_SIGNATURE, hosts,
                                              "a" DESKTOP_STATS_SIGNATURE, desktops),
                                method_sample, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("ThresholdCrossed",
                                SD_BUS_ARGS("s", host, "s", metric, "d", percent, "u", threshold),
                                0),
        SD_BUS_SIGNAL_WITH_ARGS("DesktopCrashed",
                                SD_BUS_ARGS("s", host, "s", desktop),
                                0),
        SD_BUS_VTABLE_END
};

int monitor_add_bus_objects(Monitor *m) {
        return sd_bus_add_object_vtable(m->bus, NULL, MONITORD_OBJECT_PATH, MONITORD_INTERFACE, monitor_vtable, m);
}
