/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Asks polkitd, without blocking, whether the sender of a method call may
 * do an action. The one module that speaks polkit's D-Bus API. */

/* Called once with the call the question was about and the answer: 1
 * allowed, 0 refused, negative on failure (error set). */
typedef void (*PolkitDoneFunc)(sd_bus_message *call, int allowed, const sd_bus_error *error, void *userdata);

/* Starts CheckAuthorization for the call's sender (a system-bus-name
 * subject, so polkitd itself vouches for who it is). Interaction is
 * allowed when the caller asked for it. Where no polkitd is on the bus,
 * only uid 0 is allowed, as systemd's services do. */
int polkit_check_async(sd_bus_message *call, const char *action, PolkitDoneFunc done, void *userdata);
