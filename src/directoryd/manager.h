/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "conf.h"
#include "db.h"
#include "throttle.h"
#include "worker.h"

#define DIRECTORYD_BUS_NAME "org.vdesk.directory1"
#define DIRECTORYD_OBJECT_PATH "/org/vdesk/directory1"
#define DIRECTORYD_INTERFACE "org.vdesk.directory1.Manager"
/* polkit's actions (policy/org.vdesk.directory1.policy): reading the
 * directory, and changing it. */
#define DIRECTORYD_ACTION_READ "org.vdesk.directory1.read"
#define DIRECTORYD_ACTION_MANAGE "org.vdesk.directory1.manage"

/* Password jobs waiting for a worker; more are refused (LimitsExceeded). */
#define DIRECTORYD_PASSWORD_QUEUE_MAX 256

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        VdeskConfig config;
        Db *db;
        WorkerPool *workers;            /* yescrypt off the loop */
        sd_event_source *purge_timer;   /* expired sessions */
        Throttle *throttle;             /* failed sign-ins per source */
        Throttle *account_throttle;     /* ... per account and source a front end named: its lockout */
} Manager;

/* How a method whose answer comes later (a worker hashed a password)
 * hands it back, on the loop: error NULL on success; token and
 * expires_usec are a sign-in's, else NULL and 0. Called exactly once. */
typedef void (*ManagerDoneFunc)(const sd_bus_error *error, const char *token, uint64_t expires_usec, void *userdata);

int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);


/* Hands job (which begins with a PasswordWork) to the password workers;
 * done gets it back on the loop. LimitsExceeded while
 * DIRECTORYD_PASSWORD_QUEUE_MAX jobs wait already. */
int manager_submit_password_work(Manager *m, void *job, WorkerDoneFunc done, sd_bus_error *error);
