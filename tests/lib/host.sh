# SPDX-License-Identifier: LGPL-2.1-or-later
# A private vdesk host for end-to-end tests (sourced after harness.sh).
#
# host_enter re-runs the calling script inside a network namespace of its
# own and a private mount namespace, in which /run, /var/log,
# /var/lib/libvirt, /etc/libvirt, /etc/vdesk and polkit's directories are
# the test's. There the script starts the whole stack as vdesk would run on
# a real host: journald, a system dbus-daemon at the standard socket,
# polkitd, MariaDB, virtlogd, libvirtd with vdesk's hook, and vdesk's
# daemons from the build tree. Nothing of a stack running on the machine
# itself (the demo's, another test's) is seen or touched, and everything
# goes away with the namespaces.

# host_enter: call first. In the outer run it makes the namespace, runs the
# script again inside it and exits with its status.
host_enter() {
        need_root
        if [ -n "${VDESK_TEST_HOST:-}" ]; then
                HOST_NS=$VDESK_TEST_HOST
                _host_mounts
                return 0
        fi
        need_cmd unshare ip
        HOST_NS=vdh-$TEST_NAME-$$
        HOST_NS=${HOST_NS:0:30}
        netns_add "$HOST_NS"
        # The mount points must exist on the host to be mounted over.
        mkdir -p /etc/vdesk /etc/libvirt /var/lib/libvirt /var/cache/libvirt /var/log
        ip netns exec "$HOST_NS" unshare --mount --propagation private \
                env VDESK_TEST_HOST="$HOST_NS" VDESK_TEST_OUTER_T="$T" bash "$0" "$@"
        local rc=$?
        exit $rc
}

