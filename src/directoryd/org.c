/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>

#include "bus-error.h"
#include "log.h"
#include "org.h"
#include "util.h"

static bool fk_refused(Manager *m, int r) {
        return r == -EIO && strstr(db_error(m->db), "foreign key constraint fails");
}

static void log_org(const char *message_id, const char *field, const char *object, const char *change,
                    const char *other, uid_t actor) {
        log_event(LOG_INFO, message_id,
                  "%s=%s", field, object,
                  "VDESK_CHANGE=%s", change,
                  "VDESK_OTHER=%s", strempty(other),
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=%s %s: %s%s%s", streq(field, "VDESK_DEPARTMENT") ? "Department" : "Category", object,
                  change, other ? " " : "", strempty(other));
}

/* ---- departments ----------------------------------------------------------- */

void department_list_free(Department *d, size_t n) {
        for (size_t i = 0; i < n && d; i++)
                free(d[i].unit);
        free(d);
}

int department_create(Manager *m, const char *name, const char *unit, uint16_t founded, uid_t actor,
                      sd_bus_error *error) {
        int r;

        r = bus_error_check_name(error, "name", name);
        if (r < 0)
                return r;
        if (strlen(unit) > 255 || !utf8_is_valid(unit))
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid unit: longer than 255 bytes or not UTF-8");
        if (founded != 0 && (founded < 1800 || founded > 2200))
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid founded: %u is not a year (0: not known)",
                                      founded);
        r = db_exec(m->db, "INSERT INTO departments (name, unit, founded) VALUES (?, ?, ?)",
                    (DbValue[]) { DBV_STR(name), DBV_STR(unit), founded ? DBV_UINT(founded) : DBV_NULL }, 3,
                    NULL, NULL, NULL);
        if (r == -EEXIST)
                return bus_error_setf(error, VDESK_ERROR_DEPARTMENT_EXISTS, "Invalid name: department '%s' exists already", name);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        log_org(MID_DEPARTMENT_CHANGED, "VDESK_DEPARTMENT", name, "created", NULL, actor);
        return 0;
}

int department_delete(Manager *m, const char *name, uid_t actor, sd_bus_error *error) {
        uint64_t affected = 0;
        int r;

        r = bus_error_check_name(error, "name", name);
        if (r < 0)
                return r;
        r = db_exec(m->db, "DELETE FROM departments WHERE name = ?", (DbValue[]) { DBV_STR(name) }, 1,
                    NULL, NULL, &affected);
        if (fk_refused(m, r))
                return bus_error_setf(error, VDESK_ERROR_DEPARTMENT_IN_USE,
                                      "Department '%s' still has staff, managers or categories", name);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (affected == 0)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_DEPARTMENT, "No department '%s'", name);
        log_org(MID_DEPARTMENT_CHANGED, "VDESK_DEPARTMENT", name, "deleted", NULL, actor);
        return 0;
}

static int department_row(char *const *c, unsigned n, void *userdata) {
        Department *d = db_rows_push(userdata);

        if (!d)
                return -ENOMEM;
        snprintf(d->name, sizeof d->name, "%s", c[0]);
        d->unit = strdup(c[1]);
        d->founded = c[2] ? (uint16_t) strtoul(c[2], NULL, 10) : 0;
        d->n_members = (uint32_t) strtoul(c[3], NULL, 10);
        d->n_managers = (uint32_t) strtoul(c[4], NULL, 10);
        return d->unit ? 0 : -ENOMEM;
}

#define DEPARTMENT_COLUMNS \
        "d.name, d.unit, d.founded, " \
        "(SELECT COUNT(*) FROM department_members x WHERE x.department_id = d.id), " \
        "(SELECT COUNT(*) FROM department_managers y WHERE y.department_id = d.id) FROM departments d "

