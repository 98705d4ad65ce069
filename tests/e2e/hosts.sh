#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hosts, clusters and scheduling across two hosts: this private host (the
# broker's own) and a second one with its own namespaces and libvirtd,
# reached over qemu+tls. New desktops land on the less-loaded host, not on
# one in maintenance; a killed libvirtd marks its host down (database, D-Bus,
# journal) and its return up; bad input is refused by name with nothing
# changed, URIs whose query would make libvirt run a program among it; such
# a URI already in the database leaves its host down at start, opened by
# neither brokerd nor vdesk-monitord; an unreachable host is refused in
# bounded time while the broker keeps answering.
. "$VDESK_SRC/tests/lib/harness.sh"
. "$VDESK_SRC/tests/lib/host.sh"
. "$VDESK_SRC/tests/lib/second-host.sh"
host_enter "$@"
printf '[Hosts]\nConnectTimeoutSec=4\nDefaultCapacity=3\n' | host_start_desktops
need_cmd dbus-monitor nsenter

"$VDESK_SRC/tests/guest/build-template" "$T/templates/tiny.img" >/dev/null || die "cannot build the template"
check "RegisterTemplate" broker_call RegisterTemplate ss tiny "$T/templates/tiny.img"
for a in alice bob carol dave; do dir_call CreateAccount sssss $a "$a" staff "" "" >/dev/null || die "account $a"; done
me=$(hostname)
export T
export -f journal_json sql mid broker_json ctl

# host NAME: its row of ListHosts as JSON
host() { broker_json GetHost s "$1" | jq -c '.data[0]'; }
host_state() { host "$1" | jq -r '.[4]'; }
host_running() { host "$1" | jq -r '.[7]'; }
state() { sql "SELECT name, uri, cluster_id, state, maintenance FROM hosts ORDER BY id; SELECT name, capacity FROM clusters ORDER BY id"; }
# broker_err ERROR-NAME METHOD ARGS...: the call (dbus-send's ARGS) fails with that error
broker_err() {
        local want=$1 m=$2; shift 2
        dbus-send --system --print-reply --dest=org.vdesk.broker1 /org/vdesk/broker1 \
                "org.vdesk.broker1.Manager.$m" "$@" 2>&1 | grep -q "Error $want: "
}
desktop_host() { broker_json GetDesktop s "$1" | jq -r '.data[0][8]'; }

# ---- the broker's own host -----------------------------------------------------
check "the broker's own host is registered in cluster default, up" \
        test "$(host "$me" | jq -r '"\(.[1]) \(.[2]) \(.[4])"')" = "qemu:///system default up"
check "... in the database too" test "$(sql "SELECT uri, state FROM hosts")" = "qemu:///system	up"
check "ListClusters: default, capacity 3 ([Hosts] DefaultCapacity=), one host" \
        test "$(broker_json ListClusters | jq -c '.data[0]')" = '[["default",3,1,0]]'
check "its figures are libvirt's: memory as virsh nodeinfo says" \
        test "$(host "$me" | jq -r '.[8]')" = "$(virsh nodeinfo | awk '/Memory size/ {print $3}')"

# ---- bad input ------------------------------------------------------------------
refused "AddHost with no transport but a host" org.freedesktop.DBus.Error.InvalidArgs "Invalid uri" \
        AddHost string:x string:qemu://10.78.0.2/system string:default string:
refused "AddHost of a session URI" org.freedesktop.DBus.Error.InvalidArgs "Invalid uri" \
        AddHost string:x string:qemu+tcp://10.78.0.2/session string:default string:
refused "AddHost of a driver vdesk does not use" org.freedesktop.DBus.Error.InvalidArgs "Invalid uri" \
        AddHost string:x string:xen+ssh://h/system string:default string:
refused "AddHost of a URI with a bad port" org.freedesktop.DBus.Error.InvalidArgs "Invalid uri" \
        AddHost string:x string:qemu+tcp://10.78.0.2:99999/system string:default string:
refused "AddHost of no URI at all" org.freedesktop.DBus.Error.InvalidArgs "Invalid uri" \
        AddHost string:x "string:not a uri" string:default string:
