/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Staff members' desktops. A session token (from SignIn on
 * org.vdesk.directory1) authenticates: the broker asks vdesk-directoryd,
 * without blocking, whose token it is and which categories the account gets
 * desktops from, then lists, opens or restarts that account's desktops only.
 * Opening a category's desktop creates it on first use, from the category's
 * template, and the .rdp file carries the category's redirection policy.
 * A manager's view asks the directory for the staff of the departments the
 * token's account manages instead, and lists their desktops, read-only. */

#include "bus-error.h"
#include "bus-util.h"
#include "desktop.h"
#include "desktop-dbus.h"
#include "log.h"
#include "pool.h"
#include "staff.h"
#include "manager.h"
#include "staff-dbus.h"
#include "util.h"


typedef enum StaffVerb {
        STAFF_LIST,             /* ListMyDesktops */
        STAFF_LIST_DETAILS,     /* ListMyDesktopDetails */
        STAFF_OPEN,             /* OpenMyDesktop */
        STAFF_RESTART,          /* RestartMyDesktop */
        STAFF_LIST_MANAGED,     /* ListManagedDesktops */
} StaffVerb;

typedef struct StaffCall {
        Manager *manager;
        sd_bus_message *msg;    /* the staff member's call, answered later */
        StaffVerb verb;
        char *name;             /* OpenMyDesktop's and RestartMyDesktop's NAME, else NULL */
        uid_t uid;
} StaffCall;

static void staff_call_free(void *p) {
        StaffCall *c = p;

        sd_bus_message_unref(c->msg);
        free(c->name);
        free(c);
}

static int read_categories(sd_bus_message *reply, StaffCategory **ret, size_t *ret_n) {
        DbRows v = { .size = sizeof(StaffCategory) };
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "(sssbbbb)");
        while (r >= 0) {
                StaffCategory c = {}, *slot;
                int p, d, cl, u;

                r = sd_bus_message_read(reply, "(sssbbbb)", &c.name, &c.template, &c.network, &p, &d, &cl, &u);
                if (r <= 0)
                        break;
                c.redirect = (RdpRedirect) { .printers = p, .drives = d, .clipboard = cl, .usb = u };
                slot = db_rows_push(&v);
                if (!slot) {
                        r = -ENOMEM;
                        break;
                }
                *slot = c;
        }
        if (r < 0) {
                free(v.items);
                return r;
        }
        *ret = v.items;
        *ret_n = v.n;
        return 0;
}

static int append_staff_desktop(sd_bus_message *reply, const Desktop *d) {
        return sd_bus_message_append(reply, STAFF_DESKTOP_SIGNATURE, d->name, d->account, d->category, d->template,
                                     d->state, (int64_t) d->state_since_usec, d->host, d->rdp_port);
}

static int reply_my_desktops(StaffCall *c, const char *account, const StaffCategory *cats, size_t n_cats) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = c->manager;
        Desktop *d = NULL;
        size_t n = 0;
        int r;

        r = desktop_list(m, account, &d, &n);
        if (r < 0)
                return sd_bus_reply_method_errorf(c->msg, VDESK_ERROR_DATABASE, "Database failure: %s", db_error(m->db));
        r = sd_bus_message_new_method_return(c->msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', c->verb == STAFF_LIST_DETAILS ?
                                                  STAFF_DESKTOP_SIGNATURE : DESKTOP_SIGNATURE);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = c->verb == STAFF_LIST_DETAILS ? append_staff_desktop(reply, &d[i]) : append_desktop(reply, &d[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        /* the categories a first open would make a desktop from */
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "s");
        for (size_t i = 0; r >= 0 && i < n_cats; i++) {
                bool has = false;

                for (size_t j = 0; j < n && !has; j++)
                        has = streq(d[j].category, cats[i].name);
                if (!has)
                        r = sd_bus_message_append(reply, "s", cats[i].name);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        desktop_list_free(d, n);
        if (r < 0)
                return sd_bus_reply_method_errno(c->msg, r, NULL);
        return sd_bus_send(NULL, reply, NULL);
}

/* An open waiting for its desktop to be made, or powered off for a
 * restart, off the loop. */
typedef struct StaffOpen {
        sd_bus_message *msg;
        RdpRedirect redirect;
        uid_t uid;
        char account[64];
        char host[64];                  /* the desktop's, for a restart's journal entry */
        Desktop to_make;                /* a first open: what it makes if the pool has none */
} StaffOpen;

static void staff_open_free(StaffOpen *o) {
        sd_bus_message_unref(o->msg);
        desktop_done(&o->to_make);
        free(o);
}

/* The open itself, or the error of what came first. */
static void staff_open_continue(StaffOpen *o, Manager *m, const char *name, int r, const sd_bus_error *e) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Desktop d = {};

        if (r >= 0)
                r = desktop_get(m, name, &d, &error);
        if (r >= 0)
                r = desktop_open_reply(m, o->msg, &d, &o->redirect, true, o->uid, &error);
        if (r < 0 && (e || sd_bus_error_is_set(&error)))
                (void) sd_bus_reply_method_error(o->msg, e ?: &error);
        else if (r < 0)
                (void) sd_bus_reply_method_errno(o->msg, r, NULL);
        staff_open_free(o);
}

