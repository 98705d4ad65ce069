/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Department networks against their baselines, side by side in one run;
 * prints "key value" lines for tests/bench/networks.
 *
 *   bench-networks alloc MARIADB-SOCKET SQL-DIR N
 *     N1 a desktop's address in a department network with N taken: the
 *        pool's pick (brokerd's network_address_pick: the lowest free
 *        address taken out of the free list, one statement) vs the lowest
 *        free address found by reading every taken address (the host
 *        network's way, desktop.c), p50/p99; each inside the transaction
 *        that makes the desktop, whose commit is not timed;
 *        100 networks with their pools (241 addresses each) created and
 *        deleted.
 *   bench-networks segments N
 *     N2 N VXLAN segments through netd's EnsureNetwork, then RemoveNetwork
 *        (on $DBUS_SYSTEM_BUS_ADDRESS; bridges vdbr1..N made by the
 *        caller), p50/p99 and totals. */

#include "bench.h"
#include "allocate.h"
#include "bus-api.h"
#include "conf.h"
#include "db.h"
#include "macro.h"
#include "network.h"
#include "util.h"

#define PROBES 300
#define NETWORKS 100

static Db *db;

static void must(int r, const char *what) {
        if (r < 0) {
                fprintf(stderr, "%s: %s (%s)\n", what, strerror(-r), db ? db_error(db) : "");
                exit(1);
        }
}

static void sql(const char *q) {
        must(db_exec(db, q, NULL, 0, NULL, NULL, NULL), q);
}

static int u32_row(char *const *c, unsigned n, void *userdata) {
        uint32_t **v = userdata;

        **v = (uint32_t) strtoul(c[0], NULL, 10);
        (*v)++;
        return 0;
}

static NetworkSpec spec(const char *name, const char *subnet, unsigned prefix, const char *gw, const char *lo,
                        const char *hi) {
        NetworkSpec s = { .prefix = prefix, .segment = SEGMENT_NONE };

        snprintf(s.name, sizeof s.name, "%s", name);
        must(ipv4_parse(subnet, &s.subnet), subnet);
        must(ipv4_parse(gw, &s.gateway), gw);
        must(ipv4_parse(lo, &s.range_start), lo);
        must(ipv4_parse(hi, &s.range_end), hi);
        must(network_spec_check(&s, NULL), "network_spec_check");
        return s;
}

static int bench_alloc(const char *socket, const char *sql_dir, unsigned n) {
        VdeskConfig c = {};
        NetworkSpec s = spec("bench", "10.60.0.0", 16, "10.60.0.1", "10.60.0.10", "10.60.255.250");
        uint32_t id, *taken, *end;
        double t[PROBES], base[PROBES], create[NETWORKS], del[NETWORKS], tc = 0, td = 0;
        char q[1024];
        unsigned v;

        must(config_defaults(&c), "config");
        free(c.db_socket);
        c.db_socket = strdup(socket);
        must(db_open(&c, &db, NULL), "db_open");
        must(db_migrate(db, sql_dir, &v), "db_migrate");

        /* a network of 65521 addresses, N of them taken by desktops */
        must(db_begin(db), "begin");
        must(network_insert(db, &s, &id), "network_insert");
        must(db_commit(db), "commit");
        sql("INSERT INTO accounts (name) VALUES ('bench')");
        sql("INSERT INTO templates (name, format) VALUES ('bench', 'qcow2')");
        sql("INSERT INTO template_versions (template_id, version, path, format) SELECT id, 1, '/b/1.qcow2', 'qcow2' FROM templates");
        snprintf(q, sizeof q,
                 "SET STATEMENT max_recursive_iterations = 100000 FOR "
                 "INSERT INTO desktops (name, uuid, account_id, template_id, template_version_id, disk_path, address, "
                 "mac, rdp_port, network_id) "
                 "WITH RECURSIVE k (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < %u) "
                 "SELECT CONCAT('d', i), UUID(), a.id, t.id, v.id, CONCAT('/d/', i), %u + i, CONCAT('m', i), 1 + i, "
                 "IF(i < %u, %u, NULL) FROM k, accounts a, templates t, template_versions v",
                 n, s.range_start, n, id);
        sql(q);
        /* the desktops' addresses are out of the free list */
        snprintf(q, sizeof q,
                 "DELETE f FROM network_free_addresses f JOIN desktops d ON d.address = f.address "
                 "WHERE f.network_id = %u AND d.network_id = %u", id, id);
        sql(q);

        taken = calloc(n + 2, sizeof *taken);
        if (!taken)
                return 1;
        for (unsigned k = 0; k < PROBES; k++) {
                unsigned long long a;
                uint32_t addr;

                /* vdesk: the pick, in the transaction that makes the desktop
                 * (committed, not timed: the address stays taken, as a
                 * desktop's would) */
                must(db_begin(db), "begin");
                a = now_usec();
                must(network_address_pick(db, id, &addr), "pick");
                t[k] = ms(a, now_usec());
                must(db_commit(db), "commit");
                if (addr != s.range_start + n + k)
                        fprintf(stderr, "picked %u, not the lowest free %u\n", addr, s.range_start + n + k), exit(1);

                /* baseline: every taken address read, the lowest gap found */
                must(db_begin(db), "begin");
                a = now_usec();
                end = taken;
                must(db_exec(db, "SELECT address FROM desktops ORDER BY address FOR UPDATE", NULL, 0, u32_row, &end,
                             NULL), "scan");
                must(allocate_lowest_free(taken, (size_t) (end - taken), s.range_start, s.range_end, s.gateway, &addr),
                     "lowest free");
                base[k] = ms(a, now_usec());
                db_rollback(db);
        }
        printf("alloc_taken %u\n", n);
        printf("alloc_pool_p50_ms %.3f\nalloc_pool_p99_ms %.3f\n", pct(t, PROBES, 0.5), pct(t, PROBES, 0.99));
        printf("alloc_scan_p50_ms %.3f\nalloc_scan_p99_ms %.3f\n", pct(base, PROBES, 0.5), pct(base, PROBES, 0.99));

        /* NETWORKS /24 networks with their pools created, then deleted */
        {
                uint32_t ids[NETWORKS];

                for (unsigned k = 0; k < NETWORKS; k++) {
                        char name[16], subnet[16], gw[16], lo[16], hi[16];
                        NetworkSpec x;
                        unsigned long long a;

                        snprintf(name, sizeof name, "b%u", k);
                        snprintf(subnet, sizeof subnet, "10.70.%u.0", k);
                        snprintf(gw, sizeof gw, "10.70.%u.1", k);
                        snprintf(lo, sizeof lo, "10.70.%u.10", k);
                        snprintf(hi, sizeof hi, "10.70.%u.250", k);
                        x = spec(name, subnet, 24, gw, lo, hi);
                        a = now_usec();
                        must(db_begin(db), "begin");
                        must(network_insert(db, &x, &ids[k]), "insert");
                        must(db_commit(db), "commit");
                        create[k] = ms(a, now_usec());
                        tc += create[k];
                }
                for (unsigned k = 0; k < NETWORKS; k++) {
                        unsigned long long a = now_usec();

                        must(db_exec(db, "DELETE FROM networks WHERE id = ?", (DbValue[]) { DBV_UINT(ids[k]) }, 1,
                                     NULL, NULL, NULL), "delete");
                        del[k] = ms(a, now_usec());
                        td += del[k];
                }
        }
        printf("catalog_networks %u\n", NETWORKS);
        printf("catalog_create_p50_ms %.3f\ncatalog_create_p99_ms %.3f\ncatalog_create_total_ms %.1f\n",
               pct(create, NETWORKS, 0.5), pct(create, NETWORKS, 0.99), tc);
        printf("catalog_delete_p50_ms %.3f\ncatalog_delete_p99_ms %.3f\ncatalog_delete_total_ms %.1f\n",
               pct(del, NETWORKS, 0.5), pct(del, NETWORKS, 0.99), td);
        free(taken);
        return 0;
}

static void segment_call(sd_bus *bus, const char *method, unsigned i) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char bridge[16], name[32], subnet[32], gw[32], lo[32], hi[32];
        int r;

        snprintf(bridge, sizeof bridge, "vdbr%u", i);
        snprintf(name, sizeof name, "n%u", i);
        snprintf(subnet, sizeof subnet, "10.%u.%u.0/24", 100 + i / 256, i % 256);
        snprintf(gw, sizeof gw, "10.%u.%u.1", 100 + i / 256, i % 256);
        snprintf(lo, sizeof lo, "10.%u.%u.10", 100 + i / 256, i % 256);
        snprintf(hi, sizeof hi, "10.%u.%u.250", 100 + i / 256, i % 256);
        r = sd_bus_call_method(bus, NETD, method, &e, NULL, "sssssssususassqu", bridge, name, subnet, gw, lo, hi,
                               "vxlan", 0, "", 5000 + i, "", 2, "192.0.2.1", "192.0.2.2", "", 0, 0);
        if (r < 0)
                die_bus(method, r, &e);
}

