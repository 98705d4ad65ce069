/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <systemd/sd-daemon.h>

#include "bus-util.h"
#include "daemon-util.h"
#include "log.h"
#include "manager.h"
#include "manager-dbus.h"
#include "session.h"

static const char help[] =
        "vdesk-directoryd [OPTIONS]\n\n"
        "Keeps vdesk's directory: accounts and their passwords, departments, categories.\n\n"
        "  --config=PATH    configuration file (default " VDESK_CONFIG_DEFAULT_PATH ")\n"
        "  --sql-dir=PATH   database migrations (default " PKGDATADIR "/sql)\n";

int main(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        DaemonArgs args;
        int r;

        r = manager_new(&m);
        if (r < 0)
                return log_oom(), EXIT_FAILURE;
        r = daemon_start(argc, argv, "sql-dir", help, &args, &m->config);
        if (r != 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        if (daemon_open_database(&m->config, args.data_path ?: PKGDATADIR "/sql", &m->db) < 0)
                return EXIT_FAILURE;

        r = daemon_event_new(&m->event);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the event loop: %m"), EXIT_FAILURE;
        if (daemon_bus_open(&m->config, m->event, &m->bus) < 0)
                return EXIT_FAILURE;
        /* Niced: a hash waits a little, the loop's short calls do not. */
        r = worker_pool_new(m->event, m->config.signin_workers, DIRECTORYD_PASSWORD_QUEUE_MAX, 10, &m->workers);
        if (r < 0)
                return log_error_errno(r, "Cannot start the password workers: %m"), EXIT_FAILURE;
        r = session_throttle_start(m);
        if (r < 0)
                return log_error_errno(r, "Cannot set up sign-in throttling: %m"), EXIT_FAILURE;
        r = session_purge_start(m);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the purge of expired sessions: %m"), EXIT_FAILURE;
        r = manager_add_bus_objects(m);
        if (r < 0)
                return log_error_errno(r, "Cannot register bus objects: %m"), EXIT_FAILURE;
        return daemon_serve(m->bus, m->event, DIRECTORYD_BUS_NAME, "Serving the directory.");
}
