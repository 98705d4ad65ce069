/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vdeskctl's image commands: the ISO catalog, and templates built from an
 * ISO and edited over SPICE, their versions, desktops re-issued on the
 * newest. A console is printed as its spice:// URI and one-time ticket,
 * and written as a [virt-viewer] file (--vv-file=) for remote-viewer. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "disk-util.h"
#include "util.h"
#include "vdeskctl.h"

const char help_templates[] =
        "ISOs and templates:\n"
        "  isos                             list the ISO catalog (IsoDir=)\n"
        "  refresh-isos                     rescan IsoDir= now\n"
        "  register-iso NAME | unregister-iso NAME\n"
        "  templates                        list templates\n"
        "  template NAME                    show one, with its versions and their desktops\n"
        "  register-template NAME PATH      register a disk file in the template directory\n"
        "  create-template NAME SIZE ISO [--format=qcow2|raw] [--memory=MIB] [--vcpus=N]\n"
        "                  [--os-type=] [--description=]\n"
        "                                   boots the ISO, prints its console; SIZE in\n"
        "                                   bytes or with K, M, G, T; memory and vCPUs\n"
        "                                   default to [Desktop]'s\n"
        "  console NAME                     a fresh console ticket for a build or edit\n"
        "  finish-template NAME [--force]   the build is installed as version 1\n"
        "  edit-template NAME [ISO]         edit the newest version, prints its console\n"
        "  commit-template NAME [--force]   the edit becomes the next version\n"
        "  discard-edit NAME [--force]      drop the edit\n"
        "  prune-template NAME              remove versions no desktop uses\n"
        "  delete-template NAME\n"
        "  reissue DESKTOP                  a stopped desktop gets a fresh disk on its\n"
        "                                   template's newest version\n"
        "Options (consoles):\n"
        "  --vv-file=PATH   also write the console as a .vv file for remote-viewer\n"
        "                   (mode 0600: it holds the ticket; - for standard output)\n\n";

/* "20G", "512M", "1073741824": bytes, binary multiples. Whether the size
 * suits a template is the broker's to say. */
static int parse_size(const char *s, int64_t *ret) {
        static const char units[] = "KMGT";
        unsigned long long v;
        const char *u;
        char *end;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s || *s == '-')
                return -EINVAL;
        if (*end) {
                u = strchr(units, *end);
                if (!u || end[1])
                        return -EINVAL;
                for (ptrdiff_t i = 0; i <= u - units; i++) {
                        if (v > INT64_MAX / 1024)
                                return -ERANGE;
                        v *= 1024;
                }
        }
        if (v > INT64_MAX)
                return -ERANGE;
        *ret = (int64_t) v;
        return 0;
}

static void format_bytes(uint64_t b, char *buf, size_t size) {
        static const char units[] = "KMGT";
        double v = (double) b;
        int i = -1;

        while (v >= 1024 && i < 3) {
                v /= 1024;
                i++;
        }
        if (i < 0)
                snprintf(buf, size, "%" PRIu64 " B", b);
        else
                snprintf(buf, size, "%.1f %ciB", v, units[i]);
}

static int cmd_isos(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name, *format;
        uint64_t size, created;
        unsigned n = 0;
        int r;

        if (bus_call_list(&reply, BROKERD, "ListIsos", ISO_SIGNATURE) < 0)
                return EXIT_FAILURE;
        printf("%-32s %-8s %10s  %s\n", "ISO", "FORMAT", "SIZE", "CATALOGUED");
        while ((r = sd_bus_message_read(reply, ISO_SIGNATURE, &name, &format, &size, &created)) > 0) {
                char sz[32], ts[64];

                format_bytes(size, sz, sizeof sz);
                format_timestamp_utc(created, ts, sizeof ts);
                printf("%-32s %-8s %10s  %s\n", name, format, sz, ts);
                n++;
        }
        return print_list_end(r, n, "ISO");
}

static int cmd_refresh_isos(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        uint32_t added, removed;
        int r;

        r = bus_call_method(&reply, &e, 0, BROKERD, "RefreshIsos", NULL);
        if (r >= 0)
                r = sd_bus_message_read(reply, "uu", &added, &removed);
        if (r < 0)
                return print_bus_error(&e, r);
        printf("%u ISO%s added, %u removed.\n", added, added == 1 ? "" : "s", removed);
        return EXIT_SUCCESS;
}

static int cmd_register_iso(char **args) {
        return bus_call_simple(BROKERD, "RegisterIso", "s", args[0], NULL, "Registered ISO");
}
static int cmd_unregister_iso(char **args) {
        return bus_call_simple(BROKERD, "UnregisterIso", "s", args[0], NULL, "Unregistered ISO");
}
static int cmd_register_template(char **args) {
        return bus_call_simple(BROKERD, "RegisterTemplate", "ss", args[0], args[1], "Registered template");
}

