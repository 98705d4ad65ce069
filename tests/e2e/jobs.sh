#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The broker's batch jobs on a private host with real libvirtd, QEMU,
# MariaDB and polkitd: a department of 20 staff gets its category's
# desktops from one CreateDesktops job, its progress seen on the bus; one
# item made to fail (a domain of that desktop's name exists already) is
# reported with its named error while the other 19 are made, and the same
# job again makes only what is left; a job cancelled half-way leaves whole
# desktops only (rows and domains alike); StartDesktops and StopDesktops
# of a department; vdeskctl follows a job and lists them; a department's
# desktops of each of its categories made by CreateDepartmentDesktops
# (a department that is not there, or that no category is linked to,
# refused by name); an account deleted while a job of 40 runs, before its
# item: that item named with NoSuchAccount, the 39 others made.
. "$VDESK_SRC/tests/lib/harness.sh"
. "$VDESK_SRC/tests/lib/host.sh"
host_enter "$@"
# host_start_desktops, with room for 82 desktops' ports
need_cmd jq nft qemu-img mkfs.fat mcopy syslinux busybox gdbus
need_guest_kernel
host_start_stack
printf '[Forward]\nPortMin=50000\nPortMax=50299\n[Desktop]\nOpenTimeoutSec=120\n' | host_write_config
host_start_vdesk

B=org.vdesk.broker1
P=/org/vdesk/broker1
"$VDESK_SRC/tests/guest/build-template" "$T/templates/tiny.img" >/dev/null || die "cannot build the template"
ctl register-template tiny "$T/templates/tiny.img" >/dev/null || die "cannot register tiny"

# staff CSV: id,name,department
staff() {
        local dept=$1 n=$2
        echo "id,name,department"
        for i in $(seq -w 1 "$n"); do echo "$dept$i,Staff $i,$dept"; done
}
for d in sales:20 bulk:60 ops:2; do
        ctl create-department "${d%%:*}" >/dev/null || die "cannot create ${d%%:*}"
        ctl create-category "${d%%:*}-std" tiny >/dev/null || die "cannot create ${d%%:*}-std"
        ctl link-category "${d%%:*}-std" "${d%%:*}" >/dev/null || die "cannot link ${d%%:*}-std"
        staff "${d%%:*}" "${d#*:}" >"$T/${d%%:*}.csv"
        ctl import-staff "$T/${d%%:*}.csv" >/dev/null || die "cannot import ${d%%:*}"
done
count() { sql "SELECT COUNT(*) FROM desktops d JOIN categories c ON c.id = d.category_id WHERE c.name = '$1'"; }

# one item will fail: a domain already has the name sales07's desktop gets
cat >"$T/squat.xml" <<X
<domain type='qemu'><name>sales-std-sales07</name><memory unit='MiB'>32</memory>
<os><type>hvm</type></os></domain>
X
virsh define "$T/squat.xml" >/dev/null || die "cannot define the squatting domain"

bg signals gdbus monitor --system --dest $B
wait_until 10 grep -q 'Monitoring signals' "$T/signals.log" || die "no signal monitor"

out=$(busctl --system --json=short call $B $P $B.Manager CreateDesktops s sales-std)
job=$(jq -r '.data[0]' <<<"$out")
check "CreateDesktops answers a job object at once ($job)" grep -q "^$P/job/" <<<"$job"
check "the job ends: JobRemoved" wait_until 60 grep -q "$P: $B.Manager.JobRemoved" "$T/signals.log"
removed=$(grep "$P: $B.Manager.JobRemoved" "$T/signals.log" | head -1)
check "... with result failed, 19 of 20 done ($removed)" \
        grep -qF "'create-desktops', 'sales-std', 'failed', uint32 19, uint32 20," <<<"$removed"
check "... naming sales07 and DesktopExists" \
        grep -qF "[('sales07', 'org.vdesk.Error.DesktopExists', \"Invalid name: a domain 'sales-std-sales07' exists already\")]" <<<"$removed"
check "its progress came as PropertiesChanged of the job" \
        grep -q "^$job: org.freedesktop.DBus.Properties.PropertiesChanged ('$B.Job', {'Done': <uint32 19>" "$T/signals.log"
check "19 desktops of sales-std" outputs 19 count sales-std
check "... each with its domain (and the squatter's)" outputs 20 bash -c "virsh list --all --name | grep -c '^sales-std-'"
check "... and none for sales07" outputs 0 sql "SELECT COUNT(*) FROM desktops d JOIN accounts a ON a.id = d.account_id WHERE a.name = 'sales07'"
out=$(busctl --system get-property $B "$job" $B.Job Done 2>&1)
check "the job's object is gone ($out)" grep -q "Unknown object '$job'" <<<"$out"
check "the journal has the job's end" test -n "$(journal_json MESSAGE_ID=$(mid JOB_FINISHED) VDESK_TARGET=sales-std)"

