/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdlib.h>

#include "bus-error.h"
#include "category.h"
#include "db.h"
#include "domain-xml.h"
#include "log.h"
#include "macro.h"
#include "message-id.h"
#include "host.h"
#include "network.h"
#include "util.h"

/* ---- reading ------------------------------------------------------------------ */

#define NETWORK_COLUMNS \
        "n.id, n.name, n.subnet, n.prefix, n.gateway, n.range_start, n.range_end, n.segment, " \
        "COALESCE(n.vlan_id, 0), COALESCE(n.uplink, ''), COALESCE(n.vni, 0), COALESCE(n.local_address, 0), " \
        "COALESCE(n.vxlan_group, 0), COALESCE(n.vxlan_port, 0), n.mtu, " \
        "(SELECT COUNT(*) FROM desktops d WHERE d.network_id = n.id) " \
        "FROM networks n "

static uint32_t u32(const char *s) {
        return (uint32_t) strtoul(s, NULL, 10);
}

static int network_row(char *const *c, unsigned n, void *userdata) {
        Network *k = db_rows_push(userdata);
        NetworkSpec *s;

        if (!k)
                return -ENOMEM;
        s = &k->spec;
        k->id = u32(c[0]);
        snprintf(s->name, sizeof s->name, "%s", c[1]);
        s->subnet = u32(c[2]);
        s->prefix = u32(c[3]);
        s->gateway = u32(c[4]);
        s->range_start = u32(c[5]);
        s->range_end = u32(c[6]);
        s->segment = segment_type_from_string(c[7]);
        s->vlan_id = u32(c[8]);
        snprintf(s->uplink, sizeof s->uplink, "%s", c[9]);
        s->vni = u32(c[10]);
        s->local = u32(c[11]);
        s->group = u32(c[12]);
        s->port = (uint16_t) u32(c[13]);
        s->mtu = u32(c[14]);
        k->allocated = u32(c[15]);
        network_bridge_name(k->id, k->bridge);
        return 0;
}

typedef struct PeerRows {
        Network *networks;
        size_t n;
} PeerRows;

static int peer_row(char *const *c, unsigned n, void *userdata) {
        PeerRows *p = userdata;
        uint32_t id = u32(c[0]);

        for (size_t i = 0; i < p->n; i++) {
                NetworkSpec *s = &p->networks[i].spec;

                if (p->networks[i].id == id && s->n_peers < NETWORK_MAX_PEERS)
                        s->peers[s->n_peers++] = u32(c[1]);
        }
        return 0;
}

/* The networks (all, the one named, or the one with id), with their
 * peers; "FOR UPDATE" locks them for the transaction the caller has begun. */
static int networks_read(Manager *m, const char *name, uint32_t id, bool lock, Network **ret, size_t *ret_n) {
        DbRows rows = { .size = sizeof(Network) };
        PeerRows peers;
        int r;

        if (id)
                r = db_exec(m->db, "SELECT " NETWORK_COLUMNS "WHERE n.id = ?", (DbValue[]) { DBV_UINT(id) }, 1,
                            network_row, &rows, NULL);
        else if (name)
                r = db_exec(m->db, lock ? "SELECT " NETWORK_COLUMNS "WHERE n.name = ? FOR UPDATE"
                                        : "SELECT " NETWORK_COLUMNS "WHERE n.name = ?",
                            (DbValue[]) { DBV_STR(name) }, 1, network_row, &rows, NULL);
        else
                r = db_exec(m->db, lock ? "SELECT " NETWORK_COLUMNS "ORDER BY n.name FOR UPDATE"
                                        : "SELECT " NETWORK_COLUMNS "ORDER BY n.name",
                            NULL, 0, network_row, &rows, NULL);
        peers = (PeerRows) { .networks = rows.items, .n = rows.n };
        if (r >= 0 && rows.n > 0)
                r = db_exec(m->db, "SELECT network_id, address FROM network_peers ORDER BY network_id, address",
                            NULL, 0, peer_row, &peers, NULL);
        if (r < 0) {
                free(rows.items);
                return r;
        }
        *ret = rows.items;
        *ret_n = rows.n;
        return 0;
}

void network_libvirt_name(const Manager *m, const char *network, char buf[static 80]) {
        if (isempty(network))
                snprintf(buf, 80, "%s", m->config.network_name);
        else
                snprintf(buf, 80, "vdesk-%s", network);
}

