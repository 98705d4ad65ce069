#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdesk-netd against the real kernel, in its own network namespace ("host"),
# on a private dbus-daemon. A desktop is a namespace on the host's bridge
# serving a banner on 3389; a remote client is a namespace behind a veth, as
# a machine on the LAN would be; "outside" stands for the internet (and,
# once AllowedSources= names the LAN alone, for a client refused). The
# host's own services (MariaDB, libvirtd, sshd, the metrics page, DNS and
# DHCP) are listeners in the host namespace.
. "$VDESK_SRC/tests/lib/harness.sh"
need_root
need_cmd nft jq ip python3 busctl dbus-send

H=vdnt-host-$$ G=vdnt-desk-$$ C=vdnt-cli-$$ O=vdnt-out-$$
start_bus
chmod 755 "$T" "$T/bus"     # the unprivileged caller below must reach the bus
for ns in $H $G $C $O; do netns_add $ns; done

# host: bridge 10.20.0.1/24 (the desktop network), 10.77.0.1 to the client,
# 10.88.0.1 to the outside; desktop 10.20.0.15 on the bridge.
ip -n $H link add vdtbr0 type bridge
ip -n $H addr add 10.20.0.1/24 dev vdtbr0
ip -n $H link set vdtbr0 up
ip link add vdt-g0 type veth peer name vdt-g1
ip link set vdt-g0 netns $H; ip link set vdt-g1 netns $G
ip -n $H link set vdt-g0 master vdtbr0 up
ip -n $G addr add 10.20.0.15/24 dev vdt-g1; ip -n $G link set vdt-g1 up
ip -n $G route add default via 10.20.0.1
veth_pair $H vdt-c0 10.77.0.1/24 $C vdt-c1 10.77.0.2/24
ip -n $C route add default via 10.77.0.1
veth_pair $H vdt-o0 10.88.0.1/24 $O vdt-o1 10.88.0.2/24
ip -n $O route add default via 10.88.0.1

bg banner ip netns exec $G python3 "$VDESK_SRC/tests/lib/tcp-banner.py" 3389 DESKTOP-A
bg outside ip netns exec $O python3 "$VDESK_SRC/tests/lib/tcp-banner.py" 8080 OUTSIDE
wait_listening $G 3389 && wait_listening $O 8080 || die "banner servers did not start"
# the host's services, on all its addresses: MariaDB, libvirtd's TCP port,
# sshd, the metrics page, one HostServices= lists, DNS; DNS and DHCP on UDP
HOST_TCP="3306 16509 22 9750"
for p in $HOST_TCP 8443 53; do
        bg host$p ip netns exec $H python3 "$VDESK_SRC/tests/lib/tcp-banner.py" $p "HOST-$p"
done
for p in 53 67; do bg hostudp$p ip netns exec $H python3 "$VDESK_SRC/tests/lib/udp-banner.py" $p "HOST-UDP-$p"; done
for p in $HOST_TCP 8443 53; do wait_listening $H $p || die "host listener $p did not start"; done

# a department network's bridge (as libvirt makes it), no desktop on it
ip -n $H link add vdbr31 type bridge
ip -n $H addr add 10.30.0.1/24 dev vdbr31
ip -n $H link set vdbr31 up

write_config "$T/vdesk.conf" <<X
[Network]
Bridge=vdtbr0
Gateway=10.20.0.1
Prefix=24
RangeEnd=10.20.0.250
HostServices=8443/tcp
[Forward]
AllowedGuestPorts=3389 3390
X
start_netd() {
        bg netd ip netns exec $H env VDESK_CONFIG="$T/vdesk.conf" \
                "$VDESK_BUILD/src/netd/vdesk-netd" --ruleset="$VDESK_SRC/nft/vdesk.nft" --no-reconcile
        wait_until 10 bus_has_name org.vdesk.network1 || die "netd did not start: $(cat "$T/netd.log")"
}
start_netd

# the table read back from the kernel
tbl=$(ip netns exec $H nft -j list table inet vdesk)
check "table inet vdesk loaded with its version comment" table_comment_is $H "vdesk ruleset 4"
check "map rdp4 and chains present" \
        test "$(jq -r '[.nftables[] | (.map.name // .chain.name // empty)] | sort | join(",")' <<<"$tbl")" = \
                "desktop_input,forward,input,output,postrouting,prerouting,rdp4"
