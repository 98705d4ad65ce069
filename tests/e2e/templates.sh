#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A template's whole life on a private host with real libvirtd, QEMU
# (software emulation), MariaDB and polkitd: an installer ISO (built here
# from the test guest) is catalogued by itself; the template is built from
# it in a domain an admin watches over SPICE (remote-viewer under Xvfb, on
# "another machine", with the one-time ticket; a screenshot is kept); used,
# wrong and expired tickets are refused; the template is finished, a desktop
# derives from version 1; an edit is committed as version 2 while that
# desktop runs, and the desktop still boots; new desktops derive from
# version 2; re-issue, prune, delete. Every bad input is a named error that
# changes nothing. The admin's steps go through vdeskctl where it has a
# verb, the refusals through busctl.
. "$VDESK_SRC/tests/lib/harness.sh"
. "$VDESK_SRC/tests/lib/host.sh"
host_enter "$@"
need_cmd jq qemu-img xmllint xorriso busybox mcopy syslinux remote-viewer Xvfb xwd dbus-send
[ -f /usr/lib/ISOLINUX/isolinux.bin ] || skip "no isolinux: run tools/install-packages"
need_guest_kernel

ART=${VDESK_ARTIFACTS:-$VDESK_BUILD/test-artifacts}
mkdir -p "$ART"
host_start_stack
host_write_config <<X
[Forward]
PortMin=50000
PortMax=50009
[Desktop]
OpenTimeoutSec=120
[Images]
MaxTemplateGiB=4
ConsoleTicketSec=15
X
host_start_vdesk
LOGDIR=/var/log/vdesk/console
QLOG=/var/log/libvirt/qemu

# a client on "another machine", and a screen for it
C=vdc-$$
netns_add $C
veth_pair - vdh-t0 10.78.0.1/24 $C vdh-t1 10.78.0.2/24
ip -n $C route add default via 10.78.0.1
bg xvfb Xvfb :57 -screen 0 1024x768x24 -nolisten tcp
wait_until 10 test -S /tmp/.X11-unix/X57 || die "Xvfb did not start: $(cat "$T/xvfb.log")"
# viewer NAME VVFILE: remote-viewer in the client's namespace
viewer() { bg "$1" ip netns exec $C env DISPLAY=:57 HOME="$T" remote-viewer --kiosk "$2"; }

state() {
        sql "SELECT name, state FROM templates ORDER BY name; SELECT template_id, version, path FROM template_versions ORDER BY path; SELECT name, registered FROM isos ORDER BY name"
        ls -AR "$T/templates"
        virsh list --all --name | sort
}
E=org.vdesk.Error
IA=org.freedesktop.DBus.Error.InvalidArgs

# ---- the ISO catalog ------------------------------------------------------
"$VDESK_SRC/tests/guest/build-iso" "$T/install.iso.part" >/dev/null 2>&1 || die "cannot build the installer ISO"
mv "$T/install.iso.part" "$T/isos/install.iso"
size=$(stat -c %s "$T/isos/install.iso")
isos() { broker_json ListIsos | jq -r '.data[0][] | "\(.[0]) \(.[1]) \(.[2])"'; }
check "an ISO moved into IsoDir is catalogued by itself" \
        wait_until 5 bash -c "[ \"\$(busctl --system --json=short call org.vdesk.broker1 /org/vdesk/broker1 org.vdesk.broker1.Manager ListIsos | jq -r '.data[0][] | \"\\(.[0]) \\(.[1]) \\(.[2])\"')\" = 'install.iso iso9660 $size' ]"
echo "not an image" >"$T/isos/notes.txt"
check "RefreshIsos: a text file is no ISO (0 added, 0 removed)" test "$(broker_call RefreshIsos)" = "uu 0 0"
check "vdeskctl isos lists it: name, format, size" \
        bash -c "$(declare -f ctl); ctl isos | grep -qE '^install.iso +iso9660 +[0-9.]+ [KM]iB +20[0-9]{2}-'"