int network_list(Manager *m, Network **ret, size_t *ret_n) {
        return networks_read(m, NULL, 0, false, ret, ret_n);
}

int network_get(Manager *m, const char *name, Network *ret, sd_bus_error *error) {
        _cleanup_(freep) Network *n = NULL;
        size_t k = 0;
        int r;

        r = bus_error_check_name(error, "name", name);
        if (r < 0)
                return r;
        r = networks_read(m, name, 0, false, &n, &k);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (k == 0)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_NETWORK, "No network '%s'", name);
        *ret = n[0];
        return 0;
}

int network_get_by_id(Manager *m, uint32_t id, Network *ret) {
        _cleanup_(freep) Network *n = NULL;
        size_t k = 0;
        int r;

        r = networks_read(m, NULL, id, false, &n, &k);
        if (r < 0)
                return r;
        if (k == 0)
                return -ENOENT;
        *ret = n[0];
        return 0;
}

static int dhcp_host_row(char *const *c, unsigned n, void *userdata) {
        DhcpHost *h = db_rows_push(userdata);

        if (!h)
                return -ENOMEM;
        snprintf(h->mac, sizeof h->mac, "%s", c[0]);
        h->address = u32(c[1]);
        return 0;
}

int network_libvirt_ensure(Manager *m, Host *host, const Network *n, char **ret_error) {
        _cleanup_(freep) char *xml = NULL;
        DbRows hosts = { .size = sizeof(DhcpHost) };
        char name[80], gw[16];
        int r;

        /* served here already (the common case, each desktop made): nothing
         * to read or build */
        network_libvirt_name(m, n->spec.name, name);
        if (virt_network_is_active(host->virt, name) > 0)
                return 0;
        /* every desktop of the network, wherever it runs: each host's DHCP
         * answers the same */
        r = db_exec(m->db, "SELECT mac, address FROM desktops WHERE network_id = ? ORDER BY address",
                    (DbValue[]) { DBV_UINT(n->id) }, 1, dhcp_host_row, &hosts, NULL);
        if (r < 0) {
                free(hosts.items);
                return r;
        }
        ipv4_format(n->spec.gateway, gw);
        r = network_xml_build(&(LibvirtNetwork) {
                .name = name, .bridge = n->bridge, .gateway = gw, .prefix = n->spec.prefix, .mtu = n->spec.mtu,
                .hosts = hosts.items, .n_hosts = hosts.n,
        }, &xml);
        free(hosts.items);
        if (r < 0)
                return r;
        return virt_network_ensure(host->virt, name, xml, ret_error);
}

void networks_prune_stale(Manager *m, Host *h) {
        _cleanup_(strv_freep) char **names = NULL;
        int r;

        r = virt_network_names(h->virt, &names);
        if (r < 0) {
                log_warning("Cannot list the libvirt networks of %s: %s", h->name, strempty(virt_last_error(h->virt)));
                return;
        }
        for (char **name = names; *name; name++) {
                _cleanup_(freep) Network *n = NULL;
                _cleanup_(freep) char *e = NULL;
                const char *catalog_name = startswith(*name, "vdesk-");
                size_t k = 0;

                if (!catalog_name || networks_read(m, catalog_name, 0, false, &n, &k) < 0 || k > 0)
                        continue;
                /* deleted from the catalog while this host was away: its
                 * bridge goes, and with it (netd) the segment */
                r = virt_network_remove(h->virt, *name, &e);
                if (r < 0 && r != -ENOENT)
                        log_warning("Cannot remove %s, no longer in the catalog, from %s: %s", *name, h->name,
                                    strempty(e));
                else
                        log_info("Removed libvirt network %s from %s: network %s is no longer in the catalog.", *name,
                                 h->name, catalog_name);
        }
}

/* ---- creating ------------------------------------------------------------------ */

/* The host's own desktop network ([Network]): no catalog network may
 * overlap it either. */
static int host_network(Manager *m, NetworkSpec *ret) {
        uint32_t gw;

        if (ipv4_parse(m->config.gateway, &gw) < 0)
                return -EINVAL;
        *ret = (NetworkSpec) {
                .prefix = m->config.prefix,
                .subnet = gw & ipv4_netmask(m->config.prefix),
                .segment = SEGMENT_NONE,
        };
        snprintf(ret->name, sizeof ret->name, "%s", m->config.network_name);
        return 0;
}

