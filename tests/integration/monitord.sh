#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdesk-monitord against libvirt's test driver (test:///default, no QEMU)
# on a private host (tests/lib/host.sh: its own network namespace, bus and
# polkitd): its methods are polkit's org.vdesk.monitor1.read (refused to an
# unprivileged uid, allowed to a reader and to vdesk-admin) and its
# properties root's; the metrics page serves at most 16 connections at
# once (the others wait until one closes), closes idle ones, and when the
# daemon runs out of file descriptors it does not spin on the pending
# connections (its CPU time over a flood), and serves again afterwards.
. "$VDESK_SRC/tests/lib/harness.sh"
. "$VDESK_SRC/tests/lib/host.sh"
host_enter "$@"
need_cmd setpriv prlimit python3 busctl dbus-send

# polkit: bin (uid 2) is granted org.vdesk.monitor1.read by a rule of the
# test's, nobody is in vdesk-admin
host_polkit_grant bin org.vdesk.monitor1.read
host_vdesk_admin nobody

host_start_journal
host_start_bus
host_start_polkit
PORT=9750
printf '[Libvirt]\nURI=test:///default\n[Monitor]\nIntervalSec=1\nMetricsListen=127.0.0.1:%s\n' $PORT >"$T/vdesk.conf"
bg monitord "$VDESK_BUILD/src/monitord/vdesk-monitord" --config="$T/vdesk.conf"
PID=$PID_monitord
wait_until 10 bus_has_name org.vdesk.monitor1 || die "monitord did not start: $(cat "$T/monitord.log")"

# GET PATH: the whole answer (3 s at most)
http() { timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$1 && printf "GET %s HTTP/1.0\r\n\r\n" "$2" >&3 && cat <&3' _ $PORT "$1"; }
check "the page is served" wait_until 10 bash -c "$(declare -f http); PORT=$PORT; http /metrics | grep -q '^vdesk_host_up{host=\"[^\"]*\"} 1'"

# ---- polkit and the bus policy --------------------------------------------------
snapshot() { busctl --system call org.vdesk.monitor1 /org/vdesk/monitor1 org.vdesk.monitor1.Manager GetSnapshot 2>&1; }
run_as() { local uid=$1; shift; setpriv --reuid=$uid --regid=$uid "$@"; }
out=$(snapshot)
check "root reads the snapshot ($out)" grep -q "test:///default" <<<"$out"
out=$(run_as 1 --clear-groups dbus-send --system --print-reply --dest=org.vdesk.monitor1 /org/vdesk/monitor1 \
        org.vdesk.monitor1.Manager.GetSnapshot 2>&1)
check "uid 1 is refused GetSnapshot ($out)" \
        grep -q "^Error org.vdesk.Error.AccessDenied: Not authorized for org.vdesk.monitor1.read" <<<"$out"
out=$(run_as 1 --clear-groups dbus-send --system --print-reply --dest=org.vdesk.monitor1 /org/vdesk/monitor1 \
        org.vdesk.monitor1.Manager.Sample 2>&1)
check "uid 1 is refused Sample ($out)" \
        grep -q "^Error org.vdesk.Error.AccessDenied: Not authorized for org.vdesk.monitor1.read" <<<"$out"
check "  ... and the refusal is journaled" \
        test -n "$(journal_json VDESK_ACTOR_UID=1 VDESK_METHOD=GetSnapshot VDESK_ACTION=org.vdesk.monitor1.read)"
out=$(run_as 2 --clear-groups busctl --system call org.vdesk.monitor1 /org/vdesk/monitor1 org.vdesk.monitor1.Manager GetSnapshot 2>&1)
check "a reader (bin, granted org.vdesk.monitor1.read) reads the snapshot ($out)" grep -q "test:///default" <<<"$out"
out=$(run_as 65534 --init-groups busctl --system call org.vdesk.monitor1 /org/vdesk/monitor1 org.vdesk.monitor1.Manager Sample 2>&1)
check "a member of vdesk-admin samples ($out)" grep -q "test:///default" <<<"$out"
out=$(run_as 2 --clear-groups busctl --system get-property org.vdesk.monitor1 /org/vdesk/monitor1 \
        org.vdesk.monitor1.Manager Hosts 2>&1)
check "the properties stay root's, by the bus policy ($out)" grep -q "Access denied" <<<"$out"

# ---- the connection bound -------------------------------------------------------
# 16 connections that send nothing take every place; a 17th's request is
# not answered while they are open, and is once one of them closes.
out=$(python3 - $PORT <<'PY'
import socket, sys, time
port = int(sys.argv[1])
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(16)]
time.sleep(0.5)
late = socket.create_connection(("127.0.0.1", port))
late.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
late.settimeout(1.5)
try:
    late.recv(1)
    print("served-while-full")
except socket.timeout:
    print("waited")
t0 = time.monotonic()
idle.pop().close()
late.settimeout(3)
data = late.recv(64)
print("served-after-close" if data.startswith(b"HTTP/1.0 200") else "no-answer", round(time.monotonic() - t0, 1))
# the idle ones are closed by the monitor (5 s after they came)
rest = 0
for s in idle:
    s.settimeout(8)
    try:
        if s.recv(1) == b"":
            rest += 1
    except (socket.timeout, ConnectionResetError):
        pass
print("idle-closed", rest)
PY
)
check "a 17th connection waits while 16 are open ($out)" grep -qx "waited" <<<"$out"
check "  ... and is served once one closes" awk '$1 == "served-after-close" && $2 < 1.5 { ok = 1 } END { exit !ok }' <<<"$out"
check "  ... the idle connections were closed by the monitor" grep -qx "idle-closed 15" <<<"$out"
check "the page is served again" bash -c "$(declare -f http); PORT=$PORT; http /metrics | grep -q '^HTTP/1.0 200 OK'"

