/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "manager.h"

/* Batch jobs, as systemd's: a department's or a category's desktops made,
 * started, stopped or re-issued off the back of the event loop (an idle
 * source starts the items, as many at once as [Broker] Workers=; their
 * libvirt calls run off the loop: desktop-queue.h). A failed item is
 * recorded with its named error and never stops the batch; each item is
 * all or nothing (desktop_create_async() and friends),
 * so a cancelled or cut-short job leaves only whole desktops, and running
 * it again does what is left. Jobs live in memory only. */

typedef enum JobKind {
        JOB_CREATE_DESKTOPS,    /* target: a category; every member of its departments without one */
        JOB_CREATE_DEPARTMENT_DESKTOPS, /* target: a department; each of its categories' desktops its members lack */
        JOB_START_DESKTOPS,     /* target: a department; its members' desktops not running */
        JOB_STOP_DESKTOPS,      /* target: a department; its members' desktops running */
        JOB_REISSUE_DESKTOPS,   /* target: a template; its stopped desktops on an older version */
        _JOB_KIND_MAX,
        _JOB_KIND_INVALID = -1,
} JobKind;

const char *job_kind_to_string(JobKind k);

typedef struct JobFailure {
        char *item;
        char *error_name;
        char *message;
} JobFailure;

struct Job {
        Manager *manager;
        uint32_t id;
        char name[16];                  /* its id in decimal: the object's name */
        JobKind kind;
        char target[64];
        bool force;                     /* StopDesktops: power off at once */
        uid_t actor;
        char **items;                   /* what each step is about: accounts or desktops */
        size_t n_items, next;
        unsigned in_flight;             /* items started and not yet ended */
        unsigned done, failed;
        JobFailure *failures;           /* the failed items, as far as they could be recorded */
        size_t n_failures;
        bool cancelled;
        const char *result;             /* "done", "failed" (some items did), "canceled"; NULL while running */
        sd_event_source *step;
        Job *next_job;
};

/* Reads the job's items and starts it; NoSuchCategory (and the like) in
 * *error for a target that is not there. */
int job_start(Manager *m, JobKind kind, const char *target, bool force, uid_t actor, Job **ret,
              sd_bus_error *error);
/* The job ends after the items in hand ("canceled"); NoSuchJob if it is
 * not running. */
int job_cancel(Manager *m, const char *name, uid_t actor, sd_bus_error *error);
Job *job_by_name(Manager *m, const char *name);
/* "running", "canceling" (after the item in hand) or the result. */
const char *job_state(const Job *j);
/* The item in hand ("" when none). */
const char *job_current(const Job *j);
void jobs_free(Manager *m);
