/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vdeskctl's directory commands: accounts, departments, categories and
 * bulk import for admins; sign-in, activation and "my desktops" for staff.
 * Secrets (passwords, activation codes) are read from standard input, one
 * per line, never from the command line where ps would show them; the
 * session token is passed in $VDESK_TOKEN. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "vdeskctl.h"

const char help_directory[] =
        "Directory (admins):\n"
        "  accounts [--role= --department= --state=]   list accounts\n"
        "  account ID                       show one account\n"
        "  create-account ID NAME [--role=staff|manager|admin] [--email=]\n"
        "  delete-account ID\n"
        "  reset-password ID                new password on standard input\n"
        "  import-staff FILE [--dry-run]    import staff from CSV (columns id, name,\n"
        "                                   email, role, department); prints each\n"
        "                                   account's one-time activation code\n"
        "  departments                      list departments\n"
        "  department NAME                  show one, with its managers\n"
        "  create-department NAME [--unit= --founded=YEAR]\n"
        "  delete-department NAME\n"
        "  department-staff NAME\n"
        "  add-staff DEPT ID | remove-staff DEPT ID\n"
        "  add-manager DEPT ID | remove-manager DEPT ID\n"
        "  categories                       list categories\n"
        "  create-category NAME TEMPLATE [--network=] [--redirect=printers,drives,clipboard,usb|none]\n"
        "  update-category NAME TEMPLATE [--network=] [--redirect=...]\n"
        "  delete-category NAME\n"
        "  link-category CATEGORY DEPT | unlink-category CATEGORY DEPT\n"
        "  set-category NAME KEY=COUNT...   PoolSize=, PoolStarted=, IdleStopMinutes=\n"
        "  show-category NAME               its properties\n"
        "Staff:\n"
        "  activate ID                      activation code, then new password, on stdin\n"
        "  sign-in ID                       password on stdin; prints the session token\n"
        "  whoami | sign-out | my-desktops  with the token in $VDESK_TOKEN\n"
        "  open-mine [NAME]                 open my desktop, or my category's (created\n"
        "                                   on first use); --rdp-file= as for open\n"
        "  restart-mine NAME                power my hung desktop off at once and open it\n"
        "                                   again (unsaved work in it is lost)\n"
        "  managed-desktops                 the desktops of the departments I manage\n";

/* One line of standard input, without its line break. */
static int read_secret(const char *what, char *buf, size_t size) {
        size_t l;

        if (isatty(STDIN_FILENO))
                fprintf(stderr, "%s: ", what);
        if (!fgets(buf, (int) size, stdin)) {
                fprintf(stderr, "vdeskctl: expected the %s on standard input\n", what);
                return -EINVAL;
        }
        l = strcspn(buf, "\r\n");
        buf[l] = '\0';
        return 0;
}

static const char *session_token(void) {
        const char *t = getenv("VDESK_TOKEN");

        if (isempty(t)) {
                fprintf(stderr, "vdeskctl: sign in first: VDESK_TOKEN=$(vdeskctl sign-in ID)\n");
                return NULL;
        }
        return t;
}

/* ---- accounts ----------------------------------------------------------- */

static int print_account(sd_bus_message *reply, bool header, bool wide) {
        const char *id, *name, *role, *email, *state;
        int64_t created, updated;
        int r;

        r = sd_bus_message_read(reply, ACCOUNT_SIGNATURE, &id, &name, &role, &email, &state, &created, &updated);
        if (r <= 0)
                return r;
        if (wide)
                printf("     Id: %s\n   Name: %s\n   Role: %s\n  Email: %s\n  State: %s\n", id, name, role,
                       isempty(email) ? "-" : email, state);
        else {
                if (header)
                        printf("%-16s %-8s %-8s %-30s %s\n", "ID", "ROLE", "STATE", "EMAIL", "NAME");
                printf("%-16s %-8s %-8s %-30s %s\n", id, role, state, isempty(email) ? "-" : email, name);
        }
        return 1;
}

