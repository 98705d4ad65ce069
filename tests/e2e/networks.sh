#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The catalog of department networks on a private host with real MariaDB,
# polkitd and libvirtd: VLAN and VXLAN networks are created with their
# address pools, listed, assigned to categories and taken back, and
# deleted only when nothing uses them. Every bad input is a named error
# that changes nothing (networks, peers, addresses, categories).
. "$VDESK_SRC/tests/lib/harness.sh"
. "$VDESK_SRC/tests/lib/host.sh"
host_enter "$@"
need_cmd jq dbus-send setpriv

host_start_stack
host_write_config </dev/null
host_start_vdesk
# this host's uplink eth1 (the networks' VLANs are on it)
ip link add eth1 type veth peer name eth1-peer
E=org.vdesk.Error
IA=org.freedesktop.DBus.Error.InvalidArgs

state() {
        sql "SELECT name, subnet, prefix, gateway, range_start, range_end, segment, vlan_id, uplink, vni, mtu FROM networks ORDER BY name;
             SELECT network_id, address FROM network_peers ORDER BY 1, 2;
             SELECT network_id, COUNT(*) FROM network_free_addresses GROUP BY network_id ORDER BY 1;
             SELECT name, COALESCE(network_id, '-') FROM categories ORDER BY name"
}
# net NAME SUBNET GATEWAY START END SEGMENT VLAN UPLINK VNI LOCAL PEERS(,) GROUP PORT MTU: dbus-send's arguments
net() {
        echo "string:$1" "string:$2" "string:$3" "string:$4" "string:$5" "string:$6" "uint32:$7" "string:$8" \
                "uint32:$9" "string:${10}" "array:string:${11}" "string:${12}" "uint16:${13}" "uint32:${14}"
}
vlan() { net "$1" "$2" "$3" "$4" "$5" vlan "$6" "${7:-eth1}" 0 "" "" "" 0 0; }
vxlan() { net "$1" "$2" "$3" "$4" "$5" vxlan 0 "" "$6" "" "${7:-192.0.2.1,192.0.2.2}" "" 0 0; }
create() { dbus-send --system --print-reply --dest=org.vdesk.broker1 /org/vdesk/broker1 \
        org.vdesk.broker1.Manager.CreateNetwork "$@" >/dev/null; }
netrow() { broker_json GetNetwork s "$1" | jq -c '.data[0]'; }

# ---- creating ----------------------------------------------------------------------
check "CreateNetwork sales: 10.30.0.0/24, VLAN 30 on eth1" create $(vlan sales 10.30.0.0/24 10.30.0.1 10.30.0.10 10.30.0.250 30)
check "... GetNetwork: subnet, gateway, range, segment, bridge, VLAN, MTU 1500, 241 addresses, none taken" \
        test "$(netrow sales | jq -r 'map(tostring) | join(" ")')" = "sales 10.30.0.0/24 10.30.0.1 10.30.0.10-10.30.0.250 vlan vdbr1 30 eth1 0   [] 0 1500 0 241"
check "... its address pool: 241 free rows" test "$(sql "SELECT COUNT(*) FROM network_free_addresses a JOIN networks n ON n.id = a.network_id WHERE n.name = 'sales'")" = 241
check "CreateNetwork eng: 10.40.0.0/16, VXLAN 4000 to two peers" \
        create $(vxlan eng 10.40.0.0/16 10.40.0.1 10.40.1.1 10.40.255.254 4000)
check "... port 4789 and MTU 1450 by default, 65278 addresses" \
        test "$(netrow eng | jq -r '"\(.[4]) \(.[8]) \(.[11] | join(",")) \(.[12]) \(.[13]) \(.[15])"')" = "vxlan 4000 192.0.2.1,192.0.2.2 4789 1450 65278"
check "ListNetworks: eng and sales" test "$(broker_json ListNetworks | jq -r '[.data[0][][0]] | join(" ")')" = "eng sales"
check "the journal has both" \
        test "$(journal_json MESSAGE_ID=$(mid MID_NETWORK_CREATED) | jq -r .VDESK_NETWORK | sort | tr '\n' ' ')" = "eng sales "

