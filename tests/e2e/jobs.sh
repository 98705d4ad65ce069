#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The broker's batch jobs on a private host with real libvirtd, QEMU,
# MariaDB and polkitd: a department of 20 staff gets its category's
# desktops from one CreateDesktops job, its progress seen on the bus; one
# item made to fail (a domain of that desktop's name exists already) is
# reported with its named error while the other 19 are made, and the same
# job again makes only what is left; a job cancelled half-way leaves whole
# desktops only (rows and domains alike); StartDesktops and StopDesktops
# of a department; vdeskctl follows a job and lists them.
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
finish
