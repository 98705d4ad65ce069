#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdesk-imaged with the real qemu-img on a private bus; disks checked with
# `qemu-img info` and `qemu-img check`.
. "$VDESK_SRC/tests/lib/harness.sh"
need_cmd qemu-img jq busctl dbus-daemon

start_bus
write_config "$T/vdesk.conf" </dev/null
# what an imaged stopped while making files left behind, and hidden files
# that are none of its
mkdir -p "$T/templates/old"
touch "$T/templates/old/.2.qcow2.4242.0.tmp" "$T/disks/.bob.qcow2.4242.7.tmp" \
        "$T/templates/old/.keep" "$T/templates/old/.x.tmp" "$T/disks/.a.1.tmp"
bg imaged env VDESK_CONFIG="$T/vdesk.conf" "$VDESK_BUILD/src/imaged/vdesk-imaged"
wait_until 10 bus_has_name org.vdesk.images1 || die "imaged did not start: $(cat "$T/imaged.log")"

check "imaged removed the temporary files an earlier one left" \
        test ! -e "$T/templates/old/.2.qcow2.4242.0.tmp" -a ! -e "$T/disks/.bob.qcow2.4242.7.tmp"
check "... and no other file" test -e "$T/templates/old/.keep" -a -e "$T/templates/old/.x.tmp" -a -e "$T/disks/.a.1.tmp"
rm -r "$T/templates/old" "$T/disks/.a.1.tmp"

qemu-img create -q -f raw "$T/templates/base.img" 64M
qemu-img create -q -f qcow2 "$T/templates/base2.qcow2" 64M
D=$T/disks

check "EnsureDisk creates an overlay" \
        test "$(imaged_call EnsureDisk ssss alice "$D/alice.qcow2" "$T/templates/base.img" raw)" = "b true"
info=$(qemu-img info --output=json "$D/alice.qcow2")
check "it is qcow2" test "$(jq -r .format <<<"$info")" = qcow2
check "backed by the template" test "$(jq -r '."backing-filename"' <<<"$info")" = "$T/templates/base.img"
check "with the template's format" test "$(jq -r '."backing-filename-format"' <<<"$info")" = raw
check "qemu-img check passes" qemu-img check -q "$D/alice.qcow2"
check "no temporary file is left" test "$(ls -A "$D" | tr '\n' ' ')" = "alice.qcow2 "
check "the disk is private (0600)" test "$(stat -c %a "$D/alice.qcow2")" = 600
check "EnsureDisk again adopts it" \
        test "$(imaged_call EnsureDisk ssss alice "$D/alice.qcow2" "$T/templates/base.img" raw)" = "b false"
sum=$(md5sum <"$D/alice.qcow2")
check "the same path on another template: BackingMismatch" \
        fails_with "is not an overlay of" imaged_call EnsureDisk ssss alice "$D/alice.qcow2" "$T/templates/base2.qcow2" qcow2
check "... and the disk is untouched" test "$(md5sum <"$D/alice.qcow2")" = "$sum"
check "a qcow2 template" \
        test "$(imaged_call EnsureDisk ssss bob "$D/bob.qcow2" "$T/templates/base2.qcow2" qcow2)" = "b true"
check "... is recorded as qcow2 backing" \
        test "$(qemu-img info --output=json "$D/bob.qcow2" | jq -r '."backing-filename-format"')" = qcow2

# bad input: named errors, no file anywhere
ls -A "$D" >"$T/before"
check "disk outside DiskDir" fails_with "is not inside the disk directory" \
        imaged_call EnsureDisk ssss x /tmp/x.qcow2 "$T/templates/base.img" raw
check "disk path with .." fails_with "is not a normalized absolute path" \
        imaged_call EnsureDisk ssss x "$D/../x.qcow2" "$T/templates/base.img" raw
check "template outside TemplateDir" fails_with "is not inside the template directory" \
        imaged_call EnsureDisk ssss x "$D/x.qcow2" /etc/passwd raw
ln -s /etc/passwd "$T/templates/evil.img"
check "template symlink leading out" fails_with "resolves to a file outside the template directory" \
        imaged_call EnsureDisk ssss x "$D/x.qcow2" "$T/templates/evil.img" raw
check "missing template" fails_with "does not exist" \
        imaged_call EnsureDisk ssss x "$D/x.qcow2" "$T/templates/none.img" raw
