/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-error.h"
#include "category.h"
#include "db.h"

int category_set_link(Manager *m, CategoryLink link, uint64_t id, const char *name, const char *category, bool assign,
                      sd_bus_error *error) {

        static const char *const assign_sql[] = {
                [CATEGORY_NETWORK] = "UPDATE categories SET network_id = ? WHERE id = ?",
                [CATEGORY_CLUSTER] = "UPDATE categories SET cluster_id = ? WHERE id = ?",
        };
        static const char *const clear_sql[] = {
                [CATEGORY_NETWORK] = "UPDATE categories SET network_id = NULL WHERE id = ? AND network_id = ?",
                [CATEGORY_CLUSTER] = "UPDATE categories SET cluster_id = NULL WHERE id = ? AND cluster_id = ?",
        };
        uint64_t category_id = 0, matched = 0;
        int r;

        r = bus_error_check_name(error, "category", category);
        if (r < 0)
                return r;
        r = db_exec(m->db, "SELECT id FROM categories WHERE name = ?", (DbValue[]) { DBV_STR(category) }, 1,
                    db_row_u64, &category_id, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (category_id == 0)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_CATEGORY, "Invalid category: no category '%s'",
                                      category);
        if (assign)
                r = db_exec(m->db, assign_sql[link], (DbValue[]) { DBV_UINT(id), DBV_UINT(category_id) }, 2, NULL,
                            NULL, &matched);
        else
                r = db_exec(m->db, clear_sql[link], (DbValue[]) { DBV_UINT(category_id), DBV_UINT(id) }, 2, NULL,
                            NULL, &matched);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        /* assigning what is assigned already matches no changed row */
        if (!assign && matched == 0)
                return link == CATEGORY_NETWORK
                       ? bus_error_setf(error, VDESK_ERROR_NOT_LINKED, "Category %s does not join network %s",
                                        category, name)
                       : bus_error_setf(error, VDESK_ERROR_NOT_LINKED,
                                        "Category %s does not place desktops in cluster %s", category, name);
        return 0;
}
