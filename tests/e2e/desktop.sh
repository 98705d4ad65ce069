#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A desktop's whole life on a private host with real libvirtd, QEMU
# (software emulation), MariaDB, polkitd, journald and vdesk's hook:
# template -> create -> open -> a client on another machine (namespace)
# reads the guest's banner through host:port -> stop -> forward gone ->
# the journal holds every step. Then a desktop started by hand with virsh
# is provisioned by the hook all the same.
. "$VDESK_SRC/tests/lib/harness.sh"
. "$VDESK_SRC/tests/lib/host.sh"
need_cmd xmllint
host_enter "$@"
host_start_desktops </dev/null

# the published contract: what each daemon exposes is the XML in dbus/
for s in network1 images1 broker1 directory1; do
        check "org.vdesk.$s.Manager is as dbus/ publishes it" bash -c \
                "busctl --system introspect --xml-interface org.vdesk.$s /org/vdesk/$s |
                 python3 '$VDESK_SRC/tests/lib/dbus-interface.py' org.vdesk.$s.Manager |
                 diff -u '$VDESK_SRC/dbus/org.vdesk.$s.Manager.xml' -"
done

# a client on "another machine": its own namespace behind a veth
C=vdc-$$
netns_add $C
veth_pair - vdh-c0 10.77.0.1/24 $C vdh-c1 10.77.0.2/24
ip -n $C route add default via 10.77.0.1

"$VDESK_SRC/tests/guest/build-template" "$T/templates/tiny.img" >/dev/null || die "cannot build the template"
check "CreateAccount alice (directory)" dir_call CreateAccount sssss alice "Alice Example" staff "" ""

check "RegisterTemplate" broker_call RegisterTemplate ss tiny "$T/templates/tiny.img"
check "ListTemplates shows it as raw" \
        test "$(broker_json ListTemplates | jq -r '.data[0][0] | "\(.[0]) \(.[2])"')" = "tiny raw"

check "CreateDesktop" broker_call CreateDesktop sss alice-1 alice tiny
d=$(broker_json GetDesktop s alice-1 | jq -c '.data[0]')
addr=$(jq -r '.[4]' <<<"$d"); mac=$(jq -r '.[5]' <<<"$d"); port=$(jq -r '.[6]' <<<"$d")
check "first address and port of the ranges ($addr, $port)" test "$addr $port" = "10.20.0.10 50000"
check "MAC derived from the address ($mac)" test "$mac" = "52:54:0a:14:00:0a"
check "the domain is defined with vdesk metadata" \
        bash -c "virsh dumpxml alice-1 | grep -q 'https://vdesk.org/xmlns/desktop/1'"
check "the DHCP host entry is registered" \
        bash -c "virsh net-dumpxml vdesk | grep -q \"mac='$mac'.*ip='$addr'\""
check "vdeskctl desktops lists it (on this host, $(hostname))" bash -c "'$VDESK_BUILD/src/vdeskctl/vdeskctl' desktops | grep -qE '^alice-1 +alice +tiny +10.20.0.10 +50000 +stopped +$(hostname)$'"
out=$(ctl show ghost 2>&1)
check "vdeskctl names the service's error ($out)" test "$out" = "vdeskctl: No desktop 'ghost' (org.vdesk.Error.NoSuchDesktop)"
out=$(ctl create x 2>&1)
check "vdeskctl with a missing argument says so ($out)" test "$out" = "vdeskctl: create takes 3 arguments (see --help)"
check "the desktop network is in open forward mode" \
        bash -c "virsh net-dumpxml vdesk | grep -q \"<forward mode='open'/>\""

t0=$(date +%s.%N)
out=$(busctl --system --timeout=150 --json=short call org.vdesk.broker1 /org/vdesk/broker1 org.vdesk.broker1.Manager OpenDesktop s alice-1)
t1=$(date +%s.%N)
check "OpenDesktop answers ($(echo "$t1 - $t0" | bc) s)" test -n "$out"
check "... with the host's address and the port" \
        test "$(jq -r '"\(.data[0]) \(.data[1])"' <<<"$out")" = "10.77.0.1 $port"
