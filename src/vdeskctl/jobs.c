/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The broker's batch jobs: started, followed (a progress bar on a
 * terminal, a line per item elsewhere, nothing with --no-progress) until
 * JobRemoved says how they ended; listed; cancelled. */

#include <signal.h>
#include <unistd.h>

#include "bus-error.h"
#include "util.h"
#include "vdeskctl.h"

#define BROKER_NAME "org.vdesk.broker1"
#define JOB_IFACE "org.vdesk.broker1.Job"

const char help_jobs[] =
        "Jobs (many desktops at once, followed to their end; --no-progress: silently):\n"
        "  create-desktops CATEGORY         a desktop for every member of the category's\n"
        "                                   departments who has none of it yet\n"
        "  create-desktops --department=NAME  the same for each category linked to\n"
        "                                   the department, for its members\n"
        "  start-desktops DEPARTMENT        start its members' desktops\n"
        "  stop-desktops DEPARTMENT         stop them (--force: power off at once)\n"
        "  reissue-desktops TEMPLATE        its stopped desktops on an older version get the newest\n"
        "  jobs                             the jobs running, with their progress\n"
        "  cancel-job ID                    stop a job after the item in hand\n\n";

typedef struct JobWatch {
        const char *path;               /* the job we follow */
        bool ready;                     /* its total known: progress is shown */
        uint32_t done, failed, total;
        char current[64];
        bool ended;
        char result[16];
        bool tty;
        int exit_status;
} JobWatch;

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
        interrupted = 1;
}

static void show_progress(JobWatch *w) {
        unsigned width = 30, filled;

        if (arg_no_progress || !w->ready)
                return;
        if (!w->tty) {
                printf("%u/%u%s%s\n", w->done + w->failed, w->total, isempty(w->current) ? "" : " ", w->current);
                fflush(stdout);
                return;
        }
        filled = w->total ? (unsigned) ((uint64_t) (w->done + w->failed) * width / w->total) : 0;
        printf("\r[");
        for (unsigned i = 0; i < width; i++)
                putchar(i < filled ? '#' : '.');
        printf("] %u/%u", w->done + w->failed, w->total);
        if (w->failed)
                printf(", %u failed", w->failed);
        printf(" %-20.20s", w->current);
        fflush(stdout);
}

static int on_job_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        JobWatch *w = userdata;
        const char *iface;
        int r;

        if (!streq_ptr(sd_bus_message_get_path(m), w->path) || sd_bus_message_read(m, "s", &iface) < 0)
                return 0;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r > 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name, *s;

                r = sd_bus_message_read(m, "s", &name);
                if (r >= 0 && streq(name, "Done"))
                        r = sd_bus_message_read(m, "v", "u", &w->done);
                else if (r >= 0 && streq(name, "Failed"))
                        r = sd_bus_message_read(m, "v", "u", &w->failed);
                else if (r >= 0 && streq(name, "Current")) {
                        r = sd_bus_message_read(m, "v", "s", &s);
                        if (r >= 0)
                                snprintf(w->current, sizeof w->current, "%s", s);
                } else if (r >= 0)
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        show_progress(w);
        return 0;
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        JobWatch *w = userdata;
        const char *path, *kind, *target, *result, *item, *name, *message;
        uint32_t id, done, total;
        int r;

        r = sd_bus_message_read(m, "uosssuu", &id, &path, &kind, &target, &result, &done, &total);
        if (r < 0 || !streq(path, w->path))
                return 0;
        if (w->tty && !arg_no_progress)
                putchar('\n');
        printf("Job %" PRIu32 " (%s of %s): %s, %" PRIu32 " of %" PRIu32 " done.\n", id, kind, target, result, done,
               total);
        r = sd_bus_message_enter_container(m, 'a', "(sss)");
        while (r >= 0 && (r = sd_bus_message_read(m, "(sss)", &item, &name, &message)) > 0)
                printf("  %s: %s (%s)\n", item, message, name);
        snprintf(w->result, sizeof w->result, "%s", result);
        w->ended = true;
        w->exit_status = streq(result, "done") ? EXIT_SUCCESS : EXIT_FAILURE;
        return 0;
}

/* Ctrl-C: on a terminal, ask whether to cancel (0: follow on, to its
 * end); else leave it running and stop following (130). */
