/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "object-dbus.h"

/* The department networks' methods on the Manager (manager-dbus.c has the vtable). */
int method_create_network(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_list_networks(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_get_network(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_delete_network(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_category_network(sd_bus_message *msg, void *userdata, sd_bus_error *error);

#define NETWORK_OBJECT_PREFIX BROKERD_OBJECT_PATH "/network"
#define BROKERD_NETWORK_INTERFACE "org.vdesk.broker1.Network"
extern const BusObjectType network_object_type;