static void on_mine_created(Manager *m, const char *name, int r, const sd_bus_error *e, void *userdata) {
        staff_open_continue(userdata, m, name, r, e);
}

static void on_mine_powered_off(Manager *m, const char *name, int r, const sd_bus_error *e, void *userdata) {
        StaffOpen *o = userdata;

        if (r > 0)
                staff_log_restarted(o->account, name, o->host, o->uid);
        staff_open_continue(o, m, name, r, e);
}

static int make_mine(Manager *m, StaffOpen *o) {
        const Desktop *d = &o->to_make;

        return desktop_create_async(m, d->name, d->account, d->template, d->category, o->uid, on_mine_created, o);
}

/* A desktop of the pool handed over, or the hand-over failed (undone:
 * one is made instead, as without a pool). */
static void on_mine_taken(Manager *m, const char *name, int r, const sd_bus_error *e, void *userdata) {
        StaffOpen *o = userdata;

        if (r >= 0) {
                staff_open_continue(o, m, name, 0, NULL);
                return;
        }
        log_warning("Cannot hand a desktop of category %s's pool over to %s, making one: %s", o->to_make.category,
                    o->account, e && e->message ? e->message : strerror(-r));
        r = make_mine(m, o);
        if (r < 0)
                staff_open_continue(o, m, name, r, NULL);
}

/* Takes the account's desktop of its category from the category's pool,
 * or makes it (d->id 0), or powers it off for a restart; then opens it. */
static int open_mine_after(StaffCall *c, const char *account, const Desktop *d, const RdpRedirect *redirect) {
        StaffOpen *o = new0(StaffOpen, 1);
        int r;

        if (!o)
                return -ENOMEM;
        *o = (StaffOpen) { .msg = sd_bus_message_ref(c->msg), .redirect = *redirect, .uid = c->uid };
        snprintf(o->account, sizeof o->account, "%s", account);
        snprintf(o->host, sizeof o->host, "%s", d->host);
        if (d->id == 0) {
                /* its names: the strings it points to stay the caller's */
                o->to_make = *d;
                o->to_make.template_path = o->to_make.disk_path = NULL;
                r = pool_take_async(c->manager, account, d->category, c->uid, on_mine_taken, o);
                if (r < 0)
                        log_warning_errno(r, "Cannot hand a desktop of category %s's pool over to %s, making one: %m",
                                          d->category, account);
                if (r <= 0)
                        r = make_mine(c->manager, o);
        } else
                r = desktop_power_off_async(c->manager, d->name, c->uid, on_mine_powered_off, o);
        if (r < 0)
                staff_open_free(o);
        return r;
}

static int open_mine(StaffCall *c, const char *account, const StaffCategory *cats, size_t n_cats,
                     sd_bus_error *error) {
        _cleanup_(desktop_done) Desktop d = {};
        RdpRedirect redirect;
        int r;

        r = staff_desktop_prepare(c->manager, account, c->name, c->verb == STAFF_RESTART, c->uid, cats, n_cats, &d,
                                  &redirect, error);
        if (r < 0)
                return r;
        if (d.id == 0 || c->verb == STAFF_RESTART)
                return open_mine_after(c, account, &d, &redirect);
        return desktop_open_reply(c->manager, c->msg, &d, &redirect, true, c->uid, error);
}

