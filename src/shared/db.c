/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <dirent.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <errmsg.h>

#include "bus-error.h"
#include "db.h"
#include "log.h"
#include "util.h"

/* Statements are prepared once per connection and kept, by their text:
 * a call is then one round trip (execute), not three (prepare, execute,
 * close). The texts are the services' own (literals and the few they
 * build from fixed parts), so the cache stays small. */
#define STMT_CACHE_SIZE 512

typedef struct CachedStmt {
        char *sql;
        MYSQL_STMT *st;
} CachedStmt;

struct Db {
        MYSQL *conn;
        const VdeskConfig *config;
        bool in_transaction;
        char error[512];
        char error_key[65];
        CachedStmt cache[STMT_CACHE_SIZE];
};

/* The statements belong to the connection: they go with it. */
static void stmt_cache_clear(Db *db) {
        for (size_t i = 0; i < STMT_CACHE_SIZE; i++)
                if (db->cache[i].st) {
                        mysql_stmt_close(db->cache[i].st);
                        free(db->cache[i].sql);
                        db->cache[i] = (CachedStmt) {};
                }
}

static size_t stmt_slot(Db *db, const char *sql) {
        size_t h = 14695981039346656037ULL;

        for (const unsigned char *p = (const unsigned char *) sql; *p; p++)
                h = (h ^ *p) * 1099511628211ULL;
        for (size_t k = 0; k < STMT_CACHE_SIZE; k++) {
                size_t i = (h + k) % STMT_CACHE_SIZE;

                if (!db->cache[i].sql || streq(db->cache[i].sql, sql))
                        return i;
        }
        return SIZE_MAX;        /* full: the statement is not kept */
}

static void set_error(Db *db, unsigned code, const char *msg) {
        const char *k, *e;

        snprintf(db->error, sizeof db->error, "%s", strempty(msg));
        db->error_key[0] = 0;
        /* "Duplicate entry 'x' for key 'name'": the key says which unique
         * constraint, so callers can name the field. */
        if (code == ER_DUP_ENTRY && (k = strstr(db->error, "for key '")) && (e = strchr(k + 9, '\''))) {
                size_t l = MIN((size_t) (e - k - 9), sizeof db->error_key - 1);
                memcpy(db->error_key, k + 9, l);
                db->error_key[l] = 0;
        }
}

static bool identifier_is_valid(const char *s) {
        if (isempty(s) || strlen(s) > 64)
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char) *p) && *p != '_')
                        return false;
        return true;
}

static int exec_once(Db *db, const char *sql, const DbValue *params, size_t n_params,
                     DbRowFunc row, void *userdata, uint64_t *ret_affected);

/* The TLS options of a TCP connection, as [Database] TLS= asks. */
static int set_tls_options(Db *db, MYSQL *m) {
        const VdeskConfig *c = db->config;
        my_bool on = 1, verify = c->db_tls == DB_TLS_VERIFY;

        if (isempty(c->db_host) || c->db_tls == DB_TLS_NO)
                return 0;
        /* A server that offers no TLS is refused by Connector/C when it is
         * to verify, and by db_connect() after the sign-in otherwise. */
        if (mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &on) != 0 ||
            mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify) != 0 ||
            (!isempty(c->db_tls_ca) && mysql_optionsv(m, MYSQL_OPT_SSL_CA, c->db_tls_ca) != 0) ||
            (!isempty(c->db_tls_cert) && mysql_optionsv(m, MYSQL_OPT_SSL_CERT, c->db_tls_cert) != 0) ||
            (!isempty(c->db_tls_key) && mysql_optionsv(m, MYSQL_OPT_SSL_KEY, c->db_tls_key) != 0)) {
                snprintf(db->error, sizeof db->error, "[Database] TLS=%s: this MariaDB client library takes no TLS options",
                         db_tls_to_string(c->db_tls));
                return -EOPNOTSUPP;
        }
        return 0;
}