# ---- bad input: named errors, nothing changed ------------------------------------------
refused "VLAN 0" $IA "Invalid vlan: 0 is not within 1-4094" CreateNetwork $(vlan hr 10.50.0.0/24 10.50.0.1 10.50.0.10 10.50.0.20 0)
refused "VLAN 4095" $IA "Invalid vlan: 4095 is not within 1-4094" CreateNetwork $(vlan hr 10.50.0.0/24 10.50.0.1 10.50.0.10 10.50.0.20 4095)
refused "VNI 16777216" $IA "Invalid vni: 16777216 is not within 1-16777215" CreateNetwork $(vxlan hr 10.50.0.0/24 10.50.0.1 10.50.0.10 10.50.0.20 16777216)
refused "VNI 0" $IA "Invalid vni: 0 is not within 1-16777215" CreateNetwork $(vxlan hr 10.50.0.0/24 10.50.0.1 10.50.0.10 10.50.0.20 0)
refused "a subnet overlapping sales" $E.NetworkOverlap "Invalid subnet: 10.30.0.128/25 overlaps 10.30.0.0/24 of network 'sales'" \
        CreateNetwork $(vlan hr 10.30.0.128/25 10.30.0.129 10.30.0.130 10.30.0.140 31)
refused "a subnet holding eng's" $E.NetworkOverlap "overlaps 10.40.0.0/16 of network 'eng'" \
        CreateNetwork $(vlan hr 10.0.0.0/8 10.0.0.1 10.0.0.10 10.0.0.20 31)
refused "a subnet overlapping the host's desktop network beyond its first /24" $E.NetworkOverlap \
        "Invalid subnet: 10.20.2.0/24 overlaps 10.20.0.0/22 of network 'vdesk'" \
        CreateNetwork $(vlan hr 10.20.2.0/24 10.20.2.1 10.20.2.10 10.20.2.20 31)
refused "a gateway outside the subnet" $IA "Invalid gateway: 10.51.0.1 is not a host address of 10.50.0.0/24" \
        CreateNetwork $(vlan hr 10.50.0.0/24 10.51.0.1 10.50.0.10 10.50.0.20 31)
refused "a range larger than the subnet" $IA "Invalid range: its end 10.50.1.20 is not a host address of 10.50.0.0/24" \
        CreateNetwork $(vlan hr 10.50.0.0/24 10.50.0.1 10.50.0.10 10.50.1.20 31)
refused "VLAN 30 on eth1 twice" $E.SegmentTaken "Invalid vlan: 30 on eth1 is taken by network 'sales'" \
        CreateNetwork $(vlan hr 10.50.0.0/24 10.50.0.1 10.50.0.10 10.50.0.20 30)
refused "VNI 4000 twice" $E.SegmentTaken "Invalid vni: 4000 is taken by network 'eng'" \
        CreateNetwork $(vxlan hr 10.50.0.0/24 10.50.0.1 10.50.0.10 10.50.0.20 4000)
refused "a name taken" $E.NetworkExists "Invalid name: network 'sales' exists already" \
        CreateNetwork $(vlan sales 10.50.0.0/24 10.50.0.1 10.50.0.10 10.50.0.20 31)
refused "a name with /" $IA "Invalid name: may hold only" CreateNetwork $(vlan a/b 10.50.0.0/24 10.50.0.1 10.50.0.10 10.50.0.20 31)
refused "a subnet without its length" $IA "Invalid subnet: '10.50.0.0' is not an IPv4 subnet" \
        CreateNetwork $(vlan hr 10.50.0.0 10.50.0.1 10.50.0.10 10.50.0.20 31)
refused "a gateway that is no address" $IA "Invalid gateway: 'gw' is not an IPv4 address" \
        CreateNetwork $(vlan hr 10.50.0.0/24 gw 10.50.0.10 10.50.0.20 31)
refused "segment gre" $IA "Invalid segment: 'gre' is not none, vlan or vxlan" \
        CreateNetwork $(net hr 10.50.0.0/24 10.50.0.1 10.50.0.10 10.50.0.20 gre 0 "" 0 "" "" "" 0 0)
refused "an uplink this host does not have" $E.NoSuchUplink "Invalid uplink: this host has no link 'eth9'" \
        CreateNetwork $(vlan hr 10.50.0.0/24 10.50.0.1 10.50.0.10 10.50.0.20 31 eth9)
refused "an uplink with a slash" $IA "Invalid uplink: 'eth/1' may not hold" \
        CreateNetwork $(vlan hr 10.50.0.0/24 10.50.0.1 10.50.0.10 10.50.0.20 31 eth/1)
refused "a VXLAN network without peers or group" $IA "Invalid peers: a VXLAN network needs its peers or a multicast group" \
        CreateNetwork $(net hr 10.50.0.0/24 10.50.0.1 10.50.0.10 10.50.0.20 vxlan 0 "" 5 "" "" "" 0 0)