check "desktop subnet in the masquerade set" \
        bash -c "ip netns exec $H nft -j list set inet vdesk desktop_nets4 | jq -e '.. | .prefix? | select(.addr == \"10.20.0.0\" and .len == 24)' >/dev/null"
check "ip_forward enabled" test "$(ip netns exec $H cat /proc/sys/net/ipv4/ip_forward)" = 1
check "RulesetVersion property" test "$(busctl --system get-property org.vdesk.network1 /org/vdesk/network1 org.vdesk.network1.Manager RulesetVersion)" = "u 4"

# a forward, and a remote client through it
check "AddForward" netd_call AddForward qsqss 50001 10.20.0.15 3389 desk-a alice
check "element in the map with the desktop as comment" \
        test "$(nft_forwards $H)" = "50001 10.20.0.15:3389 desk-a"
line=$(tcp_line $C 10.77.0.1 50001)
check "remote client reaches the desktop through host:50001 ($line)" test "$line" = "DESKTOP-A peer=10.77.0.2"
line=$(tcp_line $H 10.20.0.1 50001)
check "the host itself reaches it too ($line)" bash -c "[[ '$line' == DESKTOP-A* ]]"
line=$(tcp_line $C 10.77.0.1 50002)
check "a port without a forward answers nothing" test -z "$line"
# only through a forward: a client routed at the desktop's own address
# (its route to 10.20.0.0/24 goes through the host) reaches none of its ports
check "a client routed at the desktop reaches its port 3389 only through a forward" \
        test -z "$(tcp_line $C 10.20.0.15 3389)"

# egress: the desktop reaches the outside, masqueraded
line=$(tcp_line $G 10.88.0.2 8080)
check "desktop egress is masqueraded ($line)" test "$line" = "OUTSIDE peer=10.88.0.1"
line=$(tcp_line $C 10.88.0.2 8080)
check "other traffic is not masqueraded ($line)" test "$line" = "OUTSIDE peer=10.77.0.2"

# the host is closed to its desktops: what a client of the LAN reaches
# (the listeners answer), a desktop does not, on the gateway or on another
# of the host's addresses; DHCP, DNS, ping and HostServices= on its
# gateway it does, and the host's own connections to it are answered
setof() { ip netns exec $H nft -j list set inet vdesk "$1" | jq -r '[.nftables[].set.elem? | select(.) | .[] | if type != "object" then . elif .prefix then "\(.prefix.addr)/\(.prefix.len)" else (.concat | map(tostring) | join("/")) end] | sort | join(" ")'; }
check "the desktop bridge is in desktop_bridges" test "$(setof desktop_bridges)" = vdtbr0
check "HostServices= is in host_services" test "$(setof host_services)" = "tcp/8443"
for p in $HOST_TCP; do
        line=$(tcp_line $C 10.77.0.1 $p)
        check "a LAN client reaches the host's port $p ($line)" test "$line" = "HOST-$p peer=10.77.0.2"
        check "a desktop does not reach the host's port $p on its gateway" test -z "$(tcp_line $G 10.20.0.1 $p)"
        check "... nor on the host's LAN address" test -z "$(tcp_line $G 10.77.0.1 $p)"