rdp=$(jq -r '.data[2]' <<<"$out")
check "the .rdp file names host:port" grep -q "^full address:s:10.77.0.1:$port" <<<"$rdp"
check "the .rdp file names the account" grep -q "^username:s:alice" <<<"$rdp"
check "the .rdp file has the redirection lines" \
        test "$(grep -cE '^(redirectprinters|redirectclipboard|redirectdrives):i:1' <<<"$rdp")" = 3
check "the FreeRDP command" grep -q "^xfreerdp /v:10.77.0.1:$port /u:alice" <<<"$(jq -r '.data[3]' <<<"$out")"
check "the disk was made by the hook as an overlay of the template" \
        test "$(qemu-img info -U --output=json "$T/disks/alice-1.qcow2" | jq -r '."backing-filename"')" = "$T/templates/tiny.img"
check "the forward is one element of the map" \
        test "$(nft -j list map inet vdesk rdp4 | jq -r '[.nftables[] | select(.map) | .map.elem[]?] | length')" = 1

line=$(tcp_line $C 10.77.0.1 "$port")
check "a remote client reads the guest's banner through host:$port ($line)" test "$line" = "VDESK-TEST-GUEST ip=$addr"
check "the state is running" test "$(broker_json GetDesktop s alice-1 | jq -r '.data[0][7]')" = running

check "StopDesktop" broker_call StopDesktop sb alice-1 true
check "the domain is off" wait_until 10 bash -c "virsh domstate alice-1 | grep -q 'shut off'"
check "the forward is gone" \
        wait_until 5 bash -c "test \"\$(nft -j list map inet vdesk rdp4 | jq '[.nftables[] | select(.map) | .map.elem[]?] | length')\" = 0"
check "the client is not answered any more" test -z "$(tcp_line $C 10.77.0.1 "$port")"
check "the state is stopped" wait_until 5 bash -c \
        "busctl --system --json=short call org.vdesk.broker1 /org/vdesk/broker1 org.vdesk.broker1.Manager GetDesktop s alice-1 | jq -e '.data[0][7] == \"stopped\"' >/dev/null"

# started by hand: the hook provisions it, brokerd sees the event
check "virsh start of a vdesk desktop" virsh start alice-1
line="" end=$((SECONDS + 60))
while [ -z "$line" ] && [ $SECONDS -lt $end ]; do line=$(tcp_line $C 10.77.0.1 "$port") || sleep 0.2; done
check "it answers through the forward the hook added ($line)" test "$line" = "VDESK-TEST-GUEST ip=$addr"
check "brokerd recorded the start" wait_until 5 bash -c \
        "busctl --system --json=short call org.vdesk.broker1 /org/vdesk/broker1 org.vdesk.broker1.Manager GetDesktop s alice-1 | jq -e '.data[0][7] == \"running\"' >/dev/null"
# netd restarted after its table was lost: the forward of the running
# desktop is rebuilt from its domain XML
kill $PID_netd; wait_until 10 bash -c "! kill -0 $PID_netd"
nft delete table inet vdesk
bg netd "$VDESK_BUILD/src/netd/vdesk-netd" --ruleset="$VDESK_SRC/nft/vdesk.nft"
wait_until 10 bus_has_name org.vdesk.network1 || die "netd did not restart"
check "netd's reconcile restores the running desktop's forward" \
        wait_until 10 bash -c "nft -j list map inet vdesk rdp4 | jq -e '[.nftables[] | select(.map) | .map.elem[]?] | length == 1' >/dev/null"
line=$(tcp_line $C 10.77.0.1 "$port")
check "  ... and the client reaches the guest again ($line)" test "$line" = "VDESK-TEST-GUEST ip=$addr"
check "  ... journaled" test -n "$(journal_json MESSAGE_ID="$(mid FORWARDS_RECONCILED)" VDESK_CHANGED_COUNT=1)"