static int bench_segments(unsigned n) {
        sd_bus *bus = NULL;
        double *up = calloc(n, sizeof *up), *down = calloc(n, sizeof *down), tu = 0, td = 0;
        int r;

        if (!up || !down)
                return 1;
        r = sd_bus_open_system(&bus);
        if (r < 0)
                die_bus("bus", r, NULL);
        for (unsigned i = 0; i < n; i++) {
                unsigned long long a = now_usec();

                segment_call(bus, "EnsureNetwork", i + 1);
                up[i] = ms(a, now_usec());
                tu += up[i];
        }
        for (unsigned i = 0; i < n; i++) {
                unsigned long long a = now_usec();

                segment_call(bus, "RemoveNetwork", i + 1);
                down[i] = ms(a, now_usec());
                td += down[i];
        }
        printf("segments %u\n", n);
        printf("segment_up_p50_ms %.3f\nsegment_up_p99_ms %.3f\nsegment_up_total_ms %.1f\n", pct(up, n, 0.5),
               pct(up, n, 0.99), tu);
        printf("segment_down_p50_ms %.3f\nsegment_down_p99_ms %.3f\nsegment_down_total_ms %.1f\n", pct(down, n, 0.5),
               pct(down, n, 0.99), td);
        sd_bus_flush_close_unref(bus);
        free(up);
        free(down);
        return 0;
}

int main(int argc, char *argv[]) {
        if (argc == 5 && streq(argv[1], "alloc"))
                return bench_alloc(argv[2], argv[3], (unsigned) atoi(argv[4]));
        if (argc == 3 && streq(argv[1], "segments"))
                return bench_segments((unsigned) atoi(argv[2]));
        fprintf(stderr, "usage: bench-networks alloc SOCKET SQL-DIR N | segments N\n");
        return 2;
}
