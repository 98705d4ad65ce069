/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "bus-error.h"
#include "bus-util.h"
#include "daemon-util.h"
#include "desktop.h"
#include "desktop-open.h"
#include "host.h"
#include "iso.h"
#include "job.h"
#include "log.h"
#include "manager.h"
#include "manager-dbus.h"
#include "object-dbus.h"
#include "pool.h"
#include "template.h"
#include "util.h"
#include "virt-loop.h"

static const char help[] =
        "vdesk-brokerd [OPTIONS]\n\n"
        "Keeps templates and desktops: the database, libvirt's domains and the desktop network.\n\n"
        "  --config=PATH    configuration file (default " VDESK_CONFIG_DEFAULT_PATH ")\n"
        "  --sql-dir=PATH   database migrations (default " PKGDATADIR "/sql)\n";

/* A host answered (again): its desktop network, its desktops' states and,
 * on the broker's own, the commits cut short. */
static void on_host_connected(Manager *m, Host *h) {
        desktops_resync(m, h);
        if (h == m->local)
                template_commits_resume(m);
}

static int manager_new(Manager **ret) {
        Manager *m = new0(Manager, 1);

        if (!m)
                return -ENOMEM;
        m->events = (ManagerEvents) {
                .domain_changed = desktop_state_changed,
                .host_connected = on_host_connected,
                .console_client = template_console_used,
        };
        *ret = m;
        return 0;
}

static Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        desktop_opens_free(m);
        pool_stop(m);
        jobs_free(m);
        template_console_voids_free(m);
        sd_event_source_disable_unref(m->iso_watch);
        sd_event_source_disable_unref(m->iso_rescan);
        strv_free(m->busy_templates);
        manager_actors_free(m);
        sd_event_source_disable_unref(m->sample_timer);
        hosts_free(m);
        virt_loop_unregister();
        db_close(m->db);
        sd_bus_flush_close_unref(m->bus);
        /* after the bus: its fallback vtables point into them */
        bus_objects_free(m);
        sd_event_unref(m->event);
        free(m->console_log_dir);
        config_done(&m->config);
        free(m);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

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

        if (asprintf(&m->console_log_dir, "%s/log/vdesk/console", LOCALSTATEDIR) < 0)
                return log_oom(), EXIT_FAILURE;
        (void) mkdir(LOCALSTATEDIR "/log/vdesk", 0750);
        (void) mkdir(m->console_log_dir, 0750);

        if (daemon_open_database(&m->config, args.data_path ?: PKGDATADIR "/sql", &m->db) < 0)
                return EXIT_FAILURE;

        r = daemon_event_new(&m->event);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the event loop: %m"), EXIT_FAILURE;
        /* Before any libvirt connection is opened. */
        r = virt_loop_register(m->event);
        if (r < 0)
                return log_error_errno(r, "Cannot put libvirt's events on the loop: %m"), EXIT_FAILURE;

        r = iso_catalog_start(m);
        if (r < 0)
                return EXIT_FAILURE;

        if (daemon_bus_open(&m->config, m->event, &m->bus) < 0)
                return EXIT_FAILURE;
        r = manager_add_bus_objects(m);
        if (r < 0)
                return log_error_errno(r, "Cannot register bus objects: %m"), EXIT_FAILURE;

        /* connects to every host, in the background until each answers */
        r = hosts_start(m);
        if (r < 0)
                return log_error_errno(r, "Cannot set up libvirt: %m"), EXIT_FAILURE;
        r = pool_start(m);
        if (r < 0)
                return log_error_errno(r, "Cannot keep the pools: %m"), EXIT_FAILURE;

        return daemon_serve(m->bus, m->event, BROKERD_BUS_NAME, "Serving desktops.");
}