/* The statements and the connection they belong to. */
static void db_disconnect(Db *db) {
        stmt_cache_clear(db);
        if (db->conn) {
                mysql_close(db->conn);
                db->conn = NULL;
        }
}

/* Who signs in: [Database] User= (or the service's user) and the password,
 * read anew for each connection and wiped after it rather than kept in
 * memory for the reconnects. */
static int read_credentials(Db *db, char **ret_user, char **ret_password) {
        const VdeskConfig *c = db->config;
        _cleanup_(freep) char *user = NULL, *error = NULL;
        int r;

        r = config_db_user(c, &user);
        if (r < 0) {
                snprintf(db->error, sizeof db->error, "[Database] User= is empty and the user this service runs as "
                         "has no name: %s", strerror(-r));
                return r;
        }
        r = config_db_password(c, ret_password, &error);
        if (r < 0) {
                snprintf(db->error, sizeof db->error, "%s", error ?: strerror(-r));
                return r;
        }
        *ret_user = TAKE_PTR(user);
        return 0;
}

/* A client handle with vdesk's timeouts, character set and TLS options. */
static int client_new(Db *db, MYSQL **ret) {
        unsigned timeout = 10;
        MYSQL *m;
        int r;

        m = mysql_init(NULL);
        if (!m)
                return -ENOMEM;
        (void) mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
        (void) mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
        (void) mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
        (void) mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
        r = set_tls_options(db, m);
        if (r < 0) {
                mysql_close(m);
                return r;
        }
        *ret = m;
        return 0;
}

/* Named, so that whoever reads it knows which setting to look at: the CA,
 * the server's certificate, or a server without TLS. */
static void name_tls_error(Db *db) {
        const VdeskConfig *c = db->config;
        char e[sizeof db->error];

        snprintf(e, sizeof e, "%s", db->error);
        snprintf(db->error, sizeof db->error, "[Database] TLS=%s%s%s%s: %.400s",
                 db_tls_to_string(c->db_tls),
                 isempty(c->db_tls_ca) ? "" : " (TLSCA=", strempty(c->db_tls_ca),
                 isempty(c->db_tls_ca) ? "" : ")", e);
}

/* Connects m to the server and signs in, over TLS where [Database] TLS=
 * asks for it; -ENOTCONN, with db->error saying why, if not. */
static int client_sign_in(Db *db, MYSQL *m, const char *user, const char *password) {
        const VdeskConfig *c = db->config;

        /* No database at connect time: it may not exist yet. */
        if (!mysql_real_connect(m,
                                isempty(c->db_host) ? NULL : c->db_host,
                                user,
                                password,
                                NULL,
                                isempty(c->db_host) ? 0 : c->db_port,
                                isempty(c->db_host) ? c->db_socket : NULL,
                                /* an UPDATE's affected rows are those it matched, changed or not */
                                CLIENT_FOUND_ROWS)) {
                set_error(db, mysql_errno(m), mysql_error(m));
                if (mysql_errno(m) == CR_SSL_CONNECTION_ERROR)
                        name_tls_error(db);
                log_debug("Cannot connect to MariaDB as %s: %s", user, db->error);
                return -ENOTCONN;
        }
        /* Connector/C keeps a copy for a reconnect of its own, which vdesk
         * does not use (it reconnects by calling this again). */
        if (m->passwd)
                explicit_bzero(m->passwd, strlen(m->passwd));
        /* Connector/C 3.3 refuses a server without TLS only when it is to
         * verify the certificate; with TLS=yes it would carry on in the
         * clear, so that is checked here, before any statement. */
        if (!isempty(c->db_host) && c->db_tls != DB_TLS_NO && !mysql_get_ssl_cipher(m)) {
                snprintf(db->error, sizeof db->error, "[Database] TLS=%s: the server %s offers no TLS",
                         db_tls_to_string(c->db_tls), c->db_host);
                log_debug("%s", db->error);
                return -ENOTCONN;
        }
        return 0;
}

