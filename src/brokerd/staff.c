/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-error.h"
#include "log.h"
#include "pool.h"
#include "sha256.h"
#include "staff.h"
#include "util.h"

const StaffCategory *staff_category_find(const StaffCategory *c, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(c[i].name, name))
                        return &c[i];
        return NULL;
}

void staff_desktop_name(Manager *m, const char *account, const char *category, char ret[static 64]) {
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
static int pick(Manager *m, const char *account, const char *name, bool restart, uid_t uid, Desktop *mine,
                size_t n, const StaffCategory *cats, size_t n_cats, Desktop **ret_desktop,
                const StaffCategory **ret_cat, sd_bus_error *error) {
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
        *ret_cat = staff_category_find(cats, n_cats, name);
        if (*ret_cat)
                return 0;

        /* Neither: someone else's desktop, or nothing at all. */
        r = desktop_get(m, name, &other, error);
        if (r == -ENOENT) {
                sd_bus_error_free(error);
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_DESKTOP,
                                      "Invalid name: %s has no desktop and no category '%s'", account, name);
        }
        if (r < 0)
                return r;
        log_refused(account, restart ? "restart" : "open", other.name, other.account, uid);
        desktop_done(&other);
        return bus_error_setf(error, VDESK_ERROR_NOT_YOUR_DESKTOP, "Desktop '%s' is not one of %s's", name, account);
}

/* The desktop name means (made from its category on first use, not for
 * a restart) and the category it was made from, if any. */
static int staff_desktop_find(Manager *m, const char *account, const char *name, bool restart, uid_t uid,
                              const StaffCategory *cats, size_t n_cats, Desktop *ret,
                              const StaffCategory **ret_cat, sd_bus_error *error) {
        const StaffCategory *cat = NULL;
        Desktop *mine = NULL, *pick_d = NULL, d = {};
        size_t n = 0;
        int r;

        /* The account's desktops, once: what a name or category refers to. */
        r = desktop_list(m, account, &mine, &n);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = pick(m, account, name, restart, uid, mine, n, cats, n_cats, &pick_d, &cat, error);
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

        if (d.id == 0 && restart)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_DESKTOP,
                                      "Invalid name: %s has no desktop of category %s yet; open it first", account,
                                      cat->name);
        if (d.id == 0) {
                _cleanup_(sd_bus_error_free) sd_bus_error pe = SD_BUS_ERROR_NULL;
                char dname[64];

                if (isempty(cat->template))
                        return bus_error_setf(error, VDESK_ERROR_NO_SUCH_TEMPLATE,
                                              "Category %s names no template yet; ask an admin", cat->name);

                /* one made ahead if the category's pool has one free,
                 * else one made now; a hand-over that failed changed
                 * nothing, and the open goes on as without a pool */
                r = pool_take(m, account, cat->name, uid, &d, &pe);
                if (r < 0)
                        log_warning("Cannot hand a desktop of category %s's pool over to %s, making one: %s",
                                    cat->name, account, pe.message ?: strerror(-r));
                if (r <= 0) {
                        staff_desktop_name(m, account, cat->name, dname);
                        r = desktop_create(m, dname, account, cat->template, cat->name, uid, &d, error);
                        if (r < 0)
                                return r;
                }
        }
        if (!cat && !isempty(d.category))
                cat = staff_category_find(cats, n_cats, d.category);
        *ret = d;
        *ret_cat = cat;
        return 0;
}

int staff_desktop_prepare(Manager *m, const char *account, const char *name, bool restart, uid_t uid,
                          const StaffCategory *cats, size_t n_cats, Desktop *ret, RdpRedirect *ret_redirect,
                          bool *ret_restarted, sd_bus_error *error) {
        const StaffCategory *cat = NULL;
        Desktop d = {};
        int r;

        r = staff_desktop_find(m, account, name, restart, uid, cats, n_cats, &d, &cat, error);
        if (r < 0)
                return r;
        *ret_restarted = false;
        if (restart) {
                r = desktop_power_off(m, &d, uid, error);
                if (r < 0) {
                        desktop_done(&d);
                        return r;
                }
                *ret_restarted = r > 0;
        }
        *ret_redirect = cat ? cat->redirect : (RdpRedirect) {
                .printers = m->config.redirect_printers,
                .drives = m->config.redirect_drives,
                .clipboard = m->config.redirect_clipboard,
        };
        *ret = d;
        return 0;
}

void staff_log_restarted(const char *account, const char *desktop, const char *host, uid_t uid) {
        log_event(LOG_INFO, MID_DESKTOP_RESTARTED,
                  "VDESK_DESKTOP=%s", desktop,
                  "VDESK_ACCOUNT=%s", account,
                  "VDESK_HOST=%s", host,
                  "VDESK_ACTOR_UID=%u", (unsigned) uid,
                  "MESSAGE=Desktop %s restarted by %s: powered off and started again", desktop, account);
}
