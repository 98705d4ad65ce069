/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* The ISO catalog's methods on the Manager (manager-dbus.c has the vtable). */
int method_list_isos(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_refresh_isos(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_register_iso(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_unregister_iso(sd_bus_message *msg, void *userdata, sd_bus_error *error);
