#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The system suite: vdesk installed from the build tree as a package would
# install it (meson install into a staging directory) on a host whose PID 1
# is systemd: a throwaway QEMU guest over this machine's root file system
# (tests/lib/systemd-guest), where MariaDB, libvirtd, virtlogd, polkitd,
# dbus and journald run as Debian's units. tests/system/in-guest.sh checks,
# there: the units started by systemctl and by D-Bus activation, each as its
# own user with its capabilities, readiness, restart after kill -9, the
# watchdog, clean stops, the journal with its catalog, polkit, the quick
# start's demo desktop reached from a client namespace, and each unit's
# systemd-analyze security exposure.
. "$VDESK_SRC/tests/lib/harness.sh"
need_root
need_cmd qemu-system-x86_64 meson busybox cpio
ls /var/cache/vdesk/kernel/lib/modules/*/kernel >/dev/null 2>&1 ||
        skip "needs the desktop guest's kernel (tools/install-packages)"
ls "${VDESK_VM_KERNEL_DIR:-/var/cache/vdesk/kernel-generic}"/lib/modules/*/kernel >/dev/null 2>&1 ||
        skip "needs Debian's generic kernel for the guest (tools/install-packages)"

share=$T/share out=$T/out
mkdir -p "$share/src/tests" "$out"
meson install -C "$VDESK_BUILD" --destdir "$share/root" --quiet >"$T/install.log" 2>&1 ||
        die "meson install failed: $(tail -n 20 "$T/install.log")"
cp -r "$VDESK_SRC/tools" "$share/src/"
cp -r "$VDESK_SRC/tests/guest" "$share/src/tests/"
"$VDESK_SRC/tests/guest/build-template" "$share/demo.img" >"$T/template.log" 2>&1 ||
        die "the test template could not be built: $(tail -n 20 "$T/template.log")"

"$VDESK_SRC/tests/lib/systemd-guest" -m 4096 -t 1500 -s "$share" -o "$out" "$VDESK_SRC/tests/system/in-guest.sh"
rc=$?
# what the guest wrote back, for whoever reads a failure
art=$VDESK_BUILD/test-artifacts/system
mkdir -p "$art" && cp "$out"/* "$art/" 2>/dev/null
[ $rc = 77 ] && skip "the guest could not be booted"
[ $rc = 0 ] || die "checks failed in the systemd guest (exit $rc); its journal: $art/journal.txt"
echo "all checks passed in the systemd guest"
