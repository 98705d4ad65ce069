#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The staff's path on a private host with real libvirtd, QEMU, MariaDB,
# polkitd and the hook: an admin models a department with a category; a
# staff member (an unprivileged uid) signs in, sees the category, opens a
# desktop that does not exist yet (the broker makes it from the category's
# template), reads the guest's banner through the forward from another
# machine, gets the category's redirection policy in the .rdp file, sees
# its details (category, state and since when), restarts it when hung (a
# new QEMU, answering again), cannot open or restart another account's
# desktop; a manager of her department sees her desktop, she sees no
# one's; she signs out and the dead token opens, restarts and lists
# nothing.
. "$VDESK_SRC/tests/lib/harness.sh"
. "$VDESK_SRC/tests/lib/host.sh"
host_enter "$@"
need_cmd setpriv
host_start_desktops <<X
[Directory]
YescryptCost=3
X

C=vdc-$$
netns_add $C
veth_pair - vdh-c0 10.77.0.1/24 $C vdh-c1 10.77.0.2/24
ip -n $C route add default via 10.77.0.1
"$VDESK_SRC/tests/guest/build-template" "$T/templates/tiny.img" >/dev/null || die "cannot build the template"

# the admin's side
check "register the template" ctl register-template tiny "$T/templates/tiny.img"
check "department sales" ctl create-department sales --unit=ACME
check "category office: template tiny, printers and USB only" \
        ctl create-category office tiny --redirect=printers,usb
check "  ... linked to sales" ctl link-category office sales
printf 'id,name,department\nann,"Smith, Ann",sales\nbob,Bob,\n' >"$T/staff.csv"
check "import ann (sales) and bob (no department)" bash -c "$(declare -f ctl); ctl import-staff '$T/staff.csv' >'$T/codes.csv'"
code=$(sed -n 's/^ann,//p' "$T/codes.csv")
check "vdeskctl department sales: ann is its one staff member" \
        bash -c "$(declare -f ctl); ctl department sales | grep -qx '     Staff: 1' && test \"\$(ctl department-staff sales)\" = ann"
PW='Ann-Pass-2026'
check "ann activates her account" bash -c "printf '%s\n%s\n' '$code' '$PW' | setpriv --reuid=1 --regid=1 --clear-groups '$VDESK_BUILD/src/vdeskctl/vdeskctl' activate ann"
check "bob gets a password from the admin" bash -c "echo Bob-Pass-2026 | '$VDESK_BUILD/src/vdeskctl/vdeskctl' reset-password bob"
check "an admin-made desktop for bob" ctl create bob-1 bob tiny

# ann signs in
TOKEN=$(echo "$PW" | staff sign-in ann 2>"$T/signin.err")
check "ann signs in (uid 1) $(cat "$T/signin.err")" bash -c '[[ $1 =~ ^[0-9a-f]{64}$ ]]' _ "$TOKEN"
out=$(staff my-desktops 2>&1)
check "my-desktops: none yet, category office offered ($out)" grep -qF "(category office: a desktop is made on first open-mine office)" <<<"$out"
# her desktops with details, and a manager's view of the staff, through
# the bus as the portal calls them (uid 1, the token authenticates)
staff_json() {
        local m=$1; shift
        setpriv --reuid=1 --regid=1 --clear-groups busctl --system --json=short call org.vdesk.broker1 \
                /org/vdesk/broker1 org.vdesk.broker1.Manager "$m" "$@"
}
check "  ... and no desktop row" test "$(sql "SELECT COUNT(*) FROM desktops d JOIN accounts a ON a.id = d.account_id WHERE a.name = 'ann'")" = 0
out=$(staff_json ListMyDesktopDetails s "$TOKEN" 2>&1)
check "ListMyDesktopDetails: no desktop, category office offered ($out)" test "$(jq -c .data <<<"$out")" = '[[],["office"]]'
out=$(staff restart-mine office 2>&1)
check "restart-mine of a category she has no desktop of yet: NoSuchDesktop ($out)" \
        grep -qF "ann has no desktop of category office yet; open it first (org.vdesk.Error.NoSuchDesktop)" <<<"$out"