static int cmd_accounts(char **args) {
        const uint32_t page = 500;
        uint64_t total = 0, shown = 0;
        int r;

        /* Pages through all that match. */
        for (uint32_t offset = 0;; offset += page) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                unsigned n = 0;

                r = bus_call_method(&reply, &e, 0, DIRECTORYD, "ListAccounts", "sssuu", strempty(arg_role),
                                    strempty(arg_department), strempty(arg_state), offset, page);
                if (r < 0)
                        return print_bus_error(&e, r);
                r = sd_bus_message_enter_container(reply, 'a', ACCOUNT_SIGNATURE);
                while (r >= 0 && (r = print_account(reply, offset == 0 && n == 0, false)) > 0)
                        n++;
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r >= 0)
                        r = sd_bus_message_read(reply, "t", &total);
                if (r < 0)
                        return print_bus_error(NULL, r);
                shown += n;
                if (n < page || shown >= total)
                        break;
        }
        printf("\n%" PRIu64 " account%s.\n", total, total == 1 ? "" : "s");
        return EXIT_SUCCESS;
}

static int cmd_account(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = bus_call_method(&reply, &e, 0, DIRECTORYD, "GetAccount", "s", args[0]);
        if (r < 0)
                return print_bus_error(&e, r);
        r = print_account(reply, false, true);
        return r < 0 ? print_bus_error(NULL, r) : EXIT_SUCCESS;
}

static int cmd_create_account(char **args) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = bus_call_method(NULL, &e, 0, DIRECTORYD, "CreateAccount", "sssss", args[0], args[1],
                            arg_role ?: "staff", strempty(arg_email), "");
        if (r < 0)
                return print_bus_error(&e, r);
        printf("Created account %s; set its password with: vdeskctl reset-password %s\n", args[0], args[0]);
        return EXIT_SUCCESS;
}

static int cmd_delete_account(char **args) {
        return bus_call_simple(DIRECTORYD, "DeleteAccount", "s", args[0], NULL, "Deleted account");
}

static int cmd_reset_password(char **args) {
        char password[1024];
        int r;

        if (read_secret("new password", password, sizeof password) < 0)
                return EXIT_FAILURE;
        r = bus_call_simple(DIRECTORYD, "ResetPassword", "ss", args[0], password, "New password (sessions ended) for");
        explicit_bzero(password, sizeof password);
        return r;
}

/* ---- import ------------------------------------------------------------- */

static int on_progress(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const char *phase;
        uint32_t done, total;

        /* On a terminal one line, redrawn; else a line each. */
        if (sd_bus_message_read(m, "suu", &phase, &done, &total) >= 0)
                fprintf(stderr, isatty(STDERR_FILENO) ? "\r%s: %u of %u rows" : "%s: %u of %u rows\n",
                        phase, done, total);
        return 0;
}

static int cmd_import_staff(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(freep) char *data = NULL;
        const char *id, *code, *field, *reason;
        uint32_t rows, line;
        unsigned problems = 0, codes = 0;
        size_t size = 0;
        int r;

        /* The service refuses more than 16 MiB; a bit more lets it say so. */
        if (streq(args[0], "-"))
                r = read_full_fd(STDIN_FILENO, 32u << 20, &data, &size);
        else
                r = read_full_file(args[0], 32u << 20, &data, &size);
        if (r < 0) {
                fprintf(stderr, "vdeskctl: cannot read %s: %s\n", args[0], strerror(-r));
                return EXIT_FAILURE;
        }

        r = sd_bus_match_signal(vdesk_bus, NULL, DIRECTORYD, "ImportProgress", on_progress, NULL);
        if (r >= 0)
                r = sd_bus_message_new_method_call(vdesk_bus, &m, DIRECTORYD, "ImportStaff");
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', data ?: "", size);
        if (r >= 0)
                r = sd_bus_message_append(m, "b", arg_dry_run);
        if (r < 0)
                return print_bus_error(NULL, r);
        /* Large files take a while: progress arrives while we wait. */
        r = bus_call_message(m, 600 * USEC_PER_SEC, &e, &reply);
        if (isatty(STDERR_FILENO))
                fprintf(stderr, "\r\033[K");
        if (r < 0)
                return print_bus_error(&e, r);

        r = sd_bus_message_read(reply, "u", &rows);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(uss)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(uss)", &line, &field, &reason)) > 0) {
                fprintf(stderr, "%s:%u: %s %s\n", args[0], line, field, reason);
                problems++;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(ss)");
        if (r >= 0 && !arg_dry_run)
                printf("id,activation_code\n");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ss)", &id, &code)) > 0) {
                printf("%s,%s\n", id, code);
                codes++;
        }
        if (r < 0)
                return print_bus_error(NULL, r);
        if (arg_dry_run) {
                fprintf(stderr, "%u rows, %u problem%s%s\n", rows, problems, problems == 1 ? "" : "s",
                        problems ? "; nothing would be imported" : "; the import would take them all");
                return problems ? EXIT_FAILURE : EXIT_SUCCESS;
        }
        fprintf(stderr, "Imported %u accounts. Hand each owner their code once; they set a password with "
                        "vdeskctl activate ID.\n", codes);
        return EXIT_SUCCESS;
}