static int on_my_categories(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(freep) StaffCategory *cats = NULL;
        StaffCall *c = userdata;
        const char *account;
        size_t n = 0;
        int r;

        /* InvalidToken and the like: the directory's answer is ours. */
        if (sd_bus_message_is_method_error(reply, NULL))
                return sd_bus_reply_method_error(c->msg, sd_bus_message_get_error(reply));

        r = sd_bus_message_read(reply, "s", &account);
        if (r >= 0)
                r = read_categories(reply, &cats, &n);
        if (r < 0)
                return sd_bus_reply_method_errno(c->msg, r, NULL);
        if (c->verb == STAFF_LIST || c->verb == STAFF_LIST_DETAILS)
                return reply_my_desktops(c, account, cats, n);
        r = open_mine(c, account, cats, n, &error);
        if (r < 0) {
                if (sd_bus_error_is_set(&error))
                        return sd_bus_reply_method_error(c->msg, &error);
                return sd_bus_reply_method_errno(c->msg, r, NULL);
        }
        return 0;
}

/* The desktops of one staff member of a manager's, one row each, or one
 * row without a desktop. Takes d over. */
static int append_managed(sd_bus_message *reply, const char *department, const char *account, const char *full_name,
                          Desktop *d, size_t n) {
        int r = 0;

        if (n == 0)
                r = sd_bus_message_append(reply, MANAGED_DESKTOP_SIGNATURE, department, account, full_name, "", "",
                                          (int64_t) 0);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, MANAGED_DESKTOP_SIGNATURE, department, account, full_name, d[i].name,
                                          d[i].state, (int64_t) d[i].state_since_usec);
        desktop_list_free(d, n);
        return r;
}

static int on_managed_staff(sd_bus_message *dir_reply, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        StaffCall *c = userdata;
        const char *manager, *department, *account, *full_name;
        Desktop *d;
        size_t n;
        int r;

        if (sd_bus_message_is_method_error(dir_reply, NULL))
                return sd_bus_reply_method_error(c->msg, sd_bus_message_get_error(dir_reply));

        r = sd_bus_message_read(dir_reply, "s", &manager);
        if (r >= 0)
                r = sd_bus_message_enter_container(dir_reply, 'a', MANAGED_STAFF_SIGNATURE);
        if (r >= 0)
                r = sd_bus_message_new_method_return(c->msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', MANAGED_DESKTOP_SIGNATURE);
        while (r >= 0) {
                r = sd_bus_message_read(dir_reply, MANAGED_STAFF_SIGNATURE, &department, &account, &full_name);
                if (r <= 0)
                        break;
                r = desktop_list(c->manager, account, &d, &n);
                if (r < 0)
                        return sd_bus_reply_method_errorf(c->msg, VDESK_ERROR_DATABASE, "Database failure: %s",
                                                          db_error(c->manager->db));
                r = append_managed(reply, department, account, full_name, d, n);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return sd_bus_reply_method_errno(c->msg, r, NULL);
        return sd_bus_send(NULL, reply, NULL);
}

static int staff_call(sd_bus_message *msg, Manager *m, StaffVerb verb) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        bool named = verb == STAFF_OPEN || verb == STAFF_RESTART;
        StaffCall *c;
        const char *token, *name = NULL;
        int r;

        r = sd_bus_message_read(msg, "s", &token);
        if (r >= 0 && named)
                r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->manager = m;
        c->verb = verb;
        c->uid = (uid_t) -1;
        (void) bus_sender_uid(msg, &c->uid);
        if (named && !(c->name = strdup(name))) {
                free(c);
                return -ENOMEM;
        }
        if (verb == STAFF_LIST_MANAGED)
                r = sd_bus_call_method_async(m->bus, &slot, DIRECTORYD, "ListManagedStaff", on_managed_staff, c,
                                             "s", token);
        else
                r = sd_bus_call_method_async(m->bus, &slot, DIRECTORYD, "ListMyCategories", on_my_categories, c,
                                             "s", token);
        if (r < 0) {
                staff_call_free(c);
                return r;
        }
        /* The slot owns the call from here: freed after the callback, or
         * with the bus if that goes first. */
        c->msg = sd_bus_message_ref(msg);
        (void) sd_bus_slot_set_destroy_callback(slot, staff_call_free);
        (void) sd_bus_slot_set_floating(slot, true);
        return 1;
}

int method_list_my_desktops(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return staff_call(msg, userdata, STAFF_LIST);
}

int method_list_my_desktop_details(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return staff_call(msg, userdata, STAFF_LIST_DETAILS);
}

int method_open_my_desktop(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return staff_call(msg, userdata, STAFF_OPEN);
}

int method_restart_my_desktop(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return staff_call(msg, userdata, STAFF_RESTART);
}

int method_list_managed_desktops(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return staff_call(msg, userdata, STAFF_LIST_MANAGED);
}
