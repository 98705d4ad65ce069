/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vdesk-directoryd against its baselines, side by side in one run:
 *   D1 SignIn (D-Bus, MariaDB, yescrypt) vs yescrypt alone (crypt_r at the
 *      same cost): what the service adds to the hash;
 *   D2 ListAccounts, pages of 100 through 10k accounts, vs the plain
 *      statements sent straight to MariaDB with Connector/C; and through
 *      a department's 10k among 30k;
 *   D3 ImportStaff of 10k rows vs 10k CreateAccount calls one by one.
 * Prints "key value" lines; tests/bench/directory makes the table.
 *
 *   bench-directory MARIADB-SOCKET YESCRYPT-COST N */

#include <crypt.h>
#include <mysql.h>

#include "bench.h"
#include "bus-api.h"
#include "macro.h"

#define PAGE 100
#define ROUNDS 3
#define SIGNINS 30

static sd_bus *bus;

static void create_singles(unsigned n) {
        unsigned long long t0 = now_usec();

        for (unsigned i = 0; i < n; i++) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                char id[32];
                int r;

                snprintf(id, sizeof id, "c%05u", i);
                r = sd_bus_call_method(bus, DIRECTORYD, "CreateAccount", &e, NULL, "sssss", id, "Single Account",
                                       "staff", "", "");
                if (r < 0)
                        die_bus("CreateAccount", r, &e);
        }
        printf("create_singles_ms %.1f\n", ms(t0, now_usec()));
}

static double import_once(unsigned round, unsigned n) {
        sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char *csv = malloc((size_t) n * 80 + 64);
        size_t len;
        unsigned long long t0;
        int r;

        if (!csv)
                exit(1);
        len = (size_t) sprintf(csv, "id,name,email,department\r\n");
        for (unsigned i = 0; i < n; i++)
                len += (size_t) sprintf(csv + len, "i%u-%05u,\"Imported, Number %u\",i%u-%05u@example.org,bench%u\r\n",
                                        round, i, i, round, i, round);
        r = sd_bus_message_new_method_call(bus, &m, DIRECTORYD, "ImportStaff");
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', csv, len);
        if (r >= 0)
                r = sd_bus_message_append(m, "b", 0);
        if (r < 0)
                die_bus("ImportStaff message", r, NULL);
        t0 = now_usec();
        r = sd_bus_call(bus, m, 600 * USEC_PER_SEC, &e, &reply);
        if (r < 0)
                die_bus("ImportStaff", r, &e);
        double t = ms(t0, now_usec());
        sd_bus_message_unref(reply);
        sd_bus_message_unref(m);
        free(csv);
        return t;
}

static void list_pages(const char *department, unsigned n, const char *key) {
        double v[ROUNDS * (10000 / PAGE + 1)];
        size_t k = 0;

        for (unsigned round = 0; round < ROUNDS; round++)
                for (unsigned off = 0; off < n && k < ELEMENTSOF(v); off += PAGE) {
                        sd_bus_error e = SD_BUS_ERROR_NULL;
                        sd_bus_message *reply = NULL;
                        unsigned long long t0 = now_usec();
                        int r;

                        r = sd_bus_call_method(bus, DIRECTORYD, "ListAccounts", &e, &reply, "sssuu", "", department, "",
                                               off, PAGE);
                        if (r < 0)
                                die_bus("ListAccounts", r, &e);
                        v[k++] = ms(t0, now_usec());
                        sd_bus_message_unref(reply);
                }
        printf("%s_p50_ms %.3f\n%s_p99_ms %.3f\n", key, pct(v, k, 0.5), key, pct(v, k, 0.99));
}

/* What ListAccounts runs for a page of all accounts, straight to the
 * server (text protocol, values inlined: the most direct way), in the
 * plain form: COUNT(*), then the page with ORDER BY, LIMIT and OFFSET. */