/* ---- departments --------------------------------------------------------- */

static int cmd_departments(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name, *unit;
        uint16_t founded;
        uint32_t members, managers;
        int r;

        if (bus_call_list(&reply, DIRECTORYD, "ListDepartments", "(ssquu)") < 0)
                return EXIT_FAILURE;
        printf("%-20s %-24s %-7s %-7s %s\n", "DEPARTMENT", "UNIT", "FOUNDED", "STAFF", "MANAGERS");
        while ((r = sd_bus_message_read(reply, "(ssquu)", &name, &unit, &founded, &members, &managers)) > 0) {
                char year[8] = "-";

                if (founded)
                        snprintf(year, sizeof year, "%u", founded);
                printf("%-20s %-24s %-7s %-7u %u\n", name, isempty(unit) ? "-" : unit, year, members, managers);
        }
        return print_list_end(r, 0, NULL);
}

static int cmd_create_department(char **args) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = bus_call_method(NULL, &e, 0, DIRECTORYD, "CreateDepartment", "ssq", args[0], strempty(arg_unit),
                            arg_founded);
        if (r < 0)
                return print_bus_error(&e, r);
        printf("Created department %s.\n", args[0]);
        return EXIT_SUCCESS;
}

static int cmd_department(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(strv_freep) char **managers = NULL;
        const char *name, *unit;
        uint16_t founded;
        uint32_t members, n_managers;
        int r;

        r = bus_call_method(&reply, &e, 0, DIRECTORYD, "GetDepartment", "s", args[0]);
        if (r < 0)
                return print_bus_error(&e, r);
        r = sd_bus_message_read(reply, "(ssquu)", &name, &unit, &founded, &members, &n_managers);
        if (r >= 0)
                r = sd_bus_message_read_strv(reply, &managers);
        if (r < 0)
                return print_bus_error(NULL, r);
        printf("Department: %s\n      Unit: %s\n   Founded: %u\n     Staff: %u\n  Managers:", name,
               isempty(unit) ? "-" : unit, founded, members);
        for (char **i = managers; i && *i; i++)
                printf(" %s", *i);
        printf("%s\n", managers && *managers ? "" : " -");
        return EXIT_SUCCESS;
}

static int cmd_delete_department(char **args) {
        return bus_call_simple(DIRECTORYD, "DeleteDepartment", "s", args[0], NULL, "Deleted department");
}

static int cmd_department_staff(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(strv_freep) char **ids = NULL;
        int r;

        r = bus_call_method(&reply, &e, 0, DIRECTORYD, "ListDepartmentStaff", "s", args[0]);
        if (r < 0)
                return print_bus_error(&e, r);
        r = sd_bus_message_read_strv(reply, &ids);
        if (r < 0)
                return print_bus_error(NULL, r);
        for (char **i = ids; i && *i; i++)
                printf("%s\n", *i);
        return EXIT_SUCCESS;
}

static int cmd_add_staff(char **args) {
        return bus_call_simple(DIRECTORYD, "AddDepartmentStaff", "ss", args[0], args[1], "Added staff to");
}
static int cmd_remove_staff(char **args) {
        return bus_call_simple(DIRECTORYD, "RemoveDepartmentStaff", "ss", args[0], args[1], "Removed staff from");
}
static int cmd_add_manager(char **args) {
        return bus_call_simple(DIRECTORYD, "AddDepartmentManager", "ss", args[0], args[1], "Added a manager to");
}
static int cmd_remove_manager(char **args) {
        return bus_call_simple(DIRECTORYD, "RemoveDepartmentManager", "ss", args[0], args[1], "Removed a manager from");
}

/* ---- categories ---------------------------------------------------------- */