check "desktop name with shell metacharacters" fails_with "Invalid desktop" \
        imaged_call EnsureDisk ssss 'x$(reboot)' "$D/x.qcow2" "$T/templates/base.img" raw
check "a template format imaged does not know" fails_with "Invalid template_format: 'vmdk'" \
        imaged_call EnsureDisk ssss x "$D/x.qcow2" "$T/templates/base.img" vmdk
check "no template format: imaged reads none from the file" fails_with "Invalid template_format: ''" \
        imaged_call EnsureDisk ssss x "$D/x.qcow2" "$T/templates/base.img" ""
check "nothing was created by the refused calls" cmp -s "$T/before" <(ls -A "$D")

# a template that is no image qemu can use: named, nothing is left
printf 'QFI\xfbgarbage' >"$T/templates/broken.qcow2"
check "a broken qcow2 template is named" fails_with "is not a disk image qemu can use" \
        imaged_call EnsureDisk ssss x "$D/x.qcow2" "$T/templates/broken.qcow2" qcow2
check "... and no file is left" cmp -s "$T/before" <(ls -A "$D")

check "DeleteDisk" imaged_call DeleteDisk ss bob "$D/bob.qcow2"
check "DeleteDisk again: NoSuchDisk" fails_with "No disk" imaged_call DeleteDisk ss bob "$D/bob.qcow2"
check "DeleteDisk outside DiskDir refused" fails_with "is not inside the disk directory" \
        imaged_call DeleteDisk ss x "$T/templates/base.img"
check "the template is still there" test -f "$T/templates/base.img"

# concurrent ensures of one disk: one creates it, the other adopts it
callers=()
for i in 1 2 3 4; do
        imaged_call EnsureDisk ssss carol "$D/carol.qcow2" "$T/templates/base.img" raw >"$T/par$i" &
        callers+=($!)
done
wait "${callers[@]}"
check "four concurrent EnsureDisk: exactly one created" test "$(cat "$T"/par? | sort | tr '\n' ' ')" = "b false b false b false b true "
check "... and the disk is sound" qemu-img check -q "$D/carol.qcow2"

# ---- a raw template whose guest wrote a qcow2 header ---------------------
# Its first sector is the guest's: a qcow2 header naming /etc/shadow as its
# backing file. Read as qcow2 (its format probed), every desktop on it
# would read /etc/shadow; imaged takes the format it is told.
chain_of() { qemu-img info --backing-chain --output=json -f qcow2 "$1"; }
qemu-img create -q -f raw "$T/templates/guest.img" 64M
qemu-img create -q -f qcow2 -b /etc/shadow -F raw "$T/header.qcow2" 1G
dd if="$T/header.qcow2" of="$T/templates/guest.img" conv=notrunc status=none
check "the template's first sector reads as a qcow2 header naming /etc/shadow" \
        test "$(qemu-img info --output=json "$T/templates/guest.img" | jq -r '"\(.format) \(."backing-filename")"')" = "qcow2 /etc/shadow"
check "EnsureDisk on it, told raw, creates an overlay" \
        test "$(imaged_call EnsureDisk ssss erin "$D/erin.qcow2" "$T/templates/guest.img" raw)" = "b true"
info=$(qemu-img info --output=json -f qcow2 "$D/erin.qcow2")
check "... whose header names the backing format raw" test "$(jq -r '."backing-filename-format"' <<<"$info")" = raw
check "... of the template's size as a file, not its header's" test "$(jq -r '."virtual-size"' <<<"$info")" = 67108864
chain_of "$D/erin.qcow2" >"$T/erin-chain.json"
check "... its chain is the overlay and the template read as raw" \
        test "$(jq -r '[.[] | "\(.filename) \(.format)"] | join(", ")' "$T/erin-chain.json")" = "$D/erin.qcow2 qcow2, $T/templates/guest.img raw"
check "... and never names /etc/shadow" not grep -q /etc/shadow "$T/erin-chain.json"
check "... a read through it gives the template's bytes, header and all" \
        bash -c "qemu-io -r -f qcow2 -c 'read -v 0 4' '$D/erin.qcow2' | grep -q '^00000000:  51 46 49 fb'"
