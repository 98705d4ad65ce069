/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "bus-error.h"
#include "bus-util.h"
#include "daemon-util.h"
#include "log.h"
#include "util.h"

int daemon_parse_args(int argc, char *argv[], const char *data_option, const char *help, DaemonArgs *ret) {
        enum { ARG_CONFIG = 0x100, ARG_DATA, ARG_NO_RECONCILE, ARG_VERSION };
        struct option options[] = {
                { "config",       required_argument, NULL, ARG_CONFIG },
                { data_option ?: "data", required_argument, NULL, ARG_DATA },
                { "no-reconcile", no_argument,       NULL, ARG_NO_RECONCILE },
                { "help",         no_argument,       NULL, 'h' },
                { "version",      no_argument,       NULL, ARG_VERSION },
                {}
        };
        DaemonArgs a = { .config_path = config_path() };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_CONFIG:
                        a.config_path = optarg;
                        break;
                case ARG_DATA:
                        if (!data_option)
                                return -EINVAL;
                        a.data_path = optarg;
                        break;
                case ARG_NO_RECONCILE:
                        a.no_reconcile = true;
                        break;
                case 'h':
                        printf("%s", help);
                        return 1;
                case ARG_VERSION:
                        printf("vdesk %s\n", VERSION);
                        return 1;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                fprintf(stderr, "%s takes no positional arguments\n", program_invocation_short_name);
                return -EINVAL;
        }
        *ret = a;
        return 0;
}

int daemon_load_config(const char *path, VdeskConfig *ret) {
        _cleanup_(freep) char *error = NULL;
        int r;

        r = config_load(path, ret, &error);
        if (r < 0)
                return log_error_errno(r, "Bad configuration: %s", error ?: strerror(-r));
        return 0;
}

int daemon_start(int argc, char *argv[], const char *data_option, const char *help,
                 DaemonArgs *ret_args, VdeskConfig *ret_config) {
        int r;

        log_setup();
        r = daemon_parse_args(argc, argv, data_option, help, ret_args);
        if (r != 0)
                return r;
        r = daemon_load_config(ret_args->config_path, ret_config);
        if (r < 0)
                exit(EXIT_CONFIG);
        (void) bus_error_register();
        return 0;
}

void daemon_require_dir(const char *key, const char *path, mode_t mode, bool writable) {
        int r;

        r = mkdir_parents(path, mode);
        if (r >= 0 && access(path, R_OK | X_OK | (writable ? W_OK : 0)) < 0)
                r = -errno;
        if (r >= 0)
                return;
        log_error_errno(r, "%s=%s is not a directory this daemon (uid %u) may %s: %m. "
                        "Under systemd, give it to the unit with ReadWritePaths= in a drop-in, "
                        "or choose a directory under the unit's StateDirectory=.",
                        key, path, (unsigned) geteuid(), writable ? "write" : "read");
        exit(EXIT_CONFIG);
}

int daemon_event_new(sd_event **ret) {
        sd_event *e = NULL;
        sigset_t ss;
        int r;

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return -errno;
        /* A client that goes away mid-reply must not kill the daemon. */
        signal(SIGPIPE, SIG_IGN);

        r = sd_event_default(&e);
        if (r < 0)
                return r;
        r = sd_event_add_signal(e, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(e, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_event_set_watchdog(e, true);
        if (r < 0) {
                sd_event_unref(e);
                return r;
        }
        *ret = e;
        return 0;
}

int daemon_bus_open(const VdeskConfig *c, sd_event *e, sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        r = bus_open_from_config(c, &bus);
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the bus: %m");
        r = sd_bus_attach_event(bus, e, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0) {
                sd_bus_flush_close_unref(bus);
                return log_error_errno(r, "Cannot attach the bus to the event loop: %m");
        }
        *ret = bus;
        return 0;
}

int daemon_serve(sd_bus *bus, sd_event *e, const char *name, const char *status) {
        int r;

        if (name) {
                r = sd_bus_request_name(bus, name, 0);
                if (r < 0)
                        return log_error_errno(r, "Cannot own %s: %m", name), EXIT_FAILURE;
        }
        (void) sd_notifyf(false, "READY=1\nSTATUS=%s", status);
        r = sd_event_loop(e);
        (void) sd_notify(false, "STOPPING=1");
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m"), EXIT_FAILURE;
        return EXIT_SUCCESS;
}
