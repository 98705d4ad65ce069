#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdesk-monitord against real libvirtd and QEMU: its host and desktop figures
# are libvirt's own (virsh nodeinfo, virsh domstats), on D-Bus and in the
# Prometheus text format; it follows the broker's hosts (a second host added
# and its libvirtd killed); a host's memory above its threshold and a desktop
# killed with SIGKILL raise signals and journal warnings; thresholds out of
# range keep it from starting, naming the key.
. "$VDESK_SRC/tests/lib/harness.sh"
. "$VDESK_SRC/tests/lib/host.sh"
. "$VDESK_SRC/tests/lib/second-host.sh"
host_enter "$@"
printf '[Monitor]\nIntervalSec=1\nHostMemoryPercent=1\nHostCPUPercent=100\nThresholdSec=2\nMetricsListen=127.0.0.1:9750\n' |
        host_start_desktops
need_cmd dbus-monitor nsenter
me=$(hostname)
export T
export -f journal_json mid ctl

"$VDESK_SRC/tests/guest/build-template" "$T/templates/tiny.img" >/dev/null || die "cannot build the template"
broker_call RegisterTemplate ss tiny "$T/templates/tiny.img" >/dev/null || die "cannot register the template"
started=$(date +%s)
for a in alice bob; do
        dir_call CreateAccount sssss $a "$a" staff "" "" >/dev/null || die "account $a"
        broker_call CreateDesktop sss $a-1 $a tiny >/dev/null || die "desktop $a-1"
        broker_call StartDesktop s $a-1 >/dev/null || die "cannot start $a-1"
done

# thresholds out of range: the monitor does not start, and says which
for bad in "HostMemoryPercent=150" "HostCPUPercent=0" "ThresholdSec=0" "IntervalSec=7200"; do
        printf '[Monitor]\n%s\n' "$bad" >"$T/bad.conf"
        out=$("$VDESK_BUILD/src/monitord/vdesk-monitord" --config="$T/bad.conf" 2>&1)
        rc=$?
        check "[Monitor] $bad: refused at start ($out)" bash -c "[ $rc != 0 ] && grep -qF '[Monitor] ${bad%%=*}=' <<<'$out'"
done

dbus-monitor --system "type='signal',sender='org.vdesk.monitor1'" >"$T/signals.log" 2>&1 &
_pids+=($!)
bg monitord "$VDESK_BUILD/src/monitord/vdesk-monitord"
wait_until 10 bus_has_name org.vdesk.monitor1 || die "monitord did not start: $(cat "$T/monitord.log")"

check "org.vdesk.monitor1.Manager is as dbus/ publishes it" bash -c \
        "busctl --system introspect --xml-interface org.vdesk.monitor1 /org/vdesk/monitor1 |
         python3 '$VDESK_SRC/tests/lib/dbus-interface.py' org.vdesk.monitor1.Manager |
         diff -u '$VDESK_SRC/dbus/org.vdesk.monitor1.Manager.xml' - >'$T/iface.diff'"
mon_json() { busctl --system --json=short call org.vdesk.monitor1 /org/vdesk/monitor1 org.vdesk.monitor1.Manager "$@"; }
host_of() { mon_json Sample | jq -c --arg h "$1" '.data[1][] | select(.[0] == $h)'; }
desktop_of() { mon_json Sample | jq -c --arg d "$1" '.data[2][] | select(.[1] == $d)'; }
export -f mon_json host_of desktop_of

check "the monitor follows the broker's hosts: $me, up" wait_until 10 outputs up bash -c "host_of '$me' | jq -r '.[2]'"
h=$(host_of "$me")
ni=$(virsh nodeinfo)
nodeinfo() { awk -F': *' -v k="$1" '$1 == k { print $2 }' <<<"$ni" | awk '{print $1}'; }
check "memory as virsh nodeinfo says ($(jq -r '.[11]' <<<"$h") KiB)" test "$(jq -r '.[11]' <<<"$h")" = "$(nodeinfo 'Memory size')"
check "CPU model, CPUs, sockets, cores, threads, MHz as virsh nodeinfo says" \
        test "$(jq -r '"\(.[4]) \(.[5]) \(.[6]) \(.[7]) \(.[8]) \(.[9])"' <<<"$h")" = \
             "$(nodeinfo 'CPU model') $(nodeinfo 'CPU(s)') $(nodeinfo 'CPU socket(s)') $(nodeinfo 'Core(s) per socket') $(nodeinfo 'Thread(s) per core') $(nodeinfo 'CPU frequency')"
