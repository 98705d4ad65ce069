#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The data files that ship with vdesk: the journal catalog explains every
# MESSAGE_ID the code uses, the units pass systemd-analyze's offline
# security review, the shipped vdesk.conf parses, and the polkit actions
# the code asks for are the ones declared.
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
        for u in vdesk-netd vdesk-imaged vdesk-brokerd vdesk-directoryd vdesk-monitord vdesk-portald vdesk-database; do
                f=$VDESK_BUILD/units/$u.service
                if [ $u = vdesk-database ]; then
                        # MariaDB's administrator signs in by its system user: mysql, not
                        # root, and it runs nothing but the mariadb client on a file.
                        check "$u.service runs the mariadb client alone, as mysql" \
                                bash -c "grep -q '^ExecStart=/usr/bin/mariadb ' '$f' && test \$(grep -c '^Exec' '$f') = 1 && grep -qx 'User=mysql' '$f'"
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
        # the portal gets its socket from systemd and needs no network of its own
        check "vdesk-portald.socket listens on 443 (HTTPS)" grep -qx 'ListenStream=443' "$VDESK_SRC/units/vdesk-portald.socket"
        check "vdesk-portald.service: no network namespace of the host's, AF_UNIX only" \
                bash -c "grep -qx 'PrivateNetwork=yes' '$VDESK_BUILD/units/vdesk-portald.service' &&
                         grep -qx 'RestrictAddressFamilies=AF_UNIX' '$VDESK_BUILD/units/vdesk-portald.service'"
else
        echo "SKIP: systemd-analyze is not installed: units not reviewed" >&2
fi

check "the shipped vdesk.conf parses" "$VDESK_BUILD/tests/unit/conf-check" "$VDESK_SRC/conf/vdesk.conf"
# polkit: the actions the code asks for (the *_ACTION_* constants) are the
# actions policy/ declares, no more, no fewer; each is granted to
# vdesk-admin by the shipped rule (it matches the prefix org.vdesk.).
defines=$(grep -rhos '^#define [A-Z]*_ACTION_[A-Z]* *"org\.vdesk\.[a-z0-9.]*"' "$VDESK_SRC/src" |
        sed 's/^#define \([A-Z_]*\) *"\(.*\)"/\1 \2/' | sort -u)
code_actions=$(cut -d' ' -f2 <<<"$defines" | sort -u)
policy_actions=$(cat "$VDESK_SRC"/policy/*.policy | sed -n 's/.*<action id="\([^"]*\)".*/\1/p' | sort)
check "the code asks for polkit actions ($(wc -l <<<"$defines"))" test "$(wc -l <<<"$defines")" -ge 5
check "policy/ declares each action once" test -z "$(uniq -d <<<"$policy_actions")"
check "the code's actions are policy/'s: $(tr '\n' ' ' <<<"$code_actions")" test "$code_actions" = "$policy_actions"
while read -r name a; do
        check "$a: declared in policy/${a%.*}.policy" grep -q "action id=\"$a\"" "$VDESK_SRC/policy/${a%.*}.policy"
        check "$a: asked for by a handler ($name)" grep -rqs --include='*-dbus.c' "\b$name\b" "$VDESK_SRC/src"
        case $a in
        *.read) def=auth_admin_keep ;;
        *) def=auth_admin ;;
        esac
        check "$a: an active admin is asked $def" \
                bash -c "sed -n '/action id=\"$a\"/,/<\/action>/p' \"\$1\" | grep -q '<allow_active>$def</allow_active>'" _ \
                "$VDESK_SRC/policy/${a%.*}.policy"
done <<<"$defines"
check "the shipped rule grants vdesk-admin every org.vdesk. action" \
        grep -q 'action.id.indexOf("org.vdesk.") == 0 && subject.isInGroup("vdesk-admin")' "$VDESK_SRC/policy/org.vdesk.rules"

# A daemon that is not root may ask polkitd about its callers only for the
# actions it owns.
for pair in broker1:vdesk-broker directory1:vdesk-directory monitor1:vdesk-monitor; do
        f=$VDESK_SRC/policy/org.vdesk.${pair%%:*}.policy
        check "every action of ${f##*/} is owned by ${pair#*:}" \
                test "$(grep -c '<action id=' "$f")" = \
                     "$(grep -c "<annotate key=\"org.freedesktop.policykit.owner\">unix-user:${pair#*:}</annotate>" "$f")"
done

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