static void list_pages_sql(const char *socket, unsigned n) {
        double v[ROUNDS * (10000 / PAGE + 1)];
        size_t k = 0;
        MYSQL *db = mysql_init(NULL);

        if (!mysql_real_connect(db, NULL, "root", NULL, "vdesk", 0, socket, 0)) {
                fprintf(stderr, "mysql: %s\n", mysql_error(db));
                exit(1);
        }
        for (unsigned round = 0; round < ROUNDS; round++)
                for (unsigned off = 0; off < n && k < ELEMENTSOF(v); off += PAGE) {
                        unsigned long long t0 = now_usec();

                        for (int stmt = 0; stmt < 2; stmt++) {
                                char q[1024];
                                MYSQL_RES *res;

                                if (stmt == 0)
                                        snprintf(q, sizeof q, "SELECT COUNT(*) FROM accounts a");
                                else
                                        snprintf(q, sizeof q,
                                                 "SELECT a.name, a.full_name, a.role, COALESCE(a.email, ''), "
                                                 "IF(EXISTS (SELECT 1 FROM sessions s WHERE s.account_id = a.id "
                                                 "AND s.expires_at > NOW()), 'online', 'offline'), "
                                                 "CAST(UNIX_TIMESTAMP(a.created_at) * 1000000 AS UNSIGNED), "
                                                 "CAST(UNIX_TIMESTAMP(a.updated_at) * 1000000 AS UNSIGNED) "
                                                 "FROM accounts a ORDER BY a.name LIMIT %u OFFSET %u", PAGE, off);
                                if (mysql_query(db, q) != 0 || !(res = mysql_store_result(db))) {
                                        fprintf(stderr, "mysql: %s\n", mysql_error(db));
                                        exit(1);
                                }
                                while (mysql_fetch_row(res))
                                        ;
                                mysql_free_result(res);
                        }
                        v[k++] = ms(t0, now_usec());
                }
        printf("sql_list_p50_ms %.3f\nsql_list_p99_ms %.3f\n", pct(v, k, 0.5), pct(v, k, 0.99));
        mysql_close(db);
}

static void sign_ins(unsigned cost) {
        const char *pw = "Bench-Pass-2026";
        double svc[SIGNINS], raw[SIGNINS];
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, DIRECTORYD, "CreateAccount", &e, NULL, "sssss", "signer", "Signer", "staff", "", pw);
        if (r < 0)
                die_bus("CreateAccount signer", r, &e);
        for (unsigned i = 0; i < SIGNINS; i++) {
                sd_bus_message *reply = NULL;
                struct crypt_data cd = {};
                char salt[CRYPT_GENSALT_OUTPUT_SIZE];
                const char *token;
                int64_t expires;
                unsigned long long t0;

                /* interleaved: the service's sign-in, then the hash alone */
                t0 = now_usec();
                r = sd_bus_call_method(bus, DIRECTORYD, "SignIn", &e, &reply, "ss", "signer", pw);
                if (r < 0)
                        die_bus("SignIn", r, &e);
                svc[i] = ms(t0, now_usec());
                if (sd_bus_message_read(reply, "sx", &token, &expires) >= 0)
                        (void) sd_bus_call_method(bus, DIRECTORYD, "SignOut", NULL, NULL, "s", token);
                sd_bus_message_unref(reply);

                t0 = now_usec();
                if (!crypt_gensalt_rn("$y$", cost, NULL, 0, salt, sizeof salt) || !crypt_r(pw, salt, &cd)) {
                        fprintf(stderr, "crypt failed\n");
                        exit(1);
                }
                raw[i] = ms(t0, now_usec());
        }
        printf("signin_p50_ms %.2f\nsignin_p99_ms %.2f\n", pct(svc, SIGNINS, 0.5), pct(svc, SIGNINS, 0.99));
        printf("yescrypt_p50_ms %.2f\nyescrypt_p99_ms %.2f\n", pct(raw, SIGNINS, 0.5), pct(raw, SIGNINS, 0.99));
}

int main(int argc, char *argv[]) {
        double imports[ROUNDS];
        unsigned n, cost;
        int r;

        if (argc != 4)
                return 2;
        cost = (unsigned) atoi(argv[2]);
        n = (unsigned) atoi(argv[3]);
        r = sd_bus_open_system(&bus);
        if (r < 0)
                die_bus("bus", r, NULL);

        for (unsigned round = 0; round < ROUNDS; round++) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                char dep[16];

                snprintf(dep, sizeof dep, "bench%u", round);
                r = sd_bus_call_method(bus, DIRECTORYD, "CreateDepartment", &e, NULL, "ssq", dep, "Bench", 2026);
                if (r < 0)
                        die_bus("CreateDepartment", r, &e);
        }
        /* D2 on a directory of exactly n accounts: the first import's */
        imports[0] = import_once(0, n);
        list_pages("", n, "list_all");
        list_pages_sql(argv[1], n);
        create_singles(n);
        for (unsigned round = 1; round < ROUNDS; round++)
                imports[round] = import_once(round, n);
        printf("import_ms %.1f\n", pct(imports, ROUNDS, 0.5));
        /* a department's 10k among 3n + 1 */
        list_pages("bench0", n, "list_department");
        sign_ins(cost);
        sd_bus_flush_close_unref(bus);
        return 0;
}
