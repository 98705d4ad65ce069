/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>

#include "account.h"
#include "bus-error.h"
#include "log.h"
#include "password.h"
#include "util.h"

static const char *const account_role_table[_ACCOUNT_ROLE_MAX] = {
        [ACCOUNT_STAFF] = "staff",
        [ACCOUNT_MANAGER] = "manager",
        [ACCOUNT_ADMIN] = "admin",
};

DEFINE_STRING_TABLE_LOOKUP(account_role, AccountRole);

void account_done(Account *a) {
        free(a->name);
        free(a->email);
        a->name = a->email = NULL;
}

void account_list_free(Account *a, size_t n) {
        for (size_t i = 0; i < n && a; i++)
                account_done(&a[i]);
        free(a);
}

const char *email_invalid_reason(const char *s) {
        const char *at;

        if (isempty(s))
                return NULL;
        if (strlen(s) > 254)
                return "is longer than 254 bytes";
        if (!utf8_is_valid(s))
                return "is not valid UTF-8";
        if (string_has_control(s) || strpbrk(s, " \t<>()[]\\,;:\""))
                return "contains a space, control character or one of <>()[]\\,;:\"";
        at = strchr(s, '@');
        if (!at || at == s || strchr(at + 1, '@') || !strchr(at + 1, '.') || at[1] == '.' ||
            s[strlen(s) - 1] == '.')
                return "is not of the form name@domain.tld";
        return NULL;
}

const char *person_name_invalid_reason(const char *s) {
        if (isempty(s))
                return "is empty";
        if (strlen(s) > 255)
                return "is longer than 255 bytes";
        if (!utf8_is_valid(s))
                return "is not valid UTF-8";
        if (string_has_control(s))
                return "contains control characters";
        return NULL;
}

static int invalid(sd_bus_error *error, const char *field, const char *why) {
        return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid %s: %s", field, why);
}

int account_check_new_password(Manager *m, const char *password, sd_bus_error *error) {
        PasswordPolicy p = {
                .min_length = m->config.password_min_length,
                .min_classes = m->config.password_min_classes,
        };
        const char *why = password_weak_reason(password, &p);

        if (why)
                return bus_error_setf(error, VDESK_ERROR_WEAK_PASSWORD, "Invalid password: %s", why);
        return 0;
}

/* CreateAccount and ResetPassword: the password's hash is made by a
 * worker, the row written on the loop once it is back. */
typedef struct AccountJob {
        PasswordWork work;              /* first: the worker's part */
        Manager *m;
        bool reset;                     /* ResetPassword, else CreateAccount */
        char id[64];
        char role[8];
        char *name;
        char *email;
        uid_t actor;
        ManagerDoneFunc done;
        void *userdata;
} AccountJob;