check "  ... and none made" test "$(sql "SELECT COUNT(*) FROM desktops")" = 1

t0=$(date +%s.%N)
t0us=$(date +%s%6N)
out=$(staff open-mine office --rdp-file=- 2>&1)
t1=$(date +%s.%N)
check "open-mine office creates, starts and opens her desktop ($(echo "$t1 - $t0" | bc) s)" \
        grep -q "^Desktop office-ann answers at 10.77.0.1:50001\.$" <<<"$out"
check "  ... made from the category's template" \
        test "$(broker_json GetDesktop s office-ann | jq -r '.data[0] | "\(.[2]) \(.[3]) \(.[7])"')" = "ann tiny running"
check "  ... recorded with its category" test "$(sql "SELECT c.name FROM desktops d JOIN categories c ON c.id = d.category_id WHERE d.name = 'office-ann'")" = office
check "  ... the .rdp file carries the category's policy: printers and USB on" \
        test "$(grep -cE '^(redirectprinters:i:1|usbdevicestoredirect:s:\*)' <<<"$out")" = 2
check "  ... clipboard and drives off" \
        test "$(grep -cE '^(redirectclipboard:i:0|redirectdrives:i:0)' <<<"$out")" = 2
check "  ... and the FreeRDP line agrees" grep -qE "xfreerdp /v:10.77.0.1:50001 /u:ann /t:office-ann -clipboard /printer /usb:auto$" <<<"$out"
addr=$(broker_json GetDesktop s office-ann | jq -r '.data[0][4]')
line=$(tcp_line $C 10.77.0.1 50001)
check "a client on another machine reads ann's guest banner through the forward ($line)" \
        test "$line" = "VDESK-TEST-GUEST ip=$addr"
check "the disk is an overlay of the template" \
        test "$(qemu-img info -U --output=json "$T/disks/office-ann.qcow2" | jq -r '."backing-filename"')" = "$T/templates/tiny.img"
out=$(staff my-desktops 2>&1)
check "my-desktops lists it and offers no category now ($out)" \
        bash -c '[[ $(grep -cE "^office-ann +ann +tiny" <<<"$1") = 1 && $1 != *"(category"* ]]' _ "$out"

# the portal's view of her desktop
host=$(broker_json GetDesktop s office-ann | jq -r '.data[0][8]')
details=$(staff_json ListMyDesktopDetails s "$TOKEN" 2>&1)
check "ListMyDesktopDetails: office-ann of ann, category office, template tiny, running on $host, port 50001 ($details)" \
        test "$(jq -r '.data[0][] | "\(.[0]) \(.[1]) \(.[2]) \(.[3]) \(.[4]) \(.[6]) \(.[7])"' <<<"$details")" = \
        "office-ann ann office tiny running $host 50001"
check "  ... one desktop, no category without one" test "$(jq -c '[(.data[0] | length), .data[1]]' <<<"$details")" = '[1,[]]'
since=$(jq -r '.data[0][0][5]' <<<"$details")
now=$(date +%s%6N)
check "  ... running since ($since) it was opened ($t0us) and not after now ($now)" \
        test "$since" -ge "$t0us" -a "$since" -le "$now"
check "  ... the same time the database has" \
        test "$since" = "$(sql "SELECT CAST(UNIX_TIMESTAMP(state_changed_at) * 1000000 AS UNSIGNED) FROM desktops WHERE name = 'office-ann'")"

out=$(staff open-mine 2>&1)
check "open-mine without a name opens her one desktop again, not a second one" \
        grep -q "^Desktop office-ann answers at 10.77.0.1:50001\.$" <<<"$out"
check "  ... still one desktop" test "$(sql "SELECT COUNT(*) FROM desktops d JOIN accounts a ON a.id = d.account_id WHERE a.name = 'ann'")" = 1
check "  ... still running since $since: opening a running desktop changes no state" \
        test "$(staff_json ListMyDesktopDetails s "$TOKEN" | jq -r '.data[0][0][5]')" = "$since"

