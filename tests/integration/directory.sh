#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdesk-directoryd's admin API with a real MariaDB, a private bus and a
# real polkitd (on a private host, tests/lib/host.sh, for polkit's action
# directory): every method's happy path, paging and filters, each refusal
# a named error with nothing changed, unprivileged callers refused, and no
# password or hash anywhere in the journal.
. "$VDESK_SRC/tests/lib/harness.sh"
. "$VDESK_SRC/tests/lib/host.sh"
host_enter "$@"
need_cmd dbus-send jq setpriv

# polkit's two actions apart: bin (uid 2) is granted only
# org.vdesk.directory1.read; nobody is in vdesk-admin, which the shipped
# rule grants both.
host_polkit_grant bin org.vdesk.directory1.read
host_vdesk_admin nobody

host_start_journal
host_start_bus
host_start_polkit
host_start_mariadb
host_write_config <<X
[Directory]
YescryptCost=3
MaxFailedSignins=3
SessionPurgeSec=1
# no throttling per source until the part that tests it: the racing
# sign-ins below are more failures from root than the default 20
MaxFailedPerSource=0
X
host_start_directory

PW1='Alice-Pass-2024' PW2='Second-Pass-2025' WEAK='short1'
rows() { sql "SELECT name, role, full_name, COALESCE(email, '-'), COALESCE(password_hash, '-') FROM accounts ORDER BY name"; }
# refused_in STATE DESCRIPTION ERROR-NAME TEXT METHOD ARGS...: named error,
# message naming the field, and what the function STATE prints as it was.
refused_in() {
        local state=$1 what=$2 name=$3 text=$4 method=$5; shift 5
        local before out
        before=$($state)
        out=$(dbus-send --system --print-reply --dest=org.vdesk.directory1 /org/vdesk/directory1 \
                "org.vdesk.directory1.Manager.$method" "$@" 2>&1) && { check "$what: unexpectedly succeeded" false; return; }
        check "$what: $name" grep -qF "Error $name: " <<<"$out"
        check "  ... says '$text' ($out)" grep -qF "$text" <<<"$out"
        check "  ... nothing changed" test "$before" = "$($state)"
}
refused() { refused_in rows "$@"; }
IA=org.freedesktop.DBus.Error.InvalidArgs E=org.vdesk.Error

check "CreateAccount alice (staff, with a password)" dir_call CreateAccount sssss alice "Alice Liddell" staff "" "$PW1"
check "CreateAccount bob (manager, e-mail, no password)" dir_call CreateAccount sssss bob "Bob Dylan" manager bob@example.org ""
a=$(busctl --system --json=short call org.vdesk.directory1 /org/vdesk/directory1 org.vdesk.directory1.Manager GetAccount s alice)
check "GetAccount alice" test "$(jq -r '.data[0] | "\(.[0])|\(.[1])|\(.[2])|\(.[3])|\(.[4])"' <<<"$a")" = "alice|Alice Liddell|staff||offline"
check "  ... with its created time" test "$(jq -r '.data[0][5] > 1700000000000000' <<<"$a")" = true
hash=$(sql "SELECT password_hash FROM accounts WHERE name = 'alice'")
check "the password is stored as a yescrypt hash" bash -c "[[ '$hash' == '\$y\$'* ]]"
check "bob has no password" test "$(sql "SELECT password_hash IS NULL FROM accounts WHERE name = 'bob'")" = 1

refused "empty id" $IA "Invalid id: is empty" CreateAccount string: string:X string:staff string: string:
refused "300-byte id" $IA "Invalid id: is longer than 63 bytes" CreateAccount string:$(printf 'a%.0s' $(seq 300)) string:X string:staff string: string:
refused "id with /" $IA "Invalid id: may hold only" CreateAccount string:a/b string:X string:staff string: string:
refused "id with a control character" $IA "Invalid id: may hold only" CreateAccount string:$'a\tb' string:X string:staff string: string:
refused "empty name" $IA "Invalid name: is empty" CreateAccount string:carol string: string:staff string: string:
refused "name with a control character" $IA "Invalid name: contains control characters" CreateAccount string:carol string:$'Ca\x01rol' string:staff string: string:
refused "unknown role" $IA "Invalid role: is not one of staff, manager, admin" CreateAccount string:carol string:Carol string:boss string: string:
refused "bad e-mail" $IA "Invalid email: is not of the form name@domain.tld" CreateAccount string:carol string:Carol string:staff string:carol@ string:
refused "password too short" $E.WeakPassword "Invalid password: is shorter than 10 characters" CreateAccount string:carol string:Carol string:staff string: string:$WEAK
refused "password of one kind of character" $E.WeakPassword "Invalid password: must mix at least 3 of" CreateAccount string:carol string:Carol string:staff string: string:onlylowercaseletters
refused "duplicate id" $E.AccountExists "Invalid id: account 'alice' exists already" CreateAccount string:alice string:Other string:staff string: string:
check "invalid UTF-8 in a name cannot reach the service (the bus refuses it)" \
        bash -c "! busctl --system call org.vdesk.directory1 /org/vdesk/directory1 org.vdesk.directory1.Manager CreateAccount sssss carol $'C\xffrol' staff '' '' 2>/dev/null"

# paging and filters
for i in $(seq -w 1 24); do dir_call CreateAccount sssss "s$i" "Staff $i" staff "" "" >/dev/null; done
list() { busctl --system --json=short call org.vdesk.directory1 /org/vdesk/directory1 org.vdesk.directory1.Manager ListAccounts sssuu "$@"; }
p=$(list "" "" "" 0 10)
check "a page of 10 of 26, total 26" test "$(jq -r '"\(.data[0] | length) \(.data[1])"' <<<"$p")" = "10 26"
check "  ... ordered by id" test "$(jq -r '[.data[0][][0]] | join(",")' <<<"$p")" = "alice,bob,s01,s02,s03,s04,s05,s06,s07,s08"
check "the last page holds the rest" test "$(list "" "" "" 20 10 | jq -r '[.data[0][][0]] | join(",")')" = "s19,s20,s21,s22,s23,s24"
check "filter by role" test "$(list manager "" "" 0 100 | jq -r '"\([.data[0][][0]] | join(",")) \(.data[1])"')" = "bob 1"
check "filter by state" test "$(list "" "" online 0 100 | jq -r '.data[1]')" = 0
sql "INSERT INTO departments (name, unit) VALUES ('sales', 'ACME')"
sql "INSERT INTO department_members (department_id, account_id) SELECT d.id, a.id FROM departments d, accounts a WHERE d.name = 'sales' AND a.name IN ('s01', 's02')"
check "filter by department" test "$(list "" sales "" 0 100 | jq -r '[.data[0][][0]] | join(",")')" = "s01,s02"
refused "unknown department in a filter" $E.NoSuchDepartment "No department 'nowhere'" ListAccounts string: string:nowhere string: uint32:0 uint32:10
refused "unknown role in a filter" $IA "Invalid role" ListAccounts string:boss string: string: uint32:0 uint32:10
refused "a page of 0" $IA "Invalid limit: must be 1 to 1000" ListAccounts string: string: string: uint32:0 uint32:0