int department_list(Manager *m, const char *name, Department **ret, size_t *ret_n, sd_bus_error *error) {
        DbRows rows = { .size = sizeof(Department) };
        int r;

        if (name) {
                r = bus_error_check_name(error, "name", name);
                if (r < 0)
                        return r;
                r = db_exec(m->db, "SELECT " DEPARTMENT_COLUMNS "WHERE d.name = ?", (DbValue[]) { DBV_STR(name) }, 1,
                            department_row, &rows, NULL);
        } else
                r = db_exec(m->db, "SELECT " DEPARTMENT_COLUMNS "ORDER BY d.name", NULL, 0, department_row, &rows, NULL);
        if (r < 0) {
                department_list_free(rows.items, rows.n);
                return db_bus_error(m->db, r, error);
        }
        if (name && rows.n == 0) {
                free(rows.items);
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_DEPARTMENT, "No department '%s'", name);
        }
        *ret = rows.items;
        *ret_n = rows.n;
        return 0;
}

int department_members(Manager *m, const char *department, bool managers, char ***ret_ids, sd_bus_error *error) {
        DbRows ids = { .size = sizeof(char *) };
        uint64_t exists = 0;
        int r;

        r = bus_error_check_name(error, "department", department);
        if (r < 0)
                return r;
        r = db_exec(m->db, "SELECT COUNT(*) FROM departments WHERE name = ?", (DbValue[]) { DBV_STR(department) }, 1,
                    db_row_u64, &exists, NULL);
        if (r >= 0 && exists)
                r = db_exec(m->db, managers ?
                            "SELECT a.name FROM department_managers dm JOIN departments d ON d.id = dm.department_id "
                            "JOIN accounts a ON a.id = dm.account_id WHERE d.name = ? ORDER BY a.name" :
                            "SELECT a.name FROM department_members dm JOIN departments d ON d.id = dm.department_id "
                            "JOIN accounts a ON a.id = dm.account_id WHERE d.name = ? ORDER BY a.name",
                            (DbValue[]) { DBV_STR(department) }, 1, db_row_str, &ids, NULL);
        if (r < 0) {
                strv_free(db_rows_take_strv(&ids));
                return db_bus_error(m->db, r, error);
        }
        if (!exists)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_DEPARTMENT, "No department '%s'", department);
        *ret_ids = db_rows_take_strv(&ids);
        return *ret_ids ? 0 : -ENOMEM;
}

void managed_staff_free(ManagedStaff *s, size_t n) {
        for (size_t i = 0; i < n && s; i++)
                free(s[i].full_name);
        free(s);
}

static int managed_staff_row(char *const *c, unsigned n, void *userdata) {
        ManagedStaff *s = db_rows_push(userdata);

        if (!s)
                return -ENOMEM;
        snprintf(s->department, sizeof s->department, "%s", c[0]);
        snprintf(s->id, sizeof s->id, "%s", c[1]);
        s->full_name = strdup(c[2]);
        return s->full_name ? 0 : -ENOMEM;
}

int managed_staff(Manager *m, const char *manager, ManagedStaff **ret, size_t *ret_n, sd_bus_error *error) {
        DbRows rows = { .size = sizeof(ManagedStaff) };
        int r;

        r = bus_error_check_name(error, "id", manager);
        if (r < 0)
                return r;
        r = db_exec(m->db,
                    "SELECT d.name, a.name, a.full_name FROM department_managers dm "
                    "JOIN accounts me ON me.id = dm.account_id JOIN departments d ON d.id = dm.department_id "
                    "JOIN department_members mb ON mb.department_id = d.id JOIN accounts a ON a.id = mb.account_id "
                    "WHERE me.name = ? ORDER BY d.name, a.name",
                    (DbValue[]) { DBV_STR(manager) }, 1, managed_staff_row, &rows, NULL);
        if (r < 0) {
                managed_staff_free(rows.items, rows.n);
                return db_bus_error(m->db, r, error);
        }
        *ret = rows.items;
        *ret_n = rows.n;
        return 0;
}

/* ---- categories ------------------------------------------------------------- */

/* The id of a category's template or network by name ("" is none: no
 * template yet, or the host's desktop network); NoSuchTemplate or
 * NoSuchNetwork if there is no such one. */
