/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* The pools' method on the Manager (manager-dbus.c has the vtable). */
int method_list_pools(sd_bus_message *msg, void *userdata, sd_bus_error *error);
