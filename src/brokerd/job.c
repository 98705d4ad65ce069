/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-error.h"
#include "desktop.h"
#include "job.h"
#include "log.h"
#include "staff.h"
#include "util.h"
#include "worker.h"

static const char *const job_kind_table[_JOB_KIND_MAX] = {
        [JOB_CREATE_DESKTOPS] = "create-desktops",
        [JOB_CREATE_DEPARTMENT_DESKTOPS] = "create-department-desktops",
        [JOB_START_DESKTOPS] = "start-desktops",
        [JOB_STOP_DESKTOPS] = "stop-desktops",
        [JOB_REISSUE_DESKTOPS] = "reissue-desktops",
};

const char *job_kind_to_string(JobKind k) {
        return k >= 0 && k < _JOB_KIND_MAX ? job_kind_table[k] : NULL;
}

static Job *job_free(Job *j) {
        if (!j)
                return NULL;
        sd_event_source_disable_unref(j->step);
        strv_free(j->items);
        for (size_t i = 0; i < j->n_failures; i++) {
                free(j->failures[i].item);
                free(j->failures[i].error_name);
                free(j->failures[i].message);
        }
        free(j->failures);
        free(j);
        return NULL;
}

Job *job_by_name(Manager *m, const char *name) {
        for (Job *j = m->jobs; j; j = j->next_job)
                if (streq(j->name, name))
                        return j;
        return NULL;
}

const char *job_state(const Job *j) {
        return j->result ?: j->cancelled ? "canceling" : "running";
}

const char *job_current(const Job *j) {
        return !j->result && j->next < j->n_items ? j->items[j->next] : "";
}

/* ---- what a job is about ----------------------------------------------------------- */

/* A department's desktops: its members' made from a category linked to
 * it, and those made without a category (by an admin). One parameter: the
 * department's id. */
#define DEPARTMENT_DESKTOPS \
        "SELECT d.name FROM desktops d JOIN department_members dm ON dm.account_id = d.account_id " \
        "WHERE dm.department_id = ? AND (d.category_id IS NULL OR d.category_id IN " \
        "(SELECT cd.category_id FROM category_departments cd WHERE cd.department_id = dm.department_id)) "

/* The SQL of a kind's items (one parameter: the target's id) and of its
 * target's id (one parameter: its name), with the error for none. */
static const struct {
        const char *target_sql;
        const char *target_error;
        const char *target_what;
        const char *items_sql;
} job_queries[_JOB_KIND_MAX] = {
        [JOB_CREATE_DESKTOPS] = {
                "SELECT id FROM categories WHERE name = ?", VDESK_ERROR_NO_SUCH_CATEGORY, "category",
                /* the members of its departments, once each, without a desktop of it */
                "SELECT DISTINCT a.name FROM accounts a "
                "JOIN department_members dm ON dm.account_id = a.id "
                "JOIN category_departments cd ON cd.department_id = dm.department_id "
                "WHERE cd.category_id = ? AND NOT EXISTS "
                "(SELECT 1 FROM desktops d WHERE d.account_id = a.id AND d.category_id = cd.category_id) "
                "ORDER BY a.name",
        },
        [JOB_CREATE_DEPARTMENT_DESKTOPS] = {
                "SELECT id FROM departments WHERE name = ?", VDESK_ERROR_NO_SUCH_DEPARTMENT, "department",
                /* "account/category" (names hold no '/'): a member may lack
                 * the desktops of several categories */
                "SELECT CONCAT(a.name, '/', c.name) FROM accounts a "
                "JOIN department_members dm ON dm.account_id = a.id "
                "JOIN category_departments cd ON cd.department_id = dm.department_id "
                "JOIN categories c ON c.id = cd.category_id "
                "WHERE dm.department_id = ? AND NOT EXISTS "
                "(SELECT 1 FROM desktops d WHERE d.account_id = a.id AND d.category_id = c.id) "
                "ORDER BY c.name, a.name",
        },
        [JOB_START_DESKTOPS] = {
                "SELECT id FROM departments WHERE name = ?", VDESK_ERROR_NO_SUCH_DEPARTMENT, "department",
                DEPARTMENT_DESKTOPS "AND d.state <> 'running' ORDER BY d.name",
        },
        [JOB_STOP_DESKTOPS] = {
                "SELECT id FROM departments WHERE name = ?", VDESK_ERROR_NO_SUCH_DEPARTMENT, "department",
                DEPARTMENT_DESKTOPS "AND d.state = 'running' ORDER BY d.name",
        },
        [JOB_REISSUE_DESKTOPS] = {
                "SELECT id FROM templates WHERE name = ?", VDESK_ERROR_NO_SUCH_TEMPLATE, "template",
                /* on a version below the newest, and not running */
                "SELECT d.name FROM desktops d JOIN template_versions v ON v.id = d.template_version_id "
                "WHERE d.template_id = ? AND d.state <> 'running' AND v.version < "
                "(SELECT MAX(x.version) FROM template_versions x WHERE x.template_id = d.template_id) "
                "ORDER BY d.name",
        },
};