static AccountJob *account_job_free(AccountJob *j) {
        if (!j)
                return NULL;
        password_work_done(&j->work);
        free(j->name);
        free(j->email);
        free(j);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(AccountJob *, account_job_free);

static int account_insert(Manager *m, const char *id, const char *name, const char *role, const char *email,
                          const char *hash, uid_t actor, sd_bus_error *error) {
        int r;

        r = db_exec(m->db, "INSERT INTO accounts (name, role, full_name, email, password_hash) VALUES (?, ?, ?, ?, ?)",
                    (DbValue[]) { DBV_STR(id), DBV_STR(role), DBV_STR(name),
                                  isempty(email) ? DBV_NULL : DBV_STR(email),
                                  hash ? DBV_STR(hash) : DBV_NULL }, 5, NULL, NULL, NULL);
        if (r == -EEXIST)
                return bus_error_setf(error, VDESK_ERROR_ACCOUNT_EXISTS, "Invalid id: account '%s' exists already", id);
        if (r < 0)
                return db_bus_error(m->db, r, error);

        log_event(LOG_INFO, MID_ACCOUNT_CREATED,
                  "VDESK_ACCOUNT=%s", id,
                  "VDESK_ROLE=%s", role,
                  "VDESK_PASSWORD_SET=%d", hash != NULL,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Account %s (%s) created%s", id, role, hash ? " with a password" : "");
        return 0;
}

/* The new hash, a lock lifted, a pending activation and every session of
 * the account ended, in one transaction. */
static int account_password_reset(Manager *m, const char *id, const char *hash, uid_t actor, sd_bus_error *error) {
        uint64_t account_id = 0, ended = 0;
        int r;

        r = db_begin(m->db);
        if (r >= 0)
                r = db_exec(m->db, "SELECT id FROM accounts WHERE name = ? FOR UPDATE", (DbValue[]) { DBV_STR(id) }, 1,
                            db_row_u64, &account_id, NULL);
        if (r >= 0 && account_id == 0) {
                db_rollback(m->db);
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_ACCOUNT, "No account '%s'", id);
        }
        if (r >= 0)
                r = db_exec(m->db, "UPDATE accounts SET password_hash = ?, failed_signins = 0, locked_until = NULL, "
                            "activation_hash = NULL, activation_expires = NULL WHERE id = ?",
                            (DbValue[]) { DBV_STR(hash), DBV_UINT(account_id) }, 2, NULL, NULL, NULL);
        if (r >= 0)
                r = db_exec(m->db, "DELETE FROM sessions WHERE account_id = ?", (DbValue[]) { DBV_UINT(account_id) }, 1,
                            NULL, NULL, &ended);
        if (r >= 0)
                r = db_commit(m->db);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        log_event(LOG_INFO, MID_PASSWORD_RESET,
                  "VDESK_ACCOUNT=%s", id,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "VDESK_SESSIONS_ENDED=%" PRIu64, ended,
                  "MESSAGE=Password of account %s reset; %" PRIu64 " session(s) ended", id, ended);
        return 0;
}

static void account_job_done(int r, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(account_job_freep) AccountJob *j = userdata;

        if (r == -ECANCELED)
                sd_bus_error_set_const(&error, SD_BUS_ERROR_FAILED, "The directory is stopping");
        else if (r < 0)
                bus_error_setf(&error, SD_BUS_ERROR_FAILED, "Cannot hash the password: %s", strerror(-r));
        else if (j->reset)
                r = account_password_reset(j->m, j->id, j->work.new_hash, j->actor, &error);
        else
                r = account_insert(j->m, j->id, j->name, j->role, j->email, j->work.new_hash, j->actor, &error);
        if (r < 0 && !sd_bus_error_is_set(&error))
                sd_bus_error_set_errno(&error, r);
        j->done(sd_bus_error_is_set(&error) ? &error : NULL, NULL, 0, j->userdata);
}


static int account_job_new(Manager *m, bool reset, const char *id, const char *password, uid_t actor,
                           ManagerDoneFunc done, void *userdata, AccountJob **ret) {
        AccountJob *j = new0(AccountJob, 1);

        if (!j)
                return -ENOMEM;
        *j = (AccountJob) {
                .m = m,
                .reset = reset,
                .actor = actor,
                .work.cost = m->config.yescrypt_cost,
                .work.new_password = strdup(password),
                .done = done,
                .userdata = userdata,
        };
        snprintf(j->id, sizeof j->id, "%s", id);
        if (!j->work.new_password) {
                account_job_free(j);
                return -ENOMEM;
        }
        *ret = j;
        return 0;
}

int account_create(Manager *m, const char *id, const char *name, const char *role, const char *email,
                   const char *password, uid_t actor, ManagerDoneFunc done, void *userdata, sd_bus_error *error) {
        _cleanup_(account_job_freep) AccountJob *j = NULL;
        const char *why;
        int r;

        r = bus_error_check_name(error, "id", id);
        if (r < 0)
                return r;
        if ((why = person_name_invalid_reason(name)))
                return invalid(error, "name", why);
        if (account_role_from_string(role) < 0)
                return invalid(error, "role", "is not one of staff, manager, admin");
        if ((why = email_invalid_reason(email)))
                return invalid(error, "email", why);
        if (isempty(password)) {
                r = account_insert(m, id, name, role, email, NULL, actor, error);
                if (r < 0)
                        return r;
                done(NULL, NULL, 0, userdata);
                return 0;
        }
        r = account_check_new_password(m, password, error);
        if (r < 0)
                return r;

        r = account_job_new(m, false, id, password, actor, done, userdata, &j);
        if (r < 0)
                return r;
        snprintf(j->role, sizeof j->role, "%s", role);
        j->name = strdup(name);
        j->email = strdup(email);
        if (!j->name || !j->email)
                return -ENOMEM;
        r = manager_submit_password_work(m, j, account_job_done, error);
        if (r < 0)
                return r;
        TAKE_PTR(j);
        return 0;
}

int account_delete(Manager *m, const char *id, uid_t actor, sd_bus_error *error) {
        uint64_t affected = 0;
        int r;

        r = bus_error_check_name(error, "id", id);
        if (r < 0)
                return r;
        r = db_exec(m->db, "DELETE FROM accounts WHERE name = ?", (DbValue[]) { DBV_STR(id) }, 1, NULL, NULL, &affected);
        /* The desktops' foreign key refuses: an account with desktops stays. */
        if (r == -EIO && strstr(db_error(m->db), "foreign key constraint fails"))
                return bus_error_setf(error, VDESK_ERROR_ACCOUNT_IN_USE,
                                      "Account '%s' still has desktops; delete them first", id);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (affected == 0)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_ACCOUNT, "No account '%s'", id);

        log_event(LOG_INFO, MID_ACCOUNT_DELETED,
                  "VDESK_ACCOUNT=%s", id,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Account %s deleted", id);
        return 0;
}

/* Online: the account has a session that has not expired. */
#define ONLINE "EXISTS (SELECT 1 FROM sessions s WHERE s.account_id = a.id AND s.expires_at > NOW())"

#define ACCOUNT_COLUMNS \
        "a.name, a.full_name, a.role, COALESCE(a.email, ''), IF(" ONLINE ", 'online', 'offline'), " \
        "CAST(UNIX_TIMESTAMP(a.created_at) * 1000000 AS UNSIGNED), " \
        "CAST(UNIX_TIMESTAMP(a.updated_at) * 1000000 AS UNSIGNED) FROM accounts a "

static int account_row(char *const *c, unsigned n, void *userdata) {
        Account *a = db_rows_push(userdata);

        if (!a)
                return -ENOMEM;
        snprintf(a->id, sizeof a->id, "%s", c[0]);
        snprintf(a->role, sizeof a->role, "%s", c[2]);
        snprintf(a->state, sizeof a->state, "%s", c[4]);
        a->name = strdup(c[1]);
        a->email = strdup(c[3]);
        a->created_usec = strtoull(c[5], NULL, 10);
        a->updated_usec = strtoull(c[6], NULL, 10);
        return a->name && a->email ? 0 : -ENOMEM;
}

int account_get(Manager *m, const char *id, Account *ret, sd_bus_error *error) {
        DbRows rows = { .size = sizeof(Account) };
        int r;

        r = bus_error_check_name(error, "id", id);
        if (r < 0)
                return r;
        r = db_exec(m->db, "SELECT " ACCOUNT_COLUMNS "WHERE a.name = ?", (DbValue[]) { DBV_STR(id) }, 1,
                    account_row, &rows, NULL);
        if (r < 0) {
                account_list_free(rows.items, rows.n);
                return db_bus_error(m->db, r, error);
        }
        if (rows.n == 0) {
                free(rows.items);
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_ACCOUNT, "No account '%s'", id);
        }
        *ret = *(Account *) rows.items;
        free(rows.items);
        return 0;
}

