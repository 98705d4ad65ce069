#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Idle desktops stopped, on a private host with real libvirtd, QEMU,
# MariaDB and the hook, the broker looking every 5 s ([Broker]
# IdleCheckSec=5). Category nightly stops its desktops after a minute
# without an RDP connection (IdleStopMinutes=1), category daily never
# (IdleStopMinutes=0). ann's desktop has a connection held open through
# its forward from a client machine (it sends nothing: an open RDP session
# idles at the TCP level) and keeps running past the minute; bea's has
# none and is shut down after a minute, no sooner and within the minute
# plus two checks, with a journal entry naming it; cid's (daily) runs on.
# Once ann's connection is closed, her desktop goes a minute later.
. "$VDESK_SRC/tests/lib/harness.sh"
. "$VDESK_SRC/tests/lib/host.sh"
host_enter "$@"
need_cmd bc
host_start_desktops <<X
[Broker]
IdleCheckSec=5
X
CHECK=5 MINUTE=60

C=vdc-$$
netns_add $C
veth_pair - vdh-c0 10.77.0.1/24 $C vdh-c1 10.77.0.2/24
ip -n $C route add default via 10.77.0.1
"$VDESK_SRC/tests/guest/build-template" "$T/templates/tiny.img" >/dev/null || die "cannot build the template"

check "register the template" ctl register-template tiny "$T/templates/tiny.img"
department() { ctl create-department $1 && ctl create-category $2 tiny && ctl link-category $2 $1; }
check "department night, category nightly linked to it" department night nightly
check "department day, category daily linked to it" department day daily
check "nightly: IdleStopMinutes=1" ctl set-category nightly IdleStopMinutes=1
check "daily: IdleStopMinutes=0" ctl set-category daily IdleStopMinutes=0
printf 'id,name,department\nann,Ann,night\nbea,Bea,night\ncid,Cid,day\n' >"$T/staff.csv"
import() { ctl import-staff "$T/staff.csv" >"$T/codes.csv"; }
check "import ann, bea (night) and cid (day)" import
check "their desktops made by the categories' jobs" ctl --no-progress create-desktops nightly
check "... both" ctl --no-progress create-desktops daily
A=nightly-ann B=nightly-bea D=daily-cid
check "three desktops" test "$(sql "SELECT GROUP_CONCAT(name ORDER BY name) FROM desktops")" = "$D,$A,$B"

