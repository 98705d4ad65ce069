/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <time.h>

#include "account.h"
#include "activation.h"
#include "bus-error.h"
#include "log.h"
#include "password.h"
#include "session.h"
#include "sha256.h"
#include "util.h"

SignInVerdict signin_decide(bool password_ok, unsigned failed, uint64_t locked_until, uint64_t now,
                            const SignInPolicy *p, unsigned *ret_failed, uint64_t *ret_locked_until) {
        if (locked_until > now) {
                *ret_failed = failed;
                *ret_locked_until = locked_until;
                return SIGNIN_LOCKED;
        }
        if (password_ok) {
                *ret_failed = 0;
                *ret_locked_until = 0;
                return SIGNIN_OK;
        }
        /* A lock that ran out starts the count again. */
        if (locked_until != 0)
                failed = 0;
        failed++;
        if (p->max_failed > 0 && failed >= p->max_failed) {
                *ret_failed = failed;
                *ret_locked_until = now + p->lock_usec;
                return SIGNIN_WRONG_PASSWORD_NOW_LOCKED;
        }
        *ret_failed = failed;
        *ret_locked_until = 0;
        return SIGNIN_WRONG_PASSWORD;
}

uint64_t session_now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

typedef struct Credentials {
        uint64_t account_id;
        char *hash;
        unsigned failed;
        uint64_t locked_until;
        char activation[SHA256_HEX_SIZE];       /* "" if none, or expired */
        bool found;
} Credentials;

static int credentials_row(char *const *c, unsigned n, void *userdata) {
        Credentials *cr = userdata;

        cr->found = true;
        cr->account_id = strtoull(c[0], NULL, 10);
        cr->hash = c[1] ? strdup(c[1]) : NULL;
        cr->failed = (unsigned) strtoul(c[2], NULL, 10);
        cr->locked_until = c[3] ? strtoull(c[3], NULL, 10) : 0;
        snprintf(cr->activation, sizeof cr->activation, "%s", c[4] ? c[4] : "");
        return c[1] && !cr->hash ? -ENOMEM : 0;
}

static void log_failure(const char *id, const char *peer, const char *why) {
        log_event(LOG_NOTICE, MID_SIGNIN_FAILED,
                  "VDESK_ACCOUNT=%s", id,
                  "VDESK_PEER=%s", peer,
                  "VDESK_REASON=%s", why,
                  "MESSAGE=Sign-in of %s from %s failed: %s", id, peer, why);
}

/* What proves who the caller is: the password, or (once) the activation
 * code of an imported account. */
typedef enum Proof {
        PROOF_PASSWORD,
        PROOF_ACTIVATION_CODE,
} Proof;

static bool activation_matches(const char *code, const char *digest) {
        char d[SHA256_HEX_SIZE];

        if (isempty(digest) || activation_code_digest(code, d) < 0)
                return false;
        return digest_equal(d, digest);
}

/* Checks id's password (or activation code) under the lockout rules in a
 * transaction of its own, which it leaves open on success for the caller
 * to add to and commit. On failure the failure counters are committed
 * (they are part of the answer) and nothing else. */
