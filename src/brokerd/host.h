/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "macro.h"
#include "virt.h"

/* Hosts and clusters: the broker keeps one libvirt connection per host
 * (keepalive, close callback, reconnect with backoff; opened in a thread,
 * so a host that does not answer never stalls the broker), records each
 * host's state in the database and the journal, and places new desktops
 * on the least-loaded host of their cluster. */

typedef struct Manager Manager;

/* What the scheduler last read of a host. */
typedef struct HostLoad {
        bool valid;
        bool stale;                     /* a domain started or stopped since */
        uint64_t sampled_usec;
        VirtNodeInfo node;
        uint64_t free_kib;
        uint64_t committed_kib;         /* the running domains' current memory */
        unsigned running;
        double cpu;                     /* the domains' CPU use, share of the host's CPUs, 0..1 */
        double score;                   /* committed_kib / node.memory_kib + HOST_CPU_WEIGHT * cpu */
        /* the previous sample's domain CPU times, for cpu */
        char (*names)[64];
        uint64_t *cpu_ns;
        size_t n;
} HostLoad;

/* The weight of the CPU term of a host's load score. */
#define HOST_CPU_WEIGHT 1.0

typedef struct Host Host;
struct Host {
        Manager *manager;
        uint64_t id;
        char name[64];
        char *uri;
        uint64_t cluster_id;
        uint32_t address;               /* where staff reach its forwards; 0: the broker's public address */
        bool maintenance;
        bool up;                        /* connected */
        bool recorded;                  /* state in the database is up */
        bool state_known;               /* a first attempt has ended */
        bool kvm;                       /* its libvirt runs kvm domains */
        char reason[256];               /* why it is down */
        Virt *virt;                     /* NULL: its URI is refused (libvirt-uri.h), never connected */
        HostLoad load;
        sd_bus_message *adding;         /* an AddHost waiting for the first answer */
        sd_event_source *add_timeout;
        uid_t add_actor;
        Host *next;
};

/* Reads the hosts from the database and starts connecting to each; the
 * broker's own ([Libvirt] URI=) is registered on first start, in cluster
 * "default", and takes the desktops that have no host yet. */
int hosts_start(Manager *m);
void hosts_free(Manager *m);

/* What ListHosts and HostStateChanged say of h: "down" while it cannot be
 * reached (in maintenance or not), else "maintenance" or "up". */
const char *host_state_name(const Host *h);

Host *host_by_id(Manager *m, uint64_t id);
Host *host_by_name(Manager *m, const char *name);

/* The host a desktop lives on if it is connected, else NULL with
 * HostDown (or NoSuchHost) in *error. */
Host *host_for_desktop(Manager *m, uint64_t host_id, const char *desktop, sd_bus_error *error);

/* The address the host's forwards are reached on (host byte order). */
int host_public_address(Host *h, uint32_t *ret);

/* Reads the host's figures anew (memory, the domains' memory and CPU). */
int host_sample(Host *h);

/* In the caller's transaction: locks the cluster's row and fails with
 * ClusterFull if it holds its capacity of desktops already (the caller
 * rolls back). */
int cluster_reserve(Manager *m, uint64_t cluster_id, sd_bus_error *error);

/* The cluster new desktops of a category go to (its own, else the broker's
 * own host's). */
int cluster_for_category(Manager *m, uint64_t category_id, uint64_t *ret);

/* Between host.c and host-dbus.c. A host whose URI is refused gets no
 * connection (h->virt NULL) and the reason; it stays down. */
int host_new(Manager *m, uint64_t id, const char *name, const char *uri, uint64_t cluster_id, uint32_t address,
             bool maintenance, bool recorded_up, Host **ret);
Host *host_free(Host *h);
void host_unlink(Host **list, Host *h);
/* Ends a pending AddHost: recorded and answered (error_name NULL), or
 * refused with the error and freed. */
void add_finish(Host *h, const char *error_name, const char *format, ...) _printf_(3, 4);

/* The D-Bus methods (host-dbus.c). */
int method_create_cluster(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_delete_cluster(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_list_clusters(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_add_host(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_remove_host(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_list_hosts(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_get_host(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_set_host_maintenance(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_category_cluster(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_place_desktop(sd_bus_message *msg, void *userdata, sd_bus_error *error);