static int on_interrupt(JobWatch *w, const char *id) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        char answer[8] = "";
        int r;

        interrupted = 0;
        if (!isatty(STDIN_FILENO)) {
                fprintf(stderr, "\nJob %s goes on (vdeskctl jobs; vdeskctl cancel-job %s).\n", id, id);
                return 130;
        }
        fprintf(stderr, "\nCancel job %s? It stops after the item in hand. [y/N] ", id);
        if (!fgets(answer, sizeof answer, stdin) || (answer[0] != 'y' && answer[0] != 'Y')) {
                fprintf(stderr, "Job %s goes on.\n", id);
                return 0;               /* followed on */
        }
        r = bus_call_method(NULL, &e, 0, BROKERD, "CancelJob", "s", id);
        if (r < 0)
                return print_bus_error(&e, r);
        return 0;
}

/* The broker went away (stopped, restarted): its jobs went with it. */
static int on_broker_gone(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        JobWatch *w = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || !streq(name, BROKER_NAME) ||
            !isempty(new_owner) || w->ended)
                return 0;
        if (w->tty && !arg_no_progress)
                putchar('\n');
        fprintf(stderr, "vdeskctl: vdesk-brokerd stopped: the job ended with it; the same job again does what is "
                "left.\n");
        w->ended = true;
        w->exit_status = EXIT_FAILURE;
        return 0;
}

static int follow_job(JobWatch *w, const char *id) {
        struct sigaction sa = { .sa_handler = on_sigint }, old;
        int r = 0, status = 0;

        r = sd_bus_add_match(vdesk_bus, NULL,
                             "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
                             "member='NameOwnerChanged',arg0='" BROKER_NAME "'", on_broker_gone, w);
        if (r < 0)
                return print_bus_error(NULL, r);
        /* no SA_RESTART: the wait ends at ^C */
        (void) sigaction(SIGINT, &sa, &old);
        while (!w->ended && status == 0) {
                if (interrupted) {
                        status = on_interrupt(w, id);
                        continue;
                }
                r = sd_bus_process(vdesk_bus, NULL);
                if (r < 0)
                        break;
                if (r > 0)
                        continue;
                /* a ^C between the check and the wait: seen within a second */
                r = sd_bus_wait(vdesk_bus, USEC_PER_SEC);
                if (r < 0 && r != -EINTR)
                        break;
                r = 0;
        }
        (void) sigaction(SIGINT, &old, NULL);
        if (r < 0)
                return print_bus_error(NULL, r);
        return status != 0 ? status : w->exit_status;
}

/* Starts a job with method(args...) and follows it to its end. */
static int run_job(const char *method, const char *types, const char *target, int force) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *total = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        JobWatch w = { .tty = isatty(STDOUT_FILENO) };
        _cleanup_(freep) char *id = NULL;
        const char *path;
        int r;

        /* subscribed first: no news of the job comes before its path */
        r = sd_bus_add_match(vdesk_bus, NULL,
                             "type='signal',sender='" BROKER_NAME "',interface='org.freedesktop.DBus.Properties',"
                             "member='PropertiesChanged',path_namespace='/org/vdesk/broker1/job'",
                             on_job_changed, &w);
        if (r >= 0)
                r = sd_bus_match_signal(vdesk_bus, NULL, BROKER_NAME, "/org/vdesk/broker1",
                                        "org.vdesk.broker1.Manager", "JobRemoved", on_job_removed, &w);
        if (r < 0)
                return print_bus_error(NULL, r);
        if (streq(types, "sb"))
                r = bus_call_method(&reply, &e, 0, BROKERD, method, types, target, force);
        else
                r = bus_call_method(&reply, &e, 0, BROKERD, method, types, target);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return print_bus_error(&e, r);
        w.path = path;
        r = sd_bus_path_decode(path, "/org/vdesk/broker1/job", &id);
        if (r <= 0)
                return print_bus_error(NULL, r < 0 ? r : -EBADMSG);
        /* ended already (nothing to do) or still there to ask; what it did
         * meanwhile is shown from here on */
        if (bus_call_method(&total, NULL, 0, BROKER_NAME, path, "org.freedesktop.DBus.Properties", "Get", "ss",
                            JOB_IFACE, "Total") >= 0)
                (void) sd_bus_message_read(total, "v", "u", &w.total);
        if (!arg_no_progress && !w.ended)
                fprintf(stderr, "Job %s (%s of %s): %" PRIu32 " items.\n", id, method, target, w.total);
        w.ready = true;
        if (!w.ended && w.done + w.failed > 0)
                show_progress(&w);      /* what it did while we asked */
        return follow_job(&w, id);
}