/* A job that makes desktops needs its categories' templates: refused at
 * start rather than failing every item. A department no category links
 * is refused too: a job of nothing would leave the admin guessing why. */
static int job_check_categories(Manager *m, Job *j, uint64_t id, sd_bus_error *error) {
        _cleanup_(strv_freep) char **bare = NULL;
        uint64_t linked = 1;
        int r;

        if (j->kind == JOB_CREATE_DESKTOPS)
                r = db_exec(m->db, "SELECT name FROM categories WHERE id = ? AND template_id IS NULL",
                            (DbValue[]) { DBV_UINT(id) }, 1, db_row_strv, &bare, NULL);
        else if (j->kind == JOB_CREATE_DEPARTMENT_DESKTOPS) {
                r = db_exec(m->db, "SELECT COUNT(*) FROM category_departments WHERE department_id = ?",
                            (DbValue[]) { DBV_UINT(id) }, 1, db_row_u64, &linked, NULL);
                if (r >= 0)
                        r = db_exec(m->db, "SELECT c.name FROM categories c JOIN category_departments cd "
                                    "ON cd.category_id = c.id WHERE cd.department_id = ? AND c.template_id IS NULL "
                                    "ORDER BY c.name", (DbValue[]) { DBV_UINT(id) }, 1, db_row_strv, &bare, NULL);
        } else
                return 0;
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (linked == 0)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_CATEGORY,
                                      "Invalid department: no category is linked to %s", j->target);
        if (bare && bare[0])
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_TEMPLATE, "Invalid category: %s names no template yet",
                                      bare[0]);
        return 0;
}

