# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by vdesk's integration and e2e tests (sourced, bash). Every resource
# a test makes is recorded and removed by the EXIT trap: processes by PID,
# namespaces, files. Skips exit 77 with the reason on stderr.
#
# The test runner exports: VDESK_SRC (source tree), VDESK_BUILD (build tree).

set -u
: "${VDESK_SRC:?}" "${VDESK_BUILD:?}"

T=$(mktemp -d /tmp/vdesk-test.XXXXXX)
TEST_NAME=$(basename "$0" .sh)
_cleanups=()
_pids=()
_fails=0
_checks=0

cleanup_push() { _cleanups+=("$*"); }

_stop_pids() {
        local i
        for ((i = ${#_pids[@]} - 1; i >= 0; i--)); do
                kill "${_pids[i]}" 2>/dev/null || true
        done
        for ((i = ${#_pids[@]} - 1; i >= 0; i--)); do
                for _ in $(seq 50); do kill -0 "${_pids[i]}" 2>/dev/null || break; sleep 0.1; done
                kill -9 "${_pids[i]}" 2>/dev/null || true
        done
        _pids=()
}

_run_cleanups() {
        local i
        _stop_pids
        for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
                # what is gone already is no failure (also under set -e)
                eval "${_cleanups[i]}" >/dev/null 2>&1 || true
        done
        if [ "${KEEP_TEST_DIR:-}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap _run_cleanups EXIT

skip() { echo "SKIP: $*" >&2; exit 77; }
die() { echo "FAIL: $*" >&2; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || skip "needs root (network namespaces, nftables)"; }
need_cmd() { local c; for c; do command -v "$c" >/dev/null || skip "needs $c (not installed)"; done; }

# chain_without TEXT OVERLAY: qemu-img reads OVERLAY's backing chain (two
# images at least: an unreadable one fails here, not passes) and no image
# of it names TEXT.
chain_without() {
        local out
        out=$(qemu-img info -U --backing-chain --output=json -f qcow2 "$2" 2>/dev/null) || return 1
        [ "$(jq 'length' <<<"$out" 2>/dev/null)" -ge 2 ] 2>/dev/null || return 1
        ! grep -qF -- "$1" <<<"$out"
}

# outputs TEXT COMMAND...: COMMAND prints TEXT. For wait_until, which runs
# it anew each time ("wait_until 9 test "$(x)" = y" would compare once).
outputs() { local want=$1; shift; [ "$("$@" 2>/dev/null)" = "$want" ]; }

# not COMMAND...: COMMAND fails (for check, in this shell: functions and
# $$ stay what they are, unlike in bash -c).
not() { ! "$@"; }

# check DESCRIPTION COMMAND...: a named assertion; failures are counted and
# the test fails at the end (finish), so one run shows every broken check.
check() {
        local what=$1; shift
        _checks=$((_checks + 1))
        if "$@"; then echo "ok $_checks - $what"; else echo "not ok $_checks - $what"; _fails=$((_fails + 1)); fi
}
finish() {
        # Daemons end now, so that a sanitizer build reports their leaks;
        # any sanitizer report in a log of this test is a failure.
        local reports
        _stop_pids
        reports=$(grep -l -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$T"/*.log 2>/dev/null)
        check "no sanitizer reports in the daemons' logs${reports:+ (see $reports)}" test -z "$reports"
        [ -n "$reports" ] && grep -h -A15 -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" $reports | head -60
        echo "$((_checks - _fails)) passed, $_fails failed"
        [ "$_fails" = 0 ]
        exit $?
}

# bg NAME COMMAND...: runs a command in the background, logging to $T/NAME.log.
bg() {
        local name=$1; shift
        "$@" >"$T/$name.log" 2>&1 </dev/null &
        _pids+=($!)
        eval "PID_${name//-/_}=$!"
}

# bg_done PID...: processes the test ended itself are not signalled again
# at exit: their PIDs may be another program's by then.
bg_done() {
        local keep=() p
        for p in "${_pids[@]}"; do [[ " $* " == *" $p "* ]] || keep+=("$p"); done
        _pids=("${keep[@]}")
}

# wait_until SECONDS COMMAND...: polls every 0.05 s.
wait_until() {
        local end=$((SECONDS + $1)); shift
        while ! "$@" 2>/dev/null; do
                [ $SECONDS -ge $end ] && return 1
                sleep 0.05
        done
}

# A private bus with vdesk's policy files (the build tree's copies), as the
# system bus of what follows; start_bus NAME makes another one (a second
# host's) in $T/NAME, whose address the caller passes on itself.
start_bus() {
        local name=${1:-bus}
        need_cmd dbus-daemon busctl
        mkdir -p "$T/$name"
        sed -e "s|@SOCKET@|$T/$name/socket|" -e "s|@POLICYDIR@|$VDESK_SRC/dbus|" \
                "$VDESK_SRC/tests/lib/bus.conf.in" >"$T/$name/bus.conf"
        bg "dbus-$name" dbus-daemon --nofork --nopidfile --config-file="$T/$name/bus.conf"
        [ "$name" = bus ] && export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/bus/socket"
        wait_until 10 test -S "$T/$name/socket" || die "dbus-daemon did not start: $(cat "$T/dbus-$name.log")"
}

# bus_has_name NAME: NAME has an owner on the system bus.
bus_has_name() {
        [ "$(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
                NameHasOwner s "$1" 2>/dev/null)" = "b true" ]
}

# A network namespace removed at exit (with every process left in it).
netns_add() {
        ip netns add "$1" || die "cannot create netns $1"
        cleanup_push "for p in \$(ip netns pids $1); do kill -9 \$p; done; ip netns del $1"
        ip -n "$1" link set lo up
}

# veth_pair NS1 IF1 ADDR1/PFX NS2 IF2 ADDR2/PFX (NS "-" for the current one)
veth_pair() {
        local ns1=$1 if1=$2 a1=$3 ns2=$4 if2=$5 a2=$6
        ip link add "$if1" type veth peer name "$if2"
        cleanup_push "ip link del $if1"
        [ "$ns1" != - ] && ip link set "$if1" netns "$ns1"
        [ "$ns2" != - ] && ip link set "$if2" netns "$ns2"
        _in() { if [ "$1" = - ]; then shift; "$@"; else local n=$1; shift; ip netns exec "$n" "$@"; fi; }
        _in "$ns1" ip addr add "$a1" dev "$if1"; _in "$ns1" ip link set "$if1" up
        _in "$ns2" ip addr add "$a2" dev "$if2"; _in "$ns2" ip link set "$if2" up
}

# client_netns NS IF HOST/PFX CLIENT/PFX: another machine's namespace NS on
# a wire from this one (IF0 here with HOST, IF1 there with CLIENT), routed
# through this one.
client_netns() {
        local ns=$1 ifn=$2
        netns_add "$ns"
        veth_pair - "${ifn}0" "$3" "$ns" "${ifn}1" "$4"
        ip -n "$ns" route add default via "${3%/*}"
}

# write_config FILE: a vdesk.conf for this test; extra lines on stdin.
write_config() {
        {
                echo "[Images]"
                echo "TemplateDir=$T/templates"
                echo "DiskDir=$T/disks"
                cat
        } >"$1"
        mkdir -p "$T/templates" "$T/disks"
}

# wait_listening NETNS PORT: a TCP listener is up in the namespace (within
# WAIT_SEC, default 20 s).
wait_listening() { wait_until "${WAIT_SEC:-20}" bash -c "ip netns exec $1 ss -Hltn 'sport = :$2' | grep -q LISTEN"; }

# table_comment_is NETNS TEXT (nft -j of nftables 1.0.6 leaves the comment out)
table_comment_is() { ip netns exec "$1" nft list table inet vdesk | grep -qx "	comment \"$2\""; }

# The map's elements as "port address:gport comment" lines, sorted.
nft_forwards() {
        local ns=$1
        ip netns exec "$ns" nft -j list map inet vdesk rdp4 |
                jq -r '.nftables[] | select(.map) | .map.elem // [] | .[] |
                        if (.[0] | type) == "object" then
                          "\(.[0].elem.val) \(.[1].concat[0]):\(.[1].concat[1]) \(.[0].elem.comment // "")"
                        else "\(.[0]) \(.[1].concat[0]):\(.[1].concat[1]) " end' | sort
}

# tcp_line [NETNS|-] HOST PORT: the first line a TCP server sends (3 s).
tcp_line() {
        local ns=$1 host=$2 port=$3
        local cmd="exec 3<>/dev/tcp/$host/$port && head -1 <&3"
        if [ "$ns" = - ]; then timeout 3 bash -c "$cmd" 2>/dev/null
        else ip netns exec "$ns" timeout 3 bash -c "$cmd" 2>/dev/null; fi
}

# udp_line NETNS HOST PORT: the line a UDP server answers to one datagram
# (2 s); HOST may be 255.255.255.255.
udp_line() {
        ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.settimeout(2)
s.sendto(b"?", (sys.argv[1], int(sys.argv[2])))
print(s.recv(2048).decode().strip())' "$2" "$3" 2>/dev/null
}

# busctl against the test bus; "call_netd METHOD SIG ARGS..."
netd_call() { local m=$1; shift; busctl --system call org.vdesk.network1 /org/vdesk/network1 org.vdesk.network1.Manager "$m" "$@"; }
imaged_call() { local m=$1; shift; busctl --system call org.vdesk.images1 /org/vdesk/images1 org.vdesk.images1.Manager "$m" "$@"; }

# expect_error ERRORNAME COMMAND...: the command fails and busctl printed a
# message; the error name is checked with --json on a second call elsewhere.
fails_with() {
        local want=$1 out; shift
        out=$("$@" 2>&1) && { echo "  unexpectedly succeeded: $*" >&2; return 1; }
        case $out in *"$want"*) return 0;; esac
        echo "  wanted '$want', got: $out" >&2
        return 1
}