virsh undefine sales-std-sales07 >/dev/null || die "cannot undefine the squatting domain"
out=$(ctl create-desktops sales-std 2>&1); rc=$?
check "vdeskctl create-desktops: exit status 0 for a job done ($rc)" test $rc = 0
check "the same job again (vdeskctl create-desktops) makes what is left ($out)" \
        grep -q "create-desktops of sales-std): done, 1 of 1 done" <<<"$out"
check "20 desktops of sales-std now" outputs 20 count sales-std
out=$(ctl create-desktops sales-std 2>&1)
check "and again: nothing to do, done ($out)" grep -q "done, 0 of 0 done" <<<"$out"
out=$(ctl create-desktops nonesuch 2>&1)
check "a category that is not there: NoSuchCategory ($out)" \
        grep -q "Invalid category: no category 'nonesuch' (org.vdesk.Error.NoSuchCategory)" <<<"$out"
# a job with a failed item: sales07's desktop deleted, its name squatted again
ctl delete sales-std-sales07 >/dev/null || die "cannot delete sales07's desktop"
virsh define "$T/squat.xml" >/dev/null || die "cannot define the squatting domain again"
out=$(ctl --no-progress create-desktops sales-std 2>&1); rc=$?
check "vdeskctl: exit status 1 for a job with a failed item ($rc: $out)" test $rc = 1
check "... naming the item and its error" \
        grep -qF "sales07: Invalid name: a domain 'sales-std-sales07' exists already (org.vdesk.Error.DesktopExists)" <<<"$out"
virsh undefine sales-std-sales07 >/dev/null || die "cannot undefine the squatting domain"
ctl --no-progress create-desktops sales-std >/dev/null || die "cannot make sales07's desktop again"

# cancelled half-way: whole desktops only
out=$(busctl --system --json=short call $B $P $B.Manager CreateDesktops s bulk-std)
job=$(jq -r '.data[0]' <<<"$out")
id=$(busctl --system get-property $B "$job" $B.Job Id | cut -d' ' -f2)
# the published interface of a job, while this one runs
if [ -n "${VDESK_UPDATE_DBUS_XML:-}" ]; then
        busctl --system introspect --xml-interface $B "$job" |
                python3 "$VDESK_SRC/tests/lib/dbus-interface.py" $B.Job >"$VDESK_SRC/dbus/$B.Job.xml"
fi
check "$B.Job is as dbus/ publishes it" bash -c \
        "busctl --system introspect --xml-interface $B '$job' |
         python3 '$VDESK_SRC/tests/lib/dbus-interface.py' $B.Job | diff -u '$VDESK_SRC/dbus/$B.Job.xml' -"
out=$(ctl jobs)
check "vdeskctl jobs lists it while it runs ($out)" grep -qE "^$id +create-desktops +bulk-std +[0-9]+/60 " <<<"$out"
check "CancelJob $id" busctl --system call $B $P $B.Manager CancelJob s "$id"
check "the job ends canceled" wait_until 60 grep -q "JobRemoved (uint32 $id, objectpath '$job', 'create-desktops', 'bulk-std', 'canceled'" "$T/signals.log"
made=$(count bulk-std)
check "... having made some but not all ($made of 60)" test "$made" -gt 0 -a "$made" -lt 60
check "... each whole: as many domains as rows" outputs "$made" bash -c "virsh list --all --name | grep -c '^bulk-std-' || true"
check "... and as many DHCP entries as rows (with sales' 20)" outputs "$((made + 20))" \
        bash -c "virsh net-dumpxml vdesk | grep -c \"<host mac=\" || true"
out=$(busctl --system call $B $P $B.Manager CancelJob s "$id" 2>&1)
check "cancelling it again: NoSuchJob ($out)" grep -q "No job '$id' is running" <<<"$out"
out=$(ctl create-desktops bulk-std 2>&1)
check "the same job again makes the rest ($((60 - made)))" \
        grep -q "create-desktops of bulk-std): done, $((60 - made)) of $((60 - made)) done" <<<"$out"
check "... its progress a line at a time without a terminal" \
        test "$(grep -cE "^[0-9]+/$((60 - made))( bulk[0-9]+)?\$" <<<"$out")" -ge 10
check "60 desktops of bulk-std" outputs 60 count bulk-std
check "... each with its domain" outputs 60 bash -c "virsh list --all --name | grep -c '^bulk-std-'"

