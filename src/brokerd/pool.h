/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "desktop.h"
#include "desktop-queue.h"
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
 * if there is one, nothing restarted: its row is claimed for account on
 * the loop (one transaction, SKIP LOCKED: two opens never get one
 * desktop), then its domain's vdesk metadata (live and persistent) is
 * written off the loop (desktop-queue.h); if that fails, the claim is
 * undone, and done gets the error. 1 if the hand-over was queued (done
 * later: r 1 and the desktop's name), 0 if the pool has none free (done
 * is not called: the caller makes one), < 0 if the claim failed (done is
 * not called, nothing changed). */
int pool_take_async(Manager *m, const char *account, const char *category, uid_t actor, DesktopDoneFunc done,
                    void *userdata);

/* Starts keeping the pools (a timer on m->event); pool_stop() ends it and
 * forgets the starts in flight. */
int pool_start(Manager *m);
void pool_stop(Manager *m);

/* Looks at the pools again soon (a desktop was handed over, ...). */
void pool_kick(Manager *m);
