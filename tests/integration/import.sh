#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Bulk import of staff from CSV through vdeskctl and ImportStaff, with a
# real MariaDB, a private bus and a real polkitd: the dry run reports every
# bad row (line, field, reason); an import with any bad row writes nothing;
# a good file goes in whole with memberships and activation codes; a code
# activates its account once; a 10k-row file imports with progress signals;
# unprivileged callers are refused; no code lands in the journal.
. "$VDESK_SRC/tests/lib/harness.sh"
. "$VDESK_SRC/tests/lib/host.sh"
host_enter "$@"
need_cmd jq setpriv

host_start_journal
host_start_bus
host_start_polkit
host_start_mariadb
host_write_config <<X
[Directory]
YescryptCost=3
MaxFailedSignins=3
ActivationDays=14
X
host_start_directory

state() { sql "SELECT name, role, full_name, COALESCE(email, '-'), COALESCE(activation_hash, '-') FROM accounts ORDER BY name; SELECT * FROM department_members ORDER BY 1, 2; SELECT * FROM department_managers ORDER BY 1, 2"; }
mid() { sed -n "s/^#define MID_$1 *\"\(.*\)\"/\1/p" "$VDESK_SRC/src/shared/message-id.h"; }

check "create departments sales and eng" bash -c "$(declare -f ctl); ctl create-department sales --unit=ACME --founded=1999 && ctl create-department eng"
check "an existing account, taken" dir_call CreateAccount sssss taken "Taken Already" staff "" ""

# a file with a bad row in the middle, and many kinds of bad rows
printf '\xef\xbb\xbfid,name,email,role,department\r\n' >"$T/bad.csv"
cat >>"$T/bad.csv" <<'X'
a001,"Smith, Ann",ann@example.org,staff,sales
a002,Bob,,manager,eng

a003,"Multi
line",,,
,Empty Id,,,
a/5,Slash,,,
a006,Bad Mail,bob@,,
a007,Role,,admin,
a008,Role,,boss,
a009,Nowhere,,,marketing
a001,Repeat,,,
taken,Taken,,,
a012,Too,Many,Fields,,x
a013,Fine,,,sales
X
printf 'a014,Bad\xffUTF8,,,\n' >>"$T/bad.csv"
before=$(state)
out=$(ctl import-staff --dry-run "$T/bad.csv" 2>&1); rc=$?
echo "$out" >"$T/dry.out"
check "the dry run fails: the file has bad rows" test $rc -ne 0
check "  ... a name broken over two lines, on line 5" grep -qF "bad.csv:5: name contains control characters" <<<"$out"
check "  ... the line count goes on right after it: the empty id is on line 7" grep -qF "bad.csv:7: id is empty" <<<"$out"
check "  ... id with / on line 8" grep -qF "bad.csv:8: id may hold only" <<<"$out"
check "  ... bad e-mail on line 9" grep -qF "bad.csv:9: email is not of the form name@domain.tld" <<<"$out"
check "  ... admin on line 10" grep -qF "bad.csv:10: role is admin: admin accounts are created one by one" <<<"$out"
check "  ... unknown role on line 11" grep -qF "bad.csv:11: role is not one of staff, manager" <<<"$out"
check "  ... unknown department on line 12" grep -qF "bad.csv:12: department is not a department in the directory" <<<"$out"
check "  ... repeated id on line 13" grep -qF "bad.csv:13: id repeats the id of an earlier line" <<<"$out"
check "  ... taken id on line 14" grep -qF "bad.csv:14: id is the id of an account that exists already" <<<"$out"
check "  ... wrong number of fields on line 15" grep -qF "bad.csv:15: record has a different number of fields than the header" <<<"$out"
check "  ... invalid UTF-8 on line 17" grep -qF "bad.csv:17: name is not valid UTF-8" <<<"$out"
check "  ... exactly these 11 problems" test "$(grep -c 'bad.csv:[0-9]*: ' <<<"$out")" = 11
check "  ... the good rows are not reported" bash -c '! grep -qE "bad.csv:(2|3|16):" <<<"$1"' _ "$out"
check "  ... and nothing changed" test "$before" = "$(state)"

