#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A category's pool of desktops made ahead, on a private host with real
# libvirtd, QEMU, MariaDB, polkitd and vdesk: with PoolSize=3 and
# PoolStarted=2 the broker fills it (three desktops of nobody's, two
# booted); three staff members open the category at once and each gets a
# desktop of the pool, a different one, the two booted ones far sooner
# than a guest boots; the handed-over desktops' rows and domains name
# their owners; the pool fills again; vdeskctl categories and the
# monitor's metrics show it; PoolSize=0 empties it, and a fourth open makes
# a desktop on the spot. A pool on a category without a template is
# journaled and stays empty.
. "$VDESK_SRC/tests/lib/harness.sh"
. "$VDESK_SRC/tests/lib/host.sh"
host_enter "$@"
need_cmd setpriv xmllint
host_start_desktops <<X
[Directory]
YescryptCost=3
[Monitor]
IntervalSec=1
HostCPUPercent=100
HostMemoryPercent=100
MetricsListen=127.0.0.1:9751
X

C=vdc-$$
netns_add $C
veth_pair - vdh-c0 10.77.0.1/24 $C vdh-c1 10.77.0.2/24
ip -n $C route add default via 10.77.0.1
"$VDESK_SRC/tests/guest/build-template" "$T/templates/tiny.img" >/dev/null || die "cannot build the template"
bg monitord "$VDESK_BUILD/src/monitord/vdesk-monitord"
wait_until 10 bus_has_name org.vdesk.monitor1 || die "monitord did not start: $(cat "$T/monitord.log")"

check "register the template" ctl register-template tiny "$T/templates/tiny.img"
check "department sales, category office on tiny" \
        bash -c "$(declare -f ctl); ctl create-department sales && ctl create-category office tiny && ctl link-category office sales"
for a in ann bob cat dave; do
        ctl create-account $a "$a Example" >/dev/null && ctl add-staff sales $a >/dev/null &&
                echo "$a-Pass-2026" | ctl reset-password $a >/dev/null || die "cannot make account $a"
done

# <vdesk:account> of a domain's XML on stdin, whatever prefix it has
meta_account() {
        local ns=https://vdesk.org/xmlns/desktop/1
        xmllint --xpath "string(//metadata/*[local-name()='desktop' and namespace-uri()='$ns']/*[local-name()='account' and namespace-uri()='$ns'])" -
}
pooled() { sql "SELECT COUNT(*), COALESCE(SUM(state = 'running'), 0) FROM desktops d JOIN categories c ON c.id = d.category_id WHERE c.name = '$1' AND d.account_id IS NULL" | tr '\t' ' '; }
running_domains() { virsh list --name | grep -c "^$1-pool-"; }

# ---- a pool on a category without a template --------------------------------
check "category draft without a template, PoolSize=2" \
        bash -c "$(declare -f ctl); ctl create-category draft '' && ctl set-category draft PoolSize=2"
check "  ... journaled: its pool stays empty" wait_until 20 bash -c \
        "journalctl --no-pager -o json 2>/dev/null | jq -e 'select(.MESSAGE? // \"\" | test(\"^Category draft has PoolSize=2 but names no template\"))' >/dev/null"
check "  ... ListPools: draft 2 0, nothing made" \
        test "$(broker_json ListPools | jq -c '.data[0][] | select(.[0] == "draft")')" = '["draft",2,0,0,0]'
check "  ... no desktop of it" test "$(pooled draft)" = "0 0"

# ---- the pool fills ---------------------------------------------------------
t0=$(date +%s)
check "set-category office PoolSize=3 PoolStarted=2" ctl set-category office PoolSize=3 PoolStarted=2
check "the pool fills: three desktops of nobody's, two running" wait_until 400 outputs "3 2" pooled office
echo "# filled in $(($(date +%s) - t0)) s"
check "  ... two of their domains run" test "$(running_domains office)" = 2
check "  ... vdeskctl desktops lists them as nobody's (-)" \
        test "$(ctl desktops | grep -cE '^office-pool-[0-9a-f]{8} +- +tiny ')" = 3
check "  ... ListPools: office 3 2, 3 made, 2 running" \
        test "$(broker_json ListPools | jq -c '.data[0][] | select(.[0] == "office")')" = '["office",3,2,3,2]'
