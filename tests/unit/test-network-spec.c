/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* A department network's checks: every field on its own (with the field
 * named in the error), and against the networks there are. */

#include "bus-error.h"
#include "macro.h"
#include "network-spec.h"
#include "tests.h"
#include "util.h"

static uint32_t ip(const char *s) {
        uint32_t a = 0;

        CHECK_INT(ipv4_parse(s, &a), 0);
        return a;
}

/* 10.30.0.0/24, gateway .1, range .10-.250, VLAN 30 on eth1 */
static NetworkSpec vlan_spec(const char *name) {
        NetworkSpec s = {
                .subnet = ip("10.30.0.0"), .prefix = 24, .gateway = ip("10.30.0.1"),
                .range_start = ip("10.30.0.10"), .range_end = ip("10.30.0.250"),
                .segment = SEGMENT_VLAN, .vlan_id = 30, .uplink = "eth1",
        };

        snprintf(s.name, sizeof s.name, "%s", name);
        return s;
}

static NetworkSpec vxlan_spec(const char *name) {
        NetworkSpec s = {
                .subnet = ip("10.40.0.0"), .prefix = 24, .gateway = ip("10.40.0.1"),
                .range_start = ip("10.40.0.10"), .range_end = ip("10.40.0.250"),
                .segment = SEGMENT_VXLAN, .vni = 4000, .peers = { ip("192.0.2.1"), ip("192.0.2.2") }, .n_peers = 2,
        };

        snprintf(s.name, sizeof s.name, "%s", name);
        return s;
}

/* e is the error name with a message holding text */
static void check_error(const sd_bus_error *e, const char *name, const char *text) {
        CHECK_STR(e->name, name);
        if (!e->message || !strstr(e->message, text)) {
                test_failed++;
                fprintf(stderr, "expected '%s' in '%s'\n", text, strempty(e->message));
        } else
                test_passed++;
}

/* s is refused with error name and a message holding text */
static void refused(NetworkSpec s, const char *name, const char *text) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

        CHECK(network_spec_check(&s, &e) < 0);
        check_error(&e, name, text);
}

#define IA SD_BUS_ERROR_INVALID_ARGS

static void test_valid(void) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        NetworkSpec v = vlan_spec("sales"), x = vxlan_spec("eng"), n = vlan_spec("lab");
        char buf[16];

        CHECK_INT(network_spec_check(&v, &e), 0);
        CHECK_INT(v.mtu, 1500);
        CHECK_INT(network_spec_range_size(&v), 241);
        CHECK_INT(network_spec_check(&x, &e), 0);
        CHECK_INT(x.mtu, 1450);                 /* the VXLAN headers fit under 1500 */
        CHECK_INT(x.port, 4789);
        n.segment = SEGMENT_NONE;
        n.vlan_id = 0;
        n.uplink[0] = 0;
        CHECK_INT(network_spec_check(&n, &e), 0);

        CHECK_INT(network_segment_name(&v, buf), 0);
        CHECK_STR(buf, "eth1.30");
        CHECK_INT(network_segment_name(&x, buf), 0);
        CHECK_STR(buf, "vdvx4000");
        CHECK_INT(network_segment_name(&n, buf), -ENOENT);
        network_bridge_name(4294967295u, buf);
        CHECK_STR(buf, "vdbr4294967295");
        CHECK(!ifname_invalid_reason(buf));
        CHECK_INT(segment_type_from_string("vxlan"), SEGMENT_VXLAN);
        CHECK_INT(segment_type_from_string("VLAN"), _SEGMENT_INVALID);
        CHECK_STR(segment_type_to_string(SEGMENT_VLAN), "vlan");
}