# changes
check "SetAccountName" dir_call SetAccountName ss alice "Alice P. Liddell"
check "  ... the same name again is no error (the row matched, though nothing changed)" \
        dir_call SetAccountName ss alice "Alice P. Liddell"
check "SetAccountEmail" dir_call SetAccountEmail ss alice alice@example.org
check "  ... both stored" test "$(sql "SELECT CONCAT(full_name, '|', email) FROM accounts WHERE name = 'alice'")" = "Alice P. Liddell|alice@example.org"
check "SetAccountEmail to empty clears it" dir_call SetAccountEmail ss alice ""
refused "SetAccountName of an unknown account" $E.NoSuchAccount "No account 'ghost'" SetAccountName string:ghost string:Ghost
check "ResetPassword" dir_call ResetPassword ss bob "$PW2"
bobhash=$(sql "SELECT password_hash FROM accounts WHERE name = 'bob'")
check "  ... bob has a yescrypt hash now" bash -c '[[ $1 == "\$y\$"* ]]' _ "$bobhash"
refused "ResetPassword to a weak one" $E.WeakPassword "Invalid password: is shorter than 10 characters" ResetPassword string:alice string:$WEAK

# deletion
sql "INSERT INTO templates (name, format) VALUES ('t', 'raw')"
# a department network as the broker's catalog keeps it (10.30.0.0/24)
sql "INSERT INTO networks (name, subnet, prefix, gateway, range_start, range_end, segment, vlan_id, uplink, mtu)
     VALUES ('sales-net', 169738240, 24, 169738241, 169738250, 169738490, 'vlan', 30, 'eth1', 1500)"
sql "INSERT INTO template_versions (template_id, version, path, format) SELECT id, 1, '/x/t.img', 'raw' FROM templates WHERE name = 't'"
sql "INSERT INTO desktops (name, uuid, account_id, template_id, template_version_id, disk_path, address, mac, rdp_port) SELECT 'd1', 'u1', a.id, t.id, v.id, '/x/d1.qcow2', 1, 'm1', 50000 FROM accounts a, templates t JOIN template_versions v ON v.template_id = t.id WHERE a.name = 's03'"
refused "DeleteAccount of an account with desktops" $E.AccountInUse "Account 's03' still has desktops" DeleteAccount string:s03
check "DeleteAccount s01 (a department member)" dir_call DeleteAccount s s01
check "  ... its membership went with it" test "$(sql "SELECT COUNT(*) FROM department_members")" = 1
refused "DeleteAccount again" $E.NoSuchAccount "No account 's01'" DeleteAccount string:s01

# departments, categories and their links
orgrows() { sql "SELECT name, unit, COALESCE(founded, '-') FROM departments ORDER BY name; SELECT * FROM department_members ORDER BY 1, 2; SELECT * FROM department_managers ORDER BY 1, 2; SELECT name, COALESCE(template_id, '-'), COALESCE(network_id, '-'), redirect_printers, redirect_drives, redirect_clipboard, redirect_usb FROM categories ORDER BY name; SELECT * FROM category_departments ORDER BY 1, 2; SELECT * FROM category_managers ORDER BY 1, 2"; }
orefused() { refused_in orgrows "$@"; }
check "CreateDepartment eng" dir_call CreateDepartment ssq eng "ACME Research" 1999
orefused "duplicate department" $E.DepartmentExists "Invalid name: department 'eng' exists already" CreateDepartment string:eng string:x uint16:0
orefused "department founded in year 99" $IA "Invalid founded: 99 is not a year" CreateDepartment string:ops string:x uint16:99
orefused "department name with a space" $IA "Invalid name: may hold only" CreateDepartment "string:my dept" string:x uint16:0
check "AddDepartmentStaff eng s02" dir_call AddDepartmentStaff ss eng s02
check "  ... again is fine" dir_call AddDepartmentStaff ss eng s02
check "ListDepartmentStaff eng" test "$(dir_call ListDepartmentStaff s eng)" = 'as 1 "s02"'
orefused "staff of an unknown department" $E.NoSuchDepartment "Invalid department: no department 'ops'" AddDepartmentStaff string:ops string:s02
orefused "an unknown account as staff" $E.NoSuchAccount "Invalid account: no account 'ghost'" AddDepartmentStaff string:eng string:ghost
orefused "a staff account as a manager" $IA "Invalid account: 's04' is not a manager" AddDepartmentManager string:eng string:s04
check "AddDepartmentManager eng bob" dir_call AddDepartmentManager ss eng bob
check "ListDepartments counts staff and managers" \
        bash -c "busctl --system call org.vdesk.directory1 /org/vdesk/directory1 org.vdesk.directory1.Manager ListDepartments | grep -q '\"eng\" \"ACME Research\" 1999 1 1'"
check "GetDepartment eng: counts and its managers" \
        test "$(dir_call GetDepartment s eng)" = '(ssquu)as "eng" "ACME Research" 1999 1 1 1 "bob"'
orefused "GetDepartment of an unknown one" $E.NoSuchDepartment "No department 'ops'" GetDepartment string:ops
orefused "deleting a department with staff" $E.DepartmentInUse "Department 'eng' still has staff, managers or categories" DeleteDepartment string:eng
check "RemoveDepartmentStaff" dir_call RemoveDepartmentStaff ss eng s02
orefused "removing staff that is not there" $E.NotLinked "'s02' is not a member of department 'eng'" RemoveDepartmentStaff string:eng string:s02
check "RemoveDepartmentManager" dir_call RemoveDepartmentManager ss eng bob
check "DeleteDepartment eng, now empty" dir_call DeleteDepartment s eng
orefused "DeleteDepartment again" $E.NoSuchDepartment "No department 'eng'" DeleteDepartment string:eng