# 50 CreateDesktop calls at once (5 of them for a name another takes):
# every call answered, success or a named error; every address, MAC and
# port held once
calls=()
for i in $(seq -w 1 50); do
        n=$((10#$i)); [ "$n" -gt 45 ] && n=$((n - 45))
        busctl --system --timeout=120 call $B $P $B.Manager CreateDesktop sss "c-$(printf %02d $n)" "bulk$i" tiny \
                >"$T/c-$i.out" 2>&1 &
        calls+=($!)
done
wait "${calls[@]}"
ok_calls=$(grep -l '^(ssssssqss) ' "$T"/c-*.out | wc -l)
named=$(grep -l "exists already" "$T"/c-*.out | wc -l)
check "50 concurrent creates: 45 made, 5 refused by name ($ok_calls made, $named refused)" test "$ok_calls $named" = "45 5"
# the rows' columns are UNIQUE in the schema; what libvirt was given is not
rows=$(sql "SELECT COUNT(*) FROM desktops")
check "... a domain for each row ($rows)" outputs "$rows" bash -c "virsh list --all --name | grep -c ."
check "... a DHCP entry for each row" outputs "$rows" bash -c "virsh net-dumpxml vdesk | grep -c '<host mac='"
check "... no MAC twice among them" outputs "" bash -c "virsh net-dumpxml vdesk | grep -o \"mac='[^']*'\" | sort | uniq -d"
check "... no address twice among them" outputs "" bash -c "virsh net-dumpxml vdesk | grep '<host ' | grep -o \"ip='[^']*'\" | sort | uniq -d"
check "... no MAC twice among the domains" outputs 0 bash -c \
        "for d in \$(virsh list --all --name); do virsh domiflist \$d | awk 'NR > 2 && \$5 { print \$5 }'; done | sort | uniq -d | wc -l"

# a department's desktops started and stopped by one job each
out=$(ctl create-desktops ops-std 2>&1)
check "ops-std's 2 desktops made ($out)" grep -q "done, 2 of 2 done" <<<"$out"
out=$(ctl start-desktops ops 2>&1)
check "start-desktops ops: both started ($out)" grep -q "start-desktops of ops): done, 2 of 2 done" <<<"$out"
check "... both running" wait_until 60 outputs 2 bash -c "virsh list --name | grep -c '^ops-std-'"
out=$(ctl stop-desktops ops --force 2>&1)
check "stop-desktops ops --force: both stopped ($out)" grep -q "stop-desktops of ops): done, 2 of 2 done" <<<"$out"
check "... none running" wait_until 60 outputs 0 bash -c "virsh list --name | grep -c '^ops-std-' || true"
out=$(ctl --no-progress start-desktops ops 2>&1)
check "--no-progress prints the end alone ($out)" test "$(wc -l <<<"$out")" = 1
ctl --no-progress stop-desktops ops --force >/dev/null

# a department's desktops of each category linked to it: eng's 3 staff,
# eng-std and eng-lab, eng01 holding its eng-std desktop already
ctl create-department eng >/dev/null || die "cannot create eng"
printf 'id,name,department\neng01,Staff 1,eng\n' >"$T/eng1.csv"
printf 'id,name,department\neng02,Staff 2,eng\neng03,Staff 3,eng\n' >"$T/eng2.csv"
ctl import-staff "$T/eng1.csv" >/dev/null || die "cannot import eng01"
ctl create-category eng-std tiny >/dev/null && ctl link-category eng-std eng >/dev/null || die "cannot make eng-std"
ctl --no-progress create-desktops eng-std >/dev/null || die "cannot make eng01's eng-std desktop"
ctl import-staff "$T/eng2.csv" >/dev/null || die "cannot import eng02-03"
ctl create-category eng-lab tiny >/dev/null && ctl link-category eng-lab eng >/dev/null || die "cannot make eng-lab"
out=$(busctl --system --json=short call $B $P $B.Manager CreateDepartmentDesktops s eng)
job=$(jq -r '.data[0]' <<<"$out")
check "CreateDepartmentDesktops answers a job object ($job)" grep -q "^$P/job/" <<<"$job"
check "... that ends done, 5 of 5 (2 categories x 3 staff, less eng01's eng-std)" wait_until 60 grep -qF \
        "objectpath '$job', 'create-department-desktops', 'eng', 'done', uint32 5, uint32 5, @a(sss) []" "$T/signals.log"
check "eng-lab: a desktop for each of eng's 3" outputs 3 count eng-lab
check "eng-std: one for each of eng's 3 too" outputs 3 count eng-std
check "... each with its domain" outputs 6 bash -c "virsh list --all --name | grep -cE '^eng-(std|lab)-eng0[1-3]\$'"

# refused RC TEXT OUTPUT: exit status 1 and TEXT in OUTPUT
refused() { test "$1" = 1 && grep -qF -- "$2" <<<"$3"; }
out=$(ctl create-desktops --department=eng 2>&1); rc=$?
check "vdeskctl create-desktops --department=eng again: nothing to do, exit 0 ($rc: $out)" \
        bash -c "test $rc = 0 && grep -q 'create-department-desktops of eng): done, 0 of 0 done' <<<\"\$1\"" _ "$out"
ctl create-department lonely >/dev/null || die "cannot create lonely"
rows=$(sql "SELECT COUNT(*) FROM desktops")
out=$(ctl create-desktops --department=lonely 2>&1); rc=$?
check "a department no category is linked to: NoSuchCategory ($rc: $out)" refused "$rc" \
        "Invalid department: no category is linked to lonely (org.vdesk.Error.NoSuchCategory)" "$out"
out=$(ctl create-desktops --department=nonesuch 2>&1); rc=$?
check "a department that is not there: NoSuchDepartment ($rc: $out)" refused "$rc" \
        "Invalid department: no department 'nonesuch' (org.vdesk.Error.NoSuchDepartment)" "$out"
out=$(ctl create-desktops --department='bad/name' 2>&1); rc=$?
check "a malformed department name: InvalidArgs ($rc: $out)" refused "$rc" \
        "(org.freedesktop.DBus.Error.InvalidArgs)" "$out"
check "... naming the field" grep -q "^vdeskctl: Invalid department: " <<<"$out"
out=$(ctl create-desktops eng-std --department=eng 2>&1); rc=$?
check "a category and --department= both: refused ($rc: $out)" refused "$rc" \
        "create-desktops takes a category or --department=NAME, not both" "$out"
out=$(ctl create-desktops 2>&1); rc=$?
check "neither: refused ($rc: $out)" refused "$rc" "create-desktops takes a category or --department=NAME, not neither" "$out"
check "... none of these made anything" outputs "$rows" sql "SELECT COUNT(*) FROM desktops"
check "... nor started a job" not grep -qE "'create-department-desktops', '(lonely|nonesuch|bad/name)'" "$T/signals.log"

# an account deleted while a job of 40 runs, before its item is reached:
# that item fails with NoSuchAccount, the others are made
staff temps 40 >"$T/temps.csv"
ctl create-department temps >/dev/null || die "cannot create temps"
ctl create-category temps-std tiny >/dev/null || die "cannot create temps-std"
ctl link-category temps-std temps >/dev/null || die "cannot link temps-std"
ctl import-staff "$T/temps.csv" >/dev/null || die "cannot import temps"
out=$(busctl --system --json=short call $B $P $B.Manager CreateDesktops s temps-std)
job=$(jq -r '.data[0]' <<<"$out")
busctl --system call org.vdesk.directory1 /org/vdesk/directory1 org.vdesk.directory1.Manager DeleteAccount s temps40 \
        >"$T/delete.out" 2>&1
deleted=$?
progress=$(busctl --system --json=short get-property $B "$job" $B.Job Done Failed Current 2>&1)
reached=$(jq -rs 'map(.data) | if length == 3 then "\(.[0] + .[1]) \(.[2])" else "gone" end' <<<"$progress")
check "temps40's account deleted by DeleteAccount while the job runs ($deleted: $(cat "$T/delete.out"))" test $deleted = 0
check "... before its item (the 40th) was reached (items ended, then the one in hand: $reached)" \
        bash -c "test '$reached' != gone && test ${reached%% *} -lt 39 && test '${reached#* }' != temps40"
check "the job ends failed, 39 of 40 done" wait_until 120 grep -qF \
        "objectpath '$job', 'create-desktops', 'temps-std', 'failed', uint32 39, uint32 40," "$T/signals.log"
removed=$(grep -F "JobRemoved (uint32" "$T/signals.log" | grep -F "objectpath '$job'")
check "... naming temps40 with NoSuchAccount ($removed)" \
        grep -qF "[('temps40', 'org.vdesk.Error.NoSuchAccount', \"Invalid account: no account 'temps40'\")]" <<<"$removed"
check "39 desktops of temps-std" outputs 39 count temps-std
check "... none for temps40: no domain" outputs 0 bash -c "virsh list --all --name | grep -c 'temps40' || true"
check "... no disk" outputs "" find "$T/disks" -name '*temps40*'
rows=$(sql "SELECT COUNT(*) FROM desktops")
check "... no DHCP entry beyond the rows' ($rows)" outputs "$rows" bash -c "virsh net-dumpxml vdesk | grep -c '<host mac='"
finish
