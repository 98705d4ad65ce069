#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A staff member's desktop on a department network, on a private host with
# real libvirtd, QEMU, MariaDB, polkitd and vdesk: the category joins a
# VXLAN network whose other end is a second host (a namespace on a veth
# wire with its own VXLAN device and bridge). Opening the desktop makes it
# on the network (an address from its pool, its libvirt network with the
# gateway and DHCP), the hook brings the segment up, the guest boots with
# that address and answers through its RDP forward and, over VXLAN, on the
# second host; the network cannot go while the desktop is there, and when
# it goes, this host's segment and libvirt network go with it.
. "$VDESK_SRC/tests/lib/harness.sh"
. "$VDESK_SRC/tests/lib/host.sh"
host_enter "$@"
need_cmd setpriv
host_start_desktops </dev/null

# a client; the second host P on a wire (10.79.0.2), its end of VNI 3001
# on a bridge holding 10.30.0.200 of the department's subnet
C=vdc-$$ P=vdp-$$
netns_add $C
veth_pair - vdh-c0 10.77.0.1/24 $C vdh-c1 10.77.0.2/24
ip -n $C route add default via 10.77.0.1
netns_add $P
veth_pair - vdh-w0 10.79.0.1/24 $P vdh-w1 10.79.0.2/24
ip -n $P link add pbr type bridge
ip -n $P link add pvx type vxlan id 3001 dstport 4789 local 10.79.0.2 dev vdh-w1
ip -n $P link set pvx master pbr mtu 1450 up
bridge -n $P fdb append 00:00:00:00:00:00 dev pvx dst 10.79.0.1
ip -n $P addr add 10.30.0.200/24 dev pbr
ip -n $P link set pbr mtu 1450 up

"$VDESK_SRC/tests/guest/build-template" "$T/templates/tiny.img" >/dev/null || die "cannot build the template"
check "register the template" ctl register-template tiny "$T/templates/tiny.img"
check "network sales: 10.30.0.0/24 (one desktop address) on VXLAN 3001 between this host and the second" \
        ctl create-network sales 10.30.0.0/24 10.30.0.1 10.30.0.10-10.30.0.10 --vxlan=3001 --peers=10.79.0.1,10.79.0.2
check "department sales, category office on tiny" \
        bash -c "$(declare -f ctl); ctl create-department sales && ctl create-category office tiny && ctl link-category office sales"
check "assign-network sales office" ctl assign-network sales office
check "ann in sales, with a password" \
        bash -c "$(declare -f ctl); ctl create-account ann 'Ann Example' && ctl add-staff sales ann && echo Ann-Pass-2026 | ctl reset-password ann"
TOKEN=$(echo Ann-Pass-2026 | staff sign-in ann)
check "ann signs in" bash -c '[[ $1 =~ ^[0-9a-f]{64}$ ]]' _ "$TOKEN"

out=$(staff open-mine office 2>&1)
check "open-mine office makes, starts and opens her desktop on the department network ($out)" \
        grep -q "^Desktop office-ann answers at 10.77.0.1:50000\.$" <<<"$out"
addr=$(broker_json GetDesktop s office-ann | jq -r '.data[0][4]')
check "its address is the first of the network's pool ($addr)" test "$addr" = 10.30.0.10
check "... taken out of the pool's free list" \
        test "$(sql "SELECT COUNT(*) FROM network_free_addresses WHERE address = INET_ATON('10.30.0.10'); SELECT COUNT(*) FROM network_free_addresses" | tr '\n' ' ')" = "0 0 "
check "... vdeskctl network sales counts it" bash -c "$(declare -f ctl); ctl network sales | grep -q '(1 of 1 taken)'"
check "bob in sales too" \
        bash -c "$(declare -f ctl); ctl create-account bob 'Bob Example' && ctl add-staff sales bob && echo Bob-Pass-2026 | ctl reset-password bob"
out=$(TOKEN=$(echo Bob-Pass-2026 | staff sign-in bob) staff open-mine office 2>&1)
check "bob's desktop: the network has no address left, a named error ($out)" \
        test "$out" = "vdeskctl: No free address left in network sales (org.vdesk.Error.AddressesExhausted)"
check "... and nothing of it was made" \
        test "$(sql "SELECT COUNT(*) FROM desktops d JOIN accounts a ON a.id = d.account_id WHERE a.name = 'bob'")$(virsh list --all --name | grep -c office-bob)" = 00
line=$(tcp_line $C 10.77.0.1 50000)
check "a client reads the guest through the forward: it booted with its DHCP address ($line)" \
        test "$line" = "VDESK-TEST-GUEST ip=10.30.0.10"
