/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-error.h"
#include "cluster.h"
#include "host.h"
#include "host-dbus.h"
#include "libvirt-uri.h"
#include "log.h"
#include "manager.h"
#include "polkit.h"
#include "util.h"

/* The hosts' and clusters' methods: every one an admin's (polkit's
 * org.vdesk.broker1.read to list and to ask where a desktop would go,
 * org.vdesk.broker1.manage to change anything). */

#define AUTHORIZED(name) POLKIT_METHOD_EXPORTED(name, Manager, BROKERD_ACTION_MANAGE)
#define AUTHORIZED_READ(name) POLKIT_METHOD_EXPORTED(name, Manager, BROKERD_ACTION_READ)

/* ---- clusters ------------------------------------------------------------------ */

AUTHORIZED(create_cluster) {
        const char *name;
        uint32_t capacity;
        int r;

        r = sd_bus_message_read(msg, "su", &name, &capacity);
        if (r >= 0)
                r = cluster_create(m, name, capacity, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(delete_cluster) {
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = cluster_delete(m, name, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED_READ(list_clusters) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) Cluster *k = NULL;
        size_t n = 0;
        int r;

        r = cluster_list(m, &k, &n);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', CLUSTER_SIGNATURE);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, CLUSTER_SIGNATURE, k[i].name, k[i].capacity, k[i].hosts,
                                          k[i].desktops);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* AssignCluster and ReclaimCluster */
AUTHORIZED(category_cluster) {
        const char *cluster, *category;
        int r;

        r = sd_bus_message_read(msg, "ss", &cluster, &category);
        if (r >= 0)
                r = cluster_link(m, cluster, category, streq(sd_bus_message_get_member(msg), "AssignCluster"), actor,
                                 error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

/* ---- hosts ----------------------------------------------------------------------- */

/* The admin's address of a new host, checked: "" takes the URI's host when
 * that is an IPv4 address (0: the broker's own public address). */
static int add_host_address(const char *address, const char *uri_host, uint32_t *ret, sd_bus_error *error) {
        uint32_t addr = 0;

        if (!isempty(address) && ipv4_parse(address, &addr) < 0)
                return bus_error_setf(error, VDESK_ERROR_INVALID_ARGS, "Invalid address: '%s' is not an IPv4 address",
                                      address);
        if (isempty(address) && !isempty(uri_host) && ipv4_parse(uri_host, &addr) < 0)
                return bus_error_setf(error, VDESK_ERROR_INVALID_ARGS,
                                      "Invalid address: give the IPv4 address staff reach %s on", uri_host);
        /* staff connect there: 0.0.0.0 would silently mean the broker's own */
        if (addr != 0 && !ipv4_is_unicast(addr))
                return bus_error_setf(error, VDESK_ERROR_INVALID_ARGS,
                                      "Invalid address: %s is not an address staff can reach a host on",
                                      isempty(address) ? uri_host : address);
        if (addr == 0 && (!isempty(address) || !isempty(uri_host)))
                return bus_error_setf(error, VDESK_ERROR_INVALID_ARGS,
                                      "Invalid address: 0.0.0.0 is not an address staff can reach a host on");
        *ret = addr;
        return 0;
}

static void on_host_added(Host *h, const sd_bus_error *e, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = userdata;

        if (e)
                (void) sd_bus_reply_method_error(msg, e);
        else
                (void) sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(add_host) {
        const char *name, *uri, *cluster, *address;
        char uri_host[LIBVIRT_URI_HOST_MAX], buf[LIBVIRT_URI_REASON_MAX];
        const char *why;
        uint64_t cid;
        uint32_t addr = 0;
        int r;

        r = sd_bus_message_read(msg, "ssss", &name, &uri, &cluster, &address);
        if (r >= 0)
                r = bus_error_check_name(error, "name", name);
        if (r < 0)
                return r;
        why = libvirt_uri_invalid_reason(uri, buf, uri_host);
        if (why)
                return bus_error_setf(error, VDESK_ERROR_INVALID_ARGS, "Invalid uri: '%s' %s", uri, why);
        r = cluster_lookup(m, cluster, &cid, error);
        if (r >= 0)
                r = add_host_address(address, uri_host, &addr, error);
        if (r >= 0)
                r = host_add(m, name, uri, cid, addr, actor, on_host_added, msg, error);
        if (r < 0)
                return r;
        sd_bus_message_ref(msg);
        return 1;       /* the reply comes with the first answer, or the timeout */
}

AUTHORIZED(remove_host) {
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = host_remove(m, name, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(set_host_maintenance) {
        const char *name;
        int on, r;

        r = sd_bus_message_read(msg, "sb", &name, &on);
        if (r >= 0)
                r = host_set_maintenance(m, name, on, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static int append_host(Manager *m, sd_bus_message *reply, Host *h) {
        char addr[16] = "", cname[64];
        uint32_t desktops = 0, a;
        int r;

        r = host_desktop_count(m, h, &desktops);
        if (r < 0)
                return r;
        if (host_public_address(h, &a) >= 0)
                ipv4_format(a, addr);
        return sd_bus_message_append(reply, HOST_SIGNATURE, h->name, h->uri, cluster_name(m, h->cluster_id, cname),
                                     addr, host_state_name(h),
                                     h->up ? "" : h->reason, desktops, h->up ? h->load.running : 0,
                                     h->load.node.memory_kib, h->load.free_kib, h->load.committed_kib,
                                     h->load.cpu, h->load.score);
}

AUTHORIZED_READ(get_host) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name;
        Host *h;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        h = host_get(m, name, error);
        if (!h)
                return -ENOENT;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_host(m, reply, h);
        if (r == -EIO || r == -ENOTCONN)
                return db_bus_error(m->db, r, error);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

AUTHORIZED_READ(list_hosts) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) Host **hosts = NULL;
        size_t n = 0;
        int r;

        r = hosts_sorted(m, &hosts, &n);
        if (r >= 0)
                r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', HOST_SIGNATURE);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = append_host(m, reply, hosts[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r == -EIO || r == -ENOTCONN)
                return db_bus_error(m->db, r, error);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* Where a new desktop of the category would go, and why; nothing made. */
AUTHORIZED_READ(place_desktop) {
        _cleanup_(freep) char *reason = NULL;
        const char *category;
        uint64_t category_id = 0, cid;
        unsigned memory_mib = m->config.desktop_memory_mib;
        Host *h;
        int r;

        r = sd_bus_message_read(msg, "s", &category);
        if (r < 0)
                return r;
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
        r = host_pick(m, cid, memory_mib, &h, &reason, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "ss", h->name, strempty(reason));
}