static int referenced_id(Manager *m, const char *field, const char *name, uint64_t *ret, sd_bus_error *error) {
        bool network = streq(field, "network");
        int r;

        *ret = 0;
        if (isempty(name))
                return 0;
        r = bus_error_check_name(error, field, name);
        if (r < 0)
                return r;
        r = db_exec(m->db, network ? "SELECT id FROM networks WHERE name = ?" : "SELECT id FROM templates WHERE name = ?",
                    (DbValue[]) { DBV_STR(name) }, 1, db_row_u64, ret, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (*ret == 0)
                return bus_error_setf(error, network ? VDESK_ERROR_NO_SUCH_NETWORK : VDESK_ERROR_NO_SUCH_TEMPLATE,
                                      "Invalid %s: no %s '%s'", field, field, name);
        return 0;
}

static int check_category(Manager *m, const Category *c, uint64_t *ret_template, uint64_t *ret_network,
                          sd_bus_error *error) {
        int r;

        r = bus_error_check_name(error, "name", c->name);
        if (r >= 0)
                r = referenced_id(m, "template", c->template, ret_template, error);
        if (r >= 0)
                r = referenced_id(m, "network", c->network, ret_network, error);
        return r;
}

#define POLICY_VALUES(c) DBV_UINT((c)->printers), DBV_UINT((c)->drives), DBV_UINT((c)->clipboard), DBV_UINT((c)->usb)

int category_create(Manager *m, const Category *c, uid_t actor, sd_bus_error *error) {
        uint64_t tpl = 0, net = 0;
        int r;

        r = check_category(m, c, &tpl, &net, error);
        if (r < 0)
                return r;
        r = db_exec(m->db,
                    "INSERT INTO categories (name, template_id, network_id, redirect_printers, redirect_drives, "
                    "redirect_clipboard, redirect_usb) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (DbValue[]) { DBV_STR(c->name), tpl ? DBV_UINT(tpl) : DBV_NULL, net ? DBV_UINT(net) : DBV_NULL,
                                  POLICY_VALUES(c) }, 7,
                    NULL, NULL, NULL);
        if (r == -EEXIST)
                return bus_error_setf(error, VDESK_ERROR_CATEGORY_EXISTS, "Invalid name: category '%s' exists already", c->name);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        log_org(MID_CATEGORY_CHANGED, "VDESK_CATEGORY", c->name, "created", NULL, actor);
        return 0;
}

int category_update(Manager *m, const Category *c, uid_t actor, sd_bus_error *error) {
        uint64_t tpl = 0, net = 0, matched = 0;
        int r;

        r = check_category(m, c, &tpl, &net, error);
        if (r < 0)
                return r;
        r = db_exec(m->db,
                    "UPDATE categories SET template_id = ?, network_id = ?, redirect_printers = ?, "
                    "redirect_drives = ?, redirect_clipboard = ?, redirect_usb = ? WHERE name = ?",
                    (DbValue[]) { tpl ? DBV_UINT(tpl) : DBV_NULL, net ? DBV_UINT(net) : DBV_NULL, POLICY_VALUES(c),
                                  DBV_STR(c->name) }, 7, NULL, NULL, &matched);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (matched == 0)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_CATEGORY, "No category '%s'", c->name);
        log_org(MID_CATEGORY_CHANGED, "VDESK_CATEGORY", c->name, "updated", NULL, actor);
        return 0;
}

int category_delete(Manager *m, const char *name, uid_t actor, sd_bus_error *error) {
        uint64_t affected = 0;
        int r;

        r = bus_error_check_name(error, "name", name);
        if (r < 0)
                return r;
        r = db_exec(m->db, "DELETE FROM categories WHERE name = ?", (DbValue[]) { DBV_STR(name) }, 1,
                    NULL, NULL, &affected);
        if (fk_refused(m, r))
                return bus_error_setf(error, VDESK_ERROR_CATEGORY_IN_USE,
                                      "Category '%s' is still linked to departments or managers, or has desktops", name);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (affected == 0)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_CATEGORY, "No category '%s'", name);
        log_org(MID_CATEGORY_CHANGED, "VDESK_CATEGORY", name, "deleted", NULL, actor);
        return 0;
}

