#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A real RDP server behind a forward that vdesk-netd made: xrdp (standing
# in for a Windows desktop) in a desktop namespace, FreeRDP in a client
# namespace connecting to the host's port, a full login checked by the
# server (xrdp-sesman's PAM login and the X session it starts), a wrong
# password refused by the server. FreeRDP's +auth-only is not used: xrdp
# has no NLA, so it would pass with any password.
. "$VDESK_SRC/tests/lib/harness.sh"
. "$VDESK_SRC/tests/lib/host.sh"
host_enter "$@"
. "$VDESK_SRC/tests/lib/xrdp.sh"
need_cmd nft

# The desktop's account, in the namespace's own passwd, group and shadow.
U=vdrdp PW=Rdp-Pass-7q
xrdp_account $U $PW

host_start_journal
host_start_bus
mkdir -p "$T/templates" "$T/disks"
cat >/etc/vdesk/vdesk.conf <<X
[Images]
TemplateDir=$T/templates
DiskDir=$T/disks
X
bg netd "$VDESK_BUILD/src/netd/vdesk-netd" --ruleset="$VDESK_SRC/nft/vdesk.nft" --no-reconcile
wait_until 10 bus_has_name org.vdesk.network1 || die "netd did not start: $(cat "$T/netd.log")"

# desktop namespace D on a bridge of the host, client namespace C
D=vdd-$$ C=vdc-$$
netns_add $D
netns_add $C
ip link add vdrbr0 type bridge && ip addr add 10.20.0.1/24 dev vdrbr0 && ip link set vdrbr0 up
ip link add vdr-d0 type veth peer name vdr-d1
ip link set vdr-d1 netns $D
ip link set vdr-d0 master vdrbr0 up
ip -n $D addr add 10.20.0.15/24 dev vdr-d1 && ip -n $D link set vdr-d1 up
ip -n $D route add default via 10.20.0.1
veth_pair - vdr-c0 10.77.0.1/24 $C vdr-c1 10.77.0.2/24
ip -n $C route add default via 10.77.0.1

# xrdp and sesman in the desktop namespace
xrdp_start $D

# the forward, made by netd
check "AddForward 50001 -> 10.20.0.15:3389" busctl --system call org.vdesk.network1 /org/vdesk/network1 \
        org.vdesk.network1.Manager AddForward qsqss 50001 10.20.0.15 3389 win-1 $U

xrdp_display
freerdp() { ip netns exec $C env DISPLAY=:$XRDP_DISPLAY xfreerdp /v:10.77.0.1:50001 /cert:ignore /size:800x600 "$@"; }

freerdp /u:$U /p:$PW >"$T/freerdp-good.log" 2>&1 &
fr=$!          # in the client's namespace: ended with it at the latest
check "a full RDP login through the forward starts the X session of the user PAM authenticated" \
        xrdp_logged_in $U
check "  ... and the server saw the client's own address (no proxy in between)" \
        grep -q "10.77.0.2" "$T/rdp/xrdp.log"
check "  ... the session's Xvnc runs as the user" \
        bash -c "ip netns pids $D | xargs -r ps -o user=,comm= -p | grep -q '^$U *Xvnc'"
kill $fr 2>/dev/null

freerdp /u:$U /p:wrong-password >"$T/freerdp-bad.log" 2>&1 &
fr=$!          # in the client's namespace: ended with it at the latest
check "a wrong password is refused by the server's PAM login" \
        wait_until 30 grep -q "AUTHFAIL: user=$U" "$T/rdp/sesman.log"
kill $fr 2>/dev/null

check "RemoveForward" busctl --system call org.vdesk.network1 /org/vdesk/network1 \
        org.vdesk.network1.Manager RemoveForward qs 50001 10.20.0.15
check "after it the client cannot reach the server" \
        bash -c "! ip netns exec $C timeout 3 bash -c 'exec 3<>/dev/tcp/10.77.0.1/50001' 2>/dev/null"

finish
