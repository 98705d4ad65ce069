/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>

#include "conf.h"
#include "macro.h"
#include "util.h"

typedef enum ConfType {
        CONF_STRING,
        CONF_PORT,
        CONF_UINT,
        CONF_BOOL,
} ConfType;

typedef struct ConfItem {
        const char *section;
        const char *key;
        ConfType type;
        size_t offset;
        unsigned max;
} ConfItem;

#define ITEM(s, k, t, field, m) { s, k, t, offsetof(VdeskConfig, field), m }

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
        ITEM("Network",  "Name",            CONF_STRING, network_name, 0),
        ITEM("Network",  "Bridge",          CONF_STRING, bridge, 0),
        ITEM("Network",  "Gateway",         CONF_STRING, gateway, 0),
        ITEM("Network",  "Prefix",          CONF_UINT,   prefix, 30),
        ITEM("Network",  "RangeStart",      CONF_STRING, range_start, 0),
        ITEM("Network",  "RangeEnd",        CONF_STRING, range_end, 0),
        ITEM("Database", "Socket",          CONF_STRING, db_socket, 0),
        ITEM("Database", "Host",            CONF_STRING, db_host, 0),
        ITEM("Database", "Port",            CONF_UINT,   db_port, 65535),
        ITEM("Database", "User",            CONF_STRING, db_user, 0),
        ITEM("Database", "Password",        CONF_STRING, db_password, 0),
        ITEM("Database", "Name",            CONF_STRING, db_name, 0),
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
        ITEM("Hosts",    "ConnectTimeoutSec", CONF_UINT, host_connect_timeout_sec, 600),
        ITEM("Hosts",    "SampleSec",       CONF_UINT,   host_sample_sec, 3600),
        ITEM("Hosts",    "DefaultCapacity", CONF_UINT,   default_capacity, 1000000),
        ITEM("Monitor",  "IntervalSec",     CONF_UINT,   monitor_interval_sec, 0),
        ITEM("Monitor",  "HostMemoryPercent", CONF_UINT, monitor_memory_percent, 0),
        ITEM("Monitor",  "HostCPUPercent",  CONF_UINT,   monitor_cpu_percent, 0),
        ITEM("Monitor",  "ThresholdSec",    CONF_UINT,   monitor_threshold_sec, 0),
        ITEM("Monitor",  "MetricsListen",   CONF_STRING, metrics_listen, 0),
        ITEM("Directory", "PasswordMinLength", CONF_UINT, password_min_length, 1024),
        ITEM("Directory", "PasswordMinClasses", CONF_UINT, password_min_classes, 4),
        ITEM("Directory", "YescryptCost",    CONF_UINT,   yescrypt_cost, 11),
        ITEM("Directory", "SessionHours",    CONF_UINT,   session_hours, 24 * 366),
        ITEM("Directory", "MaxFailedSignins", CONF_UINT,  max_failed_signins, 1000),
        ITEM("Directory", "LockMinutes",     CONF_UINT,   lock_minutes, 24 * 60 * 366),
        ITEM("Directory", "ActivationDays",  CONF_UINT,   activation_days, 366),
        ITEM("Directory", "SigninWorkers",   CONF_UINT,   signin_workers, 64),
        ITEM("Directory", "SessionPurgeSec", CONF_UINT,   session_purge_sec, 86400),
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
                .prefix = 24,
                .db_port = 3306,
                .bus_timeout_ms = 10000,
                .desktop_memory_mib = 192,
                .host_connect_timeout_sec = 10,
                .host_sample_sec = 10,
                .default_capacity = 1000,
                .monitor_interval_sec = 5,
                .monitor_memory_percent = 90,
                .monitor_cpu_percent = 90,
                .monitor_threshold_sec = 60,
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
                { &c.range_end,      "10.20.0.250" },
                { &c.db_socket,      "/run/mysqld/mysqld.sock" },
                { &c.db_host,        "" },
                { &c.db_user,        "root" },
                { &c.db_password,    "" },
                { &c.db_name,        "vdesk" },
                { &c.bus_address,    "" },
                { &c.libvirt_uri,    "qemu:///system" },
                { &c.accelerator,    "auto" },
                { &c.metrics_listen, "127.0.0.1:9750" },
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
        char *end;

        if (!isdigit((unsigned char) *s))
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || *end || v > max)
                return -ERANGE;
        *ret = (unsigned) v;
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

int config_verify(const VdeskConfig *c, char **ret_error) {
        if (c->port_min > c->port_max)
                return set_error(ret_error, "[Forward] PortMin=%u is above PortMax=%u", c->port_min, c->port_max);
        if (c->port_min < 1024)
                return set_error(ret_error, "[Forward] PortMin=%u is a privileged port", c->port_min);
        if (c->template_dir[0] != '/' || c->disk_dir[0] != '/')
                return set_error(ret_error, "[Images] TemplateDir= and DiskDir= must be absolute paths");
        if (path_startswith_dir(c->template_dir, c->disk_dir) || path_startswith_dir(c->disk_dir, c->template_dir))
                return set_error(ret_error, "[Images] TemplateDir= and DiskDir= must not contain each other");
        if (c->iso_dir[0] != '/')
                return set_error(ret_error, "[Images] IsoDir= must be an absolute path");
        if (c->max_template_gib < 1 || c->console_ticket_sec < 10)
                return set_error(ret_error, "[Images] MaxTemplateGiB= must be at least 1 and ConsoleTicketSec= at least 10");
        if (c->prefix < 8)
                return set_error(ret_error, "[Network] Prefix=%u is too short", c->prefix);
        if (!streq(c->accelerator, "auto") && !streq(c->accelerator, "kvm") && !streq(c->accelerator, "tcg"))
                return set_error(ret_error, "[Desktop] Accelerator=%s is not one of auto, kvm, tcg", c->accelerator);
        if (c->yescrypt_cost < 1 || c->session_hours < 1)
                return set_error(ret_error, "[Directory] YescryptCost= and SessionHours= must be at least 1");
        if (c->session_purge_sec < 1)
                return set_error(ret_error, "[Directory] SessionPurgeSec= must be at least 1");
        if (c->desktop_memory_mib < 16 || c->desktop_vcpus < 1)
                return set_error(ret_error, "[Desktop] MemoryMiB= must be at least 16 and VCPUs= at least 1");
        if (c->host_connect_timeout_sec < 1 || c->host_sample_sec < 1 || c->default_capacity < 1)
                return set_error(ret_error, "[Hosts] ConnectTimeoutSec=, SampleSec= and DefaultCapacity= must be at least 1");
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

void config_done(VdeskConfig *c) {
        char **strings[] = {
                &c->template_dir, &c->disk_dir, &c->iso_dir, &c->public_address, &c->network_name, &c->bridge,
                &c->gateway, &c->range_start, &c->range_end, &c->db_socket, &c->db_host,
                &c->db_user, &c->db_password, &c->db_name, &c->bus_address, &c->libvirt_uri, &c->accelerator,
                &c->metrics_listen,
        };

        for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                free(*strings[i]);
                *strings[i] = NULL;
        }
}

const char *config_path(void) {
        const char *e = secure_getenv("VDESK_CONFIG");

        return isempty(e) ? VDESK_CONFIG_DEFAULT_PATH : e;
}
