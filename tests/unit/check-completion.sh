#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdeskctl's bash completion, driven as bash drives it: the file sourced,
# COMP_WORDS and COMP_CWORD set (split at = as readline splits them), the
# function called, COMPREPLY read. Commands and options against the Verb
# and option tables of src/vdeskctl; option values; names from a stand-in
# vdeskctl's listings (header and count skipped), and nothing, quietly and
# at once, from a vdeskctl that finds no bus. The names of a live service
# are the integration test completion's.
. "$VDESK_SRC/tests/lib/harness.sh"
. "$VDESK_SRC/tests/lib/vdeskctl.sh"

COMPLETION=$VDESK_SRC/shell-completion/bash/vdeskctl
VDESKCTL=$VDESK_BUILD/src/vdeskctl/vdeskctl
check "the completion file sources" source "$COMPLETION"
check "complete -p vdeskctl: registered with its function" outputs "complete -F _vdeskctl vdeskctl" complete -p vdeskctl

# offers WORD WORD...: WORD is among the completions of the command line.
offers() { local want=$1; shift; comp "$@" | grep -qxF -- "$want"; }

# commands
check "commands from a prefix (cre)" outputs "$(lines create create-account create-category create-cluster \
        create-department create-desktops create-network create-template)" comp vdeskctl cre
verbs=$(vdeskctl_verbs)
check "vdeskctl's Verb tables hold commands ($(wc -w <<<"$verbs"))" test "$(wc -w <<<"$verbs")" -ge 60
for v in $verbs; do
        check "command $v offered" offers "$v" vdeskctl ""
done
check "a command after options (--no-ask-password wat)" outputs "watch" comp vdeskctl --no-ask-password wat
check "no command offered after one (desktops takes no name)" outputs "" comp vdeskctl desktops ""

# options: --NAME= for those taking a value, --NAME for the others
longs=$(vdeskctl_long_options)
check "vdeskctl's option table holds options ($(wc -l <<<"$longs"))" test "$(wc -l <<<"$longs")" -ge 20
while read -r o kind; do
        [ "$kind" = no ] && want=--$o || want=--$o=
        check "option $want offered" offers "$want" vdeskctl --
done <<<"$longs"
check "options from a prefix (--r)" outputs "$(lines --rdp-file= --redirect= --role=)" comp vdeskctl --r
check "-h offered" offers -h vdeskctl -

# option values, as bash splits --NAME=VALUE (= breaks words)
check "--type= values from a prefix" outputs template comp vdeskctl show --type = t
check "--type= values" outputs "$(lines cluster desktop host network template)" comp vdeskctl show --type =
check "--role= values" outputs "$(lines admin manager staff)" comp vdeskctl create-account a A --role =
check "--role VALUE (a separate word)" outputs "manager" comp vdeskctl accounts --role m
check "--state= values" outputs "$(lines offline online)" comp vdeskctl accounts --state =
check "--format= values" outputs "$(lines qcow2 raw)" comp vdeskctl create-template t 1G x.iso --format =
check "set-category's properties from a prefix (Pool)" outputs "$(lines PoolSize= PoolStarted=)" comp vdeskctl set-category sales Pool
check "... and after one given" outputs "IdleStopMinutes=" comp vdeskctl set-category sales PoolSize=3 I
check "--redirect=: the last of a comma list" outputs "printers,clipboard" comp vdeskctl create-category c t --redirect = printers,cl
check "maintenance HOST on|off" outputs "$(lines off on)" comp vdeskctl maintenance node1 ""
touch "$T/alice-1.rdp"
check "--rdp-file= completes file names" outputs "$T/alice-1.rdp" comp vdeskctl open alice-1 --rdp-file = "$T/alice"

# names, from a stand-in vdeskctl whose listings are vdeskctl's (a header,
# rows, an empty line and a count, or no count); it records its calls
cat >"$T/vdeskctl" <<X
#!/bin/bash
echo "\$*" >>"$T/calls"
case " \$* " in
*" desktops "*) printf '%s\n' "DESKTOP ACCOUNT TEMPLATE ADDRESS PORT STATE HOST" \
                "alice-1 alice office 10.20.0.10 50000 running node1" \
                "bob-1 bob office 10.20.0.11 50001 stopped node1" "" "2 desktops." ;;
*" accounts "*) printf '%s\n' "ID ROLE STATE EMAIL NAME" "alice manager offline - Alice Liddell" \
                "bob staff offline - Bob" "" "2 accounts." ;;
*" departments "*) printf '%s\n' "DEPARTMENT UNIT FOUNDED STAFF MANAGERS" "sales ACME 1999 1 1" "eng - - 0 0" ;;
*" my-desktops "*) printf '%s\n' "DESKTOP ACCOUNT TEMPLATE ADDRESS PORT STATE HOST" \
                "office-std-s1 s1 office 10.20.0.12 50002 running node1" \
                "(category lab: a desktop is made on first open-mine lab)" ;;
*" isos "*) printf '%s\n' "" "0 ISOs." ;;         # none: no header either
*" show "*) printf '%s\n' "Name=alice-1" "State=running" "StateSince=1" "Host=node1" ;;
*) exit 1 ;;
esac
X
chmod +x "$T/vdeskctl"
check "desktops (header and count skipped)" outputs "$(lines alice-1 bob-1)" comp "$T/vdeskctl" start ""
check "desktops from a prefix" outputs alice-1 comp "$T/vdeskctl" stop a
check "  ... asked with --no-ask-password (a completion never waits for polkit)" \
        grep -qx -- "--no-ask-password desktops" "$T/calls"
check "departments (a listing without a count)" outputs "$(lines eng sales)" comp "$T/vdeskctl" add-staff ""
check "departments for create-desktops --department=" outputs "$(lines eng sales)" comp "$T/vdeskctl" create-desktops --department =
check "accounts as add-staff's second argument" outputs "$(lines alice bob)" comp "$T/vdeskctl" add-staff sales ""
check "  ... options between the arguments skipped" outputs "$(lines alice bob)" comp "$T/vdeskctl" add-staff --no-ask-password sales ""
check "show: desktops by default" outputs "$(lines alice-1 bob-1)" comp "$T/vdeskctl" show ""
check "show -p: the named object's properties" outputs "$(lines State StateSince)" comp "$T/vdeskctl" show alice-1 -p S
check "show --property=: the same" outputs "Host" comp "$T/vdeskctl" show alice-1 --property = H
check "open-mine: my desktops and the categories I may open" outputs "$(lines lab office-std-s1)" comp "$T/vdeskctl" open-mine ""
check "an empty listing (no header, only the count) gives nothing" outputs "" comp "$T/vdeskctl" unregister-iso ""
check "a listing that fails gives nothing" outputs "" comp "$T/vdeskctl" delete-cluster ""

# the real vdeskctl, with no bus to reach: nothing, no message, at once
printf '[Bus]\nAddress=unix:path=%s/no-bus\n' "$T" >"$T/vdesk.conf"
export VDESK_CONFIG=$T/vdesk.conf
check "no service: no names" outputs "" comp "$VDESKCTL" start ""
start=$SECONDS
err=$({ COMP_WORDS=("$VDESKCTL" delete ""); COMP_CWORD=2; _vdeskctl; } 2>&1)
check "  ... nothing printed (${err:-nothing})" test -z "$err"
check "  ... within 3 s" test $((SECONDS - start)) -le 3
finish