check "vdeskctl refresh-isos" test "$(ctl refresh-isos)" = "0 ISOs added, 0 removed."
refused "RegisterIso of a text file" $E.NotAnIso "is no ISO 9660 or UDF image" RegisterIso string:notes.txt
refused "RegisterIso of a missing file" $E.NoSuchIso "no file 'nope.iso'" RegisterIso string:nope.iso
refused "RegisterIso of a path" $IA "Invalid name" RegisterIso string:../etc/passwd
cp "$T/isos/install.iso" "$T/isos/copy.iso"
check "a copied-in ISO appears" wait_until 5 bash -c "busctl --system call org.vdesk.broker1 /org/vdesk/broker1 org.vdesk.broker1.Manager ListIsos | grep -q copy.iso"
rm "$T/isos/copy.iso"
check "... and leaves when its file goes" wait_until 5 bash -c "! busctl --system call org.vdesk.broker1 /org/vdesk/broker1 org.vdesk.broker1.Manager ListIsos | grep -q copy.iso"
check "UnregisterIso" broker_call UnregisterIso s install.iso
check "... it is out of the list" test -z "$(isos)"
check "... the file stays" test -f "$T/isos/install.iso"
check "RefreshIsos does not bring it back" test "$(broker_call RefreshIsos)" = "uu 0 0"
refused "building from an unregistered ISO" $E.NoSuchIso "no registered ISO 'install.iso'" \
        CreateTemplate string:t1 int64:67108864 string:raw string:install.iso uint32:256 uint32:1 string: string:
check "vdeskctl register-iso brings it back" test "$(ctl register-iso install.iso)" = "Registered ISO install.iso."
check "... listed again" test "$(isos)" = "install.iso iso9660 $size"
check "the catalog's changes are in the journal" \
        test "$(journal_json MESSAGE_ID=$(mid MID_ISO_ADDED) | jq -r 'select(.VDESK_ISO == "install.iso") | .VDESK_ISO' | wc -l)" -ge 2

# ---- bad input: named errors, nothing made ----------------------------------
ct() { refused "$1" "$2" "$3" CreateTemplate "string:$4" "int64:$5" "string:${6:-raw}" "string:${7:-install.iso}" \
        "uint32:${8:-256}" uint32:1 string: string:; }
long=$(printf 'a%.0s' $(seq 64))
ct "template name with /" $IA "Invalid name: may hold only" 'a/b' 67108864
ct "template name with .." $IA "Invalid name: must not contain '..'" 'a..b' 67108864
ct "template name ../x" $IA "Invalid name: must start with" '../x' 67108864
ct "empty template name" $IA "Invalid name: is empty" '' 67108864
ct "64-byte template name" $IA "Invalid name: is longer than 63 bytes" "$long" 67108864
ct "size 0" $IA "Invalid size: 0 is not above 0" t1 0
ct "negative size" $IA "Invalid size: -1 is not above 0" t1 -1
ct "size beyond MaxTemplateGiB" $IA "beyond [Images] MaxTemplateGiB=4" t1 $((5 << 30))
ct "format vmdk" $IA "Invalid format" t1 67108864 vmdk
ct "unknown ISO" $E.NoSuchIso "no registered ISO 'nope.iso'" t1 67108864 raw nope.iso
ct "memory 1 MiB" $IA "Invalid memory_mib" t1 67108864 raw install.iso 1
refused "commit with no edit open" $E.NoSuchTemplate "no template 't1'" CommitTemplate string:t1 boolean:false
ct "an ISO name that is a path" $IA "Invalid iso: '../etc/passwd'" t1 67108864 raw ../etc/passwd
refused "a description with a line break" $IA "Invalid description: contains control characters" \
        CreateTemplate string:t1 int64:67108864 string:raw string:install.iso uint32:256 uint32:1 string:$'a\nb' string:
refused "an os type with a space" $IA "Invalid os_type: may hold only" \
        CreateTemplate string:t1 int64:67108864 string:raw string:install.iso uint32:256 uint32:1 string: "string:win 11"
before=$(state)
out=$(ctl create-template t1 64Q install.iso 2>&1)
check "vdeskctl create-template with a size it cannot read ($out)" \
        test "$out" = "vdeskctl: size '64Q' is not a number of bytes with K, M, G or T"
out=$(ctl create-template t1 5G install.iso --format=raw 2>&1)
check "vdeskctl create-template beyond MaxTemplateGiB: the broker's named error ($out)" \
        grep -q "beyond \[Images\] MaxTemplateGiB=4 (org.freedesktop.DBus.Error.InvalidArgs)\$" <<<"$out"
