/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* P3: one desktop's control plane (tests/bench/desktops runs it on a
 * private host with the whole stack). vdesk's side is brokerd's
 * CreateDesktop over the system bus from this client (its domain defined
 * with the metadata, its address, MAC and RDP port, its DHCP entry, its
 * row; the disk comes with the domain's first start, in the hook); the
 * baseline is the admin's script shell-desktop-add run once per desktop
 * (qemu-img, virsh define, virsh net-update, nft, mariadb: one process
 * each), timed here around the whole run of the script.
 *
 *   bench-desktops pairs ROUNDS ACCOUNT TEMPLATE ADD REMOVE TEMPLATE_FILE DISK_DIR DB_SOCKET
 *           ROUNDS times, interleaved: CreateDesktop, then the script; then
 *           DeleteDesktop, then the script's undoing (also timed), so that
 *           every round starts from the same set
 *   bench-desktops grow COUNT ACCOUNT TEMPLATE ADD REMOVE TEMPLATE_FILE DISK_DIR DB_SOCKET
 *           COUNT of each, interleaved, none deleted: how a create's cost
 *           changes with the desktops already there (the first 50 against
 *           the last 50)
 *   bench-desktops clean COUNT ACCOUNT TEMPLATE ADD REMOVE TEMPLATE_FILE DISK_DIR DB_SOCKET
 *           deletes what grow made, both sides (timed, not compared)
 *   bench-desktops shell COUNT - - ADD REMOVE TEMPLATE_FILE DISK_DIR DB_SOCKET
 *           the script alone COUNT times in a row (P4's baseline: the shell
 *           loop against one job of COUNT): the whole loop, and the cost
 *           per desktop of its first and last 100
 *
 * vdesk's desktops are p3v-<i>, the script's p3s-<i> with the address
 * 10.20.8.10 + i, its MAC derived from it as vdesk derives one and the
 * port 52000 + i (the script allocates nothing: it is handed these).
 * Each prints "key value" lines. */

#include <inttypes.h>
#include <sys/wait.h>

#include "bench.h"
#include "bus-api.h"
#include "macro.h"
#include "process.h"

#define WINDOW 50
#define SHELL_TIMEOUT_USEC (120 * USEC_PER_SEC)

typedef struct Bench {
        sd_bus *bus;
        const char *account, *template;
        const char *add, *remove;       /* the admin's scripts */
        const char *template_file, *disk_dir, *db_socket;
} Bench;

/* The steps shell-desktop-add reports, in its order. */
static const char *const steps[] = { "disk", "define", "dhcp", "nft", "row" };
#define N_STEPS (sizeof steps / sizeof steps[0])

/* The script's desktop i: its name, address, MAC and port. */
typedef struct ShellDesktop {
        char name[32], addr[16], mac[18], port[8];
} ShellDesktop;

static void shell_desktop(unsigned i, ShellDesktop *ret) {
        uint32_t a = (10u << 24 | 20u << 16 | 8u << 8) + 10 + i;

        snprintf(ret->name, sizeof ret->name, "p3s-%u", i);
        snprintf(ret->addr, sizeof ret->addr, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
        snprintf(ret->mac, sizeof ret->mac, "52:54:%02x:%02x:%02x:%02x", a >> 24, a >> 16 & 255, a >> 8 & 255,
                 a & 255);
        snprintf(ret->port, sizeof ret->port, "%u", 52000 + i);
}

/* Each step's percentiles as "<prefix>_<step>_p50_ms ..." lines. */
static void steps_print(const char *prefix, Sample st[]) {
        for (size_t k = 0; k < N_STEPS; k++) {
                char key[64];

                snprintf(key, sizeof key, "%s_%s", prefix, steps[k]);
                sample_print(key, &st[k]);
        }
}

static double vdesk_create(Bench *b, unsigned i) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name, *uuid, *account, *template, *addr, *mac, *state, *host;
        unsigned long long t0;
        char desktop[32];
        uint16_t port;
        double t;
        int r;

        snprintf(desktop, sizeof desktop, "p3v-%u", i);
        t0 = now_usec();
        r = sd_bus_call_method(b->bus, BROKERD, "CreateDesktop", &e, &reply, "sss", desktop, b->account,
                               b->template);
        t = ms(t0, now_usec());
        if (r < 0)
                die_bus("CreateDesktop", r, &e);
        /* a reply without an address or a port would be a create that
         * measured less than the control plane */
        r = sd_bus_message_read(reply, DESKTOP_SIGNATURE, &name, &uuid, &account, &template, &addr, &mac, &port,
                                &state, &host);
        if (r < 0 || isempty(addr) || isempty(mac) || port == 0) {
                fprintf(stderr, "CreateDesktop %s: no address, MAC or port in the reply\n", desktop);
                exit(1);
        }
        return t;
}

static double vdesk_delete(Bench *b, unsigned i) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        unsigned long long t0;
        char desktop[32];
        int r;

        snprintf(desktop, sizeof desktop, "p3v-%u", i);
        t0 = now_usec();
        r = sd_bus_call_method(b->bus, BROKERD, "DeleteDesktop", &e, NULL, "s", desktop);
        if (r < 0)
                die_bus("DeleteDesktop", r, &e);
        return ms(t0, now_usec());
}