check "  ... journaled full" wait_until 20 bash -c \
        "test \"\$(journalctl --no-pager -o json MESSAGE_ID=$(mid POOL_REFILLED) VDESK_CATEGORY=office 2>/dev/null | wc -l)\" -ge 1"
check "  ... their domains' metadata names no account" bash -c "$(declare -f meta_account)
        for d in \$(virsh list --all --name | grep '^office-pool-'); do test -z \"\$(virsh dumpxml \$d | meta_account)\" || exit 1; done"
check "vdeskctl categories: office's pool 2/3 up, draft's 0/2 up" bash -c "$(declare -f ctl)
        ctl categories | grep -qE '^office +tiny +- +2/3 up ' && ctl categories | grep -qE '^draft +- +- +0/2 up, filling '"
http() { exec 3<>/dev/tcp/127.0.0.1/9751 && printf 'GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n' >&3 && cat <&3; }
export -f http
check "the monitor's metrics: office's pool, 2 running, 1 stopped, size 3" wait_until 10 bash -c \
        "http | tr -d '\r' >'$T/page' && grep -qx 'vdesk_pool_desktops{category=\"office\",state=\"running\"} 2' '$T/page' &&
         grep -qx 'vdesk_pool_desktops{category=\"office\",state=\"stopped\"} 1' '$T/page' &&
         grep -qx 'vdesk_pool_size{category=\"office\"} 3' '$T/page'"

# ---- three staff open at once --------------------------------------------------
declare -A ms name state
pids=()
for a in ann bob cat; do
        TOKEN=$(echo "$a-Pass-2026" | staff sign-in $a) || die "$a cannot sign in"
        (
                s=$(date +%s%3N)
                out=$(TOKEN=$TOKEN staff open-mine office 2>&1)
                echo "$(($(date +%s%3N) - s)) $out" >"$T/open-$a"
        ) &
        pids+=($!)
done
wait "${pids[@]}"
for a in ann bob cat; do
        read -r ms[$a] rest <"$T/open-$a"
        name[$a]=$(sed -n 's/^Desktop \([^ ]*\) answers at 10\.77\.0\.1:[0-9]*\.$/\1/p' <<<"$rest")
        check "$a opens office: a desktop of the pool, $rest (${ms[$a]} ms)" \
                bash -c '[[ $1 == office-pool-* ]]' _ "${name[$a]}"
        check "  ... it is $a's in the database" \
                test "$(sql "SELECT a.name FROM desktops d JOIN accounts a ON a.id = d.account_id WHERE d.name = '${name[$a]}'")" = $a
        check "  ... the handover journaled with $a" \
                test "$(journal_json MESSAGE_ID="$(mid POOL_HANDED_OVER)" VDESK_DESKTOP="${name[$a]}" | jq -r .VDESK_ACCOUNT)" = $a
        state[$a]=$(journal_json MESSAGE_ID="$(mid POOL_HANDED_OVER)" VDESK_DESKTOP="${name[$a]}" | jq -r .VDESK_STATE)
done
check "three different desktops (${name[ann]} ${name[bob]} ${name[cat]})" \
        test "$(printf '%s\n' "${name[@]}" | sort -u | wc -l)" = 3
# the third is stopped, or booting if the refill started it meanwhile
check "two were handed over running and answering, one not (${state[ann]} ${state[bob]} ${state[cat]})" \
        bash -c '[[ $1 =~ ^running\ running\ (booting|stopped)\ $ ]]' _ "$(printf '%s\n' "${state[@]}" | sort -r | tr '\n' ' ')"
boot=0
for a in ann bob cat; do
        if [ "${state[$a]}" != running ]; then boot=${ms[$a]}; fi
done
for a in ann bob cat; do
        [ "${state[$a]}" = running ] || continue
        check "$a's booted desktop opened in ${ms[$a]} ms, under a third of the boot the other one waited for ($boot ms)" \
                test $((ms[$a] * 3)) -lt "$boot"
