#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The host's desktop network on a host set up before its default grew to
# a /22: a libvirt network "vdesk" defined as a /24 (with a DHCP entry)
# is brought to the configured 10.20.0.1/22 by brokerd, keeping its UUID
# and its DHCP entries; while a guest runs on it, not at all (a journal
# warning with its MESSAGE_ID), then as soon as that guest stops; and at
# once at start when none runs.
. "$VDESK_SRC/tests/lib/harness.sh"
. "$VDESK_SRC/tests/lib/host.sh"
host_enter "$@"
need_cmd virsh jq
host_start_stack
host_write_config </dev/null

# the network as an older vdesk defined it, and a guest on it
old_net() {
        cat >"$T/old-net.xml" <<X
<network><name>vdesk</name><forward mode='open'/><bridge name='vdeskbr0' stp='off' delay='0'/>
<ip address='10.20.0.1' prefix='24'><dhcp><host mac='52:54:0a:14:00:63' ip='10.20.0.99'/></dhcp></ip></network>
X
        virsh net-define "$T/old-net.xml" >/dev/null && virsh net-start vdesk >/dev/null
}
old_net || die "cannot define the old network"
uuid=$(virsh net-uuid vdesk)
cat >"$T/guest.xml" <<X
<domain type='qemu'><name>old-guest</name><memory unit='MiB'>32</memory><os><type>hvm</type></os>
<devices><interface type='network'><source network='vdesk'/></interface><graphics type='vnc'/></devices></domain>
X
virsh define "$T/guest.xml" >/dev/null && virsh start old-guest >/dev/null || die "cannot start a guest on it"

prefix() { virsh net-dumpxml $1 vdesk | grep -o "<ip address='10.20.0.1' prefix='[0-9]*'" | grep -o "[0-9]*'$" | tr -d "'"; }
live() { prefix ""; }
defined() { prefix --inactive; }
entries() { journal_json MESSAGE_ID="$(mid "$1")" | wc -l; }
export -f journal_json

host_start_vdesk
check "a guest runs on the /24: brokerd leaves the network running as it is ($(live))" outputs 24 live
check "... and defined as it is" outputs 24 defined
check "... with a warning with its MESSAGE_ID naming the subnet wanted" \
        wait_until 10 bash -c "journal_json MESSAGE_ID=$(mid NETWORK_READDRESS_DEFERRED) VDESK_SUBNET=10.20.0.1/22 | grep -q ."
check "... the guest still on it" outputs running virsh domstate old-guest
check "... and not readdressed" outputs 0 entries NETWORK_READDRESSED

virsh destroy old-guest >/dev/null || die "cannot stop the guest"
check "the guest stopped: the network runs as a /22" wait_until 20 outputs 22 live
check "... is defined as one" outputs 22 defined
check "... with its UUID" outputs "$uuid" virsh net-uuid vdesk
check "... and its DHCP entry" bash -c "virsh net-dumpxml vdesk | grep -qF \"<host mac='52:54:0a:14:00:63' ip='10.20.0.99'/>\""
check "... active, autostarted" bash -c "virsh net-info vdesk | grep -qE '^Active: +yes' && virsh net-info vdesk | grep -qE '^Autostart: +yes'"
check "... the bridge holding the gateway as a /22" bash -c "ip -j addr show vdeskbr0 | jq -e '.[0].addr_info[] | select(.local == \"10.20.0.1\" and .prefixlen == 22)' >/dev/null"
check "... journal: NETWORK_READDRESSED" wait_until 10 outputs 1 entries NETWORK_READDRESSED
check "a guest on it starts again" virsh start old-guest
virsh destroy old-guest >/dev/null

# brokerd started again: nothing to change
ready=$(entries NETWORK_READY)
kill "$PID_brokerd" && wait "$PID_brokerd" 2>/dev/null
bg_done "$PID_brokerd"
bg brokerd-2 "$VDESK_BUILD/src/brokerd/vdesk-brokerd" --sql-dir="$VDESK_SRC/sql"
wait_until 20 bus_has_name org.vdesk.broker1 || die "brokerd did not start again: $(cat "$T/brokerd-2.log")"
check "brokerd started again on a /22: the network ready" wait_until 10 outputs $((ready + 1)) entries NETWORK_READY
check "... as it was" outputs 22 live
check "... not readdressed again" outputs 1 entries NETWORK_READDRESSED

# a /24 again, no guest running: readdressed at start
kill "$PID_brokerd_2" && wait "$PID_brokerd_2" 2>/dev/null
bg_done "$PID_brokerd_2"
virsh net-destroy vdesk >/dev/null && virsh net-undefine vdesk >/dev/null && old_net || die "cannot go back to a /24"
check "(a /24 again)" outputs 24 live
bg brokerd-3 "$VDESK_BUILD/src/brokerd/vdesk-brokerd" --sql-dir="$VDESK_SRC/sql"
wait_until 20 bus_has_name org.vdesk.broker1 || die "brokerd did not start again: $(cat "$T/brokerd-3.log")"
check "no guest running: a /22 at start" wait_until 20 outputs 22 live
check "... defined as one" outputs 22 defined
check "... journal: NETWORK_READDRESSED again" wait_until 10 outputs 2 entries NETWORK_READDRESSED
check "... with no warning this time" outputs 1 entries NETWORK_READDRESS_DEFERRED
finish