out=$(ctl import-staff "$T/bad.csv" 2>&1); rc=$?
check "the import of that file fails with ImportRejected ($out)" \
        grep -qF "Invalid csv: 11 problem(s), nothing was imported; the first: line 5, field name contains control characters (a dry run lists them all) (org.vdesk.Error.ImportRejected)" <<<"$out"
check "  ... and imports nothing, not even the good rows" test "$before" = "$(state)"

# files broken as CSV
refused_file() {
        local what=$1 text=$2 out
        out=$(ctl import-staff "$T/f.csv" 2>&1)
        check "$what: ImportRejected ($out)" grep -qF "(org.vdesk.Error.ImportRejected)" <<<"$out"
        check "  ... says '$text'" grep -qF "$text" <<<"$out"
        check "  ... nothing changed" test "$before" = "$(state)"
}
printf 'name,email\nAnn,a@b.cd\n' >"$T/f.csv"
refused_file "a missing id column" "line 1, field id is a required column and is missing from the header"
printf 'id,name,shoe size\na1,Ann,38\n' >"$T/f.csv"
refused_file "an unknown column" "line 1, field column 3 is not one of the columns id, name, email, role, department"
printf 'id,name\na1,Ann\na2,"Bo"b\na3,Cy\n' >"$T/f.csv"
refused_file "text after a closing quote" "line 3, field name has text after a closing quote"
printf 'id,name\na1,"Ann\n' >"$T/f.csv"
refused_file "an unterminated quote" "line 2, field name has a quoted field that is never closed"
{ printf 'id,name\na1,'; head -c 2000 /dev/zero | tr '\0' x; echo; } >"$T/f.csv"
refused_file "an oversize field" "line 2, field name has a field that is too long"
: >"$T/f.csv"
refused_file "an empty file" "line 1, field header is missing: the file is empty"
printf 'id,name\r\n' >"$T/f.csv"
refused_file "a header and no rows" "line 2, field record is missing: the file has a header and no rows"
out=$( { echo id,name; yes 'x1234567,Somebody Quite Long Named' | head -c $((17 << 20)); } | ctl import-staff --dry-run - 2>&1)
check "a file over 16 MiB: InvalidArgs ($out)" grep -qF "Invalid csv: is larger than 16 MiB (org.freedesktop.DBus.Error.InvalidArgs)" <<<"$out"
check "  ... nothing changed" test "$before" = "$(state)"

# a good file: quoting, commas, UTF-8, CRLF, a BOM, empty lines
printf '\xef\xbb\xbfid,name,email,role,department\r\n' >"$T/good.csv"
printf 'g001,"Smith, Ann",ann@example.org,staff,sales\r\n\r\n' >>"$T/good.csv"
printf 'g002,"Jos\xc3\xa9 \xe5\xbc\xa0 ""Pepe"" M\xc3\xbcller",,manager,eng\r\n' >>"$T/good.csv"
printf 'g003,Carl,,,\r\n' >>"$T/good.csv"
check "the dry run of a good file passes" bash -c "$(declare -f ctl); ctl import-staff --dry-run '$T/good.csv'"
check "  ... and changes nothing" test "$before" = "$(state)"
ctl import-staff "$T/good.csv" >"$T/codes.csv" 2>"$T/import.err"
check "the import succeeds ($(cat "$T/import.err"))" test $? = 0
check "  ... prints a code for each account" test "$(tail -n +2 "$T/codes.csv" | cut -d, -f1 | tr '\n' ' ')" = "g001 g002 g003 "
check "  ... codes look like XXXXX-XXXXX-XXXXX-XXXXX" \
        test "$(grep -cE '^g00[123],[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$' "$T/codes.csv")" = 3
check "  ... names with commas, quotes and UTF-8 intact" \
        test "$(sql "SELECT full_name FROM accounts WHERE name = 'g002'")" = "José 张 \"Pepe\" Müller"
