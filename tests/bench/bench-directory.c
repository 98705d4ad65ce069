/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vdesk-directoryd against its baselines, side by side in one run:
 *   D1 SignIn (D-Bus, MariaDB, yescrypt) vs yescrypt alone (crypt_r at the
 *      same cost): what the service adds to the hash;
 *   D2 ListAccounts, pages of 100 through 10k accounts, vs the plain
 *      statements sent straight to MariaDB with Connector/C; and through
 *      a department's 10k among 30k;
 *   D3 ImportStaff of 10k rows vs 10k CreateAccount calls one by one;
 *   D4 another method's latency (ListMyCategories, what the broker asks
 *      for a staff member's desktops) while 50 sign-ins are in flight, the
 *      daemon hashing on its workers or (restarted by the runner with
 *      SigninWorkers=0) on its loop, and on an idle daemon.
 * Prints "key value" lines; tests/bench/directory makes the table.
 *
 *   bench-directory MARIADB-SOCKET YESCRYPT-COST N
 *   bench-directory burst-setup
 *   bench-directory burst idle|signins     (one "probe MS" line per call) */

#include <crypt.h>
#include <mysql.h>
#include <systemd/sd-event.h>

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

/* ---- D4 ---------------------------------------------------------------- */

#define BURST_ACCOUNTS 50               /* sign-ins in flight at once */
#define BURST_SIGNINS 300               /* in all, each account's next sent when its last is answered */
#define PROBE_EVERY_USEC (10 * 1000)    /* sent on a clock, not after the last answer */
#define IDLE_PROBES 300
#define BURST_PASSWORD "Burst-Pass-2026"

typedef struct Burst {
        sd_event *event;
        sd_bus *signer, *prober;
        char token[80];                 /* the probe account's */
        unsigned signins_sent, signins_done, signins_bad;
        unsigned probes_sent, probes_done, probes_bad;
        bool with_signins;
        double probe_ms[4096];
} Burst;

typedef struct Probe {
        Burst *b;
        unsigned long long sent;
} Probe;

typedef struct SignInCall {
        Burst *b;
        unsigned account;
} SignInCall;

static int sign_in_next(Burst *b, unsigned account);
static void burst_maybe_exit(Burst *b);

static int on_signed_in(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        SignInCall *c = userdata;
        Burst *b = c->b;
        unsigned account = c->account;
        const char *token = NULL;
        int64_t expires;

        free(c);
        if (sd_bus_message_is_method_error(reply, NULL) || sd_bus_message_read(reply, "sx", &token, &expires) < 0 ||
            strlen(token) != 64) {
                if (b->signins_bad++ == 0)
                        fprintf(stderr, "SignIn failed: %s\n", sd_bus_message_get_error(reply) ?
                                sd_bus_message_get_error(reply)->message : "malformed reply");
        }
        b->signins_done++;
        if (b->signins_sent < BURST_SIGNINS)
                (void) sign_in_next(b, account);
        burst_maybe_exit(b);
        return 0;
}

static int sign_in_next(Burst *b, unsigned account) {
        SignInCall *c = calloc(1, sizeof *c);
        char id[16];

        if (!c)
                return -ENOMEM;
        *c = (SignInCall) { .b = b, .account = account };
        snprintf(id, sizeof id, "burst%02u", account);
        b->signins_sent++;
        return sd_bus_call_method_async(b->signer, NULL, DIRECTORYD, "SignIn", on_signed_in, c, "ss", id,
                                        BURST_PASSWORD);
}

static bool burst_over(Burst *b) {
        return b->with_signins ? b->signins_done >= BURST_SIGNINS : b->probes_sent >= IDLE_PROBES;
}

/* Ends the loop once the burst is over and every probe answered. */
static void burst_maybe_exit(Burst *b) {
        if (burst_over(b) && b->probes_done == b->probes_sent)
                sd_event_exit(b->event, 0);
}

static int on_probed(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Probe *p = userdata;
        Burst *b = p->b;

        if (sd_bus_message_is_method_error(reply, NULL))
                b->probes_bad++;
        if (b->probes_done < ELEMENTSOF(b->probe_ms))
                b->probe_ms[b->probes_done] = ms(p->sent, now_usec());
        b->probes_done++;
        free(p);
        burst_maybe_exit(b);
        return 0;
}

