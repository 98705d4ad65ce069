/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-error.h"
#include "manager.h"
#include "object-dbus.h"
#include "network.h"
#include "network-dbus.h"
#include "polkit.h"
#include "util.h"

/* The department networks' methods: polkit's org.vdesk.broker1.read to
 * read, org.vdesk.broker1.manage to change. */

#define AUTHORIZED(name) POLKIT_METHOD_EXPORTED(name, Manager, BROKERD_ACTION_MANAGE)
#define AUTHORIZED_READ(name) POLKIT_METHOD_EXPORTED(name, Manager, BROKERD_ACTION_READ)

/* ---- networks ------------------------------------------------------------------ */

AUTHORIZED(create_network) {
        NetworkSpec s = {};
        int r;

        r = network_spec_read(msg, &s, error);
        if (r >= 0)
                r = network_create(m, &s, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static int append_network(sd_bus_message *reply, const Network *n) {
        const NetworkSpec *s = &n->spec;
        char subnet[20], gateway[16], range[32], a[16], b[16], local[16] = "", group[16] = "";
        int r;

        ipv4_format(s->subnet, a);
        snprintf(subnet, sizeof subnet, "%s/%u", a, s->prefix);
        ipv4_format(s->gateway, gateway);
        ipv4_format(s->range_start, a);
        ipv4_format(s->range_end, b);
        snprintf(range, sizeof range, "%s-%s", a, b);
        if (s->local)
                ipv4_format(s->local, local);
        if (s->group)
                ipv4_format(s->group, group);
        r = sd_bus_message_open_container(reply, 'r', NETWORK_FIELDS);
        if (r >= 0)
                r = sd_bus_message_append(reply, "ssssssususs", s->name, subnet, gateway, range,
                                          segment_type_to_string(s->segment), n->bridge, s->vlan_id, s->uplink, s->vni,
                                          local, group);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "s");
        for (size_t i = 0; r >= 0 && i < s->n_peers; i++) {
                ipv4_format(s->peers[i], a);
                r = sd_bus_message_append(reply, "s", a);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "quuu", s->port, s->mtu, n->allocated, network_spec_range_size(s));
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

AUTHORIZED_READ(list_networks) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) Network *n = NULL;
        size_t k = 0;
        int r;

        r = network_list(m, &n, &k);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', NETWORK_SIGNATURE);
        for (size_t i = 0; r >= 0 && i < k; i++)
                r = append_network(reply, &n[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

AUTHORIZED_READ(get_network) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name;
        Network n;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = network_get(m, name, &n, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_network(reply, &n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

AUTHORIZED(delete_network) {
        _cleanup_(freep) char *name = NULL;
        int r;

        r = bus_object_name(msg, NETWORK_OBJECT_PREFIX, &name);
        if (r >= 0)
                r = network_delete(m, name, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

/* AssignNetwork and ReclaimNetwork */
AUTHORIZED(category_network) {
        _cleanup_(freep) char *network = NULL;
        const char *category, *member = sd_bus_message_get_member(msg);
        int r;

        r = bus_object_name(msg, NETWORK_OBJECT_PREFIX, &network);
        if (r >= 0)
                r = sd_bus_message_read(msg, "s", &category);
        if (r >= 0)
                r = streq(member, "AssignNetwork") || streq(member, "Assign")
                            ? network_assign(m, network, category, actor, error)
                            : network_reclaim(m, network, category, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}


/* ---- the Network objects ------------------------------------------------------------ */

static struct {
        Manager *manager;               /* first: the methods' userdata */
        Network network;
} loaded_network;

static int network_load(Manager *m, const char *name, void **ret_slot) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        loaded_network.manager = m;
        r = network_get(m, name, &loaded_network.network, &e);
        if (r < 0)
                return sd_bus_error_has_name(&e, VDESK_ERROR_NO_SUCH_NETWORK) ? 0 : r;
        *ret_slot = &loaded_network;
        return 1;
}

static int network_names(Manager *m, char ***ret) {
        _cleanup_(strv_freep) char **names = NULL;
        _cleanup_(freep) Network *n = NULL;
        size_t k = 0;
        int r;

        r = network_list(m, &n, &k);
        for (size_t i = 0; r >= 0 && i < k; i++)
                r = strv_extend(&names, n[i].spec.name);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(names);
        return 0;
}

static int append_address(sd_bus_message *reply, uint32_t a) {
        char buf[16] = "";

        if (a)
                ipv4_format(a, buf);
        return sd_bus_message_append(reply, "s", buf);
}

static int property_get_network(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const Network *n = &loaded_network.network;
        const NetworkSpec *s = &n->spec;
        char a[16], b[16], text[40];
        int r;

        if (streq(property, "Subnet")) {
                ipv4_format(s->subnet, a);
                snprintf(text, sizeof text, "%s/%u", a, s->prefix);
                return sd_bus_message_append(reply, "s", text);
        }
        if (streq(property, "Range")) {
                ipv4_format(s->range_start, a);
                ipv4_format(s->range_end, b);
                snprintf(text, sizeof text, "%s-%s", a, b);
                return sd_bus_message_append(reply, "s", text);
        }
        if (streq(property, "Gateway"))
                return append_address(reply, s->gateway);
        if (streq(property, "Local"))
                return append_address(reply, s->local);
        if (streq(property, "Group"))
                return append_address(reply, s->group);
        if (streq(property, "Segment"))
                return sd_bus_message_append(reply, "s", segment_type_to_string(s->segment));
        if (streq(property, "Size"))
                return sd_bus_message_append(reply, "u", network_spec_range_size(s));
        if (streq(property, "Peers")) {
                r = sd_bus_message_open_container(reply, 'a', "s");
                for (size_t i = 0; r >= 0 && i < s->n_peers; i++)
                        r = append_address(reply, s->peers[i]);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                return r;
        }
        return -EINVAL;
}

#define NETWORK_FIELD(f) (offsetof(typeof(loaded_network), network) + offsetof(Network, f))
#define SPEC_FIELD(f) (NETWORK_FIELD(spec) + offsetof(NetworkSpec, f))
#define NETWORK_PROPERTY(name, type) SD_BUS_PROPERTY(name, type, property_get_network, 0, SD_BUS_VTABLE_PROPERTY_CONST)

static int object_delete_network(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return method_delete_network(msg, *(Manager **) userdata, error);
}

static int object_category_network(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return method_category_network(msg, *(Manager **) userdata, error);
}

static const sd_bus_vtable network_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", bus_property_get_chars, SPEC_FIELD(name), SD_BUS_VTABLE_PROPERTY_CONST),
        NETWORK_PROPERTY("Subnet", "s"),
        NETWORK_PROPERTY("Gateway", "s"),
        NETWORK_PROPERTY("Range", "s"),
        NETWORK_PROPERTY("Segment", "s"),
        SD_BUS_PROPERTY("Bridge", "s", bus_property_get_chars, NETWORK_FIELD(bridge), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("VLAN", "u", NULL, SPEC_FIELD(vlan_id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Uplink", "s", bus_property_get_chars, SPEC_FIELD(uplink), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("VNI", "u", NULL, SPEC_FIELD(vni), SD_BUS_VTABLE_PROPERTY_CONST),
        NETWORK_PROPERTY("Local", "s"),
        NETWORK_PROPERTY("Group", "s"),
        NETWORK_PROPERTY("Peers", "as"),
        SD_BUS_PROPERTY("Port", "q", NULL, SPEC_FIELD(port), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MTU", "u", NULL, SPEC_FIELD(mtu), SD_BUS_VTABLE_PROPERTY_CONST),
        NETWORK_PROPERTY("Size", "u"),
        /* the addresses desktops hold: read each time, never signalled */
        SD_BUS_PROPERTY("Allocated", "u", NULL, NETWORK_FIELD(allocated), 0),
        SD_BUS_METHOD_WITH_ARGS("Assign",
                                SD_BUS_ARGS("s", category),
                                SD_BUS_NO_RESULT,
                                object_category_network, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reclaim",
                                SD_BUS_ARGS("s", category),
                                SD_BUS_NO_RESULT,
                                object_category_network, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Delete",
                                SD_BUS_NO_ARGS,
                                SD_BUS_NO_RESULT,
                                object_delete_network, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

const BusObjectType network_object_type = {
        .kind = OBJECT_NETWORK,
        .prefix = NETWORK_OBJECT_PREFIX,
        .interface = BROKERD_NETWORK_INTERFACE,
        .vtable = network_vtable,
        .load = network_load,
        .list = network_names,
};
