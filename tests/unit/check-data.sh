#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The data files that ship with vdesk: the journal catalog explains every
# MESSAGE_ID the code uses, the units pass systemd-analyze's offline
# security review, the shipped vdesk.conf parses, and the polkit action
# the code asks for is declared.
set -u
: "${VDESK_SRC:?}" "${VDESK_BUILD:?}"
pass=0 fail=0
check() {
        local what=$1; shift
        if "$@"; then pass=$((pass + 1)); echo "ok - $what"
        else fail=$((fail + 1)); echo "not ok - $what"; fi
}

ids=$(sed -n 's/^#define MID_[A-Z_]* *"\([0-9a-f]\{32\}\)".*/\1/p' "$VDESK_SRC/src/shared/message-id.h")
check "message-id.h defines MESSAGE_IDs" test "$(wc -w <<<"$ids")" -ge 10
check "MESSAGE_IDs are unique" test "$(tr ' ' '\n' <<<"$ids" | sort | uniq -d | wc -l)" = 0
for id in $ids; do
        check "catalog explains $id" bash -c "grep -A1 -x -- '-- $id' '$VDESK_SRC/catalog/vdesk.catalog' | grep -q '^Subject: '"
done
check "catalog has no entry the code does not use" \
        test "$(grep -c '^-- [0-9a-f]\{32\}$' "$VDESK_SRC/catalog/vdesk.catalog")" = "$(wc -w <<<"$ids")"

if command -v systemd-analyze >/dev/null; then
        for u in vdesk-netd vdesk-imaged vdesk-brokerd vdesk-directoryd vdesk-monitord vdesk-database; do
                f=$VDESK_BUILD/units/$u.service
                if [ $u = vdesk-database ]; then
                        # MariaDB's root signs in by uid 0: the one unit as root, and it runs
                        # nothing but the mariadb client on a file.
                        check "$u.service runs the mariadb client alone" \
                                bash -c "grep -q '^ExecStart=/usr/bin/mariadb ' '$f' && test \$(grep -c '^Exec' '$f') = 1"
                else
                        check "$u.service: Type=notify with a watchdog" bash -c "grep -qx 'Type=notify' '$f' && grep -q '^WatchdogSec=' '$f'"
                        user=$(sed -n 's/^User=//p' "$f")
                        check "$u.service runs as a system user of its own ($user), not root" \
                                bash -c "[ -n '$user' ] && [ '$user' != root ] && grep -q '^u $user ' '$VDESK_SRC/units/vdesk.sysusers'"
                        check "$u.service is not restarted after a configuration error" grep -qx 'RestartPreventExitStatus=78' "$f"
                fi
                # 0 is best, 10 worst; systemd's own small daemons sit at 1-3.
                score=$(cd "$VDESK_BUILD/units" && systemd-analyze security --offline=true "$u.service" 2>/dev/null |
                        sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
                check "$u.service exposure ${score:-unknown} <= 2.0" awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.0) }'
        done
else
        echo "SKIP: systemd-analyze is not installed: units not reviewed" >&2
fi

check "the shipped vdesk.conf parses" "$VDESK_BUILD/tests/unit/conf-check" "$VDESK_SRC/conf/vdesk.conf"
check "polkit declares org.vdesk.broker1.manage" \
        grep -q 'action id="org.vdesk.broker1.manage"' "$VDESK_SRC/policy/org.vdesk.broker1.policy"
check "the code asks for the declared action" \
        grep -q '"org.vdesk.broker1.manage"' "$VDESK_SRC/src/brokerd/manager.h"
check "polkit declares org.vdesk.directory1.manage" \
        grep -q 'action id="org.vdesk.directory1.manage"' "$VDESK_SRC/policy/org.vdesk.directory1.policy"
check "the directory asks for its declared action" \
        grep -q '"org.vdesk.directory1.manage"' "$VDESK_SRC/src/directoryd/manager.h"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