/* CATEGORY, or --department=NAME: one of the two */
static int cmd_create_desktops(char **args) {
        if (!args[0] == !arg_department) {
                fprintf(stderr, "vdeskctl: create-desktops takes a category or --department=NAME, not %s\n",
                        arg_department ? "both" : "neither");
                return EXIT_FAILURE;
        }
        if (arg_department)
                return run_job("CreateDepartmentDesktops", "s", arg_department, 0);
        return run_job("CreateDesktops", "s", args[0], 0);
}

static int cmd_start_desktops(char **args) {
        return run_job("StartDesktops", "s", args[0], 0);
}

static int cmd_stop_desktops(char **args) {
        return run_job("StopDesktops", "sb", args[0], arg_force);
}

static int cmd_reissue_desktops(char **args) {
        return run_job("ReissueDesktops", "s", args[0], 0);
}

static int cmd_cancel_job(char **args) {
        return bus_call_simple(BROKERD, "CancelJob", "s", args[0], NULL, "Cancelling job");
}

static int print_job(const char *path) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *props = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *kind = "", *target = "", *current = "";
        uint32_t id = 0, done = 0, failed = 0, total = 0;
        int r;

        r = bus_call_method(&props, &e, 0, BROKER_NAME, path, "org.freedesktop.DBus.Properties", "GetAll", "s",
                            JOB_IFACE);
        if (r < 0)
                return sd_bus_error_has_name(&e, SD_BUS_ERROR_UNKNOWN_OBJECT) ? 0 : print_bus_error(&e, r);
        r = sd_bus_message_enter_container(props, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(props, 'e', "sv")) > 0) {
                const char *name;

                r = sd_bus_message_read(props, "s", &name);
                if (r < 0)
                        break;
                if (streq(name, "Id"))
                        r = sd_bus_message_read(props, "v", "u", &id);
                else if (streq(name, "Kind"))
                        r = sd_bus_message_read(props, "v", "s", &kind);
                else if (streq(name, "Target"))
                        r = sd_bus_message_read(props, "v", "s", &target);
                else if (streq(name, "Done"))
                        r = sd_bus_message_read(props, "v", "u", &done);
                else if (streq(name, "Failed"))
                        r = sd_bus_message_read(props, "v", "u", &failed);
                else if (streq(name, "Total"))
                        r = sd_bus_message_read(props, "v", "u", &total);
                else if (streq(name, "Current"))
                        r = sd_bus_message_read(props, "v", "s", &current);
                else
                        r = sd_bus_message_skip(props, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(props);
        }
        if (r < 0)
                return print_bus_error(NULL, r);
        printf("%-5" PRIu32 " %-26s %-16s %5" PRIu32 "/%-5" PRIu32 " %-6" PRIu32 " %s\n", id, kind, target,
               done + failed, total, failed, current);
        return 0;
}

static int cmd_jobs(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name, *path;
        unsigned n = 0;
        int r;

        if (bus_call_list(&reply, BROKERD, "ListJobObjects", "(so)") < 0)
                return EXIT_FAILURE;
        printf("%-5s %-26s %-16s %11s %-6s %s\n", "JOB", "KIND", "TARGET", "PROGRESS", "FAILED", "CURRENT");
        while ((r = sd_bus_message_read(reply, "(so)", &name, &path)) > 0) {
                if (print_job(path) != 0)
                        return EXIT_FAILURE;
                n++;
        }
        return print_list_end(r, n, "job");
}

const Verb job_verbs[] = {
        { "create-desktops",   0, 1, cmd_create_desktops },
        { "start-desktops",    1, 1, cmd_start_desktops },
        { "stop-desktops",     1, 1, cmd_stop_desktops },
        { "reissue-desktops",  1, 1, cmd_reissue_desktops },
        { "jobs",              0, 0, cmd_jobs },
        { "cancel-job",        1, 1, cmd_cancel_job },
        {}
};
