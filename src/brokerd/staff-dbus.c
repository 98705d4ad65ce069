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
#include "manager.h"
#include "sha256.h"
#include "staff-dbus.h"
#include "util.h"


typedef struct StaffCategory {
        const char *name, *template, *network;  /* point into the directory's reply */
        RdpRedirect redirect;
} StaffCategory;

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

static const StaffCategory *find_category(const StaffCategory *c, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(c[i].name, name))
                        return &c[i];
        return NULL;
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

/* The name a category's desktop gets: CATEGORY-ACCOUNT, or, where that is
 * too long or taken by another desktop, "d-" and 16 hex digits of a hash
 * of both. */
static void category_desktop_name(Manager *m, const char *account, const char *category, char ret[static 64]) {
        Desktop other = {};
        char buf[128], hex[SHA256_HEX_SIZE];
        int k;

        k = snprintf(ret, 64, "%s-%s", category, account);
        if (k > 0 && k < 64 && name_is_valid(ret)) {
                if (desktop_get(m, ret, &other, NULL) < 0)
                        return;                 /* free */
                desktop_done(&other);
        }
        k = snprintf(buf, sizeof buf, "%s/%s", account, category);
        sha256_hex(buf, (size_t) MAX(k, 0), hex);
        snprintf(ret, 64, "d-%.16s", hex);
}

static void log_refused(const char *account, const char *verb, const char *desktop, const char *owner, uid_t uid) {
        log_event(LOG_NOTICE, MID_ACCESS_DENIED,
                  "VDESK_ACCOUNT=%s", account,
                  "VDESK_DESKTOP=%s", desktop,
                  "VDESK_OWNER=%s", owner,
                  "VDESK_ACTOR_UID=%u", (unsigned) uid,
                  "MESSAGE=%s may not %s desktop %s (it is %s's)", account, verb, desktop, owner);
}

/* Which desktop of the account's (in mine) name means, or which of its
 * categories; NotYourDesktop, NoSuchDesktop or InvalidArgs if neither. */
static int pick(StaffCall *c, const char *account, Desktop *mine, size_t n, const StaffCategory *cats,
                size_t n_cats, Desktop **ret_desktop, const StaffCategory **ret_cat, sd_bus_error *error) {
        const char *name = c->name;
        Desktop other = {};
        int r;

        *ret_desktop = NULL;
        *ret_cat = NULL;
        if (isempty(name)) {
                /* Without a name: the one desktop, or the one category. */
                if (n == 1 && (n_cats == 0 || (n_cats == 1 && streq(mine[0].category, cats[0].name))))
                        *ret_desktop = &mine[0];
                else if (n == 0 && n_cats == 1)
                        *ret_cat = &cats[0];
                else
                        return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                              "Invalid name: %s has %zu desktops and %zu categories; name one",
                                              account, n, n_cats);
                return 0;
        }

        r = bus_error_check_name(error, "name", name);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (streq(mine[i].name, name)) {
                        *ret_desktop = &mine[i];
                        return 0;
                }
        *ret_cat = find_category(cats, n_cats, name);
        if (*ret_cat)
                return 0;

        /* Neither: someone else's desktop, or nothing at all. */
        r = desktop_get(c->manager, name, &other, error);
        if (r == -ENOENT) {
                sd_bus_error_free(error);
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_DESKTOP,
                                      "Invalid name: %s has no desktop and no category '%s'", account, name);
        }
        if (r < 0)
                return r;
        log_refused(account, c->verb == STAFF_RESTART ? "restart" : "open", other.name, other.account, c->uid);
        desktop_done(&other);
        return bus_error_setf(error, VDESK_ERROR_NOT_YOUR_DESKTOP, "Desktop '%s' is not one of %s's", name, account);
}

/* A running desktop is powered off at once: a hung guest does not answer
 * ACPI. 1 if it was running, 0 if it was not; NotReady if it has no domain
 * yet. */
static int power_off(StaffCall *c, const Desktop *d, sd_bus_error *error) {
        VirtDomainState state;
        Host *h;
        int r;

        h = host_for_desktop(c->manager, d->host_id, d->name, error);
        if (!h)
                return -EHOSTDOWN;
        r = virt_domain_get_state(h->virt, d->name, &state);
        if (r == -ENOTCONN)
                return bus_error_setf(error, VDESK_ERROR_HOST_DOWN, "Host %s of desktop %s is down", h->name, d->name);
        if (r == -ENOENT)
                return bus_error_setf(error, VDESK_ERROR_NOT_READY, "Desktop %s has no domain on %s yet; try again later",
                                      d->name, h->name);
        if (r < 0)
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot look up the domain of %s", d->name);
        if (state != VIRT_DOMAIN_RUNNING)
                return 0;
        r = desktop_stop(c->manager, d, true, c->uid, error);
        if (r < 0)
                return r;
        return 1;
}

static int open_mine(StaffCall *c, const char *account, const StaffCategory *cats, size_t n_cats,
                     sd_bus_error *error) {
        Manager *m = c->manager;
        RdpRedirect redirect = {
                .printers = m->config.redirect_printers,
                .drives = m->config.redirect_drives,
                .clipboard = m->config.redirect_clipboard,
        };
        const StaffCategory *cat = NULL;
        Desktop *mine = NULL, *pick_d = NULL, d = {};
        char name[sizeof d.name], host[sizeof d.host];
        bool restarted = false;
        size_t n = 0;
        int r;

        /* The account's desktops, once: what a name or category refers to. */
        r = desktop_list(m, account, &mine, &n);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = pick(c, account, mine, n, cats, n_cats, &pick_d, &cat, error);
        for (size_t i = 0; r >= 0 && cat && !pick_d && i < n; i++)
                if (streq(mine[i].category, cat->name))
                        pick_d = &mine[i];      /* the category's, made before */
        if (pick_d) {
                d = *pick_d;
                *pick_d = (Desktop) {};
        }
        desktop_list_free(mine, n);
        if (r < 0)
                return r;

        if (d.id == 0 && c->verb == STAFF_RESTART)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_DESKTOP,
                                      "Invalid name: %s has no desktop of category %s yet; open it first", account,
                                      cat->name);
        if (d.id == 0) {
                char dname[64];

                if (isempty(cat->template))
                        return bus_error_setf(error, VDESK_ERROR_NO_SUCH_TEMPLATE,
                                              "Category %s names no template yet; ask an admin", cat->name);
                category_desktop_name(m, account, cat->name, dname);
                r = desktop_create(m, dname, account, cat->template, cat->name, c->uid, &d, error);
                if (r < 0)
                        return r;
        }
        if (!cat && !isempty(d.category))
                cat = find_category(cats, n_cats, d.category);
        if (cat)
                redirect = cat->redirect;
        if (c->verb == STAFF_RESTART) {
                r = power_off(c, &d, error);
                if (r < 0) {
                        desktop_done(&d);
                        return r;
                }
                restarted = r > 0;
        }
        /* d is the open's from here */
        snprintf(name, sizeof name, "%s", d.name);
        snprintf(host, sizeof host, "%s", d.host);
        r = desktop_open_reply(m, c->msg, &d, &redirect, true, c->uid, error);
        if (r >= 0 && restarted)
                log_event(LOG_INFO, MID_DESKTOP_RESTARTED,
                          "VDESK_DESKTOP=%s", name,
                          "VDESK_ACCOUNT=%s", account,
                          "VDESK_HOST=%s", host,
                          "VDESK_ACTOR_UID=%u", (unsigned) c->uid,
                          "MESSAGE=Desktop %s restarted by %s: powered off and started again", name, account);
        return r;
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