# a hung desktop: restarted by a power-cycle, a new QEMU
pid=$(cat /run/libvirt/qemu/office-ann.pid)
check "office-ann runs in QEMU $pid" kill -0 "$pid"
out=$(staff restart-mine office-ann 2>&1)
check "restart-mine office-ann: it answers again ($out)" grep -q "^Desktop office-ann answers at 10.77.0.1:50001\.$" <<<"$out"
pid2=$(cat /run/libvirt/qemu/office-ann.pid)
check "  ... in another QEMU ($pid2, was $pid)" test -n "$pid2" -a "$pid2" != "$pid"
check "  ... the old one is gone" not kill -0 "$pid"
line=$(tcp_line $C 10.77.0.1 50001)
check "  ... a client reads the guest's banner through the forward again ($line)" \
        test "$line" = "VDESK-TEST-GUEST ip=$addr"
check "  ... journaled: restarted by ann, uid 1, on $host" \
        test "$(journal_json MESSAGE_ID="$(mid DESKTOP_RESTARTED)" VDESK_DESKTOP=office-ann |
                jq -r '"\(.VDESK_ACCOUNT) \(.VDESK_ACTOR_UID) \(.VDESK_HOST)"')" = "ann 1 $host"
check "  ... its stop journaled with uid 1 as the actor" \
        test "$(journal_json MESSAGE_ID="$(mid DESKTOP_STOPPED)" VDESK_DESKTOP=office-ann | jq -r .VDESK_ACTOR_UID)" = 1
since2=$(staff_json ListMyDesktopDetails s "$TOKEN" | jq -r '.data[0][0][5]')
check "  ... running since the restart ($since2 > $since)" test "$since2" -gt "$since"

# what a token may not do
before=$(sql "SELECT name, state FROM desktops ORDER BY name")
out=$(staff open-mine bob-1 2>&1)
check "ann cannot open bob's desktop: NotYourDesktop ($out)" \
        test "$out" = "vdeskctl: Desktop 'bob-1' is not one of ann's (org.vdesk.Error.NotYourDesktop)"
check "  ... bob's desktop stays stopped" test "$(virsh domstate bob-1)" = "shut off"
check "  ... journaled with both accounts" \
        test "$(journal_json MESSAGE_ID="$(mid ACCESS_DENIED)" VDESK_DESKTOP=bob-1 | jq -r '"\(.VDESK_ACCOUNT) \(.VDESK_OWNER)"')" = "ann bob"
out=$(staff restart-mine bob-1 2>&1)
check "ann cannot restart bob's desktop: NotYourDesktop ($out)" \
        test "$out" = "vdeskctl: Desktop 'bob-1' is not one of ann's (org.vdesk.Error.NotYourDesktop)"
check "  ... bob's desktop stays stopped" test "$(virsh domstate bob-1)" = "shut off"
check "  ... journaled as a refused restart, with both accounts" \
        test "$(journal_json MESSAGE_ID="$(mid ACCESS_DENIED)" VDESK_DESKTOP=bob-1 |
                jq -r 'select(.MESSAGE | test("may not restart")) | "\(.VDESK_ACCOUNT) \(.VDESK_OWNER) \(.VDESK_ACTOR_UID)"')" = "ann bob 1"
out=$(staff restart-mine nosuch 2>&1)
check "restarting a desktop that does not exist: NoSuchDesktop ($out)" \
        grep -qF "ann has no desktop and no category 'nosuch' (org.vdesk.Error.NoSuchDesktop)" <<<"$out"
out=$(staff restart-mine 'a/b' 2>&1)
check "restarting a name that cannot be a desktop's: InvalidArgs naming the field ($out)" \
        grep -qF "Invalid name: may hold only" <<<"$out"
out=$(staff open-mine warehouse 2>&1)
check "a category that is not hers: NoSuchDesktop ($out)" grep -qF "ann has no desktop and no category 'warehouse' (org.vdesk.Error.NoSuchDesktop)" <<<"$out"
out=$(staff open-mine 'a/b' 2>&1)
check "a name that cannot be a desktop's: InvalidArgs naming the field ($out)" \
        grep -qF "Invalid name: may hold only" <<<"$out"