refused "AddHost of a host named by name, no address" org.freedesktop.DBus.Error.InvalidArgs "Invalid address" \
        AddHost string:x string:qemu+ssh://node7.example/system string:default string:
refused "AddHost with a loopback address" org.freedesktop.DBus.Error.InvalidArgs "Invalid address" \
        AddHost string:x string:qemu+tls://node7.example/system string:default string:127.0.0.1
refused "AddHost with address 0.0.0.0" org.freedesktop.DBus.Error.InvalidArgs "Invalid address" \
        AddHost string:x string:qemu+tls://node7.example/system string:default string:0.0.0.0
refused "AddHost of a URI naming a multicast address" org.freedesktop.DBus.Error.InvalidArgs "Invalid address" \
        AddHost string:x string:qemu+tcp://224.0.0.7/system string:default string:
refused "AddHost with a bad name" org.freedesktop.DBus.Error.InvalidArgs "Invalid name" \
        AddHost "string:a b" string:qemu+tcp://10.78.0.2/system string:default string:
refused "AddHost into no cluster" org.vdesk.Error.NoSuchCluster "no cluster 'nowhere'" \
        AddHost string:x string:qemu+tcp://10.78.0.2/system string:nowhere string:
refused "AddHost of this host again" org.vdesk.Error.HostExists "is there already" \
        AddHost string:again string:qemu:///system string:default string:
refused "RemoveHost of the broker's own" org.vdesk.Error.HostInUse "the broker's own" \
        RemoveHost "string:$me"
refused "RemoveHost of no host" org.vdesk.Error.NoSuchHost "no host 'ghost'" RemoveHost string:ghost
refused "CreateCluster of capacity 0" org.freedesktop.DBus.Error.InvalidArgs "Invalid capacity" \
        CreateCluster string:c uint32:0
refused "CreateCluster default again" org.vdesk.Error.ClusterExists "exists already" \
        CreateCluster string:default uint32:5
refused "DeleteCluster of a cluster with hosts" org.vdesk.Error.ClusterInUse "1 hosts" \
        DeleteCluster string:default

