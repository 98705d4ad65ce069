/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "manager.h"

/* What a category places its new desktops into, by reference: its
 * department network or its cluster. */
typedef enum CategoryLink {
        CATEGORY_NETWORK,
        CATEGORY_CLUSTER,
} CategoryLink;

/* Points the category's link at id (the network or cluster called name)
 * to assign, or clears it if it points there (NotLinked if it does not).
 * NoSuchCategory if there is none. */
int category_set_link(Manager *m, CategoryLink link, uint64_t id, const char *name, const char *category, bool assign,
                      sd_bus_error *error);
