/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* P5 and the storm: a staff member's "Monday morning", from the open to
 * the RDP port answering (tests/bench/p5 and tests/bench/storm run it on a
 * private host with the whole stack). A port answers when a TCP connection
 * to it reads the test guest's banner ("VDESK-TEST-GUEST ip=..."); the
 * probes run from the client's network namespace, through the host's
 * forward, as a staff member's RDP client would connect.
 *
 *   bench-p5 stopped ROUNDS DESKTOP CLIENT_NETNS GUEST_ADDR -- QEMU_ARGV...
 *           ROUNDS times, interleaved: OpenDesktop of the stopped DESKTOP
 *           (timed to its reply, while the client probes the forwarded port
 *           from the call on), then StopDesktop; then QEMU_ARGV (the same
 *           template under plain qemu-system-x86_64) timed from its exec to
 *           GUEST_ADDR:3389 answering, then killed; a line per round
 *           ("round I START_REALTIME_USEC OPEN CLIENT QEMU BOOT", in ms) and
 *           the percentiles
 *   bench-p5 mine TOKEN NAME CLIENT_NETNS
 *           one OpenMyDesktop (a pooled desktop handed over), timed to its
 *           reply, then the client probes the port it names
 *   bench-p5 storm TOKENS_FILE NAME FIXED_DESKTOP CLIENT_NETNS
 *           OpenMyDesktop NAME for every "ACCOUNT TOKEN" line of the file at once (one
 *           connection, every call sent before the first reply is read),
 *           while a second connection calls GetDesktop FIXED_DESKTOP every
 *           10 ms; then every port named is probed from the client
 *
 * Each prints "key value" lines; a failed call, a reply without a port or
 * a port that does not answer ends it with status 1. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "bus-api.h"
#include "macro.h"

#define CALL_TIMEOUT_USEC   (300 * USEC_PER_SEC)
#define PROBE_ATTEMPT_MSEC  100     /* a SYN towards a guest not up yet gets no answer */
#define PROBE_BANNER_MSEC   2000    /* the guest's nc runs its banner script under TCG */
#define PROBE_PAUSE_USEC    (10 * USEC_PER_MSEC)
#define PROBE_DEADLINE_USEC (300 * USEC_PER_SEC)
#define AFTER_REPLY_USEC    (10 * USEC_PER_SEC)
#define READER_PERIOD_USEC  (10 * USEC_PER_MSEC)
#define BANNER              "VDESK-TEST-GUEST"

extern char **environ;

/* One connection attempt: 1 if it read the guest's banner (the line in
 * ret_line), 0 if not (yet). */
static int probe_once(const struct sockaddr_in *to, char ret_line[static 128]) {
        struct pollfd p;
        socklen_t len = sizeof(int);
        size_t n = 0;
        int fd, err = 0, r = 0;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return 0;
        if (connect(fd, (const struct sockaddr *) to, sizeof *to) < 0 && errno != EINPROGRESS)
                goto out;
        p = (struct pollfd) { .fd = fd, .events = POLLOUT };
        if (poll(&p, 1, PROBE_ATTEMPT_MSEC) <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
                goto out;
        /* the banner, up to its newline or the connection's end */
        for (;;) {
                ssize_t k;

                p = (struct pollfd) { .fd = fd, .events = POLLIN };
                if (poll(&p, 1, PROBE_BANNER_MSEC) <= 0)
                        break;
                k = read(fd, ret_line + n, 127 - n);
                if (k <= 0)
                        break;
                n += (size_t) k;
                ret_line[n] = 0;
                if (strchr(ret_line, '\n') || n == 127)
                        break;
        }
        ret_line[n] = 0;
        ret_line[strcspn(ret_line, "\r\n")] = 0;
        r = startswith(ret_line, BANNER) != NULL;
out:
        close(fd);
        return r;
}

/* A thread probing one port until it answers, from a network namespace of
 * its own choosing (setns() moves the calling thread alone). */
typedef struct Probe {
        int netns;                      /* the client's namespace, -1: this one */
        struct sockaddr_in to;
        unsigned long long deadline;
        unsigned long long answered;    /* now_usec() when the banner came, 0 if not */
        char line[128];
        atomic_bool stop;
        pthread_t thread;
} Probe;

static void *probe_thread(void *userdata) {
        Probe *p = userdata;

        if (p->netns >= 0 && setns(p->netns, CLONE_NEWNET) < 0) {
                fprintf(stderr, "setns: %m\n");
                exit(1);
        }
        while (!atomic_load(&p->stop) && now_usec() < p->deadline) {
                if (probe_once(&p->to, p->line)) {
                        p->answered = now_usec();
                        break;
                }
                usleep(PROBE_PAUSE_USEC);
        }
        return NULL;
}

static void address_parse(const char *addr, uint16_t port, struct sockaddr_in *ret) {
        *ret = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons(port) };
        if (inet_pton(AF_INET, addr, &ret->sin_addr) != 1) {
                fprintf(stderr, "not an IPv4 address: %s\n", addr);
                exit(1);
        }
}