# ---- out of file descriptors ---------------------------------------------------
# The soft limit two above what the monitor holds now: it accepts two
# connections, which send nothing and so keep their descriptors (until the
# idle timeout), then accept4() fails with EMFILE while more are pending.
# A monitor that kept listening would be woken for them at once, again and
# again; its CPU time over 4 s of that flood must stay well under 20 %.
fds=$(ls /proc/$PID/fd | wc -l)
check "the monitor's descriptor limit lowered to $((fds + 2))" prlimit --pid $PID --nofile=$((fds + 2)):
hz=$(getconf CLK_TCK)
out=$(python3 - $PORT $PID $hz <<'PY'
import socket, sys, time
port, pid, hz = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])
conns = []
start, t0 = cpu(), time.monotonic()
while time.monotonic() - t0 < 4:
    if len(conns) < 60:
        try:
            conns.append(socket.create_connection(("127.0.0.1", port), timeout=0.2))
        except OSError:
            pass
    time.sleep(0.02)
used = (cpu() - start) / hz / (time.monotonic() - t0)
print(f"share {used:.3f} connections {len(conns)}")
PY
)
check "under an fd flood the monitor does not spin ($out)" awk '$1 == "share" && $2 < 0.2 && $4 >= 10 { ok = 1 } END { exit !ok }' <<<"$out"
check "  ... it said why it stopped accepting" grep -q "Cannot accept a metrics connection" "$T/monitord.log"
check "  ... it answers on D-Bus meanwhile" bash -c "busctl --system call org.vdesk.monitor1 /org/vdesk/monitor1 org.vdesk.monitor1.Manager GetSnapshot >/dev/null"
check "  ... and serves the page again once the flood is gone" \
        wait_until 10 bash -c "$(declare -f http); PORT=$PORT; http /metrics | grep -q '^HTTP/1.0 200 OK'"
check "the monitor still runs" kill -0 $PID

finish
