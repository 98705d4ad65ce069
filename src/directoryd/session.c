/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
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

/* id's row; for_update: a locking read, inside the caller's transaction. */
static int credentials_read(Manager *m, const char *id, bool for_update, Credentials *ret, sd_bus_error *error) {
        Credentials cr = {};
        int r;

        r = db_exec(m->db,
                    for_update ?
                    "SELECT id, password_hash, failed_signins, "
                    "CAST(UNIX_TIMESTAMP(locked_until) * 1000000 AS UNSIGNED), "
                    "IF(activation_expires IS NULL OR activation_expires > FROM_UNIXTIME(? / 1000000), "
                    "activation_hash, NULL) FROM accounts WHERE name = ? FOR UPDATE" :
                    "SELECT id, password_hash, failed_signins, "
                    "CAST(UNIX_TIMESTAMP(locked_until) * 1000000 AS UNSIGNED), "
                    "IF(activation_expires IS NULL OR activation_expires > FROM_UNIXTIME(? / 1000000), "
                    "activation_hash, NULL) FROM accounts WHERE name = ?",
                    (DbValue[]) { DBV_UINT(session_now()), DBV_STR(id) }, 2, credentials_row, &cr, NULL);
        if (r < 0) {
                free(cr.hash);
                return db_bus_error(m->db, r, error);
        }
        *ret = cr;
        return 0;
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

typedef enum SessionOp {
        OP_SIGN_IN,
        OP_CHANGE_PASSWORD,
        OP_ACTIVATE,
} SessionOp;

/* A sign-in, password change or activation: the yescrypt part goes to a
 * worker (the hash the password was checked against travels with it);
 * the decision, the counters and the writes are made on the loop once it
 * is back, in one transaction on the row read again, so that concurrent
 * sign-ins of one account count every failure and lock exactly once. */
typedef struct SessionJob {
        PasswordWork work;              /* first: the worker's part */
        Manager *m;
        SessionOp op;
        Proof proof;
        char id[64];
        char peer[64];
        ThrottleSource source;
        bool per_source;                /* failures count against the source */
        char *code;                     /* the activation code given */
        char keep[SHA256_HEX_SIZE];     /* ChangePassword: the caller's session, which stays */
        unsigned attempts;
        ManagerDoneFunc done;
        void *userdata;
} SessionJob;

static SessionJob *session_job_free(SessionJob *j) {
        if (!j)
                return NULL;
        password_work_done(&j->work);
        if (j->code)
                explicit_bzero(j->code, strlen(j->code));
        free(j->code);
        free(j);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(SessionJob *, session_job_free);

int session_throttle_start(Manager *m) {
        ThrottlePolicy p = {
                .max_failed = m->config.max_failed_per_source,
                .window_usec = (uint64_t) m->config.source_window_minutes * 60 * USEC_PER_SEC,
                .block_usec = (uint64_t) m->config.source_block_minutes * 60 * USEC_PER_SEC,
        };

        /* The lockout of sign-ins a front end names the address of: an
         * account's failures from one address lock it for that address
         * alone, so that one address guessing cannot lock the account for
         * everyone else (the database's lock counts the other callers'). */
        ThrottlePolicy a = {
                .max_failed = m->config.max_failed_signins,
                .window_usec = (uint64_t) MAX(m->config.lock_minutes, 1u) * 60 * USEC_PER_SEC,
                .block_usec = (uint64_t) m->config.lock_minutes * 60 * USEC_PER_SEC,
        };
        int r;

        r = throttle_new(&p, THROTTLE_ENTRIES_MAX, &m->throttle);
        if (r >= 0)
                r = throttle_new(&a, THROTTLE_ENTRIES_MAX, &m->account_throttle);
        return r;
}

/* TooManyAttempts if the source is blocked. Not journaled: one entry said
 * when the block began, and a flood of refusals must not flood the
 * journal. The monotonic clock: a block lasts its minutes whatever the
 * wall clock does. */
static int source_check(Manager *m, const ThrottleSource *source, const char *id, sd_bus_error *error) {
        uint64_t left = throttle_check(m->throttle, source->key, now_usec());
        char pair[THROTTLE_SOURCE_MAX];

        if (left > 0) {
                log_debug("Sign-in from %s refused: blocked for another %" PRIu64 " us", source->key, left);
                return bus_error_setf(error, VDESK_ERROR_TOO_MANY_ATTEMPTS,
                                      "Too many failed sign-ins from %s; try again in %llu s",
                                      source->key, (unsigned long long) ((left + USEC_PER_SEC - 1) / USEC_PER_SEC));
        }
        if (!source->address)
                return 0;
        throttle_pair_key(source, id, pair);
        left = throttle_check(m->account_throttle, pair, now_usec());
        if (left == 0)
                return 0;
        return bus_error_setf(error, VDESK_ERROR_ACCOUNT_LOCKED,
                              "The account is locked for sign-ins from %s for another %llu s", source->name,
                              (unsigned long long) ((left + USEC_PER_SEC - 1) / USEC_PER_SEC));
}

/* The account locked after failed failures: for the job's source alone
 * (for_source), or for everyone. */
static void log_locked(SessionJob *j, unsigned failed, bool for_source) {
        unsigned minutes = j->m->config.lock_minutes;

        log_event(LOG_WARNING, MID_ACCOUNT_LOCKED,
                  "VDESK_ACCOUNT=%s", j->id,
                  "VDESK_PEER=%s", j->peer,
                  "VDESK_SOURCE=%s", j->source.name,
                  "VDESK_FAILED_COUNT=%u", failed,
                  "VDESK_LOCK_MINUTES=%u", minutes,
                  "MESSAGE=Account %s locked %s%s for %u minutes after %u failed sign-ins (last from %s)",
                  j->id, for_source ? "for sign-ins from " : "", for_source ? j->source.name : "", minutes, failed,
                  j->source.name);
}

/* A failure of the account from an address a front end named: counted for
 * the pair, which it may lock. */
static void account_source_failed(SessionJob *j) {
        Manager *m = j->m;
        char pair[THROTTLE_SOURCE_MAX];
        ThrottleVerdict v;
        unsigned failed;
        int r;

        throttle_pair_key(&j->source, j->id, pair);
        r = throttle_fail(m->account_throttle, pair, now_usec(), &v, &failed);
        if (r < 0) {
                log_warning_errno(r, "Cannot count the failed sign-in of %s from %s: %m", j->id, j->source.name);
                return;
        }
        if (v == THROTTLE_NOW_BLOCKED)
                log_locked(j, failed, true);
}

/* A failed attempt: journaled, and counted against its source. */
static void sign_in_failed(SessionJob *j, const char *why) {
        Manager *m = j->m;
        ThrottleVerdict v;
        unsigned failed;
        int r;

        log_event(LOG_NOTICE, MID_SIGNIN_FAILED,
                  "VDESK_ACCOUNT=%s", j->id,
                  "VDESK_PEER=%s", j->peer,
                  "VDESK_SOURCE=%s", j->source.name,
                  "VDESK_REASON=%s", why,
                  "MESSAGE=Sign-in of %s from %s failed: %s", j->id, j->source.name, why);
        if (!j->per_source)
                return;
        if (j->source.address)
                account_source_failed(j);
        r = throttle_fail(m->throttle, j->source.key, now_usec(), &v, &failed);
        if (r < 0) {
                log_warning_errno(r, "Cannot count the failed sign-in from %s: %m", j->source.key);
                return;
        }
        if (v == THROTTLE_NOW_BLOCKED)
                log_event(LOG_WARNING, MID_SOURCE_THROTTLED,
                          "VDESK_SOURCE=%s", j->source.key,
                          "VDESK_FAILED_COUNT=%u", failed,
                          "VDESK_BLOCK_MINUTES=%u", m->config.source_block_minutes,
                          "MESSAGE=Sign-ins from %s refused for %u minutes after %u failed in %u minutes (the last for %s)",
                          j->source.key, m->config.source_block_minutes, failed, m->config.source_window_minutes,
                          j->id);
}

static bool same_hash(const char *a, const char *b) {
        return a && b ? streq(a, b) : a == b;
}

/* Checks the job's proof under the lockout rules on the row read anew
 * (FOR UPDATE) in the open transaction. On success the transaction stays
 * open for the caller to add to and commit. -EAGAIN: the password was
 * checked against a hash that is no longer the account's (it changed
 * meanwhile), which now is in j->work.hash; check again. */
static int authenticate_locked(SessionJob *j, uint64_t *ret_account_id, sd_bus_error *error) {
        Manager *m = j->m;
        SignInPolicy policy = {
                .max_failed = m->config.max_failed_signins,
                .lock_usec = (uint64_t) m->config.lock_minutes * 60 * USEC_PER_SEC,
        };
        const char *what = j->proof == PROOF_PASSWORD ? "Wrong id or password" : "Wrong id or activation code";
        Credentials cr = {};
        uint64_t now = session_now(), locked_until;
        unsigned failed;
        SignInVerdict v;
        bool ok, scoped;
        int r;

        r = credentials_read(m, j->id, true, &cr, error);
        if (r < 0)
                return r;
        if (!cr.found || (j->proof == PROOF_PASSWORD && !cr.hash) ||
            (j->proof == PROOF_ACTIVATION_CODE && isempty(cr.activation))) {
                free(cr.hash);
                sign_in_failed(j, !cr.found ? "no such account" :
                                  j->proof == PROOF_PASSWORD ? "no password set" : "no activation code pending");
                return bus_error_setf(error, VDESK_ERROR_AUTHENTICATION_FAILED, "%s", what);
        }
        if (cr.locked_until <= now && j->proof == PROOF_PASSWORD && !same_hash(cr.hash, j->work.hash)) {
                free(j->work.hash);
                j->work.hash = TAKE_PTR(cr.hash);
                return -EAGAIN;
        }
        free(cr.hash);

        if (cr.locked_until > now)
                ok = false;
        else if (j->proof == PROOF_PASSWORD)
                ok = j->work.verified > 0;
        else
                ok = activation_matches(j->code, cr.activation);
        v = signin_decide(ok, cr.failed, cr.locked_until, now, &policy, &failed, &locked_until);
        /* A front end's address has a lockout of its own (sign_in_failed):
         * its failures leave the account's, which would lock it for
         * everyone, alone. */
        scoped = j->source.address && j->per_source && v != SIGNIN_OK && v != SIGNIN_LOCKED;
        if (scoped)
                v = SIGNIN_WRONG_PASSWORD;
        if (v != SIGNIN_LOCKED && !scoped) {
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
                sign_in_failed(j, j->proof == PROOF_PASSWORD ? "wrong password" : "wrong activation code");
                return bus_error_setf(error, VDESK_ERROR_AUTHENTICATION_FAILED, "%s", what);
        case SIGNIN_WRONG_PASSWORD_NOW_LOCKED:
                sign_in_failed(j, j->proof == PROOF_PASSWORD ? "wrong password" : "wrong activation code");
                log_locked(j, failed, false);
                return bus_error_setf(error, VDESK_ERROR_ACCOUNT_LOCKED,
                                      "%s; the account is now locked for %u minutes", what, m->config.lock_minutes);
        case SIGNIN_LOCKED:
        default:
                sign_in_failed(j, "account locked");
                return bus_error_setf(error, VDESK_ERROR_ACCOUNT_LOCKED, "The account is locked for another %llu s",
                                      (unsigned long long) ((locked_until - now) / USEC_PER_SEC + 1));
        }
}

static int authenticate(SessionJob *j, uint64_t *ret_account_id, sd_bus_error *error) {
        Manager *m = j->m;
        int r;

        r = db_begin(m->db);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = authenticate_locked(j, ret_account_id, error);
        if (r < 0) {
                /* The failure counters are part of the answer. */
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

/* A new session of account_id, in the open transaction, committed. */
static int session_insert(Manager *m, SessionJob *j, uint64_t account_id, char ret_token[static 2 * SESSION_TOKEN_BYTES + 1],
                          uint64_t *ret_expires, sd_bus_error *error) {
        uint8_t raw[SESSION_TOKEN_BYTES];
        char digest[SHA256_HEX_SIZE];
        uint64_t expires;
        int r;

        if (random_bytes(raw, sizeof raw) < 0) {
                db_rollback(m->db);
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "No random bytes for a token");
        }
        for (size_t i = 0; i < sizeof raw; i++)
                snprintf(ret_token + 2 * i, 3, "%02x", raw[i]);
        explicit_bzero(raw, sizeof raw);
        token_digest(ret_token, digest);
        expires = session_now() + (uint64_t) m->config.session_hours * 3600 * USEC_PER_SEC;

        r = db_exec(m->db, "INSERT INTO sessions (token_hash, account_id, peer, expires_at) "
                           "VALUES (?, ?, ?, FROM_UNIXTIME(? / 1000000))",
                    (DbValue[]) { DBV_STR(digest), DBV_UINT(account_id), DBV_STR(j->peer), DBV_UINT(expires) }, 4,
                    NULL, NULL, NULL);
        /* The account's sessions that ran out go as a new one comes. */
        if (r >= 0)
                r = db_exec(m->db, "DELETE FROM sessions WHERE account_id = ? AND expires_at <= FROM_UNIXTIME(? / 1000000)",
                            (DbValue[]) { DBV_UINT(account_id), DBV_UINT(session_now()) }, 2, NULL, NULL, NULL);
        if (r >= 0)
                r = db_commit(m->db);
        if (r < 0) {
                explicit_bzero(ret_token, 2 * SESSION_TOKEN_BYTES + 1);
                return db_bus_error(m->db, r, error);
        }
        *ret_expires = expires;
        return 0;
}

/* Sets the new hash, ends the pending activation and the account's
 * sessions but the one to keep (if any), commits. */
static int password_replace(Manager *m, SessionJob *j, uint64_t account_id, uint64_t *ret_ended, sd_bus_error *error) {
        uint64_t ended = 0;
        int r;

        r = db_exec(m->db, "UPDATE accounts SET password_hash = ?, activation_hash = NULL, activation_expires = NULL "
                           "WHERE id = ?",
                    (DbValue[]) { DBV_STR(j->work.new_hash), DBV_UINT(account_id) }, 2, NULL, NULL, NULL);
        if (r >= 0)
                r = db_exec(m->db, "DELETE FROM sessions WHERE account_id = ? AND token_hash <> ?",
                            (DbValue[]) { DBV_UINT(account_id), DBV_STR(j->keep) }, 2, NULL, NULL, &ended);
        if (r >= 0)
                r = db_commit(m->db);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        *ret_ended = ended;
        return 0;
}

static int session_job_submit(SessionJob *j, sd_bus_error *error);

/* On the loop: the job's hashing is done (r from the worker). Returns
 * -EAGAIN if it went back to a worker, else the answer is given. */
static int session_job_finish(SessionJob *j, sd_bus_error *error, char ret_token[static 2 * SESSION_TOKEN_BYTES + 1],
                              uint64_t *ret_expires) {
        Manager *m = j->m;
        uint64_t account_id = 0, ended = 0;
        int r;

        /* A source blocked while this attempt was hashed (by the attempts
         * it sent beside it) leaves the account's count alone too. */
        if (j->per_source) {
                r = source_check(m, &j->source, j->id, error);
                if (r < 0)
                        return r;
        }
        r = authenticate(j, &account_id, error);
        if (r == -EAGAIN) {
                /* The password changed while it was checked: once more
                 * against the new hash (a few times at most). */
                if (++j->attempts >= 3)
                        return bus_error_setf(error, SD_BUS_ERROR_FAILED,
                                              "The password of '%s' changed while it was checked; try again", j->id);
                r = session_job_submit(j, error);
                return r < 0 ? r : -EAGAIN;
        }
        if (r < 0)
                return r;

        switch (j->op) {
        case OP_SIGN_IN:
                r = session_insert(m, j, account_id, ret_token, ret_expires, error);
                if (r < 0)
                        return r;
                log_event(LOG_INFO, MID_SIGNED_IN,
                          "VDESK_ACCOUNT=%s", j->id,
                          "VDESK_PEER=%s", j->peer,
                          "VDESK_SOURCE=%s", j->source.name,
                          "MESSAGE=%s signed in from %s", j->id, j->source.name);
                return 0;
        case OP_CHANGE_PASSWORD:
        case OP_ACTIVATE:
        default: {
                bool change = j->op == OP_CHANGE_PASSWORD;

                r = password_replace(m, j, account_id, &ended, error);
                if (r < 0)
                        return r;
                log_event(LOG_INFO, change ? MID_PASSWORD_CHANGED : MID_ACCOUNT_ACTIVATED,
                          "VDESK_ACCOUNT=%s", j->id,
                          "VDESK_PEER=%s", j->peer,
                          "VDESK_SOURCE=%s", j->source.name,
                          "VDESK_SESSIONS_ENDED=%" PRIu64, ended,
                          "MESSAGE=%s %s (from %s); %" PRIu64 " other session(s) ended", j->id,
                          change ? "changed their password" : "activated their account and set a password",
                          j->source.name, ended);
                return 0;
        }
        }
}

static void session_job_done(int r, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        SessionJob *j = userdata;
        char token[2 * SESSION_TOKEN_BYTES + 1] = "";
        uint64_t expires = 0;

        if (r == -ECANCELED)
                sd_bus_error_set_const(&error, SD_BUS_ERROR_FAILED, "The directory is stopping");
        else if (r < 0)
                bus_error_setf(&error, SD_BUS_ERROR_FAILED, "Cannot hash the password: %s", strerror(-r));
        else {
                r = session_job_finish(j, &error, token, &expires);
                if (r == -EAGAIN)
                        return;         /* back with a worker, which owns it again */
                if (r < 0 && !sd_bus_error_is_set(&error))
                        sd_bus_error_set_errno(&error, r);
        }
        j->done(sd_bus_error_is_set(&error) ? &error : NULL, j->op == OP_SIGN_IN && *token ? token : NULL, expires,
                j->userdata);
        explicit_bzero(token, sizeof token);
        session_job_free(j);
}

static int session_job_submit(SessionJob *j, sd_bus_error *error) {
        return manager_submit_password_work(j->m, j, session_job_done, error);
}

/* Submits *j, whose ownership goes with it. */
static int session_job_queue(SessionJob **j, sd_bus_error *error) {
        int r;

        r = session_job_submit(*j, error);
        if (r < 0)
                return r;
        *j = NULL;
        return 0;
}

static int session_job_new(Manager *m, SessionOp op, const char *id, const char *peer, const ThrottleSource *source,
                           ManagerDoneFunc done, void *userdata, SessionJob **ret) {
        SessionJob *j = new0(SessionJob, 1);

        if (!j)
                return -ENOMEM;
        *j = (SessionJob) {
                .m = m,
                .op = op,
                .proof = op == OP_ACTIVATE ? PROOF_ACTIVATION_CODE : PROOF_PASSWORD,
                .work.cost = m->config.yescrypt_cost,
                .done = done,
                .userdata = userdata,
        };
        snprintf(j->id, sizeof j->id, "%s", id);
        snprintf(j->peer, sizeof j->peer, "%s", peer);
        j->source = *source;
        /* a password change is journaled with its source, not counted */
        j->per_source = op != OP_CHANGE_PASSWORD;
        *ret = j;
        return 0;
}

/* Reads the account's hash for the worker to check the password against
 * (none for an unknown id: the worker then hashes the password all the
 * same, so that timing does not tell which ids exist). A locked account
 * is answered at once, without a hash (the lock itself is no secret:
 * AccountLocked says so), the attempt journaled as refused. */
static int session_job_prepare_check(SessionJob *j, const char *password, sd_bus_error *error) {
        _cleanup_(freep) char *hash = NULL;
        Credentials cr = {};
        int r;

        r = credentials_read(j->m, j->id, false, &cr, error);
        if (r < 0)
                return r;
        hash = cr.hash;
        if (cr.found && cr.locked_until > session_now()) {
                sign_in_failed(j, "account locked");
                return bus_error_setf(error, VDESK_ERROR_ACCOUNT_LOCKED, "The account is locked for another %llu s",
                                      (unsigned long long) ((cr.locked_until - session_now()) / USEC_PER_SEC + 1));
        }
        j->work.hash = TAKE_PTR(hash);
        j->work.password = strdup(password);
        return j->work.password ? 0 : -ENOMEM;
}

int session_sign_in(Manager *m, const char *id, const char *password, const char *peer, const ThrottleSource *source,
                    ManagerDoneFunc done, void *userdata, sd_bus_error *error) {
        _cleanup_(session_job_freep) SessionJob *j = NULL;
        int r;

        r = bus_error_check_name(error, "id", id);
        if (r >= 0)
                r = source_check(m, source, id, error);
        if (r < 0)
                return r;
        r = session_job_new(m, OP_SIGN_IN, id, peer, source, done, userdata, &j);
        if (r >= 0)
                r = session_job_prepare_check(j, password, error);
        if (r < 0)
                return r;
        return session_job_queue(&j, error);
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

int session_change_password(Manager *m, const char *token, const char *old_password, const char *new_password,
                            const char *peer, const ThrottleSource *source, ManagerDoneFunc done, void *userdata,
                            sd_bus_error *error) {
        _cleanup_(session_job_freep) SessionJob *j = NULL;
        char id[64];
        int r;

        r = session_check(m, token, id, error);
        if (r < 0)
                return r;
        /* A weak new one changes nothing and counts as no attempt. */
        r = account_check_new_password(m, new_password, error);
        if (r < 0)
                return r;
        r = session_job_new(m, OP_CHANGE_PASSWORD, id, peer, source, done, userdata, &j);
        if (r < 0)
                return r;
        token_digest(token, j->keep);
        r = session_job_prepare_check(j, old_password, error);
        if (r >= 0 && !(j->work.new_password = strdup(new_password)))
                r = -ENOMEM;
        if (r < 0)
                return r;
        return session_job_queue(&j, error);
}

int session_activate(Manager *m, const char *id, const char *code, const char *new_password, const char *peer,
                     const ThrottleSource *source, ManagerDoneFunc done, void *userdata, sd_bus_error *error) {
        _cleanup_(session_job_freep) SessionJob *j = NULL;
        int r;

        r = bus_error_check_name(error, "id", id);
        if (r < 0)
                return r;
        r = account_check_new_password(m, new_password, error);
        if (r >= 0)
                r = source_check(m, source, id, error);
        if (r < 0)
                return r;
        /* The code is checked on the loop (a SHA-256); the new password's
         * hash is made whatever the id, so that timing tells nothing. */
        r = session_job_new(m, OP_ACTIVATE, id, peer, source, done, userdata, &j);
        if (r < 0)
                return r;
        j->code = strdup(code);
        j->work.new_password = strdup(new_password);
        if (!j->code || !j->work.new_password)
                return -ENOMEM;
        return session_job_queue(&j, error);
}

static int on_purge(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        uint64_t n = 0;
        int r;

        r = db_exec(m->db, "DELETE FROM sessions WHERE expires_at <= FROM_UNIXTIME(? / 1000000)",
                    (DbValue[]) { DBV_UINT(session_now()) }, 1, NULL, NULL, &n);
        if (r < 0)
                log_warning_errno(r, "Cannot remove expired sessions: %s", db_error(m->db));
        else
                log_debug("Removed %" PRIu64 " expired session(s).", n);
        (void) sd_event_source_set_time_relative(s, (uint64_t) m->config.session_purge_sec * USEC_PER_SEC);
        return 0;
}

int session_purge_start(Manager *m) {
        int r;

        /* At once (what ran out while the directory was down), then every
         * SessionPurgeSec. */
        r = sd_event_add_time_relative(m->event, &m->purge_timer, CLOCK_MONOTONIC, 0, USEC_PER_SEC, on_purge, m);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(m->purge_timer, SD_EVENT_ON);
        if (r >= 0)
                (void) sd_event_source_set_description(m->purge_timer, "session-purge");
        return r;
}
