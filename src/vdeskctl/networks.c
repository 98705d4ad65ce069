/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vdeskctl's network commands: the catalog of department networks (a
 * subnet carried by a VLAN or a VXLAN segment), and which categories'
 * desktops join them. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network-spec.h"
#include "util.h"
#include "vdeskctl.h"

const char help_networks[] =
        "Department networks:\n"
        "  networks                         list them\n"
        "  network NAME                     show one\n"
        "  create-network NAME SUBNET GATEWAY FIRST-LAST\n"
        "                 [--vlan=ID --uplink=LINK | --vxlan=VNI --peers=ADDR,... | --group=ADDR --uplink=LINK]\n"
        "                 [--local=ADDR] [--port=UDP] [--mtu=BYTES]\n"
        "                                   e.g. create-network sales 10.30.0.0/24 10.30.0.1\n"
        "                                   10.30.0.10-10.30.0.250 --vlan=30 --uplink=eth1\n"
        "  delete-network NAME              refused while a desktop or a category uses it\n"
        "  assign-network NETWORK CATEGORY  new desktops of the category join the network\n"
        "  reclaim-network NETWORK CATEGORY they join the host's desktop network again\n\n";

typedef struct NetworkRow {
        const char *name, *subnet, *gateway, *range, *segment, *bridge, *uplink, *local, *group;
        uint32_t vlan, vni, mtu, allocated, size;
        uint16_t port;
        char **peers;
} NetworkRow;

static void network_row_done(NetworkRow *n) {
        strv_free(n->peers);
        n->peers = NULL;
}

static int read_network(sd_bus_message *m, NetworkRow *n) {
        int r;

        r = sd_bus_message_enter_container(m, 'r', NETWORK_FIELDS);
        if (r <= 0)
                return r;
        r = sd_bus_message_read(m, "ssssssususs", &n->name, &n->subnet, &n->gateway, &n->range, &n->segment,
                                &n->bridge, &n->vlan, &n->uplink, &n->vni, &n->local, &n->group);
        if (r >= 0)
                r = sd_bus_message_read_strv(m, &n->peers);
        if (r >= 0)
                r = sd_bus_message_read(m, "quuu", &n->port, &n->mtu, &n->allocated, &n->size);
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        return r < 0 ? r : 1;
}

/* "vlan 30 on eth1", "vxlan 4000", "none" */
static void segment_text(const NetworkRow *n, char *buf, size_t size) {
        if (streq(n->segment, "vlan"))
                snprintf(buf, size, "vlan %u on %s", n->vlan, n->uplink);
        else if (streq(n->segment, "vxlan"))
                snprintf(buf, size, "vxlan %u", n->vni);
        else
                snprintf(buf, size, "%s", n->segment);
}

static int cmd_networks(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        unsigned k = 0;
        int r;

        if (bus_call_list(&reply, BROKERD, "ListNetworks", NETWORK_SIGNATURE) < 0)
                return EXIT_FAILURE;
        printf("%-16s %-18s %-15s %-20s %-14s %s\n", "NETWORK", "SUBNET", "GATEWAY", "SEGMENT", "BRIDGE", "ADDRESSES");
        for (;;) {
                NetworkRow n = {};
                char seg[64];

                r = read_network(reply, &n);
                if (r <= 0)
                        break;
                segment_text(&n, seg, sizeof seg);
                printf("%-16s %-18s %-15s %-20s %-14s %u of %u taken\n", n.name, n.subnet, n.gateway, seg, n.bridge,
                       n.allocated, n.size);
                network_row_done(&n);
                k++;
        }
        return print_list_end(r, k, "network");
}