check "CreateCategory office (template t, network sales-net, no USB)" dir_call CreateCategory sssbbbb office t sales-net true true true false
orefused "a category with an unknown network" $E.NoSuchNetwork "Invalid network: no network 'vdesk'" CreateCategory string:c2 string:t string:vdesk boolean:true boolean:true boolean:true boolean:false
orefused "a category with an unknown template" $E.NoSuchTemplate "Invalid template: no template 'nope'" CreateCategory string:c2 string:nope string: boolean:true boolean:true boolean:true boolean:false
orefused "duplicate category" $E.CategoryExists "Invalid name: category 'office' exists already" CreateCategory string:office string: string: boolean:true boolean:true boolean:true boolean:false
check "LinkCategoryDepartment office sales" dir_call LinkCategoryDepartment ss office sales
check "LinkCategoryManager office bob" dir_call LinkCategoryManager ss office bob
orefused "a staff account as a category's manager" $IA "Invalid account: 's04' is not a manager" LinkCategoryManager string:office string:s04
orefused "deleting a linked category" $E.CategoryInUse "Category 'office' is still linked" DeleteCategory string:office
orefused "deleting a department a category uses" $E.DepartmentInUse "Department 'sales' still has" DeleteDepartment string:sales
check "UpdateCategory office: no template, printers off" dir_call UpdateCategory sssbbbb office "" sales-net false true true false
check "  ... the same again is no error" dir_call UpdateCategory sssbbbb office "" sales-net false true true false
check "ListCategories shows it" test "$(dir_call ListCategories)" = 'a(sssbbbb) 1 "office" "" "sales-net" false true true false'
# a category's properties (SetCategoryProperties a{sv}: gdbus writes a
# variant in a dictionary, and prints the error's name)
props() { sql "SELECT name, pool_size, pool_started, idle_stop_minutes FROM categories ORDER BY name"; }
setprops() { gdbus call --system --dest org.vdesk.directory1 --object-path /org/vdesk/directory1 \
        --method org.vdesk.directory1.Manager.SetCategoryProperties "$@" 2>&1; }
prefused() {
        local what=$1 name=$2 text=$3 before out; shift 3
        before=$(props)
        out=$(setprops "$@") && { check "$what: unexpectedly succeeded" false; return; }
        check "$what: $name ($out)" grep -qF "GDBus.Error:$name: $text" <<<"$out"
        check "  ... nothing changed" test "$before" = "$(props)"
}
check "a new category: pool and idle stop off" test "$(props)" = "office	0	0	0"
check "SetCategoryProperties office PoolSize=3 PoolStarted=2" setprops office "{'PoolSize': <uint32 3>, 'PoolStarted': <uint32 2>}"
check "  ... stored" test "$(props)" = "office	3	2	0"
check "  ... IdleStopMinutes=30 alone leaves the pool be" setprops office "{'IdleStopMinutes': <uint32 30>}"
check "  ... stored" test "$(props)" = "office	3	2	30"
check "GetCategoryProperties office" test "$(dir_call GetCategoryProperties s office)" = \
        'a{sv} 3 "PoolSize" u 3 "PoolStarted" u 2 "IdleStopMinutes" u 30'
prefused "an unknown property" $IA "Invalid property 'PoolMax': a category has PoolSize" office "{'PoolMax': <uint32 3>}"
prefused "a property of the wrong type" $IA "Invalid PoolSize: expects an unsigned 32-bit count (u)" office "{'PoolSize': <'3'>}"
prefused "PoolSize above 1000" $IA "Invalid PoolSize=1001: at most 1000" office "{'PoolSize': <uint32 1001>}"
prefused "IdleStopMinutes above a week" $IA "Invalid IdleStopMinutes=10081: at most 10080" office "{'IdleStopMinutes': <uint32 10081>}"
prefused "PoolStarted above PoolSize, given together" $IA "Invalid PoolStarted=4: more than PoolSize=3" office \
        "{'PoolSize': <uint32 3>, 'PoolStarted': <uint32 4>}"
prefused "PoolSize below the PoolStarted stored" $IA "Invalid PoolStarted=2: more than PoolSize=1" office "{'PoolSize': <uint32 1>}"
prefused "a valid one beside a bad one: neither set" $IA "Invalid IdleStopMinutes=99999" office \
        "{'PoolSize': <uint32 5>, 'IdleStopMinutes': <uint32 99999>}"
prefused "no property" $IA "Invalid properties: none given" office "@a{sv} {}"
prefused "an unknown category" $E.NoSuchCategory "No category 'ghost'" ghost "{'PoolSize': <uint32 1>}"
prefused "a bad category name" $IA "Invalid name: may hold only" "my cat" "{'PoolSize': <uint32 1>}"
out=$(dir_call GetCategoryProperties s ghost 2>&1)
check "GetCategoryProperties of an unknown one: refused ($out)" grep -q "No category 'ghost'" <<<"$out"
check "vdeskctl set-category office PoolSize=0 PoolStarted=0" ctl set-category office PoolSize=0 PoolStarted=0
check "  ... stored" test "$(props)" = "office	0	0	30"
check "vdeskctl show-category office" outputs "$(printf 'PoolSize=0\nPoolStarted=0\nIdleStopMinutes=30')" ctl show-category office
check "vdeskctl show-category -p IdleStopMinutes" outputs "IdleStopMinutes=30" ctl show-category -p IdleStopMinutes office
out=$(ctl set-category office PoolSize=x 2>&1)
check "vdeskctl set-category PoolSize=x: refused before asking ($out)" grep -q "'PoolSize=x' is not KEY=COUNT" <<<"$out"
out=$(ctl set-category office Pool=1 2>&1)
check "vdeskctl set-category Pool=1: the service's error ($out)" grep -q "Invalid property 'Pool'.*(org.freedesktop.DBus.Error.InvalidArgs)" <<<"$out"
check "the journal has the change with what was set" test "$(journal_json MESSAGE_ID=$(mid CATEGORY_CHANGED) \
        VDESK_CATEGORY=office VDESK_CHANGE=set | jq -r .VDESK_OTHER | tail -1)" = "PoolSize=0 PoolStarted=0"
orefused "UpdateCategory of an unknown one" $E.NoSuchCategory "No category 'ghost'" UpdateCategory string:ghost string: string: boolean:true boolean:true boolean:true boolean:false
check "unlink and delete" bash -c "busctl --system call org.vdesk.directory1 /org/vdesk/directory1 org.vdesk.directory1.Manager UnlinkCategoryDepartment ss office sales &&
        busctl --system call org.vdesk.directory1 /org/vdesk/directory1 org.vdesk.directory1.Manager UnlinkCategoryManager ss office bob &&
        busctl --system call org.vdesk.directory1 /org/vdesk/directory1 org.vdesk.directory1.Manager DeleteCategory s office"
check "  ... the tables are empty again" test "$(sql "SELECT COUNT(*) FROM categories")$(sql "SELECT COUNT(*) FROM category_departments")" = 00
check "journal: department and category changes" \
        test "$(journal_json VDESK_DEPARTMENT=eng | wc -l)" -ge 6 -a "$(journal_json VDESK_CATEGORY=office | wc -l)" -ge 6

# staff: sign in, token, sign out (any uid may: the password authenticates)
signin() { setpriv --reuid=1 --regid=1 --clear-groups busctl --system --json=short call org.vdesk.directory1 \
        /org/vdesk/directory1 org.vdesk.directory1.Manager SignIn ss "$@"; }
