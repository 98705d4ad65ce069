/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "desktop.h"
#include "manager.h"
#include "object-dbus.h"
#include "rdp.h"

/* The desktops' methods on the Manager (manager-dbus.c has the vtable). */
int method_create_desktop(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_get_desktop(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_list_desktops(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_start_desktop(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_stop_desktop(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_reissue_desktop(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_move_desktop(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_delete_desktop(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_open_desktop(sd_bus_message *msg, void *userdata, sd_bus_error *error);

/* A desktop as the D-Bus API shows it: DESKTOP_SIGNATURE. */
int append_desktop(sd_bus_message *reply, const Desktop *d);

/* Opens d (taken over) and replies to msg when the guest answers: (s host,
 * q port, s rdp_file, s freerdp_command), with the desktop's name first if
 * reply_with_name. */
int desktop_open_reply(Manager *m, sd_bus_message *msg, Desktop *d, const RdpRedirect *redirect,
                       bool reply_with_name, uid_t actor, sd_bus_error *error);

#define DESKTOP_OBJECT_PREFIX BROKERD_OBJECT_PATH "/desktop"
#define BROKERD_DESKTOP_INTERFACE "org.vdesk.broker1.Desktop"
extern const BusObjectType desktop_object_type;
