/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "manager.h"

/* Idle desktops stopped: a running desktop of a category with
 * IdleStopMinutes=M that had no RDP connection through its forward for M
 * minutes is shut down as Desktop.Stop(false) does, so that desktops do not
 * hold memory all night. Every [Broker] IdleCheckSec= the broker asks
 * vdesk-netd which forwards have connections open (ListForwardActivity,
 * the kernel's connection tracking: an open RDP session that sends nothing
 * still counts) and remembers when it last saw each desktop in use.
 *
 * Only desktops on the broker's own host are looked at: the forwards of
 * another host are that host's netd's, on that host's bus. Desktops
 * without an account (a category's pool) are left to the pool. */

/* When a desktop counts as idle since: its last check seen connected, its
 * start, or the broker's own start (a connection closed before the broker
 * started is not known to it), whichever came last. All µs since the epoch. */
uint64_t idle_since(uint64_t started_usec, uint64_t seen_usec, uint64_t broker_start_usec);

/* Whether a desktop idle since since_usec is due to stop at now_usec, after
 * minutes (0: never). */
bool idle_due(uint64_t since_usec, uint64_t now_usec, unsigned minutes);

/* Starts the timer; nothing is stopped before the first check's interval. */
/* The desktop was opened (or handed over) now: its idle time counts from
 * here, before its client had the time to connect. */
void idle_touch(Manager *m, const char *name);

int idle_check_start(Manager *m);
void idle_check_stop(Manager *m);
