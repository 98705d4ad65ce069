#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The broker's things as objects on the bus, on a private host with real
# libvirtd, QEMU, MariaDB, polkitd and vdesk: busctl sees desktops, hosts,
# templates, networks and clusters with live properties; a desktop started
# with virsh shows as running in `vdeskctl watch` (PropertiesChanged) and
# its object's State; the ObjectManager lists everything at once; each
# object's interface is as dbus/ publishes it (VDESK_UPDATE_DBUS_XML=1
# writes the files instead); an admin (vdesk-admin) reads them and gets
# their signals, another user neither, and is refused their methods by
# polkit alike whether the thing exists or not.
. "$VDESK_SRC/tests/lib/harness.sh"
. "$VDESK_SRC/tests/lib/host.sh"
host_enter "$@"
# nobody is an admin here (vdesk-admin), daemon (uid 1) is not
host_vdesk_admin nobody
host_start_desktops </dev/null

B=org.vdesk.broker1
P=/org/vdesk/broker1
H=$(busctl --system --json=short call $B $P $B.Manager ListHostObjects | jq -r '.data[0][0][0]')
prop() { busctl --system get-property $B "$1" "$B.$2" "$3"; }

"$VDESK_SRC/tests/guest/build-template" "$T/templates/tiny.img" >/dev/null || die "cannot build the template"
dir_call CreateAccount sssss alice "Alice Example" staff "" "" >/dev/null || die "cannot create alice"
broker_call RegisterTemplate ss tiny "$T/templates/tiny.img" >/dev/null || die "cannot register tiny"
broker_call CreateNetwork ssssssususassqu sales 10.31.0.0/24 10.31.0.1 10.31.0.10 10.31.0.99 none 0 "" 0 "" 0 "" 0 0 \
        >/dev/null || die "cannot create network sales"

bg watch "$VDESK_BUILD/src/vdeskctl/vdeskctl" watch
check "vdeskctl watch is listening" wait_until 10 grep -q "^Watching" "$T/watch.log"
# every signal of the broker's, as root, an admin and uid 1 receive them
for who in root:0 admin:65534 other:1; do
        bg "signals-${who%%:*}" setpriv --reuid="${who#*:}" --regid="${who#*:}" --init-groups \
                gdbus monitor --system --dest $B
done
check "the listeners are subscribed" wait_until 10 bash -c \
        "grep -q 'Monitoring signals' '$T/signals-root.log' && grep -q 'Monitoring signals' '$T/signals-admin.log' &&
         grep -q 'Monitoring signals' '$T/signals-other.log'"

check "CreateDesktop alice-1" broker_call CreateDesktop sss alice-1 alice tiny
D=$P/desktop/alice_2d1
check "its object has the escaped name ($D)" \
        outputs "o \"$D\"" broker_call GetDesktopObject s alice-1
check "busctl tree shows it" bash -c "busctl --system tree --list $B | grep -qx '$D'"
check "... and the host's object" bash -c "busctl --system tree --list $B | grep -qx '$P/host/$H'"
check "... and cluster default's" bash -c "busctl --system tree --list $B | grep -qx '$P/cluster/default'"
check "... template tiny's and network sales's" bash -c \
        "busctl --system tree --list $B | grep -qx '$P/template/tiny' && busctl --system tree --list $B | grep -qx '$P/network/sales'"
check "watch saw it added" wait_until 5 grep -q " desktop alice-1 added$" "$T/watch.log"
check "Desktop.State is stopped" outputs 's "stopped"' prop $D Desktop State
check "Desktop.Account is alice" outputs 's "alice"' prop $D Desktop Account
check "Desktop.RdpPort is the first port" outputs 'q 50000' prop $D Desktop RdpPort
check "Desktop.Host is $H" outputs "s \"$H\"" prop $D Desktop Host
check "Host.State is up" outputs 's "up"' prop $P/host/$H Host State
check "Template.State is installed" outputs 's "installed"' prop $P/template/tiny Template State
check "Network.Subnet" outputs 's "10.31.0.0/24"' prop $P/network/sales Network Subnet
check "Cluster.Desktops counts alice-1" outputs 'u 1' prop $P/cluster/default Cluster Desktops
# EmitsChangedSignal: true (the default, no annotation), const, or false
emits() { busctl --system introspect --xml-interface $B "$1" |
          xmllint --xpath "string(//property[@name=\"$2\"]/annotation[@name=\"org.freedesktop.DBus.Property.EmitsChangedSignal\"]/@value)" -; }
