/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "conf.h"
#include "macro.h"
#include "virt.h"

/* vdesk-monitord: every host's and desktop's figures, read through a
 * read-only libvirt connection per host every [Monitor] IntervalSec=: the
 * host's node info, memory and CPU stats, and all its domains in one bulk
 * call (virConnectGetAllDomainStats). Rates are the difference between two
 * samples. The hosts are the broker's (ListHosts, again on each
 * HostStateChanged); without a broker, this host's [Libvirt] URI=. */

#define MONITORD_BUS_NAME "org.vdesk.monitor1"
#define MONITORD_OBJECT_PATH "/org/vdesk/monitor1"
#define MONITORD_INTERFACE "org.vdesk.monitor1.Manager"
/* polkit's action for the figures (policy/org.vdesk.monitor1.policy) */
#define MONITORD_ACTION_READ "org.vdesk.monitor1.read"

typedef struct Monitor Monitor;

/* One domain's figures; the rates are per second over the last interval. */
typedef struct MonDomain {
        VirtDomainStats st;
        bool desktop;                   /* carries vdesk's metadata */
        bool seen;                      /* in the last sample */
        uint64_t sampled_usec;          /* CLOCK_MONOTONIC */
        uint64_t started_usec;          /* CLOCK_REALTIME; 0 if not known */
        double cpu;                     /* share of its vCPUs, 0..1 */
        double rd_bps, wr_bps, rd_iops, wr_iops, rx_bps, tx_bps;
} MonDomain;

typedef struct MonHost {
        Monitor *monitor;
        char name[64];
        char *uri;
        char *hostname;
        Virt *virt;                     /* NULL: its URI is refused (libvirt-uri.h) */
        bool up;
        bool have_node;
        VirtNodeInfo node;
        unsigned max_vcpus;
        uint64_t free_kib;
        double cpu;                     /* the node's CPU utilisation, 0..1 */
        uint64_t cpu_busy_ns, cpu_total_ns;
        MonDomain *domains;
        size_t n_domains;
        uint64_t memory_over_usec, cpu_over_usec;       /* since when above, 0 if not */
        bool memory_alerted, cpu_alerted;
        bool keep;                      /* still one of the broker's */
        struct MonHost *next;
} MonHost;

/* A category's pool as the broker's ListPools said it last. */
typedef struct MonPool {
        char category[64];
        unsigned size, started, made, running;
} MonPool;

struct Monitor {
        sd_event *event;
        sd_bus *bus;
        VdeskConfig config;
        MonHost *hosts;
        sd_event_source *timer;
        sd_event_source *refresh;       /* re-reads the broker's hosts */
        sd_bus_slot *host_signal;
        sd_bus_slot *list_call;
        sd_bus_slot *pool_call;         /* ListPools in flight */
        MonPool *pools;
        size_t n_pools;
        uint64_t sampled_usec;          /* CLOCK_REALTIME of the last sample */
        sd_event_source *metrics_listener;
        sd_event_source *metrics_retry; /* listens again after accept4() ran out of descriptors */
        struct MetricsClient *metrics_clients;
        unsigned n_metrics_clients;
        bool metrics_accept_failing;    /* warned already */
};

int monitor_new(Monitor **ret);
Monitor *monitor_free(Monitor *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Monitor *, monitor_free);

/* Starts following the broker's hosts and sampling. */
int monitor_start(Monitor *m);

/* Closes every host's connection (before libvirt's loop goes). */
void monitor_close_hosts(Monitor *m);

/* Reads every host that is up now. */
void monitor_sample(Monitor *m);

/* The domains of h that are desktops (or all, with all). */
size_t mon_host_running_desktops(const MonHost *h);