check "... and nothing was made" test "$before" = "$(state)"
out=$(setpriv --reuid=1 --regid=1 --clear-groups busctl --system call org.vdesk.broker1 /org/vdesk/broker1 \
        org.vdesk.broker1.Manager CreateTemplate sxssuuss t1 67108864 raw install.iso 256 1 "" "" 2>&1)
check "uid 1 may not build templates ($out)" grep -q "Not authorized for org.vdesk.broker1.manage" <<<"$out"
check "... and nothing was made" test "$before" = "$(state)"

# ---- building ----------------------------------------------------------------
# an old .vv of mode 0644 at the path (and a hard link to it, to read what
# that file holds afterwards): it is replaced, never written into
echo "old" >"$T/build.vv"
chmod 0644 "$T/build.vv"
ln "$T/build.vv" "$T/build.vv.old"
out=$(ctl create-template tpl 64M install.iso --format=raw --memory=256 --vcpus=1 --description="Test desktop" \
        --os-type=linux --vv-file="$T/build.vv")
console() { jq -r ".data[0][$1]" <<<"$out"; }
sport=$(sed -n 's|^Console of template tpl: spice://10.78.0.1:\([0-9]*\)$|\1|p' <<<"$out")
t1=$(sed -n 's/^Ticket: \([^ ]*\) (lets one client in, until .* UTC)$/\1/p' <<<"$out")
check "vdeskctl create-template prints the console (spice://10.78.0.1:$sport)" test -n "$sport"
check "... a ticket of 8 characters" grep -qE '^[a-zA-Z0-9]{8}$' <<<"$t1"
check "... and how to connect" grep -qx "  remote-viewer $T/build.vv" <<<"$out"
vv=$(cat "$T/build.vv")
check "... a .vv file with type, host, port, password, delete-this-file, title" \
        test "$(grep -cE "^(type=spice|host=10.78.0.1|port=$sport|password=$t1|delete-this-file=1|title=vdesk: building template tpl)\$" <<<"$vv")" = 6
check "... only root may read it (it holds the ticket), though a 0644 file was there" \
        test "$(stat -c %a "$T/build.vv")" = 600
check "... the old file (its hard link) never received the ticket" outputs "old" cat "$T/build.vv.old"
check "the template is building" test "$(broker_json GetTemplate s tpl | jq -r '.data[0] | "\(.[1]) \(.[2]) \(.[4])"')" = "building raw 67108864"
check "its disk is TemplateDir/tpl/1.raw, empty and sparse" \
        test "$(stat -c '%s %b' "$T/templates/tpl/1.raw")" = "67108864 0"
check "the build domain runs" test "$(virsh domstate build@tpl)" = running
check "... booting the ISO after its (empty) disk" \
        test "$(virsh dumpxml build@tpl | grep -c "<boot dev='hd'/>\|<boot dev='cdrom'/>\|$T/isos/install.iso")" = 3
refused "a second build of it" $E.TemplateBusy "being built already" \
        CreateTemplate string:tpl int64:67108864 string:raw string:install.iso uint32:256 uint32:1 string: string:
check "CreateAccount alice" dir_call CreateAccount sssss alice "Alice Example" staff "" ""
refused "a desktop of a template being built" $E.TemplateNotInstalled "is being built" \
        CreateDesktop string:d0 string:alice string:tpl

# watching: remote-viewer with the ticket (it deletes the .vv it read, as
# delete-this-file=1 asks: each run gets a copy)
printf '%s\n' "$vv" >"$T/ok.vv"
viewer rv1 "$T/ok.vv"
check "the installer ran (serial console)" wait_until 120 grep -q "vdesk-test-installer: installed" "$LOGDIR/build@tpl.log"
check "remote-viewer got in: the ticket was used and voided" \
        wait_until 20 bash -c "journalctl -o json MESSAGE_ID=$(mid MID_CONSOLE_TICKET) VDESK_DOMAIN=build@tpl | jq -r .VDESK_CLIENT_ADDRESS | grep -qx 10.78.0.2"
