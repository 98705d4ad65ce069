/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "desktop.h"
#include "manager.h"
#include "rdp.h"

/* A staff member's desktops, as the directory vouches for the account
 * (staff-dbus.c asks it): which desktop a name means, a category's made on
 * first use, a hung one powered off for a restart. */

/* A category the account gets desktops from, with its redirection policy. */
typedef struct StaffCategory {
        const char *name, *template, *network;
        RdpRedirect redirect;
} StaffCategory;

/* The name a category's desktop of account's gets: CATEGORY-ACCOUNT, or,
 * where that is too long or taken by another desktop, "d-" and 16 hex
 * digits of a hash of both. */
void staff_desktop_name(Manager *m, const char *account, const char *category, char ret[static 64]);

const StaffCategory *staff_category_find(const StaffCategory *c, size_t n, const char *name);

/* The desktop of account's that name means ("" for the one desktop or
 * category it has), handed over from its category's pool or made from the
 * category if it has none yet (not for a restart: NoSuchDesktop), powered
 * off at once for a restart (*ret_restarted: it was running); and the
 * redirection its .rdp file allows. NotYourDesktop (journaled) for
 * another's, NoSuchDesktop for none, InvalidArgs when "" is ambiguous. */
int staff_desktop_prepare(Manager *m, const char *account, const char *name, bool restart, uid_t uid,
                          const StaffCategory *cats, size_t n_cats, Desktop *ret, RdpRedirect *ret_redirect,
                          bool *ret_restarted, sd_bus_error *error);

/* Journals that account restarted desktop d. */
void staff_log_restarted(const char *account, const char *desktop, const char *host, uid_t uid);
