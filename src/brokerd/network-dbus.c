/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-error.h"
#include "manager.h"
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
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = network_delete(m, name, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

/* AssignNetwork and ReclaimNetwork */
AUTHORIZED(category_network) {
        const char *network, *category;
        int r;

        r = sd_bus_message_read(msg, "ss", &network, &category);
        if (r >= 0)
                r = streq(sd_bus_message_get_member(msg), "AssignNetwork")
                            ? network_assign(m, network, category, actor, error)
                            : network_reclaim(m, network, category, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

