/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The MariaDB layer against a real server (started by db.sh):
 *
 *   test-db CONFIG SQL_DIR RESTART_SCRIPT
 *
 * the database is created, migrations apply once and are recorded,
 * hostile strings stay data, duplicate keys are named, a rolled-back
 * transaction leaves nothing, and a statement after the server restarted
 * runs on a new connection.
 *
 *   test-db query CONFIG SQL
 *   test-db migrate CONFIG SQL_DIR
 *
 * connect as CONFIG says (db-auth.sh: who, with which password, over TLS)
 * and run one statement, printing the first column of its rows, or the
 * migrations, printing the version; a failure's message on stderr. */

#include <glob.h>
#include "conf.h"
#include "db.h"
#include "db-tests.h"
#include "macro.h"
#include "process.h"
#include "tests.h"

static int name_cb(char *const *cols, unsigned n, void *userdata) {
        char **ret = userdata;

        free(*ret);
        *ret = cols[0] ? strdup(cols[0]) : NULL;
        return 0;
}

static int print_cb(char *const *cols, unsigned n, void *userdata) {
        printf("%s\n", n > 0 && cols[0] ? cols[0] : "NULL");
        return 0;
}

static int one_statement(const char *mode, const char *config, const char *arg) {
        _cleanup_(config_done) VdeskConfig c = {};
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_(freep) char *error = NULL;
        unsigned version;
        int r;

        r = config_load(config, &c, &error);
        if (r < 0) {
                fprintf(stderr, "%s\n", error ?: strerror(-r));
                return 1;
        }
        r = db_open(&c, &db, &error);
        if (r < 0) {
                fprintf(stderr, "%s\n", error ?: strerror(-r));
                return 1;
        }
        if (streq(mode, "migrate")) {
                r = db_migrate(db, arg, &version);
                if (r >= 0)
                        printf("%u\n", version);
        } else
                r = db_exec(db, arg, NULL, 0, print_cb, NULL, NULL);
        if (r < 0) {
                fprintf(stderr, "%s\n", db_error(db));
                return 1;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_(config_done) VdeskConfig c = {};
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_(freep) char *error = NULL, *back = NULL, *null_back = strdup("x");
        const char *hostile = "x'); DROP TABLE accounts; -- \xc3\xa9\"\\";
        unsigned version = 0, migrations = 0;
        uint64_t affected = 0;

        if (argc == 4 && (streq(argv[1], "query") || streq(argv[1], "migrate")))
                return one_statement(argv[1], argv[2], argv[3]);
        if (argc != 4)
                return 2;
        {
                /* the migrations the tree has: sql/NNN-*.sql */
                char pattern[4096];
                glob_t g = {};

                snprintf(pattern, sizeof pattern, "%s/[0-9][0-9][0-9]-*.sql", argv[2]);
                if (glob(pattern, 0, NULL, &g) == 0)
                        migrations = (unsigned) g.gl_pathc;
                globfree(&g);
        }
        CHECK_INT(config_load(argv[1], &c, &error), 0);

        CHECK_INT(db_open(&c, &db, NULL), 0);
        if (!db)
                return test_summary();
        CHECK_INT(db_migrate(db, argv[2], &version), 0);
        CHECK(migrations > 1);
        CHECK_INT(version, migrations);                                 /* each file applied, in order */
        CHECK_INT(count(db, "SELECT COUNT(*) FROM schema_version"), migrations);
        CHECK_INT(db_migrate(db, argv[2], &version), 0);             /* again: nothing to do */
        CHECK_INT(count(db, "SELECT COUNT(*) FROM schema_version"), migrations);

        /* a string that would break a statement built by hand stays data */
        CHECK_INT(db_exec(db, "INSERT INTO accounts (name, full_name) VALUES (?, ?)",
                          (DbValue[]) { DBV_STR("alice"), DBV_STR(hostile) }, 2, NULL, NULL, &affected), 0);
        CHECK_INT(affected, 1);
        CHECK_INT(db_exec(db, "SELECT full_name FROM accounts WHERE name = ?", (DbValue[]) { DBV_STR("alice") }, 1,
                          name_cb, &back, NULL), 0);
        CHECK_STR(back, hostile);
        CHECK_INT(count(db, "SELECT COUNT(*) FROM accounts"), 1);

        /* NULL comes back as NULL; a wrong parameter count is refused */
        CHECK_INT(db_exec(db, "SELECT NULL", NULL, 0, name_cb, &null_back, NULL), 0);
        CHECK(null_back == NULL);
        CHECK_INT(db_exec(db, "SELECT ?", NULL, 0, NULL, NULL, NULL), -EINVAL);

        /* a duplicate key is -EEXIST and names the key */
        CHECK_INT(db_exec(db, "INSERT INTO accounts (name) VALUES (?)", (DbValue[]) { DBV_STR("alice") }, 1,
                          NULL, NULL, NULL), -EEXIST);
        CHECK_STR(db_error_key(db), "name");

        /* a transaction rolled back leaves nothing */
        CHECK_INT(db_begin(db), 0);
        CHECK_INT(db_exec(db, "INSERT INTO accounts (name) VALUES (?)", (DbValue[]) { DBV_STR("bob") }, 1,
                          NULL, NULL, NULL), 0);
        db_rollback(db);
        CHECK_INT(count(db, "SELECT COUNT(*) FROM accounts"), 1);

        /* a foreign key holds: no desktop for an account that is not there */
        CHECK_INT(db_exec(db, "INSERT INTO desktops (name, uuid, account_id, template_id, disk_path, address, mac, rdp_port) "
                          "VALUES ('d', 'u', 999, 999, '/x', 1, 'm', 50000)", NULL, 0, NULL, NULL, NULL), -EIO);

        /* the server restarts under the open connection */
        {
                char *restart[] = { argv[3], NULL };
                SpawnResult res = {};

                CHECK_INT(spawn_run(restart, 60 * USEC_PER_SEC, &res), 0);
                CHECK_INT(res.exit_status, 0);
                spawn_result_done(&res);
        }
        CHECK_INT(count(db, "SELECT COUNT(*) FROM accounts"), 1);

        return test_summary();
}