static int on_probe_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Burst *b = userdata;
        Probe *p;

        if (burst_over(b) || b->probes_sent >= ELEMENTSOF(b->probe_ms)) {
                burst_maybe_exit(b);
                return sd_event_source_set_enabled(s, SD_EVENT_OFF);
        }
        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        *p = (Probe) { .b = b, .sent = now_usec() };
        b->probes_sent++;
        (void) sd_bus_call_method_async(b->prober, NULL, DIRECTORYD, "ListMyCategories", on_probed, p, "s", b->token);
        return sd_event_source_set_time_relative(s, PROBE_EVERY_USEC);
}

static void burst_setup(void) {
        for (unsigned i = 0; i <= BURST_ACCOUNTS; i++) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                char id[16];
                int r;

                if (i < BURST_ACCOUNTS)
                        snprintf(id, sizeof id, "burst%02u", i);
                else
                        snprintf(id, sizeof id, "prober");
                r = sd_bus_call_method(bus, DIRECTORYD, "CreateAccount", &e, NULL, "sssss", id, "Burst", "staff", "",
                                       BURST_PASSWORD);
                if (r < 0)
                        die_bus("CreateAccount", r, &e);
        }
}

static void burst(bool with_signins) {
        static Burst b;
        sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_event_source *timer = NULL;
        const char *token;
        int64_t expires;
        int r;

        b.with_signins = with_signins;
        r = sd_bus_call_method(bus, DIRECTORYD, "SignIn", &e, &reply, "ss", "prober", BURST_PASSWORD);
        if (r < 0 || sd_bus_message_read(reply, "sx", &token, &expires) < 0)
                die_bus("SignIn prober", r, &e);
        snprintf(b.token, sizeof b.token, "%s", token);
        sd_bus_message_unref(reply);

        r = sd_event_default(&b.event);
        if (r >= 0)
                r = sd_bus_open_system(&b.signer);
        if (r >= 0)
                r = sd_bus_open_system(&b.prober);
        if (r >= 0)
                r = sd_bus_attach_event(b.signer, b.event, 0);
        if (r >= 0)
                r = sd_bus_attach_event(b.prober, b.event, 0);
        for (unsigned i = 0; r >= 0 && with_signins && i < BURST_ACCOUNTS; i++)
                r = sign_in_next(&b, i);
        if (r >= 0)
                /* accuracy 1 µs: the default (250 ms) would let an idle client coalesce probes */
                r = sd_event_add_time_relative(b.event, &timer, CLOCK_MONOTONIC, 0, 1, on_probe_timer, &b);
        if (r >= 0)
                r = sd_event_source_set_enabled(timer, SD_EVENT_ON);
        if (r >= 0)
                r = sd_event_loop(b.event);
        if (r < 0)
                die_bus("burst", r, NULL);
        if (b.signins_bad > 0 || b.probes_bad > 0) {
                fprintf(stderr, "%u sign-ins and %u probes failed\n", b.signins_bad, b.probes_bad);
                exit(1);
        }
        for (unsigned i = 0; i < b.probes_done && i < ELEMENTSOF(b.probe_ms); i++)
                printf("probe %.3f\n", b.probe_ms[i]);
        fprintf(stderr, "%u probes, %u sign-ins\n", b.probes_done, b.signins_done);
        sd_event_source_unref(timer);
        sd_bus_flush_close_unref(b.signer);
        sd_bus_flush_close_unref(b.prober);
        sd_event_unref(b.event);
}

int main(int argc, char *argv[]) {
        double imports[ROUNDS];
        unsigned n, cost;
        int r;

        if (argc >= 2 && strncmp(argv[1], "burst", 5) == 0) {
                r = sd_bus_open_system(&bus);
                if (r < 0)
                        die_bus("bus", r, NULL);
                if (streq(argv[1], "burst-setup"))
                        burst_setup();
                else if (argc == 3)
                        burst(streq(argv[2], "signins"));
                else
                        return 2;
                sd_bus_flush_close_unref(bus);
                return 0;
        }
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
