/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "account.h"
#include "bus-api.h"
#include "bus-error.h"
#include "bus-util.h"
#include "import.h"
#include "manager.h"
#include "manager-dbus.h"
#include "org.h"
#include "polkit.h"
#include "session.h"

/* The admin API: polkit decides, asked without blocking —
 * org.vdesk.directory1.read for what only reads (AUTHORIZED_READ),
 * org.vdesk.directory1.manage for every change (AUTHORIZED; ImportStaff
 * too, even as a dry run: the action is chosen before the arguments are
 * read). The method runs once polkitd said yes. */

#define AUTHORIZED(name) POLKIT_METHOD(name, Manager, DIRECTORYD_ACTION_MANAGE)
#define AUTHORIZED_READ(name) POLKIT_METHOD(name, Manager, DIRECTORYD_ACTION_READ)

static int append_account(sd_bus_message *reply, const Account *a) {
        return sd_bus_message_append(reply, ACCOUNT_SIGNATURE, a->id, a->name, a->role, a->email, a->state,
                                     (int64_t) a->created_usec, (int64_t) a->updated_usec);
}

/* The answer of a method whose model finished later (a worker hashed a
 * password): userdata is the call, referenced until now. Sent from the
 * loop's thread, as every sd-bus call must be. */
static void reply_done(const sd_bus_error *error, const char *token, uint64_t expires_usec, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        if (error) {
                (void) sd_bus_reply_method_error(call, error);
                return;
        }
        r = sd_bus_message_new_method_return(call, &reply);
        if (r >= 0 && token) {
                r = sd_bus_message_sensitive(reply);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "sx", token, (int64_t) expires_usec);
        }
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                (void) sd_bus_reply_method_errno(call, r, NULL);
}

/* For a model call given reply_done and a new reference to msg: r is what
 * it returned. Below 0 it answered nothing and the reference is ours to
 * drop; else reply_done answers (1: the reply is sent later). */
static int answer_later(sd_bus_message *msg, int r) {
        if (r < 0) {
                sd_bus_message_unref(msg);
                return r;
        }
        return 1;
}

AUTHORIZED(create_account) {
        const char *id, *name, *role, *email, *password;
        int r;

        r = sd_bus_message_read(msg, "sssss", &id, &name, &role, &email, &password);
        if (r < 0)
                return r;
        return answer_later(msg, account_create(m, id, name, role, email, password, actor, reply_done,
                                                sd_bus_message_ref(msg), error));
}

/* The methods that take one name and change one thing share this shape. */
typedef int (*NameAction)(Manager *m, const char *name, uid_t actor, sd_bus_error *error);