# ---- URIs that would make libvirt run a program or use a socket -----------------
# what the ssh transport would run in place of ssh, given command=
printf '#!/bin/sh\ntouch "%s/evil-ran"\n' "$T" >"$T/evil.sh"
chmod +x "$T/evil.sh"
for q in "command=$T/evil.sh" "netcat=$T/evil.sh" "socket=$T/evil.sock" "COMMAND=$T/evil.sh" "no_tty=1;command=$T/evil.sh"; do
        param=${q##*;}
        refused "AddHost with ?$q" org.freedesktop.DBus.Error.InvalidArgs "has the query parameter '${param%%=*}'" \
                AddHost string:evil "string:qemu+ssh://10.78.0.3/system?$q" string:default string:
done
refused "AddHost with a percent-encoded parameter name (comm%61nd=)" org.freedesktop.DBus.Error.InvalidArgs \
        "('comm%61nd'): percent-encoded names are refused" \
        AddHost string:evil "string:qemu+ssh://10.78.0.3/system?comm%61nd=$T/evil.sh" string:default string:
check "... ListHosts lists the broker's own host alone" outputs "$me" bash -c "broker_json ListHosts | jq -r '.data[0][][0]'"
check "... and the program was never run" test ! -e "$T/evil-ran"

# a row written by an older vdesk or by hand: at start, the host is down
# with the reason, never connected, and the rest is served
sql "INSERT INTO hosts (name, uri, cluster_id) SELECT 'evil', 'qemu+ssh://10.78.0.3/system?command=$T/evil.sh', id
     FROM clusters WHERE name = 'default'" || die "cannot insert host evil"
# (host_start_desktops ran in a pipeline: the broker's pid is the bus's word)
broker_pid=$(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        GetConnectionUnixProcessID s org.vdesk.broker1 | awk '{print $2}')
kill "$broker_pid"; wait_until 10 bash -c "! kill -0 $broker_pid" || die "brokerd did not stop"
bg brokerd-again "$VDESK_BUILD/src/brokerd/vdesk-brokerd" --sql-dir="$VDESK_SRC/sql"
wait_until 20 bus_has_name org.vdesk.broker1 || die "brokerd did not start again: $(cat "$T/brokerd-again.log")"
check "brokerd started with host evil's URI naming a program: evil is down" outputs down host_state evil
reason=$(host evil | jq -r '.[5]')
check "... the reason names the parameter ($reason)" grep -qF "URI refused: has the query parameter 'command'" <<<"$reason"
check "... recorded down, with the reason" \
        bash -c "sql \"SELECT state, state_reason FROM hosts WHERE name = 'evil'\" | grep -qF \"down	URI refused: has the query parameter 'command'\""
check "... a journal warning naming the host and the parameter" wait_until 5 bash -c \
        "journal_json MESSAGE_ID=$(mid HOST_DOWN) VDESK_HOST=evil PRIORITY=4 | jq -r .MESSAGE | grep -qF \"Host evil is down: URI refused: has the query parameter 'command'\""
check "... the broker's own host is up" wait_until 20 outputs up host_state "$me"
check "... and the broker answers" broker_call ListDesktops
# vdesk-monitord reads every host the broker lists, evil among them
bg monitord "$VDESK_BUILD/src/monitord/vdesk-monitord"
wait_until 10 bus_has_name org.vdesk.monitor1 || die "monitord did not start: $(cat "$T/monitord.log")"
check "vdesk-monitord does not open it either, and says why" wait_until 10 grep -qF \
        "Not monitoring host evil: its URI qemu+ssh://10.78.0.3/system?command=$T/evil.sh has the query parameter 'command'" \
        "$T/monitord.log"
check "... it shows evil down" wait_until 10 outputs down bash -c \
        "busctl --system --json=short call org.vdesk.monitor1 /org/vdesk/monitor1 org.vdesk.monitor1.Manager Sample | jq -r '.data[1][] | select(.[0] == \"evil\") | .[2]'"
check "... while it monitors $me" wait_until 10 outputs up bash -c \
        "busctl --system --json=short call org.vdesk.monitor1 /org/vdesk/monitor1 org.vdesk.monitor1.Manager Sample | jq -r '.data[1][] | select(.[0] == \"$me\") | .[2]'"
kill "$PID_monitord"
check "the program of evil's URI was never run, by either" test ! -e "$T/evil-ran"
check "RemoveHost evil" broker_call RemoveHost s evil
check "... gone from the database" test -z "$(sql "SELECT 1 FROM hosts WHERE name = 'evil'")"

# ---- a second host ------------------------------------------------------------
host2_start vdh2-$$
export HOST2_PID
export -f h2
# a host whose SYNs go nowhere: refused once ConnectTimeoutSec passed, and
# the broker answers others meanwhile
ip neigh replace 10.78.0.99 lladdr 02:00:00:00:00:99 dev vdh2-a nud permanent
before=$(state)
t0=$(date +%s.%N)
dbus-send --system --print-reply --reply-timeout=60000 --dest=org.vdesk.broker1 /org/vdesk/broker1 \
        org.vdesk.broker1.Manager.AddHost string:lost string:qemu+tcp://10.78.0.99/system string:default string: \
        >"$T/lost.out" 2>&1 &
lost=$!
sleep 1
worst=0
for _ in $(seq 10); do
        a=$(date +%s%N); broker_call ListDesktops >/dev/null || die "ListDesktops failed meanwhile"; b=$(date +%s%N)
        [ $(((b - a) / 1000000)) -gt $worst ] && worst=$(((b - a) / 1000000))
done
check "while a host does not answer, the broker answers others (slowest of 10 calls: $worst ms)" test $worst -lt 500
wait $lost
t1=$(date +%s.%N)
check "AddHost of an unreachable host: HostUnreachable ($(cat "$T/lost.out" | head -2 | tr '\n' ' '))" \
        grep -q 'org.vdesk.Error.HostUnreachable.*did not answer within 4 s' "$T/lost.out"
check "... in bounded time ($(echo "$t1 - $t0" | bc) s, ConnectTimeoutSec=4)" \
        test "$(echo "$t1 - $t0 < 8" | bc)" = 1
check "... nothing changed" test "$before" = "$(state)"

dbus-monitor --system "type='signal',interface='org.vdesk.broker1.Manager',member='HostStateChanged'" \
        >"$T/signals.log" 2>&1 &
_pids+=($!)
# last_signal HOST: the state the last HostStateChanged of HOST named
# (dbus-monitor prints a signal's strings one a line: name, state, ...)
last_signal() {
        awk -v h="string \"$1\"" '{ sub(/^ +/, "") } prev == h { s = $2 } { prev = $0 } END { print s }' "$T/signals.log"
}
check "AddHost h2 ($HOST2_URI) into default" broker_call AddHost ssss h2 "$HOST2_URI" default ""
check "h2 is up, reached at 10.78.0.2" test "$(host h2 | jq -r '"\(.[3]) \(.[4])"')" = "10.78.0.2 up"
check "... recorded up" test "$(sql "SELECT state FROM hosts WHERE name = 'h2'")" = up
check "... journaled" wait_until 5 outputs 1 bash -c "journal_json MESSAGE_ID=$(mid HOST_ADDED) VDESK_HOST=h2 | wc -l"
check "vdeskctl hosts lists h2 up in default at 10.78.0.2" bash -c "ctl hosts | grep -qE '^h2 +default +up +10.78.0.2 '"
check "vdeskctl clusters: default with 2 hosts" bash -c "ctl clusters | grep -qE '^default +3 +2 +0\$'"
check "AddHost h2 again: HostExists" not broker_call AddHost ssss h2 "$HOST2_URI" default ""

# load this host: two running domains of 1 GiB each (not desktops)
for i in 1 2; do
        cat >"$T/load$i.xml" <<X
<domain type='qemu'><name>load$i</name><memory unit='MiB'>1024</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type></os><devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>
X
        virsh create "$T/load$i.xml" >"$T/load.log" 2>&1 || die "cannot start load $i: $(cat "$T/load.log")"
done
check "the placement names h2 (this host carries 2 GiB of running domains)" \
        test "$(broker_json PlaceDesktop s "" | jq -r '.data[0]')" = h2
check "CreateDesktop alice-1 lands on h2" broker_call CreateDesktop sss alice-1 alice tiny
check "... its host is h2" test "$(desktop_host alice-1)" = h2
check "... defined on h2's libvirt, not here" \
        bash -c "virsh -c '$HOST2_URI' dominfo alice-1 >/dev/null && ! virsh dominfo alice-1 >/dev/null 2>&1"
why=$(journal_json MESSAGE_ID="$(mid DESKTOP_PLACED)" VDESK_DESKTOP=alice-1 | jq -r .VDESK_SCHEDULE)
check "... the journal says why, with each host's score ($why)" \
        bash -c "grep -q '$me: score .*2 running' <<<'$why' && grep -q 'h2: score .*0 running' <<<'$why'"

out=$(busctl --system --timeout=150 --json=short call org.vdesk.broker1 /org/vdesk/broker1 org.vdesk.broker1.Manager OpenDesktop s alice-1 2>"$T/open.err")
[ -s "$T/open.err" ] && echo "OpenDesktop: $(cat "$T/open.err")" >&2
port=$(jq -r '.data[1]' <<<"$out")
check "OpenDesktop of alice-1 hands out h2's address ($(jq -r '.data[0]' <<<"$out"):$port)" \
        test "$(jq -r '.data[0]' <<<"$out")" = 10.78.0.2
line=$(tcp_line - 10.78.0.2 "$port")
check "the guest answers through h2's forward ($line)" grep -q VDESK-TEST-GUEST <<<"$line"
check "h2's own netd holds the forward" bash -c "h2 nft list map inet vdesk rdp4 | grep -q ' $port '"
check "... this host's does not" not bash -c "nft list map inet vdesk rdp4 | grep -q ' $port '"
check "the start is recorded from h2's events" outputs running bash -c "sql \"SELECT state FROM desktops WHERE name = 'alice-1'\""
# (the broker reads a host's figures every [Hosts] SampleSec=, 10 s)
check "h2 runs 1 desktop, as virsh domstats counts" \
        wait_until 15 outputs "$(virsh -c "$HOST2_URI" list --name | grep -c .)" host_running h2

# maintenance diverts
check "vdeskctl maintenance h2 on" ctl maintenance h2 on
check "h2 shows maintenance" test "$(host_state h2)" = maintenance
check "... the placement says why it is skipped" bash -c \
        "busctl --system --json=short call org.vdesk.broker1 /org/vdesk/broker1 org.vdesk.broker1.Manager PlaceDesktop s '' | jq -r '.data[1]' | grep -q 'h2: maintenance'"
check "CreateDesktop bob-1 lands on this host, though more loaded" broker_call CreateDesktop sss bob-1 bob tiny
check "... its host is $me" test "$(desktop_host bob-1)" = "$me"
check "vdeskctl place names this host and why h2 is skipped" bash -c \
        "ctl place | grep -qx 'A new desktop would go to $me.' && ctl place | grep -qx '  h2: maintenance'"
check "vdeskctl maintenance h2 maybe: refused by vdeskctl" not ctl maintenance h2 maybe
check "SetHostMaintenance h2 off" broker_call SetHostMaintenance sb h2 false
check "... journaled both ways" outputs 2 bash -c "journal_json MESSAGE_ID=$(mid HOST_MAINTENANCE) VDESK_HOST=h2 | wc -l"

# capacity of the cluster: 3
check "CreateDesktop carol-1 (the third)" broker_call CreateDesktop sss carol-1 carol tiny
before=$(sql "SELECT name FROM desktops ORDER BY name")
check "a fourth: ClusterFull" broker_err org.vdesk.Error.ClusterFull CreateDesktop string:dave-1 string:dave string:tiny
check "... no row, no domain on either host" bash -c \
        "test \"\$(sql 'SELECT name FROM desktops ORDER BY name')\" = '$before' && ! virsh dominfo dave-1 2>/dev/null && ! virsh -c '$HOST2_URI' dominfo dave-1 2>/dev/null"

# ---- h2's libvirtd dies and comes back -----------------------------------------
# a department network deleted from the catalog while h2 is away: its
# libvirt network is still defined there
cat >"$T/ghost.xml" <<X
<network><name>vdesk-ghost</name><bridge name='vdbr99'/><forward mode='open'/><ip address='10.99.9.1' prefix='24'/></network>
X
virsh -c "$HOST2_URI" net-define "$T/ghost.xml" >/dev/null || die "cannot define vdesk-ghost on h2"
h2 kill -9 "$(h2_libvirtd_pid)"
check "h2's libvirtd killed: h2 is down on D-Bus" wait_until 30 outputs down host_state h2
check "... in the database, with the reason" bash -c "sql \"SELECT state, state_reason FROM hosts WHERE name = 'h2'\" | grep -q '^down	.'"
check "... in the journal" wait_until 5 outputs 1 bash -c "journal_json MESSAGE_ID=$(mid HOST_DOWN) VDESK_HOST=h2 | wc -l"
check "... signalled down" wait_until 5 outputs '"down"' last_signal h2
check "the placement skips it" bash -c \
        "busctl --system --json=short call org.vdesk.broker1 /org/vdesk/broker1 org.vdesk.broker1.Manager PlaceDesktop s '' | jq -r '.data[1]' | grep -q 'h2: down'"
check "StopDesktop of its desktop: HostDown" broker_err org.vdesk.Error.HostDown StopDesktop string:alice-1 boolean:true
check "the broker keeps answering" broker_call ListDesktops
h2 libvirtd -d --listen -p /run/libvirtd.pid
check "h2's libvirtd back: h2 is up again by itself" wait_until 40 outputs up host_state h2
check "... in the database" outputs up sql "SELECT state FROM hosts WHERE name = 'h2'"
check "... in the journal" outputs 1 bash -c "journal_json MESSAGE_ID=$(mid HOST_UP) VDESK_HOST=h2 | wc -l"
check "... signalled up" wait_until 5 outputs '"up"' last_signal h2
check "... and the libvirt network of a deleted department network is gone from it" \
        wait_until 10 not virsh -c "$HOST2_URI" net-info vdesk-ghost
check "its desktop kept running through the restart" outputs running sql "SELECT state FROM desktops WHERE name = 'alice-1'"

# ---- clusters and categories ----------------------------------------------------
check "CreateCluster branch, capacity 10" broker_call CreateCluster su branch 10
check "CreateCategory office" dir_call CreateCategory sssbbbb office "" "" true true true false
check "vdeskctl assign-cluster branch office" ctl assign-cluster branch office
check "office's desktops would find no host in branch (it has none): NoHostAvailable" \
        broker_err org.vdesk.Error.NoHostAvailable PlaceDesktop string:office
check "ReclaimCluster branch office" broker_call ReclaimCluster ss branch office
check "ReclaimCluster again: NotLinked" broker_err org.vdesk.Error.NotLinked ReclaimCluster string:branch string:office
check "DeleteCluster branch" broker_call DeleteCluster s branch
check "journal has CLUSTER_CREATED, ASSIGNED, RECLAIMED, DELETED" bash -c "
        for n in CLUSTER_CREATED CLUSTER_ASSIGNED CLUSTER_RECLAIMED CLUSTER_DELETED; do
                journal_json MESSAGE_ID=\$(mid \$n) VDESK_CLUSTER=branch | grep -q . || exit 1
        done"

# ---- removing h2 ----------------------------------------------------------------
before=$(state)
check "RemoveHost h2 with a desktop: HostInUse" broker_err org.vdesk.Error.HostInUse RemoveHost string:h2
check "... nothing changed" test "$before" = "$(state)"
check "StopDesktop alice-1 (force)" broker_call StopDesktop sb alice-1 true
wait_until 30 outputs stopped sql "SELECT state FROM desktops WHERE name = 'alice-1'"
check "DeleteDesktop alice-1 (on h2)" broker_call DeleteDesktop s alice-1
check "... gone from h2's libvirt" not virsh -c "$HOST2_URI" dominfo alice-1
before=$(sql "SELECT name, host_id FROM desktops ORDER BY name")
check "MoveDesktop carol-1 to no host: NoSuchHost" broker_err org.vdesk.Error.NoSuchHost MoveDesktop string:carol-1 string:ghost
check "MoveDesktop carol-1 to h2, where it is: InvalidArgs" broker_err org.freedesktop.DBus.Error.InvalidArgs MoveDesktop string:carol-1 string:h2
broker_call StartDesktop s bob-1 >/dev/null
check "MoveDesktop of a running desktop: DesktopRunning" broker_err org.vdesk.Error.DesktopRunning MoveDesktop string:bob-1 string:h2
broker_call StopDesktop sb bob-1 true >/dev/null
check "... nothing moved" test "$before" = "$(sql "SELECT name, host_id FROM desktops ORDER BY name")"
check "vdeskctl move carol-1 $me" ctl move carol-1 "$me"
check "... its host is $me" test "$(desktop_host carol-1)" = "$me"
check "... defined here, gone from h2" bash -c "virsh dominfo carol-1 >/dev/null && ! virsh -c '$HOST2_URI' dominfo carol-1 2>/dev/null"
check "... with its DHCP entry here" bash -c "virsh net-dumpxml vdesk | grep -q \"$(broker_json GetDesktop s carol-1 | jq -r '.data[0][5]')\""
check "... journaled" wait_until 5 outputs 1 bash -c "journal_json MESSAGE_ID=$(mid DESKTOP_MOVED) VDESK_DESKTOP=carol-1 VDESK_FROM_HOST=h2 | wc -l"
out=$(busctl --system --timeout=150 --json=short call org.vdesk.broker1 /org/vdesk/broker1 org.vdesk.broker1.Manager OpenDesktop s carol-1 2>&1)
line=$(tcp_line - "$(jq -r '.data[0]' <<<"$out" 2>/dev/null)" "$(jq -r '.data[1]' <<<"$out" 2>/dev/null)")
check "... and it boots here ($line)" grep -q VDESK-TEST-GUEST <<<"$line"
check "RemoveHost h2" broker_call RemoveHost s h2
check "... gone from ListHosts and the database" bash -c \
        "! broker_json ListHosts | jq -r '.data[0][][0]' | grep -qx h2 && test -z \"\$(sql \"SELECT 1 FROM hosts WHERE name = 'h2'\")\""
check "... journaled" outputs 1 bash -c "journal_json MESSAGE_ID=$(mid HOST_REMOVED) VDESK_HOST=h2 | wc -l"

finish