/* [Database] Name=, made if it is not there yet. The name is an
 * identifier, which no statement can take as a parameter: it comes from
 * the configuration and is checked to be [A-Za-z0-9_] before it is quoted
 * into the statement. */
static int use_database(Db *db) {
        const VdeskConfig *c = db->config;
        char sql[128];
        int r;

        snprintf(sql, sizeof sql, "CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
                 c->db_name);
        r = exec_once(db, sql, NULL, 0, NULL, NULL, NULL);
        if (r < 0)
                return r;
        if (mysql_select_db(db->conn, c->db_name) != 0) {
                set_error(db, mysql_errno(db->conn), mysql_error(db->conn));
                return -EIO;
        }
        return 0;
}

static int db_connect(Db *db) {
        _cleanup_(erase_and_freep) char *password = NULL;
        _cleanup_(freep) char *user = NULL;
        MYSQL *m;
        int r;

        db_disconnect(db);
        r = read_credentials(db, &user, &password);
        if (r < 0)
                return r;
        r = client_new(db, &m);
        if (r < 0)
                return r;
        r = client_sign_in(db, m, user, password);
        if (r < 0) {
                mysql_close(m);
                return r;
        }
        db->conn = m;
        db->in_transaction = false;
        return use_database(db);
}

int db_open(const VdeskConfig *c, Db **ret, char **ret_error) {
        _cleanup_(db_closep) Db *db = NULL;
        int r;

        if (!identifier_is_valid(c->db_name)) {
                if (ret_error && asprintf(ret_error, "[Database] Name=%s is not a name of letters, digits and _",
                                          c->db_name) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        db = calloc(1, sizeof *db);
        if (!db)
                return -ENOMEM;
        db->config = c;
        r = db_connect(db);
        if (r < 0) {
                log_debug("%s", db->error);
                if (ret_error)
                        *ret_error = strdup(db->error);
                return r;
        }
        *ret = TAKE_PTR(db);
        return 0;
}

Db *db_close(Db *db) {
        if (!db)
                return NULL;
        db_disconnect(db);
        free(db);
        return NULL;
}

const char *db_error(Db *db) {
        return db->error;
}

const char *db_error_key(Db *db) {
        return db->error_key;
}

uint64_t db_last_insert_id(Db *db) {
        return db->conn ? (uint64_t) mysql_insert_id(db->conn) : 0;
}

static int stmt_error(Db *db, MYSQL_STMT *st) {
        unsigned code = mysql_stmt_errno(st);

        set_error(db, code, mysql_stmt_error(st));
        switch (code) {
        case ER_DUP_ENTRY:
                return -EEXIST;
        case CR_SERVER_GONE_ERROR:
        case CR_SERVER_LOST:
        case CR_CONNECTION_ERROR:
        case CR_CONN_HOST_ERROR:
                return -ENOTCONN;
        default:
                return -EIO;
        }
}

static int fetch_rows(Db *db, MYSQL_STMT *st, MYSQL_RES *meta, DbRowFunc row, void *userdata) {
        unsigned n = mysql_num_fields(meta);
        _cleanup_(freep) MYSQL_BIND *bind = NULL;
        _cleanup_(freep) unsigned long *lengths = NULL;
        _cleanup_(freep) my_bool *nulls = NULL;
        _cleanup_(freep) char **cols = NULL;
        MYSQL_FIELD *fields = mysql_fetch_fields(meta);
        my_bool one = 1;
        int r = 0;

        (void) mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &one);
        if (mysql_stmt_store_result(st) != 0)
                return stmt_error(db, st);

        bind = calloc(n, sizeof *bind);
        lengths = calloc(n, sizeof *lengths);
        nulls = calloc(n, sizeof *nulls);
        cols = calloc(n + 1, sizeof *cols);
        if (!bind || !lengths || !nulls || !cols)
                return -ENOMEM;
        for (unsigned i = 0; i < n; i++) {
                unsigned long size = MAX(fields[i].max_length, 64ul) + 1;

                cols[i] = calloc(1, size);
                if (!cols[i]) {
                        r = -ENOMEM;
                        goto out;
                }
                bind[i] = (MYSQL_BIND) {
                        .buffer_type = MYSQL_TYPE_STRING,
                        .buffer = cols[i],
                        .buffer_length = size,
                        .length = &lengths[i],
                        .is_null = &nulls[i],
                };
        }
        if (mysql_stmt_bind_result(st, bind) != 0) {
                r = stmt_error(db, st);
                goto out;
        }
        for (;;) {
                _cleanup_(freep) char **view = calloc(n + 1, sizeof *view);
                int f = mysql_stmt_fetch(st);

                if (f == MYSQL_NO_DATA)
                        break;
                if (f == 1) {
                        r = stmt_error(db, st);
                        break;
                }
                if (!view) {
                        r = -ENOMEM;
                        break;
                }
                for (unsigned i = 0; i < n; i++) {
                        cols[i][MIN(lengths[i], bind[i].buffer_length - 1)] = 0;
                        view[i] = nulls[i] ? NULL : cols[i];
                }
                if (row) {
                        r = row(view, n, userdata);
                        if (r < 0)
                                break;
                }
        }
out:
        for (unsigned i = 0; i < n; i++)
                free(cols[i]);
        return r;
}

/* The prepared statement of sql: the connection's, or prepared now and
 * kept if there is room (*ret_kept). */
static int stmt_get(Db *db, const char *sql, MYSQL_STMT **ret, bool *ret_kept) {
        MYSQL_STMT *st;
        size_t slot;
        int r;

        slot = stmt_slot(db, sql);
        if (slot != SIZE_MAX && db->cache[slot].st) {
                *ret = db->cache[slot].st;
                *ret_kept = true;
                return 0;
        }
        st = mysql_stmt_init(db->conn);
        if (!st)
                return -ENOMEM;
        if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
                r = stmt_error(db, st);
                mysql_stmt_close(st);
                return r;
        }
        *ret_kept = false;
        if (slot != SIZE_MAX) {
                char *copy = strdup(sql);

                if (copy) {
                        db->cache[slot] = (CachedStmt) { .sql = copy, .st = st };
                        *ret_kept = true;
                }
        }
        *ret = st;
        return 0;
}

