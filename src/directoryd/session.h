/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "manager.h"
#include "throttle.h"

/* Staff sign-in: the account's password gives a session token (256 random
 * bits, hex), of which only the SHA-256 is stored. Failed sign-ins are
 * counted; too many lock the account for a while. */

#define SESSION_TOKEN_BYTES 32

typedef struct SignInPolicy {
        unsigned max_failed;            /* failures that lock; 0: never lock */
        uint64_t lock_usec;
} SignInPolicy;

typedef enum SignInVerdict {
        SIGNIN_OK,
        SIGNIN_WRONG_PASSWORD,
        SIGNIN_WRONG_PASSWORD_NOW_LOCKED,
        SIGNIN_LOCKED,
} SignInVerdict;

/* Decides a sign-in from the account's counters and the clock (pure, so
 * that tests give it any time): locked_until is 0 or when a lock ends.
 * *ret_failed and *ret_locked_until are the counters to store. */
SignInVerdict signin_decide(bool password_ok, unsigned failed, uint64_t locked_until, uint64_t now,
                            const SignInPolicy *p, unsigned *ret_failed, uint64_t *ret_locked_until);

/* Wall-clock microseconds; the one clock sign-in decisions use. */
uint64_t session_now(void);

/* Starts counting failed sign-ins per source ([Directory]
 * MaxFailedPerSource=, SourceWindowMinutes=, SourceBlockMinutes=). */
int session_throttle_start(Manager *m);

/* The sign-in of id from source (peer: the caller on the bus, for the
 * journal): checks at once what needs no hash (the id's form, the
 * source's block, then the account's lock), then hands the password check
 * to a worker and returns 0; done gets the token and its expiry, or the
 * error, on the loop. Negative (and error set) if it was refused at once:
 * done is then not called. A blocked source is TooManyAttempts, before
 * any database read. */
int session_sign_in(Manager *m, const char *id, const char *password, const char *peer, const ThrottleSource *source,
                    ManagerDoneFunc done, void *userdata, sd_bus_error *error);
int session_sign_out(Manager *m, const char *token, const char *peer, sd_bus_error *error);

/* The account a valid token belongs to; InvalidToken if it is unknown,
 * forged or expired. */
int session_check(Manager *m, const char *token, char ret_id[static 64], sd_bus_error *error);

/* An imported account's owner sets its first password with the one-time
 * activation code (which counts as a sign-in, lockout and the source's
 * count included); any session the account had ends. Answers as
 * session_sign_in() does. */
int session_activate(Manager *m, const char *id, const char *code, const char *new_password, const char *peer,
                     const ThrottleSource *source, ManagerDoneFunc done, void *userdata, sd_bus_error *error);

/* Staff change their own password: the token says whose, the old password
 * counts as a sign-in for the account's lockout, but not against the
 * source, which is only journaled (a token already says who tries, and
 * the portal's callers would all share its uid). Every other session of
 * the account ends; the token's stays. Answers as session_sign_in() does. */
int session_change_password(Manager *m, const char *token, const char *old_password, const char *new_password,
                            const char *peer, const ThrottleSource *source, ManagerDoneFunc done, void *userdata,
                            sd_bus_error *error);

/* Removes expired sessions now and every [Directory] SessionPurgeSec=. */
int session_purge_start(Manager *m);
