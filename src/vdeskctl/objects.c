/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The broker's objects: `show` prints one's properties, `watch` follows
 * their changes from the broker's signals. */

#include <time.h>

#include "bus-error.h"
#include "util.h"
#include "vdeskctl.h"

#define BROKER_PATH "/org/vdesk/broker1"

static const char *const kinds[] = { "desktop", "template", "host", "network", "cluster", "job" };

/* "desktop" -> "Desktop", as the interfaces and methods spell it. */
static void kind_title(const char *kind, char buf[static 16]) {
        snprintf(buf, 16, "%s", kind);
        buf[0] = (char) (buf[0] - 'a' + 'A');
}

static bool kind_known(const char *kind) {
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (streq(kinds[i], kind))
                        return true;
        return false;
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

/* Prints the dictionary m is at (a{sv}), each entry "sep Name=value". */
static int print_properties(sd_bus_message *m, const char *sep, unsigned *ret_n) {
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

static int cmd_show(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *props = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *kind = arg_type ?: "desktop", *path;
        char title[16], method[32], iface[48];
        unsigned n;
        int r;

        if (!kind_known(kind)) {
                fprintf(stderr, "vdeskctl: --type= takes desktop, template, host, network, cluster or job, not '%s'\n",
                        kind);
                return EXIT_FAILURE;
        }
        kind_title(kind, title);
        snprintf(method, sizeof method, "Get%sObject", title);
        snprintf(iface, sizeof iface, "org.vdesk.broker1.%s", title);
        r = bus_call_method(&reply, &e, 0, BROKERD, method, "s", args[0]);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0)
                r = bus_call_method(&props, &e, 0, "org.vdesk.broker1", path, "org.freedesktop.DBus.Properties", "GetAll", "s",
                         iface);
        if (r < 0)
                return print_bus_error(&e, r);
        r = print_properties(props, "\n", &n);
        if (r < 0)
                return print_bus_error(NULL, r);
        if (n > 0)
                putchar('\n');
        /* asked for a property it does not have: say so, as systemctl does not */
        if (arg_properties && n < strv_length(arg_properties)) {
                fprintf(stderr, "vdeskctl: a %s has no such property (see vdeskctl show --type=%s %s)\n", kind, kind,
                        args[0]);
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

/* kind and name of an object path of the broker's. */
static int parse_object_path(const char *path, char kind[static 16], char **ret_name) {
        const char *rest = startswith(path, BROKER_PATH "/");
        const char *slash;
        char prefix[64];

        if (!rest || !(slash = strchr(rest, '/')) || (size_t) (slash - rest) >= 16)
                return -EINVAL;
        snprintf(kind, 16, "%.*s", (int) (slash - rest), rest);
        snprintf(prefix, sizeof prefix, BROKER_PATH "/%s", kind);
        return sd_bus_path_decode(path, prefix, ret_name) > 0 ? 0 : -EINVAL;
}

static void print_now(void) {
        char buf[32];
        time_t t = time(NULL);
        struct tm tm;

        if (localtime_r(&t, &tm) && strftime(buf, sizeof buf, "%H:%M:%S", &tm) > 0)
                printf("%s ", buf);
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(freep) char *name = NULL;
        const char *iface;
        char kind[16];

        if (parse_object_path(sd_bus_message_get_path(m), kind, &name) < 0 ||
            sd_bus_message_read(m, "s", &iface) < 0)
                return 0;
        print_now();
        printf("%s %s ", kind, name);
        if (print_properties(m, " ", NULL) < 0)
                printf("(unreadable)");
        putchar('\n');
        fflush(stdout);
        return 0;
}

static int on_interfaces(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(freep) char *name = NULL;
        const char *path;
        char kind[16];

        if (sd_bus_message_read(m, "o", &path) < 0 || parse_object_path(path, kind, &name) < 0)
                return 0;
        print_now();
        printf("%s %s %s\n", kind, name, userdata ? "added" : "removed");
        fflush(stdout);
        return 0;
}

static int cmd_watch(char **args) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        /* The signals come to any listener; asking the broker first says
         * at once whether it is there and this caller may read it. */
        r = bus_call_method(NULL, &e, 0, BROKERD, "ListDesktopObjects", NULL);
        if (r < 0)
                return print_bus_error(&e, r);
        r = sd_bus_match_signal(vdesk_bus, NULL, "org.vdesk.broker1", NULL, "org.freedesktop.DBus.Properties",
                                "PropertiesChanged", on_properties_changed, NULL);
        if (r >= 0)
                r = sd_bus_match_signal(vdesk_bus, NULL, "org.vdesk.broker1", BROKER_PATH,
                                        "org.freedesktop.DBus.ObjectManager", "InterfacesAdded", on_interfaces,
                                        (void *) "added");
        if (r >= 0)
                r = sd_bus_match_signal(vdesk_bus, NULL, "org.vdesk.broker1", BROKER_PATH,
                                        "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved", on_interfaces,
                                        NULL);
        if (r < 0)
                return print_bus_error(NULL, r);
        fprintf(stderr, "Watching desktops, hosts and the rest of the broker's objects; ^C ends.\n");
        for (;;) {
                r = sd_bus_process(vdesk_bus, NULL);
                if (r < 0)
                        return print_bus_error(NULL, r);
                if (r > 0)
                        continue;
                r = sd_bus_wait(vdesk_bus, UINT64_MAX);
                if (r < 0 && r != -EINTR)
                        return print_bus_error(NULL, r);
        }
}

const Verb object_verbs[] = {
        { "show",              1, 1, cmd_show },
        { "watch",             0, 0, cmd_watch },
        {}
};