sleep 2
xwd -root -display :57 -out "$T/console.xwd"
shot=$(python3 "$VDESK_SRC/tests/lib/screenshot.py" "$T/console.xwd" "$ART/template-build-console.png")
read -r geom colors lit <<<"$shot"
check "the screenshot shows the guest's console ($shot, $ART/template-build-console.png)" \
        test "$geom" = 1024x768 -a "$colors" -ge 2 -a "$lit" -ge 1
kill "$PID_rv1" 2>/dev/null

# tickets tried the way a SPICE client links: the used one, a wrong one, a
# fresh one (once), an expired one
link() { ip netns exec $C python3 "$VDESK_SRC/tests/lib/spice-link.py" 10.78.0.1 "$sport" "$1"; }
check "the used ticket lets nobody in any more" test "$(link "$t1")" = "denied 7"
out=$(broker_json TemplateConsole s tpl)
t2=$(console 3)
check "TemplateConsole issues a new ticket" test -n "$t2" -a "$t2" != "$t1"
now=$(date +%s)
check "... valid for ConsoleTicketSec" test $(( $(console 4) / 1000000 - now )) -le 15 -a $(( $(console 4) / 1000000 - now )) -ge 12
check "a wrong ticket is refused" test "$(link wrong123)" = "denied 7"
check "... qemu logs 'Invalid password'" grep -q 'Invalid password' "$QLOG/build@tpl.log"
check "the new ticket lets a client in" test "$(link "$t2")" = ok
check "... once: it is void after the grace period" \
        wait_until 20 bash -c "journalctl -o json MESSAGE_ID=$(mid MID_CONSOLE_TICKET) VDESK_DOMAIN=build@tpl | jq -r .VDESK_CLIENT_ADDRESS | grep -c 10.78.0.2 | grep -qx 2"
check "... and refused after it" test "$(link "$t2")" = "denied 7"
# a symlink planted at the .vv path: replaced, not followed
echo "victim" >"$T/victim"
ln -s "$T/victim" "$T/console.vv"
out=$(ctl console tpl --vv-file="$T/console.vv")
t3=$(sed -n 's/^Ticket: \([^ ]*\) .*/\1/p' <<<"$out")
check "vdeskctl console: another ticket" test -n "$t3" -a "$t3" != "$t2"
check "... its .vv replaced the symlink planted at the path, mode 600" \
        outputs "regular file 600" stat -c '%F %a' "$T/console.vv"
check "... holding the new ticket" grep -qx "password=$t3" "$T/console.vv"
check "... and the symlink's target never received it" outputs "victim" cat "$T/victim"
sleep 16
check "an unused ticket past ConsoleTicketSec is refused" test "$(link "$t3")" = "denied 7"

refused "finishing while the installer runs" $E.TemplateRunning "still running" FinishTemplate string:tpl boolean:false
out=$(ctl finish-template tpl 2>&1)
check "vdeskctl finish-template while it runs: the named error ($out)" grep -q "still running.*(org.vdesk.Error.TemplateRunning)\$" <<<"$out"
check "vdeskctl finish-template --force" test "$(ctl finish-template --force tpl)" = "Installed template tpl."
check "... the build domain is gone" bash -c "! virsh dominfo build@tpl >/dev/null 2>&1"
check "... installed, version 1" test "$(broker_json GetTemplate s tpl | jq -r '.data[0] | "\(.[1]) \(.[3])"')" = "installed 1"

# ---- a desktop on version 1 ------------------------------------------------------
open() { busctl --system --timeout=150 --json=short call org.vdesk.broker1 /org/vdesk/broker1 org.vdesk.broker1.Manager OpenDesktop s "$1" | jq -r '.data[1]'; }
chain() { qemu-img info -U --backing-chain --output=json "$1" | jq -r '[.[].filename] | join(" -> ")'; }
check "CreateDesktop d1 on tpl" broker_call CreateDesktop sss d1 alice tpl
p1=$(open d1)
check "d1 boots from version 1 and answers on its port" \
        wait_until 30 bash -c "tcp_line() { ip netns exec $C timeout 3 bash -c 'exec 3<>/dev/tcp/10.78.0.1/$p1 && head -1 <&3'; }; tcp_line | grep -q VDESK-TEST-GUEST"