static void test_fields(void) {
        NetworkSpec s;

        s = vlan_spec("a/b");
        refused(s, IA, "Invalid name: may hold only");
        s = vlan_spec("");
        refused(s, IA, "Invalid name: is empty");

        s = vlan_spec("x");
        s.subnet = ip("10.30.0.7");
        refused(s, IA, "Invalid subnet: 10.30.0.7/24 has host bits set (the subnet is 10.30.0.0/24)");
        s = vlan_spec("x");
        s.prefix = 31;
        refused(s, IA, "Invalid subnet: /31 is not within /8-/30");
        s = vlan_spec("x");
        s.subnet = ip("224.1.0.0");
        s.gateway = ip("224.1.0.1");
        s.range_start = ip("224.1.0.10");
        s.range_end = ip("224.1.0.20");
        refused(s, IA, "Invalid subnet: 224.1.0.0/24 is not a unicast range");

        s = vlan_spec("x");
        s.gateway = ip("10.31.0.1");
        refused(s, IA, "Invalid gateway: 10.31.0.1 is not a host address of 10.30.0.0/24");
        s = vlan_spec("x");
        s.gateway = ip("10.30.0.255");
        refused(s, IA, "Invalid gateway: 10.30.0.255 is not a host address");
        s = vlan_spec("x");
        s.range_end = ip("10.30.1.20");
        refused(s, IA, "Invalid range: its end 10.30.1.20 is not a host address of 10.30.0.0/24");
        s = vlan_spec("x");
        s.range_start = ip("10.30.0.0");
        refused(s, IA, "Invalid range: its start 10.30.0.0 is not a host address");
        s = vlan_spec("x");
        s.range_start = ip("10.30.0.200");
        s.range_end = ip("10.30.0.100");
        refused(s, IA, "Invalid range: 10.30.0.200-10.30.0.100 ends before it starts");
        s = vlan_spec("x");
        s.gateway = ip("10.30.0.20");
        refused(s, IA, "Invalid range: 10.30.0.10-10.30.0.250 holds the gateway 10.30.0.20");
        s = vlan_spec("x");
        s.subnet = ip("10.0.0.0");
        s.prefix = 8;
        s.gateway = ip("10.0.0.1");
        s.range_start = ip("10.0.0.2");
        s.range_end = ip("10.1.0.10");
        refused(s, IA, "Invalid range: 10.0.0.2-10.1.0.10 holds 65545 addresses, more than 65534");

        s = vlan_spec("x");
        s.vlan_id = 0;
        refused(s, IA, "Invalid vlan: 0 is not within 1-4094");
        s.vlan_id = 4095;
        refused(s, IA, "Invalid vlan: 4095 is not within 1-4094");
        s = vlan_spec("x");
        s.uplink[0] = 0;
        refused(s, IA, "Invalid uplink: '' is empty");
        s = vlan_spec("x");
        snprintf(s.uplink, sizeof s.uplink, "enp0s31f6abcd");
        refused(s, IA, "Invalid uplink: 'enp0s31f6abcd.30' would be longer than 15 bytes");
        s = vlan_spec("x");
        snprintf(s.uplink, sizeof s.uplink, "eth 1");
        refused(s, IA, "Invalid uplink: 'eth 1' may not hold");
        s = vlan_spec("x");
        s.vni = 5;
        refused(s, IA, "Invalid segment: 'vlan' takes no VXLAN settings");

        s = vxlan_spec("x");
        s.vni = 0;
        refused(s, IA, "Invalid vni: 0 is not within 1-16777215");
        s.vni = 16777216;
        refused(s, IA, "Invalid vni: 16777216 is not within 1-16777215");
        s = vxlan_spec("x");
        s.n_peers = 0;
        refused(s, IA, "Invalid peers: a VXLAN network needs its peers or a multicast group");
        s = vxlan_spec("x");
        s.group = ip("239.1.1.1");
        refused(s, IA, "Invalid peers: a network has peers or a multicast group, not both");
        s = vxlan_spec("x");
        s.n_peers = 0;
        s.group = ip("10.1.1.1");
        refused(s, IA, "Invalid group: 10.1.1.1 is not a multicast address");
        s = vxlan_spec("x");
        s.n_peers = 0;
        s.group = ip("239.1.1.1");
        refused(s, IA, "Invalid uplink: a multicast group needs the uplink it is joined on");
        s = vxlan_spec("x");
        s.peers[1] = s.peers[0];
        refused(s, IA, "Invalid peers: 192.0.2.1 is given twice");
        s = vxlan_spec("x");
        s.peers[1] = ip("239.0.0.1");
        refused(s, IA, "Invalid peers: 239.0.0.1 is not a unicast address");
        s = vxlan_spec("x");
        s.local = ip("239.0.0.1");
        refused(s, IA, "Invalid local: 239.0.0.1 is not a unicast address");
        s = vxlan_spec("x");
        s.mtu = 9000;
        refused(s, IA, "Invalid mtu: 9000 is not within 576-8950");
        s = vlan_spec("x");
        s.mtu = 100;
        refused(s, IA, "Invalid mtu: 100 is not within 576-9000");
        s = vlan_spec("x");
        s.segment = SEGMENT_NONE;
        refused(s, IA, "Invalid segment: 'none' takes no VLAN");
}

