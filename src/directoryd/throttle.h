/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

/* Sign-in throttling per source, beside the lockout per account: a source
 * (the address a trusted front end names, or a caller's uid) that failed
 * max_failed sign-ins within a window is refused for a while, before any
 * password is checked and without touching any account's count, so that
 * one address guessing passwords does not lock the accounts for everyone
 * else. A success does not clear a source's count: one account an
 * attacker holds would otherwise let them guess on at others. The state
 * lives in memory only (a restart forgets it). */

/* The window is counted in this many slots: a failure counts for between
 * window - window/THROTTLE_SLOTS and window after it happened. */
#define THROTTLE_SLOTS 16
/* Sources remembered at most (about 170 bytes each). */
#define THROTTLE_ENTRIES_MAX 65536
/* A source's text: an IPv6 address with "/64", "uid 4294967295". */
#define THROTTLE_SOURCE_MAX 64

typedef struct ThrottlePolicy {
        unsigned max_failed;            /* failures that block; 0: never */
        uint64_t window_usec;
        uint64_t block_usec;
} ThrottlePolicy;

/* One source's counters, on a clock that only goes forward. */
typedef struct ThrottleState {
        uint64_t slot;                  /* the newest slot counted (now / slot length) */
        uint32_t failed[THROTTLE_SLOTS]; /* failures in each of the last slots, by slot % THROTTLE_SLOTS */
        uint64_t blocked_until;         /* 0: not blocked */
} ThrottleState;

typedef enum ThrottleVerdict {
        THROTTLE_OPEN,                  /* may try (no failure given, or counting is off) */
        THROTTLE_COUNTED,               /* the failure counted, the source stays open */
        THROTTLE_NOW_BLOCKED,           /* the failure blocked the source */
        THROTTLE_BLOCKED,               /* blocked: refuse, count nothing */
} ThrottleVerdict;

/* Decides for a source from its state and the clock (pure, so that tests
 * give it any time): failure says whether an attempt failed (counted) or
 * is only asked about. *ret_state is the state to keep; *ret_failed the
 * failures within the window, this one included (the count that blocked,
 * for THROTTLE_NOW_BLOCKED: a block starts the count again). */
ThrottleVerdict throttle_decide(const ThrottleState *s, bool failure, uint64_t now, const ThrottlePolicy *p,
                                ThrottleState *ret_state, unsigned *ret_failed);

/* Where a sign-in comes from: name for the journal, key what is counted
 * (an IPv4 address, an IPv6 address's /64, "uid N"). */
typedef struct ThrottleSource {
        char name[THROTTLE_SOURCE_MAX];
        char key[THROTTLE_SOURCE_MAX];
        bool address;                   /* a front end named it (not a caller's uid) */
} ThrottleSource;

/* The key of an account's failures from one source (a digest of both: any
 * id fits). */
void throttle_pair_key(const ThrottleSource *source, const char *id, char ret[static THROTTLE_SOURCE_MAX]);

/* A textual IPv4 or IPv6 address (inet_pton); an IPv4-mapped IPv6 address
 * is its IPv4 address. -EINVAL if s is not one. */
int throttle_source_from_address(const char *s, ThrottleSource *ret);
/* A caller that named no source: its uid. */
void throttle_source_from_uid(uid_t uid, ThrottleSource *ret);

/* The sources' states, in a hash table of at most max_entries; those that
 * hold nothing any more go first, and when it is full the oldest counting
 * one (a blocked one only if every entry is blocked). */
typedef struct Throttle Throttle;

int throttle_new(const ThrottlePolicy *p, size_t max_entries, Throttle **ret);
Throttle *throttle_free(Throttle *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Throttle *, throttle_free);

/* 0 if key may try now, else the microseconds until its block ends. */
uint64_t throttle_check(Throttle *t, const char *key, uint64_t now);
/* Counts a failure of key (nothing while it is blocked). *ret_failed as
 * throttle_decide() gives it. -ENOMEM if a new source cannot be kept. */
int throttle_fail(Throttle *t, const char *key, uint64_t now, ThrottleVerdict *ret_verdict, unsigned *ret_failed);
/* The sources remembered now. */
size_t throttle_size(const Throttle *t);