static int cmd_network(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(freep) char *peers = NULL;
        NetworkRow n = {};
        char seg[64];
        int r;

        r = bus_call_method(&reply, &e, 0, BROKERD, "GetNetwork", "s", args[0]);
        if (r < 0)
                return print_bus_error(&e, r);
        r = read_network(reply, &n);
        if (r < 0)
                return print_bus_error(NULL, r);
        segment_text(&n, seg, sizeof seg);
        peers = strv_join(n.peers, ", ");
        printf("  Network: %s\n   Subnet: %s (gateway %s)\n    Range: %s (%u of %u taken)\n  Segment: %s\n   Bridge: %s\n"
               "      MTU: %u\n",
               n.name, n.subnet, n.gateway, n.range, n.allocated, n.size, seg, n.bridge, n.mtu);
        if (streq(n.segment, "vxlan"))
                printf("     Port: %u\n    Peers: %s\n    Group: %s\n    Local: %s\n", n.port,
                       isempty(peers) ? "-" : peers, isempty(n.group) ? "-" : n.group,
                       isempty(n.local) ? "each host's own among the peers" : n.local);
        network_row_done(&n);
        return EXIT_SUCCESS;
}

static int cmd_create_network(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(strv_freep) char **peers = NULL;
        _cleanup_(freep) char *first = NULL;
        const char *dash = strchr(args[3], '-'), *segment = "none";
        int r;

        if (!dash) {
                fprintf(stderr, "vdeskctl: the range '%s' is not FIRST-LAST\n", args[3]);
                return EXIT_FAILURE;
        }
        first = strndup(args[3], (size_t) (dash - args[3]));
        if (!first)
                return print_bus_error(NULL, -ENOMEM);
        if (arg_vlan && (arg_vni || arg_peers || arg_group)) {
                fprintf(stderr, "vdeskctl: a network is on a VLAN or on VXLAN, not both\n");
                return EXIT_FAILURE;
        }
        if (arg_vlan)
                segment = "vlan";
        else if (arg_vni || arg_peers || arg_group)
                segment = "vxlan";
        for (const char *p = arg_peers; p && *p; ) {
                const char *c = strchrnul(p, ',');
                _cleanup_(freep) char *one = strndup(p, (size_t) (c - p));

                if (!one || strv_extend(&peers, one) < 0)
                        return print_bus_error(NULL, -ENOMEM);
                p = *c ? c + 1 : c;
        }
        r = sd_bus_message_new_method_call(vdesk_bus, &m, BROKERD, "CreateNetwork");
        if (r >= 0)
                r = sd_bus_message_append(m, "ssssssusus", args[0], args[1], args[2], first, dash + 1, segment,
                                          arg_vlan, strempty(arg_uplink), arg_vni, strempty(arg_local));
        if (r >= 0)
                r = sd_bus_message_append_strv(m, peers);
        if (r >= 0)
                r = sd_bus_message_append(m, "squ", strempty(arg_group), arg_port, arg_mtu);
        if (r >= 0)
                r = bus_call_message(m, 0, &e, NULL);
        if (r < 0)
                return print_bus_error(&e, r);
        printf("Created network %s (%s, %s).\n", args[0], args[1], segment);
        return EXIT_SUCCESS;
}

static int cmd_delete_network(char **args) {
        return bus_call_simple(BROKERD, "DeleteNetwork", "s", args[0], NULL, "Deleted network");
}

/* AssignNetwork or ReclaimNetwork NETWORK CATEGORY */
static int category_network(char **args, bool assign) {
        int r = bus_call_simple(BROKERD, assign ? "AssignNetwork" : "ReclaimNetwork", "ss", args[0], args[1], NULL);

        if (r == EXIT_SUCCESS)
                printf("New desktops of category %s %s network %s.\n", args[1], assign ? "join" : "no longer join",
                       args[0]);
        return r;
}

static int cmd_assign_network(char **args) { return category_network(args, true); }
static int cmd_reclaim_network(char **args) { return category_network(args, false); }

const Verb network_verbs[] = {
        { "networks",        0, 0, cmd_networks },
        { "network",         1, 1, cmd_network },
        { "create-network",  4, 4, cmd_create_network },
        { "delete-network",  1, 1, cmd_delete_network },
        { "assign-network",  2, 2, cmd_assign_network },
        { "reclaim-network", 2, 2, cmd_reclaim_network },
        {}
};
