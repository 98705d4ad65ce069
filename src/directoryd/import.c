/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "account.h"
#include "bus-error.h"
#include "csv.h"
#include "import.h"
#include "log.h"
#include "session.h"
#include "util.h"

typedef enum Column {
        COL_ID,
        COL_NAME,
        COL_EMAIL,
        COL_ROLE,
        COL_DEPARTMENT,
        _COL_MAX,
} Column;

static const char *const column_names[_COL_MAX] = {
        [COL_ID] = "id",
        [COL_NAME] = "name",
        [COL_EMAIL] = "email",
        [COL_ROLE] = "role",
        [COL_DEPARTMENT] = "department",
};

/* Rows per INSERT: few round trips, far below the server's placeholder
 * limit. */
#define BATCH 500u
#define PROGRESS_EVERY 1000u

typedef struct Row {
        unsigned line;
        char *f[_COL_MAX];              /* "" where the file has no such column */
        uint64_t department_id;         /* 0: none */
        bool bad;
} Row;

typedef struct Import {
        int column[_COL_MAX * 2];       /* the file's field i holds column[i] */
        size_t n_fields;
        bool have_header;
        DbRows rows;                    /* of Row */
        DbRows problems;                /* of ImportProblem */
} Import;

static int problem(Import *im, unsigned line, const char *field, const char *reason) {
        ImportProblem *p = db_rows_push(&im->problems);

        if (!p)
                return -ENOMEM;
        *p = (ImportProblem) { .line = line, .reason = reason };
        snprintf(p->field, sizeof p->field, "%s", field);
        return 0;
}