staff() { local m=$1; shift; dbus-send --system --print-reply --dest=org.vdesk.directory1 /org/vdesk/directory1 \
        "org.vdesk.directory1.Manager.$m" "$@" 2>&1; }
out=$(signin alice "$PW1")
token=$(jq -r '.data[0]' <<<"$out")
check "an unprivileged uid signs in as alice with her password" bash -c '[[ $1 =~ ^[0-9a-f]{64}$ ]]' _ "$token"
check "  ... the session lasts 8 h" test "$(jq -r "(.data[1] / 1000000 - $(date +%s)) / 3600 | round" <<<"$out")" = 8
state_of() { busctl --system --json=short call org.vdesk.directory1 /org/vdesk/directory1 \
        org.vdesk.directory1.Manager GetAccount s "$1" | jq -r '.data[0][4]'; }
check "  ... alice shows online" test "$(state_of alice)" = online
check "  ... and the state filter finds her" test "$(list "" "" online 0 100 | jq -r '[.data[0][][0]] | join(",")')" = alice
check "  ... only the token's SHA-256 is stored" \
        test "$(sql "SELECT token_hash FROM sessions")" = "$(printf %s "$token" | sha256sum | cut -d' ' -f1)"
check "WhoAmI with the token" bash -c "busctl --system call org.vdesk.directory1 /org/vdesk/directory1 \
        org.vdesk.directory1.Manager WhoAmI s $token | grep -q '\"alice\"'"
out=$(staff WhoAmI string:$(printf '%064x' 42))
check "a forged token: InvalidToken ($out)" grep -q "Error org.vdesk.Error.InvalidToken: Invalid token: unknown or expired" <<<"$out"
out=$(staff WhoAmI "string:not-a-token")
check "a malformed token: InvalidToken ($out)" grep -q "Error org.vdesk.Error.InvalidToken: Invalid token: not a vdesk session token" <<<"$out"
check "SignOut" dir_call SignOut s "$token"
check "  ... alice shows offline" test "$(state_of alice)" = offline
out=$(staff SignOut string:$token)
check "  ... the token is dead ($out)" grep -q "Error org.vdesk.Error.InvalidToken" <<<"$out"
token2=$(signin alice "$PW1" | jq -r '.data[0]')
sql "UPDATE sessions SET expires_at = NOW() - INTERVAL 1 SECOND"
out=$(staff WhoAmI string:$token2)
check "an expired token: InvalidToken ($out)" grep -q "Error org.vdesk.Error.InvalidToken: Invalid token: unknown or expired" <<<"$out"
check "  ... alice shows offline once her session ran out, without signing out" test "$(state_of alice)" = offline
check "  ... and the state filter agrees" test "$(list "" "" offline 0 100 | jq -r '.data[1]')" = "$(list "" "" "" 0 100 | jq -r '.data[1]')"

out=$(staff SignIn string:alice string:Wrong-Pass-99)
check "a wrong password: AuthenticationFailed ($out)" grep -q "Error org.vdesk.Error.AuthenticationFailed: Wrong id or password" <<<"$out"
out=$(staff SignIn string:nobody-here string:Wrong-Pass-99)
check "an unknown id: the same answer ($out)" grep -q "Error org.vdesk.Error.AuthenticationFailed: Wrong id or password" <<<"$out"
check "  ... counted" test "$(sql "SELECT failed_signins FROM accounts WHERE name = 'alice'")" = 1
staff SignIn string:alice string:Wrong-Pass-99 >/dev/null
out=$(staff SignIn string:alice string:Wrong-Pass-99)
check "the third failure locks the account ($out)" grep -q "Error org.vdesk.Error.AccountLocked: Wrong id or password; the account is now locked for 15 minutes" <<<"$out"
out=$(staff SignIn string:alice string:$PW1)
check "  ... and then the right password is refused too ($out)" grep -q "Error org.vdesk.Error.AccountLocked: The account is locked for another" <<<"$out"
check "  ... the lock is journaled with the peer" \
        test "$(journal_json MESSAGE_ID="$(mid ACCOUNT_LOCKED)" VDESK_ACCOUNT=alice | jq -r .VDESK_PEER)" != ""
# the clock moves on: the lock ran out 1 s ago
sql "UPDATE accounts SET locked_until = NOW() - INTERVAL 1 SECOND WHERE name = 'alice'"
token3=$(signin alice "$PW1" | jq -r '.data[0]')
check "after the lock ran out the right password works" bash -c '[[ $1 =~ ^[0-9a-f]{64}$ ]]' _ "$token3"
check "  ... and the sign-in cleared her session that had run out" test "$(sql "SELECT COUNT(*) FROM sessions")" = 1
check "  ... and the count starts again" test "$(sql "SELECT CONCAT(failed_signins, '|', COALESCE(locked_until, '-')) FROM accounts WHERE name = 'alice'")" = "0|-"
for i in 1 2 3; do staff SignIn string:alice string:Wrong-Pass-99 >/dev/null; done
check "an admin's ResetPassword lifts a lock" dir_call ResetPassword ss alice "$PW2"
check "  ... and ends alice's sessions" test "$(sql "SELECT COUNT(*) FROM sessions")" = 0
out=$(staff WhoAmI string:$token3)
check "  ... her token is refused ($out)" grep -q "Error org.vdesk.Error.InvalidToken" <<<"$out"
mid() { sed -n "s/^#define MID_$1 *\"\(.*\)\"/\1/p" "$VDESK_SRC/src/shared/message-id.h"; }
check "  ... the journal says one session ended" wait_until 5 outputs 1 \
        eval "journal_json MESSAGE_ID=$(mid PASSWORD_RESET) VDESK_ACCOUNT=alice | jq -r .VDESK_SESSIONS_ENDED"
out=$(signin alice "$PW2" 2>&1)
check "  ... the new password signs in ($out)" grep -q '"data":\["[0-9a-f]\{64\}"' <<<"$out"
tokA=$(jq -r '.data[0]' <<<"$out")
tokB=$(signin alice "$PW2" | jq -r '.data[0]')
check "a second session of alice" bash -c '[[ $1 =~ ^[0-9a-f]{64}$ && $1 != $2 ]]' _ "$tokB" "$tokA"

