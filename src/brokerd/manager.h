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
typedef struct Job Job;
typedef struct Manager Manager;
typedef struct PoolState PoolState;

/* The kinds of things the broker serves as objects on the bus. */
typedef enum ObjectKind {
        OBJECT_DESKTOP,
        OBJECT_TEMPLATE,
        OBJECT_HOST,
        OBJECT_NETWORK,
        OBJECT_CLUSTER,
        OBJECT_JOB,
        _OBJECT_KIND_MAX,
} ObjectKind;

/* "desktop", "template", ...: as the objects' paths and the journal say. */
const char *object_kind_to_string(ObjectKind kind);

/* How the models tell those above them what happened, without calling
 * up: brokerd.c sets these once at start-up. The object_* ones feed the
 * bus (ObjectManager and PropertiesChanged signals); the rest pass a
 * host's libvirt news on to the desktops and templates. Any may be NULL. */
typedef struct ManagerEvents {
        void (*object_added)(Manager *m, ObjectKind kind, const char *name);
        void (*object_removed)(Manager *m, ObjectKind kind, const char *name);
        /* properties: NULL-terminated names of those that changed */
        void (*object_changed)(Manager *m, ObjectKind kind, const char *name, char **properties);
        /* a domain of host h started or stopped */
        void (*domain_changed)(Manager *m, Host *h, const char *domain, VirtDomainState state,
                               VirtStopReason reason);
        /* host h answered (again) */
        void (*host_connected)(Manager *m, Host *h);
        /* a console client of a domain on the broker's own host got in */
        void (*console_client)(Manager *m, const char *domain, const char *client);
        /* a job ended (its result and failures are set), just before it goes */
        void (*job_finished)(Manager *m, const Job *j);
} ManagerEvents;

struct Manager {
        sd_event *event;
        sd_bus *bus;
        VdeskConfig config;
        Db *db;
        Host *hosts;                    /* the hosts of every cluster, each with its connection */
        Host *adding_hosts;             /* AddHost calls waiting for the host's first answer */
        Host *local;                    /* the broker's own ([Libvirt] URI=): templates are built here */
        uint64_t local_cluster_id;      /* its cluster: new desktops of a category without one go there */
        Virt *virt;                     /* local's connection */
        sd_event_source *sample_timer;  /* reads the hosts' load */
        char *console_log_dir;          /* where desktops' serial consoles are logged */
        OpenRequest *opens;             /* OpenDesktop calls waiting for the guest */
        PendingActor *actors;           /* who asked for a start or stop not yet seen */
        sd_event_source *iso_watch;     /* inotify on IsoDir */
        sd_event_source *iso_rescan;    /* the rescan it schedules */
        char **busy_templates;          /* templates with a commit in flight */
        ConsoleVoid *console_voids;     /* console tickets to void once used */
        Job *jobs;                      /* the batch jobs running */
        uint32_t last_job_id;
        PoolState *pool;                /* the categories' pools being kept (pool.c) */
        ManagerEvents events;
        void *objects;                  /* the bus face's own state (manager-dbus.c) */
};

/* The models' news, passed on to m->events. */
void manager_object_added(Manager *m, ObjectKind kind, const char *name);
void manager_object_removed(Manager *m, ObjectKind kind, const char *name);
/* The names of the properties that changed, then NULL. */
void manager_object_changed(Manager *m, ObjectKind kind, const char *name, ...) _sentinel_;

void manager_actors_free(Manager *m);

/* Remembers that uid asked for desktop's next start or stop, so that the
 * journal entry of the lifecycle event names the actor. */
void manager_push_actor(Manager *m, const char *desktop, uid_t uid);
/* The uid that asked, or (uid_t) -1 if vdesk did not ask for this one. */
uid_t manager_pop_actor(Manager *m, const char *desktop);

/* The address clients reach this host on: [Forward] PublicAddress=, else
 * the first IPv4 address of an interface that is up and is neither the
 * loopback nor the desktop bridge. Host byte order; -EADDRNOTAVAIL if none. */
int manager_public_address(Manager *m, uint32_t *ret);

