/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>

#include "bus-error.h"
#include "macro.h"
#include "network-spec.h"
#include "util.h"

static const char *const segment_type_table[_SEGMENT_MAX] = {
        [SEGMENT_NONE] = "none",
        [SEGMENT_VLAN] = "vlan",
        [SEGMENT_VXLAN] = "vxlan",
};

DEFINE_STRING_TABLE_LOOKUP(segment_type, SegmentType);

static uint32_t last_address(uint32_t subnet, unsigned prefix) {
        return subnet | ~ipv4_netmask(prefix);
}

/* A host's address in s's subnet: neither the subnet's own address nor its
 * broadcast address. */
static bool is_host_address(const NetworkSpec *s, uint32_t a) {
        return (a & ipv4_netmask(s->prefix)) == s->subnet && a != s->subnet &&
               a != last_address(s->subnet, s->prefix);
}

#define INVALID(e, ...) bus_error_setf(e, SD_BUS_ERROR_INVALID_ARGS, __VA_ARGS__)

static int check_addresses(const NetworkSpec *s, sd_bus_error *e) {
        char a[16], b[16], net[16];

        ipv4_format(s->subnet, net);
        if (s->prefix < 8 || s->prefix > 30)
                return INVALID(e, "Invalid subnet: /%u is not within /8-/30", s->prefix);
        if (s->subnet & ~ipv4_netmask(s->prefix)) {
                ipv4_format(s->subnet & ipv4_netmask(s->prefix), a);
                return INVALID(e, "Invalid subnet: %s/%u has host bits set (the subnet is %s/%u)", net, s->prefix,
                               a, s->prefix);
        }
        if (!ipv4_is_unicast(s->subnet))
                return INVALID(e, "Invalid subnet: %s/%u is not a unicast range", net, s->prefix);

        ipv4_format(s->gateway, a);
        if (!is_host_address(s, s->gateway))
                return INVALID(e, "Invalid gateway: %s is not a host address of %s/%u", a, net, s->prefix);

        ipv4_format(s->range_start, a);
        ipv4_format(s->range_end, b);
        if (!is_host_address(s, s->range_start))
                return INVALID(e, "Invalid range: its start %s is not a host address of %s/%u", a, net, s->prefix);
        if (!is_host_address(s, s->range_end))
                return INVALID(e, "Invalid range: its end %s is not a host address of %s/%u", b, net, s->prefix);
        if (s->range_start > s->range_end)
                return INVALID(e, "Invalid range: %s-%s ends before it starts", a, b);
        if (s->gateway >= s->range_start && s->gateway <= s->range_end) {
                char g[16];

                ipv4_format(s->gateway, g);
                return INVALID(e, "Invalid range: %s-%s holds the gateway %s", a, b, g);
        }
        if (network_spec_range_size(s) > NETWORK_MAX_RANGE)
                return INVALID(e, "Invalid range: %s-%s holds %u addresses, more than %u", a, b,
                               network_spec_range_size(s), NETWORK_MAX_RANGE);
        return 0;
}

static int check_uplink(const NetworkSpec *s, bool required, sd_bus_error *e) {
        const char *why;

        if (isempty(s->uplink) && !required)
                return 0;
        why = ifname_invalid_reason(s->uplink);
        if (why)
                return INVALID(e, "Invalid uplink: '%s' %s", s->uplink, why);
        return 0;
}