# an overlay made by probing it (backing format qcow2) is not adopted
qemu-img create -q -f qcow2 -u -b "$T/templates/guest.img" -F qcow2 "$D/frank.qcow2" 1G
sum=$(md5sum <"$D/frank.qcow2")
check "an overlay of it that reads it as qcow2: BackingMismatch" \
        fails_with "is not an overlay of '$T/templates/guest.img' (raw)" \
        imaged_call EnsureDisk ssss frank "$D/frank.qcow2" "$T/templates/guest.img" raw
check "... left as it is" test "$(md5sum <"$D/frank.qcow2")" = "$sum"
check "ReplaceDisk gives it a disk on the template as raw" \
        imaged_call ReplaceDisk ssss frank "$D/frank.qcow2" "$T/templates/guest.img" raw
check "... whose chain never names /etc/shadow" chain_without /etc/shadow "$D/frank.qcow2"
check "... (the template read as raw)" \
        test "$(qemu-img info --output=json -f qcow2 "$D/frank.qcow2" | jq -r '."backing-filename-format"')" = raw
check "told qcow2, the same file is no template (it has a backing file of its own)" \
        fails_with "is not a disk image qemu can use" \
        imaged_call EnsureDisk ssss gina "$D/gina.qcow2" "$T/templates/guest.img" qcow2
check "... and no disk is made" test ! -e "$D/gina.qcow2"
imaged_call DeleteDisk ss erin "$D/erin.qcow2" >/dev/null
imaged_call DeleteDisk ss frank "$D/frank.qcow2" >/dev/null

# ---- templates: versions, edits, commits, with the real qemu-img ----------
TD=$T/templates
chain() { qemu-img info --backing-chain --output=json "$1" | jq -r '[.[].filename] | join(" -> ")'; }
path_of() { sed -n 's/^s "\(.*\)"$/\1/p'; }

ls -AR "$TD" >"$T/tbefore"
check "CreateTemplateDisk: a name with /" fails_with "Invalid template" imaged_call CreateTemplateDisk sst 'a/b' qcow2 1073741824
check "CreateTemplateDisk: a name with .." fails_with "Invalid template" imaged_call CreateTemplateDisk sst 'a..b' qcow2 1073741824
check "CreateTemplateDisk: an empty name" fails_with "Invalid template: is empty" imaged_call CreateTemplateDisk sst '' qcow2 1073741824
check "CreateTemplateDisk: size 0" fails_with "Invalid size" imaged_call CreateTemplateDisk sst win qcow2 0
check "CreateTemplateDisk: an odd size" fails_with "Invalid size" imaged_call CreateTemplateDisk sst win qcow2 1000
check "CreateTemplateDisk: more than qcow2 can map" fails_with "Invalid size" \
        imaged_call CreateTemplateDisk sst big qcow2 9223372036854775296
check "CreateTemplateDisk: format vmdk" fails_with "Invalid format" imaged_call CreateTemplateDisk sst win vmdk 1073741824
check "... none of them made a file" cmp -s "$T/tbefore" <(ls -AR "$TD")

V1=$(imaged_call CreateTemplateDisk sst win qcow2 1073741824 | path_of)
check "a template's first version is TemplateDir/<name>/1.qcow2" test "$V1" = "$TD/win/1.qcow2"
check "... qcow2 of 1 GiB without backing" \
        test "$(qemu-img info --output=json "$V1" | jq -r '"\(.format) \(."virtual-size") \(."backing-filename")"')" = "qcow2 1073741824 null"
check "... qemu-img check passes" qemu-img check -q "$V1"
check "a second build of the name: TemplateExists" fails_with "has files" \
        imaged_call CreateTemplateDisk sst win qcow2 1073741824
# the "installation": data written into version 1
qemu-io -c 'write -P 0x11 0 1M' "$V1" >/dev/null

check "a desktop on version 1" test "$(imaged_call EnsureDisk ssss d1 "$D/d1.qcow2" "$V1" qcow2)" = "b true"
qemu-io -c 'write -P 0xd1 4M 1M' "$D/d1.qcow2" >/dev/null
check "... its chain is d1 -> version 1" test "$(chain "$D/d1.qcow2")" = "$D/d1.qcow2 -> $V1"

check "CommitTemplateEdit with no edit open: NoEdit" fails_with "has no edit to commit" \
        imaged_call CommitTemplateEdit sus win 2 qcow2
