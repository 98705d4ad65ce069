/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <stdarg.h>

#include "allocate.h"
#include "bus-error.h"
#include "cluster.h"
#include "log.h"
#include "macro.h"
#include "network.h"
#include "network-spec.h"
#include "util.h"

int allocate_lowest_free(const uint32_t *used, size_t n_used, uint32_t lo, uint32_t hi, uint32_t skip,
                         uint32_t *ret) {
        size_t i = 0;

        for (uint64_t v = lo; v <= hi; v++) {
                while (i < n_used && used[i] < v)
                        i++;
                if (v == skip || (i < n_used && used[i] == v))
                        continue;
                *ret = (uint32_t) v;
                return 0;
        }
        return -ENOSPC;
}

static int used_row(char *const *c, unsigned n, void *userdata) {
        uint32_t *v = db_rows_push(userdata);

        if (!v)
                return -ENOMEM;
        *v = (uint32_t) strtoul(c[0], NULL, 10);
        return 0;
}

/* Runs sql, a SELECT of one column of every desktop ORDER BY it FOR
 * UPDATE: the values sorted, their rows locked until the transaction
 * ends, so that two desktops made at once cannot take one value. */
static int desktops_used_values(Manager *m, const char *sql, uint32_t **ret, size_t *ret_n) {
        DbRows rows = { .size = sizeof(uint32_t) };
        int r;

        r = db_exec(m->db, sql, NULL, 0, used_row, &rows, NULL);
        if (r < 0) {
                free(rows.items);
                return r;
        }
        *ret = rows.items;
        *ret_n = rows.n;
        return 0;
}

int address_range_from_config(const VdeskConfig *c, AddressRange *ret) {
        AddressRange r;

        if (ipv4_parse(c->range_start, &r.first) < 0 || ipv4_parse(c->range_end, &r.last) < 0 ||
            ipv4_parse(c->gateway, &r.gateway) < 0)
                return -EINVAL;
        *ret = r;
        return 0;
}

bool address_range_equal(const AddressRange *a, const AddressRange *b) {
        return a->first == b->first && a->last == b->last && a->gateway == b->gateway;
}

static int range_row(char *const *c, unsigned n, void *userdata) {
        AddressRange *r = userdata;

        r->first = (uint32_t) strtoul(c[0], NULL, 10);
        r->last = (uint32_t) strtoul(c[1], NULL, 10);
        r->gateway = (uint32_t) strtoul(c[2], NULL, 10);
        return 0;
}

/* The host network's free list made anew for range: its addresses but the
 * gateway and those a desktop holds (on any network: an address is one
 * desktop's), and range recorded as the one it was made for. */
static int host_addresses_refill(Manager *m, const AddressRange *range) {
        int r;

        r = db_exec(m->db, "DELETE FROM host_free_addresses", NULL, 0, NULL, NULL, NULL);
        if (r >= 0)
                r = db_exec(m->db,
                            "SET STATEMENT max_recursive_iterations = " STRINGIFY(NETWORK_MAX_RANGE) " FOR "
                            "INSERT INTO host_free_addresses (address) "
                            "WITH RECURSIVE pool (a) AS (SELECT ? UNION ALL SELECT a + 1 FROM pool WHERE a < ?) "
                            "SELECT a FROM pool WHERE a <> ? AND NOT EXISTS "
                            "(SELECT 1 FROM desktops d WHERE d.address = pool.a)",
                            (DbValue[]) { DBV_UINT(range->first), DBV_UINT(range->last), DBV_UINT(range->gateway) },
                            3, NULL, NULL, NULL);
        if (r >= 0)
                r = db_exec(m->db,
                            "UPDATE host_address_range SET range_start = ?, range_end = ?, gateway = ? WHERE id = 1",
                            (DbValue[]) { DBV_UINT(range->first), DBV_UINT(range->last), DBV_UINT(range->gateway) },
                            3, NULL, NULL, NULL);
        return r;
}

/* The lowest free address of the host's desktop network. Its range row,
 * locked first, puts takings one after another; the free list is made
 * anew once [Network] names another range or gateway than the one it was
 * made for, so that no address outside the range is handed out. Then a
 * seek on the free list's primary key, however many are taken. */
static int host_address_pick(Manager *m, const AddressRange *range, uint32_t *ret) {
        AddressRange filled = {};
        uint64_t address = 0;
        int r;

        r = db_exec(m->db, "SELECT range_start, range_end, gateway FROM host_address_range WHERE id = 1 FOR UPDATE",
                    NULL, 0, range_row, &filled, NULL);
        if (r < 0)
                return r;
        if (!address_range_equal(&filled, range)) {
                log_debug("Refilling the host network's free addresses");
                r = host_addresses_refill(m, range);
                if (r < 0)
                        return r;
        }
        r = db_exec(m->db, "DELETE FROM host_free_addresses ORDER BY address LIMIT 1 RETURNING address", NULL, 0,
                    db_row_u64, &address, NULL);
        if (r < 0)
                return r;
        if (address == 0)       /* no row: 0.0.0.0 is never in a range */
                return -ENOSPC;
        *ret = (uint32_t) address;
        return 0;
}

int desktop_address_allocate(Manager *m, uint64_t network_id, const AddressRange *range, uint32_t *ret) {
        /* a department network's pool chooses in its own statement */
        if (network_id)
                return network_address_pick(m->db, (uint32_t) network_id, ret);
        return host_address_pick(m, range, ret);
}