out=$(TOKEN=$(printf '%064x' 7) staff open-mine office 2>&1)
check "a forged token: InvalidToken from the directory ($out)" grep -qF "(org.vdesk.Error.InvalidToken)" <<<"$out"
out=$(staff_json ListManagedDesktops s "$TOKEN" 2>&1)
check "ann manages nothing: ListManagedDesktops is empty, not an error ($out)" test "$(jq -c .data <<<"$out")" = '[[]]'
out=$(staff managed-desktops 2>&1)
check "  ... vdeskctl managed-desktops prints its header alone ($out)" bash -c '[[ $1 == DEPARTMENT* && $(wc -l <<<"$1") = 1 ]]' _ "$out"
out=$(TOKEN=bad staff my-desktops 2>&1)
check "a malformed token: InvalidToken ($out)" grep -qF "Invalid token: not a vdesk session token (org.vdesk.Error.InvalidToken)" <<<"$out"
check "  ... nothing changed" test "$before" = "$(sql "SELECT name, state FROM desktops ORDER BY name")"
out=$(ctl delete-category office 2>&1)
check "the category cannot go while it has a desktop ($out)" grep -qF "(org.vdesk.Error.CategoryInUse)" <<<"$out"

check "ann signs out" staff sign-out
check "  ... offline" test "$(ctl account ann | sed -n 's/^  State: //p')" = offline
out=$(staff open-mine office 2>&1)
check "the token opens nothing after sign-out ($out)" grep -qF "(org.vdesk.Error.InvalidToken)" <<<"$out"
out=$(staff restart-mine office-ann 2>&1)
check "  ... restarts nothing ($out)" grep -qF "(org.vdesk.Error.InvalidToken)" <<<"$out"
check "  ... office-ann still runs in QEMU $pid2" test "$(cat /run/libvirt/qemu/office-ann.pid)" = "$pid2"
out=$(setpriv --reuid=1 --regid=1 --clear-groups dbus-send --system --print-reply --dest=org.vdesk.broker1 \
        /org/vdesk/broker1 org.vdesk.broker1.Manager.ListMyDesktopDetails string:"$TOKEN" 2>&1)
check "  ... lists no details ($out)" grep -qF "Error org.vdesk.Error.InvalidToken: Invalid token: unknown or expired" <<<"$out"
out=$(staff managed-desktops 2>&1)
check "  ... and no managed desktops ($out)" grep -qF "(org.vdesk.Error.InvalidToken)" <<<"$out"

# a manager of sales: ann's desktop, and dan's lack of one
check "carol, a manager" ctl create-account carol "Carol Jones" --role=manager
check "  ... with a password" bash -c "echo Carol-Pass-2026 | '$VDESK_BUILD/src/vdeskctl/vdeskctl' reset-password carol"
check "  ... manages sales" ctl add-manager sales carol
check "dan, in sales, without a desktop" bash -c "$(declare -f ctl); ctl create-account dan Dan && ctl add-staff sales dan"
ann_token=$TOKEN
TOKEN=$(echo Carol-Pass-2026 | staff sign-in carol 2>"$T/signin.err")
check "carol signs in $(cat "$T/signin.err")" bash -c '[[ $1 =~ ^[0-9a-f]{64}$ ]]' _ "$TOKEN"
out=$(setpriv --reuid=1 --regid=1 --clear-groups busctl --system --json=short call org.vdesk.directory1 \
        /org/vdesk/directory1 org.vdesk.directory1.Manager ListManagedStaff s "$TOKEN" 2>&1)
check "ListManagedStaff: carol's staff are ann and dan of sales ($out)" \
        test "$(jq -c .data <<<"$out")" = '["carol",[["sales","ann","Smith, Ann"],["sales","dan","Dan"]]]'
since3=$(sql "SELECT CAST(UNIX_TIMESTAMP(state_changed_at) * 1000000 AS UNSIGNED) FROM desktops WHERE name = 'office-ann'")
out=$(staff_json ListManagedDesktops s "$TOKEN" 2>&1)
check "ListManagedDesktops: ann's office-ann running since $since3, dan without a desktop; not bob's ($out)" \
        test "$(jq -c .data <<<"$out")" = "[[[\"sales\",\"ann\",\"Smith, Ann\",\"office-ann\",\"running\",$since3],[\"sales\",\"dan\",\"Dan\",\"\",\"\",0]]]"