static int authenticate_locked(Manager *m, const char *id, Proof proof, const char *secret, const char *peer,
                               uint64_t *ret_account_id, sd_bus_error *error) {
        SignInPolicy policy = {
                .max_failed = m->config.max_failed_signins,
                .lock_usec = (uint64_t) m->config.lock_minutes * 60 * USEC_PER_SEC,
        };
        Credentials cr = {};
        uint64_t now = session_now(), locked_until;
        unsigned failed;
        SignInVerdict v;
        int ok, r;

        r = bus_error_check_name(error, "id", id);
        if (r < 0)
                return r;

        r = db_exec(m->db,
                    "SELECT id, password_hash, failed_signins, "
                    "CAST(UNIX_TIMESTAMP(locked_until) * 1000000 AS UNSIGNED), "
                    "IF(activation_expires IS NULL OR activation_expires > FROM_UNIXTIME(? / 1000000), "
                    "activation_hash, NULL) FROM accounts WHERE name = ? FOR UPDATE",
                    (DbValue[]) { DBV_UINT(now), DBV_STR(id) }, 2, credentials_row, &cr, NULL);
        if (r < 0) {
                free(cr.hash);
                return db_bus_error(m->db, r, error);
        }
        if (!cr.found || (proof == PROOF_PASSWORD && !cr.hash) ||
            (proof == PROOF_ACTIVATION_CODE && isempty(cr.activation))) {
                _cleanup_(freep) char *dummy = NULL;

                /* As slow as a real check, so that timing does not tell
                 * which ids exist; the same error either way. */
                if (proof == PROOF_PASSWORD)
                        (void) password_hash(secret, m->config.yescrypt_cost, &dummy);
                free(cr.hash);
                log_failure(id, peer, !cr.found ? "no such account" :
                                      proof == PROOF_PASSWORD ? "no password set" : "no activation code pending");
                return bus_error_setf(error, VDESK_ERROR_AUTHENTICATION_FAILED,
                                      proof == PROOF_PASSWORD ? "Wrong id or password" : "Wrong id or activation code");
        }

        if (cr.locked_until > now)
                ok = 0;
        else if (proof == PROOF_PASSWORD)
                ok = password_verify(secret, cr.hash);
        else
                ok = activation_matches(secret, cr.activation);
        free(cr.hash);
        v = signin_decide(ok > 0, cr.failed, cr.locked_until, now, &policy, &failed, &locked_until);
        if (v != SIGNIN_LOCKED) {
                r = db_exec(m->db,
                            "UPDATE accounts SET failed_signins = ?, locked_until = IF(? = 0, NULL, FROM_UNIXTIME(? / 1000000)) "
                            "WHERE id = ?",
                            (DbValue[]) { DBV_UINT(failed), DBV_UINT(locked_until), DBV_UINT(locked_until),
                                          DBV_UINT(cr.account_id) }, 4, NULL, NULL, NULL);
                if (r < 0)
                        return db_bus_error(m->db, r, error);
        }
        switch (v) {
        case SIGNIN_OK:
                *ret_account_id = cr.account_id;
                return 0;
        case SIGNIN_WRONG_PASSWORD:
                log_failure(id, peer, proof == PROOF_PASSWORD ? "wrong password" : "wrong activation code");
                return bus_error_setf(error, VDESK_ERROR_AUTHENTICATION_FAILED,
                                      proof == PROOF_PASSWORD ? "Wrong id or password" : "Wrong id or activation code");
        case SIGNIN_WRONG_PASSWORD_NOW_LOCKED:
                log_failure(id, peer, proof == PROOF_PASSWORD ? "wrong password" : "wrong activation code");
                log_event(LOG_WARNING, MID_ACCOUNT_LOCKED,
                          "VDESK_ACCOUNT=%s", id,
                          "VDESK_PEER=%s", peer,
                          "VDESK_FAILED_COUNT=%u", failed,
                          "VDESK_LOCK_MINUTES=%u", m->config.lock_minutes,
                          "MESSAGE=Account %s locked for %u minutes after %u failed sign-ins (last from %s)",
                          id, m->config.lock_minutes, failed, peer);
                return bus_error_setf(error, VDESK_ERROR_ACCOUNT_LOCKED,
                                      "Wrong id or password; the account is now locked for %u minutes",
                                      m->config.lock_minutes);
        case SIGNIN_LOCKED:
        default:
                log_failure(id, peer, "account locked");
                return bus_error_setf(error, VDESK_ERROR_ACCOUNT_LOCKED, "The account is locked for another %llu s",
                                      (unsigned long long) ((locked_until - now) / USEC_PER_SEC + 1));
        }
}

static int authenticate(Manager *m, const char *id, Proof proof, const char *secret, const char *peer,
                        uint64_t *ret_account_id, sd_bus_error *error) {
        int r;

        r = db_begin(m->db);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = authenticate_locked(m, id, proof, secret, peer, ret_account_id, error);
        if (r < 0) {
                if (sd_bus_error_has_names(error, VDESK_ERROR_AUTHENTICATION_FAILED, VDESK_ERROR_ACCOUNT_LOCKED))
                        (void) db_commit(m->db);
                else
                        db_rollback(m->db);
        }
        return r;
}

/* What the database keeps of a token: its SHA-256, in hex. */
static void token_digest(const char *token, char ret[static SHA256_HEX_SIZE]) {
        sha256_hex(token, strlen(token), ret);
}

int session_sign_in(Manager *m, const char *id, const char *password, const char *peer,
                    char **ret_token, uint64_t *ret_expires_usec, sd_bus_error *error) {
        uint8_t raw[SESSION_TOKEN_BYTES];
        char token[2 * SESSION_TOKEN_BYTES + 1], digest[SHA256_HEX_SIZE];
        uint64_t account_id = 0, expires;
        int r;

        r = authenticate(m, id, PROOF_PASSWORD, password, peer, &account_id, error);
        if (r < 0)
                return r;

        if (random_bytes(raw, sizeof raw) < 0) {
                db_rollback(m->db);
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "No random bytes for a token");
        }
        for (size_t i = 0; i < sizeof raw; i++)
                snprintf(token + 2 * i, 3, "%02x", raw[i]);
        explicit_bzero(raw, sizeof raw);
        token_digest(token, digest);
        expires = session_now() + (uint64_t) m->config.session_hours * 3600 * USEC_PER_SEC;

        r = db_exec(m->db, "INSERT INTO sessions (token_hash, account_id, peer, expires_at) "
                           "VALUES (?, ?, ?, FROM_UNIXTIME(? / 1000000))",
                    (DbValue[]) { DBV_STR(digest), DBV_UINT(account_id), DBV_STR(peer), DBV_UINT(expires) }, 4,
                    NULL, NULL, NULL);
        /* The account's sessions that ran out go as a new one comes. */
        if (r >= 0)
                r = db_exec(m->db, "DELETE FROM sessions WHERE account_id = ? AND expires_at <= FROM_UNIXTIME(? / 1000000)",
                            (DbValue[]) { DBV_UINT(account_id), DBV_UINT(session_now()) }, 2, NULL, NULL, NULL);
        if (r >= 0)
                r = db_commit(m->db);
        if (r < 0) {
                explicit_bzero(token, sizeof token);
                return db_bus_error(m->db, r, error);
        }

        log_event(LOG_INFO, MID_SIGNED_IN,
                  "VDESK_ACCOUNT=%s", id,
                  "VDESK_PEER=%s", peer,
                  "MESSAGE=%s signed in from %s", id, peer);
        *ret_token = strdup(token);
        explicit_bzero(token, sizeof token);
        *ret_expires_usec = expires;
        return *ret_token ? 0 : -ENOMEM;
}