PW3='Third-Pass-2026'
# ChangePassword: the token says whose password, the old one must be given
pwstate() { sql "SELECT password_hash, (SELECT COUNT(*) FROM sessions) FROM accounts WHERE name = 'alice'"; }
before=$(pwstate)
out=$(staff ChangePassword string:$tokA string:Wrong-Pass-99 string:$PW3)
check "ChangePassword with a wrong old password: AuthenticationFailed ($out)" grep -q "Error org.vdesk.Error.AuthenticationFailed: Wrong id or password" <<<"$out"
check "  ... the hash and the sessions are unchanged" test "$before" = "$(pwstate)"
out=$(staff ChangePassword string:$(printf '%064x' 42) string:$PW2 string:$PW3)
check "ChangePassword with a forged token: InvalidToken ($out)" grep -q "Error org.vdesk.Error.InvalidToken: Invalid token" <<<"$out"
check "  ... the hash and the sessions are unchanged" test "$before" = "$(pwstate)"
out=$(staff ChangePassword string:$tokA string:$PW2 string:$WEAK)
check "ChangePassword to a weak one: WeakPassword ($out)" grep -q "Error org.vdesk.Error.WeakPassword: Invalid password: is shorter than 10 characters" <<<"$out"
check "  ... the hash and the sessions are unchanged" test "$before" = "$(pwstate)"
check "ChangePassword with alice's token" bash -c "setpriv --reuid=1 --regid=1 --clear-groups busctl --system call org.vdesk.directory1 \
        /org/vdesk/directory1 org.vdesk.directory1.Manager ChangePassword sss $tokA '$PW2' '$PW3'"
out=$(staff WhoAmI string:$tokB)
check "  ... her other session ended ($out)" grep -q "Error org.vdesk.Error.InvalidToken" <<<"$out"
out=$(staff WhoAmI string:$tokA)
check "  ... the session she changed it from goes on ($out)" grep -q '"alice"' <<<"$out"
check "  ... the journal says one other session ended" wait_until 5 outputs 1 \
        eval "journal_json MESSAGE_ID=$(mid PASSWORD_CHANGED) VDESK_ACCOUNT=alice | jq -r .VDESK_SESSIONS_ENDED"
out=$(signin alice "$PW3" 2>&1)
check "  ... the new password signs in ($out)" grep -q '"data":\["[0-9a-f]\{64\}"' <<<"$out"
out=$(staff SignIn string:alice string:$PW2)
check "  ... the old one does not" grep -q "Error org.vdesk.Error.AuthenticationFailed" <<<"$out"
for e in SIGNED_IN SIGNED_OUT SIGNIN_FAILED ACCOUNT_LOCKED PASSWORD_CHANGED; do
        check "journal has $e for alice" test -n "$(journal_json MESSAGE_ID="$(mid $e)" VDESK_ACCOUNT=alice)"
done

# Expired sessions go by the timer (SessionPurgeSec=1 here), with no
# sign-in; unexpired ones stay.
sql "INSERT INTO sessions (token_hash, account_id, expires_at) SELECT REPEAT('e', 64), id, NOW() - INTERVAL 1 SECOND FROM accounts WHERE name = 'bob'"
sql "INSERT INTO sessions (token_hash, account_id, expires_at) SELECT REPEAT('f', 64), id, NOW() + INTERVAL 1 HOUR FROM accounts WHERE name = 'bob'"
check "an expired session is removed by the timer, without a sign-in" \
        wait_until 10 outputs 0 sql "SELECT COUNT(*) FROM sessions WHERE token_hash = REPEAT('e', 64)"
check "  ... a live one stays" test "$(sql "SELECT COUNT(*) FROM sessions WHERE token_hash = REPEAT('f', 64)")" = 1
sql "DELETE FROM sessions WHERE token_hash = REPEAT('f', 64)"

# Many sign-ins at once, with hashes that take a while (cost 7): the
# directory restarts with that cost.
printf '[Directory]\nYescryptCost=7\n' >/etc/vdesk/vdesk.conf.d/slow-hash.conf
kill "$PID_directoryd"
wait_until 10 not bus_has_name org.vdesk.directory1 || die "directoryd did not stop"
bg directoryd-slow "$VDESK_BUILD/src/directoryd/vdesk-directoryd" --sql-dir="$VDESK_SRC/sql"
wait_until 20 bus_has_name org.vdesk.directory1 || die "directoryd did not start: $(cat "$T/directoryd-slow.log")"
PWB='Burst-Pass-2026'
for i in $(seq -w 0 49); do dir_call CreateAccount sssss "burst$i" "Burst $i" staff "" "" >/dev/null; done
dir_call CreateAccount sssss racer "Racer" staff "" "$PWB" >/dev/null
# one hash made by the directory, given to all 50 (making 50 takes long)
sql "UPDATE accounts a JOIN accounts r ON r.name = 'racer' SET a.password_hash = r.password_hash WHERE a.name LIKE 'burst%'"
check "  ... 50 accounts with one cost-7 hash" test "$(sql "SELECT COUNT(*) FROM accounts a JOIN accounts r ON r.name = 'racer' AND r.password_hash = a.password_hash WHERE a.name LIKE 'burst%' AND a.password_hash LIKE '\$y\$%'")" = 50
mkdir "$T/burst"
pids=()
for i in $(seq -w 0 49); do signin "burst$i" "$PWB" >"$T/burst/$i" 2>&1 & pids+=($!); done
# once the first is answered, the rest are queued in the directory
wait_until 60 bash -c 'find "$1" -type f -size +0 | grep -q .' _ "$T/burst"
answered=0
for i in 1 2 3; do
        staff WhoAmI string:$tokA | grep -q '"alice"' && answered=$((answered + 1))
done
finished=$(find "$T/burst" -type f -size +0 | wc -l)
check "another method answers while the sign-ins are being hashed (3 answers with $finished of 50 sign-ins done)" \
        test "$answered" = 3 -a "$finished" -lt 50
wait "${pids[@]}"
good=0
for i in $(seq -w 0 49); do
        t=$(jq -r '.data[0]' "$T/burst/$i" 2>/dev/null)
        [[ $t =~ ^[0-9a-f]{64}$ ]] || continue
        owner=$(sql "SELECT a.name FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = '$(printf %s "$t" | sha256sum | cut -d' ' -f1)'")
        [ "$owner" = "burst$i" ] && good=$((good + 1))
done
check "50 concurrent sign-ins: each got a token of its own account" test "$good" = 50
check "  ... 50 distinct tokens" test "$(cat "$T"/burst/* | jq -r '.data[0]' | sort -u | wc -l)" = 50

# Wrong passwords at once: exactly MaxFailedSignins (3) count, the third
# locks, the rest find the account locked.
pids=()
for i in $(seq -w 0 19); do staff SignIn string:racer string:Wrong-Pass-99 >"$T/burst/race$i" & pids+=($!); done
wait "${pids[@]}"
count() { grep -l -- "$1" "$T"/burst/race* | wc -l; }
check "20 racing wrong passwords: 2 plainly refused" test "$(count "AuthenticationFailed: Wrong id or password")" = 2
check "  ... 1 locks the account" test "$(count "the account is now locked")" = 1
check "  ... 17 find it locked" test "$(count "The account is locked for another")" = 17
check "  ... the account is locked with 3 failures" \
        test "$(sql "SELECT CONCAT(failed_signins, '|', locked_until > NOW()) FROM accounts WHERE name = 'racer'")" = "3|1"