check "the host name is libvirt's ($(jq -r '.[3]' <<<"$h"))" test "$(jq -r '.[3]' <<<"$h")" = "$(virsh hostname)"
check "free memory within 10 % of virsh freecell's" bash -c \
        "a=$(jq -r '.[12]' <<<"$h"); b=\$(virsh freecell --all | awk '/Total/ {print \$2}'); [ \$((a > b ? a - b : b - a)) -lt \$((b / 10)) ]"
check "max vCPUs of a domain known ($(jq -r '.[10]' <<<"$h"))" test "$(jq -r '.[10]' <<<"$h")" -gt 0
check "2 desktops running" test "$(jq -r '.[14]' <<<"$h")" = 2
check "the host's CPU utilisation is a share ($(jq -r '.[13]' <<<"$h"))" jq -e '.[13] >= 0 and .[13] <= 1' <<<"$h"

for d in alice-1 bob-1; do
        x=$(desktop_of $d)
        ds=$(virsh domstats --vcpu --balloon --state $d)
        stat() { awk -F= -v k="  $1" '$1 == k { print $2 }' <<<"$ds"; }
        check "$d: running, on $me" test "$(jq -r '"\(.[0]) \(.[2])"' <<<"$x")" = "$me running"
        check "$d: vCPUs as domstats says ($(stat vcpu.current))" test "$(jq -r '.[3]' <<<"$x")" = "$(stat vcpu.current)"
        check "$d: memory current and maximum as domstats says ($(stat balloon.current)/$(stat balloon.maximum) KiB)" \
                test "$(jq -r '"\(.[4])/\(.[5])"' <<<"$x")" = "$(stat balloon.current)/$(stat balloon.maximum)"
        check "$d: up since its start, at most $(($(date +%s) - started + 1)) s ago ($(jq -r '.[13]' <<<"$x") s)" \
                jq -e --argjson max $(($(date +%s) - started + 1)) '.[13] >= 1 and .[13] <= $max' <<<"$x"
done
# a booting guest under TCG is busy: its CPU share shows it
check "alice-1 uses CPU while it boots" wait_until 20 bash -c "desktop_of alice-1 | jq -e '.[6] > 0' >/dev/null"
x=$(desktop_of alice-1)
check "... a share of its vCPUs ($(jq -r '.[6]' <<<"$x"))" bash -c "jq -e '.[6] <= 1' <<<'$x' >/dev/null"
check "the template's desktops only: no other domains" test "$(mon_json Sample | jq '.data[2] | length')" = 2
check "the Hosts property is the snapshot's" test "$(busctl --system --json=short get-property org.vdesk.monitor1 /org/vdesk/monitor1 org.vdesk.monitor1.Manager Hosts | jq -r '.data[0][0]')" = "$me"
check "the IntervalSec property is the configuration's" \
        test "$(busctl --system get-property org.vdesk.monitor1 /org/vdesk/monitor1 org.vdesk.monitor1.Manager IntervalSec)" = "u 1"

check "vdeskctl monitor shows the host up and both desktops running" bash -c \
        "ctl monitor >'$T/ctl.out' && grep -qE '^$me +up ' '$T/ctl.out' && test \$(grep -cE '^(alice|bob)-1 +$me +running ' '$T/ctl.out') = 2"

# ---- Prometheus --------------------------------------------------------------
http() { exec 3<>/dev/tcp/127.0.0.1/9750 && printf 'GET %s HTTP/1.0\r\nHost: x\r\n\r\n' "$1" >&3 && cat <&3; }
export -f http
http /metrics | tr -d '\r' >"$T/page"
sed '1,/^$/d' "$T/page" >"$T/body"
check "GET /metrics: 200, text format 0.0.4" bash -c \
        "head -1 '$T/page' | grep -q '^HTTP/1.0 200 OK' && grep -q '^Content-Type: text/plain; version=0.0.4' '$T/page'"
check "every sample line is NAME{LABELS} VALUE" bash -c \
        "! grep -v '^#' '$T/body' | grep -vE '^vdesk_[a-z_]+\\{[a-z]+=\"[^\"]*\"(,[a-z]+=\"[^\"]*\")*\\} [-+0-9.e]+\$'"
