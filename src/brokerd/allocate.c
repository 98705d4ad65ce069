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

/* A free list of numbers (the host network's addresses, the RDP ports):
 * its rows, and the one row naming the range [lo, hi] (less skip) it was
 * filled for, locked first by every taking so that takings go one after
 * another. The statements take lo, hi and skip as their parameters. */
typedef struct FreeList {
        const char *lock;               /* SELECT lo, hi, skip ... FOR UPDATE */
        const char *clear;
        const char *fill;               /* lo, hi, skip: what no desktop holds */
        const char *record;             /* lo, hi, skip */
        const char *take;               /* DELETE the lowest ... RETURNING it */
        unsigned n_params;              /* of fill and record: 3 with a skip, 2 without */
        const char *what;               /* for the debug log */
} FreeList;

typedef struct FreeRange {
        uint64_t lo, hi, skip;
} FreeRange;

static int free_range_row(char *const *c, unsigned n, void *userdata) {
        FreeRange *r = userdata;

        r->lo = strtoull(c[0], NULL, 10);
        r->hi = strtoull(c[1], NULL, 10);
        r->skip = n > 2 ? strtoull(c[2], NULL, 10) : 0;
        return 0;
}

/* The lowest number of the list, after filling it anew if it was filled
 * for another range than want: so that none outside want is handed out.
 * Then a seek on the list's primary key, however many are taken. 0 is in
 * no range: -ENOSPC when the list is empty. */
static int free_list_take(Db *db, const FreeList *l, const FreeRange *want, uint64_t *ret) {
        FreeRange filled = {};
        uint64_t v = 0;
        int r;

        r = db_exec(db, l->lock, NULL, 0, free_range_row, &filled, NULL);
        if (r < 0)
                return r;
        if (filled.lo != want->lo || filled.hi != want->hi || filled.skip != want->skip) {
                const DbValue range[] = { DBV_UINT(want->lo), DBV_UINT(want->hi), DBV_UINT(want->skip) };

                log_debug("Refilling the free %s", l->what);
                r = db_exec(db, l->clear, NULL, 0, NULL, NULL, NULL);
                if (r >= 0)
                        r = db_exec(db, l->fill, range, l->n_params, NULL, NULL, NULL);
                if (r >= 0)
                        r = db_exec(db, l->record, range, l->n_params, NULL, NULL, NULL);
                if (r < 0)
                        return r;
        }
        r = db_exec(db, l->take, NULL, 0, db_row_u64, &v, NULL);
        if (r < 0)
                return r;
        if (v == 0)
                return -ENOSPC;
        *ret = v;
        return 0;
}

/* The host's desktop network: its addresses but the gateway and those a
 * desktop holds (on any network: an address is one desktop's). */
static const FreeList host_addresses = {
        .lock = "SELECT range_start, range_end, gateway FROM host_address_range WHERE id = 1 FOR UPDATE",
        .clear = "DELETE FROM host_free_addresses",
        .fill = "SET STATEMENT max_recursive_iterations = " STRINGIFY(NETWORK_MAX_RANGE) " FOR "
                "INSERT INTO host_free_addresses (address) "
                "WITH RECURSIVE pool (a) AS (SELECT ? UNION ALL SELECT a + 1 FROM pool WHERE a < ?) "
                "SELECT a FROM pool WHERE a <> ? AND NOT EXISTS (SELECT 1 FROM desktops d WHERE d.address = pool.a)",
        .record = "UPDATE host_address_range SET range_start = ?, range_end = ?, gateway = ? WHERE id = 1",
        .take = "DELETE FROM host_free_addresses ORDER BY address LIMIT 1 RETURNING address",
        .n_params = 3,
        .what = "addresses of the host network",
};

/* [Forward] PortMin= to PortMax=, but those a desktop holds. */
static const FreeList rdp_ports = {
        .lock = "SELECT port_min, port_max FROM rdp_port_range WHERE id = 1 FOR UPDATE",
        .clear = "DELETE FROM rdp_free_ports",
        .fill = "SET STATEMENT max_recursive_iterations = 65536 FOR "
                "INSERT INTO rdp_free_ports (port) "
                "WITH RECURSIVE pool (p) AS (SELECT ? UNION ALL SELECT p + 1 FROM pool WHERE p < ?) "
                "SELECT p FROM pool WHERE NOT EXISTS (SELECT 1 FROM desktops d WHERE d.rdp_port = pool.p)",
        .record = "UPDATE rdp_port_range SET port_min = ?, port_max = ? WHERE id = 1",
        .take = "DELETE FROM rdp_free_ports ORDER BY port LIMIT 1 RETURNING port",
        .n_params = 2,
        .what = "RDP ports",
};

static int host_address_pick(Manager *m, const AddressRange *range, uint32_t *ret) {
        uint64_t a;
        int r;

        r = free_list_take(m->db, &host_addresses, &(FreeRange) { range->first, range->last, range->gateway }, &a);
        if (r < 0)
                return r;
        *ret = (uint32_t) a;
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
         * holds it (a range made narrower keeps it out); the port alike */
        r = db_exec(m->db,
                    "INSERT IGNORE INTO host_free_addresses (address) "
                    "SELECT d.address FROM desktops d JOIN host_address_range h ON h.id = 1 "
                    "WHERE d.id = ? AND d.network_id IS NULL AND d.address BETWEEN h.range_start AND h.range_end "
                    "AND d.address <> h.gateway",
                    (DbValue[]) { DBV_UINT(desktop_id) }, 1, NULL, NULL, NULL);
        if (r < 0)
                return r;
        return db_exec(m->db,
                       "INSERT IGNORE INTO rdp_free_ports (port) "
                       "SELECT d.rdp_port FROM desktops d JOIN rdp_port_range h ON h.id = 1 "
                       "WHERE d.id = ? AND d.rdp_port BETWEEN h.port_min AND h.port_max",
                       (DbValue[]) { DBV_UINT(desktop_id) }, 1, NULL, NULL, NULL);
}

int desktop_port_allocate(Manager *m, uint16_t *ret) {
        uint64_t port;
        int r;

        if (m->config.port_min > m->config.port_max)
                return -ENOSPC;
        r = free_list_take(m->db, &rdp_ports, &(FreeRange) { m->config.port_min, m->config.port_max, 0 }, &port);
        if (r < 0)
                return r;
        *ret = (uint16_t) port;
        return 0;
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