static int read_header(Import *im, unsigned line, char **fields, size_t n) {
        bool seen[_COL_MAX] = {};
        int r;

        im->have_header = true;
        if (n > ELEMENTSOF(im->column))
                return problem(im, line, "header", "has more columns than id, name, email, role, department");
        im->n_fields = n;
        for (size_t i = 0; i < n; i++) {
                char field[16];
                int c = -1;

                snprintf(field, sizeof field, "column %zu", i + 1);
                for (int k = 0; k < _COL_MAX; k++)
                        if (strcasecmp(fields[i], column_names[k]) == 0)
                                c = k;
                im->column[i] = c;
                if (c < 0)
                        r = problem(im, line, field, "is not one of the columns id, name, email, role, department");
                else if (seen[c])
                        r = problem(im, line, field, "names a column a second time");
                else {
                        seen[c] = true;
                        r = 0;
                }
                if (r < 0)
                        return r;
        }
        for (int k = COL_ID; k <= COL_NAME; k++)
                if (!seen[k]) {
                        r = problem(im, line, column_names[k], "is a required column and is missing from the header");
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* The checks one field needs by itself; NULL if it is good. */
static const char *field_invalid_reason(Column c, const char *v) {
        switch (c) {
        case COL_ID:
                return name_invalid_reason(v);
        case COL_NAME:
                return person_name_invalid_reason(v);
        case COL_EMAIL:
                return email_invalid_reason(v);
        case COL_ROLE:
                if (isempty(v) || streq(v, "staff") || streq(v, "manager"))
                        return NULL;
                if (streq(v, "admin"))
                        return "is admin: admin accounts are created one by one, not imported";
                return "is not one of staff, manager";
        case COL_DEPARTMENT:
                return isempty(v) ? NULL : name_invalid_reason(v);
        default:
                return NULL;
        }
}

static int on_record(unsigned line, char **fields, size_t n, void *userdata) {
        Import *im = userdata;
        Row *row;
        int r;

        if (!im->have_header)
                return read_header(im, line, fields, n);
        if (n != im->n_fields)
                return problem(im, line, "record", "has a different number of fields than the header");

        row = db_rows_push(&im->rows);
        if (!row)
                return -ENOMEM;
        row->line = line;
        for (size_t i = 0; i < n; i++)
                if (im->column[i] >= 0 && !(row->f[im->column[i]] = strdup(fields[i])))
                        return -ENOMEM;
        for (int k = 0; k < _COL_MAX; k++) {
                const char *why;

                if (!row->f[k] && !(row->f[k] = strdup("")))
                        return -ENOMEM;
                why = field_invalid_reason((Column) k, row->f[k]);
                if (why) {
                        row->bad = true;
                        r = problem(im, line, column_names[k], why);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static void import_done(Import *im) {
        Row *rows = im->rows.items;

        for (size_t i = 0; i < im->rows.n; i++)
                for (int k = 0; k < _COL_MAX; k++)
                        free(rows[i].f[k]);
        free(im->rows.items);
        free(im->problems.items);
}

void import_result_done(ImportResult *r) {
        free(r->problems);
        if (r->codes)
                explicit_bzero(r->codes, r->n_codes * sizeof *r->codes);
        free(r->codes);
        *r = (ImportResult) {};
}

/* ---- checks against each other and against the directory ------------- */

static int cmp_row_id(const void *a, const void *b) {
        const Row *x = *(Row *const *) a, *y = *(Row *const *) b;
        int c = strcmp(x->f[COL_ID], y->f[COL_ID]);

        return c != 0 ? c : (x->line > y->line) - (x->line < y->line);
}

static int cmp_problem(const void *a, const void *b) {
        const ImportProblem *x = a, *y = b;

        /* by line; within a line the order they were found in (stable by
         * comparing addresses, which follow that order) */
        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        return (x > y) - (x < y);
}

typedef struct Department {
        uint64_t id;
        char name[NAME_MAX_LEN + 1];
} Department;

static int department_row(char *const *c, unsigned n, void *userdata) {
        Department *d = db_rows_push(userdata);

        if (!d)
                return -ENOMEM;
        d->id = strtoull(c[0], NULL, 10);
        snprintf(d->name, sizeof d->name, "%s", c[1]);
        return 0;
}

static int cmp_department(const void *a, const void *b) {
        return strcmp(((const Department *) a)->name, ((const Department *) b)->name);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Builds "prefix" + n times "item" separated by ", " (+ suffix). */
static char *repeat_sql(const char *prefix, const char *item, size_t n, const char *suffix) {
        size_t len = strlen(prefix) + n * (strlen(item) + 2) + strlen(suffix) + 1;
        char *sql = malloc(len), *p;

        if (!sql)
                return NULL;
        p = stpcpy(sql, prefix);
        for (size_t i = 0; i < n; i++)
                p = stpcpy(stpcpy(p, i ? ", " : ""), item);
        stpcpy(p, suffix);
        return sql;
}

/* The ids of rows (sorted by id) that accounts have already, sorted. */
static int existing_ids(Manager *m, Row **by_id, size_t n, DbRows *ret) {
        _cleanup_(freep) DbValue *params = NULL;
        int r = 0;

        params = new0(DbValue, BATCH);
        if (!params)
                return -ENOMEM;
        for (size_t start = 0; start < n && r >= 0; start += BATCH) {
                size_t k = MIN((size_t) BATCH, n - start);
                _cleanup_(freep) char *sql = repeat_sql("SELECT name FROM accounts WHERE name IN (", "?", k, ")");

                if (!sql)
                        return -ENOMEM;
                for (size_t i = 0; i < k; i++)
                        params[i] = DBV_STR(by_id[start + i]->f[COL_ID]);
                r = db_exec(m->db, sql, params, k, db_row_str, ret, NULL);
        }
        if (r >= 0 && ret->n > 0)
                qsort(ret->items, ret->n, sizeof(char *), cmp_str);
        return r;
}

static void report(ImportProgressFunc progress, void *userdata, const char *phase, size_t done, size_t total) {
        if (progress && (done % PROGRESS_EVERY == 0 || done == total))
                progress(phase, (unsigned) done, (unsigned) total, userdata);
}

/* Cross-row and directory checks: repeated ids, ids taken, departments
 * that do not exist. Fills each row's department_id. */
static int check_rows(Manager *m, Import *im, ImportProgressFunc progress, void *userdata) {
        DbRows departments = { .size = sizeof(Department) }, taken = { .size = sizeof(char *) };
        Row *rows = im->rows.items, **by_id = NULL;
        size_t n_ids = 0;
        int r;

        r = db_exec(m->db, "SELECT id, name FROM departments", NULL, 0, department_row, &departments, NULL);
        if (r < 0)
                goto finish;
        if (departments.n > 0)
                qsort(departments.items, departments.n, sizeof(Department), cmp_department);

        by_id = new0(Row *, im->rows.n + 1);
        if (!by_id) {
                r = -ENOMEM;
                goto finish;
        }
        for (size_t i = 0; i < im->rows.n; i++)
                if (name_is_valid(rows[i].f[COL_ID]))
                        by_id[n_ids++] = &rows[i];
        qsort(by_id, n_ids, sizeof *by_id, cmp_row_id);
        r = existing_ids(m, by_id, n_ids, &taken);
        if (r < 0)
                goto finish;

        for (size_t i = 0; i < n_ids; i++) {
                Row *row = by_id[i];
                const char *id = row->f[COL_ID];

                /* sorted by id, then line: a repeat follows its first */
                if (i > 0 && streq(by_id[i - 1]->f[COL_ID], id))
                        r = problem(im, row->line, "id", "repeats the id of an earlier line");
                else if (taken.n > 0 && bsearch(&id, taken.items, taken.n, sizeof(char *), cmp_str))
                        r = problem(im, row->line, "id", "is the id of an account that exists already");
                if (r < 0)
                        goto finish;
                report(progress, userdata, "checking", i + 1, n_ids);
        }

        for (size_t i = 0; i < im->rows.n; i++) {
                Department key = {}, *d;

                if (isempty(rows[i].f[COL_DEPARTMENT]) || !name_is_valid(rows[i].f[COL_DEPARTMENT]))
                        continue;
                snprintf(key.name, sizeof key.name, "%s", rows[i].f[COL_DEPARTMENT]);
                d = departments.n > 0 ?
                        bsearch(&key, departments.items, departments.n, sizeof(Department), cmp_department) : NULL;
                if (d)
                        rows[i].department_id = d->id;
                else {
                        r = problem(im, rows[i].line, "department", "is not a department in the directory");
                        if (r < 0)
                                goto finish;
                }
        }
finish:
        free(by_id);
        free(departments.items);
        strv_free(db_rows_take_strv(&taken));
        return r;
}

/* ---- writing ----------------------------------------------------------- */

/* Inserts rows [start, start + k) with their activation digests, then
 * their memberships (staff) or management (managers) of departments. */
static int write_batch(Manager *m, Row *rows, size_t start, size_t k, char (*digests)[SHA256_HEX_SIZE],
                       uint64_t expires_sec, DbValue *params) {
        _cleanup_(freep) char *sql = NULL;
        size_t n_params = 0;
        int r;

        sql = repeat_sql("INSERT INTO accounts (name, role, full_name, email, activation_hash, activation_expires) "
                         "VALUES ", "(?, ?, ?, ?, ?, FROM_UNIXTIME(?))", k, "");
        if (!sql)
                return -ENOMEM;
        for (size_t i = start; i < start + k; i++) {
                Row *row = &rows[i];

                params[n_params++] = DBV_STR(row->f[COL_ID]);
                params[n_params++] = DBV_STR(isempty(row->f[COL_ROLE]) ? "staff" : row->f[COL_ROLE]);
                params[n_params++] = DBV_STR(row->f[COL_NAME]);
                params[n_params++] = isempty(row->f[COL_EMAIL]) ? DBV_NULL : DBV_STR(row->f[COL_EMAIL]);
                params[n_params++] = DBV_STR(digests[i]);
                params[n_params++] = expires_sec ? DBV_UINT(expires_sec) : DBV_NULL;    /* NULL: no expiry */
        }
        r = db_exec(m->db, sql, params, n_params, NULL, NULL, NULL);
        if (r < 0)
                return r;

        for (int manager = 0; manager <= 1; manager++) {
                size_t n = 0;

                n_params = 0;
                for (size_t i = start; i < start + k; i++)
                        if (rows[i].department_id != 0 && streq(rows[i].f[COL_ROLE], "manager") == (bool) manager) {
                                params[n_params++] = DBV_UINT(rows[i].department_id);
                                params[n_params++] = DBV_STR(rows[i].f[COL_ID]);
                                n++;
                        }
                if (n == 0)
                        continue;
                free(sql);
                sql = repeat_sql(manager ? "INSERT INTO department_managers (department_id, account_id) VALUES "
                                         : "INSERT INTO department_members (department_id, account_id) VALUES ",
                                 "(?, (SELECT id FROM accounts WHERE name = ?))", n, "");
                if (!sql)
                        return -ENOMEM;
                r = db_exec(m->db, sql, params, n_params, NULL, NULL, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int write_rows(Manager *m, Import *im, ImportProgressFunc progress, void *userdata, ImportResult *ret,
                      sd_bus_error *error) {
        Row *rows = im->rows.items;
        size_t n = im->rows.n;
        _cleanup_(freep) char (*digests)[SHA256_HEX_SIZE] = NULL;
        _cleanup_(freep) DbValue *params = NULL;
        _cleanup_(freep) char (*codes)[ACTIVATION_CODE_SIZE] = NULL;
        uint64_t expires_sec = 0;
        int r;

        digests = calloc(n + 1, sizeof *digests);
        codes = calloc(n + 1, sizeof *codes);
        params = new0(DbValue, BATCH * 6);
        ret->codes = new0(ImportCode, n + 1);
        if (!digests || !codes || !params || !ret->codes)
                return -ENOMEM;
        r = activation_codes_new(n, codes, digests);
        if (r < 0)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "No random bytes for activation codes: %s",
                                      strerror(-r));
        if (m->config.activation_days > 0)
                expires_sec = session_now() / USEC_PER_SEC + (uint64_t) m->config.activation_days * 24 * 3600;

        r = db_begin(m->db);
        for (size_t start = 0; r >= 0 && start < n; start += BATCH) {
                size_t k = MIN((size_t) BATCH, n - start);

                r = write_batch(m, rows, start, k, digests, expires_sec, params);
                if (r >= 0)
                        report(progress, userdata, "importing", start + k, n);
        }
        if (r >= 0)
                r = db_commit(m->db);
        if (r == -EEXIST) {
                /* An account made meanwhile took one of the ids. */
                db_rollback(m->db);
                explicit_bzero(codes, n * sizeof *codes);
                return bus_error_setf(error, VDESK_ERROR_ACCOUNT_EXISTS,
                                      "Invalid csv: an id was taken while importing; nothing was imported");
        }
        if (r < 0) {
                explicit_bzero(codes, n * sizeof *codes);
                return db_bus_error(m->db, r, error);
        }

        for (size_t i = 0; i < n; i++) {
                snprintf(ret->codes[i].id, sizeof ret->codes[i].id, "%s", rows[i].f[COL_ID]);
                memcpy(ret->codes[i].code, codes[i], sizeof codes[i]);
        }
        ret->n_codes = n;
        explicit_bzero(codes, n * sizeof *codes);
        return 0;
}

int import_staff(Manager *m, const char *data, size_t size, bool dry_run, uid_t actor,
                 ImportProgressFunc progress, void *userdata, ImportResult *ret, sd_bus_error *error) {
        Import im = {
                .rows = { .size = sizeof(Row) },
                .problems = { .size = sizeof(ImportProblem) },
        };
        CsvError e = {};
        int r;

        *ret = (ImportResult) {};
        if (size > IMPORT_MAX_BYTES)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid csv: is larger than %u MiB",
                                      IMPORT_MAX_BYTES >> 20);

        r = csv_read(data, size, IMPORT_MAX_FIELD, on_record, &im, &e);
        if (r == -EBADMSG) {
                /* Past a broken record the file cannot be read further. */
                const char *field = "record";

                if (im.have_header && e.field >= 1 && e.field <= im.n_fields && im.column[e.field - 1] >= 0)
                        field = column_names[im.column[e.field - 1]];
                r = problem(&im, e.line, im.have_header ? field : "header", e.reason);
        }
        if (r >= 0 && !im.have_header)
                r = problem(&im, 1, "header", "is missing: the file is empty");
        /* Rows can only be compared once every column is known. */
        if (r >= 0 && im.problems.n == 0 && im.rows.n == 0)
                r = problem(&im, 2, "record", "is missing: the file has a header and no rows");
        if (r >= 0 && im.have_header && im.rows.n > 0)
                r = check_rows(m, &im, progress, userdata);
        if (r < 0) {
                import_done(&im);
                return r == -ENOMEM ? r : db_bus_error(m->db, r, error);
        }
        if (im.problems.n > 0)
                qsort(im.problems.items, im.problems.n, sizeof(ImportProblem), cmp_problem);
        ret->rows = (unsigned) im.rows.n;

        if (dry_run || im.problems.n > 0) {
                const ImportProblem *first = im.problems.items;

                if (!dry_run)
                        r = bus_error_setf(error, VDESK_ERROR_IMPORT_REJECTED,
                                           "Invalid csv: %zu problem(s), nothing was imported; the first: line %u, "
                                           "field %s %s (a dry run lists them all)",
                                           im.problems.n, first->line, first->field, first->reason);
                ret->problems = im.problems.items;
                ret->n_problems = im.problems.n;
                im.problems = (DbRows) {};
                import_done(&im);
                if (r < 0)
                        import_result_done(ret);
                return r;
        }

        r = write_rows(m, &im, progress, userdata, ret, error);
        if (r < 0) {
                import_done(&im);
                import_result_done(ret);
                return r;
        }
        log_event(LOG_INFO, MID_ACCOUNTS_IMPORTED,
                  "VDESK_COUNT=%zu", ret->n_codes,
                  "VDESK_ACTIVATION_DAYS=%u", m->config.activation_days,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=%zu accounts imported from CSV by uid %u", ret->n_codes, (unsigned) actor);
        import_done(&im);
        return 0;
}