static void bind_value(MYSQL_BIND *b, const DbValue *v) {
        switch (v->type) {
        case DB_NULL:
                b->buffer_type = MYSQL_TYPE_NULL;
                break;
        case DB_INT:
        case DB_UINT:
                b->buffer_type = MYSQL_TYPE_LONGLONG;
                b->buffer = (void *) &v->i;
                b->is_unsigned = v->type == DB_UINT;
                break;
        case DB_STR:
                b->buffer_type = MYSQL_TYPE_STRING;
                b->buffer = (void *) v->s;
                b->buffer_length = strlen(v->s);
                break;
        }
}

/* Binds params to st, as many as it takes; *ret_bind (the caller frees it
 * after the execution) points into params. */
static int bind_params(Db *db, MYSQL_STMT *st, const DbValue *params, size_t n_params, MYSQL_BIND **ret_bind) {
        _cleanup_(freep) MYSQL_BIND *bind = NULL;

        if (mysql_stmt_param_count(st) != n_params) {
                snprintf(db->error, sizeof db->error, "statement takes %lu parameters, %zu given",
                         mysql_stmt_param_count(st), n_params);
                return -EINVAL;
        }
        if (n_params == 0)
                return 0;
        bind = calloc(n_params, sizeof *bind);
        if (!bind)
                return -ENOMEM;
        for (size_t i = 0; i < n_params; i++)
                bind_value(&bind[i], &params[i]);
        if (mysql_stmt_bind_param(st, bind) != 0)
                return stmt_error(db, st);
        *ret_bind = TAKE_PTR(bind);
        return 0;
}