check "... its disk is an overlay of version 1" test "$(chain "$T/disks/d1.qcow2")" = "$T/disks/d1.qcow2 -> $T/templates/tpl/1.raw"

# ---- editing and committing while d1 runs ----------------------------------------
out=$(ctl edit-template tpl)
check "vdeskctl edit-template prints a console" grep -qE "^Console of template tpl: spice://10.78.0.1:[0-9]+\$" <<<"$out"
check "the edit domain runs on an overlay of version 1" \
        test "$(chain "$T/templates/tpl/edit.qcow2")" = "$T/templates/tpl/edit.qcow2 -> $T/templates/tpl/1.raw"
check "... its header naming version 1's recorded format, raw" \
        test "$(qemu-img info -U --output=json -f qcow2 "$T/templates/tpl/edit.qcow2" | jq -r '."backing-filename-format"')" = raw
backing_store() { virsh dumpxml "$@" | xmllint --xpath 'concat(//devices/disk[@device="disk"]/backingStore/source/@file, " ", //devices/disk[@device="disk"]/backingStore/format/@type)' -; }
check "... and the edit domain's disk names the same backing store: libvirt reads no format from a file" \
        test "$(backing_store edit@tpl)" = "$T/templates/tpl/1.raw raw"
check "the template is editing" test "$(broker_json GetTemplate s tpl | jq -r '.data[0][1]')" = editing
refused "a second edit" $E.TemplateBusy "being edited already" EditTemplate string:tpl string:
refused "committing while the edit domain runs" $E.TemplateRunning "still running" CommitTemplate string:tpl boolean:false
check "vdeskctl commit-template --force: version 2" \
        test "$(ctl commit-template --force tpl)" = "Committed template tpl as version 2; new and re-issued desktops derive from it."
check "... a flattened file, no backing" test "$(chain "$T/templates/tpl/2.raw")" = "$T/templates/tpl/2.raw"
check "... the edit overlay and domain are gone" bash -c "! test -e '$T/templates/tpl/edit.qcow2' && ! virsh dominfo edit@tpl >/dev/null 2>&1"
check "... version 1 stays: d1 uses it" test -f "$T/templates/tpl/1.raw"
check "d1's disk is still valid (qemu-img check)" qemu-img check -U -q "$T/disks/d1.qcow2"
refused "committing with no edit open" $E.NoEdit "has no edit open" CommitTemplate string:tpl boolean:false
out=$(ctl commit-template tpl 2>&1)
check "... through vdeskctl too ($out)" test "$out" = "vdeskctl: Template tpl has no edit open (org.vdesk.Error.NoEdit)"
check "StopDesktop d1" broker_call StopDesktop sb d1 true
check "... stopped" wait_until 20 outputs "shut off" virsh domstate d1
p1=$(open d1)
check "d1, derived from version 1, still boots after version 2" \
        wait_until 30 bash -c "ip netns exec $C timeout 3 bash -c 'exec 3<>/dev/tcp/10.78.0.1/$p1 && head -1 <&3' | grep -q VDESK-TEST-GUEST"
check "CreateDesktop d2: derived from version 2" broker_call CreateDesktop sss d2 alice tpl
p2=$(open d2)
check "... boots and answers" \
        wait_until 30 bash -c "ip netns exec $C timeout 3 bash -c 'exec 3<>/dev/tcp/10.78.0.1/$p2 && head -1 <&3' | grep -q VDESK-TEST-GUEST"
check "... its disk is an overlay of version 2" test "$(chain "$T/disks/d2.qcow2")" = "$T/disks/d2.qcow2 -> $T/templates/tpl/2.raw"
check "ListTemplateVersions: d1 on 1, d2 on 2" \
        test "$(broker_json ListTemplateVersions s tpl | jq -r '.data[0][] | "\(.[0]):\(.[3] | join(","))"' | tr '\n' ' ')" = "1:d1 2:d2 "
ctl template tpl >"$T/show.txt"
check "vdeskctl template: installed raw 64 MiB, versions 1 and 2 with their desktops" \
        bash -c "grep -qx '      State: installed' '$T/show.txt' && grep -qx '       Size: 64.0 MiB' '$T/show.txt' &&
                 grep -A1 -E '^1 .* $T/templates/tpl/1.raw\$' '$T/show.txt' | grep -qE '^ +desktops: d1\$' &&
                 grep -A1 -E '^2 .* $T/templates/tpl/2.raw\$' '$T/show.txt' | grep -qE '^ +desktops: d2\$'"
