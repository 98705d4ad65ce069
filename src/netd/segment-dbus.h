/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* The Manager's department network methods (manager-dbus.c's vtable);
 * userdata is the Manager. EnsureNetwork and RemoveNetwork (one handler,
 * by the member's name), CheckNetwork. */
int bus_segment_method_ensure_or_remove(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_segment_method_check(sd_bus_message *msg, void *userdata, sd_bus_error *error);