int account_list(Manager *m, const char *role, const char *department, const char *state,
                 uint32_t offset, uint32_t limit, Account **ret, size_t *ret_n, uint64_t *ret_total,
                 sd_bus_error *error) {
        DbRows rows = { .size = sizeof(Account) };
        uint64_t total = 0, department_id = 0;
        DbValue params[5];
        size_t n = 0;
        char from[256], sql[1024];
        int r;

        if (!isempty(role) && account_role_from_string(role) < 0)
                return invalid(error, "role", "is not one of staff, manager, admin");
        if (!isempty(state) && !streq(state, "online") && !streq(state, "offline"))
                return invalid(error, "state", "is not one of online, offline");
        if (limit == 0 || limit > 1000)
                return invalid(error, "limit", "must be 1 to 1000");
        if (!isempty(department)) {
                r = bus_error_check_name(error, "department", department);
                if (r < 0)
                        return r;
                r = db_exec(m->db, "SELECT id FROM departments WHERE name = ?",
                            (DbValue[]) { DBV_STR(department) }, 1, db_row_u64, &department_id, NULL);
                if (r < 0)
                        return db_bus_error(m->db, r, error);
                if (department_id == 0)
                        return bus_error_setf(error, VDESK_ERROR_NO_SUCH_DEPARTMENT, "No department '%s'", department);
        }

        /* Only the filters asked for, so that the indexes serve them (a
         * "? = '' OR" form defeats them); the text is vdesk's own, the
         * values are bound. */
        snprintf(from, sizeof from, "FROM accounts a %s WHERE TRUE%s%s ",
                 department_id ? "JOIN department_members dm ON dm.account_id = a.id AND dm.department_id = ?" : "",
                 isempty(role) ? "" : " AND a.role = ?",
                 isempty(state) ? "" : streq(state, "online") ? " AND " ONLINE : " AND NOT " ONLINE);
        if (department_id)
                params[n++] = DBV_UINT(department_id);
        if (!isempty(role))
                params[n++] = DBV_STR(role);
        snprintf(sql, sizeof sql, "SELECT COUNT(*) %s", from);
        r = db_exec(m->db, sql, params, n, db_row_u64, &total, NULL);
        if (r >= 0) {
                /* The page's ids first, from the name index alone (the
                 * offset skips index entries, not rows), then their rows. */
                snprintf(sql, sizeof sql,
                         "SELECT " ACCOUNT_COLUMNS "JOIN (SELECT a.id %s ORDER BY a.name LIMIT ? OFFSET ?) p "
                         "ON p.id = a.id ORDER BY a.name", from);
                params[n++] = DBV_UINT(limit);
                params[n++] = DBV_UINT(offset);
                r = db_exec(m->db, sql, params, n, account_row, &rows, NULL);
        }
        if (r < 0) {
                account_list_free(rows.items, rows.n);
                return db_bus_error(m->db, r, error);
        }
        *ret = rows.items;
        *ret_n = rows.n;
        *ret_total = total;
        return 0;
}

