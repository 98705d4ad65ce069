/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "conf.h"
#include "macro.h"

/* vdesk's MariaDB layer: the one module that speaks Connector/C. Every
 * statement is prepared and its parameters bound; there is no way to run
 * a string built from input. Results come back row by row as strings. */

typedef struct Db Db;

typedef enum DbType {
        DB_NULL,
        DB_INT,
        DB_UINT,
        DB_STR,
} DbType;

typedef struct DbValue {
        DbType type;
        union {
                int64_t i;
                uint64_t u;
                const char *s;
        };
} DbValue;

#define DBV_NULL     ((DbValue) { .type = DB_NULL })
#define DBV_INT(x)   ((DbValue) { .type = DB_INT, .i = (int64_t) (x) })
#define DBV_UINT(x)  ((DbValue) { .type = DB_UINT, .u = (uint64_t) (x) })
#define DBV_STR(x)   ((DbValue) { .type = DB_STR, .s = (x) })

/* Called for each result row; cols[i] is NULL for SQL NULL. A negative
 * return stops the fetch and is returned by db_exec(). */
typedef int (*DbRowFunc)(char *const *cols, unsigned n_cols, void *userdata);

/* A growing array of result rows of one struct type (size bytes each). */
typedef struct DbRows {
        void *items;
        size_t n, allocated, size;
} DbRows;

/* Appends a zeroed item and returns it; NULL on OOM. */
void *db_rows_push(DbRows *r);

/* A DbRowFunc collecting the first column as strings (ids, names) into
 * the DbRows userdata, whose size is sizeof(char *). */
int db_row_str(char *const *cols, unsigned n_cols, void *userdata);
/* Those strings as a NULL-terminated array the caller frees with
 * strv_free(), emptying r; NULL on OOM (r freed all the same). */
char **db_rows_take_strv(DbRows *r);

/* A DbRowFunc storing the first column as a number in *(uint64_t *)
 * userdata (0 for NULL): for COUNT(*), ids. */
int db_row_u64(char *const *cols, unsigned n_cols, void *userdata);
/* A row callback appending the first column to a strv (userdata: char ***). */
int db_row_strv(char *const *cols, unsigned n_cols, void *userdata);
/* A row callback copying the first column into a name's buffer (userdata:
 * char[NAME_MAX_LEN + 1]). */
int db_row_name(char *const *cols, unsigned n_cols, void *userdata);
/* The first column of the rows of a statement without parameters. */
int db_column_strv(Db *db, const char *sql, char ***ret);

/* Connects as [Database] says (Socket=, or Host= and Port= with TLS= as
 * set), as User= or this process's user, with the password from the
 * credential or PasswordFile= if there is one (config_db_password()),
 * creating the database Name= if it does not exist. On failure, the reason
 * in *ret_error (may be NULL; the caller frees it and logs it), naming the
 * setting when one is at fault. */
int db_open(const VdeskConfig *c, Db **ret, char **ret_error);
Db *db_close(Db *db);

/* Runs one prepared statement with params bound in order. Rows go to row
 * (may be NULL); affected rows to *ret_affected (may be NULL): for an
 * UPDATE the rows it matched, also those it left as they were.
 * -EEXIST on a duplicate key (db_error_key() names the key), -ENOTCONN if
 * the server went away and a reconnect failed, -EIO otherwise (the
 * server's message in db_error()). Outside a transaction a statement that
 * lost its connection is retried once on a fresh one. */
int db_exec(Db *db, const char *sql, const DbValue *params, size_t n_params,
            DbRowFunc row, void *userdata, uint64_t *ret_affected);

/* The id AUTO_INCREMENT gave the last inserted row. */
uint64_t db_last_insert_id(Db *db);

int db_begin(Db *db);
int db_commit(Db *db);
/* Rolls back the open transaction, if any; safe to call always. */
void db_rollback(Db *db);

/* The server's message for the last failure, and for a duplicate key the
 * key's name (the unique index, e.g. "rdp_port"). */
const char *db_error(Db *db);
const char *db_error_key(Db *db);

/* Applies the migrations NNN-name.sql in dir whose number is above the
 * schema_version table's, each in order and recorded there. Returns the
 * version the schema has now. */
int db_migrate(Db *db, const char *dir, unsigned *ret_version);

/* For a D-Bus handler whose statement failed with r: rolls back an open
 * transaction, logs the server's message and sets org.vdesk.Error.Database.
 * Returns the error's negative errno. */
int db_bus_error(Db *db, int r, sd_bus_error *error);

/* For a service's main(): opens the database and applies the migrations in
 * sql_dir, logging what failed. */
int daemon_open_database(const VdeskConfig *c, const char *sql_dir, Db **ret);

/* Splits a migration file into its statements (each ends with ';' at the
 * end of a line; "--" comment lines are dropped). */
int db_split_statements(const char *text, char ***ret);

DEFINE_TRIVIAL_CLEANUP_FUNC(Db *, db_close);
