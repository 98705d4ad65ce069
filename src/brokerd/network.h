/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "db.h"
#include "manager.h"
#include "network-spec.h"

/* The catalog of department networks (MariaDB): a network with its
 * address pool is made in one transaction, deleted only when no desktop
 * and no category uses it, and assigned to categories, whose new desktops
 * then join it. */

typedef struct Network {
        uint32_t id;
        NetworkSpec spec;
        char bridge[16];
        uint32_t allocated;             /* addresses desktops hold */
} Network;

/* The libvirt network a desktop's NIC is on: the host's ([Network] Name=)
 * or "vdesk-" and the department network's name. */
void network_libvirt_name(const Manager *m, const char *network, char buf[static 80]);

int network_create(Manager *m, NetworkSpec *spec, uid_t actor, sd_bus_error *error);
/* At start-up: -EADDRINUSE, logged, if [Network] (vdesk.conf, changed
 * since, or a new default) overlaps a department network of the catalog,
 * whose creation was checked against the [Network] of its time. */
int networks_check_host_network(Manager *m);
/* The rows of a checked network: the network, its peers, its address pool
 * (one statement); within the caller's transaction. */
int network_insert(Db *db, const NetworkSpec *s, uint32_t *ret_id);
int network_delete(Manager *m, const char *name, uid_t actor, sd_bus_error *error);
int network_get(Manager *m, const char *name, Network *ret, sd_bus_error *error);
/* -ENOENT if there is none. */
int network_get_by_id(Manager *m, uint32_t id, Network *ret);
/* The network's libvirt network on this host (its bridge, gateway, MTU and
 * DHCP), defined and started unless it is; > 0 if it was not. */
int network_libvirt_ensure(Manager *m, Host *host, const Network *n, char **ret_error);
int network_list(Manager *m, Network **ret, size_t *ret_n);
/* Removes from host h the libvirt networks vdesk-NAME whose NAME the
 * catalog no longer has (deleted while h was down). */
void networks_prune_stale(Manager *m, Host *h);
/* New desktops of category join network. */
int network_assign(Manager *m, const char *network, const char *category, uid_t actor, sd_bus_error *error);
/* They join the host's desktop network again; NotLinked unless category
 * had network. */
int network_reclaim(Manager *m, const char *network, const char *category, uid_t actor, sd_bus_error *error);

/* A desktop's address in a department network, within the caller's
 * transaction: pick takes the lowest free one out of the network's free
 * list (-ENOSPC when none is left) for the desktop's row to be written
 * with; release gives a desktop's address back before its row goes. */
int network_address_pick(Db *db, uint32_t network_id, uint32_t *ret);
int network_address_release(Db *db, uint64_t desktop_id);
