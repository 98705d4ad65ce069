#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# segments.sh with VLAN segments. Where this kernel has no 802.1Q (it is a
# module, and this host may load none), the test runs in a throwaway QEMU
# guest booting Debian's generic kernel over this machine's own root file
# system (tests/lib/vm-run): the same test and the same binaries.
set -u
: "${VDESK_SRC:?}" "${VDESK_BUILD:?}"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces, nftables)" >&2; exit 77; }
ns=vdvl-probe-$$
ip netns add $ns || { echo "FAIL: cannot create a network namespace" >&2; exit 1; }
ip -n $ns link add vdvl-p0 type veth peer name vdvl-p1 &&
        ip -n $ns link add link vdvl-p0 name vdvl-p0.7 type vlan id 7 2>/dev/null
have=$?
ip netns del $ns
if [ $have = 0 ]; then
        echo "# this kernel has 802.1Q: the test runs here"
        exec env VDESK_SEGMENT=vlan "$VDESK_SRC/tests/integration/segments.sh"
fi
echo "# this kernel has no 802.1Q: the test runs in a VM (tests/lib/vm-run)"
exec "$VDESK_SRC/tests/lib/vm-run" env VDESK_SEGMENT=vlan VDESK_SRC="$VDESK_SRC" VDESK_BUILD="$VDESK_BUILD" \
        "$VDESK_SRC/tests/integration/segments.sh"
