#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Bad input and unauthorized callers on a private host with real libvirtd,
# MariaDB and polkitd: each gets a named error, and nothing changes — the
# test compares the database rows, the disk directory, libvirt's domains
# and the nft map before and after every refusal.
. "$VDESK_SRC/tests/lib/harness.sh"
. "$VDESK_SRC/tests/lib/host.sh"
host_enter "$@"
need_cmd jq nft qemu-img setpriv dbus-send

# polkit's group rule is tried with an unprivileged user in vdesk-admin;
# its two actions apart with bin (uid 2), granted only reading.
host_vdesk_admin nobody
host_polkit_grant bin org.vdesk.broker1.read

host_start_stack
host_write_config <<X
[Forward]
PortMin=50000
PortMax=50001
PublicAddress=10.20.0.1
[Desktop]
OpenTimeoutSec=4
X
host_start_vdesk

qemu-img create -q -f qcow2 "$T/templates/base.qcow2" 16M
dir_call CreateAccount sssss alice "Alice Example" staff "" "" || die "cannot create the account"
check "RegisterTemplate" broker_call RegisterTemplate ss base "$T/templates/base.qcow2"

state() {
        sql "SELECT name, account_id, address, rdp_port FROM desktops ORDER BY id;
             SELECT t.name, v.version, v.path FROM templates t LEFT JOIN template_versions v ON v.template_id = t.id
             ORDER BY t.id, v.version"
        ls -A "$T/disks" "$T/templates"
        virsh list --all --name
        virsh net-dumpxml vdesk | grep "<host " || true
        nft -j list map inet vdesk rdp4 | jq -c '[.nftables[] | select(.map) | .map.elem[]?]'
}
long=$(printf 'a%.0s' $(seq 300))
E=org.vdesk.Error
IA=org.freedesktop.DBus.Error.InvalidArgs
refused "empty desktop name" $IA "Invalid name: is empty" CreateDesktop string: string:alice string:base
refused "300-byte desktop name" $IA "Invalid name: is longer than 63 bytes" CreateDesktop string:$long string:alice string:base
# the longest name there may be is taken (and the 300 bytes above were
# not cut to it)
name63=$(printf 'b%.0s' $(seq 63))
check "a 63-byte desktop name is taken" broker_call CreateDesktop sss "$name63" alice base
check "... and deleted again" broker_call DeleteDesktop s "$name63"
refused "desktop name ../etc" $IA "Invalid name: must start with an ASCII letter or digit" CreateDesktop string:../etc string:alice string:base
refused "desktop name with ../" $IA "Invalid name: may hold only" CreateDesktop string:a/../../etc string:alice string:base
refused "desktop name with shell metacharacters" $IA "Invalid name: may hold only" CreateDesktop 'string:a;reboot' string:alice string:base
refused "desktop name with \$()" $IA "Invalid name: may hold only" CreateDesktop 'string:a$(id)' string:alice string:base
refused "unknown account" $E.NoSuchAccount "Invalid account: no account 'mallory'" CreateDesktop string:d1 string:mallory string:base
refused "unknown template" $E.NoSuchTemplate "Invalid template: no template 'nope'" CreateDesktop string:d1 string:alice string:nope
refused "account name with a quote" $IA "Invalid account: may hold only" CreateDesktop string:d1 "string:al'ice" string:base
# D-Bus carries only valid UTF-8: an invalid name cannot even be sent.
check "invalid UTF-8 cannot reach brokerd (the bus refuses to carry it)" \
        bash -c "! busctl --system call org.vdesk.broker1 /org/vdesk/broker1 org.vdesk.broker1.Manager CreateDesktop sss $'a\xffb' alice base 2>/dev/null"
refused "template outside TemplateDir" $E.PathNotAllowed "Invalid path: '/etc/passwd' is not inside the template directory" \
        RegisterTemplate string:evil string:/etc/passwd
cp "$T/templates/base.qcow2" "$T/templates/other.qcow2"
refused "template name taken" $E.TemplateExists "A template with this name exists already" \
        RegisterTemplate string:base string:"$T/templates/other.qcow2"
refused "template path taken" $E.TemplateExists "A template with this path exists already" \
        RegisterTemplate string:base2 string:"$T/templates/base.qcow2"