done
line=$(tcp_line $G 10.20.0.1 53)
check "a desktop reaches DNS (TCP) on its gateway ($line)" test "$line" = "HOST-53 peer=10.20.0.15"
line=$(udp_line $G 10.20.0.1 53)
check "a desktop reaches DNS (UDP) on its gateway ($line)" test "$line" = "HOST-UDP-53 peer=10.20.0.15"
check "... but not DNS on another of the host's addresses" test -z "$(tcp_line $G 10.77.0.1 53)"
line=$(udp_line $G 255.255.255.255 67)
check "a desktop's DHCP broadcast is answered ($line)" test "$line" = "HOST-UDP-67 peer=10.20.0.15"
line=$(udp_line $G 10.20.0.1 67)
check "... and a unicast DHCP renewal ($line)" test "$line" = "HOST-UDP-67 peer=10.20.0.15"
line=$(tcp_line $G 10.20.0.1 8443)
check "a desktop reaches what HostServices= lists ($line)" test "$line" = "HOST-8443 peer=10.20.0.15"
# one ICMP echo (no ping on the build machine): the reply's type, 0
echo_reply() {
        ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(2)
s.sendto(bytes([8, 0, 0xf7, 0xfe, 0, 1, 0, 0]), (sys.argv[1], 0))
while True:
    d = s.recv(2048)
    if d[12:16] == socket.inet_aton(sys.argv[1]):
        print(d[(d[0] & 15) * 4]); break' "$2" 2>/dev/null
}
check "a desktop pings its gateway" outputs 0 echo_reply $G 10.20.0.1
line=$(tcp_line $H 10.20.0.15 3389)
check "the host's own connection to a desktop is answered ($line)" test "$line" = "DESKTOP-A peer=10.20.0.1"
inputdrops=$(ip netns exec $H nft -j list chain inet vdesk desktop_input | jq '[.nftables[].rule? | select(.) | .expr[].counter.packets? | select(.)] | add // 0')
check "the input filter counted its drops ($inputdrops)" test "$inputdrops" -ge 8

# idempotent re-add, conflicts and bad input change nothing
check "re-adding the same forward succeeds" netd_call AddForward qsqss 50001 10.20.0.15 3389 desk-a alice
before=$(nft_forwards $H)
check "another address on a used port: ForwardConflict" \
        fails_with "already forwards elsewhere" netd_call AddForward qsqss 50001 10.20.0.16 3389 desk-b bob
check "port below the range: InvalidArgs" \
        fails_with "port is outside the configured forward range" netd_call AddForward qsqss 40000 10.20.0.16 3389 desk-b bob
check "port above the range: InvalidArgs" \
        fails_with "port is outside the configured forward range" netd_call AddForward qsqss 60000 10.20.0.16 3389 desk-b bob
check "RemoveForward of a port below the range: InvalidArgs naming it and the range" \
        fails_with "Invalid port: 49999 is outside the forward range 50000-59999" netd_call RemoveForward qs 49999 ""
check "RemoveForward of a port above the range: InvalidArgs" \
        fails_with "Invalid port: 60000 is outside the forward range 50000-59999" netd_call RemoveForward qs 60000 10.20.0.15
check "bad address: InvalidArgs" \
        fails_with "Invalid address '10.20.0.300'" netd_call AddForward qsqss 50003 10.20.0.300 3389 desk-b bob
check "loopback address refused" \
        fails_with "not a unicast guest address" netd_call AddForward qsqss 50003 127.0.0.1 3389 desk-b bob
check "desktop name with ../ refused" \
        fails_with "Invalid desktop" netd_call AddForward qsqss 50003 10.20.0.16 3389 "../x" bob
check "desktop name with shell metacharacters refused" \
        fails_with "Invalid desktop" netd_call AddForward qsqss 50003 10.20.0.16 3389 'a;reboot' bob
check "empty desktop name refused" \
        fails_with "Invalid desktop: is empty" netd_call AddForward qsqss 50003 10.20.0.16 3389 "" bob
check "300-byte desktop name refused" \
        fails_with "Invalid desktop" netd_call AddForward qsqss 50003 10.20.0.16 3389 "$(printf 'a%.0s' $(seq 300))" bob
# forwards only into the desktop networks, only to allowed guest ports
refused_forward() {     # PORT ADDRESS GUEST-PORT: ForwardRefused, by name
        local out
        out=$(dbus-send --system --print-reply --dest=org.vdesk.network1 /org/vdesk/network1 \
                org.vdesk.network1.Manager.AddForward uint16:$1 string:$2 uint16:$3 string:evil-$1 string:mallory 2>&1) &&
                return 1
        grep -q "org.vdesk.Error.ForwardRefused" <<<"$out" || { echo "  got: $out" >&2; return 1; }
}
check "a forward to an internal host outside the desktop networks: ForwardRefused" \
        refused_forward 50040 192.168.1.10 3389