static int job_read_items(Manager *m, Job *j, sd_bus_error *error) {
        uint64_t id = 0;
        int r;

        r = bus_error_check_name(error, job_queries[j->kind].target_what, j->target);
        if (r < 0)
                return r;
        r = db_exec(m->db, job_queries[j->kind].target_sql, (DbValue[]) { DBV_STR(j->target) }, 1, db_row_u64,
                    &id, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (id == 0)
                return bus_error_setf(error, job_queries[j->kind].target_error, "Invalid %s: no %s '%s'",
                                      job_queries[j->kind].target_what, job_queries[j->kind].target_what,
                                      j->target);
        r = job_check_categories(m, j, id, error);
        if (r < 0)
                return r;
        r = db_exec(m->db, job_queries[j->kind].items_sql, (DbValue[]) { DBV_UINT(id) }, 1, db_row_strv,
                    &j->items, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        j->n_items = strv_length(j->items);
        return 0;
}

/* ---- one item -------------------------------------------------------------------------- */

/* The account and the category an item of a job making desktops is
 * about: the item and the target, or "account/category". */
static int job_item_split(const Job *j, const char *item, char ret_account[static 64], char ret_category[static 64]) {
        const char *slash = j->kind == JOB_CREATE_DEPARTMENT_DESKTOPS ? strchr(item, '/') : NULL;

        if (!slash) {
                snprintf(ret_account, 64, "%s", item);
                snprintf(ret_category, 64, "%s", j->target);
                return 0;
        }
        if (slash - item >= 64)
                return -EINVAL;
        snprintf(ret_account, 64, "%.*s", (int) (slash - item), item);
        snprintf(ret_category, 64, "%s", slash + 1);
        return 0;
}

/* An item in hand: the job waits for it before it ends. */
typedef struct JobItem {
        Job *job;
        char *item;
} JobItem;

static void job_item_done(Manager *m, const char *name, int r, const sd_bus_error *e, void *userdata);

/* A category's desktop for the item's account, as its first open would make it. */
static int job_create_desktop(Job *j, JobItem *i, sd_bus_error *error) {
        Manager *m = j->manager;
        char name[64], template[64] = "", account[64], category[64];
        uint64_t has = 0;
        int r;

        r = job_item_split(j, i->item, account, category);
        if (r < 0)
                return r;
        r = db_exec(m->db, "SELECT t.name FROM categories c JOIN templates t ON t.id = c.template_id WHERE c.name = ?",
                    (DbValue[]) { DBV_STR(category) }, 1, db_row_name, template, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (isempty(template))
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_TEMPLATE, "Category %s names no template", category);
        /* made meanwhile (a first open, another job): done already */
        r = db_exec(m->db, "SELECT COUNT(*) FROM desktops d JOIN accounts a ON a.id = d.account_id "
                    "JOIN categories c ON c.id = d.category_id WHERE a.name = ? AND c.name = ?",
                    (DbValue[]) { DBV_STR(account), DBV_STR(category) }, 2, db_row_u64, &has, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (has > 0)
                return 0;
        staff_desktop_name(m, account, category, name);
        r = desktop_create_async(m, name, account, template, category, j->actor, job_item_done, i);
        return r < 0 ? r : 1;
}

/* Starts the item: 1 if it runs off the loop now (job_item_done ends
 * it), else it ended already (r < 0: it failed with *error). */
static int job_run_item(Job *j, JobItem *i, sd_bus_error *error) {
        Manager *m = j->manager;
        int r;

        if (j->kind == JOB_CREATE_DESKTOPS || j->kind == JOB_CREATE_DEPARTMENT_DESKTOPS)
                return job_create_desktop(j, i, error);
        switch (j->kind) {
        case JOB_START_DESKTOPS:
                r = desktop_start_async(m, i->item, j->actor, job_item_done, i);
                break;
        case JOB_STOP_DESKTOPS:
                r = desktop_stop_async(m, i->item, j->force, j->actor, job_item_done, i);
                break;
        case JOB_REISSUE_DESKTOPS:
                r = desktop_reissue_async(m, i->item, j->actor, job_item_done, i);
                break;
        default:
                return -EINVAL;
        }
        return r < 0 ? r : 1;
}

static int job_record_failure(Job *j, const char *item, const sd_bus_error *e, int r) {
        _cleanup_(freep) char *i = strdup(item), *name = NULL, *message = NULL;
        JobFailure *f;

        j->failed++;
        name = strdup(sd_bus_error_is_set(e) ? e->name : SD_BUS_ERROR_FAILED);
        message = strdup(sd_bus_error_is_set(e) && e->message ? e->message : strerror(-r));
        f = reallocarray(j->failures, j->n_failures + 1, sizeof *f);
        if (!i || !name || !message || !f)
                return -ENOMEM;         /* counted, not named */
        j->failures = f;
        j->failures[j->n_failures++] = (JobFailure) {
                .item = TAKE_PTR(i),
                .error_name = TAKE_PTR(name),
                .message = TAKE_PTR(message),
        };
        return 0;
}

/* ---- the job's life ------------------------------------------------------------------ */

static void job_unlink(Manager *m, Job *j) {
        for (Job **p = &m->jobs; *p; p = &(*p)->next_job)
                if (*p == j) {
                        *p = j->next_job;
                        return;
                }
}

static void job_finish(Job *j, const char *result) {
        Manager *m = j->manager;

        j->result = result;
        j->step = sd_event_source_disable_unref(j->step);
        log_event(streq(result, "done") ? LOG_INFO : LOG_WARNING, MID_JOB_FINISHED,
                  "VDESK_JOB=%s", j->name,
                  "VDESK_JOB_KIND=%s", job_kind_to_string(j->kind),
                  "VDESK_TARGET=%s", j->target,
                  "VDESK_RESULT=%s", result,
                  "VDESK_DONE=%u", j->done,
                  "VDESK_FAILED=%u", j->failed,
                  "VDESK_TOTAL=%zu", j->n_items,
                  "VDESK_ACTOR_UID=%u", (unsigned) j->actor,
                  "MESSAGE=Job %s (%s of %s) %s: %u of %zu done, %u failed%s%s%s%s%s", j->name,
                  job_kind_to_string(j->kind), j->target, result, j->done, j->n_items, j->failed,
                  j->n_failures ? " (first: " : "", j->n_failures ? j->failures[0].item : "",
                  j->n_failures ? ": " : "", j->n_failures ? j->failures[0].message : "",
                  j->n_failures ? ")" : "");
        if (m->events.job_finished)
                m->events.job_finished(m, j);
        manager_object_removed(m, OBJECT_JOB, j->name);
        job_unlink(m, j);
        job_free(j);
}

/* How many items a job keeps in hand: one for each worker thread. */
static unsigned job_max_in_flight(const Job *j) {
        return MAX(worker_pool_threads(j->manager->workers), 1u);
}

static void job_item_ended(Job *j, const char *item, int r, const sd_bus_error *e) {
        if (r >= 0)
                j->done++;
        else if (job_record_failure(j, item, e, r) < 0)
                log_oom();
        manager_object_changed(j->manager, OBJECT_JOB, j->name, "Done", "Failed", "Current", NULL);
}

static void job_item_done(Manager *m, const char *name, int r, const sd_bus_error *e, void *userdata) {
        JobItem *i = userdata;
        Job *j = i->job;

        job_item_ended(j, i->item, r, e);
        free(i->item);
        free(i);
        j->in_flight--;
        /* the next item, or the end */
        (void) sd_event_source_set_enabled(j->step, SD_EVENT_ON);
}

static void job_start_item(Job *j) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *item = j->items[j->next++];
        JobItem *i;
        int r;

        i = new0(JobItem, 1);
        if (!i || !(i->item = strdup(item))) {
                free(i);
                job_item_ended(j, item, -ENOMEM, NULL);
                return;
        }
        i->job = j;
        r = job_run_item(j, i, &e);
        if (r > 0) {
                j->in_flight++;
                return;
        }
        job_item_ended(j, item, r, &e);
        free(i->item);
        free(i);
}

/* At idle priority, what waits on the bus is answered first: items are
 * started one per turn of the loop, up to one per worker thread in hand;
 * the job ends once none is left in hand. */
static int on_job_step(sd_event_source *s, void *userdata) {
        Job *j = userdata;

        if (j->cancelled || j->next >= j->n_items) {
                if (j->in_flight > 0) {
                        (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
                        return 0;
                }
                job_finish(j, j->cancelled ? "canceled" : j->failed ? "failed" : "done");
                return 0;
        }
        job_start_item(j);
        if (j->in_flight >= job_max_in_flight(j))
                (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        return 0;
}

int job_start(Manager *m, JobKind kind, const char *target, bool force, uid_t actor, Job **ret,
              sd_bus_error *error) {
        Job *j;
        int r;

        j = new0(Job, 1);
        if (!j)
                return -ENOMEM;
        *j = (Job) { .manager = m, .kind = kind, .force = force, .actor = actor };
        snprintf(j->target, sizeof j->target, "%s", target);
        r = job_read_items(m, j, error);
        if (r >= 0)
                r = sd_event_add_defer(m->event, &j->step, on_job_step, j);
        if (r >= 0)
                r = sd_event_source_set_priority(j->step, SD_EVENT_PRIORITY_IDLE);
        if (r >= 0)
                r = sd_event_source_set_enabled(j->step, SD_EVENT_ON);
        if (r < 0) {
                job_free(j);
                return r;
        }
        j->id = ++m->last_job_id;
        snprintf(j->name, sizeof j->name, "%" PRIu32, j->id);
        j->next_job = m->jobs;
        m->jobs = j;
        log_event(LOG_INFO, MID_JOB_STARTED,
                  "VDESK_JOB=%s", j->name,
                  "VDESK_JOB_KIND=%s", job_kind_to_string(kind),
                  "VDESK_TARGET=%s", j->target,
                  "VDESK_TOTAL=%zu", j->n_items,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Job %s: %s of %s, %zu items", j->name, job_kind_to_string(kind), j->target,
                  j->n_items);
        manager_object_added(m, OBJECT_JOB, j->name);
        *ret = j;
        return 0;
}

int job_cancel(Manager *m, const char *name, uid_t actor, sd_bus_error *error) {
        Job *j = job_by_name(m, name);

        if (!j)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_JOB, "No job '%s' is running", name);
        if (j->cancelled)
                return 0;
        log_info("Job %s cancelled by uid %u after %zu of %zu items", j->name, (unsigned) actor, j->next, j->n_items);
        j->cancelled = true;
        manager_object_changed(m, OBJECT_JOB, j->name, "State", NULL);
        return 0;
}

void jobs_free(Manager *m) {
        /* each told as it ends: JobRemoved, JOB_FINISHED */
        while (m->jobs)
                job_finish(m->jobs, "canceled");
}
