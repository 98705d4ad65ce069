/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"
#include "object-dbus.h"

/* The jobs' methods on the Manager (manager-dbus.c has the vtable):
 * CreateDesktops, CreateDepartmentDesktops, StartDesktops, StopDesktops, ReissueDesktops answer a job
 * object at once; CancelJob. */
int method_create_desktops(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_create_department_desktops(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_start_desktops(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_stop_desktops(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_reissue_desktops(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_cancel_job(sd_bus_message *msg, void *userdata, sd_bus_error *error);

/* JobRemoved(u id, o job, s kind, s target, s result, u done, u total,
 * a(sss) failures: item, error name, message), on the Manager, as
 * systemd's JobRemoved. */
void job_send_removed(Manager *m, const Job *j);

#define JOB_OBJECT_PREFIX BROKERD_OBJECT_PATH "/job"
#define BROKERD_JOB_INTERFACE "org.vdesk.broker1.Job"
extern const BusObjectType job_object_type;
