/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "bus-error.h"
#include "bus-util.h"
#include "daemon-util.h"
#include "disk.h"
#include "disk-dbus.h"
#include "manager.h"
#include "log.h"
#include "util.h"

static const char help[] =
        "vdesk-imaged [OPTIONS]\n\n"
        "Makes and removes desktop disks: qcow2 overlays of templates.\n\n"
        "  --config=PATH    configuration file (default " VDESK_CONFIG_DEFAULT_PATH ")\n";

int main(int argc, char *argv[]) {
        _cleanup_(config_done) VdeskConfig config = {};
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        ImageManager m = { .config = &config };
        DaemonArgs args;
        int r;

        r = daemon_start(argc, argv, NULL, help, &args, &config);
        if (r != 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        /* Disks are private to the host's hypervisor: the group (the one
         * QEMU runs as, under the unit) may read them, nobody else. */
        umask(0027);
        daemon_require_dir("[Images] DiskDir", config.disk_dir, 0750, true);
        daemon_require_dir("[Images] TemplateDir", config.template_dir, 0750, true);
        disk_remove_stale_temps(&config);

        r = daemon_event_new(&event);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the event loop: %m"), EXIT_FAILURE;
        if (daemon_bus_open(&config, event, &bus) < 0)
                return EXIT_FAILURE;
        m.bus = bus;
        r = image_manager_add_bus_objects(&m);
        if (r < 0)
                return log_error_errno(r, "Cannot register bus objects: %m"), EXIT_FAILURE;
        return daemon_serve(bus, event, IMAGED_BUS_NAME, "Serving disks.");
}
