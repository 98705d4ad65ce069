/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "nft.h"

/* The one module of netd that reads the kernel's connection tracking
 * (ctnetlink through libmnl).
 *
 * Whether a desktop is in use is read here rather than from counters or a
 * dynamic set with timeouts in the ruleset: an RDP session that is open
 * but quiet (nobody at the keyboard, no screen change) sends no packet for
 * long stretches, so anything fed by packets would call it idle, while its
 * conntrack entry stays ESTABLISHED for as long as the connection is open
 * (nf_conntrack_tcp_timeout_established, five days). The table is the
 * kernel's own, so reading it costs no rule and no per-packet work; the
 * dump asks the kernel for DNATed entries alone (CTA_STATUS, where the
 * kernel filters by it: 6.x), one netlink dump for all forwards. */

/* Counts, for each of the n forwards, the TCP connections through it that
 * are established now: their original destination port is the forward's
 * host port and their reply comes from its guest address and port (so
 * that a port just given to another desktop does not count the old one's
 * connections). *ret_counts is malloc'ed, n entries. */
int conntrack_count_forwards(const Forward *f, size_t n, unsigned **ret_counts);