# a running domain's vdesk metadata rewritten (as any member of the libvirt
# group may) to lead to an internal host: reconcile refuses that forward,
# and takes away the one the map held for the port
NS=https://vdesk.org/xmlns/desktop/1
meta=$(virsh metadata alice-1 "$NS")
evil=$(sed -e "s/address=.$addr./address='192.168.1.10'/" -e "s/mac=.$mac./mac='52:54:c0:a8:01:0a'/" <<<"$meta")
check "the running domain's metadata rewritten to 192.168.1.10" \
        virsh metadata alice-1 "$NS" --key vdesk --set "$evil" --live
restart_netd() {
        kill $PID_netd; wait_until 10 bash -c "! kill -0 $PID_netd"
        bg netd "$VDESK_BUILD/src/netd/vdesk-netd" --ruleset="$VDESK_SRC/nft/vdesk.nft"
        wait_until 10 bus_has_name org.vdesk.network1 || die "netd did not restart"
}
restart_netd
check "netd's reconcile refuses the forward to an internal host, with a warning naming the desktop" \
        wait_until 10 bash -c "journalctl --no-pager -o json MESSAGE_ID=$(mid FORWARD_REFUSED) VDESK_DESKTOP=alice-1 | jq -e 'select(.VDESK_GUEST_ADDRESS == \"192.168.1.10\" and .PRIORITY == \"4\")' >/dev/null"
check "  ... and the map holds no forward for it" \
        wait_until 10 bash -c "nft -j list map inet vdesk rdp4 | jq -e '[.nftables[] | select(.map) | .map.elem[]?] | length == 0' >/dev/null"
check "the metadata put back" virsh metadata alice-1 "$NS" --key vdesk --set "$meta" --live
restart_netd
check "  ... reconcile restores the forward" \
        wait_until 10 bash -c "nft -j list map inet vdesk rdp4 | jq -e '[.nftables[] | select(.map) | .map.elem[]?] | length == 1' >/dev/null"

# libvirtd restarted: brokerd's close callback fires, it reconnects and
# follows the domains' events again
lv=$(cat /run/libvirtd.pid)
kill $lv; wait_until 15 bash -c "! kill -0 $lv"
libvirtd -d -p /run/libvirtd.pid
wait_until 20 virsh version >/dev/null || die "libvirtd did not restart"
_pids+=("$(cat /run/libvirtd.pid)")
check "vdeskctl forwards shows the running desktop's forward" \
        bash -c "'$VDESK_BUILD/src/vdeskctl/vdeskctl' forwards | grep -qE '^$port +$addr:3389 +alice-1\$'"
check "brokerd reconnects to the restarted libvirtd" wait_until 20 bash -c \
        "test \$(journalctl --no-pager -o cat SYSLOG_IDENTIFIER=vdesk-brokerd | grep -c '^Connected to qemu:///system') -ge 2"
check "the desktop kept running through the restart" bash -c "virsh domstate alice-1 | grep -q running"

check "DeleteDesktop of a running desktop: DesktopRunning" \
        fails_with "is running" broker_call DeleteDesktop s alice-1
check "virsh destroy" virsh destroy alice-1
check "brokerd, reconnected, records the stop" wait_until 10 bash -c \
        "busctl --system --json=short call org.vdesk.broker1 /org/vdesk/broker1 org.vdesk.broker1.Manager GetDesktop s alice-1 | jq -e '.data[0][7] == \"stopped\"' >/dev/null"
check "... and the forward is gone again" \
        wait_until 5 bash -c "test \"\$(nft -j list map inet vdesk rdp4 | jq '[.nftables[] | select(.map) | .map.elem[]?] | length')\" = 0"

# the journal: every step one entry with its MESSAGE_ID
starts=$(journal_json MESSAGE_ID="$(mid DESKTOP_STARTED)" VDESK_DESKTOP=alice-1)
check "two starts in the journal" test "$(wc -l <<<"$starts")" = 2
check "the first names the actor uid 0" test "$(head -1 <<<"$starts" | jq -r .VDESK_ACTOR_UID)" = 0
check "the second was libvirt's (virsh)" test "$(tail -1 <<<"$starts" | jq -r .VDESK_ACTOR)" = libvirt
check "the starts name the account and port" \
        test "$(head -1 <<<"$starts" | jq -r '"\(.VDESK_ACCOUNT) \(.VDESK_PORT)"')" = "alice $port"
