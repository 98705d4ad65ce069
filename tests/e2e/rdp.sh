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
need_cmd xrdp xrdp-sesman Xvnc Xvfb xfreerdp python3 nft
[ -e /etc/ssl/certs/ssl-cert-snakeoil.pem ] || skip "no snakeoil certificate for xrdp (package ssl-cert)"

# The desktop's account: in the namespace's own copies of passwd, group
# and shadow, so that PAM finds it and the machine's files stay as they are.
U=vdrdp PW=Rdp-Pass-7q uid=64997
chmod 755 "$T"
mkdir -p "$T/home/$U" "$T/rdp"
chown $uid:$uid "$T/home/$U"
hash=$(python3 -W ignore -c 'import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_SHA512)))' "$PW")
for f in passwd group shadow; do cp /etc/$f "$T/$f"; done
echo "$U:x:$uid:$uid::$T/home/$U:/bin/sh" >>"$T/passwd"
echo "$U:x:$uid:" >>"$T/group"
echo "$U:$hash:19000:0:99999:7:::" >>"$T/shadow"
for f in passwd group shadow; do mount --bind "$T/$f" /etc/$f; done

# The sessions' Xvnc servers die with the namespace and leave their lock
# files and sockets in the machine's /tmp; sesman would run out of
# displays. They belong to the test's uid alone: clear them before and
# after.
clear_x() { find /tmp -maxdepth 1 -name '.X*-lock' -uid $uid -delete; find /tmp/.X11-unix -uid $uid -delete; } 2>/dev/null
clear_x
cleanup_push clear_x

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
sed "s|@DIR@|$T/rdp|g" "$VDESK_SRC/tests/lib/rdp/xrdp.ini.in" >"$T/rdp/xrdp.ini"
sed "s|@DIR@|$T/rdp|g" "$VDESK_SRC/tests/lib/rdp/sesman.ini.in" >"$T/rdp/sesman.ini"
printf '#!/bin/sh\nexec sleep 100000\n' >"$T/rdp/startwm.sh"
chmod 755 "$T/rdp" "$T/rdp/startwm.sh"
mkdir -p /run/xrdp/sockdir && chmod 1777 /run/xrdp/sockdir
bg sesman ip netns exec $D xrdp-sesman --nodaemon --config "$T/rdp/sesman.ini"
bg xrdp ip netns exec $D xrdp --nodaemon --config "$T/rdp/xrdp.ini"
wait_listening $D 3389 || die "xrdp did not start: $(cat "$T/xrdp.log" "$T/rdp/xrdp.log" 2>/dev/null)"

# the forward, made by netd
check "AddForward 50001 -> 10.20.0.15:3389" busctl --system call org.vdesk.network1 /org/vdesk/network1 \
        org.vdesk.network1.Manager AddForward qsqss 50001 10.20.0.15 3389 win-1 $U

# FreeRDP needs an X display even to log in: one Xvfb, reached from the
# client namespace through its path socket.
disp=$((90 + $$ % 9))
bg xvfb Xvfb :$disp -screen 0 1024x768x24 -nolisten tcp
wait_until 10 test -S /tmp/.X11-unix/X$disp || die "Xvfb did not start"
freerdp() { ip netns exec $C env DISPLAY=:$disp xfreerdp /v:10.77.0.1:50001 /cert:ignore /size:800x600 "$@"; }

freerdp /u:$U /p:$PW >"$T/freerdp-good.log" 2>&1 &
fr=$!
_pids+=($fr)
check "a full RDP login through the forward starts the user's X session" \
        wait_until 30 grep -q "Session in progress" "$T/rdp/sesman.log"
check "  ... for the user PAM authenticated" \
        grep -q "Session started successfully for user $U " "$T/rdp/sesman.log"
check "  ... and the server saw the client's own address (no proxy in between)" \
        grep -q "10.77.0.2" "$T/rdp/xrdp.log"
check "  ... the session's Xvnc runs as the user" \
        bash -c "ip netns pids $D | xargs -r ps -o user=,comm= -p | grep -q '^$U *Xvnc'"
kill $fr 2>/dev/null

freerdp /u:$U /p:wrong-password >"$T/freerdp-bad.log" 2>&1 &
fr=$!
_pids+=($fr)
check "a wrong password is refused by the server's PAM login" \
        wait_until 30 grep -q "AUTHFAIL: user=$U" "$T/rdp/sesman.log"
kill $fr 2>/dev/null

check "RemoveForward" busctl --system call org.vdesk.network1 /org/vdesk/network1 \
        org.vdesk.network1.Manager RemoveForward qs 50001 10.20.0.15
check "after it the client cannot reach the server" \
        bash -c "! ip netns exec $C timeout 3 bash -c 'exec 3<>/dev/tcp/10.77.0.1/50001' 2>/dev/null"

finish
