/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "manager.h"

/* Clusters: groups of hosts with a capacity of desktops; a category's
 * new desktops go to its cluster, else to the broker's own host's. */

#define CLUSTER_CAPACITY_MAX 1000000u

typedef struct Cluster {
        uint64_t id;
        char name[64];
        uint32_t capacity;
        uint32_t hosts;
        uint32_t desktops;
} Cluster;

/* The cluster's id, or NoSuchCluster in *error. */
int cluster_lookup(Manager *m, const char *name, uint64_t *ret, sd_bus_error *error);
/* The cluster's name ("" if there is none) in buf. */
const char *cluster_name(Manager *m, uint64_t id, char buf[static 64]);

int cluster_create(Manager *m, const char *name, uint32_t capacity, uid_t actor, sd_bus_error *error);
/* Refused (ClusterInUse) while a host or a category refers to it. */
int cluster_delete(Manager *m, const char *name, uid_t actor, sd_bus_error *error);
/* By name. */
int cluster_list(Manager *m, Cluster **ret, size_t *ret_n);
int cluster_get(Manager *m, const char *name, Cluster *ret, sd_bus_error *error);
/* New desktops of category go to the cluster (assign), or no longer. */
int cluster_link(Manager *m, const char *cluster, const char *category, bool assign, uid_t actor,
                 sd_bus_error *error);

/* In the caller's transaction: locks the cluster's row and fails with
 * ClusterFull if it holds its capacity of desktops already (the caller
 * rolls back). */
int cluster_reserve(Manager *m, uint64_t cluster_id, sd_bus_error *error);

/* The cluster new desktops of a category go to (its own, else the broker's
 * own host's). */
int cluster_for_category(Manager *m, uint64_t category_id, uint64_t *ret);
