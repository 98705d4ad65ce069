/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "conf.h"
#include "db.h"

#define DIRECTORYD_BUS_NAME "org.vdesk.directory1"
#define DIRECTORYD_OBJECT_PATH "/org/vdesk/directory1"
#define DIRECTORYD_INTERFACE "org.vdesk.directory1.Manager"
/* polkit's actions (policy/org.vdesk.directory1.policy): reading the
 * directory, and changing it. */
#define DIRECTORYD_ACTION_READ "org.vdesk.directory1.read"
#define DIRECTORYD_ACTION_MANAGE "org.vdesk.directory1.manage"

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        VdeskConfig config;
        Db *db;
} Manager;

int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

int manager_add_bus_objects(Manager *m);