_host_mounts() {
        local d
        # ip netns exec gave us a private /sys without cgroups, which
        # journald needs to start; the rest is ours to lay out.
        mountpoint -q /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup
        mount -t tmpfs -o mode=755 tmpfs /run
        mount -t tmpfs -o mode=755 tmpfs /var/log
        mount -t tmpfs -o mode=755 tmpfs /var/lib/libvirt
        mount -t tmpfs -o mode=755 tmpfs /var/cache/libvirt
        mkdir -p /run/dbus /run/lock /var/log/libvirt/qemu /var/log/vdesk \
                "$T/etc/libvirt/hooks/qemu.d" "$T/etc/vdesk/vdesk.conf.d" "$T/polkit/actions" "$T/polkit/rules.d"
        mount --bind "$T/etc/libvirt" /etc/libvirt
        mount --bind "$T/etc/vdesk" /etc/vdesk
        # polkit: the machine's actions and rules plus vdesk's own.
        cp /usr/share/polkit-1/actions/* "$T/polkit/actions/" 2>/dev/null
        cp "$VDESK_SRC"/policy/*.policy "$T/polkit/actions/"
        cp /usr/share/polkit-1/rules.d/* "$T/polkit/rules.d/" 2>/dev/null
        cp "$VDESK_SRC"/policy/*.rules "$T/polkit/rules.d/"
        mount --bind "$T/polkit/actions" /usr/share/polkit-1/actions
        mount --bind "$T/polkit/rules.d" /usr/share/polkit-1/rules.d
        for d in /etc/polkit-1/rules.d; do [ -d $d ] && mount -t tmpfs tmpfs $d; done
        ip link set lo up
}

# The journal: a journald of the namespace's own, volatile.
host_start_journal() {
        mkdir -p /run/systemd/journal /run/log/journal
        bg journald /lib/systemd/systemd-journald
        wait_until 10 test -S /run/systemd/journal/socket || die "journald did not start: $(cat "$T/journald.log")"
}

# journal_json FIELD=VALUE...: the matching entries, one JSON object a line.
journal_json() { journalctl --no-pager -o json "$@" 2>/dev/null; }

host_start_bus() {
        need_cmd dbus-daemon busctl
        sed -e "s|@SOCKET@|/run/dbus/system_bus_socket|" -e "s|@POLICYDIR@|$VDESK_SRC/dbus|" \
                "$VDESK_SRC/tests/lib/bus.conf.in" >"$T/bus.conf"
        bg dbus dbus-daemon --nofork --nopidfile --config-file="$T/bus.conf"
        unset DBUS_SYSTEM_BUS_ADDRESS
        wait_until 10 test -S /run/dbus/system_bus_socket || die "dbus-daemon did not start: $(cat "$T/dbus.log")"
}

# host_polkit_grant USER ACTION: a polkit rule of the test's grants USER
# that action alone (the private rules directory; call before polkitd starts).
host_polkit_grant() {
        cat >"/usr/share/polkit-1/rules.d/60-vdesk-test-$1-$2.rules" <<JS
polkit.addRule(function(action, subject) {
        if (action.id == "$2" && subject.user == "$1")
                return polkit.Result.YES;
});
JS
}

# host_vdesk_admin USER: USER is a member of vdesk-admin, which the shipped
# rule grants every vdesk action (in the namespace's own /etc/group).
host_vdesk_admin() {
        cp /etc/group "$T/group"
        echo "vdesk-admin:x:64999:$1" >>"$T/group"
        mount --bind "$T/group" /etc/group
}

host_start_polkit() {
        local p=/usr/lib/polkit-1/polkitd
        [ -x $p ] || skip "needs polkitd ($p)"
        # It drops to the user polkitd by itself, whom alone the bus lets
        # own polkit's name.
        bg polkitd $p
        wait_until 10 bus_has_name org.freedesktop.PolicyKit1 ||
                die "polkitd did not start: $(cat "$T/polkitd.log")"
}

# MariaDB in a data directory of the test's; the socket is $T/db/mysqld.sock.
host_start_mariadb() {
        need_cmd mariadb-install-db mariadbd mariadb
        mkdir -p "$T/db"
        mariadb-install-db --no-defaults --datadir="$T/db/data" --user=root \
                --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
                >"$T/db-install.log" 2>&1 || die "mariadb-install-db failed: $(tail -5 "$T/db-install.log")"
        bg mariadbd mariadbd --no-defaults --datadir="$T/db/data" --socket="$T/db/mysqld.sock" \
                --pid-file="$T/db/mysqld.pid" --skip-networking --user=root --skip-log-bin \
                --innodb-buffer-pool-size=32M --log-error="$T/db/error.log"
        wait_until 30 mariadb-admin --no-defaults -S "$T/db/mysqld.sock" ping >/dev/null ||
                die "mariadbd did not start: $(tail -5 "$T/db/error.log")"
}

# mid NAME: the MESSAGE_ID of MID_NAME (message-id.h), "MID_" optional.
# mid NAME: a MESSAGE_ID from message-id.h. An unknown NAME (a typo) says
# so and gives an id no entry has, so that a check looking for it fails
# rather than matching with an empty MESSAGE_ID=.
mid() {
        local id
        id=$(sed -n "s/^#define MID_${1#MID_} *\"\(.*\)\"/\1/p" "$VDESK_SRC/src/shared/message-id.h")
        [ -n "$id" ] || { echo "no message id $1 in message-id.h" >&2; id=unknown-message-id; }
        echo "$id"
}

sql() { mariadb --no-defaults -S "$T/db/mysqld.sock" -N -B vdesk -e "$1"; }

# libvirtd and virtlogd with vdesk's hook in place before libvirtd starts.
host_start_libvirt() {
        need_cmd libvirtd virtlogd virsh qemu-system-x86_64 dnsmasq
        getent group kvm >/dev/null || groupadd -r kvm
        getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
        getent passwd libvirt-qemu >/dev/null ||
                useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
        getent group libvirt >/dev/null || groupadd -r libvirt
        # Without systemd and cgroup delegation QEMU runs as root, unconfined:
        # the test host's own qemu.conf, in its /etc/libvirt (_host_mounts
        # binds $T/etc/libvirt there), never the package's.
        cat >"$T/etc/libvirt/qemu.conf" <<X
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
namespaces = [ ]
cgroup_controllers = [ ]
X
        ln -sf "$VDESK_BUILD/hooks/vdesk-qemu-hook" /etc/libvirt/hooks/qemu.d/50-vdesk
        virtlogd -d -p /run/virtlogd.pid
        wait_until 10 test -S /run/libvirt/virtlogd-sock || die "virtlogd did not start"
        _pids+=("$(cat /run/virtlogd.pid)")
        libvirtd -d -p /run/libvirtd.pid
        wait_until 20 virsh -c qemu:///system version >/dev/null || die "libvirtd did not start"
        _pids+=("$(cat /run/libvirtd.pid)")
        # Domains die with the namespace's libvirtd only if destroyed first.
        cleanup_push 'for d in $(virsh -c qemu:///system list --name); do virsh -c qemu:///system destroy $d; done'
}

# All of a host's system services, in the order they depend on each other.
host_start_stack() {
        host_start_journal
        host_start_bus
        host_start_polkit
        host_start_mariadb
        host_start_libvirt
}

# The vdesk configuration of the private host; extra lines on stdin.
host_write_config() {
        mkdir -p "$T/templates" "$T/disks" "$T/isos"
        {
                echo "[Images]"
                echo "TemplateDir=$T/templates"
                echo "DiskDir=$T/disks"
                echo "IsoDir=$T/isos"
                echo "[Database]"
                echo "Socket=$T/db/mysqld.sock"
                # KVM, where there is one, may be nested and broken: the
                # tests do not depend on it.
                echo "[Desktop]"
                echo "Accelerator=tcg"
                cat
        } >/etc/vdesk/vdesk.conf
}

host_start_vdesk() {
        bg netd "$VDESK_BUILD/src/netd/vdesk-netd" --ruleset="$VDESK_SRC/nft/vdesk.nft"
        bg imaged "$VDESK_BUILD/src/imaged/vdesk-imaged"
        wait_until 10 bus_has_name org.vdesk.network1 || die "netd did not start: $(cat "$T/netd.log")"
        wait_until 10 bus_has_name org.vdesk.images1 || die "imaged did not start: $(cat "$T/imaged.log")"
        bg brokerd "$VDESK_BUILD/src/brokerd/vdesk-brokerd" --sql-dir="$VDESK_SRC/sql"
        wait_until 20 bus_has_name org.vdesk.broker1 || die "brokerd did not start: $(cat "$T/brokerd.log")"
        host_start_directory
}

host_start_directory() {
        bg directoryd "$VDESK_BUILD/src/directoryd/vdesk-directoryd" --sql-dir="$VDESK_SRC/sql"
        wait_until 20 bus_has_name org.vdesk.directory1 || die "directoryd did not start: $(cat "$T/directoryd.log")"
}

# host_start_portal ADDRESS: vdesk-portald on ADDRESS:443 over HTTPS (call
# after host_write_config): a self-signed certificate for ADDRESS made as
# an admin makes one (tools/portal-cert, the key 0640) in the host's
# /etc/vdesk/portal, named in its vdesk.conf. PORTAL_CERT is the
# certificate, PORTAL_URL the portal.
host_start_portal() {
        local addr=$1
        need_cmd openssl
        PORTAL_CERT=/etc/vdesk/portal/cert.pem
        PORTAL_URL=https://$addr
        VDESK_PORTAL_DIR=/etc/vdesk/portal "$VDESK_SRC/tools/portal-cert" "$addr" >"$T/portal-cert.log" 2>&1 ||
                die "cannot make the portal's certificate: $(cat "$T/portal-cert.log")"
        printf '[Portal]\nListen=%s:443\nCertificate=%s\nKey=/etc/vdesk/portal/key.pem\n' "$addr" "$PORTAL_CERT" \
                >>/etc/vdesk/vdesk.conf
        bg portald "$VDESK_BUILD/src/portald/vdesk-portald" --data-dir="$VDESK_BUILD/src/portald"
        wait_until 10 bash -c "ss -Hltn 'sport = :443' | grep -q LISTEN" ||
                die "vdesk-portald did not start: $(cat "$T/portald.log")"
}

dir_call() { local m=$1; shift; busctl --system call org.vdesk.directory1 /org/vdesk/directory1 org.vdesk.directory1.Manager "$m" "$@"; }
# vdeskctl as the admin (root; polkit never asked to prompt), and as a
# staff member (uid 1, the session token in $TOKEN)
ctl() { "$VDESK_BUILD/src/vdeskctl/vdeskctl" --no-ask-password "$@"; }
staff() { setpriv --reuid=1 --regid=1 --clear-groups env VDESK_TOKEN="${TOKEN:-}" "$VDESK_BUILD/src/vdeskctl/vdeskctl" "$@"; }

# The tests that boot the tiny guest need its kernel.
need_guest_kernel() {
        [ -d "${VDESK_KERNEL_DIR:-/var/cache/vdesk/kernel}/boot" ] || skip "no guest kernel: run tools/install-packages"
}

# A private host ready to boot desktops: the guest's tools and kernel, the
# stack and vdesk, with ten RDP ports from 50000 and 120 s to open a
# desktop; more configuration on stdin.
host_start_desktops() {
        need_cmd jq nft qemu-img mkfs.fat mcopy syslinux busybox
        need_guest_kernel
        host_start_stack
        { printf '[Forward]\nPortMin=50000\nPortMax=50009\n[Desktop]\nOpenTimeoutSec=120\n'; cat; } | host_write_config
        host_start_vdesk
}

broker_call() { local m=$1; shift; busctl --system call org.vdesk.broker1 /org/vdesk/broker1 org.vdesk.broker1.Manager "$m" "$@"; }
broker_json() { local m=$1; shift; busctl --system --json=short call org.vdesk.broker1 /org/vdesk/broker1 org.vdesk.broker1.Manager "$m" "$@"; }

# refused DESCRIPTION ERROR-NAME TEXT METHOD ARGS...: the broker call
# (dbus-send, which prints the error's name) fails with that D-Bus error
# name and a message naming the field, and the test's state() prints the
# same before and after. ARGS are dbus-send's: string:..., boolean:...
refused() {
        local what=$1 name=$2 text=$3 method=$4; shift 4
        local before after out
        before=$(state)
        out=$(dbus-send --system --print-reply --dest=org.vdesk.broker1 /org/vdesk/broker1 \
                "org.vdesk.broker1.Manager.$method" "$@" 2>&1) && { check "$what: unexpectedly succeeded" false; return; }
        after=$(state)
        check "$what: $name, '$text'" grep -qF "Error $name: " <<<"$out"
        check "  ... the message says '$text' ($out)" grep -qF "$text" <<<"$out"
        check "  ... nothing changed" test "$before" = "$after"
}
