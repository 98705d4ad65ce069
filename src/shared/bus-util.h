/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "conf.h"
#include "macro.h"

/* Opens the bus vdesk's services meet on: [Bus] Address= when set, else the
 * system bus (which honours $DBUS_SYSTEM_BUS_ADDRESS). */
int bus_open_from_config(const VdeskConfig *c, sd_bus **ret);

/* The effective uid of a message's sender, as the bus daemon vouches for it. */
int bus_sender_uid(sd_bus_message *m, uid_t *ret);

/* The system user vdesk-brokerd runs as under its unit (units/vdesk.sysusers). */
#define VDESK_BROKER_USER "vdesk-broker"

/* For the host agents' methods (netd, imaged): 0 if the caller is root (the
 * libvirt hook, an admin), the broker's user or the daemon's own, else an AccessDenied error
 * in *error naming what (e.g. "change forwards"). The bus policy admits the
 * same callers; this checks again with the sender's uid. */
int bus_check_agent_caller(sd_bus_message *m, sd_bus_error *error, const char *what);

/* Sets the method call timeout from [Bus] TimeoutMSec=. */
int bus_set_timeout_from_config(sd_bus *bus, const VdeskConfig *c);