static int check_segment(NetworkSpec *s, sd_bus_error *e) {
        char a[16];
        int r;

        switch (s->segment) {
        case SEGMENT_NONE:
                if (s->vlan_id || s->vni || *s->uplink || s->n_peers || s->group || s->local || s->port)
                        return INVALID(e, "Invalid segment: 'none' takes no VLAN, VXLAN or uplink settings");
                break;

        case SEGMENT_VLAN: {
                char name[16];

                if (s->vlan_id < 1 || s->vlan_id > 4094)
                        return INVALID(e, "Invalid vlan: %u is not within 1-4094", s->vlan_id);
                r = check_uplink(s, true, e);
                if (r < 0)
                        return r;
                if (network_segment_name(s, name) < 0)
                        return INVALID(e, "Invalid uplink: '%s.%u' would be longer than 15 bytes", s->uplink,
                                       s->vlan_id);
                if (s->vni || s->n_peers || s->group || s->local || s->port)
                        return INVALID(e, "Invalid segment: 'vlan' takes no VXLAN settings");
                break;
        }

        case SEGMENT_VXLAN:
                if (s->vni < 1 || s->vni > 16777215)
                        return INVALID(e, "Invalid vni: %u is not within 1-16777215", s->vni);
                if (s->vlan_id)
                        return INVALID(e, "Invalid segment: 'vxlan' takes no VLAN id");
                r = check_uplink(s, false, e);
                if (r < 0)
                        return r;
                if (s->local && !ipv4_is_unicast(s->local)) {
                        ipv4_format(s->local, a);
                        return INVALID(e, "Invalid local: %s is not a unicast address", a);
                }
                if (s->group && !ipv4_is_multicast(s->group)) {
                        ipv4_format(s->group, a);
                        return INVALID(e, "Invalid group: %s is not a multicast address", a);
                }
                if (s->group && s->n_peers > 0)
                        return INVALID(e, "Invalid peers: a network has peers or a multicast group, not both");
                if (!s->group && s->n_peers == 0)
                        return INVALID(e, "Invalid peers: a VXLAN network needs its peers or a multicast group");
                if (s->group && !*s->uplink)
                        return INVALID(e, "Invalid uplink: a multicast group needs the uplink it is joined on");
                for (size_t i = 0; i < s->n_peers; i++) {
                        ipv4_format(s->peers[i], a);
                        if (!ipv4_is_unicast(s->peers[i]))
                                return INVALID(e, "Invalid peers: %s is not a unicast address", a);
                        for (size_t j = 0; j < i; j++)
                                if (s->peers[j] == s->peers[i])
                                        return INVALID(e, "Invalid peers: %s is given twice", a);
                }
                if (s->port == 0)
                        s->port = VXLAN_DEFAULT_PORT;
                break;

        default:
                return INVALID(e, "Invalid segment: is not none, vlan or vxlan");
        }
        return 0;
}

int network_spec_check(NetworkSpec *s, sd_bus_error *error) {
        unsigned max_mtu;
        int r;

        r = bus_error_check_name(error, "name", s->name);
        if (r < 0)
                return r;
        r = check_addresses(s, error);
        if (r < 0)
                return r;
        r = check_segment(s, error);
        if (r < 0)
                return r;
        /* a VXLAN frame carries its own headers inside the underlay's MTU */
        max_mtu = s->segment == SEGMENT_VXLAN ? 9000 - VXLAN_OVERHEAD : 9000;
        if (s->mtu == 0)
                s->mtu = s->segment == SEGMENT_VXLAN ? NETWORK_DEFAULT_MTU - VXLAN_OVERHEAD : NETWORK_DEFAULT_MTU;
        if (s->mtu < 576 || s->mtu > max_mtu)
                return INVALID(error, "Invalid mtu: %u is not within 576-%u", s->mtu, max_mtu);
        return 0;
}

bool network_spec_overlaps(const NetworkSpec *a, const NetworkSpec *b) {
        return a->subnet <= last_address(b->subnet, b->prefix) && b->subnet <= last_address(a->subnet, a->prefix);
}

int network_spec_check_against(const NetworkSpec *s, const NetworkSpec *others, size_t n, sd_bus_error *error) {
        for (size_t i = 0; i < n; i++) {
                const NetworkSpec *o = &others[i];
                char a[16], b[16];

                if (streq(o->name, s->name))
                        return bus_error_setf(error, VDESK_ERROR_NETWORK_EXISTS,
                                              "Invalid name: network '%s' exists already", s->name);
                if (network_spec_overlaps(s, o)) {
                        ipv4_format(s->subnet, a);
                        ipv4_format(o->subnet, b);
                        return bus_error_setf(error, VDESK_ERROR_NETWORK_OVERLAP,
                                              "Invalid subnet: %s/%u overlaps %s/%u of network '%s'", a, s->prefix,
                                              b, o->prefix, o->name);
                }
                if (s->segment == SEGMENT_VLAN && o->segment == SEGMENT_VLAN && s->vlan_id == o->vlan_id &&
                    streq(s->uplink, o->uplink))
                        return bus_error_setf(error, VDESK_ERROR_SEGMENT_TAKEN,
                                              "Invalid vlan: %u on %s is taken by network '%s'", s->vlan_id,
                                              s->uplink, o->name);
                if (s->segment == SEGMENT_VXLAN && o->segment == SEGMENT_VXLAN && s->vni == o->vni)
                        return bus_error_setf(error, VDESK_ERROR_SEGMENT_TAKEN,
                                              "Invalid vni: %u is taken by network '%s'", s->vni, o->name);
        }
        return 0;
}