out=$(staff managed-desktops 2>&1)
check "vdeskctl managed-desktops: ann's row ($out)" grep -qE "^sales +ann +office-ann +running +[0-9-]+ [0-9:]+ UTC +Smith, Ann$" <<<"$out"
check "  ... and dan's, without a desktop" grep -qE "^sales +dan +- +- +- +Dan$" <<<"$out"
out=$(staff restart-mine office-ann 2>&1)
check "carol cannot restart ann's desktop: NotYourDesktop ($out)" \
        test "$out" = "vdeskctl: Desktop 'office-ann' is not one of carol's (org.vdesk.Error.NotYourDesktop)"
check "  ... office-ann still runs in QEMU $pid2" test "$(cat /run/libvirt/qemu/office-ann.pid)" = "$pid2"
check "carol signs out" staff sign-out

check "journal: the desktop's creation names ann and the category" \
        test "$(journal_json MESSAGE_ID="$(mid DESKTOP_CREATED)" VDESK_DESKTOP=office-ann | jq -r '"\(.VDESK_ACCOUNT) \(.VDESK_CATEGORY) \(.VDESK_ACTOR_UID)"')" = "ann office 1"
check "journal: opened three times (open-mine twice, restart-mine once)" \
        test "$(journal_json MESSAGE_ID="$(mid DESKTOP_OPENED)" VDESK_DESKTOP=office-ann | wc -l)" = 3
journalctl --no-pager -o json >"$T/journal.json" 2>/dev/null
check "  ... the grep below finds what is there" grep -qF '"VDESK_ACCOUNT":"ann"' "$T/journal.json"
for secret in "$ann_token" "$TOKEN" "$PW" "$code"; do
        check "no token, password or code in the journal (${#secret} characters)" bash -c '! grep -qF -- "$1" "$2"' _ "$secret" "$T/journal.json"
done

# a stopped desktop is started, not restarted; one without a domain is
# not ready
check "stop ann's desktop" ctl stop office-ann --force
check "  ... shut off" wait_until 20 bash -c 'test "$(virsh domstate office-ann)" = "shut off"'
TOKEN=$(echo "$PW" | staff sign-in ann 2>"$T/signin.err")
check "ann signs in again $(cat "$T/signin.err")" bash -c '[[ $1 =~ ^[0-9a-f]{64}$ ]]' _ "$TOKEN"
out=$(staff restart-mine office-ann 2>&1)
check "restart-mine of her stopped desktop starts it ($out)" grep -q "^Desktop office-ann answers at 10.77.0.1:50001\.$" <<<"$out"
check "  ... not journaled as a restart" \
        test "$(journal_json MESSAGE_ID="$(mid DESKTOP_RESTARTED)" VDESK_DESKTOP=office-ann | wc -l)" = 1
check "  ... its start journaled with uid 1 as the actor" \
        test "$(journal_json MESSAGE_ID="$(mid DESKTOP_STARTED)" VDESK_DESKTOP=office-ann | jq -r .VDESK_ACTOR_UID | sort -u)" = 1
check "stop it again" ctl stop office-ann --force
check "  ... shut off" wait_until 20 bash -c 'test "$(virsh domstate office-ann)" = "shut off"'
check "its domain goes (as if it were still being defined)" virsh undefine office-ann
before=$(sql "SELECT name, state, state_changed_at FROM desktops ORDER BY name")
out=$(staff restart-mine office-ann 2>&1)
check "restart-mine of a desktop without a domain: NotReady ($out)" \
        grep -qF "Desktop office-ann has no domain on $host yet; try again later (org.vdesk.Error.NotReady)" <<<"$out"
check "  ... nothing changed" test "$before" = "$(sql "SELECT name, state, state_changed_at FROM desktops ORDER BY name")"
check "  ... no domain was made" not virsh dominfo office-ann
finish
