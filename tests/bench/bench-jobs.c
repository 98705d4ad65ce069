/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* P4: one batch job of many desktops (tests/bench/jobs runs it on a
 * private host with the whole stack). Starts METHOD(TARGET) on brokerd's
 * Manager, follows the job's PropertiesChanged (Done, Failed) and waits for
 * its JobRemoved; the time each item ended is when its Done or Failed
 * came, so that the cost per desktop can be compared between the first
 * WINDOW items and the last WINDOW.
 *
 *   bench-jobs METHOD TARGET WINDOW [NAME=PID...]
 *
 * Prints "key value" lines: job_total, job_done, job_failed, job_answer_ms
 * (the call's reply), job_ms (the call to JobRemoved), job_first_per_ms and
 * job_last_per_ms (per item, items 1..WINDOW and TOTAL-WINDOW+1..TOTAL);
 * and for each process named, the CPU time it spent per item in the same
 * windows (cpu_NAME_first_per_ms, cpu_NAME_last_per_ms): where a growth
 * comes from. */

#include <inttypes.h>
#include <unistd.h>

#include "bench.h"
#include "bus-api.h"
#include "macro.h"
#include "util.h"

#define MAX_PROCS 8

/* A process whose CPU time is read at the windows' ends. */
typedef struct Proc {
        const char *name;
        pid_t pid;
        double cpu_ms[4];               /* at items 0, WINDOW, TOTAL - WINDOW, TOTAL ended */
} Proc;

typedef struct Follow {
        const char *path;
        size_t marks[4];                /* 0, WINDOW, TOTAL - WINDOW, TOTAL */
        Proc procs[MAX_PROCS];
        size_t n_procs;
        unsigned long long *ended;      /* [k]: when k items had ended (done or failed) */
        size_t n_ended;
        uint32_t done, failed, total;
        bool removed;
        char result[16];
} Follow;

/* utime + stime of a process, in ms (-1 if it is gone). */
static double proc_cpu_ms(pid_t pid) {
        unsigned long long utime, stime;
        char path[64], buf[1024], *p;
        FILE *file;
        size_t n;

        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        file = fopen(path, "re");
        if (!file)
                return -1;
        n = fread(buf, 1, sizeof buf - 1, file);
        fclose(file);
        buf[n] = 0;
        /* after the command's ")": state, then fields 4..13, then utime, stime */
        p = strrchr(buf, ')');
        if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
                return -1;
        return (double) (utime + stime) * 1000.0 / (double) sysconf(_SC_CLK_TCK);
}

static void follow_ended(Follow *f, unsigned long long t) {
        size_t k = (size_t) f->done + f->failed;

        if (k >= f->n_ended) {
                unsigned long long *n = realloc(f->ended, (k + 1) * sizeof *n);

                if (!n) {
                        fprintf(stderr, "out of memory\n");
                        exit(1);
                }
                for (size_t i = f->n_ended; i <= k; i++)
                        n[i] = 0;
                f->ended = n;
                f->n_ended = k + 1;
        }
        if (f->ended[k] != 0)
                return;
        f->ended[k] = t;
        for (size_t i = 0; i < 4; i++)
                if (f->marks[i] == k)
                        for (size_t p = 0; p < f->n_procs; p++)
                                f->procs[p].cpu_ms[i] = proc_cpu_ms(f->procs[p].pid);
}

static int on_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        unsigned long long t = now_usec();
        Follow *f = userdata;
        const char *iface, *name;
        int r;

        if (!f->path || !streq_ptr(sd_bus_message_get_path(m), f->path) || sd_bus_message_read(m, "s", &iface) < 0)
                return 0;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r > 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &name);
                if (r >= 0 && streq(name, "Done"))
                        r = sd_bus_message_read(m, "v", "u", &f->done);
                else if (r >= 0 && streq(name, "Failed"))
                        r = sd_bus_message_read(m, "v", "u", &f->failed);
                else if (r >= 0)
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        follow_ended(f, t);
        return 0;
}