/* Executes st, hands its rows (if any) to row, says how many it changed. */
static int stmt_run(Db *db, MYSQL_STMT *st, DbRowFunc row, void *userdata, uint64_t *ret_affected) {
        MYSQL_RES *meta;
        int r;

        if (mysql_stmt_execute(st) != 0)
                return stmt_error(db, st);
        meta = mysql_stmt_result_metadata(st);
        if (meta) {
                r = fetch_rows(db, st, meta, row, userdata);
                mysql_free_result(meta);
                if (r < 0)
                        return r;
        }
        if (ret_affected)
                *ret_affected = (uint64_t) mysql_stmt_affected_rows(st);
        return 0;
}

/* A statement that was not kept goes; a kept one is ready for its next
 * execution, unless the connection is gone (r), and they all with it. */
static void stmt_release(Db *db, MYSQL_STMT *st, bool kept, int r) {
        if (!kept)
                mysql_stmt_close(st);
        else if (r == -ENOTCONN)
                stmt_cache_clear(db);
        else
                (void) mysql_stmt_free_result(st);
}

static int exec_once(Db *db, const char *sql, const DbValue *params, size_t n_params,
                     DbRowFunc row, void *userdata, uint64_t *ret_affected) {
        _cleanup_(freep) MYSQL_BIND *bind = NULL;
        MYSQL_STMT *st = NULL;
        bool kept = false;
        int r;

        if (!db->conn)
                return -ENOTCONN;
        r = stmt_get(db, sql, &st, &kept);
        if (r < 0)
                return r;
        r = bind_params(db, st, params, n_params, &bind);
        if (r >= 0)
                r = stmt_run(db, st, row, userdata, ret_affected);
        stmt_release(db, st, kept, r);
        return r;
}

int db_exec(Db *db, const char *sql, const DbValue *params, size_t n_params,
            DbRowFunc row, void *userdata, uint64_t *ret_affected) {
        int r;

        r = exec_once(db, sql, params, n_params, row, userdata, ret_affected);
        if (r == -ENOTCONN && !db->in_transaction) {
                log_debug("MariaDB connection lost (%s), reconnecting.", db->error);
                r = db_connect(db);
                if (r >= 0)
                        r = exec_once(db, sql, params, n_params, row, userdata, ret_affected);
        }
        return r;
}

int db_begin(Db *db) {
        int r = db_exec(db, "START TRANSACTION", NULL, 0, NULL, NULL, NULL);

        if (r >= 0)
                db->in_transaction = true;
        return r;
}

int db_commit(Db *db) {
        int r = db_exec(db, "COMMIT", NULL, 0, NULL, NULL, NULL);

        db->in_transaction = false;
        return r;
}

void db_rollback(Db *db) {
        if (!db->in_transaction)
                return;
        (void) exec_once(db, "ROLLBACK", NULL, 0, NULL, NULL, NULL);
        db->in_transaction = false;
}