check "every metric has HELP and TYPE" test "$(grep -c '^# HELP' "$T/body")" = "$(grep -c '^# TYPE' "$T/body")"
check "vdesk_host_up of $me is 1" grep -qx "vdesk_host_up{host=\"$me\"} 1" "$T/body"
check "vdesk_host_memory_bytes is nodeinfo's memory in bytes" \
        grep -qx "vdesk_host_memory_bytes{host=\"$me\"} $(($(nodeinfo 'Memory size') * 1024))" "$T/body"
check "vdesk_desktop_running of both desktops is 1" \
        test "$(grep -c '^vdesk_desktop_running{host="'"$me"'",desktop="\(alice\|bob\)-1"} 1$' "$T/body")" = 2
rd=$(grep "^vdesk_desktop_disk_read_bytes_total{host=\"$me\",desktop=\"alice-1\"}" "$T/body" | awk '{print $2}')
now=$(virsh domstats --block alice-1 | awk -F= '/block.[0-9]+.rd.bytes/ { s += $2 } END { print s }')
check "alice-1's disk reads ($rd bytes) are domstats' (now $now): read, and not more" \
        bash -c "[ '$rd' -gt 0 ] && [ '$rd' -le '$now' ]"
check "another path: 404" bash -c "http /nothing | head -1 | grep -q '404'"

# ---- alerts -------------------------------------------------------------------
check "memory above 1 % for 2 s: ThresholdCrossed" \
        wait_until 10 bash -c "grep -A3 'member=ThresholdCrossed' '$T/signals.log' | grep -q '\"memory\"'"
check "... a journal warning" wait_until 5 bash -c \
        "journal_json MESSAGE_ID=$(mid MONITOR_ALERT) VDESK_ALERT=threshold VDESK_METRIC=memory | grep -q '\"PRIORITY\":\"4\"'"
check "... once, not at every sample" bash -c "sleep 3; test \$(grep -c 'member=ThresholdCrossed' '$T/signals.log') = 1"
pid=$(cat /run/libvirt/qemu/alice-1.pid)
kill -9 "$pid"
check "alice-1's QEMU killed: DesktopCrashed" \
        wait_until 10 bash -c "grep -A3 'member=DesktopCrashed' '$T/signals.log' | grep -q '\"alice-1\"'"
check "... a journal warning naming it" wait_until 5 bash -c \
        "journal_json MESSAGE_ID=$(mid MONITOR_ALERT) VDESK_ALERT=crashed VDESK_DESKTOP=alice-1 | grep -q ."
check "... the broker records the crash too" wait_until 5 bash -c \
        "journal_json MESSAGE_ID=$(mid DESKTOP_CRASHED) VDESK_DESKTOP=alice-1 | grep -q ."
check "... and the monitor shows it stopped" wait_until 5 outputs stopped bash -c "desktop_of alice-1 | jq -r '.[2]'"
broker_call StopDesktop sb bob-1 true >/dev/null
sleep 2
check "an ordered stop is no crash" bash -c "! grep -A3 'member=DesktopCrashed' '$T/signals.log' | grep -q '\"bob-1\"'"

# ---- a second host, followed from the broker --------------------------------------
host2_start vdh2-$$
export HOST2_PID
broker_call AddHost ssss h2 "$HOST2_URI" default "" >/dev/null || die "cannot add h2"
check "the monitor follows the broker: h2 up" wait_until 10 outputs up bash -c "host_of h2 | jq -r '.[2]'"
check "... and $me still, every host the broker lists" outputs up bash -c "host_of '$me' | jq -r '.[2]'"
check "h2's memory is its libvirt's" \
        test "$(host_of h2 | jq -r '.[11]')" = "$(virsh -c "$HOST2_URI" nodeinfo | awk '/Memory size/ {print $3}')"
h2 kill -9 "$(h2_libvirtd_pid)"
check "h2's libvirtd killed: down" wait_until 15 outputs down bash -c "host_of h2 | jq -r '.[2]'"
check "... and vdesk_host_up says 0" wait_until 5 bash -c "http /metrics | grep -qx 'vdesk_host_up{host=\"h2\"} 0'"

finish
