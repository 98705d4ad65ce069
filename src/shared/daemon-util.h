/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "conf.h"

/* What every vdesk daemon's main() does the same way. */

/* The exit status of a daemon whose configuration is wrong (EX_CONFIG of
 * sysexits.h). Its units say RestartPreventExitStatus=78: restarting would
 * fail the same way, so systemd leaves it failed instead of looping. */
#define EXIT_CONFIG 78

typedef struct DaemonArgs {
        const char *config_path;
        const char *data_path;          /* --ruleset / --sql-dir, daemon specific */
        bool no_reconcile;
} DaemonArgs;

/* Parses --config=PATH, --data=PATH (named data_option), --no-reconcile,
 * --help, --version. Returns 0 to go on, 1 if it printed help or version,
 * -EINVAL on a bad option. */
int daemon_parse_args(int argc, char *argv[], const char *data_option, const char *help, DaemonArgs *ret);

/* What every daemon's main() begins with: logging, the options, the
 * configuration (into *ret_config) and vdesk's error names. Returns 0 to go
 * on, 1 if it printed help or version, negative (logged) on a bad option. A
 * bad configuration ends the process with EXIT_CONFIG. */
int daemon_start(int argc, char *argv[], const char *data_option, const char *help,
                 DaemonArgs *ret_args, VdeskConfig *ret_config);

/* Loads the configuration, logging a precise error on failure. */
int daemon_load_config(const char *path, VdeskConfig *ret);

/* Makes sure the directory a setting names (key, e.g. "[Images] DiskDir")
 * exists (created with mode and its parents if missing) and that this
 * process may read it, and write it if writable; otherwise logs why, naming the setting, and ends the
 * process with EXIT_CONFIG. Under systemd only the unit's StateDirectory=
 * and ReadWritePaths= are writable: a directory elsewhere needs a drop-in. */
void daemon_require_dir(const char *key, const char *path, mode_t mode, bool writable);

/* sd_event_default() with SIGTERM and SIGINT ending the loop and the
 * watchdog on (a no-op without systemd). */
int daemon_event_new(sd_event **ret);

/* The bus [Bus] names, attached to the event loop; logs what failed. */
int daemon_bus_open(const VdeskConfig *c, sd_event *e, sd_bus **ret);

/* What every daemon's main() ends with, once its objects are on the bus:
 * owns name (unless NULL: a client of the bus), tells systemd it is ready (status: what it serves), runs the
 * loop until SIGTERM. Returns the exit status. */
int daemon_serve(sd_bus *bus, sd_event *e, const char *name, const char *status);