/* Runs argv, dying unless it exits 0; its stdout in *ret_out if asked. */
static double shell_run(char *const argv[], char **ret_out) {
        _cleanup_(spawn_result_done) SpawnResult res = {};
        unsigned long long t0;
        double t;
        int r;

        t0 = now_usec();
        r = spawn_run(argv, SHELL_TIMEOUT_USEC, &res);
        t = ms(t0, now_usec());
        if (r < 0 || res.exit_status != 0) {
                fprintf(stderr, "%s %s: %s\n", argv[0], argv[1], r < 0 ? strerror(-r) : strempty(res.err));
                exit(1);
        }
        if (ret_out)
                *ret_out = TAKE_PTR(res.out);
        return t;
}

/* The script's run for desktop i; its steps' times into steps_ms (if not
 * NULL). */
static double shell_create(Bench *b, unsigned i, Sample *steps_ms) {
        _cleanup_(freep) char *out = NULL;
        ShellDesktop d;
        double t;

        shell_desktop(i, &d);
        t = shell_run((char *const[]) { (char *) b->add, d.name, d.mac, d.addr, d.port, (char *) b->template_file,
                                        (char *) b->disk_dir, (char *) b->db_socket, NULL },
                      &out);
        for (size_t k = 0; k < N_STEPS; k++) {
                const char *p = out ? strstr(out, steps[k]) : NULL;

                if (!p) {
                        fprintf(stderr, "%s %s: no time for step %s\n", b->add, d.name, steps[k]);
                        exit(1);
                }
                if (steps_ms)
                        sample_add(&steps_ms[k], strtod(p + strlen(steps[k]), NULL) / 1000.0);
        }
        return t;
}

static double shell_delete(Bench *b, unsigned i) {
        ShellDesktop d;

        shell_desktop(i, &d);
        return shell_run((char *const[]) { (char *) b->remove, d.name, d.mac, d.addr, d.port, (char *) b->disk_dir,
                                           (char *) b->db_socket, NULL },
                         NULL);
}

static int pairs(Bench *b, unsigned rounds) {
        _cleanup_(sample_done) Sample vc = {}, sc = {}, vd = {}, sd = {};
        Sample st[N_STEPS] = {};

        for (unsigned i = 0; i < rounds; i++) {
                sample_add(&vc, vdesk_create(b, i));
                sample_add(&sc, shell_create(b, i, st));
                sample_add(&vd, vdesk_delete(b, i));
                sample_add(&sd, shell_delete(b, i));
        }
        sample_print("vdesk_create", &vc);
        sample_print("shell_create", &sc);
        sample_print("vdesk_delete", &vd);
        sample_print("shell_delete", &sd);
        steps_print("shell_step", st);
        samples_done(st, N_STEPS);
        return 0;
}

