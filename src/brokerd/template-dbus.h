/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "object-dbus.h"

/* The templates' methods on the Manager (manager-dbus.c has the vtable). */
int method_register_template(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_list_templates(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_get_template(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_list_template_versions(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_create_template(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_console_of_template(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_finish_template(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_edit_template(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_commit_template(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_discard_template_edit(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_delete_template(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_prune_template(sd_bus_message *msg, void *userdata, sd_bus_error *error);

#define TEMPLATE_OBJECT_PREFIX BROKERD_OBJECT_PATH "/template"
#define BROKERD_TEMPLATE_INTERFACE "org.vdesk.broker1.Template"
extern const BusObjectType template_object_type;