/* The POOL column: "RUNNING/SIZE up" from the broker's ListPools, where
 * the category has a pool; "-" where it has none or the broker does not
 * answer (the directory's listing stands without it). */
static void category_pool(sd_bus_message *pools, const char *category, char ret[static 32]) {
        const char *name;
        uint32_t size, started, made, running;

        snprintf(ret, 32, "-");
        if (!pools || sd_bus_message_rewind(pools, true) < 0 ||
            sd_bus_message_enter_container(pools, 'a', POOL_SIGNATURE) < 0)
                return;
        while (sd_bus_message_read(pools, POOL_SIGNATURE, &name, &size, &started, &made, &running) > 0)
                if (streq(name, category)) {
                        snprintf(ret, 32, "%" PRIu32 "/%" PRIu32 " up%s", running, size,
                                 made < size ? ", filling" : made > size ? ", shrinking" : "");
                        return;
                }
}

static int cmd_categories(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *pools = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *name, *template, *network;
        char pool[32];
        int p, d, c, u, r;

        if (bus_call_list(&reply, DIRECTORYD, "ListCategories", "(sssbbbb)") < 0)
                return EXIT_FAILURE;
        if (bus_call_method(&pools, &e, 0, BROKERD, "ListPools", NULL) < 0)
                pools = sd_bus_message_unref(pools);
        printf("%-20s %-16s %-16s %-14s %s\n", "CATEGORY", "TEMPLATE", "NETWORK", "POOL", "REDIRECT");
        while ((r = sd_bus_message_read(reply, "(sssbbbb)", &name, &template, &network, &p, &d, &c, &u)) > 0) {
                category_pool(pools, name, pool);
                printf("%-20s %-16s %-16s %-14s %s%s%s%s%s\n", name, isempty(template) ? "-" : template,
                       isempty(network) ? "-" : network, pool, p ? "printers " : "", d ? "drives " : "",
                       c ? "clipboard " : "", u ? "usb" : "", !(p || d || c || u) ? "none" : "");
        }
        return print_list_end(r, 0, NULL);
}

/* --redirect=printers,drives,clipboard,usb or none; without it, all but USB. */
static int parse_redirect(int ret[4]) {
        static const char *const names[4] = { "printers", "drives", "clipboard", "usb" };
        _cleanup_(freep) char *copy = NULL;
        char *save = NULL;

        ret[0] = ret[1] = ret[2] = !arg_redirect;
        ret[3] = 0;
        if (!arg_redirect || streq(arg_redirect, "none"))
                return 0;
        copy = strdup(arg_redirect);
        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                size_t i;

                for (i = 0; i < 4 && !streq(w, names[i]); i++)
                        ;
                if (i == 4) {
                        fprintf(stderr, "vdeskctl: --redirect= takes printers, drives, clipboard, usb or none\n");
                        return -EINVAL;
                }
                ret[i] = 1;
        }
        return 0;
}

static int category_change(const char *method, char **args) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int p[4], r;

        if (parse_redirect(p) < 0)
                return EXIT_FAILURE;
        r = bus_call_method(NULL, &e, 0, DIRECTORYD, method, "sssbbbb", args[0], args[1], strempty(arg_network),
                            p[0], p[1], p[2], p[3]);
        if (r < 0)
                return print_bus_error(&e, r);
        printf("%s category %s.\n", streq(method, "CreateCategory") ? "Created" : "Updated", args[0]);
        return EXIT_SUCCESS;
}

static int cmd_create_category(char **args) { return category_change("CreateCategory", args); }
static int cmd_update_category(char **args) { return category_change("UpdateCategory", args); }
static int cmd_delete_category(char **args) {
        return bus_call_simple(DIRECTORYD, "DeleteCategory", "s", args[0], NULL, "Deleted category");
}
static int cmd_link_category(char **args) {
        return bus_call_simple(DIRECTORYD, "LinkCategoryDepartment", "ss", args[0], args[1], "Linked a department to");
}
static int cmd_unlink_category(char **args) {
        return bus_call_simple(DIRECTORYD, "UnlinkCategoryDepartment", "ss", args[0], args[1],
                               "Unlinked a department from");
}

/* set-category NAME Key=VALUE...: as systemctl set-property, a count for
 * each; the service checks names and bounds. */