/* UPDATE one account's field; NoSuchAccount if there is none. */
static int update(Manager *m, const char *id, const char *sql, DbValue value, sd_bus_error *error) {
        uint64_t matched = 0;
        int r;

        r = db_exec(m->db, sql, (DbValue[]) { value, DBV_STR(id) }, 2, NULL, NULL, &matched);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (matched == 0)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_ACCOUNT, "No account '%s'", id);
        return 0;
}

static void log_changed(const char *id, const char *field, uid_t actor) {
        log_event(LOG_INFO, MID_ACCOUNT_CHANGED,
                  "VDESK_ACCOUNT=%s", id,
                  "VDESK_FIELD=%s", field,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Account %s: %s changed", id, field);
}

/* A text field of an account: checked by invalid_reason, stored by sql
 * (NULL for "" if empty_is_null), journaled as field. */
static int set_text(Manager *m, const char *id, const char *field, const char *value,
                    const char *(*invalid_reason)(const char *), const char *sql, bool empty_is_null, uid_t actor,
                    sd_bus_error *error) {
        const char *why;
        int r;

        r = bus_error_check_name(error, "id", id);
        if (r < 0)
                return r;
        if ((why = invalid_reason(value)))
                return invalid(error, field, why);
        r = update(m, id, sql, empty_is_null && isempty(value) ? DBV_NULL : DBV_STR(value), error);
        if (r < 0)
                return r;
        log_changed(id, field, actor);
        return 0;
}

int account_set_name(Manager *m, const char *id, const char *name, uid_t actor, sd_bus_error *error) {
        return set_text(m, id, "name", name, person_name_invalid_reason,
                        "UPDATE accounts SET full_name = ? WHERE name = ?", false, actor, error);
}

int account_set_email(Manager *m, const char *id, const char *email, uid_t actor, sd_bus_error *error) {
        return set_text(m, id, "email", email, email_invalid_reason,
                        "UPDATE accounts SET email = ? WHERE name = ?", true, actor, error);
}

int account_reset_password(Manager *m, const char *id, const char *password, uid_t actor, ManagerDoneFunc done,
                           void *userdata, sd_bus_error *error) {
        _cleanup_(account_job_freep) AccountJob *j = NULL;
        int r;

        r = bus_error_check_name(error, "id", id);
        if (r < 0)
                return r;
        r = account_check_new_password(m, password, error);
        if (r < 0)
                return r;
        r = account_job_new(m, true, id, password, actor, done, userdata, &j);
        if (r >= 0)
                r = manager_submit_password_work(m, j, account_job_done, error);
        if (r < 0)
                return r;
        TAKE_PTR(j);
        return 0;
}