static int category_row(char *const *c, unsigned n, void *userdata) {
        Category *k = db_rows_push(userdata);

        if (!k)
                return -ENOMEM;
        snprintf(k->name, sizeof k->name, "%s", c[0]);
        snprintf(k->template, sizeof k->template, "%s", strempty(c[1]));
        snprintf(k->network, sizeof k->network, "%s", strempty(c[2]));
        k->printers = streq(c[3], "1");
        k->drives = streq(c[4], "1");
        k->clipboard = streq(c[5], "1");
        k->usb = streq(c[6], "1");
        return 0;
}

#define CATEGORY_COLUMNS \
        "c.name, t.name, n.name, c.redirect_printers, c.redirect_drives, c.redirect_clipboard, c.redirect_usb " \
        "FROM categories c LEFT JOIN templates t ON t.id = c.template_id LEFT JOIN networks n ON n.id = c.network_id "

int category_list(Manager *m, const char *account, Category **ret, size_t *ret_n, sd_bus_error *error) {
        DbRows rows = { .size = sizeof(Category) };
        int r;

        if (account)
                /* The account's: its departments', and those it manages
                 * as a category manager. */
                r = db_exec(m->db,
                            "SELECT " CATEGORY_COLUMNS "WHERE c.id IN ("
                            "SELECT cd.category_id FROM category_departments cd "
                            "JOIN department_members dm ON dm.department_id = cd.department_id "
                            "JOIN accounts a ON a.id = dm.account_id WHERE a.name = ? "
                            "UNION SELECT cm.category_id FROM category_managers cm "
                            "JOIN accounts a ON a.id = cm.account_id WHERE a.name = ?) ORDER BY c.name",
                            (DbValue[]) { DBV_STR(account), DBV_STR(account) }, 2, category_row, &rows, NULL);
        else
                r = db_exec(m->db, "SELECT " CATEGORY_COLUMNS "ORDER BY c.name", NULL, 0, category_row, &rows, NULL);
        if (r < 0) {
                free(rows.items);
                return db_bus_error(m->db, r, error);
        }
        *ret = rows.items;
        *ret_n = rows.n;
        return 0;
}

/* ---- properties ------------------------------------------------------------- */

static const char *const category_property_table[_CATEGORY_PROPERTY_MAX] = {
        [CATEGORY_POOL_SIZE] = "PoolSize",
        [CATEGORY_POOL_STARTED] = "PoolStarted",
        [CATEGORY_IDLE_STOP_MINUTES] = "IdleStopMinutes",
};

DEFINE_STRING_TABLE_LOOKUP(category_property, CategoryProperty);

/* A pool is a host's worth of desktops at most; a desktop left idle a
 * week is stopped at the latest. */
static const uint32_t category_property_max[_CATEGORY_PROPERTY_MAX] = {
        [CATEGORY_POOL_SIZE] = 1000,
        [CATEGORY_POOL_STARTED] = 1000,
        [CATEGORY_IDLE_STOP_MINUTES] = 7 * 24 * 60,
};

static int category_properties_row(char *const *c, unsigned n, void *userdata) {
        CategoryProperties *p = userdata;

        for (unsigned i = 0; i < n && i < _CATEGORY_PROPERTY_MAX; i++) {
                p->value[i] = (uint32_t) strtoul(c[i], NULL, 10);
                p->set[i] = true;
        }
        return 0;
}

/* for_update: locks the row until the transaction ends */
static int category_read_properties(Manager *m, const char *name, bool for_update, CategoryProperties *ret,
                                    sd_bus_error *error) {
        int r;

        *ret = (CategoryProperties) {};
        r = db_exec(m->db,
                    for_update ?
                    "SELECT pool_size, pool_started, idle_stop_minutes FROM categories WHERE name = ? FOR UPDATE" :
                    "SELECT pool_size, pool_started, idle_stop_minutes FROM categories WHERE name = ?",
                    (DbValue[]) { DBV_STR(name) }, 1, category_properties_row, ret, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (!ret->set[0])
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_CATEGORY, "No category '%s'", name);
        return 0;
}