check "State emits changes (no annotation: the default)" outputs "" emits $D State
check "... it is a property there" bash -c "busctl --system introspect $B $D $B.Desktop | grep -q '^\.State '"
check "a host's Running is not signalled" outputs false emits $P/host/$H Running
check "Name says it is constant" outputs const emits $D Name
check "GetManagedObjects has alice-1 with its properties" outputs alice bash -c \
        "busctl --system --json=short call $B $P org.freedesktop.DBus.ObjectManager GetManagedObjects |
         jq -r '.data[0][\"$D\"][\"$B.Desktop\"].Account.data'"
check "ListDesktopObjects" outputs "alice-1 $D" bash -c \
        "busctl --system --json=short call $B $P $B.Manager ListDesktopObjects | jq -r '.data[0][] | \"\(.[0]) \(.[1])\"'"
out=$(dbus-send --system --print-reply --dest=$B $P $B.Manager.GetDesktopObject string:ghost 2>&1)
check "GetDesktopObject of none: NoSuchDesktop ($out)" \
        grep -qF "Error org.vdesk.Error.NoSuchDesktop: No desktop 'ghost'" <<<"$out"
check "GetHostObject of a bad name: InvalidArgs naming it" bash -c \
        "busctl --system call $B $P $B.Manager GetHostObject s 'a b' 2>&1 | grep -q 'name'"

# the published interfaces
for k in Desktop Template Host Network Cluster; do
        case $k in
        Desktop) o=$D ;; Template) o=$P/template/tiny ;; Host) o=$P/host/$H ;;
        Network) o=$P/network/sales ;; Cluster) o=$P/cluster/default ;;
        esac
        if [ -n "${VDESK_UPDATE_DBUS_XML:-}" ]; then
                busctl --system introspect --xml-interface $B $o |
                        python3 "$VDESK_SRC/tests/lib/dbus-interface.py" $B.$k >"$VDESK_SRC/dbus/$B.$k.xml"
        fi
        check "$B.$k is as dbus/ publishes it" bash -c \
                "busctl --system introspect --xml-interface $B $o |
                 python3 '$VDESK_SRC/tests/lib/dbus-interface.py' $B.$k | diff -u '$VDESK_SRC/dbus/$B.$k.xml' -"
done

# vdeskctl show
out=$(ctl show alice-1)
check "vdeskctl show prints Name=alice-1" grep -qx "Name=alice-1" <<<"$out"
check "... State=stopped" grep -qx "State=stopped" <<<"$out"
check "... RdpPort=50000" grep -qx "RdpPort=50000" <<<"$out"
check "... a StateSince time" grep -qE "^StateSince=[A-Z][a-z]{2} 20[0-9]{2}-" <<<"$out"
check "vdeskctl show -p State prints that alone" outputs "State=stopped" ctl show alice-1 -p State
check "vdeskctl show -p twice prints both" outputs "$(printf 'Account=alice\nState=stopped')" \
        ctl show alice-1 -p State -p Account
check "vdeskctl show --type=host" bash -c "'$VDESK_BUILD/src/vdeskctl/vdeskctl' show --type=host '$H' | grep -qx State=up"
check "vdeskctl show --type=cluster" bash -c "'$VDESK_BUILD/src/vdeskctl/vdeskctl' show --type=cluster default | grep -qx Name=default"
out=$(ctl show ghost 2>&1)
check "vdeskctl show of none names the error ($out)" test "$out" = "vdeskctl: No desktop 'ghost' (org.vdesk.Error.NoSuchDesktop)"
check "vdeskctl show --type=bogus is refused" not ctl show --type=bogus alice-1
check "vdeskctl show -p Bogus fails" not ctl show alice-1 -p Bogus

