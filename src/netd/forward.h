/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "nft.h"
#include "segment.h"

/* The rules an RDP forward (nft.h's Forward) obeys, and the forwards of this
 * host as the map in the kernel holds them. */

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

/* Journals one added or removed forward; actor is the caller's uid. */
void forward_log(const Forward *f, bool added, uid_t actor);
/* Journals a forward refused by policy (forward_validate()'s -EPERM) as a
 * warning naming the desktop; a malformed one (-EINVAL) at debug level. */
void forward_log_refused(const Forward *f, int error, const char *reason, uid_t actor);

typedef struct Forwards {
        const VdeskConfig *config;
        const Segments *segments;       /* the department networks served here */
        NftContext *nft;
        char *ruleset_path;
        unsigned ruleset_version;

        /* the ports forwards_add() and forwards_remove() changed while
         * forwards_remember_changes() is on */
        bool remember;
        uint16_t *changed;
        size_t n_changed;
} Forwards;

int forwards_init(Forwards *fw, const VdeskConfig *config, const Segments *segments, const char *ruleset_path);
void forwards_done(Forwards *fw);

/* Loads the ruleset when the table is absent or carries another version.
 * Returns 1 if it (re)loaded (elements are then gone), 0 if the table was
 * adopted as it was. */
int forwards_ensure_ruleset(Forwards *fw, char **ret_error);

/* Adds n forwards in one transaction; all or nothing; journals them with
 * actor. Each is validated first (-EINVAL or -EPERM as forward_validate(),
 * *ret_index and *ret_reason say which and why; a refusal is journaled);
 * -EEXIST when a port already forwards elsewhere. A table that went away
 * (someone flushed the ruleset) is loaded again once. */
int forwards_add(Forwards *fw, const Forward *f, size_t n, uid_t actor, size_t *ret_index, const char **ret_reason);

/* Removes the forward of port and journals it with actor. With address
 * non-zero, only if it leads there (-EBUSY otherwise), so that a late
 * release cannot remove the forward the port was since given to. -ENOENT if
 * there is none. */
int forwards_remove(Forwards *fw, uint16_t port, uint32_t address, uid_t actor);

int forwards_list(Forwards *fw, Forward **ret, size_t *ret_n);

/* The forwards, as forwards_list(), and for each the TCP connections
 * through it established now (conntrack.h). */
int forwards_activity(Forwards *fw, Forward **ret, unsigned **ret_connections, size_t *ret_n);

/* Reconcile reads the running desktops while calls go on: from on until
 * off, the ports forwards_add() and forwards_remove() change are
 * remembered, and forwards_reconcile() leaves them as the calls made them. */
void forwards_remember_changes(Forwards *fw, bool on);

/* Makes the map hold exactly the desired forwards (from the running
 * desktops' domain XML) that pass forward_validate() (the others are
 * journaled as refused), except ports changed since the desired list was
 * read (forwards_remember_changes()). Returns the number of elements
 * changed. */
int forwards_reconcile(Forwards *fw, const Forward *desired, size_t n_desired);

/* Puts the configured desktop network in the sets (its subnet, its bridge)
 * and the configuration's sources and host services in theirs. */
int forwards_apply_config(Forwards *fw);
