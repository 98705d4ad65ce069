/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

/* libvirt's event loop on sd-event (virEventRegisterImpl): watches and
 * timers libvirt asks for, from any thread, become sources of the loop
 * that registered it; their callbacks run there. */

/* Once per process, from the loop's thread, before any connection. */
int virt_loop_register(sd_event *e);
/* After the last connection was closed. */
void virt_loop_unregister(void);

bool virt_loop_on_loop_thread(void);
