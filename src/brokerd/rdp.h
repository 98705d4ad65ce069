/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* What a staff member's RDP client needs to open a desktop: an .rdp file
 * that mstsc, FreeRDP and Remmina read, and the equivalent FreeRDP
 * command line. Neither carries a password. */

/* What a client may redirect into the desktop: a category's policy, or
 * [Desktop] Redirect*= for desktops an admin made. */
typedef struct RdpRedirect {
        bool printers;
        bool drives;
        bool clipboard;
        bool usb;
} RdpRedirect;

typedef struct RdpTarget {
        const char *host;
        uint16_t port;
        const char *username;
        const char *desktop;
        bool printers;
        bool drives;
        bool clipboard;
        bool usb;
} RdpTarget;

/* The .rdp file's text (CRLF line ends, as mstsc writes them). */
int rdp_file_render(const RdpTarget *t, char **ret);

/* "xfreerdp /v:HOST:PORT /u:USER ..." with one option per allowed
 * redirection. */
int rdp_freerdp_command(const RdpTarget *t, char **ret);