check "DiscardTemplateEdit with no edit open: NoEdit" fails_with "has no edit to discard" \
        imaged_call DiscardTemplateEdit s win
E=$(imaged_call BeginTemplateEdit sss win "$V1" qcow2 | path_of)
check "an edit is an overlay on version 1" test "$(chain "$E")" = "$E -> $V1"
check "an edit overlay is no template a desktop may use" fails_with "edit overlay" \
        imaged_call EnsureDisk ssss d9 "$D/d9.qcow2" "$E" qcow2
qemu-io -c 'write -P 0x22 1M 1M' "$E" >/dev/null
sum_v1=$(md5sum <"$V1")
V2=$(busctl --system --timeout=600 call org.vdesk.images1 /org/vdesk/images1 org.vdesk.images1.Manager \
        CommitTemplateEdit sus win 2 qcow2 | path_of)
check "a commit makes version 2 as a new file" test "$V2" = "$TD/win/2.qcow2"
check "... flattened: no backing file" test "$(chain "$V2")" = "$V2"
check "... holding the install and the edit" \
        qemu-io -c 'read -P 0x11 0 1M' -c 'read -P 0x22 1M 1M' "$V2"
check "... qemu-img check passes on it" qemu-img check -q "$V2"
check "... the edit overlay is gone" test ! -e "$E"
check "version 1 is untouched by the commit" test "$(md5sum <"$V1")" = "$sum_v1"
check "the desktop on version 1 is still valid" qemu-img check -q "$D/d1.qcow2"
check "... still on version 1" test "$(chain "$D/d1.qcow2")" = "$D/d1.qcow2 -> $V1"
check "... and reads its own data over version 1's" \
        qemu-io -c 'read -P 0x11 0 1M' -c 'read -P 0 1M 1M' -c 'read -P 0xd1 4M 1M' "$D/d1.qcow2"
imaged_call BeginTemplateEdit sss win "$V2" qcow2 >/dev/null
check "a commit to an existing version: TemplateExists" fails_with "exists already" \
        imaged_call CommitTemplateEdit sus win 2 qcow2
check "... the edit on version 2 is kept" test "$(chain "$TD/win/edit.qcow2")" = "$TD/win/edit.qcow2 -> $V2"
check "DiscardTemplateEdit drops the open edit" imaged_call DiscardTemplateEdit s win
check "... and its file" test ! -e "$TD/win/edit.qcow2"

# A commit asked again (its caller went away before the answer, e.g. a
# restarted brokerd resuming it) is answered with the version made.
sum_v2=$(md5sum <"$V2")
check "committing version 2 again: made already, the same file" \
        test "$(imaged_call CommitTemplateEdit sus win 2 qcow2 | path_of)" = "$V2"
# cut short between the new version's rename and the overlay's removal
imaged_call BeginTemplateEdit sss win "$V1" qcow2 >/dev/null
check "... also with the edit overlay on version 1 left over" \
        test "$(imaged_call CommitTemplateEdit sus win 2 qcow2 | path_of)" = "$V2"
check "... which is removed" test ! -e "$TD/win/edit.qcow2"
check "... version 2 untouched by either" test "$(md5sum <"$V2")" = "$sum_v2"

# Two callers of one commit in flight get one answer; the flattening is
# held (SIGSTOP) so that both calls come while it runs (the edit is large
# enough for qemu-img to be caught running).
E=$(imaged_call BeginTemplateEdit sss win "$V2" qcow2 | path_of)
qemu-io -c 'write -P 0x33 2M 512M' "$E" >/dev/null
busctl --system --timeout=600 call org.vdesk.images1 /org/vdesk/images1 org.vdesk.images1.Manager \
        CommitTemplateEdit sus win 3 qcow2 >"$T/c1" 2>&1 &
c1=$!
wait_until 10 pgrep -f "qemu-img convert .*$TD/win/edit.qcow2" >/dev/null
convert=$(pgrep -f "qemu-img convert .*$TD/win/edit.qcow2")
check "the commit of version 3 runs qemu-img" test -n "$convert"
kill -STOP $convert
busctl --system --timeout=600 call org.vdesk.images1 /org/vdesk/images1 org.vdesk.images1.Manager \
        CommitTemplateEdit sus win 3 qcow2 >"$T/c2" 2>&1 &