typedef struct TemplateRow {
        const char *name, *state, *format, *os_type, *description, *iso, *path;
        uint32_t version, memory_mib, vcpus;
        uint64_t size;
} TemplateRow;

static int read_template(sd_bus_message *m, TemplateRow *t) {
        return sd_bus_message_read(m, TEMPLATE_SIGNATURE, &t->name, &t->state, &t->format, &t->version, &t->size,
                                   &t->memory_mib, &t->vcpus, &t->os_type, &t->description, &t->iso, &t->path);
}

static int cmd_templates(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        TemplateRow t;
        unsigned n = 0;
        int r;

        if (bus_call_list(&reply, BROKERD, "ListTemplates", TEMPLATE_SIGNATURE) < 0)
                return EXIT_FAILURE;
        printf("%-20s %-10s %-6s %7s %10s %6s %5s  %s\n", "TEMPLATE", "STATE", "FORMAT", "VERSION", "SIZE", "MEMORY",
               "VCPUS", "OS");
        while ((r = read_template(reply, &t)) > 0) {
                char sz[32];

                format_bytes(t.size, sz, sizeof sz);
                printf("%-20s %-10s %-6s %7u %10s %6u %5u  %s\n", t.name, t.state, t.format, t.version, sz,
                       t.memory_mib, t.vcpus, t.os_type);
                n++;
        }
        return print_list_end(r, n, "template");
}

static int cmd_template(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *versions = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        TemplateRow t;
        char sz[32];
        int r;

        r = bus_call_method(&reply, &e, 0, BROKERD, "GetTemplate", "s", args[0]);
        if (r >= 0)
                r = bus_call_method(&versions, &e, 0, BROKERD, "ListTemplateVersions", "s", args[0]);
        if (r < 0)
                return print_bus_error(&e, r);
        r = read_template(reply, &t);
        if (r < 0)
                return print_bus_error(NULL, r);
        format_bytes(t.size, sz, sizeof sz);
        printf("   Template: %s\n      State: %s\n     Format: %s\n       Size: %s\n     Memory: %u MiB\n"
               "      vCPUs: %u\n    OS type: %s\nDescription: %s\n        ISO: %s\n",
               t.name, t.state, t.format, sz, t.memory_mib, t.vcpus, t.os_type, t.description,
               isempty(t.iso) ? "-" : t.iso);

        r = sd_bus_message_enter_container(versions, 'a', TEMPLATE_VERSION_SIGNATURE);
        if (r < 0)
                return print_bus_error(NULL, r);
        printf("\n%-7s %-20s %s\n", "VERSION", "COMMITTED", "FILE, DESKTOPS");
        while ((r = sd_bus_message_enter_container(versions, 'r', TEMPLATE_VERSION_FIELDS)) > 0) {
                const char *path, *desktop;
                uint32_t version;
                uint64_t created;
                char ts[64];
                unsigned n = 0;

                r = sd_bus_message_read(versions, "ust", &version, &path, &created);
                if (r >= 0)
                        r = sd_bus_message_enter_container(versions, 'a', "s");
                if (r < 0)
                        return print_bus_error(NULL, r);
                format_timestamp_utc(created, ts, sizeof ts);
                printf("%-7u %-20s %s\n", version, ts, path);
                while ((r = sd_bus_message_read(versions, "s", &desktop)) > 0)
                        printf("%-28s %s %s\n", "", n++ == 0 ? "desktops:" : "         ", desktop);
                if (r >= 0)
                        r = sd_bus_message_exit_container(versions);
                if (r >= 0)
                        r = sd_bus_message_exit_container(versions);
                if (r < 0)
                        return print_bus_error(NULL, r);
        }
        return r < 0 ? print_bus_error(NULL, r) : EXIT_SUCCESS;
}

/* What a console reply tells the admin, and its .vv file. */
static int print_console(const char *template, sd_bus_message *reply) {
        const char *uri, *host, *ticket, *vv;
        uint64_t valid_until;
        uint16_t port;
        char ts[64];
        int r;

        r = sd_bus_message_read(reply, CONSOLE_SIGNATURE, &uri, &host, &port, &ticket, &valid_until, &vv);
        if (r < 0)
                return print_bus_error(NULL, r);
        if (arg_vv_file && write_file_or_stdout(arg_vv_file, vv, 0600) < 0)
                return EXIT_FAILURE;
        format_timestamp_utc(valid_until, ts, sizeof ts);
        printf("Console of template %s: %s\nTicket: %s (lets one client in, until %s)\nConnect with:\n",
               template, uri, ticket, ts);
        if (arg_vv_file && !streq(arg_vv_file, "-"))
                printf("  remote-viewer %s\n", arg_vv_file);
        else
                printf("  remote-viewer %s   (it asks for the ticket)\n", uri);
        return EXIT_SUCCESS;
}