static int on_name(Manager *m, sd_bus_message *msg, uid_t actor, sd_bus_error *error, NameAction action) {
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = action(m, name, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(delete_account) {
        return on_name(m, msg, actor, error, account_delete);
}

AUTHORIZED_READ(get_account) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *id;
        Account a = {};
        int r;

        r = sd_bus_message_read(msg, "s", &id);
        if (r < 0)
                return r;
        r = account_get(m, id, &a, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_account(reply, &a);
        account_done(&a);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

AUTHORIZED_READ(list_accounts) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *role, *department, *state;
        uint32_t offset, limit;
        Account *a = NULL;
        size_t n = 0;
        uint64_t total = 0;
        int r;

        r = sd_bus_message_read(msg, "sssuu", &role, &department, &state, &offset, &limit);
        if (r < 0)
                return r;
        r = account_list(m, role, department, state, offset, limit, &a, &n, &total, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', ACCOUNT_SIGNATURE);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = append_account(reply, &a[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "t", total);
        account_list_free(a, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* The setters share their shape: (id, value) -> (). */
typedef int (*AccountSetter)(Manager *m, const char *id, const char *value, uid_t actor, sd_bus_error *error);

static int set_field(Manager *m, sd_bus_message *msg, uid_t actor, sd_bus_error *error, AccountSetter set) {
        const char *id, *value;
        int r;

        r = sd_bus_message_read(msg, "ss", &id, &value);
        if (r < 0)
                return r;
        r = set(m, id, value, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(set_account_name) {
        return set_field(m, msg, actor, error, account_set_name);
}

AUTHORIZED(set_account_email) {
        return set_field(m, msg, actor, error, account_set_email);
}

AUTHORIZED(reset_password) {
        const char *id, *password;
        int r;

        r = sd_bus_message_read(msg, "ss", &id, &password);
        if (r < 0)
                return r;
        return answer_later(msg, account_reset_password(m, id, password, actor, reply_done, sd_bus_message_ref(msg),
                                                        error));
}

/* ---- bulk import -------------------------------------------------------- */

typedef struct ImportCall {
        sd_bus *bus;
        const char *caller;
} ImportCall;

/* Progress goes to the importing client alone, as a unicast signal. */
static void import_progress(const char *phase, unsigned done, unsigned total, void *userdata) {
        ImportCall *c = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *s = NULL;

        if (sd_bus_message_new_signal(c->bus, &s, DIRECTORYD_OBJECT_PATH, DIRECTORYD_INTERFACE, "ImportProgress") < 0 ||
            sd_bus_message_set_destination(s, c->caller) < 0 ||
            sd_bus_message_append(s, "suu", phase, done, total) < 0)
                return;
        (void) sd_bus_send(c->bus, s, NULL);
}

AUTHORIZED(import_csv) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        ImportCall call = { .bus = sd_bus_message_get_bus(msg), .caller = sd_bus_message_get_sender(msg) };
        ImportResult res = {};
        const void *data;
        size_t size;
        int dry_run, r;

        r = sd_bus_message_read_array(msg, 'y', &data, &size);
        if (r >= 0)
                r = sd_bus_message_read(msg, "b", &dry_run);
        if (r < 0)
                return r;
        r = import_staff(m, data, size, dry_run, actor, call.caller ? import_progress : NULL, &call, &res, error);
        if (r < 0)
                return r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_sensitive(reply);    /* the codes */
        if (r >= 0)
                r = sd_bus_message_append(reply, "u", res.rows);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(uss)");
        for (size_t i = 0; r >= 0 && i < res.n_problems; i++)
                r = sd_bus_message_append(reply, "(uss)", res.problems[i].line, res.problems[i].field,
                                          res.problems[i].reason);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ss)");
        for (size_t i = 0; r >= 0 && i < res.n_codes; i++)
                r = sd_bus_message_append(reply, "(ss)", res.codes[i].id, res.codes[i].code);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        import_result_done(&res);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* ---- departments and categories ---------------------------------------- */

AUTHORIZED(create_department) {
        const char *name, *unit;
        uint16_t founded;
        int r;

        r = sd_bus_message_read(msg, "ssq", &name, &unit, &founded);
        if (r < 0)
                return r;
        r = department_create(m, name, unit, founded, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(delete_department) {
        return on_name(m, msg, actor, error, department_delete);
}

AUTHORIZED(delete_category) {
        return on_name(m, msg, actor, error, category_delete);
}

static int append_department(sd_bus_message *reply, const Department *d) {
        return sd_bus_message_append(reply, "(ssquu)", d->name, d->unit, d->founded, d->n_members, d->n_managers);
}

AUTHORIZED_READ(list_departments) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Department *d = NULL;
        size_t n = 0;
        int r;

        r = department_list(m, NULL, &d, &n, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssquu)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = append_department(reply, &d[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        department_list_free(d, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* One department with the ids of its managers. */
AUTHORIZED_READ(get_department) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(strv_freep) char **managers = NULL;
        Department *d = NULL;
        const char *name;
        size_t n = 0;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = department_list(m, name, &d, &n, error);
        if (r >= 0)
                r = department_members(m, name, true, &managers, error);
        if (r >= 0)
                r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_department(reply, &d[0]);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, managers);
        department_list_free(d, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

AUTHORIZED_READ(list_department_staff) {
        _cleanup_(strv_freep) char **ids = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = department_members(m, name, false, &ids, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, ids);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int read_category(sd_bus_message *msg, Category *c) {
        const char *name, *template, *network;
        int printers, drives, clipboard, usb, r;

        r = sd_bus_message_read(msg, "sssbbbb", &name, &template, &network, &printers, &drives, &clipboard, &usb);
        if (r < 0)
                return r;
        /* Longer names are refused by the model's checks on the original. */
        *c = (Category) { .printers = printers, .drives = drives, .clipboard = clipboard, .usb = usb };
        if (strlen(name) >= sizeof c->name || strlen(template) >= sizeof c->template ||
            strlen(network) >= sizeof c->network)
                return -E2BIG;
        strcpy(c->name, name);
        strcpy(c->template, template);
        strcpy(c->network, network);
        return 0;
}

static int category_change(Manager *m, sd_bus_message *msg, uid_t actor, sd_bus_error *error, bool create) {
        Category c;
        int r;

        r = read_category(msg, &c);
        if (r == -E2BIG)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid name, template or network: is longer than 63 bytes");
        if (r < 0)
                return r;
        r = create ? category_create(m, &c, actor, error) : category_update(m, &c, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(create_category) {
        return category_change(m, msg, actor, error, true);
}

AUTHORIZED(update_category) {
        return category_change(m, msg, actor, error, false);
}

static int append_categories(sd_bus_message *reply, const Category *c, size_t n) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(sssbbbb)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(sssbbbb)", c[i].name, c[i].template, c[i].network,
                                          c[i].printers, c[i].drives, c[i].clipboard, c[i].usb);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

AUTHORIZED_READ(list_categories) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) Category *c = NULL;
        size_t n = 0;
        int r;

        r = category_list(m, NULL, &c, &n, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_categories(reply, c, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* Reads SetCategoryProperties' a{sv}: each name known, once, a "u". */
static int read_category_properties(sd_bus_message *msg, CategoryProperties *ret, sd_bus_error *error) {
        const char *key;
        int r;

        *ret = (CategoryProperties) {};
        r = sd_bus_message_enter_container(msg, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                CategoryProperty p;

                r = sd_bus_message_read(msg, "s", &key);
                if (r < 0)
                        return r;
                p = category_property_from_string(key);
                if (p < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Invalid property '%s': a category has PoolSize, PoolStarted and "
                                                 "IdleStopMinutes", key);
                if (ret->set[p])
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid %s: given twice", key);
                r = sd_bus_message_enter_container(msg, 'v', "u");
                if (r == -ENXIO)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Invalid %s: expects an unsigned 32-bit count (u)", key);
                if (r >= 0)
                        r = sd_bus_message_read(msg, "u", &ret->value[p]);
                if (r >= 0)
                        r = sd_bus_message_exit_container(msg);
                if (r >= 0)
                        r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        return r;
                ret->set[p] = true;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(msg);
        return r;
}

AUTHORIZED(set_category_properties) {
        CategoryProperties p;
        const char *name;
        bool any = false;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = read_category_properties(msg, &p, error);
        if (r < 0)
                return r;
        for (CategoryProperty i = 0; i < _CATEGORY_PROPERTY_MAX; i++)
                any = any || p.set[i];
        if (!any)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid properties: none given");
        r = category_set_properties(m, name, &p, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED_READ(get_category_properties) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        CategoryProperties p;
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = category_get_properties(m, name, &p, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        for (CategoryProperty i = 0; r >= 0 && i < _CATEGORY_PROPERTY_MAX; i++)
                r = sd_bus_message_append(reply, "{sv}", category_property_to_string(i), "u", p.value[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int link_change(Manager *m, sd_bus_message *msg, uid_t actor, sd_bus_error *error, OrgLink link, bool add) {
        const char *a, *b;
        int r;

        r = sd_bus_message_read(msg, "ss", &a, &b);
        if (r < 0)
                return r;
        r = org_link(m, link, a, b, add, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(add_department_staff) { return link_change(m, msg, actor, error, LINK_MEMBER, true); }
AUTHORIZED(remove_department_staff) { return link_change(m, msg, actor, error, LINK_MEMBER, false); }
AUTHORIZED(add_department_manager) { return link_change(m, msg, actor, error, LINK_MANAGER, true); }
AUTHORIZED(remove_department_manager) { return link_change(m, msg, actor, error, LINK_MANAGER, false); }
AUTHORIZED(link_category_department) { return link_change(m, msg, actor, error, LINK_CATEGORY_DEPARTMENT, true); }
AUTHORIZED(unlink_category_department) { return link_change(m, msg, actor, error, LINK_CATEGORY_DEPARTMENT, false); }
AUTHORIZED(link_category_manager) { return link_change(m, msg, actor, error, LINK_CATEGORY_MANAGER, true); }
AUTHORIZED(unlink_category_manager) { return link_change(m, msg, actor, error, LINK_CATEGORY_MANAGER, false); }

/* ---- staff: no polkit, the password (then the token) authenticates ---- */

/* Who is on the other end, for the journal (the bus vouches for the uid),
 * and the source its sign-ins count against unless it names one: its uid,
 * whichever connection it calls from. */
static void peer_of(sd_bus_message *msg, char buf[static 64], ThrottleSource *ret_source) {
        uid_t uid = (uid_t) -1;

        (void) bus_sender_uid(msg, &uid);
        snprintf(buf, 64, "uid %u (%s)", (unsigned) uid, strempty(sd_bus_message_get_sender(msg)));
        if (ret_source)
                throttle_source_from_uid(uid, ret_source);
}

/* SignInFrom, ActivateFrom: a front end staff reach through (the web
 * portal) names the address each attempt comes from, so that its
 * attempts count against that address instead of against its own uid,
 * which all its users share. Only root, this daemon's user and the
 * portal's may name one. */
static int source_named(sd_bus_message *msg, const char *method, const char *address, ThrottleSource *ret,
                        sd_bus_error *error) {
        char what[64];
        int r;

        snprintf(what, sizeof what, "call %s", method);
        r = bus_check_caller(msg, VDESK_PORTAL_USER, error, what);
        if (r < 0)
                return r;
        if (throttle_source_from_address(address, ret) < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid source: is not an IPv4 or IPv6 address");
        return 0;
}

static int sign_in(sd_bus_message *msg, Manager *m, sd_bus_error *error, const char *from_method) {
        const char *id, *password, *address = NULL;
        ThrottleSource source;
        char peer[64];
        int r;

        r = sd_bus_message_read(msg, "ss", &id, &password);
        if (r >= 0 && from_method)
                r = sd_bus_message_read(msg, "s", &address);
        if (r < 0)
                return r;
        peer_of(msg, peer, &source);
        if (from_method) {
                r = source_named(msg, from_method, address, &source, error);
                if (r < 0)
                        return r;
        }
        return answer_later(msg, session_sign_in(m, id, password, peer, &source, reply_done, sd_bus_message_ref(msg),
                                                 error));
}

static int method_sign_in(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return sign_in(msg, userdata, error, NULL);
}

static int method_sign_in_from(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return sign_in(msg, userdata, error, "SignInFrom");
}

static int method_sign_out(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *token;
        char peer[64];
        int r;

        r = sd_bus_message_read(msg, "s", &token);
        if (r < 0)
                return r;
        peer_of(msg, peer, NULL);
        r = session_sign_out(userdata, token, peer, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_who_am_i(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *token;
        char id[64];
        Account a = {};
        int r;

        r = sd_bus_message_read(msg, "s", &token);
        if (r < 0)
                return r;
        r = session_check(userdata, token, id, error);
        if (r >= 0)
                r = account_get(userdata, id, &a, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_account(reply, &a);
        account_done(&a);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* Reads the token of a call the broker makes for a staff member and
 * starts the reply with the token's account (in ret_id too). */
static int token_reply_new(sd_bus_message *msg, Manager *m, char ret_id[static 64], sd_bus_message **ret,
                           sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *token;
        int r;

        r = sd_bus_message_read(msg, "s", &token);
        if (r < 0)
                return r;
        r = session_check(m, token, ret_id, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", ret_id);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(reply);
        return 0;
}

/* The token's account and the categories it gets desktops from: what the
 * broker asks before it lists or opens a staff member's desktops. */
static int method_list_my_categories(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) Category *c = NULL;
        char id[64];
        size_t n = 0;
        int r;

        r = token_reply_new(msg, userdata, id, &reply, error);
        if (r >= 0)
                r = category_list(userdata, id, &c, &n, error);
        if (r >= 0)
                r = append_categories(reply, c, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* The token's account and the staff of the departments it manages: what
 * the broker asks before it lists a manager's desktops. */
static int method_list_managed_staff(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        ManagedStaff *s = NULL;
        char id[64];
        size_t n = 0;
        int r;

        r = token_reply_new(msg, userdata, id, &reply, error);
        if (r >= 0)
                r = managed_staff(userdata, id, &s, &n, error);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', MANAGED_STAFF_SIGNATURE);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, MANAGED_STAFF_SIGNATURE, s[i].department, s[i].id, s[i].full_name);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        managed_staff_free(s, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* Activate (id, code, new password), ActivateFrom (the same and the
 * source) and ChangePassword (token, old password, new password) -> (). */
typedef int (*PasswordSetter)(Manager *m, const char *who, const char *proof, const char *new_password,
                              const char *peer, const ThrottleSource *source, ManagerDoneFunc done, void *userdata,
                              sd_bus_error *error);

static int set_password(sd_bus_message *msg, Manager *m, sd_bus_error *error, PasswordSetter set,
                        const char *from_method) {
        const char *who, *proof, *password, *address = NULL;
        ThrottleSource source;
        char peer[64];
        int r;

        r = sd_bus_message_read(msg, "sss", &who, &proof, &password);
        if (r >= 0 && from_method)
                r = sd_bus_message_read(msg, "s", &address);
        if (r < 0)
                return r;
        peer_of(msg, peer, &source);
        if (from_method) {
                r = source_named(msg, from_method, address, &source, error);
                if (r < 0)
                        return r;
        }
        return answer_later(msg, set(m, who, proof, password, peer, &source, reply_done, sd_bus_message_ref(msg),
                                     error));
}

static int method_activate(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return set_password(msg, userdata, error, session_activate, NULL);
}

static int method_activate_from(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return set_password(msg, userdata, error, session_activate, "ActivateFrom");
}

static int method_change_password(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return set_password(msg, userdata, error, session_change_password, NULL);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("CreateAccount",
                                SD_BUS_ARGS("s", id, "s", name, "s", role, "s", email, "s", password),
                                SD_BUS_NO_RESULT,
                                method_create_account, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("DeleteAccount",
                                SD_BUS_ARGS("s", id),
                                SD_BUS_NO_RESULT,
                                method_delete_account, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetAccount",
                                SD_BUS_ARGS("s", id),
                                SD_BUS_RESULT(ACCOUNT_SIGNATURE, account),
                                method_get_account, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListAccounts",
                                SD_BUS_ARGS("s", role, "s", department, "s", state, "u", offset, "u", limit),
                                SD_BUS_RESULT("a" ACCOUNT_SIGNATURE, accounts, "t", total),
                                method_list_accounts, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetAccountName",
                                SD_BUS_ARGS("s", id, "s", name),
                                SD_BUS_NO_RESULT,
                                method_set_account_name, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetAccountEmail",
                                SD_BUS_ARGS("s", id, "s", email),
                                SD_BUS_NO_RESULT,
                                method_set_account_email, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ResetPassword",
                                SD_BUS_ARGS("s", id, "s", password),
                                SD_BUS_NO_RESULT,
                                method_reset_password, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("ImportStaff",
                                SD_BUS_ARGS("ay", csv, "b", dry_run),
                                SD_BUS_RESULT("u", rows, "a(uss)", problems, "a(ss)", activation_codes),
                                method_import_csv, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("ImportProgress",
                                SD_BUS_ARGS("s", phase, "u", done, "u", total),
                                0),
        SD_BUS_METHOD_WITH_ARGS("CreateDepartment",
                                SD_BUS_ARGS("s", name, "s", unit, "q", founded),
                                SD_BUS_NO_RESULT,
                                method_create_department, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteDepartment",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_NO_RESULT,
                                method_delete_department, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListDepartments",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(ssquu)", departments),
                                method_list_departments, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetDepartment",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("(ssquu)", department, "as", managers),
                                method_get_department, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListDepartmentStaff",
                                SD_BUS_ARGS("s", department),
                                SD_BUS_RESULT("as", ids),
                                method_list_department_staff, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddDepartmentStaff",
                                SD_BUS_ARGS("s", department, "s", id),
                                SD_BUS_NO_RESULT,
                                method_add_department_staff, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveDepartmentStaff",
                                SD_BUS_ARGS("s", department, "s", id),
                                SD_BUS_NO_RESULT,
                                method_remove_department_staff, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddDepartmentManager",
                                SD_BUS_ARGS("s", department, "s", id),
                                SD_BUS_NO_RESULT,
                                method_add_department_manager, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveDepartmentManager",
                                SD_BUS_ARGS("s", department, "s", id),
                                SD_BUS_NO_RESULT,
                                method_remove_department_manager, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateCategory",
                                SD_BUS_ARGS("s", name, "s", template, "s", network, "b", printers, "b", drives,
                                            "b", clipboard, "b", usb),
                                SD_BUS_NO_RESULT,
                                method_create_category, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UpdateCategory",
                                SD_BUS_ARGS("s", name, "s", template, "s", network, "b", printers, "b", drives,
                                            "b", clipboard, "b", usb),
                                SD_BUS_NO_RESULT,
                                method_update_category, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteCategory",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_NO_RESULT,
                                method_delete_category, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListCategories",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(sssbbbb)", categories),
                                method_list_categories, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetCategoryProperties",
                                SD_BUS_ARGS("s", name, "a{sv}", properties),
                                SD_BUS_NO_RESULT,
                                method_set_category_properties, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetCategoryProperties",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("a{sv}", properties),
                                method_get_category_properties, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("LinkCategoryDepartment",
                                SD_BUS_ARGS("s", category, "s", department),
                                SD_BUS_NO_RESULT,
                                method_link_category_department, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UnlinkCategoryDepartment",
                                SD_BUS_ARGS("s", category, "s", department),
                                SD_BUS_NO_RESULT,
                                method_unlink_category_department, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("LinkCategoryManager",
                                SD_BUS_ARGS("s", category, "s", id),
                                SD_BUS_NO_RESULT,
                                method_link_category_manager, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UnlinkCategoryManager",
                                SD_BUS_ARGS("s", category, "s", id),
                                SD_BUS_NO_RESULT,
                                method_unlink_category_manager, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SignIn",
                                SD_BUS_ARGS("s", id, "s", password),
                                SD_BUS_RESULT("s", token, "x", expires_usec),
                                method_sign_in, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("SignInFrom",
                                SD_BUS_ARGS("s", id, "s", password, "s", source),
                                SD_BUS_RESULT("s", token, "x", expires_usec),
                                method_sign_in_from, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("SignOut",
                                SD_BUS_ARGS("s", token),
                                SD_BUS_NO_RESULT,
                                method_sign_out, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("WhoAmI",
                                SD_BUS_ARGS("s", token),
                                SD_BUS_RESULT(ACCOUNT_SIGNATURE, account),
                                method_who_am_i, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("ListMyCategories",
                                SD_BUS_ARGS("s", token),
                                SD_BUS_RESULT("s", id, "a(sssbbbb)", categories),
                                method_list_my_categories, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("ListManagedStaff",
                                SD_BUS_ARGS("s", token),
                                SD_BUS_RESULT("s", manager_id, "a" MANAGED_STAFF_SIGNATURE, staff),
                                method_list_managed_staff, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("Activate",
                                SD_BUS_ARGS("s", id, "s", activation_code, "s", new_password),
                                SD_BUS_NO_RESULT,
                                method_activate, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("ActivateFrom",
                                SD_BUS_ARGS("s", id, "s", activation_code, "s", new_password, "s", source),
                                SD_BUS_NO_RESULT,
                                method_activate_from, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("ChangePassword",
                                SD_BUS_ARGS("s", token, "s", old_password, "s", new_password),
                                SD_BUS_NO_RESULT,
                                method_change_password, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_VTABLE_END
};

int manager_add_bus_objects(Manager *m) {
        return sd_bus_add_object_vtable(m->bus, NULL, DIRECTORYD_OBJECT_PATH, DIRECTORYD_INTERFACE, manager_vtable, m);
}