for e in DESKTOP_CREATED DESKTOP_OPENED DESKTOP_STOPPED FORWARD_ADDED FORWARD_REMOVED DISK_CREATED TEMPLATE_REGISTERED; do
        check "journal has $e" test -n "$(journal_json MESSAGE_ID="$(mid $e)")"
done

# the same rewrite in the stopped domain's definition: the hook's started
# call is refused by name, so the domain does not run, and nothing is
# forwarded
check "the domain's metadata rewritten to 192.168.1.10" virsh metadata alice-1 "$NS" --key vdesk --set "$evil" --config
out=$(virsh start alice-1 2>&1)
check "virsh start is refused by netd's ForwardRefused ($out)" \
        grep -q "refused: address is not a guest address of a desktop network of this host" <<<"$out"
check "... the domain is not running" bash -c "virsh domstate alice-1 | grep -q 'shut off'"
check "... and nothing is forwarded" \
        test "$(nft -j list map inet vdesk rdp4 | jq '[.nftables[] | select(.map) | .map.elem[]?] | length')" = 0

check "DeleteDesktop" broker_call DeleteDesktop s alice-1
check "the domain is gone" bash -c "! virsh dominfo alice-1 >/dev/null 2>&1"
check "the disk is gone" test ! -e "$T/disks/alice-1.qcow2"
check "the DHCP entry is gone" bash -c "! virsh net-dumpxml vdesk | grep -q \"$mac\""
check "the row is gone" test "$(sql 'SELECT COUNT(*) FROM desktops')" = 0
check "journal has DESKTOP_DELETED" test -n "$(journal_json MESSAGE_ID="$(mid DESKTOP_DELETED)")"

# ---- a raw template whose guest wrote a qcow2 header ------------------------
# A build's or an edit's guest writes a raw template's first bytes: here a
# qcow2 header naming /etc/shadow as its backing file, written into a copy
# of the test template registered as a second one. Read as qcow2, its
# desktops would read /etc/shadow; vdesk recorded it raw when it was
# registered and says so everywhere: the overlay's header, the domain's
# disk chain, QEMU's command line. (The guest no longer boots: its boot
# sector is the header. The domain runs all the same.)
cp --sparse=always "$T/templates/tiny.img" "$T/templates/guest.img"
check "RegisterTemplate of a copy" broker_call RegisterTemplate ss guest "$T/templates/guest.img"
check "... recorded raw, its version 1 too" test "$(sql "SELECT CONCAT(t.format, ' ', v.format) FROM templates t
        JOIN template_versions v ON v.template_id = t.id WHERE t.name = 'guest'")" = "raw raw"
qemu-img create -q -f qcow2 -b /etc/shadow -F raw "$T/header.qcow2" 1G
dd if="$T/header.qcow2" of="$T/templates/guest.img" conv=notrunc status=none
check "its guest wrote a qcow2 header naming /etc/shadow into its first sector" \
        test "$(qemu-img info --output=json "$T/templates/guest.img" | jq -r '"\(.format) \(."backing-filename")"')" = "qcow2 /etc/shadow"
check "CreateDesktop on it" broker_call CreateDesktop sss guest-1 alice guest
virsh dumpxml --inactive guest-1 >"$T/guest-1.xml"
xp() { xmllint --xpath "string($1)" "$T/guest-1.xml"; }
check "the domain's metadata names the template's format raw" \
        test "$(xp "//*[local-name()='disk' and @template-format]/@template-format")" = raw
check "... and its disk the backing store, raw, whole by itself" \
        test "$(xp "//devices/disk/backingStore/format/@type") $(xp "//devices/disk/backingStore/source/@file") $(xp "count(//devices/disk/backingStore/backingStore[not(*)])")" = "raw $T/templates/guest.img 1"
