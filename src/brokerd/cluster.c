/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-error.h"
#include "category.h"
#include "cluster.h"
#include "log.h"
#include "util.h"

int cluster_lookup(Manager *m, const char *name, uint64_t *ret, sd_bus_error *error) {
        uint64_t id = 0;
        int r;

        r = bus_error_check_name(error, "cluster", name);
        if (r < 0)
                return r;
        r = db_exec(m->db, "SELECT id FROM clusters WHERE name = ?", (DbValue[]) { DBV_STR(name) }, 1, db_row_u64,
                    &id, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (id == 0)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_CLUSTER, "Invalid cluster: no cluster '%s'", name);
        *ret = id;
        return 0;
}

const char *cluster_name(Manager *m, uint64_t id, char buf[static 64]) {
        buf[0] = 0;
        (void) db_exec(m->db, "SELECT name FROM clusters WHERE id = ?", (DbValue[]) { DBV_UINT(id) }, 1, db_row_name, buf,
                       NULL);
        return buf;
}

int cluster_create(Manager *m, const char *name, uint32_t capacity, uid_t actor, sd_bus_error *error) {
        int r;

        r = bus_error_check_name(error, "name", name);
        if (r < 0)
                return r;
        if (capacity < 1 || capacity > CLUSTER_CAPACITY_MAX)
                return bus_error_setf(error, VDESK_ERROR_INVALID_ARGS, "Invalid capacity: %u is not from 1 to %u",
                                      capacity, CLUSTER_CAPACITY_MAX);
        r = db_exec(m->db, "INSERT INTO clusters (name, capacity) VALUES (?, ?)",
                    (DbValue[]) { DBV_STR(name), DBV_UINT(capacity) }, 2, NULL, NULL, NULL);
        if (r == -EEXIST)
                return bus_error_setf(error, VDESK_ERROR_CLUSTER_EXISTS, "Invalid name: cluster '%s' exists already",
                                      name);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        log_event(LOG_INFO, MID_CLUSTER_CREATED,
                  "VDESK_CLUSTER=%s", name,
                  "VDESK_CAPACITY=%u", capacity,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Cluster %s created (at most %u desktops)", name, capacity);
        manager_object_added(m, OBJECT_CLUSTER, name);
        return 0;
}

int cluster_delete(Manager *m, const char *name, uid_t actor, sd_bus_error *error) {
        uint64_t id, hosts = 0, categories = 0;
        int r;

        r = cluster_lookup(m, name, &id, error);
        if (r < 0)
                return r;
        r = db_begin(m->db);
        if (r >= 0)
                r = db_exec(m->db, "SELECT COUNT(*) FROM hosts WHERE cluster_id = ? FOR UPDATE",
                            (DbValue[]) { DBV_UINT(id) }, 1, db_row_u64, &hosts, NULL);
        if (r >= 0)
                r = db_exec(m->db, "SELECT COUNT(*) FROM categories WHERE cluster_id = ? FOR UPDATE",
                            (DbValue[]) { DBV_UINT(id) }, 1, db_row_u64, &categories, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (hosts > 0 || categories > 0) {
                db_rollback(m->db);
                return bus_error_setf(error, VDESK_ERROR_CLUSTER_IN_USE,
                                      "Cluster %s has %" PRIu64 " hosts and %" PRIu64 " categories placing desktops in it",
                                      name, hosts, categories);
        }
        r = db_exec(m->db, "DELETE FROM clusters WHERE id = ?", (DbValue[]) { DBV_UINT(id) }, 1, NULL, NULL, NULL);
        if (r >= 0)
                r = db_commit(m->db);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        log_event(LOG_INFO, MID_CLUSTER_DELETED,
                  "VDESK_CLUSTER=%s", name,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Cluster %s deleted", name);
        manager_object_removed(m, OBJECT_CLUSTER, name);
        return 0;
}

#define CLUSTER_COLUMNS \
        "c.id, c.name, c.capacity, (SELECT COUNT(*) FROM hosts h WHERE h.cluster_id = c.id), " \
        "(SELECT COUNT(*) FROM desktops d JOIN hosts h ON h.id = d.host_id WHERE h.cluster_id = c.id) " \
        "FROM clusters c "

static int cluster_row(char *const *c, unsigned n, void *userdata) {
        Cluster *k = db_rows_push(userdata);

        if (!k)
                return -ENOMEM;
        k->id = strtoull(c[0], NULL, 10);
        snprintf(k->name, sizeof k->name, "%s", c[1]);
        k->capacity = (uint32_t) strtoul(c[2], NULL, 10);
        k->hosts = (uint32_t) strtoul(c[3], NULL, 10);
        k->desktops = (uint32_t) strtoul(c[4], NULL, 10);
        return 0;
}

int cluster_list(Manager *m, Cluster **ret, size_t *ret_n) {
        DbRows rows = { .size = sizeof(Cluster) };
        int r;

        r = db_exec(m->db, "SELECT " CLUSTER_COLUMNS "ORDER BY c.name", NULL, 0, cluster_row, &rows, NULL);
        if (r < 0) {
                free(rows.items);
                return r;
        }
        *ret = rows.items;
        *ret_n = rows.n;
        return 0;
}

int cluster_get(Manager *m, const char *name, Cluster *ret, sd_bus_error *error) {
        DbRows rows = { .size = sizeof(Cluster) };
        int r;

        r = bus_error_check_name(error, "name", name);
        if (r < 0)
                return r;
        r = db_exec(m->db, "SELECT " CLUSTER_COLUMNS "WHERE c.name = ?", (DbValue[]) { DBV_STR(name) }, 1,
                    cluster_row, &rows, NULL);
        if (r < 0) {
                free(rows.items);
                return db_bus_error(m->db, r, error);
        }
        if (rows.n == 0) {
                free(rows.items);
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_CLUSTER, "Invalid name: no cluster '%s'", name);
        }
        *ret = *(Cluster *) rows.items;
        free(rows.items);
        return 0;
}

int cluster_link(Manager *m, const char *cluster, const char *category, bool assign, uid_t actor,
                 sd_bus_error *error) {
        uint64_t id;
        int r;

        r = cluster_lookup(m, cluster, &id, error);
        if (r >= 0)
                r = category_set_link(m, CATEGORY_CLUSTER, id, cluster, category, assign, error);
        if (r < 0)
                return r;
        log_event(LOG_INFO, assign ? MID_CLUSTER_ASSIGNED : MID_CLUSTER_RECLAIMED,
                  "VDESK_CLUSTER=%s", cluster,
                  "VDESK_CATEGORY=%s", category,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  assign ? "MESSAGE=New desktops of category %s go to cluster %s"
                         : "MESSAGE=New desktops of category %s no longer go to cluster %s",
                  category, cluster);
        return 0;
}

int cluster_reserve(Manager *m, uint64_t cluster_id, sd_bus_error *error) {
        uint64_t capacity = 0, held = 0;
        int r;

        /* the cluster's row locked until the caller's transaction ends:
         * two desktops placed at once count each other */
        r = db_exec(m->db, "SELECT capacity FROM clusters WHERE id = ? FOR UPDATE",
                    (DbValue[]) { DBV_UINT(cluster_id) }, 1, db_row_u64, &capacity, NULL);
        if (r >= 0)
                r = db_exec(m->db,
                            "SELECT COUNT(*) FROM desktops d JOIN hosts h ON h.id = d.host_id WHERE h.cluster_id = ?",
                            (DbValue[]) { DBV_UINT(cluster_id) }, 1, db_row_u64, &held, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (held >= capacity)
                return bus_error_setf(error, VDESK_ERROR_CLUSTER_FULL,
                                      "The cluster holds %" PRIu64 " desktops, its capacity", capacity);
        return 0;
}

int cluster_for_category(Manager *m, uint64_t category_id, uint64_t *ret) {
        uint64_t id = 0;
        int r = 0;

        if (category_id)
                r = db_exec(m->db, "SELECT COALESCE(cluster_id, 0) FROM categories WHERE id = ?",
                            (DbValue[]) { DBV_UINT(category_id) }, 1, db_row_u64, &id, NULL);
        if (r < 0)
                return r;
        *ret = id ?: m->local_cluster_id;
        return 0;
}
