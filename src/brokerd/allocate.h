/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "host.h"
#include "manager.h"

/* Where a new desktop goes and what it is given: its host, its address,
 * its MAC and its RDP port are chosen here and nowhere else. Each choice
 * is a pure function of the values in use (what the database holds), which
 * the unit tests drive; the *_allocate() functions read those values with
 * locking reads (SELECT ... FOR UPDATE) within the caller's transaction,
 * so that two desktops made at once cannot take one value, and call it. */

/* The lowest free value in [lo, hi], skipping skip, given the used values
 * sorted ascending. -ENOSPC if none is free. */
int allocate_lowest_free(const uint32_t *used, size_t n_used, uint32_t lo, uint32_t hi, uint32_t skip,
                         uint32_t *ret);

/* A desktop network's addresses for desktops (host byte order): first to
 * last, the gateway excepted. */
typedef struct AddressRange {
        uint32_t first;
        uint32_t last;
        uint32_t gateway;
} AddressRange;

/* The range of [Network]: -EINVAL if an address there is not one. */
int address_range_from_config(const VdeskConfig *c, AddressRange *ret);
/* Whether a and b are one range with one gateway. */
bool address_range_equal(const AddressRange *a, const AddressRange *b);

/* In the caller's transaction: an address of department network network_id
 * (taken out of its pool), or (network_id 0) of the host's desktop
 * network, whose addresses for desktops range holds (taken out of its
 * free list, made anew first if it was made for another range). -ENOSPC
 * if none is left; another negative errno is the database's (db_error()). */
int desktop_address_allocate(Manager *m, uint64_t network_id, const AddressRange *range, uint32_t *ret);
/* In the caller's transaction, before the desktop's row is deleted: its
 * address back to the free list it came from, unless the host network's
 * range no longer holds it; its RDP port alike. */
int desktop_address_release(Manager *m, uint64_t desktop_id);

/* In the caller's transaction: the lowest port of [Forward] PortMin-PortMax
 * that no desktop holds, taken out of the ports' free list (made anew first
 * if it was made for another range). -ENOSPC if none is left; another negative errno is the
 * database's. */
int desktop_port_allocate(Manager *m, uint16_t *ret);

/* The MAC of the desktop of an address: 52:54 and its four bytes, so that
 * a DHCP host entry and the domain agree without a lookup, and two
 * desktops never share one (they never share an address). */
void desktop_mac_allocate(uint32_t address, char ret[static 18]);

/* The cluster's host for a new desktop of memory_mib: the lowest score
 * among those up, not in maintenance, with the memory free. A host's
 * figures are read anew if a domain started or stopped there since they
 * were, or they are older than [Hosts] SampleSec=. *ret_reason
 * (freed by the caller) says how each host fared. NoHostAvailable if none
 * is left. */
int desktop_host_pick(Manager *m, uint64_t cluster_id, unsigned memory_mib, Host **ret, char **ret_reason,
                      sd_bus_error *error);

/* Where a new desktop of category ("" for none: [Desktop] MemoryMiB= on
 * the broker's own host's cluster) would go, and why (*ret_reason, freed
 * by the caller); nothing is made. NoSuchCategory if there is none. */
int desktop_place(Manager *m, const char *category, Host **ret, char **ret_reason, sd_bus_error *error);
