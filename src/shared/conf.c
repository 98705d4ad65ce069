/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "conf.h"
#include "libvirt-uri.h"
#include "macro.h"
#include "network-spec.h"
#include "util.h"

typedef enum ConfType {
        CONF_STRING,
        CONF_PORT,
        CONF_UINT,
        CONF_BOOL,
        CONF_DB_TLS,
        CONF_PORT_LIST,         /* "3389 3390" */
        CONF_SUBNET_LIST,       /* "10.0.0.0/8 192.0.2.7" (an address alone: /32) */
        CONF_SERVICE_LIST,      /* "123/udp 8443/tcp" */
} ConfType;

typedef struct ConfItem {
        const char *section;
        const char *key;
        ConfType type;
        size_t offset;
        unsigned max;
        size_t count_offset;    /* lists: where their length goes */
} ConfItem;

static const char *const db_tls_table[_DB_TLS_MAX] = {
        [DB_TLS_NO] = "no",
        [DB_TLS_YES] = "yes",
        [DB_TLS_VERIFY] = "verify",
};

DEFINE_STRING_TABLE_LOOKUP(db_tls, DbTls);

#define ITEM(s, k, t, field, m) { s, k, t, offsetof(VdeskConfig, field), m, 0 }
#define LIST(s, k, t, field) { s, k, t, offsetof(VdeskConfig, field), 0, offsetof(VdeskConfig, n_##field) }