int db_split_statements(const char *text, char ***ret) {
        _cleanup_(strv_freep) char **l = NULL;
        _cleanup_(freep) char *cur = NULL;
        size_t n = 0, cur_len = 0;
        const char *p = text;

        while (*p) {
                const char *e = strchrnul(p, '\n');
                size_t len = (size_t) (e - p);
                const char *s = p;
                char *t;

                while (len > 0 && isspace((unsigned char) *s))
                        s++, len--;
                while (len > 0 && isspace((unsigned char) s[len - 1]))
                        len--;
                p = *e ? e + 1 : e;
                if (len == 0 || (len >= 2 && s[0] == '-' && s[1] == '-'))
                        continue;

                t = realloc(cur, cur_len + len + 2);
                if (!t)
                        return -ENOMEM;
                cur = t;
                if (cur_len > 0)
                        cur[cur_len++] = '\n';
                memcpy(cur + cur_len, s, len);
                cur_len += len;
                cur[cur_len] = 0;

                if (s[len - 1] == ';') {
                        char **nl;

                        cur[--cur_len] = 0;     /* the ';' itself */
                        nl = realloc(l, (n + 2) * sizeof *nl);
                        if (!nl)
                                return -ENOMEM;
                        l = nl;
                        l[n++] = TAKE_PTR(cur);
                        l[n] = NULL;
                        cur_len = 0;
                }
        }
        if (cur_len > 0)
                return -EINVAL;         /* a statement without its ';' */
        if (!l && !(l = calloc(1, sizeof *l)))
                return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

void *db_rows_push(DbRows *r) {
        if (r->n == r->allocated) {
                size_t na = r->allocated ? r->allocated * 2 : 16;
                void *t = realloc(r->items, na * r->size);
                if (!t)
                        return NULL;
                r->items = t;
                r->allocated = na;
        }
        memset((char *) r->items + r->n * r->size, 0, r->size);
        return (char *) r->items + r->n++ * r->size;
}

int db_row_str(char *const *cols, unsigned n, void *userdata) {
        char **s = db_rows_push(userdata);

        if (!s)
                return -ENOMEM;
        *s = strdup(n > 0 && cols[0] ? cols[0] : "");
        return *s ? 0 : -ENOMEM;
}

char **db_rows_take_strv(DbRows *r) {
        size_t n = r->n, size = r->size;
        char **l;

        /* The pushed item is zeroed: it is the closing NULL. */
        if (!db_rows_push(r)) {
                l = r->items;
                for (size_t i = 0; i < n; i++)
                        free(l[i]);
                free(l);
                l = NULL;
        } else
                l = r->items;
        *r = (DbRows) { .size = size };
        return l;
}

int db_row_u64(char *const *cols, unsigned n, void *userdata) {
        *(uint64_t *) userdata = n > 0 && cols[0] ? strtoull(cols[0], NULL, 10) : 0;
        return 0;
}

int db_row_strv(char *const *cols, unsigned n, void *userdata) {
        return n > 0 && cols[0] ? strv_extend(userdata, cols[0]) : 0;
}

int db_row_name(char *const *cols, unsigned n, void *userdata) {
        snprintf(userdata, NAME_MAX_LEN + 1, "%s", n > 0 && cols[0] ? cols[0] : "");
        return 0;
}

int db_column_strv(Db *db, const char *sql, char ***ret) {
        _cleanup_(strv_freep) char **l = NULL;
        int r;

        r = db_exec(db, sql, NULL, 0, db_row_strv, &l, NULL);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

static int version_cb(char *const *cols, unsigned n, void *userdata) {
        unsigned *v = userdata;

        if (cols[0])
                *v = (unsigned) strtoul(cols[0], NULL, 10);
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int migrate_locked(Db *db, const char *dir, unsigned *ret_version);

int db_migrate(Db *db, const char *dir, unsigned *ret_version) {
        unsigned got = 0;
        int r;

        /* Every vdesk service migrates at start; a named lock lets one at a
         * time look at schema_version and apply what is missing. */
        r = db_exec(db, "SELECT GET_LOCK('vdesk.migrate', 60)", NULL, 0, version_cb, &got, NULL);
        if (r < 0)
                return r;
        if (got != 1) {
                snprintf(db->error, sizeof db->error, "another service held the migration lock for 60 s");
                return -EBUSY;
        }
        r = migrate_locked(db, dir, ret_version);
        (void) db_exec(db, "SELECT RELEASE_LOCK('vdesk.migrate')", NULL, 0, NULL, NULL, NULL);
        return r;
}

static int migrate_locked(Db *db, const char *dir, unsigned *ret_version) {
        _cleanup_(strv_freep) char **files = NULL;
        unsigned current = 0;
        size_t n = 0;
        DIR *d;
        int r;

        r = db_exec(db,
                    "CREATE TABLE IF NOT EXISTS schema_version ("
                    " version INT UNSIGNED NOT NULL PRIMARY KEY,"
                    " name VARCHAR(255) NOT NULL,"
                    " applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP"
                    ") ENGINE=InnoDB",
                    NULL, 0, NULL, NULL, NULL);
        if (r < 0)
                return r;
        r = db_exec(db, "SELECT COALESCE(MAX(version), 0) FROM schema_version", NULL, 0, version_cb, &current, NULL);
        if (r < 0)
                return r;

        d = opendir(dir);
        if (!d)
                return -errno;
        for (struct dirent *de; (de = readdir(d)); ) {
                size_t l = strlen(de->d_name);

                if (l < 9 || !isdigit((unsigned char) de->d_name[0]) || !isdigit((unsigned char) de->d_name[1]) ||
                    !isdigit((unsigned char) de->d_name[2]) || de->d_name[3] != '-' || !streq(de->d_name + l - 4, ".sql"))
                        continue;
                r = strv_extend(&files, de->d_name);
                if (r < 0) {
                        closedir(d);
                        return r;
                }
                n++;
        }
        closedir(d);
        if (files)
                qsort(files, n, sizeof *files, cmp_str);

        for (size_t i = 0; i < n; i++) {
                _cleanup_(freep) char *path = NULL, *text = NULL;
                _cleanup_(strv_freep) char **stmts = NULL;
                unsigned v = (unsigned) strtoul(files[i], NULL, 10);

                if (v <= current)
                        continue;
                if (asprintf(&path, "%s/%s", dir, files[i]) < 0)
                        return -ENOMEM;
                r = read_full_file(path, 1 << 20, &text, NULL);
                if (r < 0)
                        return r;
                r = db_split_statements(text, &stmts);
                if (r < 0) {
                        snprintf(db->error, sizeof db->error, "%s: a statement does not end with ';'", files[i]);
                        return r;
                }
                /* MariaDB commits DDL implicitly, so a migration is not one
                 * transaction: each migration is written to be re-runnable
                 * (IF NOT EXISTS), and its version is recorded only after all
                 * of its statements ran. */
                for (char **s = stmts; *s; s++) {
                        r = db_exec(db, *s, NULL, 0, NULL, NULL, NULL);
                        if (r < 0) {
                                char e[sizeof db->error];
                                snprintf(e, sizeof e, "%s", db->error);
                                snprintf(db->error, sizeof db->error, "%.64s: %.400s", files[i], e);
                                return r;
                        }
                }
                r = db_exec(db, "INSERT INTO schema_version (version, name) VALUES (?, ?)",
                            (DbValue[]) { DBV_UINT(v), DBV_STR(files[i]) }, 2, NULL, NULL, NULL);
                if (r < 0)
                        return r;
                current = v;
        }
        *ret_version = current;
        return 0;
}

int daemon_open_database(const VdeskConfig *c, const char *sql_dir, Db **ret) {
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_(freep) char *error = NULL;
        unsigned version = 0;
        int r;

        r = db_open(c, &db, &error);
        if (r < 0)
                return log_error_errno(r, "Cannot open the database %s: %s", c->db_name, error ?: strerror(-r));
        r = db_migrate(db, sql_dir, &version);
        if (r < 0)
                return log_error_errno(r, "Cannot migrate the database: %s", db_error(db));
        log_info("Database %s at schema version %u.", c->db_name, version);
        *ret = TAKE_PTR(db);
        return 0;
}

int db_bus_error(Db *db, int r, sd_bus_error *error) {
        log_error("Database failure: %s", db->error);
        db_rollback(db);
        return bus_error_setf(error, VDESK_ERROR_DATABASE, "Database failure: %s",
                              r == -ENOTCONN ? "no connection to MariaDB" : db->error);
}
