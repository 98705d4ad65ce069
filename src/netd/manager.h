/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pthread.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "conf.h"
#include "forward.h"
#include "network-spec.h"

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        VdeskConfig config;
        Forwards forwards;

        /* Reconcile at start-up reads the running desktops from libvirt in a
         * thread, so that a hook call that activated netd is served at once
         * (libvirtd holds the starting domain's lock while its hook runs,
         * and a listing would wait for it). Ports changed by calls meanwhile
         * are left as the calls made them. */
        bool reconcile_running;
        pthread_t reconcile_thread;
        int reconcile_fd;
        sd_event_source *reconcile_source;
        char **reconcile_xmls;
        int reconcile_error;
        uint16_t *touched;
        size_t n_touched;

        ServedNetwork *served;
        size_t n_served;
        sd_event_source *link_watch;    /* bridges going away */
} Manager;

#define NETD_BUS_NAME "org.vdesk.network1"
#define NETD_OBJECT_PATH "/org/vdesk/network1"
#define NETD_INTERFACE "org.vdesk.network1.Manager"

int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Remembers a port changed by a call while reconcile is in flight. */
void manager_touch_port(Manager *m, uint16_t port);

/* Starts the reconcile thread for libvirt URI uri. */
int manager_start_reconcile(Manager *m, const char *uri);

/* Registers the Manager object on m->bus. */
int manager_add_bus_objects(Manager *m);

/* A department network's segment and elements on this host (what
 * EnsureNetwork does), for the bus and for reconcile. */
int manager_network_up(Manager *m, const char *bridge, const NetworkSpec *s, sd_bus_error *error);

/* Watches for bridges going away: when libvirt removes a department
 * network's bridge (the network deleted, on any host), its segment link and
 * elements go too. */
int manager_watch_bridges(Manager *m);

/* Logs and journals one added or removed forward. */
void manager_log_forward(const Forward *f, bool added, uid_t actor);
/* Journals a forward refused by policy (forward_validate()'s -EPERM) as a
 * warning naming the desktop; a malformed one (-EINVAL) at debug level. */
void manager_log_forward_refused(const Forward *f, int error, const char *reason);
