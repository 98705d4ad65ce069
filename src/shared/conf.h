/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* [Database] TLS=: how a connection over TCP (Host=) is protected. */
typedef enum DbTls {
        DB_TLS_NO,
        DB_TLS_YES,             /* encrypted; any certificate is taken */
        DB_TLS_VERIFY,          /* encrypted; the certificate checked against TLSCA= and its name against Host= */
        _DB_TLS_MAX,
        _DB_TLS_INVALID = -EINVAL,
} DbTls;

const char *db_tls_to_string(DbTls t) _pure_;
DbTls db_tls_from_string(const char *s) _pure_;

/* The systemd credential (LoadCredential=, SetCredentialEncrypted=) that
 * holds the database password, in $CREDENTIALS_DIRECTORY. */
#define DB_PASSWORD_CREDENTIAL "vdesk.db-password"

/* vdesk.conf: one INI file plus drop-ins in <file>.d/ (files ending in .conf), read in
 * lexical order, later settings winning. Every vdesk program reads the same
 * files, so the hook and the services agree on directories and ranges. */

/* The longest list one list setting takes. */
#define CONFIG_LIST_MAX 64

/* An IPv4 subnet of a list setting: no host bits set. */
typedef struct ConfigSubnet {
        uint32_t address;       /* host byte order */
        unsigned prefix;
} ConfigSubnet;

/* A port of this host of a list setting: PORT/tcp or PORT/udp. */
typedef struct ConfigService {
        uint8_t protocol;       /* IPPROTO_TCP or IPPROTO_UDP */
        uint16_t port;
} ConfigService;

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
        uint16_t allowed_guest_ports[CONFIG_LIST_MAX];  /* the guest ports a forward may lead to */
        size_t n_allowed_guest_ports;
        ConfigSubnet allowed_sources[CONFIG_LIST_MAX];  /* who may reach the forwards; none: anyone */
        size_t n_allowed_sources;
        /* [Network] */
        char *network_name;
        char *bridge;
        char *gateway;                  /* the host's address on the bridge */
        unsigned prefix;
        char *range_start;
        char *range_end;
        ConfigService host_services[CONFIG_LIST_MAX];   /* what desktops may reach on their gateway */
        size_t n_host_services;                         /* ... besides DHCP, DNS and ping */
        /* [Database] */
        char *db_socket;
        char *db_host;
        unsigned db_port;
        char *db_user;                  /* empty: the user the process runs as */
        char *db_password_file;         /* never a password itself: vdesk.conf is world-readable */
        char *db_name;
        DbTls db_tls;
        char *db_tls_ca;
        char *db_tls_cert;
        char *db_tls_key;
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
        /* [Broker] */
        unsigned broker_workers;        /* threads making libvirt calls of desktops; 0: on the event loop */
        /* [Hosts] */
        unsigned host_connect_timeout_sec;      /* how long AddHost waits for a host's first answer */
        unsigned host_sample_sec;       /* how often the scheduler reads the hosts' load */
        unsigned default_capacity;      /* the desktops of the cluster made on first start */
        /* [Broker] */
        unsigned idle_check_sec;        /* how often idle desktops are looked for (IdleStopMinutes=) */
        /* [Monitor] */
        unsigned monitor_interval_sec;  /* how often vdesk-monitord reads every host */
        unsigned monitor_memory_percent; /* a host's memory use that raises an alert ... */
        unsigned monitor_cpu_percent;   /* ... and its CPU use ... */
        unsigned monitor_threshold_sec; /* ... once it lasted this long */
        char *metrics_listen;           /* ADDRESS:PORT or an absolute socket path; empty: off */
        /* [Portal] */
        char *portal_listen;            /* where vdesk-portald listens without a socket from systemd */
        char *portal_certificate;       /* PEM; both empty: plain HTTP (loopback, or AllowPlainHTTP=) */
        char *portal_key;
        bool portal_plain_http;
        unsigned portal_max_connections;
        unsigned portal_max_per_address; /* 0: no limit per address */
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
        unsigned max_failed_per_source; /* failed sign-ins from one source that block it; 0: never */
        unsigned source_window_minutes; /* ... within this long */
        unsigned source_block_minutes;  /* how long a source is then refused */
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

/* Checks cross-field rules (port range order, prefix, directories absolute) and
 * [Libvirt] URI= (libvirt-uri.h). */
int config_verify(const VdeskConfig *c, char **ret_error);

void config_done(VdeskConfig *c);

/* The MariaDB user to connect as: [Database] User=, or when it is empty the
 * name of the user this process runs as, which is whom MariaDB's
 * unix_socket plugin recognises over the socket. */
int config_db_user(const VdeskConfig *c, char **ret);

/* The MariaDB password: the credential DB_PASSWORD_CREDENTIAL in
 * $CREDENTIALS_DIRECTORY if there is one, else the file [Database]
 * PasswordFile= names (owned by root or this process's user, no access for
 * group or others), else none (*ret = NULL). A trailing newline is dropped.
 * The caller wipes it with erase_and_free(). On a refusal, a message naming
 * the credential or the key in *ret_error (which the caller frees); the
 * password never appears in it. */
int config_db_password(const VdeskConfig *c, char **ret, char **ret_error);
/* Whether [Forward] AllowedGuestPorts= lists port. */
bool config_guest_port_allowed(const VdeskConfig *c, uint16_t port);

/* The one rule for an RDP port, which brokerd hands out, the hook reads
 * from a domain's metadata and netd forwards: inside [Forward] PortMin= to
 * PortMax=, both ends included. Returns 0 if port is; -EINVAL if not, with
 * (if ret_error is not NULL) a text in *ret_error that the caller frees and
 * puts after the name of its field: "40000 is outside the forward range
 * 50000-59999 ([Forward] PortMin=, PortMax=)". */
int config_rdp_port_check(const VdeskConfig *c, unsigned port, char **ret_error);

/* The path from $VDESK_CONFIG, else the default. */
const char *config_path(void);
