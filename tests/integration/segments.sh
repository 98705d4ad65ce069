#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Department networks across two hosts over VXLAN (VDESK_SEGMENT=vxlan,
# the default) or VLANs (VDESK_SEGMENT=vlan: a kernel with 802.1Q, which
# segments-vlan.sh finds in a throwaway VM), with vdesk-netd against the
# real kernel. Each host is a network namespace with its own
# dbus-daemon and netd; a veth pair is the wire between them (192.0.2.0/24).
# Each host has the bridges of two departments, as libvirt makes them
# (sales vdbr1 10.30.0.1/24, eng vdbr2 10.40.0.1/24); desktops are
# namespaces on those bridges. netd brings each department's segment up on
# each host (a VXLAN device, or a VLAN sub-interface of the wire): the same department reaches across hosts, two
# departments do not reach each other, across hosts or on one; the
# gateway's ARP is answered on each host and never crosses the wire
# (captured there with tcpdump, which shows what VXLAN or 802.1Q carries).
. "$VDESK_SRC/tests/lib/harness.sh"
need_root
SEGMENT=${VDESK_SEGMENT:-vxlan}
case $SEGMENT in
vxlan)  SALES=3001 ENG=3002 HR=3003 ;;          # VNIs
vlan)   SALES=30 ENG=40 HR=50 ;;                # VLAN ids on the wire
*)      die "VDESK_SEGMENT=$SEGMENT: not vxlan or vlan" ;;
esac
need_cmd nft jq ip bridge busctl python3 setpriv tcpdump

H1=vdsg-h1-$$ H2=vdsg-h2-$$
hosts="$H1 $H2"
for ns in $hosts; do netns_add $ns; done
veth_pair $H1 vds-w1 192.0.2.1/24 $H2 vds-w2 192.0.2.2/24

