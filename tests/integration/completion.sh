#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdeskctl's bash completion against the live services (a private host,
# tests/lib/host.sh: MariaDB, polkitd, vdesk-directoryd, vdesk-brokerd and
# vdesk-netd on a private bus, no libvirtd): the accounts, departments, categories,
# templates, clusters and networks made here complete where a command
# takes them, and what is deleted no longer does; a caller polkit refuses
# gets nothing and prints nothing.
. "$VDESK_SRC/tests/lib/harness.sh"
. "$VDESK_SRC/tests/lib/host.sh"
. "$VDESK_SRC/tests/lib/vdeskctl.sh"
host_enter "$@"
need_cmd busctl setpriv timeout

host_start_journal
host_start_bus
host_start_polkit
host_start_mariadb
host_write_config </dev/null
host_start_directory
# netd checks a network's segment; no libvirtd: nothing to reconcile
bg netd "$VDESK_BUILD/src/netd/vdesk-netd" --ruleset="$VDESK_SRC/nft/vdesk.nft" --no-reconcile
wait_until 10 bus_has_name org.vdesk.network1 || die "netd did not start: $(cat "$T/netd.log")"
# no libvirtd: the broker's own host is down, its catalog is served
bg brokerd "$VDESK_BUILD/src/brokerd/vdesk-brokerd" --sql-dir="$VDESK_SRC/sql"
wait_until 20 bus_has_name org.vdesk.broker1 || die "brokerd did not start: $(cat "$T/brokerd.log")"

VDESKCTL=$VDESK_BUILD/src/vdeskctl/vdeskctl
COMPLETION=$VDESK_SRC/shell-completion/bash/vdeskctl
. "$COMPLETION"

# ctl_comp WORD...: the completions of "vdeskctl WORD..." (the build's).
ctl_comp() { comp "$VDESKCTL" "$@"; }

# the completion answers (its commands complete) while no name does yet
check "the completion works: commands complete (acc)" outputs "$(lines account accounts)" ctl_comp acc
check "nothing to complete yet: no accounts" outputs "" ctl_comp account ""
check "nothing to complete yet: no departments" outputs "" ctl_comp department ""

ctl create-account alice "Alice Liddell" --role=manager >/dev/null || die "cannot create alice"
ctl create-account bob "Bob Dylan" >/dev/null || die "cannot create bob"
ctl create-department sales --unit=ACME >/dev/null || die "cannot create sales"
ctl create-department eng >/dev/null || die "cannot create eng"
# a template as the broker's catalog holds one (building one needs libvirt)
sql "INSERT INTO templates (name, format) VALUES ('office', 'raw')"
ctl create-category office-std office >/dev/null || die "cannot create a category"
ctl create-cluster branch 10 >/dev/null || die "cannot create a cluster"
ctl create-network lab 10.30.0.0/24 10.30.0.1 10.30.0.10-10.30.0.250 >/dev/null || die "cannot create a network"

check "accounts complete (account)" outputs "$(lines alice bob)" ctl_comp account ""
check "  ... from a prefix (delete-account a)" outputs alice ctl_comp delete-account a
check "departments complete (add-staff)" outputs "$(lines eng sales)" ctl_comp add-staff ""
check "accounts as add-manager's second argument" outputs "$(lines alice bob)" ctl_comp add-manager sales ""
check "departments as --department='s value" outputs "$(lines eng sales)" ctl_comp accounts --department =
check "categories complete (link-category)" outputs office-std ctl_comp link-category ""
check "departments as link-category's second argument" outputs "$(lines eng sales)" ctl_comp link-category office-std ""
check "templates complete (template)" outputs office ctl_comp template ""
check "templates as create's third argument" outputs office ctl_comp create alice-1 alice ""
check "clusters complete (delete-cluster): branch and the broker's default" outputs "$(lines branch default)" \
        ctl_comp delete-cluster ""
check "networks complete (network)" outputs lab ctl_comp network ""
check "networks as --network='s value" outputs lab ctl_comp create-category c office --network =
check "show --type=network completes networks" outputs lab ctl_comp show --type = network ""
check "no desktops: nothing for start" outputs "" ctl_comp start ""
check "hosts complete (host): the broker's own" outputs "$(sql "SELECT name FROM hosts")" ctl_comp host ""

ctl delete-department eng >/dev/null || die "cannot delete eng"
check "a deleted department no longer completes" outputs sales ctl_comp department ""

# uid 1 is no admin: polkit refuses its listings; the completion asks
# with --no-ask-password: it gets nothing, and says nothing. The same
# lines as root get the names: the refusal, not the way there, is what
# leaves uid 1 with none.
complete_as() {
        timeout 20 setpriv --reuid="$1" --regid="$1" --clear-groups bash -c '
                . "$1"
                COMP_WORDS=("$2" account "")
                COMP_CWORD=2
                _vdeskctl
                echo "[${COMPREPLY[*]}]"' _ "$COMPLETION" "$VDESKCTL" 2>&1
}
out=$(complete_as 0)
check "root completes accounts the same way ($out)" test "$out" = "[alice bob]"
unpriv=$(complete_as 1)
check "a caller polkit refuses: no names and no message ($unpriv)" test "$unpriv" = "[]"
refusal_journaled() { test -n "$(journal_json VDESK_ACTOR_UID=1 VDESK_METHOD=ListAccounts)"; }
check "  ... refused by the directory, which journaled it" wait_until 5 refusal_journaled
finish
