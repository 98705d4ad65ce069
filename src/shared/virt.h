/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "macro.h"

/* A libvirt connection to one host, for brokerd and vdesk-monitord: with
 * virt-loop.c, the one place that includes libvirt. libvirt's event loop
 * runs on sd-event (virt-loop.h), so domain lifecycle events, keepalive and
 * the close callback are served by the daemon's one loop. Connections are
 * opened in a thread each, so a host that does not answer never stalls the
 * loop; a failed or lost connection is reopened with backoff. */

typedef enum VirtDomainState {
        VIRT_DOMAIN_STOPPED,
        VIRT_DOMAIN_RUNNING,
        _VIRT_DOMAIN_STATE_MAX,
        _VIRT_DOMAIN_STATE_INVALID = -EINVAL,
} VirtDomainState;

const char *virt_domain_state_to_string(VirtDomainState s);
VirtDomainState virt_domain_state_from_string(const char *s);

typedef struct Virt Virt;

typedef enum VirtStopReason {
        VIRT_STOP_NONE,                 /* it started */
        VIRT_STOP_ORDERLY,              /* shut down, destroyed, saved */
        VIRT_STOP_CRASHED,              /* QEMU died or was killed, or the guest crashed */
} VirtStopReason;

typedef struct VirtCallbacks {
        /* A domain started or stopped (by anyone: brokerd, virsh, a crash). */
        void (*lifecycle)(const char *name, VirtDomainState state, VirtStopReason reason, void *userdata);
        /* The connection is (again) open: a chance to resynchronise. */
        void (*connected)(void *userdata);
        /* An attempt to connect failed (libvirt's message); retried later. */
        void (*failed)(const char *error, void *userdata);
        /* An open connection was lost (why); reconnecting. */
        void (*disconnected)(const char *why, void *userdata);
        /* A graphics (SPICE) client of a domain got past authentication. */
        void (*graphics_authenticated)(const char *name, const char *client_address, void *userdata);
} VirtCallbacks;

enum {
        VIRT_READ_ONLY = 1 << 0,        /* virConnectOpenReadOnly; no graphics events */
};

/* Opens uri (from the loop, in a thread) and, on failure or loss, again
 * with backoff. virt_loop_register() must have run. -EINVAL for a URI
 * libvirt_uri_invalid_reason() refuses: it is never opened. */
int virt_new(sd_event *e, const char *uri, unsigned flags, const VirtCallbacks *cb, void *userdata, Virt **ret);
Virt *virt_free(Virt *v);
DEFINE_TRIVIAL_CLEANUP_FUNC(Virt *, virt_free);

const char *virt_uri(Virt *v);
/* libvirt's message for the last failed attempt, or NULL. */
const char *virt_last_error(Virt *v);

bool virt_is_connected(Virt *v);

/* Each returns -ENOTCONN when not connected, -ENOENT for an unknown domain
 * or network, -EIO with libvirt's message in *ret_error otherwise. */
int virt_domain_define(Virt *v, const char *xml, char **ret_error);
int virt_domain_undefine(Virt *v, const char *name, char **ret_error);
int virt_domain_start(Virt *v, const char *name, char **ret_error);
int virt_domain_stop(Virt *v, const char *name, bool force, char **ret_error);
int virt_domain_get_state(Virt *v, const char *name, VirtDomainState *ret);
int virt_domain_exists(Virt *v, const char *name);

/* The domain's XML, live or (inactive) as defined; never with secrets. */
int virt_domain_get_xml(Virt *v, const char *name, bool inactive, char **ret, char **ret_error);
/* Changes a device of the running domain (virDomainUpdateDeviceFlags, live
 * only): a graphics password, for one. */
int virt_domain_update_device(Virt *v, const char *name, const char *device_xml, char **ret_error);
/* Replaces the domain's vdesk metadata element (metadata.h's
 * desktop_meta_format_unprefixed()) in its definition and, while it runs,
 * in the running domain too. */
int virt_domain_set_metadata(Virt *v, const char *name, const char *xml, char **ret_error);

/* Defines the network if absent, starts it if inactive, marks it
 * autostart. Returns 1 if it did anything. */
int virt_network_ensure(Virt *v, const char *name, const char *xml, char **ret_error);
/* 1 if the network runs, 0 if it is defined but stopped, -ENOENT if there
 * is none. */
int virt_network_is_active(Virt *v, const char *name);
/* Stops and undefines the network; -ENOENT if there is none. */
int virt_network_remove(Virt *v, const char *name, char **ret_error);

/* Adds (or deletes) a DHCP host entry, live and in the persistent
 * definition. Adding an entry that is there, or deleting one that is not,
 * succeeds. */
int virt_network_dhcp_host(Virt *v, const char *network, const char *host_xml, bool add, char **ret_error);

/* ---- figures (brokerd's scheduler, vdesk-monitord) ---------------------- */

typedef struct VirtNodeInfo {
        char model[32];                 /* CPU model */
        uint64_t memory_kib;            /* total */
        unsigned cpus;                  /* active */
        unsigned mhz;
        unsigned nodes, sockets, cores, threads;
} VirtNodeInfo;

int virt_node_info(Virt *v, VirtNodeInfo *ret);
/* Whether the host's libvirt can run kvm domains (its domain capabilities
 * for virttype kvm): asked of the host itself, so that a daemon that may
 * not open /dev/kvm, or runs elsewhere, decides right. */
bool virt_kvm_usable(Virt *v);

/* The most vCPUs a kvm (or else qemu) domain may have; 0 if not known. */
unsigned virt_max_vcpus(Virt *v);
/* The host's free memory, and (from its node CPU stats) the busy and total
 * CPU time so far, in ns, for a utilisation between two reads. */
int virt_node_load(Virt *v, uint64_t *ret_free_kib, uint64_t *ret_cpu_busy_ns, uint64_t *ret_cpu_total_ns);

typedef struct VirtDomainStats {
        char name[64];
        bool running;
        unsigned vcpus;
        uint64_t cpu_time_ns;
        uint64_t memory_kib;            /* current (the balloon's, where there is one) */
        uint64_t max_memory_kib;
        uint64_t rd_bytes, wr_bytes, rd_reqs, wr_reqs;          /* all disks */
        uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets;    /* all NICs */
} VirtDomainStats;

typedef enum VirtStatsWhat {
        VIRT_STATS_LOAD,                /* state, CPU time, memory: what placement needs */
        VIRT_STATS_ALL,                 /* also vCPUs, disks, NICs (QEMU is asked for them) */
} VirtStatsWhat;

/* Every domain's figures in one call (virConnectGetAllDomainStats); with
 * running_only, those of running domains. */
int virt_all_domain_stats(Virt *v, VirtStatsWhat what, bool running_only, VirtDomainStats **ret, size_t *ret_n);
/* The same figures of the running domains one domain at a time (a call per
 * domain, as tools that do not use the bulk call do): for comparison in
 * benchmarks. */
int virt_each_domain_stats(Virt *v, VirtStatsWhat what, VirtDomainStats **ret, size_t *ret_n);

/* The host's name as libvirt reports it. */
int virt_hostname(Virt *v, char **ret);
/* 1 if the domain carries vdesk's desktop metadata, 0 if not. */
int virt_domain_is_desktop(Virt *v, const char *name);

/* The names of the host's libvirt networks (defined or running),
 * NULL-terminated. */
int virt_network_names(Virt *v, char ***ret);