int networks_check_host_network(Manager *m) {
        _cleanup_(freep) Network *n = NULL;
        NetworkSpec host;
        size_t k = 0;
        int r;

        r = host_network(m, &host);
        if (r < 0)
                return log_error_errno(r, "[Network] Gateway=%s is not an IPv4 address", m->config.gateway);
        r = network_list(m, &n, &k);
        if (r < 0)
                return log_error_errno(r, "Cannot read the department networks: %s", db_error(m->db));
        for (size_t i = 0; i < k; i++) {
                char a[16], b[16];

                if (!network_spec_overlaps(&host, &n[i].spec))
                        continue;
                ipv4_format(host.subnet, a);
                ipv4_format(n[i].spec.subnet, b);
                log_error("[Network] %s/%u of vdesk.conf overlaps department network '%s' %s/%u: an address would "
                          "be handed out twice. Give [Network] a subnet of its own, or move the network.",
                          a, host.prefix, n[i].spec.name, b, n[i].spec.prefix);
                return -EADDRINUSE;
        }
        return 0;
}

static DbValue opt_uint(unsigned v) {
        return v ? DBV_UINT(v) : DBV_NULL;
}

int network_insert(Db *db, const NetworkSpec *s, uint32_t *ret_id) {
        uint32_t id;
        int r;

        r = db_exec(db,
                    "INSERT INTO networks (name, subnet, prefix, gateway, range_start, range_end, segment, vlan_id, "
                    "uplink, vni, local_address, vxlan_group, vxlan_port, mtu) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (DbValue[]) { DBV_STR(s->name), DBV_UINT(s->subnet), DBV_UINT(s->prefix), DBV_UINT(s->gateway),
                                  DBV_UINT(s->range_start), DBV_UINT(s->range_end),
                                  DBV_STR(segment_type_to_string(s->segment)), opt_uint(s->vlan_id),
                                  isempty(s->uplink) ? DBV_NULL : DBV_STR(s->uplink), opt_uint(s->vni),
                                  opt_uint(s->local), opt_uint(s->group), opt_uint(s->port), DBV_UINT(s->mtu) }, 14,
                    NULL, NULL, NULL);
        if (r < 0)
                return r;
        id = (uint32_t) db_last_insert_id(db);
        for (size_t i = 0; r >= 0 && i < s->n_peers; i++)
                r = db_exec(db, "INSERT INTO network_peers (network_id, address) VALUES (?, ?)",
                            (DbValue[]) { DBV_UINT(id), DBV_UINT(s->peers[i]) }, 2, NULL, NULL, NULL);
        /* the address pool, one row an address, in one statement */
        if (r >= 0)
                r = db_exec(db,
                            "SET STATEMENT max_recursive_iterations = " STRINGIFY(NETWORK_MAX_RANGE) " FOR "
                            "INSERT INTO network_free_addresses (network_id, address) "
                            "WITH RECURSIVE pool (a) AS (SELECT ? UNION ALL SELECT a + 1 FROM pool WHERE a < ?) "
                            "SELECT ?, a FROM pool",
                            (DbValue[]) { DBV_UINT(s->range_start), DBV_UINT(s->range_end), DBV_UINT(id) }, 3,
                            NULL, NULL, NULL);
        if (r >= 0)
                *ret_id = id;
        return r;
}

/* Whether this host can carry the network (netd's CheckNetwork: its
 * uplink is here), before the catalog takes it. */
static int network_host_check(Manager *m, const NetworkSpec *s, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        int r;

        r = sd_bus_message_new_method_call(m->bus, &call, NETD, "CheckNetwork");
        if (r >= 0)
                r = network_spec_append(call, s);
        if (r < 0)
                return r;
        r = sd_bus_call(m->bus, call, 0, error, NULL);
        if (r < 0 && !sd_bus_error_is_set(error))
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot ask vdesk-netd about network %s: %s",
                                      s->name, strerror(-r));
        return r;
}

