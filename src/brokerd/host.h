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

/* How an AddHost ends: h recorded and up (e NULL), or refused with e (h is
 * then freed right after). */
typedef void (*HostAddDone)(Host *h, const sd_bus_error *e, void *userdata);

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
        bool network_outdated;          /* its desktop network waits for its guests to stop to be readdressed */
        char reason[256];               /* why it is down */
        Virt *virt;                     /* NULL: its URI is refused (libvirt-uri.h), never connected */
        HostLoad load;
        HostAddDone add_done;           /* an AddHost waiting for the first answer */
        void *add_userdata;
        sd_event_source *add_timeout;
        uid_t add_actor;
        Host *next;
};

/* Reads the hosts from the database and starts connecting to each; the
 * broker's own ([Libvirt] URI=) is registered on first start, in cluster
 * "default", and takes the desktops that have no host yet. */
int hosts_start(Manager *m);
void hosts_free(Manager *m);

/* Whether desktops on host h are kvm domains: [Desktop] Accelerator=, and
 * for "auto" what h's libvirt can run (asked when h connects). */
bool host_use_kvm(const Host *h);

/* The host's desktop network ([Network] Name=): defined and started if
 * missing; defined anew and restarted if it is defined for another
 * subnet (a host set up before the configured or default one changed),
 * as soon as no guest runs on it. */
void host_network_ensure(Host *h);

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

/* Starts adding a host: connects to it in the background and, at its
 * first answer, records it (the row, the journal, the object) and calls
 * done; or calls done with HostUnreachable when it fails or does not answer
 * within [Hosts] ConnectTimeoutSec=. Refuses at once (HostExists, ...) with
 * *error. */
int host_add(Manager *m, const char *name, const char *uri, uint64_t cluster_id, uint32_t address, uid_t actor,
             HostAddDone done, void *userdata, sd_bus_error *error);
/* Removes a host no desktop is defined on (HostInUse otherwise; the
 * broker's own host is never removed). */
int host_remove(Manager *m, const char *name, uid_t actor, sd_bus_error *error);
int host_set_maintenance(Manager *m, const char *name, bool on, uid_t actor, sd_bus_error *error);
/* The host called name, or NoSuchHost in *error. */
Host *host_get(Manager *m, const char *name, sd_bus_error *error);
/* How many desktops are defined on h. */
int host_desktop_count(Manager *m, const Host *h, uint32_t *ret);
/* The hosts by name, for listings (an array of n pointers, freed by the
 * caller). */
int hosts_sorted(Manager *m, Host ***ret, size_t *ret_n);

/* A host whose URI is refused gets no connection (h->virt NULL) and the
 * reason; it stays down. */
int host_new(Manager *m, uint64_t id, const char *name, const char *uri, uint64_t cluster_id, uint32_t address,
             bool maintenance, bool recorded_up, Host **ret);
Host *host_free(Host *h);
