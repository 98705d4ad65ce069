#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The staff's path on a private host with real libvirtd, QEMU, MariaDB,
# polkitd and the hook: an admin models a department with a category; a
# staff member (an unprivileged uid) signs in, sees the category, opens a
# desktop that does not exist yet (the broker makes it from the category's
# template), reads the guest's banner through the forward from another
# machine, gets the category's redirection policy in the .rdp file, cannot
# open another account's desktop, and signs out; the dead token opens
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
check "  ... and no desktop row" test "$(sql "SELECT COUNT(*) FROM desktops d JOIN accounts a ON a.id = d.account_id WHERE a.name = 'ann'")" = 0

t0=$(date +%s.%N)
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
out=$(staff open-mine 2>&1)
check "open-mine without a name opens her one desktop again, not a second one" \
        grep -q "^Desktop office-ann answers at 10.77.0.1:50001\.$" <<<"$out"
check "  ... still one desktop" test "$(sql "SELECT COUNT(*) FROM desktops d JOIN accounts a ON a.id = d.account_id WHERE a.name = 'ann'")" = 1

# what a token may not do
before=$(sql "SELECT name, state FROM desktops ORDER BY name")
out=$(staff open-mine bob-1 2>&1)
check "ann cannot open bob's desktop: NotYourDesktop ($out)" \
        test "$out" = "vdeskctl: Desktop 'bob-1' is not one of ann's (org.vdesk.Error.NotYourDesktop)"
check "  ... bob's desktop stays stopped" test "$(virsh domstate bob-1)" = "shut off"
check "  ... journaled with both accounts" \
        test "$(journal_json MESSAGE_ID="$(mid ACCESS_DENIED)" VDESK_DESKTOP=bob-1 | jq -r '"\(.VDESK_ACCOUNT) \(.VDESK_OWNER)"')" = "ann bob"
out=$(staff open-mine warehouse 2>&1)
check "a category that is not hers: NoSuchDesktop ($out)" grep -qF "ann has no desktop and no category 'warehouse' (org.vdesk.Error.NoSuchDesktop)" <<<"$out"
out=$(staff open-mine 'a/b' 2>&1)
check "a name that cannot be a desktop's: InvalidArgs naming the field ($out)" \
        grep -qF "Invalid name: may hold only" <<<"$out"
out=$(TOKEN=$(printf '%064x' 7) staff open-mine office 2>&1)
check "a forged token: InvalidToken from the directory ($out)" grep -qF "(org.vdesk.Error.InvalidToken)" <<<"$out"
out=$(TOKEN=bad staff my-desktops 2>&1)
check "a malformed token: InvalidToken ($out)" grep -qF "Invalid token: not a vdesk session token (org.vdesk.Error.InvalidToken)" <<<"$out"
check "  ... nothing changed" test "$before" = "$(sql "SELECT name, state FROM desktops ORDER BY name")"
out=$(ctl delete-category office 2>&1)
check "the category cannot go while it has a desktop ($out)" grep -qF "(org.vdesk.Error.CategoryInUse)" <<<"$out"

check "ann signs out" staff sign-out
check "  ... offline" test "$(ctl account ann | sed -n 's/^  State: //p')" = offline
out=$(staff open-mine office 2>&1)
check "the token opens nothing after sign-out ($out)" grep -qF "(org.vdesk.Error.InvalidToken)" <<<"$out"

check "journal: the desktop's creation names ann and the category" \
        test "$(journal_json MESSAGE_ID="$(mid DESKTOP_CREATED)" VDESK_DESKTOP=office-ann | jq -r '"\(.VDESK_ACCOUNT) \(.VDESK_CATEGORY) \(.VDESK_ACTOR_UID)"')" = "ann office 1"
check "journal: opened twice" test "$(journal_json MESSAGE_ID="$(mid DESKTOP_OPENED)" VDESK_DESKTOP=office-ann | wc -l)" = 2
journalctl --no-pager -o json >"$T/journal.json" 2>/dev/null
check "  ... the grep below finds what is there" grep -qF '"VDESK_ACCOUNT":"ann"' "$T/journal.json"
for secret in "$TOKEN" "$PW" "$code"; do
        check "no token, password or code in the journal (${#secret} characters)" bash -c '! grep -qF -- "$1" "$2"' _ "$secret" "$T/journal.json"
done

check "stop ann's desktop" ctl stop office-ann --force
finish
