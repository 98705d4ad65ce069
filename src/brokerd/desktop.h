/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

#include "host.h"
#include "manager.h"

/* Desktops: rows in the database, domains in libvirt, disks through
 * vdesk-imaged. These functions keep them in step; each either does all of
 * its change or none of it, and fails with a named error in *error. */

typedef struct Desktop {
        uint64_t id;
        char name[64];
        char uuid[37];
        char account[64];
        char template[64];
        unsigned template_version;      /* the version its disk derives from */
        char *template_path;
        char template_format[8];        /* that version's, as recorded */
        char *disk_path;
        uint32_t address;
        char mac[18];
        uint16_t rdp_port;
        char state[16];
        uint64_t state_since_usec;      /* when state last changed (µs since the epoch) */
        char category[64];      /* "" unless made from a category */
        char network[64];       /* its department network, "" for the host's */
        uint64_t host_id;       /* the host its domain is defined on */
        char host[64];
} Desktop;

void desktop_done(Desktop *d);
void desktop_list_free(Desktop *d, size_t n);

/* The names of all desktops, sorted. */
int desktop_names(Manager *m, char ***ret);
/* -ENOENT (NoSuchDesktop in *error) if there is none. */
int desktop_get(Manager *m, const char *name, Desktop *ret, sd_bus_error *error);
/* All desktops, or (account not NULL) the account's. */
int desktop_list(Manager *m, const char *account, Desktop **ret, size_t *ret_n);

/* Places the desktop and allocates its address, MAC and port (allocate.h),
 * records it, defines its domain with the vdesk metadata, and registers
 * its DHCP host entry.
 * category (or NULL) is the one a staff member's desktop was made from;
 * account NULL makes a desktop of that category's pool (pool.h), nobody's
 * until it is handed over. */
int desktop_create(Manager *m, const char *name, const char *account, const char *template, const char *category,
                   uid_t actor, Desktop *ret, sd_bus_error *error);
int desktop_start(Manager *m, const Desktop *d, uid_t actor, sd_bus_error *error);
int desktop_stop(Manager *m, const Desktop *d, bool force, uid_t actor, sd_bus_error *error);
/* A running desktop is powered off at once (a hung guest does not answer
 * ACPI): 1 if it was running, 0 if it was not; NotReady if it has no
 * domain yet. */
int desktop_power_off(Manager *m, const Desktop *d, uid_t actor, sd_bus_error *error);
/* A running desktop is refused (DesktopRunning). Removes the domain, its
 * DHCP host entry, its disk (through vdesk-imaged) and its row. */
int desktop_delete(Manager *m, const Desktop *d, uid_t actor, sd_bus_error *error);

/* Defines a stopped desktop on another host (up) instead of its own, with
 * its network and DHCP entry there; its disk stays where it is (storage
 * the hosts share). */
int desktop_move(Manager *m, const Desktop *d, const char *host, uid_t actor, sd_bus_error *error);

/* Gives a stopped desktop a new, empty disk on the newest version of its
 * template (DesktopRunning if it runs). */
int desktop_reissue(Manager *m, const Desktop *d, uid_t actor, unsigned *ret_version, sd_bus_error *error);

/* Records a state host h's libvirt reported and journals the start or
 * stop (a crash as a warning). */
void desktop_state_changed(Manager *m, Host *h, const char *name, VirtDomainState state, VirtStopReason reason);

/* Brings the database in line with host h's libvirt after a (re)connect:
 * its desktop network, the department networks it serves with every
 * desktop's DHCP entry, its desktops' states. */
void desktops_resync(Manager *m, Host *h);

/* Adds (or removes) a DHCP host entry of a department network on every
 * connected host serving it but except. */
void dhcp_entry_everywhere(Manager *m, Host *except, const char *network, const char *host_xml, bool add);
