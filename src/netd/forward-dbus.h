/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* The Manager's forward methods (manager-dbus.c's vtable); userdata is the
 * Manager. AddForward, AddForwards, RemoveForward, ListForwards,
 * ListForwardActivity. */
int bus_forward_method_add(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_forward_method_add_many(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_forward_method_remove(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_forward_method_list(sd_bus_message *msg, void *userdata, sd_bus_error *error);
/* ListForwardActivity: each forward's desktop, port and the connections
 * through it open now, which the broker's idle check reads. */
int bus_forward_method_list_activity(sd_bus_message *msg, void *userdata, sd_bus_error *error);