static int on_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Follow *f = userdata;
        const char *path, *kind, *target, *result, *item, *name, *message;
        uint32_t id;

        if (sd_bus_message_read(m, "uosssuu", &id, &path, &kind, &target, &result, &f->done, &f->total) < 0 ||
            !f->path || !streq(path, f->path))
                return 0;
        snprintf(f->result, sizeof f->result, "%s", result);
        f->removed = true;
        /* what failed, for whoever reads the run */
        if (sd_bus_message_enter_container(m, 'a', "(sss)") > 0)
                while (sd_bus_message_read(m, "(sss)", &item, &name, &message) > 0)
                        fprintf(stderr, "failed: %s: %s (%s)\n", item, message, name);
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        unsigned long long t0, t_answer, t_end;
        Follow f = {};
        unsigned window;
        size_t total;
        int r;

        if (argc < 4 || argc > 4 + MAX_PROCS) {
                fprintf(stderr, "usage: bench-jobs METHOD TARGET WINDOW [NAME=PID...]\n");
                return 2;
        }
        window = (unsigned) strtoul(argv[3], NULL, 10);
        for (int i = 4; i < argc; i++) {
                char *eq = strchr(argv[i], '=');

                if (!eq) {
                        fprintf(stderr, "not NAME=PID: %s\n", argv[i]);
                        return 2;
                }
                *eq = 0;
                f.procs[f.n_procs++] = (Proc) { .name = argv[i], .pid = (pid_t) strtol(eq + 1, NULL, 10) };
        }
        r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, "org.vdesk.broker1", NULL, "org.freedesktop.DBus.Properties",
                                        "PropertiesChanged", on_changed, &f);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, "org.vdesk.broker1", "/org/vdesk/broker1",
                                        "org.vdesk.broker1.Manager", "JobRemoved", on_removed, &f);
        if (r < 0)
                die_bus("subscribe", r, NULL);
        t0 = now_usec();
        r = sd_bus_call_method(bus, BROKERD, argv[1], &e, &reply, "s", argv[2]);
        t_answer = now_usec();
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &f.path);
        if (r >= 0)
                r = sd_bus_get_property_trivial(bus, "org.vdesk.broker1", f.path, "org.vdesk.broker1.Job", "Total", &e,
                                                'u', &f.total);
        if (r < 0)
                die_bus(argv[1], r, &e);
        f.marks[1] = window;
        f.marks[2] = f.total > window ? f.total - window : 0;
        f.marks[3] = f.total;
        follow_ended(&f, t0);           /* 0 items ended at the start */
        while (!f.removed) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        die_bus("process", r, NULL);
                if (r == 0 && sd_bus_wait(bus, 60 * USEC_PER_SEC) == 0) {
                        fprintf(stderr, "no news of the job for a minute\n");
                        return 1;
                }
        }
        t_end = now_usec();
        total = f.total;
        printf("job_total %zu\njob_done %" PRIu32 "\njob_failed %zu\njob_result %s\n", total, f.done,
               total - f.done, f.result);
        printf("job_answer_ms %.3f\njob_ms %.1f\n", ms(t0, t_answer), ms(t0, t_end));
        if (total < 2 * (size_t) window || f.n_ended <= total || !f.ended[window] || !f.ended[total - window] ||
            !f.ended[total]) {
                fprintf(stderr, "the job's progress was not seen item by item (%zu of %zu)\n", f.n_ended, total);
                return 1;
        }
        printf("job_first_per_ms %.3f\n", ms(f.ended[0], f.ended[window]) / window);
        printf("job_last_per_ms %.3f\n", ms(f.ended[total - window], f.ended[total]) / window);
        for (size_t p = 0; p < f.n_procs; p++) {
                const double *c = f.procs[p].cpu_ms;

                printf("cpu_%s_first_per_ms %.3f\ncpu_%s_last_per_ms %.3f\n", f.procs[p].name,
                       (c[1] - c[0]) / window, f.procs[p].name, (c[3] - c[2]) / window);
        }
        free(f.ended);
        return 0;
}
