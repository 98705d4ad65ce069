/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vdeskctl: the admin's command line over vdesk's D-Bus API. It holds no
 * state and no privileges of its own: polkit decides what the caller may
 * do, and every error is the service's named error and message. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <time.h>

#include "bus-error.h"
#include "bus-util.h"
#include "conf.h"
#include "util.h"
#include "vdeskctl.h"

static const char help[] =
        "vdeskctl [OPTIONS] COMMAND ...\n\n"
        "Manage vdesk's directory, templates and desktops.\n\n"
        "Desktops:\n"
        "  desktops                         list desktops\n"
        "  show [--type=KIND] NAME [-p PROP]...\n"
        "                                   print the properties of a desktop (or template,\n"
        "                                   host, network, cluster)\n"
        "  watch                            follow state changes of desktops, hosts, ... live\n"
        "  create NAME ACCOUNT TEMPLATE     create a desktop for an account\n"
        "  start NAME | stop NAME | delete NAME\n"
        "  open NAME                        start it if needed, wait until it answers,\n"
        "                                   print how to connect\n"

        "Host:\n"
        "  forwards                         list this host's RDP forwards\n\n"
        "Options:\n"
        "  --force          stop: power off at once; finish-template, commit-template,\n"
        "                   discard-edit: power off a console domain still running\n"
        "  --rdp-file=PATH  open: also write the .rdp file there (- for standard output)\n"
        "  --no-ask-password  do not ask polkit to authenticate interactively\n"
        "  -h --help        this text\n\n";


const char *arg_rdp_file, *arg_vv_file;
const char *arg_format, *arg_os_type, *arg_description;
unsigned arg_memory_mib, arg_vcpus;
unsigned arg_vlan, arg_vni, arg_mtu;
uint16_t arg_port;
const char *arg_uplink, *arg_local, *arg_group, *arg_peers;
const char *arg_role, *arg_email, *arg_department, *arg_state;
const char *arg_unit;
uint16_t arg_founded;
const char *arg_network, *arg_redirect;
bool arg_dry_run;
bool arg_force;
bool arg_no_ask_password;
const char *arg_type;
char **arg_properties;
bool arg_no_progress;
sd_bus *vdesk_bus;

int print_bus_error(const sd_bus_error *e, int r) {
        if (e && sd_bus_error_is_set(e))
                fprintf(stderr, "vdeskctl: %s (%s)\n", e->message ?: "failed", e->name);
        else
                fprintf(stderr, "vdeskctl: %s\n", strerror(-r));
        return EXIT_FAILURE;
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        *(sd_bus_message **) userdata = sd_bus_message_ref(m);
        return 0;
}

int bus_call_message(sd_bus_message *m, uint64_t timeout_usec, sd_bus_error *e, sd_bus_message **ret) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        sd_bus_message *reply = NULL;
        int r;

        (void) sd_bus_message_set_allow_interactive_authorization(m, !arg_no_ask_password);
        /* Not sd_bus_call(): it queues what arrives before the reply, and
         * signals (ImportProgress) are to be handled as they come. */
        r = sd_bus_call_async(vdesk_bus, &slot, m, on_reply, &reply, timeout_usec);
        while (r >= 0 && !reply) {
                r = sd_bus_process(vdesk_bus, NULL);
                if (r == 0)
                        r = sd_bus_wait(vdesk_bus, UINT64_MAX);
        }
        if (r < 0)
                return r;
        if (sd_bus_message_is_method_error(reply, NULL)) {
                r = sd_bus_message_get_errno(reply);
                (void) sd_bus_error_copy(e, sd_bus_message_get_error(reply));
                sd_bus_message_unref(reply);
                return r > 0 ? -r : -EIO;
        }
        if (ret)
                *ret = reply;
        else
                sd_bus_message_unref(reply);
        return 0;
}

int bus_call_method(sd_bus_message **reply, sd_bus_error *e, uint64_t timeout_usec,
                    const char *dest, const char *path, const char *iface, const char *method, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(vdesk_bus, &m, dest, path, iface, method);
        if (r < 0)
                return r;
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
                if (r < 0)
                        return r;
        }
        return bus_call_message(m, timeout_usec, e, reply);
}

int bus_call_list(sd_bus_message **reply, const char *dest, const char *path, const char *iface,
                  const char *method, const char *element) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = bus_call_method(reply, &e, 0, dest, path, iface, method, NULL);
        if (r >= 0)
                r = sd_bus_message_enter_container(*reply, 'a', element);
        if (r < 0)
                (void) print_bus_error(&e, r);
        return r;
}

