/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

#include "desktop-queue.h"
#include "host.h"
#include "manager.h"

/* Desktops: rows in the database, domains in libvirt, disks through
 * vdesk-imaged. These functions keep them in step; each either does all of
 * its change or none of it, and fails with a named error in *error. */

/* The state of a desktop whose domain is being defined (desktop_create):
 * not ready for anything yet. */
#define DESKTOP_STATE_CREATING "creating"

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
/* Removes desktop id's row and what it holds, in one transaction: its
 * address back to its network's free list, its port and its cluster's
 * room with the row. Nothing of libvirt's. */
int desktop_row_remove(Manager *m, uint64_t id);


/* The operations on a desktop that call libvirt run off the loop
 * (desktop-queue.h): each returns at once, having queued the operation
 * (< 0 only if it could not: done is then never called), and done says
 * later, on the loop, how it ended, with the named error (NoSuchDesktop,
 * HostDown, NotReady, DesktopRunning, Hypervisor, ...) if it failed.
 * Operations on one desktop run in the order they were asked for: a
 * Delete asked after a Start sees the desktop started. */

/* Places the desktop and allocates its address, MAC and port (allocate.h)
 * and records it as DESKTOP_STATE_CREATING, in one transaction on the
 * loop; defines its domain with the vdesk metadata and registers its DHCP
 * host entry off it; then records it made, or removes the row with what
 * it holds (nothing half-made stays). Bad input and names taken fail
 * before anything is recorded. category (or NULL) is the one a staff
 * member's desktop was made from; account NULL makes a desktop of that
 * category's pool (pool.h), nobody's until it is handed over. done's r: 0. */
int desktop_create_async(Manager *m, const char *name, const char *account, const char *template,
                         const char *category, uid_t actor, DesktopDoneFunc done, void *userdata);

/* done's r: 1 if it started it, 0 if it ran already. */
int desktop_start_async(Manager *m, const char *name, uid_t actor, DesktopDoneFunc done, void *userdata);
/* force: powered off at once, else asked to shut down (ACPI). done's r:
 * 1 if it was running, else 0. */
int desktop_stop_async(Manager *m, const char *name, bool force, uid_t actor, DesktopDoneFunc done,
                       void *userdata);
/* A running desktop is powered off at once (a hung guest does not answer
 * ACPI). done's r: 1 if it was running, 0 if it was not; NotReady if it
 * has no domain yet. */
int desktop_power_off_async(Manager *m, const char *name, uid_t actor, DesktopDoneFunc done, void *userdata);
/* A running desktop is refused (DesktopRunning). Removes the domain, its
 * DHCP host entry, its disk (through vdesk-imaged) and its row. */
int desktop_delete_async(Manager *m, const char *name, uid_t actor, DesktopDoneFunc done, void *userdata);
/* Defines a stopped desktop on another host (up) instead of its own, with
 * its network and DHCP entry there; its disk stays where it is (storage
 * the hosts share). */
int desktop_move_async(Manager *m, const char *name, const char *host, uid_t actor, DesktopDoneFunc done,
                       void *userdata);
/* Gives a stopped desktop a new, empty disk on the newest version of its
 * template (DesktopRunning if it runs). done's r: that version. */
int desktop_reissue_async(Manager *m, const char *name, uid_t actor, DesktopDoneFunc done, void *userdata);

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
