/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pthread.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "conf.h"
#include "forward.h"
#include "segment.h"

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        VdeskConfig config;
        Forwards forwards;
        Segments segments;

        /* Reconcile at start-up reads the running desktops from libvirt in a
         * thread, so that a hook call that activated netd is served at once
         * (libvirtd holds the starting domain's lock while its hook runs,
         * and a listing would wait for it). Ports changed by calls meanwhile
         * are left as the calls made them (forwards_remember_changes()). */
        bool reconcile_running;
        pthread_t reconcile_thread;
        int reconcile_fd;
        sd_event_source *reconcile_source;
        char **reconcile_xmls;
        int reconcile_error;
} Manager;

#define NETD_BUS_NAME "org.vdesk.network1"
#define NETD_OBJECT_PATH "/org/vdesk/network1"
#define NETD_INTERFACE "org.vdesk.network1.Manager"
/* who may call netd's methods: root and the broker's user, "Only root and
 * vdesk-broker may ..." */
#define NETD_CALLERS_MAY "change forwards and networks"

int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Sets up the vdesk tables' access: the forwards from the ruleset file at
 * ruleset_path, and the department networks' segments. */
int manager_setup_tables(Manager *m, const char *ruleset_path);

/* Starts the reconcile thread for libvirt URI uri. */
int manager_start_reconcile(Manager *m, const char *uri);