# a template's format is read from its file once, at registration: a
# qcow2 file must be whole by itself, and one qemu can use
qemu-img create -q -f qcow2 -b "$T/templates/base.qcow2" -F qcow2 "$T/templates/layered.qcow2"
refused "a qcow2 template with a backing file" $E.BadImage \
        "Invalid path: '$T/templates/layered.qcow2' is a qcow2 overlay of '$T/templates/base.qcow2'" \
        RegisterTemplate string:layered string:"$T/templates/layered.qcow2"
printf 'QFI\xfbgarbage' >"$T/templates/broken.qcow2"
refused "a qcow2 template whose header makes no sense" $E.BadImage \
        "Invalid path: '$T/templates/broken.qcow2' is not a disk image qemu can use" \
        RegisterTemplate string:broken string:"$T/templates/broken.qcow2"
refused "unknown desktop" $E.NoSuchDesktop "No desktop 'ghost'" StartDesktop string:ghost

check "CreateDesktop d1" broker_call CreateDesktop sss d1 alice base
refused "duplicate create" $E.DesktopExists "Invalid name: desktop 'd1' exists already" CreateDesktop string:d1 string:alice string:base
check "CreateDesktop d2" broker_call CreateDesktop sss d2 alice base
refused "port range exhausted (2 ports)" $E.PortsExhausted "No free port left in 50000-50001" CreateDesktop string:d3 string:alice string:base
# a domain of that name that vdesk does not know
virsh dumpxml d1 | sed 's|<name>d1</name>|<name>outsider</name>|; /<uuid>/d; /vdesk:/d' >"$T/outsider.xml"
virsh define "$T/outsider.xml" >/dev/null
broker_call DeleteDesktop s d2 >/dev/null
refused "a libvirt domain of that name exists" $E.DesktopExists "Invalid name: a domain 'outsider' exists already" \
        CreateDesktop string:outsider string:alice string:base
virsh undefine outsider >/dev/null

# a guest that never answers (its template boots nothing): OpenDesktop
# gives up after OpenTimeoutSec with NotReady
t0=$SECONDS
out=$(dbus-send --system --print-reply --reply-timeout=60000 --dest=org.vdesk.broker1 /org/vdesk/broker1 \
        org.vdesk.broker1.Manager.OpenDesktop string:d1 2>&1)
check "OpenDesktop of a guest that never answers: NotReady ($out)" \
        grep -q "Error org.vdesk.Error.NotReady: Desktop d1 did not answer on port 50000 within 4 s" <<<"$out"
check "  ... after the configured 4 s ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -le 8
check "  ... and the desktop can be stopped" broker_call StopDesktop sb d1 true

# polkit: root is allowed, daemon (uid 1) is refused, nobody (in
# vdesk-admin here) is allowed by the shipped rule
before=$(state)
out=$(setpriv --reuid=1 --regid=1 --clear-groups busctl --system call org.vdesk.broker1 /org/vdesk/broker1 \
        org.vdesk.broker1.Manager CreateDesktop sss d5 alice base 2>&1)
check "an unprivileged uid is refused by polkit ($out)" grep -q "Not authorized for org.vdesk.broker1.manage" <<<"$out"
check "  ... and nothing changed" test "$before" = "$(state)"
check "  ... and the refusal is journaled" test -n "$(journal_json VDESK_ACTOR_UID=1 VDESK_METHOD=CreateDesktop)"
out=$(setpriv --reuid=1 --regid=1 --clear-groups busctl --system call org.vdesk.broker1 /org/vdesk/broker1 \
        org.vdesk.broker1.Manager ListDesktops 2>&1)
check "  ... and asked for reading's action to list ($out)" grep -q "Not authorized for org.vdesk.broker1.read" <<<"$out"
check "root is allowed" broker_call ListDesktops
vdesk_admin() { setpriv --reuid=65534 --regid=65534 --init-groups busctl --system call org.vdesk.broker1 /org/vdesk/broker1 \
        org.vdesk.broker1.Manager "$@"; }
check "a member of vdesk-admin is allowed to read by the shipped rule" vdesk_admin ListDesktops
check "  ... and to change" vdesk_admin RegisterTemplate ss other "$T/templates/other.qcow2"
template_of() { sql "SELECT v.path FROM templates t JOIN template_versions v ON v.template_id = t.id WHERE t.name = '$1'"; }
check "  ... which changed" outputs "$T/templates/other.qcow2" template_of other
check "  ... and to change it back" vdesk_admin DeleteTemplate s other
check "  ... which changed back" outputs "" template_of other