int desktop_address_release(Manager *m, uint64_t desktop_id) {
        int r;

        r = network_address_release(m->db, desktop_id);
        if (r < 0)
                return r;
        /* the host network's, if the range its free list was made for
         * holds it (a range made narrower keeps it out) */
        return db_exec(m->db,
                       "INSERT IGNORE INTO host_free_addresses (address) "
                       "SELECT d.address FROM desktops d JOIN host_address_range h ON h.id = 1 "
                       "WHERE d.id = ? AND d.network_id IS NULL AND d.address BETWEEN h.range_start AND h.range_end "
                       "AND d.address <> h.gateway",
                       (DbValue[]) { DBV_UINT(desktop_id) }, 1, NULL, NULL, NULL);
}

int desktop_port_choose(const uint32_t *used, size_t n_used, uint16_t port_min, uint16_t port_max, uint16_t *ret) {
        uint32_t port;
        int r;

        r = allocate_lowest_free(used, n_used, port_min, port_max, 0, &port);
        if (r < 0)
                return r;
        *ret = (uint16_t) port;
        return 0;
}

int desktop_port_allocate(Manager *m, uint16_t *ret) {
        _cleanup_(freep) uint32_t *used = NULL;
        size_t n_used = 0;
        int r;

        r = desktops_used_values(m, "SELECT rdp_port FROM desktops ORDER BY rdp_port FOR UPDATE", &used, &n_used);
        if (r < 0)
                return r;
        return desktop_port_choose(used, n_used, m->config.port_min, m->config.port_max, ret);
}

void desktop_mac_allocate(uint32_t address, char ret[static 18]) {
        mac_from_ipv4(address, ret);
}

/* ---- hosts ----------------------------------------------------------------- */

static int strbuf_appendf(char **buf, const char *format, ...) _printf_(2, 3);
static int strbuf_appendf(char **buf, const char *format, ...) {
        _cleanup_(freep) char *piece = NULL;
        char *joined;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&piece, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        if (asprintf(&joined, "%s%s%s", strempty(*buf), *buf ? "; " : "", piece) < 0)
                return -ENOMEM;
        free(*buf);
        *buf = joined;
        return 0;
}

static bool host_load_outdated(Host *h) {
        uint64_t now = 0;

        (void) sd_event_now(h->manager->event, CLOCK_MONOTONIC, &now);
        return !h->load.valid || h->load.stale ||
               now - h->load.sampled_usec >= (uint64_t) h->manager->config.host_sample_sec * USEC_PER_SEC;
}

int desktop_host_pick(Manager *m, uint64_t cluster_id, unsigned memory_mib, Host **ret, char **ret_reason,
                      sd_bus_error *error) {
        _cleanup_(freep) char *reason = NULL;
        Host *best = NULL;

        for (Host *h = m->hosts; h; h = h->next) {
                if (h->cluster_id != cluster_id)
                        continue;
                if (!h->up) {
                        (void) strbuf_appendf(&reason, "%s: down", h->name);
                        continue;
                }
                if (h->maintenance) {
                        (void) strbuf_appendf(&reason, "%s: maintenance", h->name);
                        continue;
                }
                if (host_load_outdated(h) && host_sample(h) < 0) {
                        (void) strbuf_appendf(&reason, "%s: no figures (%s)", h->name,
                                              strempty(virt_last_error(h->virt)));
                        continue;
                }
                if (h->load.free_kib < (uint64_t) memory_mib * 1024) {
                        (void) strbuf_appendf(&reason, "%s: %" PRIu64 " MiB free, %u MiB needed", h->name,
                                              h->load.free_kib / 1024, memory_mib);
                        continue;
                }
                (void) strbuf_appendf(&reason, "%s: score %.3f (memory %.3f + %.1f x CPU %.3f, %u running)", h->name,
                                      h->load.score, h->load.score - HOST_CPU_WEIGHT * h->load.cpu, HOST_CPU_WEIGHT,
                                      h->load.cpu, h->load.running);
                if (!best || h->load.score < best->load.score ||
                    (h->load.score == best->load.score && strcmp(h->name, best->name) < 0))
                        best = h;
        }
        if (!best)
                return bus_error_setf(error, VDESK_ERROR_NO_HOST_AVAILABLE,
                                      "No host of the cluster can take the desktop (%s)",
                                      reason ?: "the cluster has no hosts");
        *ret = best;
        if (ret_reason)
                *ret_reason = TAKE_PTR(reason);
        return 0;
}

int desktop_place(Manager *m, const char *category, Host **ret, char **ret_reason, sd_bus_error *error) {
        uint64_t category_id = 0, cid;
        unsigned memory_mib = m->config.desktop_memory_mib;
        int r;

        if (!isempty(category)) {
                uint64_t mem = 0;

                r = bus_error_check_name(error, "category", category);
                if (r < 0)
                        return r;
                r = db_exec(m->db, "SELECT id FROM categories WHERE name = ?", (DbValue[]) { DBV_STR(category) }, 1,
                            db_row_u64, &category_id, NULL);
                if (r >= 0 && category_id)
                        r = db_exec(m->db,
                                    "SELECT t.memory_mib FROM categories c JOIN templates t ON t.id = c.template_id "
                                    "WHERE c.id = ?", (DbValue[]) { DBV_UINT(category_id) }, 1, db_row_u64, &mem, NULL);
                if (r < 0)
                        return db_bus_error(m->db, r, error);
                if (category_id == 0)
                        return bus_error_setf(error, VDESK_ERROR_NO_SUCH_CATEGORY, "Invalid category: no category '%s'",
                                              category);
                if (mem)
                        memory_mib = (unsigned) mem;
        }
        r = cluster_for_category(m, category_id, &cid);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        return desktop_host_pick(m, cid, memory_mib, ret, ret_reason, error);
}