static int cmd_create_template(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(config_done) VdeskConfig c = {};
        int64_t size;
        int r;

        /* memory and vCPUs not given: what desktops get by default */
        if (config_load(config_path(), &c, NULL) < 0 && config_defaults(&c) < 0)
                return print_bus_error(NULL, -ENOMEM);
        if (parse_size(args[1], &size) < 0) {
                fprintf(stderr, "vdeskctl: size '%s' is not a number of bytes with K, M, G or T\n", args[1]);
                return EXIT_FAILURE;
        }
        r = bus_call_method(&reply, &e, 0, BROKERD, "CreateTemplate", "sxssuuss", args[0], size,
                            arg_format ?: "qcow2", args[2], arg_memory_mib ?: c.desktop_memory_mib,
                            arg_vcpus ?: c.desktop_vcpus, arg_description ?: "", arg_os_type ?: "");
        if (r < 0)
                return print_bus_error(&e, r);
        return print_console(args[0], reply);
}

/* TemplateConsole (iso NULL) or EditTemplate, and the console it gives. */
static int open_console(const char *template, const char *iso) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        if (iso)
                r = bus_call_method(&reply, &e, 0, BROKERD, "EditTemplate", "ss", template, iso);
        else
                r = bus_call_method(&reply, &e, 0, BROKERD, "TemplateConsole", "s", template);
        if (r < 0)
                return print_bus_error(&e, r);
        return print_console(template, reply);
}

static int cmd_console(char **args) { return open_console(args[0], NULL); }
static int cmd_edit_template(char **args) { return open_console(args[0], args[1] ?: ""); }

static int cmd_finish_template(char **args) {
        return bus_call_simple(BROKERD, "FinishTemplate", "sb", args[0], NULL, "Installed template");
}
static int cmd_discard_edit(char **args) {
        return bus_call_simple(BROKERD, "DiscardTemplateEdit", "sb", args[0], NULL, "Discarded the edit of template");
}
static int cmd_delete_template(char **args) {
        return bus_call_simple(BROKERD, "DeleteTemplate", "s", args[0], NULL, "Deleted template");
}

static int cmd_commit_template(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        uint32_t version;
        int r;

        /* the edit is flattened into a new file before the reply comes */
        r = bus_call_method(&reply, &e, TEMPLATE_COMMIT_WAIT_USEC, BROKERD, "CommitTemplate", "sb", args[0], arg_force);
        if (r >= 0)
                r = sd_bus_message_read(reply, "u", &version);
        if (r < 0)
                return print_bus_error(&e, r);
        printf("Committed template %s as version %u; new and re-issued desktops derive from it.\n", args[0],
               version);
        return EXIT_SUCCESS;
}

static int cmd_prune_template(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        const uint32_t *v;
        size_t size, n;
        int r;

        r = bus_call_method(&reply, &e, 0, BROKERD, "PruneTemplate", "s", args[0]);
        if (r >= 0)
                r = sd_bus_message_read_array(reply, 'u', (const void **) &v, &size);
        if (r < 0)
                return print_bus_error(&e, r);
        n = size / sizeof *v;
        if (n == 0) {
                printf("Template %s: no version to remove.\n", args[0]);
                return EXIT_SUCCESS;
        }
        printf("Template %s: removed version%s", args[0], n == 1 ? "" : "s");
        for (size_t i = 0; i < n; i++)
                printf("%s %u", i == 0 ? "" : ",", v[i]);
        printf(".\n");
        return EXIT_SUCCESS;
}

static int cmd_reissue(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        uint32_t version;
        int r;

        r = bus_call_method(&reply, &e, 0, BROKERD, "ReissueDesktop", "s", args[0]);
        if (r >= 0)
                r = sd_bus_message_read(reply, "u", &version);
        if (r < 0)
                return print_bus_error(&e, r);
        printf("Desktop %s has a fresh disk on its template's version %u.\n", args[0], version);
        return EXIT_SUCCESS;
}

const Verb template_verbs[] = {
        { "isos",              0, 0, cmd_isos },
        { "refresh-isos",      0, 0, cmd_refresh_isos },
        { "register-iso",      1, 1, cmd_register_iso },
        { "unregister-iso",    1, 1, cmd_unregister_iso },
        { "templates",         0, 0, cmd_templates },
        { "template",          1, 1, cmd_template },
        { "register-template", 2, 2, cmd_register_template },
        { "create-template",   3, 3, cmd_create_template },
        { "console",           1, 1, cmd_console },
        { "finish-template",   1, 1, cmd_finish_template },
        { "edit-template",     1, 2, cmd_edit_template },
        { "commit-template",   1, 1, cmd_commit_template },
        { "discard-edit",      1, 1, cmd_discard_edit },
        { "prune-template",    1, 1, cmd_prune_template },
        { "delete-template",   1, 1, cmd_delete_template },
        { "reissue",           1, 1, cmd_reissue },
        {}
};