check "vdeskctl templates lists it" \
        bash -c "$(declare -f ctl); ctl templates | grep -qE '^tpl +installed +raw +2 +64.0 MiB +256 +1  linux\$'"

# ---- re-issue, prune, delete ---------------------------------------------------------
refused "re-issuing a running desktop" $E.DesktopRunning "is running" ReissueDesktop string:d1
check "StopDesktop d1" broker_call StopDesktop sb d1 true
wait_until 20 outputs "shut off" virsh domstate d1
check "vdeskctl reissue d1: onto version 2" test "$(ctl reissue d1)" = "Desktop d1 has a fresh disk on its template's version 2."
check "... a fresh overlay of version 2" test "$(chain "$T/disks/d1.qcow2")" = "$T/disks/d1.qcow2 -> $T/templates/tpl/2.raw"
check "... recorded in the domain's metadata" bash -c "virsh dumpxml --inactive d1 | grep -q 'template=\"$T/templates/tpl/2.raw\"'"
check "... and in its disk's backing store, raw as version 2 was recorded" \
        test "$(backing_store --inactive d1)" = "$T/templates/tpl/2.raw raw"
check "vdeskctl prune-template removes version 1, now unused" test "$(ctl prune-template tpl)" = "Template tpl: removed version 1."
check "... again: nothing to remove" test "$(broker_call PruneTemplate s tpl)" = "au 0"
check "... its file is gone" test ! -e "$T/templates/tpl/1.raw"

# ---- commits cut short by brokerd's end -------------------------------------------
# The template is 'committing' from the start of a commit until its version
# is recorded; brokerd, started again, resumes it. Twice: killed before
# imaged began (imaged, held with SIGSTOP, then refuses what a caller gone
# asked), and killed after imaged made the version but before brokerd
# (held with SIGSTOP) read the answer (imaged then answers with it again).
restart_brokerd() {
        bg "brokerd-$1" "$VDESK_BUILD/src/brokerd/vdesk-brokerd" --sql-dir="$VDESK_SRC/sql"
        wait_until 20 bus_has_name org.vdesk.broker1 || die "brokerd did not start again: $(cat "$T/brokerd-$1.log")"
        PID_brokerd=$(eval echo "\$PID_brokerd_$1")
}
template_state() { broker_json GetTemplate s tpl | jq -r '.data[0] | "\(.[1]) \(.[3])"'; }
committing() { [ "$(sql "SELECT state FROM templates WHERE name = 'tpl'")" = committing ]; }
recorded() { sql "SELECT t.state, MAX(v.version) FROM templates t JOIN template_versions v ON v.template_id = t.id WHERE t.name = 'tpl' GROUP BY t.id" | tr '\t' ' '; }
commit_in_background() {
        busctl --system --timeout=600 call org.vdesk.broker1 /org/vdesk/broker1 org.vdesk.broker1.Manager \
                CommitTemplate sb tpl true >"$T/cut.out" 2>&1 &
        cut=$!
}

out=$(ctl edit-template tpl)
check "another edit, on version 2" grep -q "^Console of template tpl: spice://" <<<"$out"
kill -STOP "$PID_imaged"
commit_in_background
check "the commit is recorded before it begins: tpl is committing" wait_until 30 committing
refused "a console while it commits" $E.TemplateBusy "is being committed" TemplateConsole string:tpl
refused "a second commit while it commits" $E.TemplateBusy "is being committed" CommitTemplate string:tpl boolean:true
refused "discarding while it commits" $E.TemplateBusy "is being committed" DiscardTemplateEdit string:tpl boolean:true
refused "pruning while it commits" $E.TemplateBusy "is being committed" PruneTemplate string:tpl
refused "deleting while it commits" $E.TemplateBusy "is being committed" DeleteTemplate string:tpl
kill -9 "$PID_brokerd"
wait $cut
check "brokerd killed: its caller hears it went away" grep -q "disconnected" "$T/cut.out"
kill -CONT "$PID_imaged"
check "... nothing recorded: committing, newest version 2" test "$(recorded)" = "committing 2"
restart_brokerd 1
check "brokerd, started again, resumes the commit: installed, version 3" \
        wait_until 60 outputs "installed 3" template_state