# opened at once: they start together
for n in $A $B $D; do bg open-$n "$VDESK_BUILD/src/vdeskctl/vdeskctl" --no-ask-password open $n; done
for n in $A $B $D; do
        pid=PID_open_${n//-/_}
        wait ${!pid}; rc=$?
        check "$n opened, its guest answering ($rc: $(tail -1 "$T/open-$n.log"))" test $rc = 0
done
check "all three running" test "$(virsh list --name | grep -c .)" = 3
port() { sql "SELECT rdp_port FROM desktops WHERE name = '$1'"; }
# when each started, as the broker counts (µs since the epoch, as a number of seconds)
started() { sql "SELECT UNIX_TIMESTAMP(state_changed_at) FROM desktops WHERE name = '$1'"; }
running() { virsh domstate "$1" | grep -qx running; }
shut_off() { virsh domstate "$1" | grep -qx 'shut off'; }
test_state() { test "$(sql "SELECT state FROM desktops WHERE name = '$1'")" = "$2"; }
idle_entry() { journal_json MESSAGE_ID=$(mid DESKTOP_IDLE_STOPPED) VDESK_DESKTOP=$1; }
has_idle_entry() { test -n "$(idle_entry $1)"; }
# wait_entry SECONDS DESKTOP: until its idle entry is there, looking every second
wait_entry() {
        local end=$((SECONDS + $1))
        until has_idle_entry $2; do [ $SECONDS -ge $end ] && return 1; sleep 1; done
}
held() {
        busctl --system --json=short call org.vdesk.network1 /org/vdesk/network1 org.vdesk.network1.Manager \
                ListForwardActivity | jq -e ".data[0][] | select(.[0] == \"$A\") | .[2] == 1" >/dev/null
}
# sleep_until SECONDS-SINCE-THE-EPOCH
sleep_until() { local d; d=$(echo "$1 - $(date +%s.%N)" | bc -l); [[ $d == -* ]] || sleep "$d"; }
# seconds from $2 (seconds since the epoch) to the idle entry of desktop $1
idle_after() { printf '%.1f' "$(echo "$(idle_entry $1 | jq -r '.__REALTIME_TIMESTAMP' | head -1) / 1000000 - $2" | bc -l)"; }

# ann holds a connection open through her forward, sending nothing more
bg holder ip netns exec $C bash -c "exec 3<>/dev/tcp/10.77.0.1/$(port $A) && head -1 <&3 && echo hold >&3 && exec sleep 3600"
check "ann's connection is held open (seen on her forward)" wait_until 10 held

tA=$(started $A) tB=$(started $B) tD=$(started $D)
# bea's desktop: not before the minute
sleep_until "$tB + $MINUTE - 3"
check "bea's desktop runs a little under a minute after its start" running $B
check "... without an idle entry" test -z "$(idle_entry $B)"
# ... and within the minute plus two checks
check "bea's desktop is stopped for idleness" wait_entry $((MINUTE + 2 * CHECK)) $B
after=$(idle_after $B "$tB")
check "... $after s after its start: not before $MINUTE s" test "$(echo "$after >= $MINUTE" | bc)" = 1
check "... and within $MINUTE s and two checks (+1 s)" test "$(echo "$after <= $MINUTE + 2 * $CHECK + 1" | bc)" = 1
e=$(idle_entry $B | head -1)
check "the entry names the desktop, account, category and minutes" \
        test "$(jq -r '"\(.VDESK_DESKTOP) \(.VDESK_ACCOUNT) \(.VDESK_CATEGORY) \(.VDESK_IDLE_MINUTES)"' <<<"$e")" = "$B bea nightly 1"
check "... and says why ($(jq -r .MESSAGE <<<"$e"))" \
        test "$(jq -r .MESSAGE <<<"$e")" = "Desktop $B of bea stopped after 1 min without an RDP connection (category nightly)"
check "its guest shut down (ACPI, as Desktop.Stop(false))" wait_until 30 shut_off $B
check "... not destroyed: libvirt says it was shut down" outputs "shut off (shutdown)" virsh domstate --reason $B
check "... and the broker records it stopped" wait_until 10 test_state $B stopped
# the stop's entry: written with the state, read once journald has it
for _ in $(seq 20); do
        e=$(journal_json MESSAGE_ID=$(mid DESKTOP_STOPPED) VDESK_DESKTOP=$B | head -1)
        [ -n "$e" ] && break
        sleep 0.5
done
check "... one idle entry, the shutdown asked once" outputs 1 bash -c "$(declare -f journal_json mid idle_entry); idle_entry $B | wc -l"
check "the stop's own entry names the broker's uid as the actor ($(jq -r .MESSAGE <<<"$e"))" \
        test "$(jq -r .VDESK_ACTOR_UID <<<"$e")" = "$(id -u)"

# ann's (held connection) and cid's (IdleStopMinutes=0) run on past their
# minute and two more checks
sleep_until "$(printf '%s\n' "$tA" "$tD" | sort -n | tail -1) + $MINUTE + 3 * $CHECK"
check "ann's desktop, its connection open, runs past its minute" running $A
check "... no idle entry for it" test -z "$(idle_entry $A)"
check "cid's desktop (IdleStopMinutes=0) runs past its minute" running $D
check "... no idle entry for it" test -z "$(idle_entry $D)"

# ann closes her connection: her desktop goes a minute after the last check
# that saw it, so between a minute less one check and a minute and two
# checks after the close
kill $PID_holder
tc=$(date +%s.%N)
check "ann's desktop is stopped once her connection is closed" wait_entry $((MINUTE + 2 * CHECK + 5)) $A
after=$(idle_after $A "$tc")
check "... $after s after the close: a minute less at most one check" test "$(echo "$after >= $MINUTE - $CHECK" | bc)" = 1
check "... and within a minute and two checks (+1 s)" test "$(echo "$after <= $MINUTE + 2 * $CHECK + 1" | bc)" = 1
check "... shut down" wait_until 30 shut_off $A
check "cid's desktop still runs" running $D
check "brokerd stayed up" kill -0 $PID_brokerd
finish