check "... the message names the address's field" \
        fails_with "address is not a guest address of a desktop network of this host" \
                netd_call AddForward qsqss 50040 192.168.1.10 3389 evil-50040 mallory
check "... and a journal warning names the desktop" \
        grep -q "RDP forward refused: port 50040 -> 192.168.1.10:3389 (desktop evil-50040)" "$T/netd.log"
check "a forward to the gateway, the host itself: ForwardRefused" refused_forward 50041 10.20.0.1 3389
check "a forward to the host network's broadcast address: ForwardRefused" refused_forward 50041 10.20.0.255 3389
check "a forward to a guest port not allowed (22): ForwardRefused" refused_forward 50042 10.20.0.16 22
check "... named" fails_with "guest_port is not one of [Forward] AllowedGuestPorts=" \
        netd_call AddForward qsqss 50042 10.20.0.16 22 evil-50042 mallory
check "a department network's address before EnsureNetwork: ForwardRefused" refused_forward 50043 10.30.0.20 3389
check "a batch with one forward outside adds nothing" \
        fails_with "address is not a guest address" netd_call AddForwards 'a(qsqss)' 2 \
                50044 10.20.0.44 3389 d44 u44 50045 172.16.0.1 3389 d45 u45
check "the host's bridge as a department's: InvalidArgs" \
        fails_with "Invalid bridge: 'vdtbr0' is the host's desktop network's" netd_call EnsureNetwork sssssssususassqu \
                vdtbr0 sales 10.30.0.0/24 10.30.0.1 10.30.0.10 10.30.0.250 none 0 "" 0 "" 0 "" 0 0
# a domain's metadata naming a department network of an internal subnet
# on an existing bridge: refused, so that no forward may lead there
nets_before="$(setof desktop_nets4) $(setof desktop_bridges)"
check "a network whose gateway its bridge does not hold: LinkConflict" \
        fails_with "Bridge vdbr31 does not hold network evil's gateway 192.168.1.1" netd_call EnsureNetwork \
                sssssssususassqu vdbr31 evil 192.168.1.0/24 192.168.1.1 192.168.1.10 192.168.1.250 none 0 "" 0 "" 0 "" 0 0
check "... no set changed" test "$(setof desktop_nets4) $(setof desktop_bridges)" = "$nets_before"
check "... and a forward into it is still refused" refused_forward 50047 192.168.1.10 3389
check "a department bridge that is not there: NotReady" \
        fails_with "Bridge vdtbr9 of network sales is not up" netd_call EnsureNetwork sssssssususassqu \
                vdtbr9 sales 10.30.0.0/24 10.30.0.1 10.30.0.10 10.30.0.250 none 0 "" 0 "" 0 "" 0 0
check "nothing was added by the refused forwards" test "$(nft_forwards $H)" = "$before"
check "an allowed second guest port (3390) is accepted" netd_call AddForward qsqss 50046 10.20.0.46 3390 d46 u46
check "EnsureNetwork of a department network (no segment)" netd_call EnsureNetwork sssssssususassqu \
        vdbr31 sales 10.30.0.0/24 10.30.0.1 10.30.0.10 10.30.0.250 none 0 "" 0 "" 0 "" 0 0
check "... its bridge joins desktop_bridges" test "$(setof desktop_bridges)" = "vdbr31 vdtbr0"
check "... then its address is accepted" netd_call AddForward qsqss 50043 10.30.0.20 3389 d43 u43
check "... both are in the map" test "$(nft_forwards $H | grep -E '^5004[36] ')" = \
        "$(printf '50043 10.30.0.20:3389 d43\n50046 10.20.0.46:3390 d46')"
netd_call RemoveForward qs 50043 10.30.0.20 && netd_call RemoveForward qs 50046 10.20.0.46
check "RemoveNetwork: its bridge leaves desktop_bridges" bash -c \
        "busctl --system call org.vdesk.network1 /org/vdesk/network1 org.vdesk.network1.Manager RemoveNetwork sssssssususassqu \
                vdbr31 sales 10.30.0.0/24 10.30.0.1 10.30.0.10 10.30.0.250 none 0 '' 0 '' 0 '' 0 0 && \
                test \"\$(ip netns exec $H nft -j list set inet vdesk desktop_bridges | jq -r '[.nftables[].set.elem? | select(.) | .[]] | join(\" \")')\" = vdtbr0"
