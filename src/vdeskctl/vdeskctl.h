/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "bus-api.h"
#include "macro.h"


/* A command: its name, how many arguments it takes, what runs it. */
typedef struct Verb {
        const char *name;
        int min_args, max_args;
        int (*run)(char **args);
} Verb;

/* The options, for whichever command uses them (vdeskctl.c parses them). */
extern const char *arg_rdp_file, *arg_vv_file;
extern const char *arg_format, *arg_os_type, *arg_description;
extern unsigned arg_memory_mib, arg_vcpus;
extern unsigned arg_vlan, arg_vni, arg_mtu;
extern uint16_t arg_port;
extern const char *arg_uplink, *arg_local, *arg_group, *arg_peers;
extern const char *arg_role, *arg_email, *arg_department, *arg_state;
extern const char *arg_unit;
extern uint16_t arg_founded;
extern const char *arg_network, *arg_redirect;
extern bool arg_dry_run;
extern bool arg_force;
extern bool arg_no_ask_password;
extern const char *arg_type;              /* show: desktop, template, host, network, cluster */
extern char **arg_properties;            /* show: -p */
extern bool arg_no_progress;             /* a job: wait silently */

/* The connection to vdesk's services (bus_open_from_config()). */
extern sd_bus *vdesk_bus;
extern const Verb directory_verbs[], staff_verbs[], template_verbs[], network_verbs[], host_verbs[], object_verbs[],
        job_verbs[];
extern const char help_directory[], help_templates[], help_networks[], help_hosts[], help_jobs[];

/* Prints the service's error (name and message) or strerror; returns
 * EXIT_FAILURE. */
int print_bus_error(const sd_bus_error *e, int r);

/* Sends a method call and waits for its reply (timeout 0: sd-bus's
 * default), handling signals that come meanwhile; polkit may ask the admin
 * to authenticate unless --no-ask-password. */
int bus_call_message(sd_bus_message *m, uint64_t timeout_usec, sd_bus_error *e, sd_bus_message **ret);

/* A method call with types and values as sd_bus_message_append(). */
int bus_call_method(sd_bus_message **reply, sd_bus_error *e, uint64_t timeout_usec,
                    const char *dest, const char *path, const char *iface, const char *method, const char *types, ...);

/* Calls a method of no arguments that returns an array of element, and
 * enters the array; on failure says why (0 or a negative errno). */
int bus_call_list(sd_bus_message **reply, const char *dest, const char *path, const char *iface,
                  const char *method, const char *element);
/* The end of a listing: "N things." after n rows (what: the singular, an
 * s makes the plural), or why reading them failed (r < 0). */
int print_list_end(int r, unsigned n, const char *what);

/* A call of "s", "ss" or "sb" (a, and b or --force) with no reply but
 * success; prints "DONE A." if done is not NULL. Returns the command's exit
 * status, having said why it failed. */
int bus_call_simple(const char *dest, const char *path, const char *iface, const char *method,
                    const char *types, const char *a, const char *b, const char *done);

/* Prints the dictionary m is at (a{sv}), each entry "sep Name=value"
 * (only those -p names, if given); *ret_n: how many. */
int print_properties(sd_bus_message *m, const char *sep, unsigned *ret_n);

/* A desktop as the broker lists it (DESKTOP_SIGNATURE). */
typedef struct DesktopRow {
        const char *name, *uuid, *account, *template, *address, *mac, *state, *host;
        uint16_t port;
} DesktopRow;

int read_desktop_row(sd_bus_message *m, DesktopRow *d);
void print_desktop_header(void);
void print_desktop_row(const DesktopRow *d);

/* Writes content to path (write_file_atomic(): a new file of mode renamed
 * over whatever was there), or to standard output for "-"; says what
 * failed. */
int write_file_or_stdout(const char *path, const char *content, mode_t mode);

uint64_t open_timeout_usec(void);
/* What `open` prints (and writes to --rdp-file=). */
int print_opened(const char *desktop, const char *host, uint16_t port, const char *rdp, const char *command);