check "... version 3 is a flattened file, the edit overlay and domain gone" \
        bash -c "test '$(chain "$T/templates/tpl/3.raw")' = '$T/templates/tpl/3.raw' && ! test -e '$T/templates/tpl/edit.qcow2' && ! virsh dominfo edit@tpl >/dev/null 2>&1"
check "... the journal says it was resumed" \
        bash -c "journalctl -o cat | grep -q 'Template tpl: resuming its commit, cut short'"
check "... and committed" \
        test "$(journal_json MESSAGE_ID=$(mid MID_TEMPLATE_COMMITTED) VDESK_TEMPLATE_VERSION=3 | jq -r .VDESK_TEMPLATE)" = tpl

out=$(ctl edit-template tpl)
check "an edit of version 3" grep -q "^Console of template tpl: spice://" <<<"$out"
kill -STOP "$PID_imaged"
commit_in_background
wait_until 30 committing
# a round trip with brokerd: it is back in its loop, its call to imaged sent
refused "a console while it commits (again)" $E.TemplateBusy "is being committed" TemplateConsole string:tpl
kill -STOP "$PID_brokerd"
kill -CONT "$PID_imaged"
check "imaged makes version 4 while brokerd is held" \
        wait_until 60 bash -c "test -f '$T/templates/tpl/4.raw' && ! test -e '$T/templates/tpl/edit.qcow2'"
kill -9 "$PID_brokerd"
wait $cut
check "brokerd killed before it read imaged's answer: not recorded, committing, newest 3" \
        test "$(recorded)" = "committing 3"
restart_brokerd 2
check "brokerd, started again, resumes the commit: imaged answers with version 4, recorded" \
        wait_until 60 outputs "installed 4" template_state
check "... made once: imaged ran qemu-img for it once" \
        test "$(grep -c "flattened into $T/templates/tpl/4.raw" "$T/imaged.log")" = 1
check "... imaged said it was made already" grep -q "Version 4 of template tpl was made already" "$T/imaged.log"
check "... versions 2 (d1, d2) and 4; 3, unused, pruned by the commit" \
        test "$(broker_json ListTemplateVersions s tpl | jq -r '.data[0][] | "\(.[0]):\(.[3] | join(","))"' | tr '\n' ' ')" = "2:d1,d2 4: "

refused "deleting a template desktops use" $E.TemplateInUse "2 desktop(s)" DeleteTemplate string:tpl
for d in d1 d2; do broker_call StopDesktop sb $d true >/dev/null 2>&1; done
wait_until 20 bash -c "[ \"\$(virsh list --name | grep -c '^d[12]\$')\" = 0 ]"
check "DeleteDesktop d1, d2" bash -c "busctl --system call org.vdesk.broker1 /org/vdesk/broker1 org.vdesk.broker1.Manager DeleteDesktop s d1 && busctl --system call org.vdesk.broker1 /org/vdesk/broker1 org.vdesk.broker1.Manager DeleteDesktop s d2"
check "vdeskctl delete-template tpl" test "$(ctl delete-template tpl)" = "Deleted template tpl."
check "... its files and directory are gone" test ! -e "$T/templates/tpl"
check "... and its rows" test "$(sql 'SELECT COUNT(*) FROM templates; SELECT COUNT(*) FROM template_versions' | tr '\n' ' ')" = "0 0 "

# ---- the journal -------------------------------------------------------------------------
for t in "$t1" "$t2" "$t3"; do
        check "no ticket in the journal" bash -c "! journalctl -o export | grep -aqF '$t'"
done
for id in MID_TEMPLATE_BUILD_STARTED MID_TEMPLATE_INSTALLED MID_TEMPLATE_EDIT_STARTED MID_TEMPLATE_COMMITTED \
          MID_DESKTOP_REISSUED MID_TEMPLATE_VERSION_REMOVED MID_TEMPLATE_DELETED; do
        check "journal: $id" test -n "$(journal_json MESSAGE_ID=$(mid $id) | head -1)"
done

finish
