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