static void probe_start(Probe *p, int netns, const char *addr, uint16_t port) {
        *p = (Probe) { .netns = netns, .deadline = now_usec() + PROBE_DEADLINE_USEC };
        address_parse(addr, port, &p->to);
        atomic_init(&p->stop, false);
        if (pthread_create(&p->thread, NULL, probe_thread, p) != 0) {
                fprintf(stderr, "pthread_create failed\n");
                exit(1);
        }
}

/* Waits for the probe until deadline (now_usec()), then stops it; returns
 * when it answered, 0 if it did not. */
static unsigned long long probe_finish(Probe *p, unsigned long long deadline) {
        while (!p->answered && now_usec() < deadline)
                usleep(PROBE_PAUSE_USEC);
        atomic_store(&p->stop, true);
        pthread_join(p->thread, NULL);
        return p->answered;
}

/* The client's probe of ADDR:PORT after a reply: when it answered, dying
 * if it did not within AFTER_REPLY_USEC. */
static unsigned long long probe_now(int netns, const char *addr, uint16_t port, char ret_line[static 128]) {
        Probe p;
        unsigned long long t;

        probe_start(&p, netns, addr, port);
        t = probe_finish(&p, now_usec() + AFTER_REPLY_USEC);
        if (!t) {
                fprintf(stderr, "%s:%u does not answer from the client's side\n", addr, port);
                exit(1);
        }
        memcpy(ret_line, p.line, 128);
        return t;
}

static int netns_open(const char *name) {
        char path[256];
        int fd;

        snprintf(path, sizeof path, "/run/netns/%s", name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "%s: %m\n", path);
                exit(1);
        }
        return fd;
}

static sd_bus *bus_connect(void) {
        sd_bus *bus;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                die_bus("connect", r, NULL);
        return bus;
}

/* A broker Manager call with CALL_TIMEOUT_USEC (an open waits for a
 * boot); dies on an error. */
static sd_bus_message *broker(sd_bus *bus, const char *method, const char *types, ...) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        sd_bus_message *reply = NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, BROKERD, method);
        if (r >= 0) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
        }
        if (r >= 0)
                r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &e, &reply);
        if (r < 0)
                die_bus(method, r, &e);
        return reply;
}

/* DESKTOP's address, port and state as GetDesktop has them. */
static void desktop_get(sd_bus *bus, const char *desktop, char ret_addr[static 16], uint16_t *ret_port,
                        char ret_state[static 32]) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = broker(bus, "GetDesktop", "s", desktop);
        const char *name, *uuid, *account, *template, *addr, *mac, *state, *host;
        uint16_t port;

        if (sd_bus_message_read(reply, DESKTOP_SIGNATURE, &name, &uuid, &account, &template, &addr, &mac, &port,
                                &state, &host) < 0) {
                fprintf(stderr, "GetDesktop %s: unexpected reply\n", desktop);
                exit(1);
        }
        snprintf(ret_addr, 16, "%s", addr);
        snprintf(ret_state, 32, "%s", state);
        *ret_port = port;
}

static void desktop_wait_stopped(sd_bus *bus, const char *desktop) {
        unsigned long long deadline = now_usec() + 60 * USEC_PER_SEC;
        char addr[16], state[32];
        uint16_t port;

        for (;;) {
                desktop_get(bus, desktop, addr, &port, state);
                if (streq(state, "stopped"))
                        return;
                if (now_usec() > deadline) {
                        fprintf(stderr, "%s is still %s 60 s after StopDesktop\n", desktop, state);
                        exit(1);
                }
                usleep(50 * USEC_PER_MSEC);
        }
}