refused "a peer that is no address" $IA "Invalid peers: 'x' is not an IPv4 address" \
        CreateNetwork $(vxlan hr 10.50.0.0/24 10.50.0.1 10.50.0.10 10.50.0.20 5 192.0.2.1,x)
refused "MTU 9001" $IA "Invalid mtu: 9001 is not within 576-9000" \
        CreateNetwork $(net hr 10.50.0.0/24 10.50.0.1 10.50.0.10 10.50.0.20 vlan 31 eth1 0 "" "" "" 0 9001)
before=$(state)
out=$(setpriv --reuid=1 --regid=1 --clear-groups busctl --system call org.vdesk.broker1 /org/vdesk/broker1 \
        org.vdesk.broker1.Manager CreateNetwork ssssssususassqu hr 10.50.0.0/24 10.50.0.1 10.50.0.10 10.50.0.20 \
        vlan 31 eth1 0 "" 0 "" 0 0 2>&1)
check "uid 1 may not create networks ($out)" grep -q "Not authorized for org.vdesk.broker1.manage" <<<"$out"
for call in "DeleteNetwork s sales" "AssignNetwork ss sales office" "ReclaimNetwork ss sales office" "ListNetworks"; do
        out=$(setpriv --reuid=1 --regid=1 --clear-groups busctl --system call org.vdesk.broker1 /org/vdesk/broker1 \
                org.vdesk.broker1.Manager $call 2>&1)
        action=manage; [ "$call" = ListNetworks ] && action=read
        check "uid 1 may not call ${call%% *} ($out)" grep -q "Not authorized for org.vdesk.broker1.$action" <<<"$out"
done
check "... nothing changed" test "$before" = "$(state)"

# ---- categories ----------------------------------------------------------------------------
check "CreateCategory office (no network: the host's)" dir_call CreateCategory sssbbbb office "" "" true true true false
check "AssignNetwork sales office" broker_call AssignNetwork ss sales office
check "... ListCategories shows it" test "$(dir_call ListCategories)" = 'a(sssbbbb) 1 "office" "" "sales" true true true false'
check "... again: no error" broker_call AssignNetwork ss sales office
refused "AssignNetwork of an unknown network" $E.NoSuchNetwork "Invalid network: no network 'nope'" AssignNetwork string:nope string:office
refused "AssignNetwork to an unknown category" $E.NoSuchCategory "Invalid category: no category 'nope'" AssignNetwork string:sales string:nope
refused "deleting a network a category joins" $E.NetworkInUse "Network sales is in use: 0 desktop(s), categories: office" DeleteNetwork string:sales
refused "ReclaimNetwork eng from office (it joins sales)" $E.NotLinked "Category office does not join network eng" ReclaimNetwork string:eng string:office
check "ReclaimNetwork sales office" broker_call ReclaimNetwork ss sales office
check "... office joins the host's network again" test "$(dir_call ListCategories)" = 'a(sssbbbb) 1 "office" "" "" true true true false'
refused "ReclaimNetwork again" $E.NotLinked "Category office does not join network sales" ReclaimNetwork string:sales string:office
check "the directory names catalog networks too: CreateCategory lab on eng" dir_call CreateCategory sssbbbb lab "" eng true true true false
refused "deleting eng, which lab joins" $E.NetworkInUse "categories: lab" DeleteNetwork string:eng
check "journal: assigned and reclaimed" \
        test "$(journal_json MESSAGE_ID=$(mid MID_NETWORK_ASSIGNED) VDESK_CATEGORY=office | jq -r .VDESK_NETWORK | head -1)$(journal_json MESSAGE_ID=$(mid MID_NETWORK_RECLAIMED) | jq -r .VDESK_NETWORK)" = salessales

# ---- the same through vdeskctl -------------------------------------------------------------------
check "vdeskctl create-network ops on VLAN 60 of eth1" \
        test "$(ctl create-network ops 10.60.0.0/24 10.60.0.1 10.60.0.10-10.60.0.20 --vlan=60 --uplink=eth1)" = "Created network ops (10.60.0.0/24, vlan)."
check "vdeskctl create-network lab2 on VXLAN 4100 to two peers, MTU 1400" \
        ctl create-network lab2 10.61.0.0/24 10.61.0.1 10.61.0.10-10.61.0.20 --vxlan=4100 --peers=192.0.2.1,192.0.2.2 --mtu=1400