check "  ... and journaled as locked once" wait_until 5 outputs 1 \
        eval "journal_json MESSAGE_ID=$(mid ACCOUNT_LOCKED) VDESK_ACCOUNT=racer | wc -l"
out=$(staff SignIn string:racer string:$PWB)
check "  ... the right password is refused now ($out)" grep -q "Error org.vdesk.Error.AccountLocked" <<<"$out"

# Throttling per source: a front end (root here; the portal's user under
# its unit) names the address each attempt comes from. The directory
# restarts with MaxFailedPerSource=4 (and an account locked only after
# 10), the quick hash again.
rm /etc/vdesk/vdesk.conf.d/slow-hash.conf
printf '[Directory]\nMaxFailedPerSource=4\nSourceBlockMinutes=2\nMaxFailedSignins=10\n' >/etc/vdesk/vdesk.conf.d/throttle.conf
kill "$PID_directoryd_slow"
wait_until 10 not bus_has_name org.vdesk.directory1 || die "directoryd did not stop"
bg directoryd-throttle "$VDESK_BUILD/src/directoryd/vdesk-directoryd" --sql-dir="$VDESK_SRC/sql"
wait_until 20 bus_has_name org.vdesk.directory1 || die "directoryd did not start: $(cat "$T/directoryd-throttle.log")"
PWC='Carol-Pass-2026' GUESS='Portal-Guess-77'
dir_call CreateAccount sssss carol "Carol" staff "" "$PWC" >/dev/null
carol() { sql "SELECT CONCAT(failed_signins, '|', COALESCE(locked_until, '-'), '|', (SELECT COUNT(*) FROM sessions s WHERE s.account_id = a.id)) FROM accounts a WHERE name = 'carol'"; }
tma_seconds() { sed -n 's/.*Error org\.vdesk\.Error\.TooManyAttempts: Too many failed sign-ins from [^;]*; try again in \([0-9]*\) s$/\1/p' <<<"$1"; }
for i in 1 2 3 4; do
        out=$(staff SignInFrom string:carol string:$GUESS string:192.0.2.7)
        check "SignInFrom 192.0.2.7, wrong password $i: AuthenticationFailed ($out)" \
                grep -q "Error org.vdesk.Error.AuthenticationFailed: Wrong id or password" <<<"$out"
done
check "  ... the account's own count untouched: an address's failures lock only for it (see below)" test "$(carol)" = "0|-|0"
out=$(staff SignInFrom string:carol string:$GUESS string:192.0.2.7)
check "the fifth from 192.0.2.7: TooManyAttempts ($out)" \
        grep -q "Error org.vdesk.Error.TooManyAttempts: Too many failed sign-ins from 192.0.2.7; try again in [0-9]* s" <<<"$out"
n=$(tma_seconds "$out")
check "  ... in ${n:-?} s: until the block of SourceBlockMinutes=2 ends" test "${n:-0}" -ge 1 -a "${n:-999}" -le 120
out=$(staff SignInFrom string:carol string:$PWC string:192.0.2.7)
check "  ... the right password from 192.0.2.7 is refused too ($out)" grep -q "Error org.vdesk.Error.TooManyAttempts" <<<"$out"
out=$(staff SignInFrom string:carol string:$PWC string:::ffff:192.0.2.7)
check "  ... and from ::ffff:192.0.2.7, the same address ($out)" \
        grep -q "Error org.vdesk.Error.TooManyAttempts: Too many failed sign-ins from 192.0.2.7;" <<<"$out"
check "  ... none of the refused touched the account (no failure counted, no lock, no session)" test "$(carol)" = "0|-|0"
check "  ... nor was any checked: the journal has the 4 failures from 192.0.2.7, no more" \
        test "$(journal_json MESSAGE_ID="$(mid SIGNIN_FAILED)" VDESK_SOURCE=192.0.2.7 | wc -l)" = 4
check "  ... each naming carol, the source and root as the caller" \
        test "$(journal_json MESSAGE_ID="$(mid SIGNIN_FAILED)" VDESK_SOURCE=192.0.2.7 | jq -r '"\(.VDESK_ACCOUNT) \(.VDESK_PEER)"' | sed 's/ (.*//' | sort -u)" = "carol uid 0"
check "  ... the block journaled once, with the count" wait_until 5 outputs "192.0.2.7 4 2" \
        eval "journal_json MESSAGE_ID=$(mid SOURCE_THROTTLED) | jq -r '\"\(.VDESK_SOURCE) \(.VDESK_FAILED_COUNT) \(.VDESK_BLOCK_MINUTES)\"'"
out=$(busctl --system --json=short call org.vdesk.directory1 /org/vdesk/directory1 org.vdesk.directory1.Manager \
        SignInFrom sss carol "$PWC" 192.0.2.8 2>&1)
tokC=$(jq -r '.data[0]' <<<"$out" 2>/dev/null)
check "carol signs in from 192.0.2.8 meanwhile ($out)" bash -c '[[ $1 =~ ^[0-9a-f]{64}$ ]]' _ "$tokC"
check "  ... her count cleared as a sign-in clears it, her session there" test "$(carol)" = "0|-|1"
check "  ... the sign-in journaled from 192.0.2.8" \
        test "$(journal_json MESSAGE_ID="$(mid SIGNED_IN)" VDESK_ACCOUNT=carol | jq -r .VDESK_SOURCE)" = 192.0.2.8
out=$(staff SignInFrom string:carol string:$PWC string:192.0.2.7)
check "  ... which does not lift 192.0.2.7's block ($out)" grep -q "Error org.vdesk.Error.TooManyAttempts" <<<"$out"

# IPv6: a /64 is one source
for i in 1 2 3 4; do staff SignInFrom string:carol string:$GUESS string:2001:db8:1:2::$i >/dev/null; done
out=$(staff SignInFrom string:carol string:$PWC string:2001:db8:1:2:aaaa:bbbb:cccc:dddd)
check "4 failures from 2001:db8:1:2::1-4 block the /64 ($out)" \
        grep -q "Error org.vdesk.Error.TooManyAttempts: Too many failed sign-ins from 2001:db8:1:2::/64;" <<<"$out"
check "  ... another /64 signs carol in" \
        bash -c "busctl --system call org.vdesk.directory1 /org/vdesk/directory1 org.vdesk.directory1.Manager SignInFrom sss carol '$PWC' 2001:db8:1:3::1 | grep -q '^sx \"[0-9a-f]\{64\}\"'"