static int cmd_set_category(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_message_new_method_call(vdesk_bus, &m, DIRECTORYD, "SetCategoryProperties");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", args[0]);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        for (char **a = args + 1; r >= 0 && *a; a++) {
                const char *eq = strchr(*a, '=');
                _cleanup_(freep) char *key = NULL;
                unsigned long value;

                if (!eq || parse_uint_max(eq + 1, UINT32_MAX, &value) < 0) {
                        fprintf(stderr, "vdeskctl: '%s' is not KEY=COUNT (e.g. PoolSize=5)\n", *a);
                        return EXIT_FAILURE;
                }
                key = strndup(*a, eq - *a);
                if (!key)
                        return print_bus_error(NULL, -ENOMEM);
                r = sd_bus_message_append(m, "{sv}", key, "u", (uint32_t) value);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = bus_call_message(m, 0, &e, NULL);
        if (r < 0)
                return print_bus_error(&e, r);
        printf("Set the properties of category %s.\n", args[0]);
        return EXIT_SUCCESS;
}

static int cmd_show_category(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        unsigned n;
        int r;

        r = bus_call_method(&reply, &e, 0, DIRECTORYD, "GetCategoryProperties", "s", args[0]);
        if (r < 0)
                return print_bus_error(&e, r);
        r = print_properties(reply, "\n", &n);
        if (r < 0)
                return print_bus_error(NULL, r);
        if (n > 0)
                putchar('\n');
        return EXIT_SUCCESS;
}

const Verb directory_verbs[] = {
        { "accounts",          0, 0, cmd_accounts },
        { "account",           1, 1, cmd_account },
        { "create-account",    2, 2, cmd_create_account },
        { "delete-account",    1, 1, cmd_delete_account },
        { "reset-password",    1, 1, cmd_reset_password },
        { "import-staff",      1, 1, cmd_import_staff },
        { "departments",       0, 0, cmd_departments },
        { "department",        1, 1, cmd_department },
        { "create-department", 1, 1, cmd_create_department },
        { "delete-department", 1, 1, cmd_delete_department },
        { "department-staff",  1, 1, cmd_department_staff },
        { "add-staff",         2, 2, cmd_add_staff },
        { "remove-staff",      2, 2, cmd_remove_staff },
        { "add-manager",       2, 2, cmd_add_manager },
        { "remove-manager",    2, 2, cmd_remove_manager },
        { "categories",        0, 0, cmd_categories },
        { "create-category",   2, 2, cmd_create_category },
        { "update-category",   2, 2, cmd_update_category },
        { "delete-category",   1, 1, cmd_delete_category },
        { "link-category",     2, 2, cmd_link_category },
        { "unlink-category",   2, 2, cmd_unlink_category },
        { "set-category",      2, 64, cmd_set_category },
        { "show-category",     1, 1, cmd_show_category },
        {}
};

/* ---- staff --------------------------------------------------------------- */

static int cmd_activate(char **args) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        char code[128], password[1024];
        int r;

        if (read_secret("activation code", code, sizeof code) < 0 ||
            read_secret("new password", password, sizeof password) < 0)
                return EXIT_FAILURE;
        r = bus_call_method(NULL, &e, 0, DIRECTORYD, "Activate", "sss", args[0], code, password);
        explicit_bzero(code, sizeof code);
        explicit_bzero(password, sizeof password);
        if (r < 0)
                return print_bus_error(&e, r);
        printf("Activated; sign in with vdeskctl sign-in %s.\n", args[0]);
        return EXIT_SUCCESS;
}

static int cmd_sign_in(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        char password[1024];
        const char *t;
        int64_t expires;
        int r;

        if (read_secret("password", password, sizeof password) < 0)
                return EXIT_FAILURE;
        r = bus_call_method(&reply, &e, 0, DIRECTORYD, "SignIn", "ss", args[0], password);
        explicit_bzero(password, sizeof password);
        if (r < 0)
                return print_bus_error(&e, r);
        r = sd_bus_message_read(reply, "sx", &t, &expires);
        if (r < 0)
                return print_bus_error(NULL, r);
        printf("%s\n", t);
        return EXIT_SUCCESS;
}

