/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

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

int network_create(Manager *m, NetworkSpec *spec, uid_t actor, sd_bus_error *error);
int network_delete(Manager *m, const char *name, uid_t actor, sd_bus_error *error);
int network_get(Manager *m, const char *name, Network *ret, sd_bus_error *error);
int network_list(Manager *m, Network **ret, size_t *ret_n);
/* New desktops of category join network. */
int network_assign(Manager *m, const char *network, const char *category, uid_t actor, sd_bus_error *error);
/* They join the host's desktop network again; NotLinked unless category
 * had network. */
int network_reclaim(Manager *m, const char *network, const char *category, uid_t actor, sd_bus_error *error);