static void check_against(NetworkSpec s, const NetworkSpec *others, size_t n, const char *name, const char *text) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = network_spec_check_against(&s, others, n, &e);

        if (!name) {
                CHECK_INT(r, 0);
                return;
        }
        CHECK(r < 0);
        check_error(&e, name, text);
}

static void test_against(void) {
        NetworkSpec there[2] = { vlan_spec("sales"), vxlan_spec("eng") }, s;

        s = vlan_spec("sales");
        check_against(s, there, 2, VDESK_ERROR_NETWORK_EXISTS, "Invalid name: network 'sales' exists already");
        s = vlan_spec("hr");
        s.subnet = ip("10.30.0.128");
        s.prefix = 25;
        s.gateway = ip("10.30.0.129");
        s.range_start = ip("10.30.0.130");
        s.range_end = ip("10.30.0.140");
        s.vlan_id = 31;
        check_against(s, there, 2, VDESK_ERROR_NETWORK_OVERLAP,
                      "Invalid subnet: 10.30.0.128/25 overlaps 10.30.0.0/24 of network 'sales'");
        s = vlan_spec("hr");
        s.subnet = ip("10.0.0.0");
        s.prefix = 8;
        s.gateway = ip("10.0.0.1");
        s.range_start = ip("10.0.0.10");
        s.range_end = ip("10.0.0.20");
        s.vlan_id = 31;
        check_against(s, there, 2, VDESK_ERROR_NETWORK_OVERLAP, "overlaps 10.30.0.0/24 of network 'sales'");
        s = vlan_spec("hr");
        s.subnet = ip("10.31.0.0");
        s.gateway = ip("10.31.0.1");
        s.range_start = ip("10.31.0.10");
        s.range_end = ip("10.31.0.20");
        check_against(s, there, 2, VDESK_ERROR_SEGMENT_TAKEN, "Invalid vlan: 30 on eth1 is taken by network 'sales'");
        snprintf(s.uplink, sizeof s.uplink, "eth2");
        check_against(s, there, 2, NULL, NULL);         /* the same id on another uplink */
        s = vxlan_spec("ops");
        s.subnet = ip("10.41.0.0");
        s.gateway = ip("10.41.0.1");
        s.range_start = ip("10.41.0.10");
        s.range_end = ip("10.41.0.20");
        check_against(s, there, 2, VDESK_ERROR_SEGMENT_TAKEN, "Invalid vni: 4000 is taken by network 'eng'");
        s.vni = 4001;
        check_against(s, there, 2, NULL, NULL);
        s.vni = 30;                                     /* a VNI and a VLAN id do not meet */
        check_against(s, there, 2, NULL, NULL);
}

static void test_cidr(void) {
        uint32_t a;
        unsigned p;

        CHECK_INT(ipv4_cidr_parse("10.30.0.0/24", &a, &p), 0);
        CHECK_INT(a, ip("10.30.0.0"));
        CHECK_INT(p, 24);
        CHECK_INT(ipv4_cidr_parse("10.30.0.0/33", &a, &p), -EINVAL);
        CHECK_INT(ipv4_cidr_parse("10.30.0.0/", &a, &p), -EINVAL);
        CHECK_INT(ipv4_cidr_parse("10.30.0.0/-1", &a, &p), -EINVAL);
        CHECK_INT(ipv4_cidr_parse("10.30.0.0/024", &a, &p), -EINVAL);
        CHECK_INT(ipv4_cidr_parse("10.30.0.0", &a, &p), -EINVAL);
        CHECK_INT(ipv4_cidr_parse("10.30.0/24", &a, &p), -EINVAL);
        CHECK_INT(ipv4_cidr_parse(NULL, &a, &p), -EINVAL);
        CHECK_INT(ipv4_netmask(24), 0xffffff00u);
        CHECK_INT(ipv4_netmask(0), 0);
        CHECK_INT(ipv4_netmask(32), 0xffffffffu);
        CHECK(!ifname_invalid_reason("eth1.4094"));
        CHECK(ifname_invalid_reason("a/b"));
        CHECK(ifname_invalid_reason(".."));
        CHECK(ifname_invalid_reason("abcdefghijklmnop"));
}

int main(void) {
        test_valid();
        test_fields();
        test_against();
        test_cidr();
        return test_summary();
}