check "... and its address is refused again" refused_forward 50043 10.30.0.20 3389

check "a batch with one conflicting forward adds nothing" \
        fails_with "already forwards elsewhere" netd_call AddForwards 'a(qsqss)' 2 \
                50010 10.20.0.20 3389 desk-c carol 50001 10.20.0.99 3389 desk-d dave
check "a batch naming one port twice is refused" \
        fails_with "port appears twice" netd_call AddForwards 'a(qsqss)' 2 \
                50011 10.20.0.21 3389 desk-e e 50011 10.20.0.22 3389 desk-f f
check "an empty batch is refused" fails_with "the list is empty" netd_call AddForwards 'a(qsqss)' 0
check "nothing changed in the map after the refusals" test "$(nft_forwards $H)" = "$before"

# a batch, listing, guarded removal
check "AddForwards of 3" netd_call AddForwards 'a(qsqss)' 3 \
        50020 10.20.0.30 3389 d30 u30 50021 10.20.0.31 3389 d31 u31 50022 10.20.0.32 3389 d32 u32
check "ListForwards shows 4" bash -c "busctl --system --json=short call org.vdesk.network1 /org/vdesk/network1 org.vdesk.network1.Manager ListForwards | jq -e '.data[0] | length == 4' >/dev/null"
check "RemoveForward with the wrong address is refused" \
        fails_with "forwards to another address" netd_call RemoveForward qs 50020 10.20.0.99
check "RemoveForward" netd_call RemoveForward qs 50020 10.20.0.30
check "RemoveForward again: NoSuchForward" fails_with "No forward on port 50020" netd_call RemoveForward qs 50020 10.20.0.30
check "map holds exactly the rest" test "$(nft_forwards $H | cut -d' ' -f1 | tr '\n' ' ')" = "50001 50021 50022 "

# ListForwardActivity: the connections open through each forward, from the
# kernel's connection tracking. A client holds one open (no traffic) through
# 50050 to a guest that keeps it; through 50051 a client came and went.
bg holder ip netns exec $G python3 "$VDESK_SRC/tests/lib/tcp-banner.py" 3390 HOLDS hold
wait_listening $G 3390 || die "the holding banner did not start"
netd_call AddForwards 'a(qsqss)' 2 50050 10.20.0.15 3390 d-held u50 50051 10.20.0.15 3389 d-gone u51 ||
        die "cannot add the forwards of the activity check"
activity() {
        busctl --system --json=short call org.vdesk.network1 /org/vdesk/network1 org.vdesk.network1.Manager \
                ListForwardActivity | jq -r '.data[0][] | select(.[0] | startswith("d-")) | "\(.[0]) \(.[1]) \(.[2])"' | sort | tr '\n' ' '
}
export -f activity
check "ListForwardActivity: no connection yet" test "$(activity)" = "d-gone 50051 0 d-held 50050 0 "
bg client ip netns exec $C bash -c "exec 3<>/dev/tcp/10.77.0.1/50050 && head -1 <&3 && exec sleep 600"
line=$(tcp_line $C 10.77.0.1 50051)
check "a client came and went through 50051 ($line)" test "$line" = "DESKTOP-A peer=10.77.0.2"
check "... a held connection shows on its forward alone" wait_until 5 bash -c "[ \"\$(activity)\" = 'd-gone 50051 0 d-held 50050 1 ' ]"
sleep 2
check "... still after seconds without traffic" test "$(activity)" = "d-gone 50051 0 d-held 50050 1 "
kill $PID_client
check "... and is gone once the client closed it" wait_until 5 bash -c "[ \"\$(activity)\" = 'd-gone 50051 0 d-held 50050 0 ' ]"
check "ListForwardActivity is refused to an unprivileged uid" \
        fails_with "Access denied" setpriv --reuid=65534 --regid=65534 --clear-groups \
                busctl --system call org.vdesk.network1 /org/vdesk/network1 org.vdesk.network1.Manager ListForwardActivity