c2=$!
check "another version while it runs: TemplateBusy" fails_with "is being committed as version 3" \
        imaged_call CommitTemplateEdit sus win 4 qcow2
sleep 0.5
check "... the second caller of version 3 waits with the first" kill -0 $c2
check "... one qemu-img for both" test "$(pgrep -fc "qemu-img convert .*$TD/win/edit.qcow2")" = 1
kill -CONT $convert
wait $c1 $c2
check "both callers are answered with version 3" \
        test "$(path_of <"$T/c1") $(path_of <"$T/c2")" = "$TD/win/3.qcow2 $TD/win/3.qcow2"
check "... which holds the edit" qemu-io -c 'read -P 0x33 2M 1M' -c 'read -P 0x22 1M 1M' "$TD/win/3.qcow2"
check "... no temporary file is left" test -z "$(ls -A "$TD/win" | grep '^\.')"

sum_d1=$(md5sum <"$D/d1.qcow2")
check "ReplaceDisk outside DiskDir: refused" fails_with "is not inside the disk directory" \
        imaged_call ReplaceDisk ssss d1 /etc/d1.qcow2 "$V2" qcow2
check "ReplaceDisk onto a file outside TemplateDir: refused" fails_with "is not inside the template directory" \
        imaged_call ReplaceDisk ssss d1 "$D/d1.qcow2" /etc/passwd raw
check "ReplaceDisk with a bad desktop name: refused" fails_with "Invalid desktop" \
        imaged_call ReplaceDisk ssss 'd1;x' "$D/d1.qcow2" "$V2" qcow2
check "... d1's disk is untouched by them" test "$(md5sum <"$D/d1.qcow2")" = "$sum_d1"
check "ReplaceDisk re-issues d1 on version 2" imaged_call ReplaceDisk ssss d1 "$D/d1.qcow2" "$V2" qcow2
check "... its chain is d1 -> version 2" test "$(chain "$D/d1.qcow2")" = "$D/d1.qcow2 -> $V2"
check "... and it is a fresh disk" qemu-io -c 'read -P 0 4M 1M' -c 'read -P 0x22 1M 1M' "$D/d1.qcow2"
check "RemoveTemplateFile of a file outside the template: refused" fails_with "is not a version file" \
        imaged_call RemoveTemplateFile ss win "$T/templates/base.img"
check "... which is still there" test -f "$T/templates/base.img"
check "RemoveTemplateFile of version 1" imaged_call RemoveTemplateFile ss win "$V1"
check "... gone, version 2 kept" test ! -e "$V1" -a -f "$V2"

# A raw template built by a guest that wrote the qcow2 header into its
# first sector: its edit reads it as raw, and the commit's qemu-img too,
# so the new version holds the guest's bytes, not /etc/shadow's.
R1=$(imaged_call CreateTemplateDisk sst lin raw 67108864 | path_of)
check "a raw template's first version is TemplateDir/<name>/1.raw" test "$R1" = "$TD/lin/1.raw"
dd if="$T/header.qcow2" of="$R1" conv=notrunc status=none
check "... its guest wrote a qcow2 header naming /etc/shadow" \
        test "$(qemu-img info --output=json "$R1" | jq -r '."backing-filename"')" = /etc/shadow
RE=$(imaged_call BeginTemplateEdit sss lin "$R1" raw | path_of)
check "its edit overlay reads it as raw" \
        test "$(qemu-img info --output=json -f qcow2 "$RE" | jq -r '"\(."backing-filename") \(."backing-filename-format")"')" = "$R1 raw"
check "... and its chain never names /etc/shadow" chain_without /etc/shadow "$RE"
qemu-io -f qcow2 -c 'write -P 0x44 1M 1M' "$RE" >/dev/null
R2=$(busctl --system --timeout=600 call org.vdesk.images1 /org/vdesk/images1 org.vdesk.images1.Manager \
        CommitTemplateEdit sus lin 2 raw | path_of)
check "the commit makes version 2 as TemplateDir/<name>/2.raw" test "$R2" = "$TD/lin/2.raw"
check "... holding version 1's bytes as raw (the header) and the edit" \
        bash -c "cmp -s -n 1048576 '$R1' '$R2' && qemu-io -r -f raw -c 'read -P 0x44 1M 1M' '$R2' >/dev/null"
check "... of version 1's size" test "$(stat -c %s "$R2")" = 67108864

finish