# a reader (bin, granted only org.vdesk.broker1.read by the test's rule)
# lists and looks, and is refused every change with nothing changed
reader() { setpriv --reuid=2 --regid=2 --clear-groups busctl --system call org.vdesk.broker1 /org/vdesk/broker1 \
        org.vdesk.broker1.Manager "$@" 2>&1; }
out=$(reader ListDesktops)
check "a reader lists the desktops ($out)" grep -q '"d1"' <<<"$out"
out=$(reader GetDesktop s d1)
check "a reader gets d1 ($out)" grep -q '"d1"' <<<"$out"
out=$(reader ListTemplates)
check "a reader lists the templates ($out)" grep -q '"base"' <<<"$out"
check "a reader lists the template's versions" reader ListTemplateVersions s base
check "a reader lists the hosts" reader ListHosts
check "a reader lists the clusters" reader ListClusters
check "a reader lists the networks" reader ListNetworks
check "a reader lists the ISOs" reader ListIsos
check "a reader asks where a desktop would go" reader PlaceDesktop s ""
host=$(sql "SELECT name FROM hosts ORDER BY id LIMIT 1")
fleet() { sql "SELECT name, capacity FROM clusters ORDER BY id; SELECT name, maintenance, state FROM hosts ORDER BY id"; }
before=$(state) fleet_before=$(fleet)
for call in "CreateDesktop string:d5 string:alice string:base" "StartDesktop string:d1" "DeleteDesktop string:d1" \
            "OpenDesktop string:d1" "ReissueDesktop string:d1" "DeleteTemplate string:base" \
            "RegisterTemplate string:t2 string:$T/templates/other.qcow2" "RefreshIsos" "CreateCluster string:c uint32:5" \
            "SetHostMaintenance string:$host boolean:true"; do
        out=$(setpriv --reuid=2 --regid=2 --clear-groups dbus-send --system --print-reply --dest=org.vdesk.broker1 \
                /org/vdesk/broker1 "org.vdesk.broker1.Manager.${call%% *}" ${call#"${call%% *}"} 2>&1)
        check "a reader is refused ${call%% *} ($out)" \
                grep -q "^Error org.vdesk.Error.AccessDenied: Not authorized for org.vdesk.broker1.manage" <<<"$out"
done
check "  ... and nothing changed" test "$before" = "$(state)"
check "  ... the clusters and hosts neither" test "$fleet_before" = "$(fleet)"
check "  ... and the refusals are journaled" \
        test -n "$(journal_json VDESK_ACTOR_UID=2 VDESK_METHOD=DeleteDesktop VDESK_ACTION=org.vdesk.broker1.manage)"

# the hook: metadata pointing outside the image directories
virsh dumpxml d1 | sed "s|$T/disks/d1.qcow2|/etc/shadow.qcow2|g" | sed 's|<name>d1</name>|<name>evil</name>|; /<uuid>/d' >"$T/evil.xml"
virsh define "$T/evil.xml" >/dev/null
before=$(state)
out=$(virsh start evil 2>&1)
check "a domain whose metadata points outside DiskDir does not start ($out)" \
        grep -q "vdesk: metadata: disk path '/etc/shadow.qcow2' is not a file directly in $T/disks" <<<"$out"
check "  ... and nothing was created" test "$before" = "$(state)"
check "  ... no file at the path" test ! -e /etc/shadow.qcow2
check "  ... the hook's refusal is journaled" test -n "$(journal_json VDESK_DESKTOP=evil VDESK_HOOK_OPERATION=prepare)"

# the hook run by hand with malformed metadata: refused with its reason
out=$(printf '<domain><name>x</name><metadata><vdesk:desktop xmlns:vdesk="https://vdesk.org/xmlns/desktop/1"><vdesk:account>a' |
        "$VDESK_BUILD/hooks/vdesk-qemu-hook" x prepare begin - 2>&1)
check "malformed metadata XML is refused by the hook ($out)" test "$out" = "vdesk: domain XML is not well-formed"
out=$(printf '<domain><name>x</name><metadata><vdesk:desktop xmlns:vdesk="https://vdesk.org/xmlns/desktop/1"/></metadata></domain>' |
        "$VDESK_BUILD/hooks/vdesk-qemu-hook" x prepare begin - 2>&1)
check "metadata without its elements is refused ($out)" grep -q "vdesk:disk> missing" <<<"$out"
out=$(printf '<domain><name>plain</name></domain>' | "$VDESK_BUILD/hooks/vdesk-qemu-hook" plain prepare begin - 2>&1)
check "a domain without vdesk metadata passes untouched" test -z "$out"

finish