check "StartDesktop" broker_call StartDesktop s guest-1
check "... it runs" wait_until 10 bash -c "virsh domstate guest-1 | grep -q running"
qemu=$(pgrep -f -- "-name guest=guest-1,")
check "the hook made the overlay, naming the backing format raw" \
        test "$(qemu-img info -U --output=json -f qcow2 "$T/disks/guest-1.qcow2" | jq -r '"\(."backing-filename") \(."backing-filename-format")"')" = "$T/templates/guest.img raw"
qemu-img info -U --backing-chain --output=json -f qcow2 "$T/disks/guest-1.qcow2" >"$T/guest-1-chain.json"
check "the disk's chain is the overlay and the template read as raw" \
        test "$(jq -r '[.[] | "\(.filename) \(.format)"] | join(", ")' "$T/guest-1-chain.json")" = "$T/disks/guest-1.qcow2 qcow2, $T/templates/guest.img raw"
check "... and never names /etc/shadow" not grep -q /etc/shadow "$T/guest-1-chain.json"
virsh dumpxml guest-1 >"$T/guest-1-live.xml"
check "the running domain's XML never names /etc/shadow" not grep -q /etc/shadow "$T/guest-1-live.xml"
check "... and reads the template as raw" \
        test "$(xmllint --xpath 'string(//devices/disk/backingStore/format/@type)' "$T/guest-1-live.xml")" = raw
check "QEMU runs ($qemu)" test -n "$qemu"
check "... its command line opens the template" grep -q "$T/templates/guest.img" "/proc/$qemu/cmdline"
check "... and never /etc/shadow" not grep -q /etc/shadow "/proc/$qemu/cmdline"
check "... nor does its log" bash -c "test -s /var/log/libvirt/qemu/guest-1.log && ! grep -q /etc/shadow /var/log/libvirt/qemu/guest-1.log"
fds=$(ls -l "/proc/$qemu/fd" 2>/dev/null)
check "... nor has it open (of its $(grep -c . <<<"$fds") files, the template among them)" \
        bash -c "grep -qF '$T/templates/guest.img' <<<'$fds' && ! grep -q /etc/shadow <<<'$fds'"
check "StopDesktop" broker_call StopDesktop sb guest-1 true
check "... it is off" wait_until 10 bash -c "virsh domstate guest-1 | grep -q 'shut off'"

# A domain defined before the format was recorded: the hook makes no disk
# for it, and brokerd names the format when it connects to the host.
sed -e 's/ template-format="raw"//' -e '/<backingStore/,/<\/backingStore>/d' "$T/guest-1.xml" >"$T/guest-1-old.xml"
check "the domain as defined before (no format, no backing store)" virsh define "$T/guest-1-old.xml"
rm "$T/disks/guest-1.qcow2"
check "... the hook refuses to prepare it" not virsh start guest-1 2>"$T/start-old.err"
check "... naming the missing format" grep -q 'template-format=> missing' "$T/start-old.err"
check "... no disk was made" test ! -e "$T/disks/guest-1.qcow2"
kill "$PID_brokerd"; wait_until 10 bash -c "! kill -0 $PID_brokerd"
bg brokerd-2 "$VDESK_BUILD/src/brokerd/vdesk-brokerd" --sql-dir="$VDESK_SRC/sql"
wait_until 20 bus_has_name org.vdesk.broker1 || die "brokerd did not start again: $(cat "$T/brokerd-2.log")"
check "brokerd, started again, writes the format into the domain" wait_until 20 bash -c \
        "virsh dumpxml --inactive guest-1 | grep -q 'template-format=\"raw\"'"
check "... and the backing store into its disk" \
        test "$(virsh dumpxml --inactive guest-1 | xmllint --xpath 'string(//devices/disk/backingStore/format/@type)' -)" = raw
check "virsh start: the hook makes its disk on the template read as raw" virsh start guest-1
check "... whose chain never names /etc/shadow" chain_without /etc/shadow "$T/disks/guest-1.qcow2"
check "virsh destroy" virsh destroy guest-1
check "DeleteDesktop guest-1" broker_call DeleteDesktop s guest-1

finish