write_config "$T/vdesk.conf" </dev/null
start_bus b1
start_bus b2
on() { local n=$1; shift; ip netns exec "$(eval echo \$H$n)" env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/b$n/socket" "$@"; }
for n in 1 2; do
        bg netd$n on $n env VDESK_CONFIG="$T/vdesk.conf" "$VDESK_BUILD/src/netd/vdesk-netd" \
                --ruleset="$VDESK_SRC/nft/vdesk.nft" --no-reconcile
        # minutes, not seconds, under a VM's software emulation
        wait_until 120 on $n bash -c "$(declare -f bus_has_name); bus_has_name org.vdesk.network1" ||
                die "netd $n did not start: $(cat "$T/netd$n.log")"
done
netd() { local n=$1 m=$2; shift 2; on $n busctl --system call org.vdesk.network1 /org/vdesk/network1 org.vdesk.network1.Manager "$m" "$@"; }

# the bridges libvirt would make, and a desktop on each: DnS (sales), DnE (eng)
desk=0
for n in 1 2; do
        H=$(eval echo \$H$n)
        for d in "1 30 S" "2 40 E"; do
                set -- $d
                ip -n $H link add vdbr$1 type bridge
                ip -n $H addr add 10.$2.0.1/24 dev vdbr$1
                ip -n $H link set vdbr$1 up
                G=vdsg-d$n$3-$$
                netns_add $G
                ip link add vds-$n$3h type veth peer name vds-$n$3g
                ip link set vds-$n$3h netns $H
                ip link set vds-$n$3g netns $G
                ip -n $H link set vds-$n$3h master vdbr$1 up
                ip -n $G addr add 10.$2.0.1$n/24 dev vds-$n$3g
                ip -n $G link set vds-$n$3g up
                ip -n $G route add default via 10.$2.0.1
        done
done
# each desktop and host answers TCP with its name; reach FROM ADDRESS
for n in 1 2; do
        for d in S E; do
                bg banner$n$d ip netns exec vdsg-d$n$d-$$ python3 "$VDESK_SRC/tests/lib/tcp-banner.py" 3389 "desk-$n$d"
        done
        # the host's own services: one closed to desktops, and DNS, open
        bg banner$n ip netns exec "$(eval echo \$H$n)" python3 "$VDESK_SRC/tests/lib/tcp-banner.py" 3389 "host-$n"
        bg dns$n ip netns exec "$(eval echo \$H$n)" python3 "$VDESK_SRC/tests/lib/tcp-banner.py" 53 "dns-$n"
done
for n in 1 2; do for d in S E; do WAIT_SEC=120 wait_listening vdsg-d$n$d-$$ 3389 || die "banner $n$d did not start"; done; done
reach() { local ns=vdsg-d$1-$$; ip netns exec "$ns" timeout 2 bash -c "exec 3<>/dev/tcp/$2/${3:-3389} && head -1 <&3" 2>/dev/null | grep -q .; }

# EnsureNetwork and RemoveNetwork: the bridge, then the network as the
# catalog has it (VXLAN between the two hosts' wire addresses, or a VLAN
# of each host's end of the wire)
net_call() {    # METHOD HOST BRIDGE NAME SUBNET-OCTET VNI|VLAN [UPLINK]
        local m=$1 n=$2 br=$3 name=$4 o=$5 id=$6 uplink=${7:-}
        if [ "$SEGMENT" = vlan ]; then
                set -- vlan "$id" "${uplink:-vds-w$n}" 0 "" 0 "" 0 0
        else
                set -- vxlan 0 "$uplink" "$id" "" 2 192.0.2.1 192.0.2.2 "" 0 0
        fi
        netd "$n" "$m" sssssssususassqu "$br" "$name" "10.$o.0.0/24" "10.$o.0.1" "10.$o.0.10" "10.$o.0.250" "$@"
}
# the segment's link on host N
seg() { if [ "$SEGMENT" = vlan ]; then echo "vds-w$1.$2"; else echo "vdvx$2"; fi; }
ensure() { net_call EnsureNetwork "$@"; }
remove() { net_call RemoveNetwork "$@"; }

# "outside": a machine beyond host 1 (10.88.0.2), answering with the
# address it sees
O=vdsg-out-$$
netns_add $O
veth_pair $H1 vds-o1 10.88.0.1/24 $O vds-o2 10.88.0.2/24
bg outside ip netns exec $O python3 "$VDESK_SRC/tests/lib/tcp-banner.py" 3389 OUTSIDE
WAIT_SEC=120 wait_listening $O 3389 || die "the outside banner did not start"

check "before: sales on host 1 does not reach sales on host 2" not reach 1S 10.30.0.12
bg wire ip netns exec $H1 tcpdump -l -n -i vds-w1 "$([ "$SEGMENT" = vlan ] && echo vlan || echo udp port 4789)"
wait_until 10 grep -q "listening on vds-w1" "$T/wire.log" || die "tcpdump did not start: $(cat "$T/wire.log")"

for n in 1 2; do
        check "EnsureNetwork sales ($SEGMENT $SALES) on host $n" ensure $n vdbr1 sales 30 $SALES
        check "EnsureNetwork eng ($SEGMENT $ENG) on host $n" ensure $n vdbr2 eng 40 $ENG
done
link() { ip -n "$(eval echo \$H$1)" -j -d link show "$2"; }
if [ "$SEGMENT" = vxlan ]; then
        check "host 1: vdvx3001 is a VXLAN device, VNI 3001, port 4789, from 192.0.2.1, on vdbr1, up, MTU 1450" \
                test "$(link 1 vdvx3001 | jq -r '.[0] | "\(.linkinfo.info_kind) \(.linkinfo.info_data.id) \(.linkinfo.info_data.port) \(.linkinfo.info_data.local) \(.master) \(.operstate != "DOWN") \(.mtu)"')" = \
                        "vxlan 3001 4789 192.0.2.1 vdbr1 true 1450"
        check "host 2 sends from its own address, 192.0.2.2" \
                test "$(link 2 vdvx3001 | jq -r '.[0].linkinfo.info_data.local')" = 192.0.2.2
        check "host 1 forwards unknown destinations of VNI 3001 to host 2 only" \
                test "$(bridge -n $H1 -j fdb show dev vdvx3001 | jq -r '[.[] | select(.mac == "00:00:00:00:00:00") | .dst] | join(",")')" = 192.0.2.2
else
        check "host 1: vds-w1.30 is VLAN 30 of vds-w1, on vdbr1, up, MTU 1500" \
                test "$(link 1 vds-w1.30 | jq -r '.[0] | "\(.linkinfo.info_kind) \(.linkinfo.info_data.id) \(.link) \(.master) \(.operstate != "DOWN") \(.mtu)"')" = \
                        "vlan 30 vds-w1 vdbr1 true 1500"
        check "host 2: vds-w2.40 is VLAN 40 of vds-w2, on vdbr2" \
                test "$(link 2 vds-w2.40 | jq -r '.[0] | "\(.linkinfo.info_kind) \(.linkinfo.info_data.id) \(.link) \(.master)"')" = \
                        "vlan 40 vds-w2 vdbr2"
fi
check "the subnets are in the masquerade set (with the host's desktop network)" \
        bash -c "ip netns exec $H1 nft -j list set inet vdesk desktop_nets4 | jq -r '[.. | .prefix? | select(.) | \"\(.addr)/\(.len)\"] | sort | join(\" \")' | grep -qx '10.20.0.0/22 10.30.0.0/24 10.40.0.0/24'"

# first what must work (so that neighbours are resolved and a refusal
# below is a drop, not a slow start), then what must not
check "sales on host 1 reaches its gateway's DNS, the host" wait_until 5 reach 1S 10.30.0.1 53
check "eng on host 2 reaches its gateway's DNS, the host" wait_until 5 reach 2E 10.40.0.1 53
check "sales on host 2 reaches its gateway's DNS, the host" wait_until 5 reach 2S 10.30.0.1 53
check "sales on host 1 reaches sales on host 2 ($SEGMENT $SALES)" wait_until 5 reach 1S 10.30.0.12
check "eng on host 2 reaches eng on host 1 ($SEGMENT $ENG)" wait_until 5 reach 2E 10.40.0.11
line=$(ip netns exec vdsg-d1S-$$ timeout 5 bash -c "exec 3<>/dev/tcp/10.88.0.2/3389 && head -1 <&3" 2>/dev/null)
check "egress: sales on host 1 reaches the outside through the host's NAT, and the reply comes back ($line)" \
        test "$line" = "OUTSIDE peer=10.88.0.1"
check "the departments' bridges are filtered on host 1 (desktop_bridges)" \
        test "$(ip netns exec $H1 nft -j list set inet vdesk desktop_bridges | jq -r '[.nftables[].set.elem? | select(.) | .[]] | sort | join(" ")')" = \
                "vdbr1 vdbr2 vdeskbr0"
check "sales on host 1 does not reach another service of its host" not reach 1S 10.30.0.1
check "eng on host 2 does not reach another service of its host" not reach 2E 10.40.0.1
check "sales on host 1 does not reach eng on host 2" not reach 1S 10.40.0.12
check "sales on host 1 does not reach eng on host 1 (routed by the host: dropped)" not reach 1S 10.40.0.11
check "eng on host 2 does not reach sales on host 1" not reach 2E 10.30.0.11
# the gateway's ARP: answered by each desktop's own host, never on the wire
mac() { ip -n "$(eval echo \$H$1)" -j link show "$2" | jq -r '.[0].address'; }
gwmac() { ip netns exec "vdsg-d$1-$$" ip -j neigh show "$2" | jq -r '.[0].lladdr'; }
check "sales on host 1 has host 1's bridge as its gateway" test "$(gwmac 1S 10.30.0.1)" = "$(mac 1 vdbr1)"
check "sales on host 2 has host 2's bridge as its gateway" test "$(gwmac 2S 10.30.0.1)" = "$(mac 2 vdbr1)"
check "eng on host 2 has host 2's bridge as its gateway" test "$(gwmac 2E 10.40.0.1)" = "$(mac 2 vdbr2)"
sleep 1         # what tcpdump saw is in its log
check "the wire carried the desktops' own ARP ($SEGMENT decoded: $(grep -c 'ARP' "$T/wire.log") ARP frames)" \
        grep -q "ARP, Request who-has 10.30.0.12 tell 10.30.0.11" "$T/wire.log"
check "... but none for or from a gateway" not grep -qE "who-has 10\.(30|40)\.0\.1 |10\.(30|40)\.0\.1 is-at|tell 10\.(30|40)\.0\.1," "$T/wire.log"
arpdrops() { ip netns exec "$(eval echo \$H$1)" nft -j list table bridge vdesk | jq '[.nftables[].rule? | select(.) | .expr[].counter.packets? | select(.)] | add // 0'; }
check "... the bridge table kept them (host 1 $(arpdrops 1), host 2 $(arpdrops 2) dropped)" test $(($(arpdrops 1) + $(arpdrops 2))) -ge 2
check "the bridge table's sets: the gateways and segment ports" \
        test "$(ip netns exec $H1 nft -j list set bridge vdesk gateways4 | jq -r '[.nftables[].set.elem? | select(.) | .[]] | sort | join(" ")') $(ip netns exec $H1 nft -j list set bridge vdesk segment_ports | jq -r '[.nftables[].set.elem? | select(.) | .[]] | sort | join(" ")')" = \
                "10.30.0.1 10.40.0.1 $(seg 1 $SALES) $(seg 1 $ENG)"

dropped() { ip netns exec "$(eval echo \$H$1)" nft -j list chain inet vdesk forward | jq '[.nftables[].rule? | select(.) | .expr[].counter.packets? | select(.)] | add // 0'; }
check "... the hosts dropped them (counted: host 1 $(dropped 1), host 2 $(dropped 2))" test $(($(dropped 1) + $(dropped 2))) -ge 3

# idempotent, and refusals that change nothing
# the links and the forwarding entries set on them (not those the bridges
# learn from traffic, which come and go by themselves)
# the links and the static forwarding entries (not those a VXLAN device
# learns from the desktops' traffic, which come and go by themselves)
links() { ip -n $H1 -d -j link show | jq -c '[.[] | {n: .ifname, k: .linkinfo.info_kind, m: .master, id: .linkinfo.info_data.id}]'; bridge -n $H1 fdb show | grep -E 'permanent' | sort; }
before=$(links)
check "EnsureNetwork sales again: adopted as it is" ensure 1 vdbr1 sales 30 $SALES
check "... nothing changed" test "$before" = "$(links)"
ip -n $H1 link set "$(seg 1 $SALES)" nomaster down
check "EnsureNetwork sales after its link left the bridge and went down: adopted again" ensure 1 vdbr1 sales 30 $SALES
check "... enslaved and up again" \
        test "$(ip -n $H1 -j link show "$(seg 1 $SALES)" | jq -r '.[0] | "\(.master) \(.flags | index("UP") != null)"')" = "vdbr1 true"
if [ "$SEGMENT" = vlan ]; then
        ip -n $H1 link add link vds-w1 name vds-w1.50 type vlan id 51
        what="has another VLAN id" zero="Invalid vlan: 0 is not within 1-4094"
else
        ip -n $H1 link add vdvx3003 type vxlan id 9 dstport 4789 local 192.0.2.1
        what="has another VNI" zero="Invalid vni: 0 is not within 1-16777215"
fi
# hr's bridge, as libvirt would make it
ip -n $H1 link add vdbr3 type bridge
ip -n $H1 addr add 10.50.0.1/24 dev vdbr3
ip -n $H1 link set vdbr3 up
before=$(links)
check "a link $(seg 1 $HR) that $what: LinkConflict" \
        fails_with "Link $(seg 1 $HR) exists and $what" ensure 1 vdbr3 hr 50 $HR
check "an uplink this host does not have: NoSuchUplink" \
        fails_with "this host has no link 'nope0'" ensure 1 vdbr3 hr 50 $((HR + 1)) nope0
check "another network's bridge (not holding hr's gateway): LinkConflict" \
        fails_with "Bridge vdbr1 does not hold network hr's gateway 10.50.0.1" ensure 1 vdbr1 hr 50 $((HR + 1))
check "a bridge that is not up: NotReady" fails_with "Bridge vdbr9 of network hr is not up" ensure 1 vdbr9 hr 50 $((HR + 1))
check "a bridge that is no bridge: LinkConflict" fails_with "Link vds-w1 is a veth" ensure 1 vds-w1 hr 50 $((HR + 1))
check "$SEGMENT id 0: InvalidArgs" fails_with "$zero" ensure 1 vdbr1 hr 50 0
check "a bridge name with a slash: InvalidArgs" fails_with "Invalid bridge: 'a/b'" ensure 1 a/b hr 50 $((HR + 1))
check "... none of them changed a link" test "$before" = "$(links)"
chmod 755 "$T" "$T/b1"      # the unprivileged caller must reach the bus
out=$(netd() { local n=$1 m=$2; shift 2; on $n setpriv --reuid=1 --regid=1 --clear-groups busctl --system call \
        org.vdesk.network1 /org/vdesk/network1 org.vdesk.network1.Manager "$m" "$@"; }; remove 1 vdbr1 sales 30 $SALES 2>&1)
check "uid 1 may not remove a network ($out)" grep -q "Access denied\|Only root" <<<"$out"
check "... it is still there" test "$before" = "$(links)"
# a bridge of the host's own (its LAN, say) that holds the gateway a
# domain's metadata names is still not a department's
ip -n $H1 link add vdslan0 type bridge
ip -n $H1 addr add 10.60.0.1/24 dev vdslan0
ip -n $H1 link set vdslan0 up
check "a bridge that is not a department's (vdslan0), though it holds the gateway: LinkConflict" \
        fails_with "Bridge vdslan0 is not a department network's bridge" ensure 1 vdslan0 lan 60 $((HR + 1))
check "... no segment link was made for it" not ip -n $H1 link show "$(seg 1 $((HR + 1)))"
nets=$(ip netns exec $H1 nft -j list set inet vdesk desktop_nets4)
check "... and nothing was added to the desktop networks (read back: $(jq -c '[.. | .prefix? // empty | .addr]' <<<"$nets" 2>&1))" \
        bash -c "jq -e '.nftables' >/dev/null <<<'$nets' && ! grep -q 10.60.0.0 <<<'$nets'"
ip -n $H1 link del vdslan0

check "RemoveNetwork sales on host 1" remove 1 vdbr1 sales 30 $SALES
check "... its $SEGMENT link is gone, eng's stays" \
        bash -c "! ip -n $H1 link show $(seg 1 $SALES) >/dev/null 2>&1 && ip -n $H1 link show $(seg 1 $ENG) >/dev/null"
check "... and its subnet left the masquerade set" \
        bash -c "ip netns exec $H1 nft -j list set inet vdesk desktop_nets4 | jq -r '[.. | .prefix? | select(.) | .addr] | sort | join(\" \")' | grep -qx '10.20.0.0 10.40.0.0'"
check "sales no longer reaches across" not reach 1S 10.30.0.12
check "RemoveNetwork sales again: no error" remove 1 vdbr1 sales 30 $SALES
# libvirt removing a network's bridge (the network deleted while the
# broker could only reach the host's libvirtd): netd takes the rest
ip -n $H2 link del vdbr2
check "host 2: eng's bridge removed, its $SEGMENT link goes with it" \
        wait_until 5 bash -c "! ip -n $H2 link show $(seg 2 $ENG) >/dev/null 2>&1"
check "... and its subnet leaves host 2's masquerade set" wait_until 5 bash -c \
        "! ip netns exec $H2 nft -j list set inet vdesk desktop_nets4 | jq -r '.. | .prefix? | select(.) | .addr' | grep -qx 10.40.0.0"
check "... journaled" wait_until 5 grep -q 'Network eng taken down on this host: vdbr2' "$T/netd2.log"
check "host 1's eng is untouched" ip -n $H1 link show "$(seg 1 $ENG)"
check "the journal entries name the networks" \
        bash -c "grep -c 'Network sales set up on this host: vdbr1 with $(seg 1 $SALES), 10.30.0.0/24' '$T/netd1.log' | grep -qx 3 && grep -q 'Network sales taken down on this host' '$T/netd1.log'"

finish
