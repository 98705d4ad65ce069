#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdesk-imaged with the real qemu-img on a private bus; disks checked with
# `qemu-img info` and `qemu-img check`.
. "$VDESK_SRC/tests/lib/harness.sh"
need_cmd qemu-img jq busctl dbus-daemon

start_bus
write_config "$T/vdesk.conf" </dev/null
bg imaged env VDESK_CONFIG="$T/vdesk.conf" "$VDESK_BUILD/src/imaged/vdesk-imaged"
wait_until 10 bus_has_name org.vdesk.images1 || die "imaged did not start: $(cat "$T/imaged.log")"

qemu-img create -q -f raw "$T/templates/base.img" 64M
qemu-img create -q -f qcow2 "$T/templates/base2.qcow2" 64M
D=$T/disks

check "EnsureDisk creates an overlay" \
        test "$(imaged_call EnsureDisk sss alice "$D/alice.qcow2" "$T/templates/base.img")" = "b true"
info=$(qemu-img info --output=json "$D/alice.qcow2")
check "it is qcow2" test "$(jq -r .format <<<"$info")" = qcow2
check "backed by the template" test "$(jq -r '."backing-filename"' <<<"$info")" = "$T/templates/base.img"
check "with the template's format" test "$(jq -r '."backing-filename-format"' <<<"$info")" = raw
check "qemu-img check passes" qemu-img check -q "$D/alice.qcow2"
check "no temporary file is left" test "$(ls -A "$D" | tr '\n' ' ')" = "alice.qcow2 "
check "the disk is private (0600)" test "$(stat -c %a "$D/alice.qcow2")" = 600
check "EnsureDisk again adopts it" \
        test "$(imaged_call EnsureDisk sss alice "$D/alice.qcow2" "$T/templates/base.img")" = "b false"
sum=$(md5sum <"$D/alice.qcow2")
check "the same path on another template: BackingMismatch" \
        fails_with "is not an overlay of" imaged_call EnsureDisk sss alice "$D/alice.qcow2" "$T/templates/base2.qcow2"
check "... and the disk is untouched" test "$(md5sum <"$D/alice.qcow2")" = "$sum"
check "a qcow2 template" \
        test "$(imaged_call EnsureDisk sss bob "$D/bob.qcow2" "$T/templates/base2.qcow2")" = "b true"
check "... is recorded as qcow2 backing" \
        test "$(qemu-img info --output=json "$D/bob.qcow2" | jq -r '."backing-filename-format"')" = qcow2

# bad input: named errors, no file anywhere
ls -A "$D" >"$T/before"
check "disk outside DiskDir" fails_with "is not inside the disk directory" \
        imaged_call EnsureDisk sss x /tmp/x.qcow2 "$T/templates/base.img"
check "disk path with .." fails_with "is not a normalized absolute path" \
        imaged_call EnsureDisk sss x "$D/../x.qcow2" "$T/templates/base.img"
check "template outside TemplateDir" fails_with "is not inside the template directory" \
        imaged_call EnsureDisk sss x "$D/x.qcow2" /etc/passwd
ln -s /etc/passwd "$T/templates/evil.img"
check "template symlink leading out" fails_with "resolves to a file outside the template directory" \
        imaged_call EnsureDisk sss x "$D/x.qcow2" "$T/templates/evil.img"
check "missing template" fails_with "does not exist" \
        imaged_call EnsureDisk sss x "$D/x.qcow2" "$T/templates/none.img"
check "desktop name with shell metacharacters" fails_with "Invalid desktop" \
        imaged_call EnsureDisk sss 'x$(reboot)' "$D/x.qcow2" "$T/templates/base.img"
check "nothing was created by the refused calls" cmp -s "$T/before" <(ls -A "$D")

# a template qemu-img cannot use: its message comes back, nothing is left
printf 'QFI\xfbgarbage' >"$T/templates/broken.qcow2"
check "qemu-img's failure is reported" fails_with "qemu-img failed" \
        imaged_call EnsureDisk sss x "$D/x.qcow2" "$T/templates/broken.qcow2"
check "... and no file is left" cmp -s "$T/before" <(ls -A "$D")

check "DeleteDisk" imaged_call DeleteDisk ss bob "$D/bob.qcow2"
check "DeleteDisk again: NoSuchDisk" fails_with "No disk" imaged_call DeleteDisk ss bob "$D/bob.qcow2"
check "DeleteDisk outside DiskDir refused" fails_with "is not inside the disk directory" \
        imaged_call DeleteDisk ss x "$T/templates/base.img"
check "the template is still there" test -f "$T/templates/base.img"

# concurrent ensures of one disk: one creates it, the other adopts it
callers=()
for i in 1 2 3 4; do
        imaged_call EnsureDisk sss carol "$D/carol.qcow2" "$T/templates/base.img" >"$T/par$i" &
        callers+=($!)
done
wait "${callers[@]}"
check "four concurrent EnsureDisk: exactly one created" test "$(cat "$T"/par? | sort | tr '\n' ' ')" = "b false b false b false b true "
check "... and the disk is sound" qemu-img check -q "$D/carol.qcow2"

finish