check "the libvirt network vdesk-sales: its bridge with the gateway and the desktop's DHCP host" \
        bash -c "virsh net-dumpxml vdesk-sales | grep -q \"<ip address='10.30.0.1' prefix='24'>\" &&
                 virsh net-dumpxml vdesk-sales | grep -q \"mac='52:54:0a:1e:00:0a' ip='10.30.0.10'\""
br=$(virsh net-dumpxml vdesk-sales | sed -n "s/.*<bridge name='\([^']*\)'.*/\1/p")
check "the hook brought VXLAN 3001 up on $br, sending from 10.79.0.1" \
        test "$(ip -j -d link show vdvx3001 | jq -r '.[0] | "\(.master) \(.linkinfo.info_data.local) \(.mtu)"')" = "$br 10.79.0.1 1450"
check "the domain's metadata carries the network" bash -c "virsh dumpxml office-ann | grep -q '<vdesk:segment name=\"sales\" type=\"vxlan\"'"
line=$(ip netns exec $P timeout 5 bash -c 'exec 3<>/dev/tcp/10.30.0.10/3389 && head -1 <&3' 2>/dev/null)
check "the second host reaches the desktop over VXLAN, on the department's own subnet ($line)" \
        test "$line" = "VDESK-TEST-GUEST ip=10.30.0.10"

# netd restarted after this host lost its tables and the segment's link
# (a reboot of the host's network, a crash): reconcile rebuilds both from
# the running desktop's domain XML
kill "$PID_netd"; wait_until 10 bash -c "! kill -0 $PID_netd"
nft delete table inet vdesk; nft delete table bridge vdesk; ip link del vdvx3001
bg netd-again "$VDESK_BUILD/src/netd/vdesk-netd" --ruleset="$VDESK_SRC/nft/vdesk.nft"
wait_until 10 bus_has_name org.vdesk.network1 || die "netd did not restart: $(cat "$T/netd-again.log")"
check "netd's reconcile brings VXLAN 3001 back on $br" \
        wait_until 20 bash -c "[ \"\$(ip -j -d link show vdvx3001 2>/dev/null | jq -r '.[0].master')\" = $br ]"
check "... and the network's elements" \
        wait_until 10 bash -c "nft -j list set bridge vdesk segment_ports | jq -e '.. | select(. == \"vdvx3001\")' >/dev/null"
line=$(ip netns exec $P timeout 5 bash -c 'exec 3<>/dev/tcp/10.30.0.10/3389 && head -1 <&3' 2>/dev/null)
check "... the second host reaches the desktop again ($line)" test "$line" = "VDESK-TEST-GUEST ip=10.30.0.10"
line=$(tcp_line $C 10.77.0.1 50000)
check "... and so does the client through the forward ($line)" test "$line" = "VDESK-TEST-GUEST ip=10.30.0.10"
PID_netd=$PID_netd_again

state() { sql "SELECT name FROM networks; SELECT COUNT(*) FROM network_free_addresses"; virsh net-list --all --name | sort; ip -br link show | awk '{print $1}' | grep vdvx; }
refused "deleting the network while ann's desktop is on it" org.vdesk.Error.NetworkInUse "1 desktop(s), categories: office" \
        DeleteNetwork string:sales

check "ann's desktop stopped" bash -c "$(declare -f ctl); ctl stop --force office-ann"
wait_until 20 outputs "shut off" virsh domstate office-ann
# a host that serves the network for the first time (here: this one, its
# libvirt network gone) gets every entry of the network in its definition
virsh net-destroy vdesk-sales >/dev/null && virsh net-undefine vdesk-sales >/dev/null
kill "$PID_brokerd"; wait_until 10 bash -c "! kill -0 $PID_brokerd"
bg brokerd-again "$VDESK_BUILD/src/brokerd/vdesk-brokerd" --sql-dir="$VDESK_SRC/sql"
wait_until 20 bus_has_name org.vdesk.broker1 || die "brokerd did not start again: $(cat "$T/brokerd-again.log")"
check "brokerd, started, defines the network again with ann's DHCP entry in its definition" \
        wait_until 20 bash -c "virsh net-dumpxml --inactive vdesk-sales 2>/dev/null | grep -q \"<host mac='52:54:0a:1e:00:0a' ip='10.30.0.10'/>\""
check "ann's desktop deleted" ctl delete office-ann
check "... its address is free again" test "$(sql "SELECT COUNT(*) FROM network_free_addresses WHERE address = INET_ATON('10.30.0.10')")" = 1
check "reclaim-network sales office, delete-network sales" \
        bash -c "$(declare -f ctl); ctl reclaim-network sales office && ctl delete-network sales"
check "... this host's VXLAN device went with it" bash -c "! ip link show vdvx3001 >/dev/null 2>&1"
check "... and its libvirt network" bash -c "! virsh net-info vdesk-sales >/dev/null 2>&1"
check "... and its pool" test "$(sql "SELECT COUNT(*) FROM network_free_addresses")" = 0

finish
