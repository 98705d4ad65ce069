/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "daemon-util.h"
#include "log.h"
#include "metrics.h"
#include "monitor-dbus.h"
#include "monitor.h"
#include "virt-loop.h"

static const char help[] =
        "vdesk-monitord [OPTIONS]\n\n"
        "Reads every vdesk host's and desktop's figures through read-only libvirt connections;\n"
        "serves them on D-Bus and in the Prometheus text format, and raises alerts.\n\n"
        "  --config=PATH    configuration file (default " VDESK_CONFIG_DEFAULT_PATH ")\n";

/* The metrics' socket and its scrapers go before the monitor they read. */
static void metrics_closep(Monitor **m) {
        if (*m)
                metrics_close(*m);
}

int main(int argc, char *argv[]) {
        _cleanup_(monitor_freep) Monitor *m = NULL;
        _cleanup_(metrics_closep) Monitor *metrics_of = NULL;   /* cleaned up first */
        DaemonArgs args;
        int r;

        r = monitor_new(&m);
        if (r < 0)
                return log_oom(), EXIT_FAILURE;
        metrics_of = m;
        r = daemon_start(argc, argv, NULL, help, &args, &m->config);
        if (r != 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        r = daemon_event_new(&m->event);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the event loop: %m"), EXIT_FAILURE;
        r = virt_loop_register(m->event);
        if (r < 0)
                return log_error_errno(r, "Cannot put libvirt's events on the loop: %m"), EXIT_FAILURE;
        if (daemon_bus_open(&m->config, m->event, &m->bus) < 0)
                return EXIT_FAILURE;
        r = monitor_add_bus_objects(m);
        if (r < 0)
                return log_error_errno(r, "Cannot register bus objects: %m"), EXIT_FAILURE;
        r = metrics_listen(m);
        /* a place it may never listen on (taken by another, it may free) */
        if (r < 0)
                return r == -EADDRINUSE || r == -ENOMEM ? EXIT_FAILURE : EXIT_CONFIG;
        if (monitor_start(m) < 0)
                return EXIT_FAILURE;
        r = daemon_serve(m->bus, m->event, MONITORD_BUS_NAME, "Monitoring hosts.");
        /* the connections go before libvirt's loop does */
        monitor_close_hosts(m);
        virt_loop_unregister();
        return r;
}
