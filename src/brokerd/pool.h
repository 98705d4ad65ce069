/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "desktop.h"
#include "manager.h"

/* Pre-started desktops: a category with PoolSize=N (directoryd's
 * SetCategoryProperties) keeps N desktops made ahead that belong to nobody
 * (account_id NULL), PoolStarted= of them booted and answering on their
 * RDP port, so that a staff member's first open of the category hands one
 * over instead of making and booting one. The pool is kept in the
 * background by a timer of the loop: at most one desktop made or started
 * per host at a time, none on a host above [Monitor] HostMemoryPercent= or
 * HostCPUPercent=. */

typedef struct PoolInfo {
        char category[64];
        char template[64];      /* "" while the category names none */
        unsigned size;          /* PoolSize= */
        unsigned started;       /* PoolStarted= */
        unsigned made;          /* its desktops that are nobody's yet */
        unsigned running;       /* ... of which running */
} PoolInfo;

/* Every category with a pool or pooled desktops left, by name. */
int pool_list(Manager *m, PoolInfo **ret, size_t *ret_n);

/* Hands a free desktop of category's pool over to account, a running one
 * if there is one: its row, its domain's vdesk metadata (live and
 * persistent) in one transaction, nothing restarted; all or nothing.
 * 1 and the desktop in *ret if one was handed over, 0 if the pool has
 * none free (the caller makes one), a negative errno with *error set (and
 * nothing changed) if the hand-over failed. */
int pool_take(Manager *m, const char *account, const char *category, uid_t actor, Desktop *ret,
              sd_bus_error *error);

/* Starts keeping the pools (a timer on m->event); pool_stop() ends it and
 * forgets the starts in flight. */
int pool_start(Manager *m);
void pool_stop(Manager *m);

/* Looks at the pools again soon (a desktop was handed over, ...). */
void pool_kick(Manager *m);