/* When libvirt wrote the desktop's QEMU pid file (its process made), in
 * ms after t0_realtime (now_realtime_usec()). */
static double qemu_started_ms(const char *desktop, unsigned long long t0_realtime) {
        char path[256];
        struct stat st;

        snprintf(path, sizeof path, "/run/libvirt/qemu/%s.pid", desktop);
        if (stat(path, &st) < 0) {
                fprintf(stderr, "%s: %m\n", path);
                exit(1);
        }
        return ((double) st.st_mtim.tv_sec * 1e6 + (double) st.st_mtim.tv_nsec / 1e3 - (double) t0_realtime) /
               1000.0;
}

/* OpenDesktop of the stopped desktop, the client probing its forwarded
 * port from the call on: the reply's time, the client's and when its QEMU
 * was started. */
static void open_stopped(sd_bus *bus, const char *desktop, int netns, const char *host, uint16_t port,
                         double *ret_open_ms, double *ret_client_ms, double *ret_qemu_ms) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        unsigned long long t0, t0_realtime, t1, tc;
        Probe p;

        t0_realtime = now_realtime_usec();
        t0 = now_usec();
        probe_start(&p, netns, host, port);
        reply = broker(bus, "OpenDesktop", "s", desktop);
        t1 = now_usec();
        tc = probe_finish(&p, t1 + AFTER_REPLY_USEC);
        if (!tc) {
                fprintf(stderr, "OpenDesktop %s answered, but %s:%u does not from the client's side\n", desktop,
                        host, port);
                exit(1);
        }
        *ret_open_ms = ms(t0, t1);
        *ret_client_ms = ms(t0, tc);
        *ret_qemu_ms = qemu_started_ms(desktop, t0_realtime);
        sd_bus_message_unref(broker(bus, "StopDesktop", "sb", desktop, 1));
        desktop_wait_stopped(bus, desktop);
}

/* The same template under plain QEMU: from its exec to the guest's port
 * answering on the bridge. */
static double boot_plain(char *const qemu[], const char *guest) {
        posix_spawn_file_actions_t fa;
        unsigned long long t0, t1;
        pid_t pid;
        Probe p;
        int r;

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        t0 = now_usec();
        r = posix_spawnp(&pid, qemu[0], &fa, NULL, qemu, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0) {
                fprintf(stderr, "%s: %s\n", qemu[0], strerror(r));
                exit(1);
        }
        probe_start(&p, -1, guest, 3389);
        t1 = probe_finish(&p, t0 + PROBE_DEADLINE_USEC);
        kill(pid, SIGTERM);
        if (waitpid(pid, NULL, 0) < 0 || !t1) {
                fprintf(stderr, "the plain QEMU's guest did not answer at %s:3389\n", guest);
                exit(1);
        }
        return ms(t0, t1);
}

static int stopped(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = bus_connect();
        _cleanup_(sample_done) Sample open = {}, client = {}, qemu = {}, boot = {}, diff = {};
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *first = NULL;
        const char *desktop = argv[3], *guest = argv[5], *host;
        unsigned rounds = (unsigned) strtoul(argv[2], NULL, 10);
        unsigned long long t0;
        uint16_t port;
        int netns;

        if (argc < 8 || !streq(argv[6], "--")) {
                fprintf(stderr, "usage: bench-p5 stopped ROUNDS DESKTOP CLIENT_NETNS GUEST_ADDR -- QEMU_ARGV...\n");
                return 2;
        }
        netns = netns_open(argv[4]);
        /* a first open, not counted: the disk is made (a stopped desktop
         * that ran before has one), and the reply names host and port */
        t0 = now_usec();
        first = broker(bus, "OpenDesktop", "s", desktop);
        if (sd_bus_message_read(first, "sq", &host, &port) < 0 || isempty(host) || port == 0) {
                fprintf(stderr, "OpenDesktop %s: no host or port in the reply\n", desktop);
                return 1;
        }
        printf("first_open_ms %.3f\nhost %s\nport %u\n", ms(t0, now_usec()), host, port);
        sd_bus_message_unref(broker(bus, "StopDesktop", "sb", desktop, 1));
        desktop_wait_stopped(bus, desktop);
        for (unsigned i = 0; i < rounds; i++) {
                unsigned long long t0_realtime = now_realtime_usec();
                double o, c, q, b;

                open_stopped(bus, desktop, netns, host, port, &o, &c, &q);
                b = boot_plain(argv + 7, guest);
                sample_add(&open, o);
                sample_add(&client, c);
                sample_add(&qemu, q);
                sample_add(&boot, b);
                sample_add(&diff, o - b);
                fprintf(stderr, "P5 round %u: open %.0f ms (client %.0f ms, QEMU started at %.0f ms), plain boot %.0f ms\n",
                        i + 1, o, c, q, b);
                printf("round %u %llu %.3f %.3f %.3f %.3f\n", i + 1, t0_realtime, o, c, q, b);
        }
        sample_print("vdesk_open", &open);
        sample_print("vdesk_client", &client);
        sample_print("vdesk_qemu", &qemu);
        sample_print("boot", &boot);
        sample_print("open_minus_boot", &diff);
        close(netns);
        return 0;
}

