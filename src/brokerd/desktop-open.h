/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

#include "desktop.h"
#include "manager.h"
#include "rdp.h"

/* Opening a desktop: start it if needed (off the loop, after the
 * operations asked for before on it: desktop-queue.h), wait (off the loop's back: a TCP
 * probe) until the guest answers on its forwarded RDP port or
 * [Desktop] OpenTimeoutSec= passes, then hand out the .rdp file. */

typedef struct DesktopOpened {
        const char *desktop;
        const char *host;               /* the address staff connect to */
        uint16_t port;
        const char *rdp_file;
        const char *freerdp_command;
} DesktopOpened;

/* Called once: with what to connect to, or with the error (opened NULL). */
typedef void (*DesktopOpenDone)(const DesktopOpened *opened, const sd_bus_error *e, void *userdata);

/* Takes d over (also on failure). Fails at once (HostDown, ...) in *error,
 * else calls done later. */
int desktop_open(Manager *m, Desktop *d, const RdpRedirect *redirect, uid_t actor, DesktopOpenDone done,
                 void *userdata, sd_bus_error *error);

/* Ends the opens still waiting: each told that the broker is stopping. */
void desktop_opens_free(Manager *m);