int category_get_properties(Manager *m, const char *name, CategoryProperties *ret, sd_bus_error *error) {
        int r;

        r = bus_error_check_name(error, "name", name);
        if (r < 0)
                return r;
        return category_read_properties(m, name, false, ret, error);
}

/* What the category's properties become with the change p: *error set
 * if that is out of bounds. */
static int category_merge_properties(CategoryProperties *into, const CategoryProperties *p, sd_bus_error *error) {
        for (CategoryProperty i = 0; i < _CATEGORY_PROPERTY_MAX; i++) {
                if (!p->set[i])
                        continue;
                if (p->value[i] > category_property_max[i])
                        return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                              "Invalid %s=%" PRIu32 ": at most %" PRIu32, category_property_table[i],
                                              p->value[i], category_property_max[i]);
                into->value[i] = p->value[i];
        }
        if (into->value[CATEGORY_POOL_STARTED] > into->value[CATEGORY_POOL_SIZE])
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                      "Invalid PoolStarted=%" PRIu32 ": more than PoolSize=%" PRIu32,
                                      into->value[CATEGORY_POOL_STARTED], into->value[CATEGORY_POOL_SIZE]);
        return 0;
}

int category_set_properties(Manager *m, const char *name, const CategoryProperties *p, uid_t actor,
                            sd_bus_error *error) {
        char what[128] = "";
        CategoryProperties now;
        int r;

        r = bus_error_check_name(error, "name", name);
        if (r < 0)
                return r;
        /* Checked against the row as it is, locked: two changes of the
         * pool's two sizes at once cannot together break their order. */
        r = db_begin(m->db);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = category_read_properties(m, name, true, &now, error);
        if (r >= 0)
                r = category_merge_properties(&now, p, error);
        if (r >= 0) {
                r = db_exec(m->db,
                            "UPDATE categories SET pool_size = ?, pool_started = ?, idle_stop_minutes = ? "
                            "WHERE name = ?",
                            (DbValue[]) { DBV_UINT(now.value[CATEGORY_POOL_SIZE]),
                                          DBV_UINT(now.value[CATEGORY_POOL_STARTED]),
                                          DBV_UINT(now.value[CATEGORY_IDLE_STOP_MINUTES]), DBV_STR(name) }, 4,
                            NULL, NULL, NULL);
                if (r < 0)
                        r = db_bus_error(m->db, r, error);
        }
        if (r >= 0) {
                r = db_commit(m->db);
                if (r < 0)
                        r = db_bus_error(m->db, r, error);
        }
        if (r < 0) {
                db_rollback(m->db);
                return r;
        }

        for (CategoryProperty i = 0; i < _CATEGORY_PROPERTY_MAX; i++)
                if (p->set[i])
                        (void) snprintf(what + strlen(what), sizeof what - strlen(what), "%s%s=%" PRIu32,
                                        what[0] ? " " : "", category_property_table[i], now.value[i]);
        log_org(MID_CATEGORY_CHANGED, "VDESK_CATEGORY", name, "set", what, actor);
        return 0;
}

/* ---- links ------------------------------------------------------------------ */