check "  ... roles and e-mail" test "$(sql "SELECT CONCAT(role, '|', COALESCE(email, '-')) FROM accounts WHERE name IN ('g001', 'g002', 'g003') ORDER BY name" | tr '\n' ' ')" = "staff|ann@example.org manager|- staff|- "
check "  ... g001 is staff of sales" test "$(ctl department-staff sales)" = g001
check "  ... g002 manages eng" test "$(sql "SELECT a.name FROM department_managers m JOIN accounts a ON a.id = m.account_id JOIN departments d ON d.id = m.department_id WHERE d.name = 'eng'")" = g002
check "  ... no password yet, the code's SHA-256 stored and expiring in 14 days" \
        test "$(sql "SELECT CONCAT(password_hash IS NULL, '|', LENGTH(activation_hash), '|', DATEDIFF(activation_expires, NOW())) FROM accounts WHERE name = 'g001'")" = "1|64|14"
code1=$(sed -n 's/^g001,//p' "$T/codes.csv")
check "  ... the stored hash is the SHA-256 of the code without dashes" \
        test "$(sql "SELECT activation_hash FROM accounts WHERE name = 'g001'")" = "$(printf %s "${code1//-/}" | sha256sum | cut -d' ' -f1)"
out=$(ctl import-staff --dry-run "$T/good.csv" 2>&1)
check "importing the same file again: each of its 3 ids is taken ($out)" \
        test "$(grep -c 'id is the id of an account that exists already' <<<"$out")" = 3

# activation (any uid: the code authenticates)
act() { printf '%s\n%s\n' "$2" "$3" | setpriv --reuid=1 --regid=1 --clear-groups "$VDESK_BUILD/src/vdeskctl/vdeskctl" activate "$1" 2>&1; }
out=$(act g001 "$code1" short1)
check "activating with a weak password: WeakPassword ($out)" grep -qF "org.vdesk.Error.WeakPassword" <<<"$out"
check "  ... the code is not spent" test "$(sql "SELECT activation_hash IS NOT NULL FROM accounts WHERE name = 'g001'")" = 1
out=$(act g001 "AAAAA-AAAAA-AAAAA-AAAAA" Good-Pass-2026)
check "a wrong code: AuthenticationFailed ($out)" grep -qF "Wrong id or activation code (org.vdesk.Error.AuthenticationFailed)" <<<"$out"
check "  ... counted like a failed sign-in" test "$(sql "SELECT failed_signins FROM accounts WHERE name = 'g001'")" = 1
lower=$(tr 'A-Z' 'a-z' <<<"${code1//-/ }")
out=$(act g001 "$lower" Good-Pass-2026)
check "the code, typed in lower case with spaces, activates g001 ($out)" grep -qF "Activated" <<<"$out"
check "  ... a yescrypt hash is set and the code is gone" \
        test "$(sql "SELECT CONCAT(LEFT(password_hash, 3), '|', activation_hash IS NULL, '|', failed_signins) FROM accounts WHERE name = 'g001'")" = '$y$|1|0'
out=$(act g001 "$code1" Other-Pass-2027)
check "  ... and works once only ($out)" grep -qF "org.vdesk.Error.AuthenticationFailed" <<<"$out"
tok=$(echo Good-Pass-2026 | setpriv --reuid=1 --regid=1 --clear-groups "$VDESK_BUILD/src/vdeskctl/vdeskctl" sign-in g001)
check "g001 signs in with the new password" bash -c '[[ $1 =~ ^[0-9a-f]{64}$ ]]' _ "$tok"
code3=$(sed -n 's/^g003,//p' "$T/codes.csv")
sql "UPDATE accounts SET activation_expires = NOW() - INTERVAL 1 SECOND WHERE name = 'g003'"
out=$(act g003 "$code3" Good-Pass-2026)
check "an expired code: AuthenticationFailed ($out)" grep -qF "org.vdesk.Error.AuthenticationFailed" <<<"$out"
code2=$(sed -n 's/^g002,//p' "$T/codes.csv")
check "an admin's ResetPassword voids a pending code" dir_call ResetPassword ss g002 Reset-Pass-2026
out=$(act g002 "$code2" Good-Pass-2026)
check "  ... so it no longer activates ($out)" grep -qF "org.vdesk.Error.AuthenticationFailed" <<<"$out"

# unprivileged: refused, nothing changed
before=$(state)
out=$(setpriv --reuid=1 --regid=1 --clear-groups "$VDESK_BUILD/src/vdeskctl/vdeskctl" --no-ask-password import-staff --dry-run - <"$T/good.csv" 2>&1)
check "uid 1 is refused ImportStaff ($out)" grep -q "Not authorized for org.vdesk.directory1.manage" <<<"$out"
check "  ... nothing changed" test "$before" = "$(state)"

# 10k rows, with progress signals to the importer (vdeskctl prints them)
python3 - "$T/big.csv" <<'X'
import sys
with open(sys.argv[1], "w", newline="") as f:
    f.write("id,name,email,department\r\n")
    for i in range(10000):
        f.write(f'b{i:05d},"Staff, Number {i}",b{i:05d}@example.org,{"sales" if i % 2 else "eng"}\r\n')
X
start=$(date +%s.%N)
ctl import-staff "$T/big.csv" >"$T/big-codes.csv" 2>"$T/big.err"
rc=$?
secs=$(echo "$(date +%s.%N) - $start" | bc)
check "10k rows import ($(cat "$T/big.err" | tail -1))" test $rc = 0
check "  ... in at most 30 s (took $secs s)" test "$(echo "$secs <= 30" | bc)" = 1
check "  ... 10000 accounts, each a member of its department" \
        test "$(sql "SELECT COUNT(*) FROM accounts WHERE name LIKE 'b%'")|$(sql "SELECT COUNT(*) FROM department_members m JOIN accounts a ON a.id = m.account_id WHERE a.name LIKE 'b%'")" = "10000|10000"
check "  ... 10000 distinct codes printed" test "$(tail -n +2 "$T/big-codes.csv" | cut -d, -f2 | sort -u | wc -l)" = 10000
check "  ... progress signals came to vdeskctl while checking" grep -qx "checking: 5000 of 10000 rows" "$T/big.err"
check "  ... and while importing, the last one 10000 of 10000" \
        test "$(grep '^importing: ' "$T/big.err" | tail -1)" = "importing: 10000 of 10000 rows"

# the journal: one entry per import, no code
check "journal: the imports, with count and actor" \
        test "$(journal_json MESSAGE_ID="$(mid ACCOUNTS_IMPORTED)" | jq -r '"\(.VDESK_COUNT) \(.VDESK_ACTOR_UID)"' | tr '\n' ' ')" = "3 0 10000 0 "
check "journal: g001's activation, with the peer" test -n "$(journal_json MESSAGE_ID="$(mid ACCOUNT_ACTIVATED)" VDESK_ACCOUNT=g001 | jq -r .VDESK_PEER)"
journalctl --no-pager -o json >"$T/journal.json" 2>/dev/null
check "  ... the grep below finds what is there" grep -qF '"VDESK_ACCOUNT":"g001"' "$T/journal.json"
for secret in "$code1" "${code1//-/}" "$code2" "$code3" "$(sed -n 2p "$T/big-codes.csv" | cut -d, -f2)" "$tok" Good-Pass-2026; do
        check "no code, token or password in the journal (${#secret} characters)" bash -c '! grep -qF -- "$1" "$2"' _ "$secret" "$T/journal.json"
done


# ActivationDays=0: codes that do not expire
echo -e '[Directory]\nActivationDays=0' >/etc/vdesk/vdesk.conf.d/50-days.conf
kill "$PID_directoryd"; wait_until 10 bash -c "! kill -0 $PID_directoryd"
host_start_directory
printf 'id,name\nforever,Forever Young\n' >"$T/one.csv"
check "with ActivationDays=0 an import works" bash -c "$(declare -f ctl); ctl import-staff '$T/one.csv' >/dev/null"
check "  ... and its code has no expiry" \
        test "$(sql "SELECT CONCAT(LENGTH(activation_hash), '|', activation_expires IS NULL) FROM accounts WHERE name = 'forever'")" = "64|1"

finish