static const ConfItem items[] = {
        ITEM("Images",   "TemplateDir",     CONF_STRING, template_dir, 0),
        ITEM("Images",   "DiskDir",         CONF_STRING, disk_dir, 0),
        ITEM("Images",   "IsoDir",          CONF_STRING, iso_dir, 0),
        ITEM("Images",   "MaxTemplateGiB",  CONF_UINT,   max_template_gib, 1u << 20),
        ITEM("Images",   "ConsoleTicketSec", CONF_UINT,  console_ticket_sec, 86400),
        ITEM("Forward",  "PortMin",         CONF_PORT,   port_min, 0),
        ITEM("Forward",  "PortMax",         CONF_PORT,   port_max, 0),
        ITEM("Forward",  "GuestPort",       CONF_PORT,   guest_port, 0),
        ITEM("Forward",  "PublicAddress",   CONF_STRING, public_address, 0),
        LIST("Forward",  "AllowedGuestPorts", CONF_PORT_LIST, allowed_guest_ports),
        LIST("Forward",  "AllowedSources",  CONF_SUBNET_LIST, allowed_sources),
        ITEM("Network",  "Name",            CONF_STRING, network_name, 0),
        ITEM("Network",  "Bridge",          CONF_STRING, bridge, 0),
        ITEM("Network",  "Gateway",         CONF_STRING, gateway, 0),
        ITEM("Network",  "Prefix",          CONF_UINT,   prefix, 30),
        ITEM("Network",  "RangeStart",      CONF_STRING, range_start, 0),
        ITEM("Network",  "RangeEnd",        CONF_STRING, range_end, 0),
        LIST("Network",  "HostServices",    CONF_SERVICE_LIST, host_services),
        ITEM("Database", "Socket",          CONF_STRING, db_socket, 0),
        ITEM("Database", "Host",            CONF_STRING, db_host, 0),
        ITEM("Database", "Port",            CONF_UINT,   db_port, 65535),
        ITEM("Database", "User",            CONF_STRING, db_user, 0),
        ITEM("Database", "PasswordFile",    CONF_STRING, db_password_file, 0),
        ITEM("Database", "Name",            CONF_STRING, db_name, 0),
        ITEM("Database", "TLS",             CONF_DB_TLS, db_tls, 0),
        ITEM("Database", "TLSCA",           CONF_STRING, db_tls_ca, 0),
        ITEM("Database", "TLSCert",         CONF_STRING, db_tls_cert, 0),
        ITEM("Database", "TLSKey",          CONF_STRING, db_tls_key, 0),
        ITEM("Bus",      "Address",         CONF_STRING, bus_address, 0),
        ITEM("Bus",      "TimeoutMSec",     CONF_UINT,   bus_timeout_ms, 600000),
        ITEM("Libvirt",  "URI",             CONF_STRING, libvirt_uri, 0),
        ITEM("Desktop",  "MemoryMiB",       CONF_UINT,   desktop_memory_mib, 1u << 20),
        ITEM("Desktop",  "VCPUs",           CONF_UINT,   desktop_vcpus, 256),
        ITEM("Desktop",  "OpenTimeoutSec",  CONF_UINT,   open_timeout_sec, 3600),
        ITEM("Desktop",  "Accelerator",     CONF_STRING, accelerator, 0),
        ITEM("Desktop",  "RedirectPrinters", CONF_BOOL,  redirect_printers, 0),
        ITEM("Desktop",  "RedirectDrives",  CONF_BOOL,   redirect_drives, 0),
        ITEM("Desktop",  "RedirectClipboard", CONF_BOOL, redirect_clipboard, 0),
        ITEM("Broker",   "Workers",         CONF_UINT,   broker_workers, 64),
        ITEM("Hosts",    "ConnectTimeoutSec", CONF_UINT, host_connect_timeout_sec, 600),
        ITEM("Hosts",    "SampleSec",       CONF_UINT,   host_sample_sec, 3600),
        ITEM("Hosts",    "DefaultCapacity", CONF_UINT,   default_capacity, 1000000),
        ITEM("Broker",   "IdleCheckSec",    CONF_UINT,   idle_check_sec, 3600),
        ITEM("Monitor",  "IntervalSec",     CONF_UINT,   monitor_interval_sec, 0),
        ITEM("Monitor",  "HostMemoryPercent", CONF_UINT, monitor_memory_percent, 0),
        ITEM("Monitor",  "HostCPUPercent",  CONF_UINT,   monitor_cpu_percent, 0),
        ITEM("Monitor",  "ThresholdSec",    CONF_UINT,   monitor_threshold_sec, 0),
        ITEM("Monitor",  "MetricsListen",   CONF_STRING, metrics_listen, 0),
        ITEM("Portal",   "Listen",          CONF_STRING, portal_listen, 0),
        ITEM("Portal",   "Certificate",     CONF_STRING, portal_certificate, 0),
        ITEM("Portal",   "Key",             CONF_STRING, portal_key, 0),
        ITEM("Portal",   "AllowPlainHTTP",  CONF_BOOL,   portal_plain_http, 0),
        ITEM("Portal",   "MaxConnections",  CONF_UINT,   portal_max_connections, 65536),
        ITEM("Portal",   "MaxConnectionsPerAddress", CONF_UINT, portal_max_per_address, 65536),
        ITEM("Directory", "PasswordMinLength", CONF_UINT, password_min_length, 1024),
        ITEM("Directory", "PasswordMinClasses", CONF_UINT, password_min_classes, 4),
        ITEM("Directory", "YescryptCost",    CONF_UINT,   yescrypt_cost, 11),
        ITEM("Directory", "SessionHours",    CONF_UINT,   session_hours, 24 * 366),
        ITEM("Directory", "MaxFailedSignins", CONF_UINT,  max_failed_signins, 1000),
        ITEM("Directory", "LockMinutes",     CONF_UINT,   lock_minutes, 24 * 60 * 366),
        ITEM("Directory", "ActivationDays",  CONF_UINT,   activation_days, 366),
        ITEM("Directory", "SigninWorkers",   CONF_UINT,   signin_workers, 64),
        ITEM("Directory", "SessionPurgeSec", CONF_UINT,   session_purge_sec, 86400),
        ITEM("Directory", "MaxFailedPerSource", CONF_UINT, max_failed_per_source, 1000000),
        ITEM("Directory", "SourceWindowMinutes", CONF_UINT, source_window_minutes, 24 * 60),
        ITEM("Directory", "SourceBlockMinutes", CONF_UINT, source_block_minutes, 24 * 60),
};