# who may name a source, and what a source is
before=$(carol)
for m in "SignInFrom string:carol string:$PWC string:192.0.2.9" \
         "ActivateFrom string:carol string:AAAAA-AAAAA-AAAAA-AAAAA string:New-Pass-2026x string:192.0.2.9"; do
        out=$(setpriv --reuid=1 --regid=1 --clear-groups dbus-send --system --print-reply --dest=org.vdesk.directory1 \
                /org/vdesk/directory1 "org.vdesk.directory1.Manager.${m%% *}" ${m#* } 2>&1)
        check "uid 1 is refused ${m%% *} ($out)" \
                grep -q "^Error org.freedesktop.DBus.Error.AccessDenied: Only root and vdesk-portal may call ${m%% *}$" <<<"$out"
done
check "  ... and nothing changed" test "$before" = "$(carol)"
for bad in "" 192.0.2.300 192.0.2.7/32 example.org "uid 1" "192.0.2.7 " fe80::1%lo 2001:db8:::1; do
        refused_in carol "SignInFrom source '$bad'" $IA "Invalid source: is not an IPv4 or IPv6 address" \
                SignInFrom string:carol string:$PWC "string:$bad"
done
refused_in carol "ActivateFrom source 'nowhere'" $IA "Invalid source: is not an IPv4 or IPv6 address" \
        ActivateFrom string:carol string:AAAAA-AAAAA-AAAAA-AAAAA string:New-Pass-2026x string:nowhere

# ActivateFrom: wrong codes count against the source like wrong passwords
CODE='7K3QH-9MZ2D-XW4RT-P8N6B' PWD='Dave-Pass-2026'
dir_call CreateAccount sssss dave "Dave" staff "" "" >/dev/null
sql "UPDATE accounts SET activation_hash = SHA2('${CODE//-/}', 256), activation_expires = NOW() + INTERVAL 1 DAY WHERE name = 'dave'"
dave() { sql "SELECT CONCAT(failed_signins, '|', password_hash IS NULL, '|', activation_hash IS NOT NULL) FROM accounts WHERE name = 'dave'"; }
for i in 1 2 3 4; do
        out=$(staff ActivateFrom string:dave string:AAAAA-AAAAA-AAAAA-AAAA$i string:$PWD string:198.51.100.9)
        check "ActivateFrom 198.51.100.9, wrong code $i: AuthenticationFailed ($out)" \
                grep -q "Error org.vdesk.Error.AuthenticationFailed: Wrong id or activation code" <<<"$out"
done
out=$(staff ActivateFrom string:dave string:$CODE string:$PWD string:198.51.100.9)
check "  ... then the right code from 198.51.100.9: TooManyAttempts ($out)" \
        grep -q "Error org.vdesk.Error.TooManyAttempts: Too many failed sign-ins from 198.51.100.9; try again in" <<<"$out"
n=$(tma_seconds "$out")
check "  ... in ${n:-?} s, at most SourceBlockMinutes=2" test "${n:-0}" -ge 1 -a "${n:-999}" -le 120
check "  ... dave not activated, his own count untouched, the code still pending" test "$(dave)" = "0|1|1"
out=$(staff ActivateFrom string:dave string:$CODE string:$PWD string:192.0.2.7)
check "  ... nor from 192.0.2.7, which sign-ins blocked ($out)" grep -q "Error org.vdesk.Error.TooManyAttempts" <<<"$out"
check "  ... dave still not activated" test "$(dave)" = "0|1|1"
check "the right code from 198.51.100.10 activates dave" dir_call ActivateFrom ssss dave "$CODE" "$PWD" 198.51.100.10
check "  ... his password set, the code spent" test "$(dave)" = "0|0|0"
check "  ... the activation journaled from 198.51.100.10" \
        test "$(journal_json MESSAGE_ID="$(mid ACCOUNT_ACTIVATED)" VDESK_ACCOUNT=dave | jq -r .VDESK_SOURCE)" = 198.51.100.10

# plain SignIn and Activate count against the caller's uid
for i in 1 2 3 4; do
        setpriv --reuid=1 --regid=1 --clear-groups dbus-send --system --print-reply --dest=org.vdesk.directory1 \
                /org/vdesk/directory1 org.vdesk.directory1.Manager.SignIn string:ghost$i string:$GUESS >/dev/null 2>&1
done
out=$(setpriv --reuid=1 --regid=1 --clear-groups dbus-send --system --print-reply --dest=org.vdesk.directory1 \
        /org/vdesk/directory1 org.vdesk.directory1.Manager.SignIn string:carol string:$PWC 2>&1)
check "4 failed SignIn of uid 1: its next is TooManyAttempts ($out)" \
        grep -q "Error org.vdesk.Error.TooManyAttempts: Too many failed sign-ins from uid 1; try again in" <<<"$out"
out=$(setpriv --reuid=1 --regid=1 --clear-groups dbus-send --system --print-reply --dest=org.vdesk.directory1 \
        /org/vdesk/directory1 org.vdesk.directory1.Manager.Activate string:carol string:$CODE string:$PWD 2>&1)
check "  ... and its Activate ($out)" grep -q "Error org.vdesk.Error.TooManyAttempts: Too many failed sign-ins from uid 1;" <<<"$out"
check "  ... root's SignIn of carol still works" \
        bash -c "busctl --system call org.vdesk.directory1 /org/vdesk/directory1 org.vdesk.directory1.Manager SignIn ss carol '$PWC' | grep -q '^sx \"[0-9a-f]\{64\}\"'"
check "  ... uid 1's block journaled" \
        test "$(journal_json MESSAGE_ID="$(mid SOURCE_THROTTLED)" VDESK_SOURCE="uid 1" | jq -r .VDESK_FAILED_COUNT)" = 4

# One address cannot lock an account for everyone: with MaxFailedSignins=2,
# erin's two failures from 203.0.113.5 lock her for that address alone.
printf '[Directory]\nMaxFailedSignins=2\n' >/etc/vdesk/vdesk.conf.d/throttle.conf
kill "$PID_directoryd_throttle"
wait_until 10 not bus_has_name org.vdesk.directory1 || die "directoryd did not stop"
bg directoryd-lock "$VDESK_BUILD/src/directoryd/vdesk-directoryd" --sql-dir="$VDESK_SRC/sql"
wait_until 20 bus_has_name org.vdesk.directory1 || die "directoryd did not start: $(cat "$T/directoryd-lock.log")"
dir_call CreateAccount sssss erin "Erin" staff "" "$PWC" >/dev/null
erin() { sql "SELECT CONCAT(failed_signins, '|', COALESCE(locked_until, '-'), '|', (SELECT COUNT(*) FROM sessions s WHERE s.account_id = a.id)) FROM accounts a WHERE name = 'erin'"; }
for i in 1 2; do
        out=$(staff SignInFrom string:erin string:$GUESS string:203.0.113.5)
        check "SignInFrom 203.0.113.5, erin's wrong password $i: AuthenticationFailed ($out)" \
                grep -q "Error org.vdesk.Error.AuthenticationFailed" <<<"$out"
done
out=$(staff SignInFrom string:erin string:$PWC string:203.0.113.5)
check "  ... then her right password from 203.0.113.5: locked for that address ($out)" \
        grep -q "Error org.vdesk.Error.AccountLocked: The account is locked for sign-ins from 203.0.113.5 for another [0-9]* s" <<<"$out"
check "  ... journaled as a lock naming the address" \
        test "$(journal_json MESSAGE_ID="$(mid ACCOUNT_LOCKED)" VDESK_ACCOUNT=erin | jq -r '"\(.VDESK_SOURCE) \(.VDESK_FAILED_COUNT)"')" = "203.0.113.5 2"
check "  ... the account itself not locked, no session made" test "$(erin)" = "0|-|0"
check "erin signs in from 203.0.113.6 meanwhile" dir_call SignInFrom sss erin "$PWC" 203.0.113.6
check "  ... and by plain SignIn" dir_call SignIn ss erin "$PWC"

# polkit: an unprivileged uid is refused every admin method, nothing changes
before=$(rows)
for call in "CreateDepartment ssq ops x 0" "AddDepartmentStaff ss sales s04" "CreateCategory sssbbbb c '' '' true true true true" \
            "LinkCategoryDepartment ss office sales" "ListDepartments" "ListCategories" \
            "CreateAccount sssss eve Eve staff '' ''" "DeleteAccount s alice" "GetAccount s alice" \
            "ListAccounts sssuu '' '' '' 0 10" "SetAccountName ss alice X" "SetAccountEmail ss alice x@y.z" \
            "ResetPassword ss alice Whatever-Pass-1" "GetDepartment s sales" "DeleteDepartment s sales" \
            "ListDepartmentStaff s sales" "RemoveDepartmentStaff ss sales s02" "AddDepartmentManager ss sales bob" \
            "RemoveDepartmentManager ss eng bob" "UpdateCategory sssbbbb office '' '' true true true true" \
            "DeleteCategory s office" "UnlinkCategoryDepartment ss office sales" "LinkCategoryManager ss office bob" \
            "UnlinkCategoryManager ss office bob" "SetCategoryProperties sa{sv} office 1 PoolSize u 1" \
            "GetCategoryProperties s office"; do
        out=$(eval setpriv --reuid=1 --regid=1 --clear-groups busctl --system call org.vdesk.directory1 \
                /org/vdesk/directory1 org.vdesk.directory1.Manager $call 2>&1)
        case ${call%% *} in List* | Get*) action=read ;; *) action=manage ;; esac
        check "uid 1 is refused ${call%% *} ($out)" grep -q "Not authorized for org.vdesk.directory1.$action" <<<"$out"