static const struct {
        const char *what;               /* for messages */
        const char *a_field, *b_field;  /* which names a and b are */
        const char *a_sql, *b_sql;      /* their ids by name */
        const char *role;               /* b must have this role, or NULL */
        const char *insert, *delete;
        const char *message_id, *log_field;
} links[_LINK_MAX] = {
        [LINK_MEMBER] = {
                "member", "department", "account",
                "SELECT id FROM departments WHERE name = ?", "SELECT id FROM accounts WHERE name = ?", NULL,
                "INSERT IGNORE INTO department_members (department_id, account_id) VALUES (?, ?)",
                "DELETE FROM department_members WHERE department_id = ? AND account_id = ?",
                MID_DEPARTMENT_CHANGED, "VDESK_DEPARTMENT",
        },
        [LINK_MANAGER] = {
                "manager", "department", "account",
                "SELECT id FROM departments WHERE name = ?", "SELECT id FROM accounts WHERE name = ?", "manager",
                "INSERT IGNORE INTO department_managers (department_id, account_id) VALUES (?, ?)",
                "DELETE FROM department_managers WHERE department_id = ? AND account_id = ?",
                MID_DEPARTMENT_CHANGED, "VDESK_DEPARTMENT",
        },
        [LINK_CATEGORY_DEPARTMENT] = {
                "department", "category", "department",
                "SELECT id FROM categories WHERE name = ?", "SELECT id FROM departments WHERE name = ?", NULL,
                "INSERT IGNORE INTO category_departments (category_id, department_id) VALUES (?, ?)",
                "DELETE FROM category_departments WHERE category_id = ? AND department_id = ?",
                MID_CATEGORY_CHANGED, "VDESK_CATEGORY",
        },
        [LINK_CATEGORY_MANAGER] = {
                "manager", "category", "account",
                "SELECT id FROM categories WHERE name = ?", "SELECT id FROM accounts WHERE name = ?", "manager",
                "INSERT IGNORE INTO category_managers (category_id, account_id) VALUES (?, ?)",
                "DELETE FROM category_managers WHERE category_id = ? AND account_id = ?",
                MID_CATEGORY_CHANGED, "VDESK_CATEGORY",
        },
};

static int no_such(sd_bus_error *error, const char *field, const char *name) {
        if (streq(field, "department"))
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_DEPARTMENT, "Invalid department: no department '%s'", name);
        if (streq(field, "category"))
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_CATEGORY, "Invalid category: no category '%s'", name);
        return bus_error_setf(error, VDESK_ERROR_NO_SUCH_ACCOUNT, "Invalid account: no account '%s'", name);
}

int org_link(Manager *m, OrgLink link, const char *a, const char *b, bool add, uid_t actor, sd_bus_error *error) {
        uint64_t a_id = 0, b_id = 0, affected = 0, is_role = 1;
        char change[80];
        int r;

        r = bus_error_check_name(error, links[link].a_field, a);
        if (r >= 0)
                r = bus_error_check_name(error, links[link].b_field, b);
        if (r < 0)
                return r;
        r = db_exec(m->db, links[link].a_sql, (DbValue[]) { DBV_STR(a) }, 1, db_row_u64, &a_id, NULL);
        if (r >= 0)
                r = db_exec(m->db, links[link].b_sql, (DbValue[]) { DBV_STR(b) }, 1, db_row_u64, &b_id, NULL);
        if (r >= 0 && links[link].role && b_id)
                r = db_exec(m->db, "SELECT role = ? FROM accounts WHERE id = ?",
                            (DbValue[]) { DBV_STR(links[link].role), DBV_UINT(b_id) }, 2, db_row_u64, &is_role, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (a_id == 0)
                return no_such(error, links[link].a_field, a);
        if (b_id == 0)
                return no_such(error, links[link].b_field, b);
        if (add && !is_role)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid account: '%s' is not a %s", b,
                                      links[link].role);

        r = db_exec(m->db, add ? links[link].insert : links[link].delete,
                    (DbValue[]) { DBV_UINT(a_id), DBV_UINT(b_id) }, 2, NULL, NULL, &affected);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (!add && affected == 0)
                return bus_error_setf(error, VDESK_ERROR_NOT_LINKED, "'%s' is not a %s of %s '%s'", b, links[link].what,
                                      links[link].a_field, a);
        if (affected > 0) {
                snprintf(change, sizeof change, "%s %s", links[link].what, add ? "added" : "removed");
                log_org(links[link].message_id, links[link].log_field, a, change, b, actor);
        }
        return 0;
}