int print_list_end(int r, unsigned n, const char *what) {
        if (r < 0)
                return print_bus_error(NULL, r);
        if (what)
                printf("\n%u %s%s.\n", n, what, n == 1 ? "" : "s");
        return EXIT_SUCCESS;
}

static void print_time(uint64_t usec) {
        char buf[64];
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        if (usec == 0 || !localtime_r(&t, &tm) || strftime(buf, sizeof buf, "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                printf("%" PRIu64, usec);
        else
                fputs(buf, stdout);
}

/* One value of a property, as `show` and `watch` print it. */
static int print_value(sd_bus_message *m, const char *property) {
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r <= 0)
                return r < 0 ? r : -EBADMSG;
        r = sd_bus_message_enter_container(m, 'v', contents);
        if (r < 0)
                return r;
        if (streq(contents, "as")) {
                const char *s;
                bool first = true;

                r = sd_bus_message_enter_container(m, 'a', "s");
                while (r >= 0 && (r = sd_bus_message_read(m, "s", &s)) > 0) {
                        printf("%s%s", first ? "" : " ", s);
                        first = false;
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        } else {
                union { const char *s; uint64_t t; uint32_t u; uint16_t q; int b; double d; } v;

                r = sd_bus_message_read_basic(m, contents[0], &v);
                if (r < 0)
                        return r;
                switch (contents[0]) {
                case 's': case 'o': fputs(v.s, stdout); break;
                case 't':
                        if (strlen(property) > 5 && streq(property + strlen(property) - 5, "Since"))
                                print_time(v.t);
                        else
                                printf("%" PRIu64, v.t);
                        break;
                case 'u': printf("%" PRIu32, v.u); break;
                case 'q': printf("%u", v.q); break;
                case 'b': fputs(v.b ? "yes" : "no", stdout); break;
                case 'd': printf("%g", v.d); break;
                default: return -EBADMSG;
                }
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static bool property_wanted(const char *name) {
        return !arg_properties || strv_contains(arg_properties, name);
}

int print_properties(sd_bus_message *m, const char *sep, unsigned *ret_n) {
        unsigned n = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        break;
                if (property_wanted(name)) {
                        printf("%s%s=", n > 0 ? sep : "", name);
                        r = print_value(m, name);
                        n++;
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (ret_n)
                *ret_n = n;
        return r;
}

int read_desktop_row(sd_bus_message *m, DesktopRow *d) {
        return sd_bus_message_read(m, DESKTOP_SIGNATURE, &d->name, &d->uuid, &d->account, &d->template,
                                   &d->address, &d->mac, &d->port, &d->state, &d->host);
}

void print_desktop_header(void) {
        printf("%-20s %-14s %-14s %-15s %-6s %-8s %s\n", "DESKTOP", "ACCOUNT", "TEMPLATE", "ADDRESS", "PORT", "STATE",
               "HOST");
}

/* A desktop of a category's pool belongs to nobody yet: "-". */
void print_desktop_row(const DesktopRow *d) {
        printf("%-20s %-14s %-14s %-15s %-6u %-8s %s\n", d->name, isempty(d->account) ? "-" : d->account, d->template,
               d->address, d->port, d->state, d->host);
}

static int cmd_desktops(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        DesktopRow d;
        unsigned n = 0;
        int r;

        if (bus_call_list(&reply, BROKERD, "ListDesktops", DESKTOP_SIGNATURE) < 0)
                return EXIT_FAILURE;
        print_desktop_header();
        while ((r = read_desktop_row(reply, &d)) > 0) {
                print_desktop_row(&d);
                n++;
        }
        return print_list_end(r, n, "desktop");
}

static int cmd_create(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        DesktopRow d;
        int r;

        r = bus_call_method(&reply, &e, 0, BROKERD, "CreateDesktop", "sss", args[0], args[1], args[2]);
        if (r < 0)
                return print_bus_error(&e, r);
        r = read_desktop_row(reply, &d);
        if (r < 0)
                return print_bus_error(NULL, r);
        printf("Created desktop %s for %s: address %s, RDP port %u.\n", d.name, d.account, d.address, d.port);
        return EXIT_SUCCESS;
}

int bus_call_simple(const char *dest, const char *path, const char *iface, const char *method,
                    const char *types, const char *a, const char *b, const char *done) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        if (streq(types, "sb"))
                r = bus_call_method(NULL, &e, 0, dest, path, iface, method, types, a, arg_force);
        else if (streq(types, "ss"))
                r = bus_call_method(NULL, &e, 0, dest, path, iface, method, types, a, b);
        else
                r = bus_call_method(NULL, &e, 0, dest, path, iface, method, types, a);
        if (r < 0)
                return print_bus_error(&e, r);
        if (done)
                printf("%s %s.\n", done, a);
        return EXIT_SUCCESS;
}

static int cmd_start(char **args) { return bus_call_simple(BROKERD, "StartDesktop", "s", args[0], NULL, "Started"); }
static int cmd_stop(char **args) { return bus_call_simple(BROKERD, "StopDesktop", "sb", args[0], NULL, "Stopped"); }
static int cmd_delete(char **args) { return bus_call_simple(BROKERD, "DeleteDesktop", "s", args[0], NULL, "Deleted"); }

/* OpenDesktop and OpenMyDesktop wait up to OpenTimeoutSec for the guest;
 * wait longer. */
uint64_t open_timeout_usec(void) {
        _cleanup_(config_done) VdeskConfig c = {};

        if (config_load(config_path(), &c, NULL) < 0 && config_defaults(&c) < 0)
                return 300 * USEC_PER_SEC;
        return ((uint64_t) c.open_timeout_sec + 30) * USEC_PER_SEC;
}

int write_file_or_stdout(const char *path, const char *content, mode_t mode) {
        int r;

        if (streq(path, "-"))
                return fputs(content, stdout) < 0 ? -errno : 0;
        /* A new file renamed over path: an old file of a looser mode, or a
         * symlink planted there, never receives a ticket. */
        r = write_file_atomic(path, content, strlen(content), mode);
        if (r < 0)
                fprintf(stderr, "vdeskctl: cannot write %s: %s\n", path, strerror(-r));
        return r;
}

int print_opened(const char *desktop, const char *host, uint16_t port, const char *rdp, const char *command) {
        if (arg_rdp_file && write_file_or_stdout(arg_rdp_file, rdp, 0644) < 0)
                return EXIT_FAILURE;
        printf("Desktop %s answers at %s:%u.\nConnect with:\n  %s\n", desktop, host, port, command);
        if (arg_rdp_file && !streq(arg_rdp_file, "-"))
                printf("or open %s with mstsc or Remmina.\n", arg_rdp_file);
        return EXIT_SUCCESS;
}

static int cmd_open(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *host, *rdp, *command;
        uint16_t port;
        int r;

        r = bus_call_method(&reply, &e, open_timeout_usec(), BROKERD, "OpenDesktop", "s", args[0]);
        if (r < 0)
                return print_bus_error(&e, r);
        r = sd_bus_message_read(reply, "sqss", &host, &port, &rdp, &command);
        if (r < 0)
                return print_bus_error(NULL, r);
        return print_opened(args[0], host, port, rdp, command);
}

static int cmd_forwards(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *address, *desktop;
        uint16_t port, gport;
        int r;

        if (bus_call_list(&reply, NETD, "ListForwards", FORWARD_SIGNATURE) < 0)
                return EXIT_FAILURE;
        printf("%-6s %-21s %s\n", "PORT", "GUEST", "DESKTOP");
        while ((r = sd_bus_message_read(reply, FORWARD_SIGNATURE, &port, &address, &gport, &desktop)) > 0) {
                char guest[32];

                snprintf(guest, sizeof guest, "%s:%u", address, gport);
                printf("%-6u %-21s %s\n", port, guest, desktop);
        }
        return print_list_end(r, 0, NULL);
}

static const Verb verbs[] = {
        { "desktops",          0, 0, cmd_desktops },
        { "create",            3, 3, cmd_create },
        { "start",             1, 1, cmd_start },
        { "stop",              1, 1, cmd_stop },
        { "delete",            1, 1, cmd_delete },
        { "open",              1, 1, cmd_open },
        { "forwards",          0, 0, cmd_forwards },
        {}
};

/* --NAME=VALUE, a number up to max; says what is wrong otherwise. */
static int parse_option_uint(const char *name, const char *s, unsigned long max, unsigned *ret) {
        unsigned long v;

        if (parse_uint_max(s, max, &v) < 0) {
                fprintf(stderr, "vdeskctl: --%s= takes a number up to %lu, not '%s'\n", name, max, s);
                return -EINVAL;
        }
        *ret = (unsigned) v;
        return 0;
}

static const Verb *find_verb(const char *name) {
        const Verb *tables[] = { verbs, object_verbs, job_verbs, template_verbs, network_verbs, host_verbs,
                                 directory_verbs, staff_verbs };

        for (size_t t = 0; t < ELEMENTSOF(tables); t++)
                for (const Verb *v = tables[t]; v->name; v++)
                        if (streq(v->name, name))
                                return v;
        return NULL;
}

enum {
        ARG_FORCE = 0x100, ARG_RDP_FILE, ARG_NO_ASK, ARG_ROLE, ARG_EMAIL, ARG_DEPARTMENT, ARG_STATE,
        ARG_UNIT, ARG_FOUNDED, ARG_NETWORK, ARG_REDIRECT, ARG_DRY_RUN, ARG_VV_FILE, ARG_FORMAT, ARG_MEMORY,
        ARG_VCPUS, ARG_OS_TYPE, ARG_DESCRIPTION, ARG_VLAN, ARG_VXLAN, ARG_UPLINK, ARG_PEERS, ARG_GROUP,
        ARG_LOCAL, ARG_PORT, ARG_MTU, ARG_TYPE, ARG_NO_PROGRESS,
};

static const struct option options[] = {
        { "force",           no_argument,       NULL, ARG_FORCE },
        { "rdp-file",        required_argument, NULL, ARG_RDP_FILE },
        { "no-ask-password", no_argument,       NULL, ARG_NO_ASK },
        { "role",            required_argument, NULL, ARG_ROLE },
        { "email",           required_argument, NULL, ARG_EMAIL },
        { "department",      required_argument, NULL, ARG_DEPARTMENT },
        { "state",           required_argument, NULL, ARG_STATE },
        { "unit",            required_argument, NULL, ARG_UNIT },
        { "founded",         required_argument, NULL, ARG_FOUNDED },
        { "network",         required_argument, NULL, ARG_NETWORK },
        { "redirect",        required_argument, NULL, ARG_REDIRECT },
        { "dry-run",         no_argument,       NULL, ARG_DRY_RUN },
        { "vv-file",         required_argument, NULL, ARG_VV_FILE },
        { "format",          required_argument, NULL, ARG_FORMAT },
        { "memory",          required_argument, NULL, ARG_MEMORY },
        { "vcpus",           required_argument, NULL, ARG_VCPUS },
        { "os-type",         required_argument, NULL, ARG_OS_TYPE },
        { "description",     required_argument, NULL, ARG_DESCRIPTION },
        { "vlan",            required_argument, NULL, ARG_VLAN },
        { "vxlan",           required_argument, NULL, ARG_VXLAN },
        { "uplink",          required_argument, NULL, ARG_UPLINK },
        { "peers",           required_argument, NULL, ARG_PEERS },
        { "group",           required_argument, NULL, ARG_GROUP },
        { "local",           required_argument, NULL, ARG_LOCAL },
        { "port",            required_argument, NULL, ARG_PORT },
        { "mtu",             required_argument, NULL, ARG_MTU },
        { "type",            required_argument, NULL, ARG_TYPE },
        { "property",        required_argument, NULL, 'p' },
        { "no-progress",     no_argument,       NULL, ARG_NO_PROGRESS },
        { "help",            no_argument,       NULL, 'h' },
        {}
};

/* An option that takes a text: kept as given, for the command to judge.
 * -ENOENT if o is not one. */
static int set_text_option(int o, const char *value) {
        switch (o) {
        case ARG_RDP_FILE:
                arg_rdp_file = value;
                break;
        case ARG_ROLE:
                arg_role = value;
                break;
        case ARG_EMAIL:
                arg_email = value;
                break;
        case ARG_DEPARTMENT:
                arg_department = value;
                break;
        case ARG_STATE:
                arg_state = value;
                break;
        case ARG_UNIT:
                arg_unit = value;
                break;
        case ARG_VV_FILE:
                arg_vv_file = value;
                break;
        case ARG_FORMAT:
                arg_format = value;
                break;
        case ARG_OS_TYPE:
                arg_os_type = value;
                break;
        case ARG_DESCRIPTION:
                arg_description = value;
                break;
        case ARG_UPLINK:
                arg_uplink = value;
                break;
        case ARG_PEERS:
                arg_peers = value;
                break;
        case ARG_GROUP:
                arg_group = value;
                break;
        case ARG_LOCAL:
                arg_local = value;
                break;
        case ARG_NETWORK:
                arg_network = value;
                break;
        case ARG_REDIRECT:
                arg_redirect = value;
                break;
        case ARG_TYPE:
                arg_type = value;
                break;
        default:
                return -ENOENT;
        }
        return 0;
}

/* An option that takes a number: refused (and said) when it is not one in
 * range. -ENOENT if o is not one. */
static int set_number_option(int o, const char *value) {
        unsigned u;
        int r;

        switch (o) {
        case ARG_FOUNDED:
                r = parse_option_uint("founded", value, 65535, &u);
                if (r >= 0)
                        arg_founded = (uint16_t) u;
                return r;
        case ARG_PORT:
                r = parse_option_uint("port", value, 65535, &u);
                if (r >= 0)
                        arg_port = (uint16_t) u;
                return r;
        case ARG_MEMORY:
                return parse_option_uint("memory", value, UINT32_MAX, &arg_memory_mib);
        case ARG_VCPUS:
                return parse_option_uint("vcpus", value, UINT32_MAX, &arg_vcpus);
        case ARG_VLAN:
                return parse_option_uint("vlan", value, UINT32_MAX, &arg_vlan);
        case ARG_VXLAN:
                return parse_option_uint("vxlan", value, UINT32_MAX, &arg_vni);
        case ARG_MTU:
                return parse_option_uint("mtu", value, UINT32_MAX, &arg_mtu);
        default:
                return -ENOENT;
        }
}

/* The options into arg_*; optind is then the command's index. 0: done
 * (--help), < 0: refused (and said), > 0: go on with the command. */
static int parse_argv(int argc, char *argv[]) {
        int o, r;

        while ((o = getopt_long(argc, argv, "hp:", options, NULL)) >= 0)
                switch (o) {
                case ARG_FORCE:
                        arg_force = true;
                        break;
                case ARG_NO_ASK:
                        arg_no_ask_password = true;
                        break;
                case ARG_DRY_RUN:
                        arg_dry_run = true;
                        break;
                case ARG_NO_PROGRESS:
                        arg_no_progress = true;
                        break;
                case 'p':
                        if (strv_extend(&arg_properties, optarg) < 0) {
                                (void) print_bus_error(NULL, -ENOMEM);
                                return -ENOMEM;
                        }
                        break;
                case 'h':
                        printf("%s%s%s%s%s%s", help, help_jobs, help_templates, help_networks, help_hosts, help_directory);
                        return 0;
                case '?':
                        /* getopt_long() said what it did not know */
                        return -EINVAL;
                default:
                        r = set_text_option(o, optarg);
                        if (r == -ENOENT)
                                r = set_number_option(o, optarg);
                        if (r < 0)
                                return r;
                }
        if (optind >= argc) {
                fprintf(stderr, "%s%s%s%s%s", help, help_templates, help_networks, help_hosts, help_directory);
                return -EINVAL;
        }
        return 1;
}

/* The command args[0] names, if it takes the n_args - 1 arguments that
 * follow; NULL (and said why) if not. */
static const Verb *verb_for_args(char **args, int n_args) {
        const Verb *v;

        v = find_verb(args[0]);
        if (!v) {
                fprintf(stderr, "vdeskctl: unknown command '%s' (see --help)\n", args[0]);
                return NULL;
        }
        n_args--;
        if (n_args < v->min_args || n_args > v->max_args) {
                fprintf(stderr, "vdeskctl: %s takes %d%s argument%s (see --help)\n", v->name, v->min_args,
                        v->max_args > v->min_args ? " or more" : "", v->max_args == 1 ? "" : "s");
                return NULL;
        }
        return v;
}

/* vdesk_bus, as vdesk.conf says (BusAddress=, its timeout). */
static int connect_vdesk_bus(void) {
        _cleanup_(config_done) VdeskConfig c = {};
        int r;

        if (config_load(config_path(), &c, NULL) < 0 && config_defaults(&c) < 0) {
                (void) print_bus_error(NULL, -ENOMEM);
                return -ENOMEM;
        }
        r = bus_open_from_config(&c, &vdesk_bus);
        if (r < 0)
                fprintf(stderr, "vdeskctl: cannot connect to the bus: %s\n", strerror(-r));
        return r;
}

int main(int argc, char *argv[]) {
        const Verb *v;
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        v = verb_for_args(argv + optind, argc - optind);
        if (!v)
                return EXIT_FAILURE;
        (void) bus_error_register();
        if (connect_vdesk_bus() < 0)
                return EXIT_FAILURE;
        r = v->run(argv + optind + 1);
        sd_bus_flush_close_unref(vdesk_bus);
        strv_free(arg_properties);
        return r;
}
