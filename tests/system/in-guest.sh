#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The system suite's checks, run as root inside a throwaway guest whose PID 1
# is systemd (tests/system/system.sh boots it). /share holds vdesk installed
# into a staging directory (root/), the parts of the source tree the quick
# start uses (src/) and the test template (demo.img); /out is written back.
# Prints one line per check; exits 1 if any failed.
set -u
pass=0 fail=0
check() {
        local what=$1; shift
        if "$@"; then pass=$((pass + 1)); echo "ok - $what"
        else fail=$((fail + 1)); echo "not ok - $what"; fi
}
wait_until() {  # wait_until SECONDS COMMAND...
        local end=$((SECONDS + $1)); shift
        until "$@" >/dev/null 2>&1; do
                [ $SECONDS -lt $end ] || return 1
                sleep 0.2
        done
}
outputs() { local want=$1; shift; [ "$("$@" 2>/dev/null)" = "$want" ]; }
not() { ! "$@"; }
prop() { systemctl show -P "$2" "$1"; }
finish() {
        echo "$pass passed, $fail failed"
        if [ $fail -gt 0 ]; then
                # what a reader of a failure needs from this guest
                { ip -br addr; ip route; ip neigh; nft list ruleset; virsh -c qemu:///system list --all; } >/out/state.txt 2>&1
                cp -r /var/log/vdesk/console /var/log/libvirt/qemu /out/ 2>/dev/null
        fi
        journalctl -b --no-pager -o short-monotonic >/out/journal.txt 2>&1
        exit $((fail > 0))
}

declare -A BUS=([vdesk-netd]=org.vdesk.network1 [vdesk-imaged]=org.vdesk.images1 [vdesk-brokerd]=org.vdesk.broker1
                [vdesk-directoryd]=org.vdesk.directory1 [vdesk-monitord]=org.vdesk.monitor1)
declare -A USR=([vdesk-netd]=vdesk-net [vdesk-imaged]=vdesk-images [vdesk-brokerd]=vdesk-broker
                [vdesk-directoryd]=vdesk-directory [vdesk-monitord]=vdesk-monitor)
UNITS="vdesk-netd vdesk-imaged vdesk-brokerd vdesk-directoryd vdesk-monitord"
ping_name() { busctl --timeout=60 call "$@" / org.freedesktop.DBus.Peer Ping; }

echo "PID 1: $(cat /proc/1/comm); boot: $(systemctl is-system-running --wait) ($(systemd-analyze | head -n 1))"
check "PID 1 is systemd" outputs systemd cat /proc/1/comm

# vdesk installed as a package installs it, on a server as Debian ships
# one: the build host's own drop-ins are not the server's.
cp -a /share/root/. /
rm -f /etc/vdesk/vdesk.conf.d/*.conf
printf '[Desktop]\nAccelerator=auto\nOpenTimeoutSec=600\n' >/etc/vdesk/vdesk.conf.d/50-system-test.conf
journalctl --update-catalog
echo "== tools/stack start (the quick start's systemd path)"
/share/src/tools/stack start 2>&1
check "tools/stack start succeeded" test $? = 0

echo "== the units as started"
for u in $UNITS; do
        check "$u is active" outputs active systemctl is-active $u
        pid=$(prop $u MainPID)
        uid=$(awk '/^Uid:/ { print $3 }' /proc/$pid/status 2>/dev/null)
        check "$u runs as ${USR[$u]} (uid ${uid:-none}), not root" \
                test "${uid:-0}" != 0 -a "${uid:-0}" = "$(id -u ${USR[$u]} 2>/dev/null)"
        caps=$(awk '/^CapEff:/ { print $2 }' /proc/$pid/status 2>/dev/null)
        want=0000000000000000
        [ $u = vdesk-netd ] && want=0000000000001000       # CAP_NET_ADMIN alone
        check "$u's effective capabilities are $want (${caps:-none})" test "${caps:-}" = $want
done
check "vdesk-database made them as mysql, not root ($(prop vdesk-database User), $(prop vdesk-database Result))" \
        test "$(prop vdesk-database User)" = mysql -a "$(prop vdesk-database Result)" = success \
             -a "$(prop vdesk-database ActiveState)" = active
check "MariaDB's accounts of vdesk sign in by unix_socket" \
        test "$(mariadb -N -B -e "SELECT COUNT(*) FROM mysql.global_priv WHERE User IN ('vdesk-broker','vdesk-directory') AND JSON_VALUE(Priv, '$.plugin') = 'unix_socket'")" = 2
check "no vdesk process runs as root" test -z "$(pgrep -u root -f /usr/libexec/vdesk/)"

echo "== readiness: the name answers as soon as systemctl start returns"
# a method of each Manager, not Peer.Ping (which sd-bus answers for any
# path as soon as the name is owned): its objects are there when systemd
# is told the service is ready
declare -A READ=([vdesk-netd]="/org/vdesk/network1 org.vdesk.network1.Manager ListForwards"
                 [vdesk-imaged]="/org/vdesk/images1 org.freedesktop.DBus.Properties Get ss org.vdesk.images1.Manager DiskDirectory"
                 [vdesk-brokerd]="/org/vdesk/broker1 org.vdesk.broker1.Manager ListHosts"
                 [vdesk-directoryd]="/org/vdesk/directory1 org.vdesk.directory1.Manager ListDepartments"
                 [vdesk-monitord]="/org/vdesk/monitor1 org.vdesk.monitor1.Manager GetSnapshot")
for u in $UNITS; do
        systemctl stop $u
        systemctl start $u
        check "$u's Manager answers right after start (no activation)" \
                busctl --auto-start=no call ${BUS[$u]} ${READ[$u]}
done

echo "== D-Bus activation from stopped starts the unit through systemd"
for u in $UNITS; do
        systemctl stop $u
        check "$u is stopped" outputs inactive systemctl is-active $u
        check "a call to ${BUS[$u]} succeeds" ping_name ${BUS[$u]}
        check "$u is active after the call" outputs active systemctl is-active $u
        pid=$(prop $u MainPID)
        check "$u was started by systemd (parent of $pid is PID 1)" \
                test "$(awk '/^PPid:/ { print $2 }' /proc/$pid/status 2>/dev/null)" = 1
done

echo "== supervision: kill -9 restarts"
for u in $UNITS; do
        pid=$(prop $u MainPID) n=$(prop $u NRestarts)
        [ "$pid" != 0 ] && kill -9 "$pid"
        check "$u restarted after kill -9" wait_until 30 bash -c \
                "[ \"\$(systemctl show -P NRestarts $u)\" -gt $n ] && [ \"\$(systemctl is-active $u)\" = active ] &&
                 [ \"\$(systemctl show -P MainPID $u)\" != $pid ] && [ \"\$(systemctl show -P MainPID $u)\" != 0 ]"
done

echo "== supervision: a frozen daemon is restarted by the watchdog"
since=$(date +%s)
declare -A FROZEN
for u in $UNITS; do
        FROZEN[$u]=$(prop $u MainPID)
        [ "${FROZEN[$u]}" != 0 ] && kill -STOP "${FROZEN[$u]}"
done
for u in $UNITS; do
        check "$u restarted after SIGSTOP ($(prop $u WatchdogUSec) µs watchdog)" wait_until 120 bash -c \
                "[ \"\$(systemctl is-active $u)\" = active ] && [ \"\$(systemctl show -P MainPID $u)\" != ${FROZEN[$u]} ] &&
                 [ \"\$(systemctl show -P MainPID $u)\" != 0 ]"
        check "$u's restart was the watchdog's" bash -c \
                "journalctl --no-pager -u $u --since=@$since -o cat | grep -q 'Watchdog timeout'"
done

# refused_at_start UNIT SETTINGS WHAT: with the drop-in SETTINGS, UNIT
# does not start, exits 78, is not restarted and its journal names WHAT;
# without it, it starts again.
refused_at_start() {
        local u=$1 since n
        printf '%b' "$2" >/etc/vdesk/vdesk.conf.d/60-refused.conf
        since=$(date +%s)
        systemctl restart $u 2>/dev/null
        check "$u did not start with $3" wait_until 20 outputs failed systemctl is-active $u
        check "... its exit status is 78 ($(prop $u ExecMainStatus))" test "$(prop $u ExecMainStatus)" = 78
        n=$(prop $u NRestarts)
        sleep 3
        check "... and systemd did not restart it" test "$(prop $u NRestarts)" = "$n" -a "$(systemctl is-active $u)" = failed
        check "... the journal names the setting" bash -c \
                "journalctl --no-pager -u $u --since=@$since -o cat | grep -qF '$3'"
        rm /etc/vdesk/vdesk.conf.d/60-refused.conf
        systemctl reset-failed $u
        systemctl start $u
        check "$u starts again without it" outputs active systemctl is-active $u
}

echo "== a directory the sandbox does not give is refused at start, naming the setting, and not restarted"
mkdir -p /srv/vdesk-disks
refused_at_start vdesk-imaged '[Images]\nDiskDir=/srv/vdesk-disks\n' '[Images] DiskDir=/srv/vdesk-disks'

echo "== the metrics page: a socket in the unit's RuntimeDirectory, a port it may not bind refused"
printf '[Monitor]\nMetricsListen=/run/vdesk-monitor/metrics.sock\n' >/etc/vdesk/vdesk.conf.d/60-metrics.conf
systemctl restart vdesk-monitord
unix_page() {   # the metrics page read from the socket (python: no curl here)
        python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n"); d=b""
while True:
    b=s.recv(65536)
    if not b: break
    d+=b
sys.stdout.write(d.decode())' "$1"
}
# the page holds figures from the monitor's first sample on
check "MetricsListen=/run/vdesk-monitor/metrics.sock serves the page" \
        wait_until 30 bash -c "$(declare -f unix_page); unix_page /run/vdesk-monitor/metrics.sock | grep -q '^vdesk_host_up'"
rm /etc/vdesk/vdesk.conf.d/60-metrics.conf
refused_at_start vdesk-monitord '[Monitor]\nMetricsListen=127.0.0.1:80\n' '[Monitor] MetricsListen=127.0.0.1:80'

echo "== the journal"
busctl call org.vdesk.directory1 /org/vdesk/directory1 org.vdesk.directory1.Manager \
        CreateAccount sssss systest "System Test" staff "" "" >/dev/null
mid=06a7aa175d79472a8ff671a8f00f57d6     # ACCOUNT_CREATED
entry=$(journalctl --no-pager -o json MESSAGE_ID=$mid VDESK_ACCOUNT=systest | tail -n 1)
check "the account's creation is in the journal with its MESSAGE_ID" test -n "$entry"
check "... from vdesk-directoryd.service" test "$(jq -r ._SYSTEMD_UNIT <<<"$entry")" = vdesk-directoryd.service
check "... written by uid vdesk-directory" test "$(jq -r ._UID <<<"$entry")" = "$(id -u vdesk-directory)"
subject=$(grep -A1 -x -- "-- $mid" /usr/lib/systemd/catalog/vdesk.catalog | sed -n 's/^Subject: //p')
explained=$(journalctl --no-pager -x MESSAGE_ID=$mid VDESK_ACCOUNT=systest 2>&1)
check "journalctl -x explains it with the catalog (${subject:-no subject installed})" \
        bash -c "[ -n '$subject' ] && grep -qF -- '$subject' <<<'$explained'"

echo "== polkit through polkitd"
useradd -M -s /usr/sbin/nologin vdesk-test-user
useradd -M -s /usr/sbin/nologin -G vdesk-admin vdesk-test-admin
as() { local u=$1; shift; runuser -u "$u" -- "$@"; }
for m in "org.vdesk.directory1 /org/vdesk/directory1 org.vdesk.directory1.Manager CreateAccount sssss polkitx X staff '' ''" \
         "org.vdesk.directory1 /org/vdesk/directory1 org.vdesk.directory1.Manager ListAccounts sssuu staff '' '' 0 10" \
         "org.vdesk.broker1 /org/vdesk/broker1 org.vdesk.broker1.Manager ListDesktops" \
         "org.vdesk.broker1 /org/vdesk/broker1 org.vdesk.broker1.Manager CreateCluster su polkitc 5" \
         "org.vdesk.broker1 /org/vdesk/broker1 org.vdesk.broker1.Manager ListHosts"; do
        err=$(eval as vdesk-test-user busctl call $m 2>&1 >/dev/null)
        check "an unprivileged user is refused ${m#* * * }: ${err:-answered}" bash -c "[[ '$err' == *'Not authorized'* ]]"
done
for m in "org.vdesk.images1 /org/vdesk/images1 org.vdesk.images1.Manager DeleteDisk ss demo-1 /var/lib/vdesk/disks/demo-1.qcow2" \
         "org.vdesk.network1 /org/vdesk/network1 org.vdesk.network1.Manager RemoveForward q 50000"; do
        err=$(eval as vdesk-test-user busctl call $m 2>&1 >/dev/null)
        check "the host agents refuse an unprivileged user ${m%% *}: ${err:-answered}" bash -c "[[ '$err' == *'Access denied'* || '$err' == *'Rejected send message'* || '$err' == *'Only root'* ]]"
done
check "... and nothing was made" not busctl call org.vdesk.directory1 /org/vdesk/directory1 \
        org.vdesk.directory1.Manager GetAccount s polkitx
check "a member of vdesk-admin may create an account" \
        as vdesk-test-admin busctl call org.vdesk.directory1 /org/vdesk/directory1 org.vdesk.directory1.Manager \
        CreateAccount sssss polkity Y staff "" ""
check "... and list desktops" as vdesk-test-admin busctl call org.vdesk.broker1 /org/vdesk/broker1 \
        org.vdesk.broker1.Manager ListDesktops

echo "== the quick start's demo: a desktop boots and answers through its forward"
install -D -m 0644 /share/demo.img /var/lib/vdesk/templates/demo.img
start=$SECONDS
(cd /share/src && tools/demo) 2>&1 | tee /out/demo.txt
check "the demo's desktop answered on its forwarded port (after $((SECONDS - start)) s)" \
        grep -q '^what the guest says on .*VDESK-TEST-GUEST' /out/demo.txt
check "Accelerator=auto: the broker asked libvirt, which has no KVM here: demo-1 is a qemu domain" \
        bash -c "virsh -c qemu:///system dumpxml demo-1 | grep -q \"<domain type='qemu'\""
port=$(busctl --json=short call org.vdesk.broker1 /org/vdesk/broker1 org.vdesk.broker1.Manager GetDesktop s demo-1 2>/dev/null |
       jq -r '.data[0] | .. | numbers' 2>/dev/null | awk '$1 >= 50000 && $1 < 60000' | head -n 1)
ip netns add cli
ip link add vdtcli0 type veth peer name vdtcli1 netns cli
ip addr add 10.99.0.1/24 dev vdtcli0 && ip link set vdtcli0 up
ip -n cli addr add 10.99.0.2/24 dev vdtcli1 && ip -n cli link set vdtcli1 up && ip -n cli link set lo up
ip -n cli route add default via 10.99.0.1
banner= end=$((SECONDS + 60))
while [[ "$banner" != VDESK-TEST-GUEST* ]] && [ $SECONDS -lt $end ]; do
        banner=$(ip netns exec cli timeout 5 bash -c "exec 3<>/dev/tcp/10.0.2.15/${port:-0} && head -n 1 <&3" 2>&1) || sleep 1
done
check "a client namespace reaches demo-1 at 10.0.2.15:${port:-?}: ${banner:-nothing}" bash -c "[[ '$banner' == VDESK-TEST-GUEST* ]]"

echo "== the staff portal: socket-activated, as vdesk-portal, without a network of its own"
(cd /share/src && tools/portal-cert 10.0.2.15)
check "vdesk-portald.socket is listening" outputs active systemctl is-active vdesk-portald.socket
check "... on port 443" bash -c "ss -Hltn 'sport = :443' | grep -q LISTEN"
check "... and the portal waits for its first connection" not outputs active systemctl is-active vdesk-portald.service
PW=Demo-Portal-2026
echo "$PW" | vdeskctl reset-password demo >/dev/null
pcurl() { ip netns exec cli curl -sS --max-time 60 --cacert /etc/vdesk/portal/cert.pem -b /tmp/jar -c /tmp/jar "$@"; }
page=$(pcurl https://10.0.2.15/signin)
check "a client gets the sign-in page over HTTPS, the certificate verified by its address" grep -q 'id="signin"' <<<"$page"
csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' <<<"$page")
got=$(pcurl -o /dev/null -w '%{http_code} %{redirect_url}' --data-urlencode "csrf=$csrf" --data-urlencode id=demo \
        --data-urlencode "password=$PW" https://10.0.2.15/signin)
check "demo signs in through the portal, which asks the directory over the bus ($got)" \
        test "$got" = "303 https://10.0.2.15/desktops"
page=$(pcurl https://10.0.2.15/desktops)
check "... and sees demo-1 on its desktops page" grep -q 'data-desktop="demo-1"' <<<"$page"
check "vdesk-portald.service was started by the connection" outputs active systemctl is-active vdesk-portald.service
pid=$(prop vdesk-portald MainPID)
uid=$(awk '/^Uid:/ { print $3 }' /proc/$pid/status 2>/dev/null)
check "vdesk-portald runs as vdesk-portal (uid ${uid:-none})" test "${uid:-0}" != 0 -a "${uid:-0}" = "$(id -u vdesk-portal 2>/dev/null)"
check "... with no capability" test "$(awk '/^CapEff:/ { print $2 }' /proc/$pid/status 2>/dev/null)" = 0000000000000000
check "... in a network namespace of its own (it only accepts on systemd's socket)" \
        test "$(readlink /proc/$pid/ns/net)" != "$(readlink /proc/1/ns/net)"
journalctl -o export >/tmp/journal.export
check "the journal (all of it, every field) is read and does not hold the password" \
        bash -c "test -s /tmp/journal.export && ! grep -aqF '$PW' /tmp/journal.export"

echo "== systemd-analyze security"
for u in $UNITS vdesk-portald vdesk-database; do
        systemd-analyze security --no-pager $u 2>&1 | tee -a /out/security.txt | tail -n 1
        score=$(systemd-analyze security $u 2>/dev/null | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
        check "$u exposure ${score:-unknown} <= 2.0" awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.0) }'
done

echo "== systemctl stop: a clean exit, nothing left"
USR[vdesk-portald]=vdesk-portal
systemctl stop vdesk-portald.socket
for u in vdesk-portald vdesk-monitord vdesk-directoryd vdesk-brokerd vdesk-imaged vdesk-netd; do
        systemctl stop $u
        check "$u stopped with exit status 0 ($(prop $u Result), status $(prop $u ExecMainStatus))" \
                test "$(prop $u Result)" = success -a "$(prop $u ExecMainStatus)" = 0
        check "no process of ${USR[$u]} is left" not pgrep -u ${USR[$u]}
done
finish
