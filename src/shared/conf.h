/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* vdesk.conf: one INI file plus drop-ins in <file>.d/ (files ending in .conf), read in
 * lexical order, later settings winning. Every vdesk program reads the same
 * files, so the hook and the services agree on directories and ranges. */

typedef struct VdeskConfig {
        /* [Images] */
        char *template_dir;
        char *disk_dir;
        char *iso_dir;
        unsigned max_template_gib;      /* the largest template disk one may build */
        unsigned console_ticket_sec;    /* how long a SPICE console ticket lets one in */
        /* [Forward] */
        uint16_t port_min;
        uint16_t port_max;
        uint16_t guest_port;
        char *public_address;           /* what .rdp files name; empty: found at run time */
        /* [Network] */
        char *network_name;
        char *bridge;
        char *gateway;                  /* the host's address on the bridge */
        unsigned prefix;
        char *range_start;
        char *range_end;
        /* [Database] */
        char *db_socket;
        char *db_host;
        unsigned db_port;
        char *db_user;
        char *db_password;
        char *db_name;
        /* [Bus] */
        char *bus_address;              /* empty: the system bus */
        unsigned bus_timeout_ms;
        /* [Libvirt] */
        char *libvirt_uri;
        /* [Desktop] */
        unsigned desktop_memory_mib;
        unsigned desktop_vcpus;
        unsigned open_timeout_sec;
        char *accelerator;              /* "auto", "kvm" or "tcg" */
        /* What the .rdp files handed out let the client redirect. */
        bool redirect_printers;
        bool redirect_drives;
        bool redirect_clipboard;
        /* [Hosts] */
        unsigned host_connect_timeout_sec;      /* how long AddHost waits for a host's first answer */
        unsigned host_sample_sec;       /* how often the scheduler reads the hosts' load */
        unsigned default_capacity;      /* the desktops of the cluster made on first start */
        /* [Monitor] */
        unsigned monitor_interval_sec;  /* how often vdesk-monitord reads every host */
        unsigned monitor_memory_percent; /* a host's memory use that raises an alert ... */
        unsigned monitor_cpu_percent;   /* ... and its CPU use ... */
        unsigned monitor_threshold_sec; /* ... once it lasted this long */
        char *metrics_listen;           /* ADDRESS:PORT or an absolute socket path; empty: off */
        /* [Directory] */
        unsigned password_min_length;
        unsigned password_min_classes;
        unsigned yescrypt_cost;
        unsigned session_hours;
        unsigned max_failed_signins;
        unsigned lock_minutes;
        unsigned activation_days;       /* how long an imported account's code works */
        unsigned signin_workers;        /* threads hashing passwords; 0: on the event loop */
        unsigned session_purge_sec;     /* how often expired sessions are removed */
} VdeskConfig;

#define VDESK_CONFIG_DEFAULT_PATH SYSCONFDIR "/vdesk/vdesk.conf"

/* Fills *ret with the built-in defaults. */
int config_defaults(VdeskConfig *ret);

/* Loads defaults, then path (a missing file is fine) and the .conf files in path.d/.
 * On a bad line, returns -EINVAL and a message naming file, line and key in
 * *ret_error (which the caller frees). */
int config_load(const char *path, VdeskConfig *ret, char **ret_error);

/* Parses one file's text into c, for tests and drop-ins. */
int config_parse_text(VdeskConfig *c, const char *text, const char *filename, char **ret_error);

/* Checks cross-field rules (port range order, prefix, directories absolute). */
int config_verify(const VdeskConfig *c, char **ret_error);

void config_done(VdeskConfig *c);

/* The path from $VDESK_CONFIG, else the default. */
const char *config_path(void);