static int cmd_sign_out(char **args) {
        const char *t = session_token();

        int r;

        if (!t)
                return EXIT_FAILURE;
        /* Not "DONE A.": A is the token. */
        r = bus_call_simple(DIRECTORYD, "SignOut", "s", t, NULL, NULL);
        if (r == EXIT_SUCCESS)
                printf("Signed out.\n");
        return r;
}

static int cmd_whoami(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *t = session_token();
        int r;

        if (!t)
                return EXIT_FAILURE;
        r = bus_call_method(&reply, &e, 0, DIRECTORYD, "WhoAmI", "s", t);
        if (r < 0)
                return print_bus_error(&e, r);
        r = print_account(reply, false, true);
        return r < 0 ? print_bus_error(NULL, r) : EXIT_SUCCESS;
}

static int cmd_my_desktops(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *t = session_token(), *category;
        DesktopRow d;
        int r;

        if (!t)
                return EXIT_FAILURE;
        r = bus_call_method(&reply, &e, 0, BROKERD, "ListMyDesktops", "s", t);
        if (r < 0)
                return print_bus_error(&e, r);
        r = sd_bus_message_enter_container(reply, 'a', DESKTOP_SIGNATURE);
        if (r >= 0)
                print_desktop_header();
        while (r >= 0 && (r = read_desktop_row(reply, &d)) > 0)
                print_desktop_row(&d);
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "s");
        while (r >= 0 && (r = sd_bus_message_read(reply, "s", &category)) > 0)
                printf("(category %s: a desktop is made on first open-mine %s)\n", category, category);
        return r < 0 ? print_bus_error(NULL, r) : EXIT_SUCCESS;
}

/* OpenMyDesktop and RestartMyDesktop: both answer once the guest does. */
static int open_mine(const char *method, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *t = session_token(), *desktop, *host, *rdp, *command;
        uint16_t port;
        int r;

        if (!t)
                return EXIT_FAILURE;
        r = bus_call_method(&reply, &e, open_timeout_usec(), BROKERD, method, "ss", t, name);
        if (r < 0)
                return print_bus_error(&e, r);
        r = sd_bus_message_read(reply, "ssqss", &desktop, &host, &port, &rdp, &command);
        if (r < 0)
                return print_bus_error(NULL, r);
        return print_opened(desktop, host, port, rdp, command);
}

static int cmd_open_mine(char **args) {
        return open_mine("OpenMyDesktop", args[0] ?: "");
}

static int cmd_restart_mine(char **args) {
        return open_mine("RestartMyDesktop", args[0]);
}

static int cmd_managed_desktops(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *t = session_token(), *department, *account, *name, *desktop, *state;
        int64_t since;
        char when[64];
        int r;

        if (!t)
                return EXIT_FAILURE;
        r = bus_call_method(&reply, &e, 0, BROKERD, "ListManagedDesktops", "s", t);
        if (r < 0)
                return print_bus_error(&e, r);
        r = sd_bus_message_enter_container(reply, 'a', MANAGED_DESKTOP_SIGNATURE);
        if (r >= 0)
                printf("%-16s %-16s %-20s %-8s %-23s %s\n", "DEPARTMENT", "ACCOUNT", "DESKTOP", "STATE", "SINCE",
                       "NAME");
        while (r >= 0 && (r = sd_bus_message_read(reply, MANAGED_DESKTOP_SIGNATURE, &department, &account, &name,
                                                  &desktop, &state, &since)) > 0) {
                if (since > 0)
                        format_timestamp_utc((unsigned long long) since, when, sizeof when);
                else
                        snprintf(when, sizeof when, "-");
                printf("%-16s %-16s %-20s %-8s %-23s %s\n", department, account, isempty(desktop) ? "-" : desktop,
                       isempty(state) ? "-" : state, when, name);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        return r < 0 ? print_bus_error(NULL, r) : EXIT_SUCCESS;
}

const Verb staff_verbs[] = {
        { "activate",    1, 1, cmd_activate },
        { "sign-in",     1, 1, cmd_sign_in },
        { "sign-out",    0, 0, cmd_sign_out },
        { "whoami",      0, 0, cmd_whoami },
        { "my-desktops", 0, 0, cmd_my_desktops },
        { "open-mine",   0, 1, cmd_open_mine },
        { "restart-mine", 1, 1, cmd_restart_mine },
        { "managed-desktops", 0, 0, cmd_managed_desktops },
        {}
};