static int set_error(char **ret_error, const char *format, ...) _printf_(2, 3);
static int set_error(char **ret_error, const char *format, ...) {
        va_list ap;

        if (ret_error) {
                va_start(ap, format);
                if (vasprintf(ret_error, format, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return -EINVAL;
}

int config_defaults(VdeskConfig *ret) {
        VdeskConfig c = {
                .max_template_gib = 1024,
                .console_ticket_sec = 120,
                .port_min = 50000,
                .port_max = 59999,
                .guest_port = 3389,
                .allowed_guest_ports = { 3389 },
                .n_allowed_guest_ports = 1,
                .prefix = 22,
                .db_port = 3306,
                .bus_timeout_ms = 10000,
                .desktop_memory_mib = 192,
                .broker_workers = 4,
                .host_connect_timeout_sec = 10,
                .host_sample_sec = 10,
                .default_capacity = 1000,
                .idle_check_sec = 60,
                .monitor_interval_sec = 5,
                .monitor_memory_percent = 90,
                .monitor_cpu_percent = 90,
                .monitor_threshold_sec = 60,
                .portal_max_connections = 1024,
                .portal_max_per_address = 256,
                .desktop_vcpus = 1,
                .open_timeout_sec = 180,
                .redirect_printers = true,
                .redirect_drives = true,
                .redirect_clipboard = true,
                .password_min_length = 10,
                .password_min_classes = 3,
                .yescrypt_cost = 5,
                .session_hours = 8,
                .max_failed_signins = 5,
                .lock_minutes = 15,
                .activation_days = 14,
                .signin_workers = 2,
                .session_purge_sec = 300,
                .max_failed_per_source = 20,
                .source_window_minutes = 10,
                .source_block_minutes = 10,
        };
        struct { char **field; const char *value; } strings[] = {
                { &c.template_dir,   LOCALSTATEDIR "/lib/vdesk/templates" },
                { &c.disk_dir,       LOCALSTATEDIR "/lib/vdesk/disks" },
                { &c.iso_dir,        LOCALSTATEDIR "/lib/vdesk/isos" },
                { &c.public_address, "" },
                { &c.network_name,   "vdesk" },
                { &c.bridge,         "vdeskbr0" },
                { &c.gateway,        "10.20.0.1" },
                { &c.range_start,    "10.20.0.10" },
                { &c.range_end,      "10.20.3.250" },
                { &c.db_socket,      "/run/mysqld/mysqld.sock" },
                { &c.db_host,        "" },
                { &c.db_user,        "" },
                { &c.db_password_file, "" },
                { &c.db_name,        "vdesk" },
                { &c.db_tls_ca,      "" },
                { &c.db_tls_cert,    "" },
                { &c.db_tls_key,     "" },
                { &c.bus_address,    "" },
                { &c.libvirt_uri,    "qemu:///system" },
                { &c.accelerator,    "auto" },
                { &c.metrics_listen, "127.0.0.1:9750" },
                { &c.portal_listen,  "0.0.0.0:443" },
                { &c.portal_certificate, SYSCONFDIR "/vdesk/portal/cert.pem" },
                { &c.portal_key,     SYSCONFDIR "/vdesk/portal/key.pem" },
        };

        for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                *strings[i].field = strdup(strings[i].value);
                if (!*strings[i].field) {
                        config_done(&c);
                        return -ENOMEM;
                }
        }
        *ret = c;
        return 0;
}

static char *strip(char *s) {
        char *e;

        while (isspace((unsigned char) *s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char) e[-1]))
                *--e = 0;
        return s;
}

static int parse_uint(const char *s, unsigned max, unsigned *ret) {
        unsigned long v;
        int r;

        r = parse_uint_max(s, max, &v);
        if (r < 0)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

/* One entry of a list setting into p[i]. */
static int parse_list_entry(ConfType type, const char *word, void *p, size_t i) {
        unsigned u;
        int r;

        switch (type) {
        case CONF_PORT_LIST:
                r = parse_uint(word, 65535, &u);
                if (r < 0 || u == 0)
                        return -ERANGE;
                ((uint16_t *) p)[i] = (uint16_t) u;
                return 0;
        case CONF_SUBNET_LIST: {
                ConfigSubnet *s = &((ConfigSubnet *) p)[i];

                if (strchr(word, '/'))
                        r = ipv4_cidr_parse(word, &s->address, &s->prefix);
                else {
                        r = ipv4_parse(word, &s->address);
                        s->prefix = 32;
                }
                /* host bits set: which was meant, the address or the subnet? */
                if (r < 0 || (s->address & ~ipv4_netmask(s->prefix)) != 0)
                        return -EINVAL;
                return 0;
        }
        case CONF_SERVICE_LIST: {
                ConfigService *s = &((ConfigService *) p)[i];
                const char *slash = strchr(word, '/');
                char num[8];

                if (!slash || (size_t) (slash - word) >= sizeof num)
                        return -EINVAL;
                memcpy(num, word, slash - word);
                num[slash - word] = 0;
                r = parse_uint(num, 65535, &u);
                if (r < 0 || u == 0)
                        return -ERANGE;
                if (streq(slash + 1, "tcp"))
                        s->protocol = IPPROTO_TCP;
                else if (streq(slash + 1, "udp"))
                        s->protocol = IPPROTO_UDP;
                else
                        return -EINVAL;
                s->port = (uint16_t) u;
                return 0;
        }
        default:
                return -EINVAL;
        }
}

/* A list setting: entries separated by white space or commas, the whole
 * list replacing the one before (an empty value empties it). */
static int assign_list(VdeskConfig *c, const ConfItem *it, const char *value) {
        static const size_t entry_size[] = {
                [CONF_PORT_LIST] = sizeof(uint16_t),
                [CONF_SUBNET_LIST] = sizeof(ConfigSubnet),
                [CONF_SERVICE_LIST] = sizeof(ConfigService),
        };
        ConfigSubnet parsed[CONFIG_LIST_MAX];  /* the largest entry, aligned for each */
        size_t n = 0;

        for (const char *p = value; *p; ) {
                char word[32];
                size_t l;
                int r;

                p += strspn(p, " \t,");
                l = strcspn(p, " \t,");
                if (l == 0)
                        break;
                if (l >= sizeof word || n == CONFIG_LIST_MAX)
                        return -EINVAL;
                memcpy(word, p, l);
                word[l] = 0;
                r = parse_list_entry(it->type, word, parsed, n);
                if (r < 0)
                        return r;
                n++;
                p += l;
        }
        memcpy((char *) c + it->offset, parsed, n * entry_size[it->type]);
        *(size_t *) ((char *) c + it->count_offset) = n;
        return 0;
}

static int assign(VdeskConfig *c, const ConfItem *it, const char *value) {
        void *p = (char *) c + it->offset;
        unsigned u;
        int r;

        switch (it->type) {
        case CONF_STRING:
                return free_and_strdup(p, value);
        case CONF_PORT:
                r = parse_uint(value, 65535, &u);
                if (r < 0 || u == 0)
                        return -ERANGE;
                *(uint16_t *) p = (uint16_t) u;
                return 0;
        case CONF_UINT:
                r = parse_uint(value, it->max ?: UINT_MAX, &u);
                if (r < 0)
                        return r;
                *(unsigned *) p = u;
                return 0;
        case CONF_BOOL:
                if (streq(value, "yes") || streq(value, "true") || streq(value, "1"))
                        *(bool *) p = true;
                else if (streq(value, "no") || streq(value, "false") || streq(value, "0"))
                        *(bool *) p = false;
                else
                        return -EINVAL;
                return 0;
        case CONF_DB_TLS: {
                DbTls t = db_tls_from_string(value);

                if (t < 0)
                        return t;
                *(DbTls *) p = t;
                return 0;
        }
        case CONF_PORT_LIST:
        case CONF_SUBNET_LIST:
        case CONF_SERVICE_LIST:
                return assign_list(c, it, value);
        }
        return -EINVAL;
}

int config_parse_text(VdeskConfig *c, const char *text, const char *filename, char **ret_error) {
        _cleanup_(freep) char *copy = NULL;
        char section[64] = "";
        unsigned lineno = 0;

        copy = strdup(text);
        if (!copy)
                return -ENOMEM;

        /* strtok_r would merge empty lines and so lose line numbers. */
        for (char *line = copy, *next; line; line = next) {
                char *l, *eq, *key, *value;
                const ConfItem *found = NULL;
                int r;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                lineno++;
                l = strip(line);
                if (IN_SET_CHAR(*l, 0, '#', ';'))
                        continue;
                if (*l == '[') {
                        char *end = strchr(l, ']');
                        if (!end || end[1] || end - l - 1 <= 0 || (size_t) (end - l) >= sizeof section)
                                return set_error(ret_error, "%s:%u: malformed section header", filename, lineno);
                        memcpy(section, l + 1, end - l - 1);
                        section[end - l - 1] = 0;
                        continue;
                }
                eq = strchr(l, '=');
                if (!eq)
                        return set_error(ret_error, "%s:%u: expected Key=Value", filename, lineno);
                *eq = 0;
                key = strip(l);
                value = strip(eq + 1);
                /* A secret has no place in a file every user may read: the
                 * old key is refused, not ignored, so that nobody believes
                 * it is still in use, and says where the password goes. */
                if (streq(section, "Database") && streq(key, "Password"))
                        return set_error(ret_error,
                                         "%s:%u: [Database] Password= is not read from vdesk.conf, which every user "
                                         "may read: give the password as the systemd credential " DB_PASSWORD_CREDENTIAL
                                         " (LoadCredential=) or in a file that [Database] PasswordFile= names "
                                         "(mode 0600)", filename, lineno);
                for (size_t i = 0; i < ELEMENTSOF(items); i++)
                        if (streq(items[i].section, section) && streq(items[i].key, key)) {
                                found = &items[i];
                                break;
                        }
                if (!found)
                        return set_error(ret_error, "%s:%u: unknown setting [%s] %s", filename, lineno, section, key);
                r = assign(c, found, value);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return set_error(ret_error, "%s:%u: invalid value for [%s] %s: '%s'",
                                         filename, lineno, section, key, value);
        }
        return 0;
}

static int parse_file(VdeskConfig *c, const char *path, bool must_exist, char **ret_error) {
        _cleanup_(freep) char *text = NULL;
        int r;

        r = read_full_file(path, 1 << 20, &text, NULL);
        if (r == -ENOENT && !must_exist)
                return 0;
        if (r < 0) {
                if (ret_error && asprintf(ret_error, "%s: %s", path, strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        return config_parse_text(c, text, path, ret_error);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int config_load(const char *path, VdeskConfig *ret, char **ret_error) {
        _cleanup_(config_done) VdeskConfig c = {};
        _cleanup_(freep) char *dropin_dir = NULL;
        _cleanup_(strv_freep) char **names = NULL;
        size_t n = 0;
        DIR *d;
        int r;

        r = config_defaults(&c);
        if (r < 0)
                return r;
        r = parse_file(&c, path, false, ret_error);
        if (r < 0)
                return r;

        if (asprintf(&dropin_dir, "%s.d", path) < 0)
                return -ENOMEM;
        d = opendir(dropin_dir);
        if (d) {
                struct dirent *de;

                while ((de = readdir(d))) {
                        size_t l = strlen(de->d_name);
                        char **t;

                        if (de->d_name[0] == '.' || l < 6 || !streq(de->d_name + l - 5, ".conf"))
                                continue;
                        t = realloc(names, sizeof(char *) * (n + 2));
                        if (!t) {
                                closedir(d);
                                return -ENOMEM;
                        }
                        names = t;
                        names[n] = strdup(de->d_name);
                        names[++n] = NULL;
                        if (!names[n - 1]) {
                                closedir(d);
                                return -ENOMEM;
                        }
                }
                closedir(d);
        }
        if (names)
                qsort(names, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++) {
                _cleanup_(freep) char *p = NULL;

                if (asprintf(&p, "%s/%s", dropin_dir, names[i]) < 0)
                        return -ENOMEM;
                r = parse_file(&c, p, true, ret_error);
                if (r < 0)
                        return r;
        }

        r = config_verify(&c, ret_error);
        if (r < 0)
                return r;

        *ret = c;
        c = (VdeskConfig) {};
        return 0;
}

/* [Forward]: the range of host ports, the guest port, the sources. */
static int verify_forward(const VdeskConfig *c, char **ret_error) {
        if (c->port_min > c->port_max)
                return set_error(ret_error, "[Forward] PortMin=%u is above PortMax=%u", c->port_min, c->port_max);
        if (c->port_min < 1024)
                return set_error(ret_error, "[Forward] PortMin=%u is a privileged port", c->port_min);
        if (!config_guest_port_allowed(c, c->guest_port))
                return set_error(ret_error, "[Forward] GuestPort=%u is not one of AllowedGuestPorts=", c->guest_port);
        /* the set of sources is an interval set, whose elements the kernel
         * keeps apart */
        for (size_t i = 0; i < c->n_allowed_sources; i++)
                for (size_t j = 0; j < i; j++) {
                        const ConfigSubnet *a = &c->allowed_sources[i], *b = &c->allowed_sources[j];
                        uint32_t mask = ipv4_netmask(MIN(a->prefix, b->prefix));
                        char x[16], y[16];

                        if ((a->address & mask) != (b->address & mask))
                                continue;
                        ipv4_format(a->address, x);
                        ipv4_format(b->address, y);
                        return set_error(ret_error, "[Forward] AllowedSources= %s/%u overlaps %s/%u",
                                         x, a->prefix, y, b->prefix);
                }
        return 0;
}

static int verify_images(const VdeskConfig *c, char **ret_error) {
        if (c->template_dir[0] != '/' || c->disk_dir[0] != '/')
                return set_error(ret_error, "[Images] TemplateDir= and DiskDir= must be absolute paths");
        if (path_startswith_dir(c->template_dir, c->disk_dir) || path_startswith_dir(c->disk_dir, c->template_dir))
                return set_error(ret_error, "[Images] TemplateDir= and DiskDir= must not contain each other");
        if (c->iso_dir[0] != '/')
                return set_error(ret_error, "[Images] IsoDir= must be an absolute path");
        if (c->max_template_gib < 1 || c->console_ticket_sec < 10)
                return set_error(ret_error, "[Images] MaxTemplateGiB= must be at least 1 and ConsoleTicketSec= at least 10");
        return 0;
}

/* [Network]: the rules a department network's addresses follow
 * (network_spec_check()), its subnet being the gateway's. */
static int verify_network(const VdeskConfig *c, char **ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        NetworkSpec s = { .prefix = c->prefix, .segment = SEGMENT_NONE };
        const struct { const char *key, *value; uint32_t *address; } addresses[] = {
                { "Gateway", c->gateway, &s.gateway },
                { "RangeStart", c->range_start, &s.range_start },
                { "RangeEnd", c->range_end, &s.range_end },
        };

        if (c->prefix < 8)
                return set_error(ret_error, "[Network] Prefix=%u is too short", c->prefix);
        for (size_t i = 0; i < ELEMENTSOF(addresses); i++)
                if (ipv4_parse(addresses[i].value, addresses[i].address) < 0)
                        return set_error(ret_error, "[Network] %s=%s is not an IPv4 address", addresses[i].key,
                                         addresses[i].value);
        s.subnet = s.gateway & ipv4_netmask(c->prefix);
        snprintf(s.name, sizeof s.name, "%s", c->network_name);
        if (network_spec_check(&s, &e) < 0)
                return set_error(ret_error, "[Network] Gateway=%s Prefix=%u RangeStart=%s RangeEnd=%s: %s",
                                 c->gateway, c->prefix, c->range_start, c->range_end, e.message);
        return 0;
}

static int verify_desktop(const VdeskConfig *c, char **ret_error) {
        if (!streq(c->accelerator, "auto") && !streq(c->accelerator, "kvm") && !streq(c->accelerator, "tcg"))
                return set_error(ret_error, "[Desktop] Accelerator=%s is not one of auto, kvm, tcg", c->accelerator);
        if (c->desktop_memory_mib < 16 || c->desktop_vcpus < 1)
                return set_error(ret_error, "[Desktop] MemoryMiB= must be at least 16 and VCPUs= at least 1");
        return 0;
}

static int verify_directory(const VdeskConfig *c, char **ret_error) {
        if (c->yescrypt_cost < 1 || c->session_hours < 1)
                return set_error(ret_error, "[Directory] YescryptCost= and SessionHours= must be at least 1");
        if (c->session_purge_sec < 1)
                return set_error(ret_error, "[Directory] SessionPurgeSec= must be at least 1");
        if (c->source_window_minutes < 1 || c->source_block_minutes < 1)
                return set_error(ret_error, "[Directory] SourceWindowMinutes= and SourceBlockMinutes= must be at least 1");
        return 0;
}

static int verify_hosts(const VdeskConfig *c, char **ret_error) {
        if (c->host_connect_timeout_sec < 1 || c->host_sample_sec < 1 || c->default_capacity < 1)
                return set_error(ret_error, "[Hosts] ConnectTimeoutSec=, SampleSec= and DefaultCapacity= must be at least 1");
        return 0;
}

static int verify_broker(const VdeskConfig *c, char **ret_error) {
        if (c->idle_check_sec < 1)
                return set_error(ret_error, "[Broker] IdleCheckSec=%u is not from 1 to 3600", c->idle_check_sec);
        return 0;
}

static int verify_monitor(const VdeskConfig *c, char **ret_error) {
        if (c->monitor_interval_sec < 1 || c->monitor_interval_sec > 3600)
                return set_error(ret_error, "[Monitor] IntervalSec=%u is not from 1 to 3600", c->monitor_interval_sec);
        if (c->monitor_memory_percent < 1 || c->monitor_memory_percent > 100)
                return set_error(ret_error, "[Monitor] HostMemoryPercent=%u is not from 1 to 100",
                                 c->monitor_memory_percent);
        if (c->monitor_cpu_percent < 1 || c->monitor_cpu_percent > 100)
                return set_error(ret_error, "[Monitor] HostCPUPercent=%u is not from 1 to 100", c->monitor_cpu_percent);
        if (c->monitor_threshold_sec < 1 || c->monitor_threshold_sec > 86400)
                return set_error(ret_error, "[Monitor] ThresholdSec=%u is not from 1 to 86400",
                                 c->monitor_threshold_sec);
        return 0;
}

/* [Database]: files named by absolute paths, TLS settings that take effect. */
static int verify_database(const VdeskConfig *c, char **ret_error) {
        const struct { const char *key, *value; } paths[] = {
                { "PasswordFile", c->db_password_file },
                { "TLSCA", c->db_tls_ca },
                { "TLSCert", c->db_tls_cert },
                { "TLSKey", c->db_tls_key },
        };

        for (size_t i = 0; i < ELEMENTSOF(paths); i++)
                if (!isempty(paths[i].value) && paths[i].value[0] != '/')
                        return set_error(ret_error, "[Database] %s=%s must be an absolute path",
                                         paths[i].key, paths[i].value);
        if (isempty(c->db_tls_cert) != isempty(c->db_tls_key))
                return set_error(ret_error, "[Database] TLSCert= and TLSKey= go together: set both or neither");
        /* Settings that would be silently without effect are refused, so
         * that nobody believes a connection is protected that is not. */
        if (c->db_tls != DB_TLS_NO && isempty(c->db_host))
                return set_error(ret_error, "[Database] TLS=%s needs Host=: the Unix socket (Socket=) takes no TLS",
                                 db_tls_to_string(c->db_tls));
        if (c->db_tls == DB_TLS_NO && (!isempty(c->db_tls_ca) || !isempty(c->db_tls_cert)))
                return set_error(ret_error, "[Database] TLSCA=, TLSCert= and TLSKey= need TLS=yes or TLS=verify");
        if (c->db_tls != DB_TLS_VERIFY && !isempty(c->db_tls_ca))
                return set_error(ret_error, "[Database] TLSCA= is for TLS=verify (TLS=%s checks no certificate)",
                                 db_tls_to_string(c->db_tls));
        return 0;
}

static int verify_portal(const VdeskConfig *c, char **ret_error) {
        if (isempty(c->portal_listen))
                return set_error(ret_error, "[Portal] Listen= must not be empty");
        if (isempty(c->portal_certificate) != isempty(c->portal_key))
                return set_error(ret_error, "[Portal] Certificate= and Key= go together: set both or neither");
        if (!isempty(c->portal_certificate) && (c->portal_certificate[0] != '/' || c->portal_key[0] != '/'))
                return set_error(ret_error, "[Portal] Certificate= and Key= must be absolute paths");
        if (c->portal_max_connections < 1 || c->portal_max_per_address > c->portal_max_connections)
                return set_error(ret_error, "[Portal] MaxConnections= must be at least 1 and at least "
                                 "MaxConnectionsPerAddress= (0: no limit per address)");
        return 0;
}

/* root writes it, but one rule holds for every URI libvirt opens */
static int verify_libvirt(const VdeskConfig *c, char **ret_error) {
        char buf[LIBVIRT_URI_REASON_MAX];
        const char *why;

        why = libvirt_uri_invalid_reason(c->libvirt_uri, buf, NULL);
        if (why)
                return set_error(ret_error, "[Libvirt] URI=%s %s", c->libvirt_uri, why);
        return 0;
}

int config_verify(const VdeskConfig *c, char **ret_error) {
        /* section by section; the first setting refused is the one said */
        static int (*const verify[])(const VdeskConfig *c, char **ret_error) = {
                verify_forward,
                verify_images,
                verify_network,
                verify_desktop,
                verify_directory,
                verify_hosts,
                verify_broker,
                verify_monitor,
                verify_database,
                verify_portal,
                verify_libvirt,
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(verify); i++) {
                r = verify[i](c, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

void config_done(VdeskConfig *c) {
        char **strings[] = {
                &c->template_dir, &c->disk_dir, &c->iso_dir, &c->public_address, &c->network_name, &c->bridge,
                &c->gateway, &c->range_start, &c->range_end, &c->db_socket, &c->db_host,
                &c->db_user, &c->db_password_file, &c->db_name, &c->db_tls_ca, &c->db_tls_cert, &c->db_tls_key,
                &c->bus_address, &c->libvirt_uri, &c->accelerator, &c->metrics_listen,
                &c->portal_listen, &c->portal_certificate, &c->portal_key,
        };

        for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                free(*strings[i]);
                *strings[i] = NULL;
        }
}

bool config_guest_port_allowed(const VdeskConfig *c, uint16_t port) {
        for (size_t i = 0; i < c->n_allowed_guest_ports; i++)
                if (c->allowed_guest_ports[i] == port)
                        return true;
        return false;
}

int config_rdp_port_check(const VdeskConfig *c, unsigned port, char **ret_error) {
        if (port >= c->port_min && port <= c->port_max)
                return 0;
        return set_error(ret_error, "%u is outside the forward range %u-%u ([Forward] PortMin=, PortMax=)",
                         port, c->port_min, c->port_max);
}

const char *config_path(void) {
        const char *e = secure_getenv("VDESK_CONFIG");

        return isempty(e) ? VDESK_CONFIG_DEFAULT_PATH : e;
}

int config_db_user(const VdeskConfig *c, char **ret) {
        _cleanup_(freep) char *buf = NULL;
        struct passwd pw, *found = NULL;
        long size = sysconf(_SC_GETPW_R_SIZE_MAX);
        char *name;
        int r;

        if (!isempty(c->db_user)) {
                name = strdup(c->db_user);
                if (!name)
                        return -ENOMEM;
                *ret = name;
                return 0;
        }
        for (size_t n = size > 0 ? (size_t) size : 4096;; n *= 2) {
                free(buf);
                buf = malloc(n);
                if (!buf)
                        return -ENOMEM;
                r = getpwuid_r(geteuid(), &pw, buf, n, &found);
                if (r != ERANGE || n >= 1 << 20)
                        break;
        }
        if (r > 0)
                return -r;
        if (!found)
                return -ESRCH;          /* a uid without a name: MariaDB could not match it either */
        name = strdup(pw.pw_name);
        if (!name)
                return -ENOMEM;
        *ret = name;
        return 0;
}

/* A password file must be a regular file that only root or this process's
 * user can have written and that group and others cannot read; -EPERM
 * (with a message naming the key and what is wrong) if not. */
static int check_secret_file(int fd, const char *key, const char *path, char **ret_error) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return set_error(ret_error, "[Database] %s=%s is not a regular file", key, path), -EPERM;
        if (st.st_uid != 0 && st.st_uid != geteuid())
                return set_error(ret_error,
                                 "[Database] %s=%s belongs to uid %u: it must belong to root or to this service's "
                                 "user (uid %u)", key, path, (unsigned) st.st_uid, (unsigned) geteuid()), -EPERM;
        if (st.st_mode & 0077)
                return set_error(ret_error,
                                 "[Database] %s=%s has mode %04o: group and others must have no access to it "
                                 "(chmod 0600)", key, path, (unsigned) (st.st_mode & 07777)), -EPERM;
        return 0;
}

static int read_secret_error(int r, const char *what, char **ret_error) {
        switch (r) {
        case -E2BIG:
                return set_error(ret_error, "%s is longer than %u bytes", what, SECRET_MAX);
        case -EBADMSG:
                return set_error(ret_error, "%s contains a NUL byte", what);
        case -ENODATA:
                return set_error(ret_error, "%s is empty", what);
        default:
                if (ret_error && asprintf(ret_error, "%s cannot be read: %s", what, strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
}

int config_db_password(const VdeskConfig *c, char **ret, char **ret_error) {
        _cleanup_(freep) char *path = NULL, *what = NULL;
        _cleanup_(closep) int fd = -1;
        const char *creds = secure_getenv("CREDENTIALS_DIRECTORY");
        char *password = NULL;
        int r;

        /* systemd made the credential for this service alone (its directory
         * is the service's, on a file system nobody else sees); its mode
         * is systemd's business (ACLs show up as group bits), so it is not
         * checked as PasswordFile= is. */
        if (!isempty(creds)) {
                if (asprintf(&path, "%s/" DB_PASSWORD_CREDENTIAL, creds) < 0)
                        return -ENOMEM;
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0 && errno != ENOENT) {
                        r = -errno;
                        if (ret_error && asprintf(ret_error, "The credential " DB_PASSWORD_CREDENTIAL
                                                  " (%s) cannot be opened: %s", path, strerror(-r)) < 0)
                                *ret_error = NULL;
                        return r;
                }
                if (fd >= 0 && asprintf(&what, "The credential " DB_PASSWORD_CREDENTIAL " (%s)", path) < 0)
                        return -ENOMEM;
        }
        if (fd < 0 && !isempty(c->db_password_file)) {
                fd = open(c->db_password_file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0) {
                        r = -errno;
                        if (ret_error && asprintf(ret_error, "[Database] PasswordFile=%s cannot be opened: %s",
                                                  c->db_password_file, strerror(-r)) < 0)
                                *ret_error = NULL;
                        return r;
                }
                r = check_secret_file(fd, "PasswordFile", c->db_password_file, ret_error);
                if (r < 0)
                        return r;
                if (asprintf(&what, "[Database] PasswordFile=%s", c->db_password_file) < 0)
                        return -ENOMEM;
        }
        if (fd < 0) {
                *ret = NULL;    /* none: the unix_socket plugin, or an account without one */
                return 0;
        }
        r = read_secret_fd(fd, &password);
        if (r < 0)
                return read_secret_error(r, what, ret_error);
        *ret = password;
        return 0;
}