check "vdeskctl networks lists them with their segments and pools" \
        bash -c "$(declare -f ctl); ctl networks | grep -qE '^ops +10.60.0.0/24 +10.60.0.1 +vlan 60 on eth1 +vdbr[0-9]+ +0 of 11 taken\$' &&
                 ctl networks | grep -qE '^lab2 +10.61.0.0/24 +10.61.0.1 +vxlan 4100 +vdbr[0-9]+ +0 of 11 taken\$'"
check "vdeskctl network lab2: its peers and MTU" \
        bash -c "$(declare -f ctl); ctl network lab2 | grep -qx '    Peers: 192.0.2.1, 192.0.2.2' && ctl network lab2 | grep -qx '      MTU: 1400'"
before=$(state)
out=$(ctl create-network x 10.62.0.0/24 10.62.0.1 10.62.0.10 --vlan=62 --uplink=eth1 2>&1)
check "vdeskctl create-network with a range that is not FIRST-LAST ($out)" test "$out" = "vdeskctl: the range '10.62.0.10' is not FIRST-LAST"
out=$(ctl create-network x 10.62.0.0/24 10.62.0.1 10.62.0.10-10.62.0.20 --vlan=62 --vxlan=5 2>&1)
check "... on a VLAN and VXLAN at once ($out)" test "$out" = "vdeskctl: a network is on a VLAN or on VXLAN, not both"
out=$(ctl create-network x 10.62.0.0/24 10.62.0.1 10.62.0.10-10.62.0.20 --vlan=4095 --uplink=eth1 2>&1)
check "... VLAN 4095: the broker's named error ($out)" \
        test "$out" = "vdeskctl: Invalid vlan: 4095 is not within 1-4094 (org.freedesktop.DBus.Error.InvalidArgs)"
check "... none of them changed anything" test "$before" = "$(state)"
check "vdeskctl assign-network ops office" test "$(ctl assign-network ops office)" = "New desktops of category office join network ops."
check "vdeskctl reclaim-network ops office" test "$(ctl reclaim-network ops office)" = "New desktops of category office no longer join network ops."
check "vdeskctl delete-network ops, lab2" bash -c "$(declare -f ctl); ctl delete-network ops && ctl delete-network lab2"

# ---- [Network] against the catalog at start-up ---------------------------------------------
# a vdesk.conf whose host network came to overlap sales (10.30.0.0/24):
# a broker refuses to start, naming both (before it asks for the bus name,
# which the running one holds: without the check it would fail there,
# saying something else)
{ cat /etc/vdesk/vdesk.conf; printf '[Network]\nGateway=10.30.0.1\nPrefix=16\nRangeStart=10.30.1.10\nRangeEnd=10.30.1.250\n'; } \
        >"$T/overlap.conf"
out=$(timeout 30 "$VDESK_BUILD/src/brokerd/vdesk-brokerd" --config="$T/overlap.conf" --sql-dir="$VDESK_SRC/sql" 2>&1); rc=$?
check "a broker whose [Network] overlaps sales does not start ($rc)" test $rc = 1
check "... saying why ($out)" grep -qF "[Network] 10.30.0.0/16 of vdesk.conf overlaps department network 'sales' 10.30.0.0/24" <<<"$out"

# ---- deleting ---------------------------------------------------------------------------------
check "DeleteNetwork sales" broker_call DeleteNetwork s sales
check "... gone with its addresses" \
        test "$(sql "SELECT COUNT(*) FROM networks WHERE name = 'sales'; SELECT COUNT(*) FROM network_free_addresses a LEFT JOIN networks n ON n.id = a.network_id WHERE n.id IS NULL" | tr '\n' ' ')" = "0 0 "
refused "DeleteNetwork again" $E.NoSuchNetwork "No network 'sales'" DeleteNetwork string:sales
refused "GetNetwork of it" $E.NoSuchNetwork "No network 'sales'" GetNetwork string:sales
check "UpdateCategory lab: no network" dir_call UpdateCategory sssbbbb lab "" "" true true true false
check "DeleteNetwork eng: its peers go too" \
        bash -c "$(declare -f broker_call); broker_call DeleteNetwork s eng && test \"\$(mariadb --no-defaults -S '$T/db/mysqld.sock' -N -B vdesk -e 'SELECT COUNT(*) FROM network_peers')\" = 0"
check "journal: deleted" test "$(journal_json MESSAGE_ID=$(mid MID_NETWORK_DELETED) | jq -r .VDESK_NETWORK | sort | tr '\n' ' ')" = "eng lab2 ops sales "

finish
