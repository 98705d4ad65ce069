# SPDX-License-Identifier: LGPL-2.1-or-later
# A second vdesk host for end-to-end tests (sourced after host.sh, inside
# the first host): its own network and mount namespaces behind a veth wire,
# its own bus, netd, imaged and a libvirtd the broker reaches over TCP
# (tests/lib/second-host).

# host2_start NAME: the host at 10.78.0.2, this host at 10.78.0.1; sets
# HOST2_PID (a process inside it) and HOST2_URI.
host2_start() {
        local name=$1
        need_cmd nsenter unshare
        netns_add "$name"
        veth_pair - vdh2-a 10.78.0.1/24 "$name" vdh2-b 10.78.0.2/24
        mkdir -p "$T/$name"
        ip netns exec "$name" unshare --mount --propagation private \
                env VDESK_BUILD="$VDESK_BUILD" VDESK_SRC="$VDESK_SRC" \
                bash "$VDESK_SRC/tests/lib/second-host" "$T/$name" 10.78.0.2 >"$T/$name.log" 2>&1 &
        HOST2_PID=$!
        disown "$HOST2_PID"      # killed with its namespace at the end, unreported
        HOST2_DIR=$T/$name
        HOST2_URI=qemu+tcp://10.78.0.2/system
        cleanup_push "h2 bash -c 'for d in \$(virsh -c qemu:///system list --name); do virsh -c qemu:///system destroy \$d; done' >/dev/null 2>&1"
        wait_until 60 test -e "$T/$name/ready" || die "the second host did not start: $(cat "$T/$name.log")"
        wait_until 20 virsh -c "$HOST2_URI" version >/dev/null 2>&1 || die "the second host's libvirtd is not reached"
}

# h2 COMMAND...: runs a command on the second host.
h2() { nsenter -t "$HOST2_PID" -n -m -- "$@"; }

h2_libvirtd_pid() { h2 cat /run/libvirtd.pid; }