netd_call RemoveForward qs 50050 10.20.0.15 && netd_call RemoveForward qs 50051 10.20.0.15 ||
        die "cannot remove the forwards of the activity check"

# access: the bus policy lets only root call netd
check "an unprivileged uid cannot add forwards" \
        fails_with "Access denied" setpriv --reuid=65534 --regid=65534 --clear-groups \
                busctl --system call org.vdesk.network1 /org/vdesk/network1 org.vdesk.network1.Manager AddForward qsqss 50030 10.20.0.40 3389 x y
check "nothing was added by it" test "$(nft_forwards $H | grep -c 50030)" = 0

# restart: the table (same version) is adopted with its elements
kill $PID_netd; wait_until 10 bash -c "! kill -0 $PID_netd"
start_netd
check "restart adopts the table and keeps the forwards" test "$(nft_forwards $H | wc -l)" = 3
line=$(tcp_line $C 10.77.0.1 50001)
check "forward still works after restart" test "$line" = "DESKTOP-A peer=10.77.0.2"

# someone deletes the table: the next call puts it back
ip netns exec $H nft delete table inet vdesk
check "AddForward after the table was deleted reloads it" netd_call AddForward qsqss 50001 10.20.0.15 3389 desk-a alice
check "... and the forward is there" test "$(nft_forwards $H)" = "50001 10.20.0.15:3389 desk-a"

# an older ruleset version is replaced at start
kill $PID_netd; wait_until 10 bash -c "! kill -0 $PID_netd"
ip netns exec $H nft delete table inet vdesk
ip netns exec $H nft 'add table inet vdesk { comment "vdesk ruleset 0"; }'
start_netd
check "a table of another version is replaced" table_comment_is $H "vdesk ruleset 4"
netd_call AddForward qsqss 50001 10.20.0.15 3389 desk-a alice   # (no reconcile here)

# AllowedSources=: the LAN (10.77.0.0/24) reaches the forwards, the
# outside (10.88.0.2) does not; the host itself still does
line=$(tcp_line $O 10.88.0.1 50001)
check "any source (the default): the outside reaches the forward ($line)" test "$line" = "DESKTOP-A peer=10.88.0.2"
check "... rdp_sources4 holds 0.0.0.0/0" test "$(setof rdp_sources4)" = "0.0.0.0/0"
cp "$T/vdesk.conf" "$T/vdesk.conf.any"
printf 'AllowedSources=10.77.0.0/24\n' >>"$T/vdesk.conf"     # [Forward] is the last section
kill $PID_netd; wait_until 10 bash -c "! kill -0 $PID_netd"
start_netd
check "restarted with AllowedSources=10.77.0.0/24: the set holds it alone" test "$(setof rdp_sources4)" = "10.77.0.0/24"
line=$(tcp_line $C 10.77.0.1 50001)
check "an allowed client reaches the forward ($line)" test "$line" = "DESKTOP-A peer=10.77.0.2"
check "a client outside AllowedSources= does not" test -z "$(tcp_line $O 10.88.0.1 50001)"
line=$(tcp_line $H 10.77.0.1 50001)
check "the host's own connection (the broker's probe) still does ($line)" bash -c "[[ '$line' == DESKTOP-A* ]]"
kill $PID_netd; wait_until 10 bash -c "! kill -0 $PID_netd"
for bad in 10.77.0.0/33 10.77.0.1/24 lan; do
        cp "$T/vdesk.conf.any" "$T/vdesk.conf"
        printf 'AllowedSources=%s\n' "$bad" >>"$T/vdesk.conf"
        out=$(ip netns exec $H env VDESK_CONFIG="$T/vdesk.conf" "$VDESK_BUILD/src/netd/vdesk-netd" \
                --ruleset="$VDESK_SRC/nft/vdesk.nft" --no-reconcile 2>&1) && out="started: $out"
        check "AllowedSources=$bad keeps netd from starting, the key named" \
                grep -q "invalid value for \[Forward\] AllowedSources: '$bad'" <<<"$out"
done
check "... and the set is as it was" test "$(setof rdp_sources4)" = "10.77.0.0/24"

# journal: every change was one entry (when a journald is there to take them)
finish
