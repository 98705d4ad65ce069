/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* The staff's methods on the Manager (manager-dbus.c has the vtable): a
 * session token from vdesk-directoryd authenticates, not polkit. */
int method_list_my_desktops(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_list_my_desktop_details(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_open_my_desktop(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_restart_my_desktop(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_list_managed_desktops(sd_bus_message *msg, void *userdata, sd_bus_error *error);
