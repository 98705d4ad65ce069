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

/* The options, for whichever command uses them. */
typedef struct Args {
        const char *rdp_file, *vv_file;
        const char *format, *os_type, *description;
        unsigned memory_mib, vcpus;
        unsigned vlan, vni, mtu;
        uint16_t port;
        const char *uplink, *local, *group, *peers;
        const char *role, *email, *department, *state;
        const char *unit;
        uint16_t founded;
        const char *network, *redirect;
        bool dry_run;
        bool force;
        bool no_ask_password;
        const char *type;               /* show: desktop, template, host, network, cluster */
        char **properties;              /* show: -p */
} Args;

extern Args arg;
extern sd_bus *bus;
extern const Verb directory_verbs[], staff_verbs[], template_verbs[], network_verbs[], host_verbs[];
extern const char help_directory[], help_templates[], help_networks[], help_hosts[];

/* Prints the service's error (name and message) or strerror; returns
 * EXIT_FAILURE. */
int fail(const sd_bus_error *e, int r);

/* Sends a method call and waits for its reply (timeout 0: sd-bus's
 * default), handling signals that come meanwhile; polkit may ask the admin
 * to authenticate unless --no-ask-password. */
int call_message(sd_bus_message *m, uint64_t timeout_usec, sd_bus_error *e, sd_bus_message **ret);

/* A method call with types and values as sd_bus_message_append(). */
int call(sd_bus_message **reply, sd_bus_error *e, uint64_t timeout_usec,
         const char *dest, const char *path, const char *iface, const char *method, const char *types, ...);

/* Calls a method of no arguments that returns an array of element, and
 * enters the array; on failure says why (0 or a negative errno). */
int call_list(sd_bus_message **reply, const char *dest, const char *path, const char *iface, const char *method,
              const char *element);
/* The end of a listing: "N things." after n rows (what: the singular, an
 * s makes the plural), or why reading them failed (r < 0). */
int list_end(int r, unsigned n, const char *what);

/* A call of "s", "ss" or "sb" (a, and b or --force) with no reply but
 * success; prints "DONE A." if done is not NULL. */
int simple(const char *dest, const char *path, const char *iface, const char *method, const char *types,
           const char *a, const char *b, const char *done);

typedef struct Row {
        const char *name, *uuid, *account, *template, *address, *mac, *state, *host;
        uint16_t port;
} Row;

int read_desktop(sd_bus_message *m, Row *d);
void print_desktop_header(void);
void print_desktop_row(const Row *d);

/* Writes content to path (write_file_atomic(): a new file of mode renamed
 * over whatever was there), or to standard output for "-"; says what
 * failed. */
int write_output(const char *path, const char *content, mode_t mode);

uint64_t open_timeout_usec(void);

/* The broker's objects (objects.c). */
int cmd_show(char **args);
int cmd_watch(char **args);
/* What `open` prints (and writes to --rdp-file=). */
int print_opened(const char *desktop, const char *host, uint16_t port, const char *rdp, const char *command);