int network_create(Manager *m, NetworkSpec *s, uid_t actor, sd_bus_error *error) {
        _cleanup_(freep) Network *there = NULL;
        _cleanup_(freep) NetworkSpec *specs = NULL;
        char subnet[16], bridge[16], segment[16] = "";
        size_t n = 0;
        uint32_t id = 0;
        int r;

        r = network_spec_check(s, error);
        if (r < 0)
                return r;
        r = db_begin(m->db);
        if (r >= 0)
                r = networks_read(m, NULL, 0, true, &there, &n);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        specs = new0(NetworkSpec, n + 1);
        if (!specs) {
                db_rollback(m->db);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                specs[i] = there[i].spec;
        if (host_network(m, &specs[n]) >= 0)
                n++;
        r = network_spec_check_against(s, specs, n, error);
        if (r >= 0)
                r = network_host_check(m, s, error);
        if (r < 0) {
                db_rollback(m->db);
                return r;
        }
        r = network_insert(m->db, s, &id);
        if (r >= 0)
                r = db_commit(m->db);
        if (r == -EEXIST) {
                /* a concurrent create got there first */
                db_rollback(m->db);
                return bus_error_setf(error, VDESK_ERROR_NETWORK_EXISTS,
                                      "Invalid name: network '%s' or its segment exists already", s->name);
        }
        if (r < 0)
                return db_bus_error(m->db, r, error);

        ipv4_format(s->subnet, subnet);
        network_bridge_name(id, bridge);
        (void) network_segment_name(s, segment);
        log_event(LOG_INFO, MID_NETWORK_CREATED,
                  "VDESK_NETWORK=%s", s->name,
                  "VDESK_SUBNET=%s/%u", subnet, s->prefix,
                  "VDESK_SEGMENT=%s", segment_type_to_string(s->segment),
                  "VDESK_LINK=%s", isempty(segment) ? "-" : segment,
                  "VDESK_BRIDGE=%s", bridge,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Network %s created: %s/%u on %s, %s segment%s%s, %u addresses", s->name, subnet,
                  s->prefix, bridge, segment_type_to_string(s->segment), isempty(segment) ? "" : " ", segment,
                  network_spec_range_size(s));
        manager_object_added(m, OBJECT_NETWORK, s->name);
        return 0;
}

/* ---- deleting, assigning ------------------------------------------------------------ */

/* What uses network id: its desktops, and the categories naming it. */
static int network_users(Manager *m, uint32_t id, uint64_t *ret_desktops, char ***ret_categories) {
        DbRows rows = { .size = sizeof(char *) };
        int r;

        r = db_exec(m->db, "SELECT COUNT(*) FROM desktops WHERE network_id = ? FOR UPDATE",
                    (DbValue[]) { DBV_UINT(id) }, 1, db_row_u64, ret_desktops, NULL);
        if (r >= 0)
                r = db_exec(m->db, "SELECT name FROM categories WHERE network_id = ? ORDER BY name FOR UPDATE",
                            (DbValue[]) { DBV_UINT(id) }, 1, db_row_str, &rows, NULL);
        *ret_categories = db_rows_take_strv(&rows);
        if (r >= 0 && !*ret_categories)
                r = -ENOMEM;
        return r;
}

/* A network's parts go: this host's segment and elements (netd), then its
 * libvirt network (the bridge) on every connected host. Either gone
 * already is fine. */
static int network_host_down(Manager *m, const Network *n, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(freep) char *ve = NULL;
        char name[80];
        int r;

        r = sd_bus_message_new_method_call(m->bus, &call, NETD, "RemoveNetwork");
        if (r >= 0)
                r = sd_bus_message_append(call, "s", n->bridge);
        if (r >= 0)
                r = network_spec_append(call, &n->spec);
        if (r >= 0)
                r = sd_bus_call(m->bus, call, 0, &e, NULL);
        if (r < 0)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot take network %s down on this host: %s",
                                      n->spec.name, e.message ?: strerror(-r));
        network_libvirt_name(m, n->spec.name, name);
        for (Host *h = m->hosts; h; h = h->next) {
                if (!h->up)
                        continue;
                r = virt_network_remove(h->virt, name, &ve);
                if (r < 0 && r != -ENOENT && r != -ENOTCONN)
                        return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot remove libvirt network %s on %s: %s",
                                              name, h->name, strempty(ve));
        }
        return 0;
}

