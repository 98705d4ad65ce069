/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "network-spec.h"

/* An RDP forward: TCP to this host's port goes to address:guest_port. In the
 * kernel it is one element of the map `inet vdesk rdp4`, its comment naming
 * the desktop. netd keeps no copy: the map is the state. */
typedef struct Forward {
        uint16_t port;
        uint32_t address;       /* host byte order */
        uint16_t guest_port;
        char desktop[64];
        char account[64];       /* for the journal only; the map keeps no account */
} Forward;

/* A department network this host serves: its bridge and what EnsureNetwork
 * (or reconcile) was given, so that the segment goes with the bridge. */
typedef struct ServedNetwork {
        char bridge[16];
        NetworkSpec spec;
} ServedNetwork;

/* Checks one forward against the configuration and the networks served
 * here. Malformed (a port outside the range, an address no guest can have,
 * a bad name): -EINVAL. Refused by policy, because a crafted domain could
 * otherwise forward a port of this host anywhere: an address outside the
 * desktop networks (the host's, [Network] Gateway=/Prefix=, and the
 * department networks served) or a guest port not in [Forward]
 * AllowedGuestPorts=: -EPERM. Either way a static reason naming the field
 * goes to *ret_reason. */
int forward_validate(const Forward *f, const VdeskConfig *c, const ServedNetwork *served, size_t n_served,
                     const char **ret_reason);

typedef struct NftContext NftContext;

/* The forwards of this host, as the map in the kernel holds them. */
typedef struct Forwards {
        const VdeskConfig *config;
        /* the department networks served here (the manager's list) */
        const ServedNetwork *const *served;
        const size_t *n_served;
        NftContext *nft;
        char *ruleset_path;
        unsigned ruleset_version;
} Forwards;

int forwards_init(Forwards *fw, const VdeskConfig *config, const ServedNetwork *const *served,
                  const size_t *n_served, const char *ruleset_path);
void forwards_done(Forwards *fw);

/* Loads the ruleset when the table is absent or carries another version.
 * Returns 1 if it (re)loaded (elements are then gone), 0 if the table was
 * adopted as it was. */
int forwards_ensure_ruleset(Forwards *fw, char **ret_error);

/* Adds n forwards in one transaction; all or nothing. Each is validated
 * first (-EINVAL or -EPERM as forward_validate(), *ret_index and
 * *ret_reason say which and why); -EEXIST when a port already forwards
 * elsewhere. */
int forwards_add(Forwards *fw, const Forward *f, size_t n, size_t *ret_index, const char **ret_reason);

/* Removes the forward of port. With address non-zero, only if it leads
 * there (-EBUSY otherwise), so that a late release cannot remove the
 * forward the port was since given to. -ENOENT if there is none. The removed
 * forward goes to *ret_removed if given. */
int forwards_remove(Forwards *fw, uint16_t port, uint32_t address, Forward *ret_removed);

int forwards_list(Forwards *fw, Forward **ret, size_t *ret_n);

/* Called for each desired forward that reconcile refuses, with the reason. */
typedef void (*ForwardRefusedFunc)(const Forward *f, int error, const char *reason);

/* Makes the map hold exactly the desired forwards (from the running
 * desktops' domain XML) that pass forward_validate(), except ports in keep
 * (added since the desired list was read). Returns the number of elements
 * changed. */
int forwards_reconcile(Forwards *fw, const Forward *desired, size_t n_desired,
                       const uint16_t *keep, size_t n_keep, ForwardRefusedFunc refused);

/* Puts the configured desktop network in the sets (its subnet, its bridge)
 * and the configuration's sources and host services in theirs. */
int forwards_apply_config(Forwards *fw);
