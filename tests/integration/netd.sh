#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdesk-netd against the real kernel, in its own network namespace ("host"),
# on a private dbus-daemon. A desktop is a namespace on the host's bridge
# serving a banner on 3389; a remote client is a namespace behind a veth, as
# a machine on the LAN would be; "outside" stands for the internet.
. "$VDESK_SRC/tests/lib/harness.sh"
need_root
need_cmd nft jq ip python3 busctl

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

write_config "$T/vdesk.conf" <<X
[Network]
Gateway=10.20.0.1
Prefix=24
X
start_netd() {
        bg netd ip netns exec $H env VDESK_CONFIG="$T/vdesk.conf" \
                "$VDESK_BUILD/src/netd/vdesk-netd" --ruleset="$VDESK_SRC/nft/vdesk.nft" --no-reconcile
        wait_until 10 bus_has_name org.vdesk.network1 || die "netd did not start: $(cat "$T/netd.log")"
}
start_netd

# the table read back from the kernel
tbl=$(ip netns exec $H nft -j list table inet vdesk)
check "table inet vdesk loaded with its version comment" table_comment_is $H "vdesk ruleset 2"
check "map rdp4 and chains present" \
        test "$(jq -r '[.nftables[] | (.map.name // .chain.name // empty)] | sort | join(",")' <<<"$tbl")" = \
                "forward,output,postrouting,prerouting,rdp4"
check "desktop subnet in the masquerade set" \
        bash -c "ip netns exec $H nft -j list set inet vdesk desktop_nets4 | jq -e '.. | .prefix? | select(.addr == \"10.20.0.0\" and .len == 24)' >/dev/null"
check "ip_forward enabled" test "$(ip netns exec $H cat /proc/sys/net/ipv4/ip_forward)" = 1
check "RulesetVersion property" test "$(busctl --system get-property org.vdesk.network1 /org/vdesk/network1 org.vdesk.network1.Manager RulesetVersion)" = "u 2"

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

# egress: the desktop reaches the outside, masqueraded
line=$(tcp_line $G 10.88.0.2 8080)
check "desktop egress is masqueraded ($line)" test "$line" = "OUTSIDE peer=10.88.0.1"
line=$(tcp_line $C 10.88.0.2 8080)
check "other traffic is not masqueraded ($line)" test "$line" = "OUTSIDE peer=10.77.0.2"

# idempotent re-add, conflicts and bad input change nothing
check "re-adding the same forward succeeds" netd_call AddForward qsqss 50001 10.20.0.15 3389 desk-a alice
before=$(nft_forwards $H)
check "another address on a used port: ForwardConflict" \
        fails_with "already forwards elsewhere" netd_call AddForward qsqss 50001 10.20.0.16 3389 desk-b bob
check "port below the range: InvalidArgs" \
        fails_with "port is outside the configured forward range" netd_call AddForward qsqss 40000 10.20.0.16 3389 desk-b bob
check "port above the range: InvalidArgs" \
        fails_with "port is outside the configured forward range" netd_call AddForward qsqss 60000 10.20.0.16 3389 desk-b bob
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
check "a table of another version is replaced" table_comment_is $H "vdesk ruleset 2"

# journal: every change was one entry (when a journald is there to take them)
finish
