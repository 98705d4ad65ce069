/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-error.h"
#include "job.h"
#include "job-dbus.h"
#include "log.h"
#include "manager.h"
#include "object-dbus.h"
#include "polkit.h"
#include "util.h"

/* Starting and cancelling a job changes things: org.vdesk.broker1.manage. */
#define AUTHORIZED(name) POLKIT_METHOD_EXPORTED(name, Manager, BROKERD_ACTION_MANAGE)

static int reply_job(sd_bus_message *msg, const Job *j) {
        _cleanup_(freep) char *path = NULL;
        int r;

        r = bus_object_path(OBJECT_JOB, j->name, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "o", path);
}

static int start_job(Manager *m, sd_bus_message *msg, JobKind kind, bool force, uid_t actor, sd_bus_error *error) {
        const char *target;
        Job *j;
        int r;

        r = sd_bus_message_read(msg, "s", &target);
        if (r >= 0)
                r = job_start(m, kind, target, force, actor, &j, error);
        if (r < 0)
                return r;
        return reply_job(msg, j);
}

AUTHORIZED(create_desktops) {
        return start_job(m, msg, JOB_CREATE_DESKTOPS, false, actor, error);
}

AUTHORIZED(create_department_desktops) {
        return start_job(m, msg, JOB_CREATE_DEPARTMENT_DESKTOPS, false, actor, error);
}

AUTHORIZED(start_desktops) {
        return start_job(m, msg, JOB_START_DESKTOPS, false, actor, error);
}

AUTHORIZED(stop_desktops) {
        const char *target;
        int force = 0;
        Job *j;
        int r;

        r = sd_bus_message_read(msg, "sb", &target, &force);
        if (r >= 0)
                r = job_start(m, JOB_STOP_DESKTOPS, target, force, actor, &j, error);
        if (r < 0)
                return r;
        return reply_job(msg, j);
}

AUTHORIZED(reissue_desktops) {
        return start_job(m, msg, JOB_REISSUE_DESKTOPS, false, actor, error);
}

/* CancelJob(s id) on the Manager, Cancel() on the job's object */
AUTHORIZED(cancel_job) {
        _cleanup_(freep) char *name = NULL;
        int r;

        r = bus_object_name(msg, JOB_OBJECT_PREFIX, &name);
        if (r >= 0)
                r = job_cancel(m, name, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

void job_send_removed(Manager *m, const Job *j) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *s = NULL;
        _cleanup_(freep) char *path = NULL;
        int r;

        r = bus_object_path(OBJECT_JOB, j->name, &path);
        if (r >= 0)
                r = sd_bus_message_new_signal(m->bus, &s, BROKERD_OBJECT_PATH, BROKERD_INTERFACE, "JobRemoved");
        if (r >= 0)
                r = sd_bus_message_append(s, "uosssuu", j->id, path, job_kind_to_string(j->kind), j->target,
                                          j->result, j->done, (uint32_t) j->n_items);
        if (r >= 0)
                r = sd_bus_message_open_container(s, 'a', "(sss)");
        for (unsigned i = 0; r >= 0 && i < j->failed; i++)
                r = sd_bus_message_append(s, "(sss)", j->failures[i].item, j->failures[i].error_name,
                                          j->failures[i].message);
        if (r >= 0)
                r = sd_bus_message_close_container(s);
        if (r >= 0)
                r = sd_bus_send(m->bus, s, NULL);
        if (r < 0)
                log_warning_errno(r, "Cannot send JobRemoved of job %s: %m", j->name);
}

/* ---- the Job objects ----------------------------------------------------------------- */

static struct {
        Manager *manager;               /* first: the methods' userdata */
        const Job *job;
} loaded_job;

static int job_load(Manager *m, const char *name, void **ret_slot) {
        loaded_job.manager = m;
        loaded_job.job = job_by_name(m, name);
        if (!loaded_job.job)
                return 0;
        *ret_slot = &loaded_job;
        return 1;
}

static int job_names(Manager *m, char ***ret) {
        _cleanup_(strv_freep) char **names = NULL;

        for (Job *j = m->jobs; j; j = j->next_job)
                if (strv_extend(&names, j->name) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(names);
        return 0;
}

static int property_get_job(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const Job *j = loaded_job.job;

        if (streq(property, "Id"))
                return sd_bus_message_append(reply, "u", j->id);
        if (streq(property, "Kind"))
                return sd_bus_message_append(reply, "s", job_kind_to_string(j->kind));
        if (streq(property, "Target"))
                return sd_bus_message_append(reply, "s", j->target);
        if (streq(property, "State"))
                return sd_bus_message_append(reply, "s", job_state(j));
        if (streq(property, "Done"))
                return sd_bus_message_append(reply, "u", j->done);
        if (streq(property, "Failed"))
                return sd_bus_message_append(reply, "u", j->failed);
        if (streq(property, "Total"))
                return sd_bus_message_append(reply, "u", (uint32_t) j->n_items);
        if (streq(property, "Current"))
                return sd_bus_message_append(reply, "s", job_current(j));
        return -EINVAL;
}

#define JOB_PROPERTY(name, type, flags) SD_BUS_PROPERTY(name, type, property_get_job, 0, flags)

static int object_cancel_job(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return method_cancel_job(msg, *(Manager **) userdata, error);
}

static const sd_bus_vtable job_vtable[] = {
        SD_BUS_VTABLE_START(0),
        JOB_PROPERTY("Id", "u", SD_BUS_VTABLE_PROPERTY_CONST),
        JOB_PROPERTY("Kind", "s", SD_BUS_VTABLE_PROPERTY_CONST),
        JOB_PROPERTY("Target", "s", SD_BUS_VTABLE_PROPERTY_CONST),
        JOB_PROPERTY("Total", "u", SD_BUS_VTABLE_PROPERTY_CONST),
        /* running, or canceling; its result comes with JobRemoved, when the object goes */
        JOB_PROPERTY("State", "s", SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        JOB_PROPERTY("Done", "u", SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        JOB_PROPERTY("Failed", "u", SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        /* the item in hand: an account (create-desktops) or a desktop */
        JOB_PROPERTY("Current", "s", SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("Cancel",
                                SD_BUS_NO_ARGS,
                                SD_BUS_NO_RESULT,
                                object_cancel_job, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

const BusObjectType job_object_type = {
        .kind = OBJECT_JOB,
        .prefix = JOB_OBJECT_PREFIX,
        .interface = BROKERD_JOB_INTERFACE,
        .vtable = job_vtable,
        .load = job_load,
        .list = job_names,
};