# virsh start: the state change reaches the object and watch
check "virsh start alice-1" virsh start alice-1
check "watch shows alice-1 running" wait_until 30 grep -q " desktop alice-1 State=running StateSince=" "$T/watch.log"
check "Desktop.State is running" wait_until 5 outputs 's "running"' prop $D Desktop State
check "Stop on the object itself" busctl --system call $B $D $B.Desktop Stop b true
check "watch shows it stopped" wait_until 30 grep -q " desktop alice-1 State=stopped" "$T/watch.log"
check "SetMaintenance on the host's object" busctl --system call $B $P/host/$H $B.Host SetMaintenance b true
check "watch shows the host in maintenance" wait_until 5 grep -q " host $H State=maintenance Maintenance=yes$" "$T/watch.log"
check "... and the Manager's HostStateChanged still comes" wait_until 5 grep -q \
        "$P: $B.Manager.HostStateChanged ('$H', 'maintenance', '')" "$T/signals-root.log"
check "Host.State is maintenance" outputs 's "maintenance"' prop $P/host/$H Host State
busctl --system call $B $P/host/$H $B.Host SetMaintenance b false >/dev/null

# who sees what: an admin (vdesk-admin) everything, uid 1 nothing
as() { local uid=$1; shift; setpriv --reuid="$uid" --regid="$uid" --init-groups "$@"; }
check "an admin reads a desktop's properties" outputs 's "alice"' as 65534 busctl --system get-property $B $D $B.Desktop Account
check "... and lists them" bash -c "setpriv --reuid=65534 --regid=65534 --init-groups busctl --system tree --list $B | grep -qx '$D'"
out=$(as 1 busctl --system get-property $B $D $B.Desktop Account 2>&1)
check "uid 1 reads nothing: no such object ($out)" grep -q "Unknown object '$D'" <<<"$out"
out=$(as 1 busctl --system tree --list $B 2>&1)
check "... it reaches the broker's tree" grep -qx "$P" <<<"$out"
check "... and finds no desktop in it" not grep -q desktop/ <<<"$out"
out=$(as 1 busctl --system call $B $D $B.Desktop Stop b true 2>&1)
check "uid 1 calling Stop on the object: polkit refuses ($out)" grep -q "Not authorized for org.vdesk.broker1.manage" <<<"$out"
out=$(as 1 busctl --system call $B $P/desktop/nonesuch $B.Desktop Stop b true 2>&1)
check "... the same answer for a desktop that is not there ($out)" grep -q "Not authorized for org.vdesk.broker1.manage" <<<"$out"
out=$(busctl --system call $B $P/desktop/nonesuch $B.Desktop Stop b true 2>&1)
check "root calling Stop on a desktop that is not there: NoSuchDesktop ($out)" grep -q "No desktop 'nonesuch'" <<<"$out"
check "the admin saw the state changes" grep -q "$D: org.freedesktop.DBus.Properties.PropertiesChanged ('$B.Desktop', {'State': <'running'>" "$T/signals-admin.log"
check "root saw them" grep -q "$D: org.freedesktop.DBus.Properties.PropertiesChanged ('$B.Desktop', {'State': <'running'>" "$T/signals-root.log"
check "uid 1 saw no signal of the broker's" not grep -q "^/org/vdesk/broker1" "$T/signals-other.log"

check "Delete on the object" busctl --system call $B $D $B.Desktop Delete
check "watch saw it removed" wait_until 5 grep -q " desktop alice-1 removed$" "$T/watch.log"
out=$(busctl --system get-property $B $D $B.Desktop State 2>&1)
check "the object is gone ($out)" grep -q "Unknown object '$D'" <<<"$out"
check "... and InterfacesRemoved said so" grep -q "$P: org.freedesktop.DBus.ObjectManager.InterfacesRemoved (objectpath '$D'" "$T/signals-root.log"
finish