static int mine(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = bus_connect();
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *desktop, *host;
        unsigned long long t0, t1, tc;
        char line[128];
        uint16_t port;
        int netns;

        if (argc != 5) {
                fprintf(stderr, "usage: bench-p5 mine TOKEN NAME CLIENT_NETNS\n");
                return 2;
        }
        netns = netns_open(argv[4]);
        t0 = now_usec();
        reply = broker(bus, "OpenMyDesktop", "ss", argv[2], argv[3]);
        t1 = now_usec();
        if (sd_bus_message_read(reply, "ssq", &desktop, &host, &port) < 0 || isempty(host) || port == 0) {
                fprintf(stderr, "OpenMyDesktop: no desktop, host or port in the reply\n");
                return 1;
        }
        tc = probe_now(netns, host, port, line);
        printf("desktop %s\nport %u\nopen_ms %.3f\nclient_ms %.3f\nbanner %s\n", desktop, port, ms(t0, t1),
               ms(t0, tc), line);
        close(netns);
        return 0;
}

/* The storm's reader: GetDesktop of a fixed desktop on a connection of
 * its own, every READER_PERIOD_USEC (or at once when a call took longer),
 * until told to stop. */
typedef struct Reader {
        const char *desktop;
        Sample starts, calls;           /* when each call was sent (ms of now_usec()), how long it took */
        atomic_bool stop;
        pthread_t thread;
} Reader;

static void *reader_thread(void *userdata) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = bus_connect();
        Reader *rd = userdata;
        unsigned long long next = now_usec();

        while (!atomic_load(&rd->stop)) {
                unsigned long long t0 = now_usec();

                sd_bus_message_unref(broker(bus, "GetDesktop", "s", rd->desktop));
                sample_add(&rd->calls, ms(t0, now_usec()));
                sample_add(&rd->starts, ms(0, t0));
                next += READER_PERIOD_USEC;
                if (next > now_usec())
                        usleep(next - now_usec());
                else
                        next = now_usec();
        }
        return NULL;
}

typedef struct StormCall {
        char account[64], token[128];
        char desktop[64], host[64];
        uint16_t port;
        unsigned long long t0, answered;
        sd_bus_slot *slot;
        char error[256];
} StormCall;

static int on_storm_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        StormCall *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        const char *desktop, *host;

        c->answered = now_usec();
        if (e)
                snprintf(c->error, sizeof c->error, "%s: %s", e->name, strempty(e->message));
        else if (sd_bus_message_read(m, "ssq", &desktop, &host, &c->port) < 0 || c->port == 0)
                snprintf(c->error, sizeof c->error, "no desktop, host or port in the reply");
        else {
                snprintf(c->desktop, sizeof c->desktop, "%s", desktop);
                snprintf(c->host, sizeof c->host, "%s", host);
        }
        return 0;
}

