/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "allocate.h"
#include "bus-error.h"
#include "cluster.h"
#include "host.h"
#include "host-dbus.h"
#include "libvirt-uri.h"
#include "log.h"
#include "manager.h"
#include "object-dbus.h"
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
        _cleanup_(freep) char *name = NULL;
        int r;

        r = bus_object_name(msg, CLUSTER_OBJECT_PREFIX, &name);
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
        _cleanup_(freep) char *cluster = NULL;
        const char *category, *member = sd_bus_message_get_member(msg);
        int r;

        r = bus_object_name(msg, CLUSTER_OBJECT_PREFIX, &cluster);
        if (r >= 0)
                r = sd_bus_message_read(msg, "s", &category);
        if (r >= 0)
                r = cluster_link(m, cluster, category, streq(member, "AssignCluster") || streq(member, "Assign"),
                                 actor, error);
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
        _cleanup_(freep) char *name = NULL;
        int r;

        r = bus_object_name(msg, HOST_OBJECT_PREFIX, &name);
        if (r >= 0)
                r = host_remove(m, name, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(set_host_maintenance) {
        _cleanup_(freep) char *name = NULL;
        int on, r;

        r = bus_object_name(msg, HOST_OBJECT_PREFIX, &name);
        if (r >= 0)
                r = sd_bus_message_read(msg, "b", &on);
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
        Host *h;
        int r;

        r = sd_bus_message_read(msg, "s", &category);
        if (r >= 0)
                r = desktop_place(m, category, &h, &reason, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "ss", h->name, strempty(reason));
}

/* ---- the Host objects --------------------------------------------------------------- */

static struct {
        Manager *manager;               /* first: the methods' userdata */
        const Host *host;
        char cluster[64];
        char address[16];
        uint32_t desktops;
} loaded_host;

static int host_load(Manager *m, const char *name, void **ret_slot) {
        uint32_t a;
        int r;

        loaded_host.manager = m;
        loaded_host.host = host_by_name(m, name);
        if (!loaded_host.host)
                return 0;
        r = host_desktop_count(m, loaded_host.host, &loaded_host.desktops);
        if (r < 0)
                return r;
        cluster_name(m, loaded_host.host->cluster_id, loaded_host.cluster);
        loaded_host.address[0] = 0;
        if (host_public_address((Host *) loaded_host.host, &a) >= 0)
                ipv4_format(a, loaded_host.address);
        *ret_slot = &loaded_host;
        return 1;
}

static int host_list(Manager *m, char ***ret) {
        _cleanup_(strv_freep) char **names = NULL;

        for (Host *h = m->hosts; h; h = h->next)
                if (strv_extend(&names, h->name) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(names);
        return 0;
}

static int property_get_host(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const Host *h = loaded_host.host;
        const HostLoad *l = &h->load;

        if (streq(property, "Name"))
                return sd_bus_message_append(reply, "s", h->name);
        if (streq(property, "URI"))
                return sd_bus_message_append(reply, "s", h->uri);
        if (streq(property, "State"))
                return sd_bus_message_append(reply, "s", host_state_name(h));
        if (streq(property, "Reason"))
                return sd_bus_message_append(reply, "s", h->up ? "" : h->reason);
        if (streq(property, "Maintenance"))
                return sd_bus_message_append(reply, "b", h->maintenance);
        if (streq(property, "KVM"))
                return sd_bus_message_append(reply, "b", host_use_kvm(h));
        if (streq(property, "Running"))
                return sd_bus_message_append(reply, "u", h->up ? l->running : 0);
        if (streq(property, "MemoryKiB"))
                return sd_bus_message_append(reply, "t", l->node.memory_kib);
        if (streq(property, "FreeKiB"))
                return sd_bus_message_append(reply, "t", l->free_kib);
        if (streq(property, "CommittedKiB"))
                return sd_bus_message_append(reply, "t", l->committed_kib);
        if (streq(property, "CPU"))
                return sd_bus_message_append(reply, "d", l->cpu);
        if (streq(property, "Score"))
                return sd_bus_message_append(reply, "d", l->score);
        return -EINVAL;
}

#define HOST_PROPERTY(name, type, flags) SD_BUS_PROPERTY(name, type, property_get_host, 0, flags)

static int object_set_host_maintenance(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return method_set_host_maintenance(msg, *(Manager **) userdata, error);
}

static int object_remove_host(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return method_remove_host(msg, *(Manager **) userdata, error);
}

static const sd_bus_vtable host_vtable[] = {
        SD_BUS_VTABLE_START(0),
        HOST_PROPERTY("Name", "s", SD_BUS_VTABLE_PROPERTY_CONST),
        HOST_PROPERTY("URI", "s", SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Cluster", "s", bus_property_get_chars, offsetof(typeof(loaded_host), cluster),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        /* [Forward] PublicAddress= or the broker's first, for a host without one of its own: read each time */
        SD_BUS_PROPERTY("Address", "s", bus_property_get_chars, offsetof(typeof(loaded_host), address), 0),
        HOST_PROPERTY("State", "s", SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        HOST_PROPERTY("Reason", "s", SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        HOST_PROPERTY("Maintenance", "b", SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        HOST_PROPERTY("KVM", "b", 0),
        /* the load: read each time, never signalled (it changes all the time) */
        SD_BUS_PROPERTY("Desktops", "u", NULL, offsetof(typeof(loaded_host), desktops), 0),
        HOST_PROPERTY("Running", "u", 0),
        HOST_PROPERTY("MemoryKiB", "t", 0),
        HOST_PROPERTY("FreeKiB", "t", 0),
        HOST_PROPERTY("CommittedKiB", "t", 0),
        HOST_PROPERTY("CPU", "d", 0),
        HOST_PROPERTY("Score", "d", 0),
        SD_BUS_METHOD_WITH_ARGS("SetMaintenance",
                                SD_BUS_ARGS("b", maintenance),
                                SD_BUS_NO_RESULT,
                                object_set_host_maintenance, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Remove",
                                SD_BUS_NO_ARGS,
                                SD_BUS_NO_RESULT,
                                object_remove_host, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

/* The Manager's HostStateChanged, as before there were objects: on every
 * change of State or Maintenance, and when a host is added. */
static void host_changed(Manager *m, const char *name, char **properties) {
        Host *h = host_by_name(m, name);

        if (!h || (properties && !strv_contains(properties, "State")))
                return;
        (void) sd_bus_emit_signal(m->bus, BROKERD_OBJECT_PATH, BROKERD_INTERFACE, "HostStateChanged", "sss",
                                  h->name, host_state_name(h), h->up ? "" : h->reason);
}

const BusObjectType host_object_type = {
        .kind = OBJECT_HOST,
        .prefix = HOST_OBJECT_PREFIX,
        .interface = BROKERD_HOST_INTERFACE,
        .vtable = host_vtable,
        .load = host_load,
        .list = host_list,
        .changed = host_changed,
};

/* ---- the Cluster objects --------------------------------------------------------- */

static struct {
        Manager *manager;               /* first: the methods' userdata */
        Cluster cluster;
} loaded_cluster;

static int cluster_load(Manager *m, const char *name, void **ret_slot) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        loaded_cluster.manager = m;
        r = cluster_get(m, name, &loaded_cluster.cluster, &e);
        if (r < 0)
                return sd_bus_error_has_name(&e, VDESK_ERROR_NO_SUCH_CLUSTER) ? 0 : r;
        *ret_slot = &loaded_cluster;
        return 1;
}

static int cluster_names(Manager *m, char ***ret) {
        _cleanup_(strv_freep) char **names = NULL;
        _cleanup_(freep) Cluster *k = NULL;
        size_t n = 0;
        int r;

        r = cluster_list(m, &k, &n);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = strv_extend(&names, k[i].name);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(names);
        return 0;
}

#define CLUSTER_FIELD(f) (offsetof(typeof(loaded_cluster), cluster) + offsetof(Cluster, f))

static int object_delete_cluster(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return method_delete_cluster(msg, *(Manager **) userdata, error);
}

static int object_category_cluster(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return method_category_cluster(msg, *(Manager **) userdata, error);
}

static const sd_bus_vtable cluster_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", bus_property_get_chars, CLUSTER_FIELD(name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Capacity", "u", NULL, CLUSTER_FIELD(capacity), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Hosts", "u", NULL, CLUSTER_FIELD(hosts), 0),
        SD_BUS_PROPERTY("Desktops", "u", NULL, CLUSTER_FIELD(desktops), 0),
        SD_BUS_METHOD_WITH_ARGS("Assign",
                                SD_BUS_ARGS("s", category),
                                SD_BUS_NO_RESULT,
                                object_category_cluster, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reclaim",
                                SD_BUS_ARGS("s", category),
                                SD_BUS_NO_RESULT,
                                object_category_cluster, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Delete",
                                SD_BUS_NO_ARGS,
                                SD_BUS_NO_RESULT,
                                object_delete_cluster, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

const BusObjectType cluster_object_type = {
        .kind = OBJECT_CLUSTER,
        .prefix = CLUSTER_OBJECT_PREFIX,
        .interface = BROKERD_CLUSTER_INTERFACE,
        .vtable = cluster_vtable,
        .load = cluster_load,
        .list = cluster_names,
};