done
check "  ... and nothing changed" test "$before" = "$(rows)"

# a reader (bin, granted only org.vdesk.directory1.read) lists and looks,
# and is refused every change with nothing changed
reader() { setpriv --reuid=2 --regid=2 --clear-groups busctl --system call org.vdesk.directory1 \
        /org/vdesk/directory1 org.vdesk.directory1.Manager "$@" 2>&1; }
reader_change() { setpriv --reuid=2 --regid=2 --clear-groups dbus-send --system --print-reply \
        --dest=org.vdesk.directory1 /org/vdesk/directory1 "org.vdesk.directory1.Manager.$1" "${@:2}" 2>&1; }
out=$(reader ListAccounts sssuu "" "" "" 0 100)
check "a reader lists the accounts ($out)" grep -q '"alice"' <<<"$out"
out=$(reader GetAccount s alice)
check "a reader gets alice ($out)" grep -q '"alice"' <<<"$out"
check "a reader lists the departments" reader ListDepartments
check "a reader lists the categories" reader ListCategories
check "a reader lists a department's staff" reader ListDepartmentStaff s sales
dir_state() { rows; sql "SELECT name FROM departments ORDER BY id; SELECT name FROM categories ORDER BY id"; }
before=$(dir_state)
for call in "CreateAccount string:eve string:Eve string:staff string: string:" "DeleteAccount string:alice" \
            "SetAccountName string:alice string:X" "ResetPassword string:alice string:Whatever-Pass-1" \
            "CreateDepartment string:ops string:x uint16:0" "DeleteCategory string:office"; do
        out=$(reader_change $call)
        check "a reader is refused ${call%% *} ($out)" \
                grep -q "^Error org.vdesk.Error.AccessDenied: Not authorized for org.vdesk.directory1.manage" <<<"$out"
done
check "  ... and nothing changed" test "$before" = "$(dir_state)"
check "  ... and the refusals are journaled" \
        test -n "$(journal_json VDESK_ACTOR_UID=2 VDESK_METHOD=DeleteAccount VDESK_ACTION=org.vdesk.directory1.manage)"

# a member of vdesk-admin (nobody, here) is allowed both
admin() { setpriv --reuid=65534 --regid=65534 --init-groups busctl --system call org.vdesk.directory1 \
        /org/vdesk/directory1 org.vdesk.directory1.Manager "$@"; }
check "a member of vdesk-admin lists the accounts" admin ListAccounts sssuu "" "" "" 0 100
check "a member of vdesk-admin changes alice's email" admin SetAccountEmail ss alice alice@admin.example
check "  ... and it changed" grep -q "alice@admin.example" <<<"$(rows)"

# the journal: the changes are there, no secret is
check "journal: alice's creation names the actor" \
        test "$(journal_json MESSAGE_ID="$(mid ACCOUNT_CREATED)" VDESK_ACCOUNT=alice | jq -r .VDESK_ACTOR_UID)" = 0
check "journal: bob's password reset" test -n "$(journal_json MESSAGE_ID="$(mid PASSWORD_RESET)" VDESK_ACCOUNT=bob)"
check "journal: the deletion" test -n "$(journal_json MESSAGE_ID="$(mid ACCOUNT_DELETED)" VDESK_ACCOUNT=s01)"
journalctl --no-pager -o json >"$T/journal.json" 2>/dev/null
check "the journal was read ($(wc -l <"$T/journal.json") entries)" test "$(wc -l <"$T/journal.json")" -gt 50
check "  ... and the grep below finds what is there (alice's id)" grep -qF '"VDESK_ACCOUNT":"alice"' "$T/journal.json"
check "  ... and the grep below finds a source of SignInFrom" grep -qF '"VDESK_SOURCE":"192.0.2.8"' "$T/journal.json"
for secret in "$PW1" "$PW2" "$PW3" "$PWB" "$WEAK" "$hash" "$bobhash" "$token" "$token2" "$token3" "$tokA" "$tokB" \
              "$PWC" "$GUESS" "$tokC" "$CODE" "${CODE//-/}" "$PWD"; do
        check "no secret in the whole journal (${#secret} characters)" bash -c '! grep -qF -- "$1" "$2"' _ "$secret" "$T/journal.json"
done

finish