static int storm(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = bus_connect();
        _cleanup_(sample_done) Sample opens = {}, idle = {}, busy = {};
        _cleanup_(freep) StormCall *calls = NULL;
        unsigned long long t0, last = 0;
        size_t n = 0, pending;
        char line[128];
        Reader rd = {};
        FILE *f;
        int netns;

        if (argc != 6) {
                fprintf(stderr, "usage: bench-p5 storm TOKENS_FILE NAME FIXED_DESKTOP CLIENT_NETNS\n");
                return 2;
        }
        netns = netns_open(argv[5]);
        f = fopen(argv[2], "re");
        if (!f) {
                fprintf(stderr, "%s: %m\n", argv[2]);
                return 1;
        }
        while (fgets(line, sizeof line, f)) {
                StormCall *nc;

                nc = realloc(calls, (n + 1) * sizeof *calls);
                if (!nc) {
                        fprintf(stderr, "out of memory\n");
                        return 1;
                }
                calls = nc;
                calls[n] = (StormCall) {};
                if (sscanf(line, "%63s %127s", calls[n].account, calls[n].token) == 2)
                        n++;
        }
        fclose(f);

        rd.desktop = argv[4];
        atomic_init(&rd.stop, false);
        if (pthread_create(&rd.thread, NULL, reader_thread, &rd) != 0) {
                fprintf(stderr, "pthread_create failed\n");
                return 1;
        }
        /* the reader's idle calls before the storm are its baseline */
        usleep(1 * USEC_PER_SEC);

        t0 = now_usec();
        for (size_t i = 0; i < n; i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                int r;

                r = sd_bus_message_new_method_call(bus, &m, BROKERD, "OpenMyDesktop");
                if (r >= 0)
                        r = sd_bus_message_append(m, "ss", calls[i].token, argv[3]);
                calls[i].t0 = now_usec();
                if (r >= 0)
                        r = sd_bus_call_async(bus, &calls[i].slot, m, on_storm_reply, &calls[i], CALL_TIMEOUT_USEC);
                if (r < 0)
                        die_bus("OpenMyDesktop", r, NULL);
        }
        for (pending = n; pending > 0;) {
                int r = sd_bus_process(bus, NULL);

                if (r == 0)
                        r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0)
                        die_bus("storm", r, NULL);
                pending = 0;
                for (size_t i = 0; i < n; i++)
                        pending += calls[i].answered == 0;
        }
        atomic_store(&rd.stop, true);
        pthread_join(rd.thread, NULL);

        for (size_t i = 0; i < n; i++) {
                sd_bus_slot_unref(calls[i].slot);
                last = MAX(last, calls[i].answered);
                sample_add(&opens, ms(calls[i].t0, calls[i].answered));
                if (calls[i].error[0])
                        printf("failed %s %s\n", calls[i].account, calls[i].error);
        }
        printf("storm_calls %zu\nstorm_total_ms %.3f\n", n, ms(t0, last));
        sample_print("storm_open", &opens);
        /* the reader's calls sent before the storm are its idle baseline,
         * those sent until the last open was answered its storm */
        for (size_t i = 0; i < rd.calls.n; i++)
                if (rd.starts.v[i] < ms(0, t0))
                        sample_add(&idle, rd.calls.v[i]);
                else if (rd.starts.v[i] <= ms(0, last))
                        sample_add(&busy, rd.calls.v[i]);
        sample_done(&rd.starts);
        sample_done(&rd.calls);
        sample_print("reader_idle", &idle);
        sample_print("reader_storm", &busy);
        if (busy.n > 0)
                printf("reader_storm_max_ms %.3f\n", pct(busy.v, busy.n, 1.0));
        /* every desktop named answers at the port named, from the client */
        for (size_t i = 0; i < n; i++) {
                if (calls[i].error[0])
                        continue;
                probe_now(netns, calls[i].host, calls[i].port, line);
                printf("desktop %s %s %s %u %s\n", calls[i].account, calls[i].desktop, calls[i].host, calls[i].port,
                       line);
        }
        close(netns);
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct {
                const char *verb;
                int min_args;
                int (*run)(int argc, char *argv[]);
        } verbs[] = { { "stopped", 8, stopped }, { "mine", 5, mine }, { "storm", 6, storm } };

        for (size_t i = 0; argc > 1 && i < sizeof verbs / sizeof verbs[0]; i++)
                if (streq(argv[1], verbs[i].verb)) {
                        if (argc < verbs[i].min_args) {
                                fprintf(stderr, "bench-p5 %s: too few arguments (see the file's head)\n",
                                        argv[1]);
                                return 2;
                        }
                        return verbs[i].run(argc, argv);
                }
        fprintf(stderr, "usage: bench-p5 stopped|mine|storm ...\n");
        return 2;
}
