/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bus-api.h"
#include "conf.h"
#include "db.h"
#include "virt.h"

#define BROKERD_BUS_NAME "org.vdesk.broker1"
#define BROKERD_OBJECT_PATH "/org/vdesk/broker1"
#define BROKERD_INTERFACE "org.vdesk.broker1.Manager"
/* polkit's actions (policy/org.vdesk.broker1.policy): reading the catalog,
 * hosts and desktops, and changing anything. */
#define BROKERD_ACTION_READ "org.vdesk.broker1.read"
#define BROKERD_ACTION_MANAGE "org.vdesk.broker1.manage"

/* The peers brokerd calls: destination, path and interface, for
 * sd_bus_call_method() and friends. */

typedef struct OpenRequest OpenRequest;
typedef struct PendingActor PendingActor;
typedef struct ConsoleVoid ConsoleVoid;
typedef struct Host Host;

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        VdeskConfig config;
        Db *db;
        Host *hosts;                    /* the hosts of every cluster, each with its connection */
        Host *adding_hosts;             /* AddHost calls waiting for the host's first answer */
        Host *local;                    /* the broker's own ([Libvirt] URI=): templates are built here */
        Virt *virt;                     /* local's connection */
        sd_event_source *sample_timer;  /* reads the hosts' load */
        char *console_log_dir;          /* where desktops' serial consoles are logged */
        OpenRequest *opens;             /* OpenDesktop calls waiting for the guest */
        PendingActor *actors;           /* who asked for a start or stop not yet seen */
        sd_event_source *iso_watch;     /* inotify on IsoDir */
        sd_event_source *iso_rescan;    /* the rescan it schedules */
        char **busy_templates;          /* templates with a commit in flight */
        ConsoleVoid *console_voids;     /* console tickets to void once used */
} Manager;

int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Connects to every host (in the background until each answers); on each
 * connect the host's desktop network is ensured and its desktops'
 * states resynced. */
int manager_connect_virt(Manager *m);

/* Whether desktops on host h are kvm domains: [Desktop] Accelerator=, and
 * for "auto" what h's libvirt can run (asked when h connects). */
bool manager_use_kvm(Manager *m, const Host *h);

/* Remembers that uid asked for desktop's next start or stop, so that the
 * journal entry of the lifecycle event names the actor. */
void manager_push_actor(Manager *m, const char *desktop, uid_t uid);
/* The uid that asked, or (uid_t) -1 if vdesk did not ask for this one. */
uid_t manager_pop_actor(Manager *m, const char *desktop);

/* The address clients reach this host on: [Forward] PublicAddress=, else
 * the first IPv4 address of an interface that is up and is neither the
 * loopback nor the desktop bridge. Host byte order; -EADDRNOTAVAIL if none. */
int manager_public_address(Manager *m, uint32_t *ret);

int manager_add_bus_objects(Manager *m);

/* The staff's methods (staff.c): a session token from vdesk-directoryd
 * authenticates, not polkit. */
int method_list_my_desktops(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_list_my_desktop_details(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_open_my_desktop(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_restart_my_desktop(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_list_managed_desktops(sd_bus_message *msg, void *userdata, sd_bus_error *error);
void manager_free_opens(Manager *m);