void network_bridge_name(uint32_t id, char buf[static 16]) {
        snprintf(buf, 16, "vdbr%" PRIu32, id);
}

int network_segment_name(const NetworkSpec *s, char buf[static 16]) {
        int l;

        switch (s->segment) {
        case SEGMENT_VLAN:
                l = snprintf(buf, 16, "%s.%u", s->uplink, s->vlan_id);
                return l >= 16 ? -ENAMETOOLONG : 0;
        case SEGMENT_VXLAN:
                snprintf(buf, 16, "vdvx%u", s->vni);
                return 0;
        default:
                buf[0] = 0;
                return -ENOENT;
        }
}

/* ---- on the bus --------------------------------------------------------------- */

/* One address field of CreateNetwork, named in its error. */
static int read_address(sd_bus_error *error, const char *field, const char *text, uint32_t *ret) {
        if (ipv4_parse(text, ret) < 0)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid %s: '%s' is not an IPv4 address",
                                      field, text);
        return 0;
}

int network_spec_read(sd_bus_message *msg, NetworkSpec *s, sd_bus_error *error) {
        const char *name, *subnet, *gateway, *start, *end, *segment, *uplink, *local, *group, *peer;
        int r;

        r = sd_bus_message_read(msg, "ssssssusus", &name, &subnet, &gateway, &start, &end, &segment, &s->vlan_id,
                                &uplink, &s->vni, &local);
        if (r < 0)
                return r;
        r = bus_error_check_name(error, "name", name);
        if (r < 0)
                return r;
        snprintf(s->name, sizeof s->name, "%s", name);
        if (ipv4_cidr_parse(subnet, &s->subnet, &s->prefix) < 0)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                      "Invalid subnet: '%s' is not an IPv4 subnet (a.b.c.d/len)", subnet);
        r = read_address(error, "gateway", gateway, &s->gateway);
        if (r >= 0)
                r = read_address(error, "range", start, &s->range_start);
        if (r >= 0)
                r = read_address(error, "range", end, &s->range_end);
        if (r < 0)
                return r;
        s->segment = segment_type_from_string(segment);
        if (s->segment < 0)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                      "Invalid segment: '%s' is not none, vlan or vxlan", segment);
        if (strlen(uplink) >= sizeof s->uplink)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid uplink: '%s' is longer than 15 bytes",
                                      uplink);
        strcpy(s->uplink, uplink);
        if (!isempty(local)) {
                r = read_address(error, "local", local, &s->local);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_enter_container(msg, 'a', "s");
        while (r >= 0 && (r = sd_bus_message_read(msg, "s", &peer)) > 0) {
                if (s->n_peers >= NETWORK_MAX_PEERS)
                        return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid peers: more than %u",
                                              NETWORK_MAX_PEERS);
                r = read_address(error, "peers", peer, &s->peers[s->n_peers++]);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(msg);
        if (r >= 0)
                r = sd_bus_message_read(msg, "squ", &group, &s->port, &s->mtu);
        if (r >= 0 && !isempty(group))
                r = read_address(error, "group", group, &s->group);
        return r;
}

int network_spec_append(sd_bus_message *m, const NetworkSpec *s) {
        char subnet[24], gw[16], lo[16], hi[16], local[16] = "", group[16] = "", a[16];
        int r;

        ipv4_format(s->subnet, a);
        snprintf(subnet, sizeof subnet, "%s/%u", a, s->prefix);
        ipv4_format(s->gateway, gw);
        ipv4_format(s->range_start, lo);
        ipv4_format(s->range_end, hi);
        if (s->local)
                ipv4_format(s->local, local);
        if (s->group)
                ipv4_format(s->group, group);
        r = sd_bus_message_append(m, "ssssssusus", s->name, subnet, gw, lo, hi, segment_type_to_string(s->segment),
                                  s->vlan_id, s->uplink, s->vni, local);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "s");
        for (size_t i = 0; r >= 0 && i < s->n_peers; i++) {
                ipv4_format(s->peers[i], a);
                r = sd_bus_message_append(m, "s", a);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "squ", group, s->port, s->mtu);
        return r;
}
