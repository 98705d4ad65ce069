/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <systemd/sd-daemon.h>

#include "bus-error.h"
#include "bus-util.h"
#include "daemon-util.h"
#include "log.h"
#include "manager-dbus.h"

static const char help[] =
        "vdesk-netd [OPTIONS]\n\n"
        "Owns the nftables table inet vdesk: RDP forwards of this host's desktops.\n\n"
        "  --config=PATH    configuration file (default " VDESK_CONFIG_DEFAULT_PATH ")\n"
        "  --ruleset=PATH   base ruleset (default " PKGDATADIR "/vdesk.nft)\n"
        "  --no-reconcile   do not rebuild forwards from running desktops at start\n";

static int enable_ip_forwarding(void) {
        _cleanup_(closep) int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);

        if (fd < 0 || write(fd, "1\n", 2) != 2)
                return -errno;
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_(freep) char *error = NULL;
        DaemonArgs args;
        int r;

        r = manager_new(&m);
        if (r < 0)
                return log_oom(), EXIT_FAILURE;
        r = daemon_start(argc, argv, "ruleset", help, &args, &m->config);
        if (r != 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        r = daemon_event_new(&m->event);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the event loop: %m"), EXIT_FAILURE;

        r = manager_setup_tables(m, args.data_path ?: PKGDATADIR "/vdesk.nft");
        if (r < 0)
                return log_error_errno(r, "Cannot set up nftables access: %m"), EXIT_FAILURE;
        r = forwards_ensure_ruleset(&m->forwards, &error);
        if (r < 0)
                return log_error_errno(r, "Cannot load the ruleset %s: %s", m->forwards.ruleset_path,
                                       error ?: strerror(-r)), EXIT_FAILURE;
        log_event(LOG_INFO, MID_RULESET_LOADED,
                  "VDESK_RULESET_VERSION=%u", m->forwards.ruleset_version,
                  "VDESK_RULESET_LOADED=%d", r,
                  "MESSAGE=Table inet vdesk %s (ruleset %u)", r > 0 ? "loaded" : "adopted as it was",
                  m->forwards.ruleset_version);

        /* without its sources no forward would pass, without its bridge
         * the host would be open to its desktops */
        r = forwards_apply_config(&m->forwards);
        if (r < 0)
                return log_error_errno(r, "Cannot put the desktop network %s/%u (%s), the forwards' sources and the "
                                       "host services in the vdesk table: %m",
                                       m->config.gateway, m->config.prefix, m->config.bridge), EXIT_FAILURE;

        r = enable_ip_forwarding();
        if (r < 0)
                log_warning_errno(r, "Cannot enable IPv4 forwarding, forwards will not reach guests: %m");

        if (daemon_bus_open(&m->config, m->event, &m->bus) < 0)
                return EXIT_FAILURE;
        r = manager_add_bus_objects(m);
        if (r < 0)
                return log_error_errno(r, "Cannot register bus objects: %m"), EXIT_FAILURE;

        r = segments_watch_bridges(&m->segments, m->event);
        if (r < 0)
                log_warning_errno(r, "Cannot watch for bridges going away (segments stay with them): %m");

        if (!args.no_reconcile) {
                r = manager_start_reconcile(m, m->config.libvirt_uri);
                if (r < 0)
                        log_warning_errno(r, "Cannot start reconciling forwards: %m");
        }

        return daemon_serve(m->bus, m->event, NETD_BUS_NAME, "Serving forwards.");
}
