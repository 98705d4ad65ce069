/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

/* A department network as the catalog keeps it, and the checks a new one
 * passes: on its own (every field), and against the networks there are
 * (subnets apart, a VLAN id once per uplink, a VNI once). No database and
 * no database here: the checks are the unit tests'. Addresses in host order. */

typedef enum SegmentType {
        SEGMENT_NONE,           /* the bridge alone: a host's own network */
        SEGMENT_VLAN,           /* <uplink>.<vlan id> on the bridge */
        SEGMENT_VXLAN,          /* a VXLAN device on the bridge */
        _SEGMENT_MAX,
        _SEGMENT_INVALID = -EINVAL,
} SegmentType;

const char *segment_type_to_string(SegmentType t);
SegmentType segment_type_from_string(const char *s);

#define NETWORK_MAX_PEERS 64
#define NETWORK_MAX_RANGE 65534         /* addresses in one network's range */
#define VXLAN_DEFAULT_PORT 4789         /* IANA's */
#define NETWORK_DEFAULT_MTU 1500
#define VXLAN_OVERHEAD 50               /* outer Ethernet, IPv4, UDP, VXLAN */

typedef struct NetworkSpec {
        char name[64];
        uint32_t subnet;
        unsigned prefix;
        uint32_t gateway, range_start, range_end;
        SegmentType segment;
        unsigned vlan_id;
        char uplink[16];                /* vlan: its parent; vxlan: the underlay's link ("" any) */
        unsigned vni;
        uint32_t local;                 /* vxlan: 0, each host's own address among the peers */
        uint32_t group;                 /* vxlan: a multicast group, or 0 */
        uint32_t peers[NETWORK_MAX_PEERS];
        size_t n_peers;
        uint16_t port;
        unsigned mtu;
} NetworkSpec;

/* Reads a network as brokerd's CreateNetwork and netd's methods take it
 * (NETWORK_SPEC_ARGS), naming the field of a value that is not what it
 * says (an address, a subnet, a segment type); the segment's fields that
 * do not apply are 0 or "". Checks nothing else: network_spec_check(). */
#define NETWORK_SPEC_SIGNATURE "ssssssususassqu"
#define NETWORK_SPEC_ARGS \
        "s", name, "s", subnet, "s", gateway, "s", range_start, "s", range_end, "s", segment, "u", vlan, \
        "s", uplink, "u", vni, "s", local, "as", peers, "s", group, "q", port, "u", mtu
int network_spec_read(sd_bus_message *m, NetworkSpec *s, sd_bus_error *error);
/* The other way: s as those arguments. */
int network_spec_append(sd_bus_message *m, const NetworkSpec *s);

/* Checks every field and fills in the defaults (port, MTU). Errors are
 * InvalidArgs naming the field. */
int network_spec_check(NetworkSpec *s, sd_bus_error *error);

/* Whether the subnets of a and b share an address. */
bool network_spec_overlaps(const NetworkSpec *a, const NetworkSpec *b);

/* Checks s against the networks there are: its name, subnet, VLAN id on
 * its uplink and VNI are nobody else's (NetworkExists, NetworkOverlap,
 * SegmentTaken, naming the other network). */
int network_spec_check_against(const NetworkSpec *s, const NetworkSpec *others, size_t n, sd_bus_error *error);

/* The number of addresses in s's range. */
static inline uint32_t network_spec_range_size(const NetworkSpec *s) {
        return s->range_end - s->range_start + 1;
}

/* The names of the links vdesk makes for s on a host (bridge: "vdbr" and
 * the network's id; VLAN: "<uplink>.<id>"; VXLAN: "vdvx" and the VNI). */
void network_bridge_name(uint32_t id, char buf[static 16]);
int network_segment_name(const NetworkSpec *s, char buf[static 16]);
