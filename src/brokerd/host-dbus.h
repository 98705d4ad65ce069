/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "object-dbus.h"

/* The hosts' and clusters' methods on the Manager (manager-dbus.c has the vtable). */
int method_create_cluster(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_delete_cluster(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_list_clusters(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_category_cluster(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_add_host(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_remove_host(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_set_host_maintenance(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_get_host(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_list_hosts(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_place_desktop(sd_bus_message *msg, void *userdata, sd_bus_error *error);

#define HOST_OBJECT_PREFIX BROKERD_OBJECT_PATH "/host"
#define BROKERD_HOST_INTERFACE "org.vdesk.broker1.Host"
extern const BusObjectType host_object_type;
#define CLUSTER_OBJECT_PREFIX BROKERD_OBJECT_PATH "/cluster"
#define BROKERD_CLUSTER_INTERFACE "org.vdesk.broker1.Cluster"
extern const BusObjectType cluster_object_type;
