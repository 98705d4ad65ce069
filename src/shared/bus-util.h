/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdarg.h>

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
/* The system user of the staff web portal (vdesk-portald), the front end
 * that may name the address a sign-in comes from. */
#define VDESK_PORTAL_USER "vdesk-portal"

/* The group of vdesk's admins, whom the shipped polkit rule allows every
 * vdesk action (policy/org.vdesk.rules). */
#define VDESK_ADMIN_GROUP "vdesk-admin"

/* 1 if the sender of m is a member of group (as the bus vouches for its
 * groups), 0 if not or there is no such group, negative on failure. */
int bus_sender_in_group(sd_bus_message *m, const char *group);

/* 0 if the caller is root, the daemon's own user or the system user named
 * user, else an AccessDenied error in *error naming user and what (e.g.
 * "call SignInFrom"). The uid is the sender's, as the bus vouches for it. */
int bus_check_caller(sd_bus_message *m, const char *user, sd_bus_error *error, const char *what);

/* For the host agents' methods (netd, imaged): bus_check_caller() with
 * the broker's user; root is the libvirt hook or an admin. The bus policy
 * admits the same callers; this checks again with the sender's uid. */
int bus_check_agent_caller(sd_bus_message *m, sd_bus_error *error, const char *what);

/* Sets the method call timeout from [Bus] TimeoutMSec=. */
int bus_set_timeout_from_config(sd_bus *bus, const VdeskConfig *c);

/* A method call of dest, its arguments appended from types and ap: for
 * callers that send it their own way (a timeout, asynchronously). */
int bus_message_new_callv(sd_bus *bus, sd_bus_message **ret, const char *dest, const char *path, const char *iface,
                          const char *member, const char *types, va_list ap);