static int grow(Bench *b, unsigned count) {
        _cleanup_(sample_done) Sample vf = {}, vl = {}, sf = {}, sl = {};
        Sample stf[N_STEPS] = {}, stl[N_STEPS] = {};

        if (count < 2 * WINDOW) {
                fprintf(stderr, "grow needs %u desktops at least\n", 2 * WINDOW);
                return 2;
        }
        for (unsigned i = 0; i < count; i++) {
                /* the script's steps are kept where they count: in the
                 * windows compared */
                Sample *st = i < WINDOW ? stf : i >= count - WINDOW ? stl : NULL;
                double v = vdesk_create(b, i), s = shell_create(b, i, st);

                if (i < WINDOW) {
                        sample_add(&vf, v);
                        sample_add(&sf, s);
                } else if (i >= count - WINDOW) {
                        sample_add(&vl, v);
                        sample_add(&sl, s);
                }
        }
        printf("grow_count %u\ngrow_window %u\n", count, WINDOW);
        sample_print("grow_vdesk_first", &vf);
        sample_print("grow_vdesk_last", &vl);
        sample_print("grow_shell_first", &sf);
        sample_print("grow_shell_last", &sl);
        steps_print("grow_shell_first_step", stf);
        steps_print("grow_shell_last_step", stl);
        samples_done(stf, N_STEPS);
        samples_done(stl, N_STEPS);
        return 0;
}

static int clean(Bench *b, unsigned count) {
        _cleanup_(sample_done) Sample vd = {}, sd = {};

        for (unsigned i = 0; i < count; i++) {
                sample_add(&vd, vdesk_delete(b, i));
                sample_add(&sd, shell_delete(b, i));
        }
        sample_print("clean_vdesk_delete", &vd);
        sample_print("clean_shell_delete", &sd);
        return 0;
}

#define SHELL_WINDOW 100

static int shell_loop(Bench *b, unsigned count) {
        double first = 0, last = 0;
        unsigned long long t0;

        if (count < 2 * SHELL_WINDOW) {
                fprintf(stderr, "shell needs %u desktops at least\n", 2 * SHELL_WINDOW);
                return 2;
        }
        t0 = now_usec();
        for (unsigned i = 0; i < count; i++) {
                double s = shell_create(b, i, NULL);

                if (i < SHELL_WINDOW)
                        first += s;
                else if (i >= count - SHELL_WINDOW)
                        last += s;
        }
        printf("shell_count %u\nshell_ms %.1f\n", count, ms(t0, now_usec()));
        printf("shell_first_per_ms %.3f\nshell_last_per_ms %.3f\n", first / SHELL_WINDOW, last / SHELL_WINDOW);
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct {
                const char *verb;
                int (*run)(Bench *b, unsigned n);
        } verbs[] = { { "pairs", pairs }, { "grow", grow }, { "clean", clean }, { "shell", shell_loop } };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        Bench b;
        int r;

        if (argc != 10) {
                fprintf(stderr, "usage: bench-desktops pairs|grow|clean|shell N ACCOUNT TEMPLATE ADD REMOVE "
                                "TEMPLATE_FILE DISK_DIR DB_SOCKET\n");
                return 2;
        }
        r = sd_bus_open_system(&bus);
        if (r < 0)
                die_bus("connect", r, NULL);
        b = (Bench) { .bus = bus, .account = argv[3], .template = argv[4], .add = argv[5], .remove = argv[6],
                      .template_file = argv[7], .disk_dir = argv[8], .db_socket = argv[9] };
        for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
                if (streq(argv[1], verbs[i].verb))
                        return verbs[i].run(&b, (unsigned) strtoul(argv[2], NULL, 10));
        fprintf(stderr, "unknown verb %s\n", argv[1]);
        return 2;
}
