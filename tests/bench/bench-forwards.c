/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* bench-forwards: the P1 and P6 measurements, printed as "key value" lines
 * that tests/bench/run turns into the table. Runs inside the network
 * namespace where vdesk-netd serves the bus named by $DBUS_SYSTEM_BUS_ADDRESS.
 *
 *   bench-forwards N HOOK CONFIG
 *
 * P1: N forwards through netd in one AddForwards call and as N AddForward
 * calls; the nft CLI baseline, one `nft -f` file of N elements and single
 * `nft add element` calls, on a table of its own; one add and one remove
 * with N present (netd and CLI), p50/p99.
 * P6: the hook's `started begin` (AddForward through netd) and `release
 * end` for a desktop, and a domain without vdesk metadata, p50/p99. */

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <spawn.h>
#include <systemd/sd-bus.h>

#include "bench.h"
#include "bus-api.h"
#include "macro.h"
#include "process.h"
#include "util.h"

static sd_bus *bus;

static void addr_of(unsigned i, char buf[static 16]) {
        /* 10.20.1.1 onwards, inside the desktop network (tests/bench/run
         * makes it a /16): one address per forward */
        ipv4_format(0x0a140100u + i + 1, buf);
}

static void netd_add_one(uint16_t port, unsigned i) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char a[16], name[32];
        int r;

        addr_of(i, a);
        snprintf(name, sizeof name, "d%u", i);
        r = sd_bus_call_method(bus, NETD, "AddForward", &e, NULL, "qsqss", port, a, (uint16_t) 3389, name, "bench");
        if (r < 0)
                die_bus("AddForward", r, &e);
}

static void netd_remove_one(uint16_t port) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = sd_bus_call_method(bus, NETD, "RemoveForward", &e, NULL, "qs", port, "");
        if (r < 0)
                die_bus("RemoveForward", r, &e);
}

static void netd_add_batch(unsigned n, uint16_t first) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, NETD, "AddForwards");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(qsqss)");
        for (unsigned i = 0; r >= 0 && i < n; i++) {
                char a[16], name[32];

                addr_of(i, a);
                snprintf(name, sizeof name, "d%u", i);
                r = sd_bus_message_append(m, "(qsqss)", (uint16_t) (first + i), a, (uint16_t) 3389, name, "bench");
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_call(bus, m, 0, &e, NULL);
        if (r < 0)
                die_bus("AddForwards", r, &e);
}

static void netd_clear(unsigned n, uint16_t first) {
        for (unsigned i = 0; i < n; i++)
                netd_remove_one((uint16_t) (first + i));
}

static void run(char **argv, const char *input) {
        SpawnResult res = {};
        int r;

        if (input) {
                /* the hook reads the domain XML on stdin, as from libvirtd */
                int p[2];
                pid_t pid;
                posix_spawn_file_actions_t fa;
                int status;

                if (pipe(p) < 0)
                        exit(1);
                posix_spawn_file_actions_init(&fa);
                posix_spawn_file_actions_adddup2(&fa, p[0], 0);
                posix_spawn_file_actions_addclose(&fa, p[1]);
                if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0)
                        exit(1);
                close(p[0]);
                (void) !write(p[1], input, strlen(input));
                close(p[1]);
                waitpid(pid, &status, 0);
                posix_spawn_file_actions_destroy(&fa);
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        fprintf(stderr, "%s %s failed\n", argv[0], argv[2]);
                        exit(1);
                }
                return;
        }
        r = spawn_run(argv, 60 * USEC_PER_SEC, &res);
        if (r < 0 || res.exit_status != 0) {
                fprintf(stderr, "%s failed: %s\n", argv[0], res.err ? res.err : strerror(-r));
                exit(1);
        }
        spawn_result_done(&res);
}

static void nft(const char *cmd) {
        char *argv[] = { (char *) "nft", (char *) cmd, NULL };
        run(argv, NULL);
}

static void nft_file(const char *path) {
        char *argv[] = { (char *) "nft", (char *) "-f", (char *) path, NULL };
        run(argv, NULL);
}

#define CLI_TABLE "inet vdeskcli"

static void cli_reset(void) {
        nft("add table " CLI_TABLE);
        nft("delete table " CLI_TABLE);
        nft("add table " CLI_TABLE " { map rdp4 { type inet_service : ipv4_addr . inet_service; }; }");
}

static void cli_fill(unsigned n, uint16_t first, const char *path) {
        FILE *f = fopen(path, "we");

        if (!f)
                exit(1);
        fprintf(f, "add element " CLI_TABLE " rdp4 {\n");
        for (unsigned i = 0; i < n; i++) {
                char a[16];
                addr_of(i, a);
                fprintf(f, "  %u : %s . 3389%s\n", first + i, a, i + 1 < n ? "," : "");
        }
        fprintf(f, "}\n");
        fclose(f);
        nft_file(path);
}

int main(int argc, char *argv[]) {
        unsigned n = argc > 1 ? (unsigned) atoi(argv[1]) : 10000;
        const char *hook = argc > 2 ? argv[2] : NULL;
        const uint16_t first = 50000;
        const unsigned reps = 5, probes = 300, cli_probes = 40;
        double t[5], s[300];
        char path[] = "/tmp/vdesk-bench-nft.XXXXXX";
        int r, fd;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                die_bus("bus", r, NULL);
        fd = mkstemp(path);
        if (fd < 0)
                return 1;
        close(fd);

        /* P1: one add with few forwards present, to set against one with N */
        netd_add_batch(100, first);
        for (unsigned k = 0; k < probes; k++) {
                unsigned long long a;
                netd_remove_one(first);
                a = now_usec();
                netd_add_one(first, 0);
                s[k] = ms(a, now_usec());
        }
        printf("netd_add_at_100_p50_ms %.3f\nnetd_add_at_100_p99_ms %.3f\n", pct(s, probes, 0.5), pct(s, probes, 0.99));
        netd_clear(100, first);

        /* P1: N in one call, median of reps */
        for (unsigned k = 0; k < reps; k++) {
                unsigned long long a = now_usec();
                netd_add_batch(n, first);
                t[k] = ms(a, now_usec());
                netd_clear(n, first);
        }
        printf("netd_batch_ms %.2f\n", pct(t, reps, 0.5));

        /* the CLI's file of N, median of reps */
        for (unsigned k = 0; k < reps; k++) {
                unsigned long long a;
                cli_reset();
                a = now_usec();
                cli_fill(n, first, path);
                t[k] = ms(a, now_usec());
        }
        printf("cli_file_ms %.2f\n", pct(t, reps, 0.5));

        /* N single calls, median of 3 */
        for (unsigned k = 0; k < 3; k++) {
                unsigned long long a = now_usec();
                for (unsigned i = 0; i < n; i++)
                        netd_add_one((uint16_t) (first + i), i);
                t[k] = ms(a, now_usec());
                if (k < 2)
                        netd_clear(n, first);
        }
        printf("netd_singles_ms %.2f\n", pct(t, 3, 0.5));

        /* one add and one remove with N present (N - 1 during the add) */
        for (unsigned k = 0; k < probes; k++) {
                unsigned long long a;
                netd_remove_one(first);
                a = now_usec();
                netd_add_one(first, 0);
                s[k] = ms(a, now_usec());
        }
        printf("netd_add_at_n_p50_ms %.3f\nnetd_add_at_n_p99_ms %.3f\n", pct(s, probes, 0.5), pct(s, probes, 0.99));
        for (unsigned k = 0; k < probes; k++) {
                unsigned long long a = now_usec();
                netd_remove_one(first);
                s[k] = ms(a, now_usec());
                netd_add_one(first, 0);
        }
        printf("netd_remove_at_n_p50_ms %.3f\nnetd_remove_at_n_p99_ms %.3f\n", pct(s, probes, 0.5), pct(s, probes, 0.99));

        /* the CLI's single add with N present */
        cli_reset();
        cli_fill(n, first, path);
        for (unsigned k = 0; k < cli_probes; k++) {
                char cmd[128], a2[16];
                unsigned long long a;

                nft("delete element " CLI_TABLE " rdp4 { 50000 }");
                addr_of(0, a2);
                snprintf(cmd, sizeof cmd, "add element " CLI_TABLE " rdp4 { 50000 : %s . 3389 }", a2);
                a = now_usec();
                nft(cmd);
                s[k] = ms(a, now_usec());
        }
        printf("cli_add_at_n_p50_ms %.3f\ncli_add_at_n_p99_ms %.3f\n", pct(s, cli_probes, 0.5), pct(s, cli_probes, 0.99));
        nft("delete table " CLI_TABLE);
        unlink(path);

#define XML_FMT \
                        "<domain type='qemu'><name>%s</name><metadata>" \
                        "<vdesk:desktop xmlns:vdesk='https://vdesk.org/xmlns/desktop/1'>" \
                        "<vdesk:account>bench</vdesk:account>" \
                        "<vdesk:disk path='%s/%s.qcow2' template='%s/t.img'/>" \
                        "<vdesk:network name='vdesk' bridge='vdeskbr0' address='10.20.0.200' mac='52:54:0a:14:00:c8'/>" \
                        "<vdesk:rdp port='%u' guest-port='3389'/></vdesk:desktop></metadata>" \
                        "<devices><disk type='file' device='disk'><source file='%s/%s.qcow2'/></disk></devices></domain>"

        /* P6: the hook, as libvirtd runs it, with N forwards present */
        if (hook) {
                const char *disks = getenv("BENCH_DISK_DIR"), *tpls = getenv("BENCH_TEMPLATE_DIR");
                uint16_t port = (uint16_t) (first + n);
                char xml[2048], plain[] = "<domain type='qemu'><name>other</name><devices/></domain>";
                char *started[] = { (char *) hook, (char *) "hbench", (char *) "started", (char *) "begin", (char *) "-", NULL };
                char *release[] = { (char *) hook, (char *) "hbench", (char *) "release", (char *) "end", (char *) "-", NULL };
                char *other[] = { (char *) hook, (char *) "other", (char *) "prepare", (char *) "begin", (char *) "-", NULL };
                double rel[300];

                snprintf(xml, sizeof xml, XML_FMT, "hbench", disks, "hbench", tpls, port, disks, "hbench");
                for (unsigned k = 0; k < 200; k++) {
                        unsigned long long a = now_usec();
                        run(started, xml);
                        s[k] = ms(a, now_usec());
                        a = now_usec();
                        run(release, xml);
                        rel[k] = ms(a, now_usec());
                }
                printf("hook_started_p50_ms %.3f\nhook_started_p99_ms %.3f\n", pct(s, 200, 0.5), pct(s, 200, 0.99));
                printf("hook_release_p50_ms %.3f\nhook_release_p99_ms %.3f\n", pct(rel, 200, 0.5), pct(rel, 200, 0.99));
                for (unsigned k = 0; k < 200; k++) {
                        unsigned long long a = now_usec();
                        run(other, plain);
                        s[k] = ms(a, now_usec());
                }
                printf("hook_other_p50_ms %.3f\nhook_other_p99_ms %.3f\n", pct(s, 200, 0.5), pct(s, 200, 0.99));
        }
        netd_clear(n, first);
        sd_bus_unref(bus);
        return 0;
}