done
for a in ann bob cat; do
        d=${name[$a]}
        port=$(sql "SELECT rdp_port FROM desktops WHERE name = '$d'")
        line=$(tcp_line $C 10.77.0.1 "$port")
        check "$d runs, and its guest answers through its forward on port $port ($line)" \
                bash -c "test \"\$(virsh domstate $d)\" = running && [[ '$line' == 'VDESK-TEST-GUEST '* ]]"
        live=$(virsh dumpxml "$d" | meta_account)
        check "  ... its running domain's metadata names $a ($live)" test "$live" = $a
        config=$(virsh dumpxml --inactive "$d" | meta_account)
        check "  ... and so does its definition ($config)" test "$config" = $a
        check "  ... its forward (port $port) names the desktop $a has now" \
                test "$(busctl --system --json=short call org.vdesk.network1 /org/vdesk/network1 org.vdesk.network1.Manager \
                        ListForwards | jq -r ".data[0][] | select(.[0] == $port) | .[3]")" = "$d"
        check "  ... the broker's object says $a" \
                test "$(busctl --system get-property org.vdesk.broker1 "$(broker_json GetDesktopObject s "$d" | jq -r '.data[0]')" \
                        org.vdesk.broker1.Desktop Account)" = "s \"$a\""
done
out=$(TOKEN=$(echo ann-Pass-2026 | staff sign-in ann) staff open-mine office 2>&1)
check "ann opens office again: the same desktop ($out)" grep -q "^Desktop ${name[ann]} answers" <<<"$out"
# the hook reads the new metadata at the next start: the forward it asks
# netd for names ann
out=$(TOKEN=$(echo ann-Pass-2026 | staff sign-in ann) staff restart-mine "${name[ann]}" 2>&1)
check "ann restarts it: it answers again ($out)" grep -q "^Desktop ${name[ann]} answers" <<<"$out"
check "  ... the forward the hook added again is journaled with ann" \
        test "$(journal_json MESSAGE_ID="$(mid FORWARD_ADDED)" VDESK_DESKTOP="${name[ann]}" | tail -1 | jq -r .VDESK_ACCOUNT)" = ann

# ---- it fills again --------------------------------------------------------------
check "the pool fills again: three of nobody's, two running" wait_until 400 outputs "3 2" pooled office
check "  ... the handed-over ones stay their owners'" \
        test "$(sql "SELECT COUNT(*) FROM desktops d JOIN accounts a ON a.id = d.account_id WHERE a.name IN ('ann', 'bob', 'cat')")" = 3
check "  ... ListPools: office 3 2, 3 made, 2 running" \
        test "$(broker_json ListPools | jq -c '.data[0][] | select(.[0] == "office")')" = '["office",3,2,3,2]'

# ---- shrinking: the stopped one goes first ------------------------------------------
free_names() { sql "SELECT d.name FROM desktops d JOIN categories c ON c.id = d.category_id WHERE c.name = 'office' AND d.account_id IS NULL AND d.state $1 'running' ORDER BY d.name" | tr '\n' ' '; }
stopped_one=$(free_names '<>') running_two=$(free_names '=')
check "set-category office PoolSize=2 PoolStarted=1" ctl set-category office PoolSize=2 PoolStarted=1
check "the pool shrinks to two, one running" wait_until 60 outputs "2 1" pooled office
check "  ... the stopped one ($stopped_one) went, the two that ran ($running_two) stay" \
        test "$(sql "SELECT d.name FROM desktops d JOIN categories c ON c.id = d.category_id WHERE c.name = 'office' AND d.account_id IS NULL ORDER BY d.name" | tr '\n' ' ')" = "$running_two"
check "  ... its domain is gone" not virsh dominfo "${stopped_one% }"

# ---- PoolSize=0: the pool empties, and an open makes a desktop -------------------
check "set-category office PoolSize=0 PoolStarted=0" ctl set-category office PoolSize=0 PoolStarted=0
check "the pool empties: no desktop of nobody's left" wait_until 120 outputs "0 0" pooled office
check "  ... nor their domains: the owners' three alone are left" \
        test "$(virsh list --all --name | grep -c '^office-pool-')" = 3
check "  ... the owners' desktops stay" test "$(running_domains office)" = 3
check "  ... ListPools lists office no more" \
        test "$(broker_json ListPools | jq -c '[.data[0][] | select(.[0] == "office")] | length')" = 0
out=$(TOKEN=$(echo dave-Pass-2026 | staff sign-in dave) staff open-mine office 2>&1)
check "dave opens office: a desktop made on the spot ($out)" grep -q "^Desktop office-dave answers at 10\.77\.0\.1:" <<<"$out"
check "  ... no handover journaled for dave" \
        test "$(journal_json MESSAGE_ID="$(mid POOL_HANDED_OVER)" VDESK_ACCOUNT=dave | wc -l)" = 0
check "  ... and none of the pool made meanwhile" test "$(pooled office)" = "0 0"

finish