int network_delete(Manager *m, const char *name, uid_t actor, sd_bus_error *error) {
        _cleanup_(freep) Network *n = NULL;
        _cleanup_(strv_freep) char **categories = NULL;
        uint64_t desktops = 0;
        size_t k = 0;
        int r;

        r = bus_error_check_name(error, "name", name);
        if (r < 0)
                return r;
        r = db_begin(m->db);
        if (r >= 0)
                r = networks_read(m, name, 0, true, &n, &k);
        if (r >= 0 && k > 0)
                r = network_users(m, n[0].id, &desktops, &categories);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (k == 0) {
                db_rollback(m->db);
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_NETWORK, "No network '%s'", name);
        }
        if (desktops > 0 || strv_length(categories) > 0) {
                _cleanup_(freep) char *list = strv_join(categories, ", ");

                db_rollback(m->db);
                return bus_error_setf(error, VDESK_ERROR_NETWORK_IN_USE,
                                      "Network %s is in use: %" PRIu64 " desktop(s), categories: %s", name, desktops,
                                      isempty(list) ? "none" : list);
        }
        /* this host stops serving it first: a failure leaves the catalog
         * as it was, and deleting again tries again */
        r = network_host_down(m, &n[0], error);
        if (r < 0) {
                db_rollback(m->db);
                return r;
        }
        r = db_exec(m->db, "DELETE FROM networks WHERE id = ?", (DbValue[]) { DBV_UINT(n[0].id) }, 1, NULL, NULL,
                    NULL);
        if (r >= 0)
                r = db_commit(m->db);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        log_event(LOG_INFO, MID_NETWORK_DELETED,
                  "VDESK_NETWORK=%s", name,
                  "VDESK_BRIDGE=%s", n[0].bridge,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Network %s deleted", name);
        manager_object_removed(m, OBJECT_NETWORK, name);
        return 0;
}

static int set_category_network(Manager *m, const char *network, const char *category, bool assign, uid_t actor,
                                sd_bus_error *error) {
        _cleanup_(freep) Network *n = NULL;
        size_t k = 0;
        int r;

        r = bus_error_check_name(error, "network", network);
        if (r < 0)
                return r;
        r = networks_read(m, network, 0, false, &n, &k);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (k == 0)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_NETWORK, "Invalid network: no network '%s'", network);
        r = category_set_link(m, CATEGORY_NETWORK, n[0].id, network, category, assign, error);
        if (r < 0)
                return r;
        log_event(LOG_INFO, assign ? MID_NETWORK_ASSIGNED : MID_NETWORK_RECLAIMED,
                  "VDESK_NETWORK=%s", network,
                  "VDESK_CATEGORY=%s", category,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  assign ? "MESSAGE=New desktops of category %s join network %s"
                         : "MESSAGE=New desktops of category %s no longer join network %s",
                  category, network);
        return 0;
}

int network_assign(Manager *m, const char *network, const char *category, uid_t actor, sd_bus_error *error) {
        return set_category_network(m, network, category, true, actor, error);
}

int network_reclaim(Manager *m, const char *network, const char *category, uid_t actor, sd_bus_error *error) {
        return set_category_network(m, network, category, false, actor, error);
}

/* ---- addresses ------------------------------------------------------------------------ */

typedef struct Taken {
        uint32_t address;
        bool found;
} Taken;

static int taken_row(char *const *c, unsigned n, void *userdata) {
        Taken *t = userdata;

        t->address = u32(c[0]);
        t->found = true;
        return 0;
}

int network_address_pick(Db *db, uint32_t network_id, uint32_t *ret) {
        Taken t = {};
        int r;

        /* the lowest free one, taken out of the free list and returned in
         * one statement (one round trip): a seek on the primary key,
         * however many are taken */
        r = db_exec(db,
                    "DELETE FROM network_free_addresses WHERE network_id = ? ORDER BY address LIMIT 1 "
                    "RETURNING address",
                    (DbValue[]) { DBV_UINT(network_id) }, 1, taken_row, &t, NULL);
        if (r < 0)
                return r;
        if (!t.found)
                return -ENOSPC;
        *ret = t.address;
        return 0;
}

int network_address_release(Db *db, uint64_t desktop_id) {
        return db_exec(db,
                       "INSERT IGNORE INTO network_free_addresses (network_id, address) "
                       "SELECT network_id, address FROM desktops WHERE id = ? AND network_id IS NOT NULL",
                       (DbValue[]) { DBV_UINT(desktop_id) }, 1, NULL, NULL, NULL);
}
