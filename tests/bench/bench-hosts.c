/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Hosts' benchmarks (tests/bench/hosts runs them on a private host):
 *
 *   bench-hosts stats URI all|load ROUNDS
 *                                  H1: every running domain's figures (all:
 *                                  vdesk-monitord's; load: the scheduler's)
 *                                  in one virConnectGetAllDomainStats call
 *                                  vs one call per domain, interleaved
 *   bench-hosts bridges URI K      N2's bridge: K department networks' libvirt
 *                                  networks (bridge, gateway, DHCP) defined
 *                                  and started as the broker does
 *                                  (network_libvirt_ensure's calls), then
 *                                  removed
 *   bench-hosts call METHOD ROUNDS [ARG]
 *                                  H2/H3: a broker method's latency
 *                                  (PlaceDesktop with ARG as category,
 *                                  ListDesktops)
 *
 * Each prints "key value" lines. */

#include "bench.h"
#include "domain-xml.h"
#include "bus-api.h"
#include "macro.h"
#include "virt-loop.h"
#include "virt.h"

static bool connected;

static void on_connected(void *userdata) {
        connected = true;
}

static Virt *connect_to(sd_event *e, const char *uri, unsigned flags) {
        static const VirtCallbacks cb = { .connected = on_connected };
        Virt *v = NULL;

        if (virt_loop_register(e) < 0 || virt_new(e, uri, flags, &cb, NULL, &v) < 0)
                return NULL;
        for (unsigned long long end = now_usec() + 20000000ULL; !connected && now_usec() < end;)
                (void) sd_event_run(e, 100000);
        return connected ? v : virt_free(v);
}

static int stats(const char *uri, VirtStatsWhat what, unsigned rounds) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        double *bulk = calloc(rounds, sizeof *bulk), *each = calloc(rounds, sizeof *each);
        Virt *v;
        size_t n = 0, n2 = 0;

        if (!bulk || !each || sd_event_default(&e) < 0 || !(v = connect_to(e, uri, VIRT_READ_ONLY)))
                return fprintf(stderr, "cannot connect to %s\n", uri), 1;
        for (unsigned i = 0; i < rounds; i++) {
                VirtDomainStats *a = NULL, *b = NULL;
                unsigned long long t0, t1, t2;

                t0 = now_usec();
                if (virt_all_domain_stats(v, what, true, &a, &n) < 0)
                        return fprintf(stderr, "bulk stats failed\n"), 1;
                t1 = now_usec();
                if (virt_each_domain_stats(v, what, &b, &n2) < 0)
                        return fprintf(stderr, "per-domain stats failed\n"), 1;
                t2 = now_usec();
                free(a);
                free(b);
                bulk[i] = ms(t0, t1);
                each[i] = ms(t1, t2);
        }
        if (n == 0 || n != n2)
                return fprintf(stderr, "%zu domains in bulk, %zu one by one\n", n, n2), 1;
        printf("domains %zu\n", n);
        printf("bulk_ms %.3f\n", pct(bulk, rounds, 0.5));
        printf("each_ms %.3f\n", pct(each, rounds, 0.5));
        printf("bulk_per_domain_ms %.4f\n", pct(bulk, rounds, 0.5) / (double) n);
        printf("each_per_domain_ms %.4f\n", pct(each, rounds, 0.5) / (double) n);
        virt_free(v);
        virt_loop_unregister();
        free(bulk);
        free(each);
        return 0;
}

static int bridges(const char *uri, unsigned k) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        double *up = calloc(k, sizeof *up), *down = calloc(k, sizeof *down), up_total = 0, down_total = 0;
        Virt *v;

        if (!up || !down || sd_event_default(&e) < 0 || !(v = connect_to(e, uri, 0)))
                return fprintf(stderr, "cannot connect to %s\n", uri), 1;
        for (unsigned i = 0; i < k; i++) {
                _cleanup_(freep) char *xml = NULL, *err = NULL;
                char name[32], bridge[16], gw[32];
                unsigned long long t0;

                snprintf(name, sizeof name, "vdesk-bench%u", i);
                snprintf(bridge, sizeof bridge, "vdbr%u", 900 + i);
                snprintf(gw, sizeof gw, "10.%u.%u.1", 150 + i / 256, i % 256);
                if (network_xml_build(&(LibvirtNetwork) { .name = name, .bridge = bridge, .gateway = gw, .prefix = 24,
                                                          .mtu = 1450 }, &xml) < 0)
                        return fprintf(stderr, "cannot build network %u\n", i), 1;
                t0 = now_usec();
                if (virt_network_ensure(v, name, xml, &err) < 0)
                        return fprintf(stderr, "network %s: %s\n", name, err), 1;
                up[i] = ms(t0, now_usec());
                up_total += up[i];
        }
        for (unsigned i = 0; i < k; i++) {
                _cleanup_(freep) char *err = NULL;
                char name[32];
                unsigned long long t0;

                snprintf(name, sizeof name, "vdesk-bench%u", i);
                t0 = now_usec();
                if (virt_network_remove(v, name, &err) < 0)
                        return fprintf(stderr, "network %s: %s\n", name, err), 1;
                down[i] = ms(t0, now_usec());
                down_total += down[i];
        }
        printf("bridge_up_p50_ms %.3f\nbridge_up_p99_ms %.3f\nbridge_up_total_ms %.1f\n", pct(up, k, 0.5),
               pct(up, k, 0.99), up_total);
        printf("bridge_down_p50_ms %.3f\nbridge_down_p99_ms %.3f\nbridge_down_total_ms %.1f\n", pct(down, k, 0.5),
               pct(down, k, 0.99), down_total);
        virt_free(v);
        virt_loop_unregister();
        free(up);
        free(down);
        return 0;
}

static int call(const char *method, unsigned rounds, const char *arg) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        double *t = calloc(rounds, sizeof *t);
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0 || !t)
                die_bus("connect", r, NULL);
        for (unsigned i = 0; i < rounds; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                unsigned long long t0 = now_usec();

                if (arg)
                        r = sd_bus_call_method(bus, BROKERD, method, &e, &reply, "s", arg);
                else
                        r = sd_bus_call_method(bus, BROKERD, method, &e, &reply, NULL);
                if (r < 0)
                        die_bus(method, r, &e);
                t[i] = ms(t0, now_usec());
        }
        printf("p50_ms %.3f\n", pct(t, rounds, 0.5));
        printf("p99_ms %.3f\n", pct(t, rounds, 0.99));
        printf("max_ms %.3f\n", pct(t, rounds, 1.0));
        free(t);
        return 0;
}

int main(int argc, char *argv[]) {
        if (argc == 5 && strcmp(argv[1], "stats") == 0)
                return stats(argv[2], strcmp(argv[3], "load") == 0 ? VIRT_STATS_LOAD : VIRT_STATS_ALL,
                             (unsigned) strtoul(argv[4], NULL, 10));
        if (argc == 4 && strcmp(argv[1], "bridges") == 0)
                return bridges(argv[2], (unsigned) strtoul(argv[3], NULL, 10));
        if ((argc == 4 || argc == 5) && strcmp(argv[1], "call") == 0)
                return call(argv[2], (unsigned) strtoul(argv[3], NULL, 10), argc == 5 ? argv[4] : NULL);
        fprintf(stderr, "usage: bench-hosts stats URI all|load ROUNDS | bridges URI K | call METHOD ROUNDS [ARG]\n");
        return 2;
}