/* A token is 64 lower-case hex digits; anything else is not one of ours. */
static bool token_is_wellformed(const char *token) {
        if (strlen(token) != 2 * SESSION_TOKEN_BYTES)
                return false;
        for (const char *p = token; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

typedef struct SessionRow {
        char id[64];
        bool found;
} SessionRow;

static int session_row(char *const *c, unsigned n, void *userdata) {
        SessionRow *s = userdata;

        s->found = true;
        snprintf(s->id, sizeof s->id, "%s", c[0]);
        return 0;
}

int session_check(Manager *m, const char *token, char ret_id[static 64], sd_bus_error *error) {
        char digest[SHA256_HEX_SIZE];
        SessionRow s = {};
        int r;

        if (!token_is_wellformed(token))
                return bus_error_setf(error, VDESK_ERROR_INVALID_TOKEN, "Invalid token: not a vdesk session token");
        token_digest(token, digest);
        r = db_exec(m->db,
                    "SELECT a.name FROM sessions s JOIN accounts a ON a.id = s.account_id "
                    "WHERE s.token_hash = ? AND s.expires_at > FROM_UNIXTIME(? / 1000000)",
                    (DbValue[]) { DBV_STR(digest), DBV_UINT(session_now()) }, 2, session_row, &s, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (!s.found)
                return bus_error_setf(error, VDESK_ERROR_INVALID_TOKEN, "Invalid token: unknown or expired; sign in again");
        memcpy(ret_id, s.id, sizeof s.id);
        return 0;
}

int session_sign_out(Manager *m, const char *token, const char *peer, sd_bus_error *error) {
        char digest[SHA256_HEX_SIZE], id[64];
        int r;

        r = session_check(m, token, id, error);
        if (r < 0)
                return r;
        token_digest(token, digest);
        r = db_exec(m->db, "DELETE FROM sessions WHERE token_hash = ?", (DbValue[]) { DBV_STR(digest) }, 1,
                    NULL, NULL, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        log_event(LOG_INFO, MID_SIGNED_OUT,
                  "VDESK_ACCOUNT=%s", id,
                  "VDESK_PEER=%s", peer,
                  "MESSAGE=%s signed out from %s", id, peer);
        return 0;
}

/* Sets id's password to new_password once the proof (old password or
 * activation code) is right; a weak new one changes nothing, the code is
 * not spent. A password set this way ends any pending activation. */
static int replace_password(Manager *m, const char *id, Proof proof, const char *secret, const char *new_password,
                            const char *peer, sd_bus_error *error) {
        _cleanup_(freep) char *hash = NULL;
        uint64_t account_id = 0;
        int r;

        r = account_check_new_password(m, new_password, error);
        if (r < 0)
                return r;
        r = password_hash(new_password, m->config.yescrypt_cost, &hash);
        if (r < 0)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot hash the password: %s", strerror(-r));

        r = authenticate(m, id, proof, secret, peer, &account_id, error);
        if (r < 0)
                return r;
        r = db_exec(m->db, "UPDATE accounts SET password_hash = ?, activation_hash = NULL, activation_expires = NULL "
                           "WHERE id = ?",
                    (DbValue[]) { DBV_STR(hash), DBV_UINT(account_id) }, 2, NULL, NULL, NULL);
        if (r >= 0)
                r = db_commit(m->db);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        return 0;
}

int session_change_password(Manager *m, const char *id, const char *old_password, const char *new_password,
                            const char *peer, sd_bus_error *error) {
        int r;

        r = replace_password(m, id, PROOF_PASSWORD, old_password, new_password, peer, error);
        if (r < 0)
                return r;
        log_event(LOG_INFO, MID_PASSWORD_CHANGED,
                  "VDESK_ACCOUNT=%s", id,
                  "VDESK_PEER=%s", peer,
                  "MESSAGE=%s changed their password (from %s)", id, peer);
        return 0;
}

int session_activate(Manager *m, const char *id, const char *code, const char *new_password, const char *peer,
                     sd_bus_error *error) {
        int r;

        r = replace_password(m, id, PROOF_ACTIVATION_CODE, code, new_password, peer, error);
        if (r < 0)
                return r;
        log_event(LOG_INFO, MID_ACCOUNT_ACTIVATED,
                  "VDESK_ACCOUNT=%s", id,
                  "VDESK_PEER=%s", peer,
                  "MESSAGE=%s activated their account and set a password (from %s)", id, peer);
        return 0;
}
