#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The man pages say what the code has: every setting of the shipped
# vdesk.conf (and of conf.c's table) under its section in vdesk.conf(5),
# with its default; every vdeskctl command (the Verb tables) and option
# (the struct option table and getopt's short options) in vdeskctl(1);
# the journal MESSAGE_IDs each daemon logs in its page. And every built
# page (the arguments) renders with man-db at 80 columns without a warning.
. "$VDESK_SRC/tests/lib/harness.sh"
. "$VDESK_SRC/tests/lib/vdeskctl.sh"

MAN=$VDESK_SRC/man
CONF=$VDESK_SRC/conf/vdesk.conf
PAGES="vdeskctl.1 vdesk.conf.5 vdesk-brokerd.8 vdesk-directoryd.8 vdesk-netd.8 vdesk-imaged.8 vdesk-monitord.8
       vdesk-portald.8"

# part FILE START: the lines of an scdoc source from the heading START (a
# whole line) to the next heading of its level or above.
part() {
        START=$2 awk '
                $0 == ENVIRON["START"] { on = 1; level = index($0, " "); next }
                on && /^#+ / && index($0, " ") <= level { exit }
                on { print }' "$1"
}
# entry TEXT TERM-REGEX: the entry whose term line matches, up to the next
# term line (a line starting with *). (ENVIRON: awk -v would take the
# regex's backslashes as escapes of its own.)
entry() { RE=$2 awk '$0 ~ ENVIRON["RE"] { on = 1; print; next } on && /^\*/ { exit } on { print }' <<<"$1"; }

# --- vdesk.conf(5) ---------------------------------------------------------
src=$MAN/vdesk.conf.5.scd
settings=$(awk '
        /^\[[A-Za-z]+\]$/ { section = substr($0, 2, length($0) - 2); next }
        /^#?[A-Z][A-Za-z]*=/ { sub(/^#/, ""); i = index($0, "="); print section, substr($0, 1, i - 1), substr($0, i + 1) }' "$CONF")
check "conf/vdesk.conf holds settings ($(wc -l <<<"$settings"))" test "$(wc -l <<<"$settings")" -ge 60
while read -r section key value; do
        body=$(part "$src" "## [$section]")
        e=$(entry "$body" "^\\*$key=\\*")
        check "vdesk.conf(5) documents [$section] $key=" test -n "$e"
        if [ -z "$value" ]; then
                check "  ... its default: empty" grep -qx $'\tDefault: empty' <<<"$e"
        else
                check "  ... its default: $value" grep -qxF $'\tDefault: _'"$value"_ <<<"$e"
        fi
done <<<"$settings"
# conf.c's table: ITEM("Section", "Key", ...) and LIST(...)
known=$(sed -n 's/^ *\(ITEM\|LIST\)("\([A-Za-z]*\)", *"\([A-Za-z]*\)".*/\2 \3/p' "$VDESK_SRC/src/shared/conf.c")
check "conf.c knows settings ($(wc -l <<<"$known"))" test "$(wc -l <<<"$known")" -ge 60
check "conf.c's settings are conf/vdesk.conf's" test "$(sort <<<"$known")" = "$(cut -d' ' -f1,2 <<<"$settings" | sort)"
# and nothing documented that is not a setting
documented=$(awk '/^## \[[A-Za-z]+\]$/ { s = substr($2, 2, length($2) - 2); next } /^# / { s = "" }
                  s != "" && /^\*[A-Za-z]+=\*/ { k = substr($0, 2); sub(/=.*/, "", k); print s, k }' "$src")
check "vdesk.conf(5) documents no setting conf.c does not know" \
        test "$(sort <<<"$documented")" = "$(sort <<<"$known")"

# --- vdeskctl(1) -----------------------------------------------------------
src=$MAN/vdeskctl.1.scd
commands=$(part "$src" "# COMMANDS")
options=$(part "$src" "# OPTIONS")
verbs=$(vdeskctl_verbs)
check "vdeskctl has commands ($(wc -w <<<"$verbs"))" test "$(wc -w <<<"$verbs")" -ge 60
for v in $verbs; do
        check "vdeskctl(1) documents the command $v" grep -qE "^(\*[a-z-]+\*[^*]*, )?\*$v\*( |,|$)" <<<"$commands"
done
longs=$(vdeskctl_long_options)
check "vdeskctl has long options ($(wc -l <<<"$longs"))" test "$(wc -l <<<"$longs")" -ge 20
while read -r o kind; do
        if [ "$kind" = no ]; then
                check "vdeskctl(1) documents --$o" grep -qE "^(\*-[a-zA-Z]\*, )?\*--$o\*$" <<<"$options"
        else
                check "vdeskctl(1) documents --$o=" grep -qE "^(\*-[a-zA-Z]\*, )?\*--$o=\*" <<<"$options"
        fi
done <<<"$longs"
shorts=$(vdeskctl_short_options)
check "vdeskctl has short options (getopt_long's string)" test -n "$shorts"
for o in $shorts; do
        check "vdeskctl(1) documents -$o" grep -qE "^\*-$o\*, \*--[a-z-]+=?\*" <<<"$options"
done
for s in "EXIT STATUS" ENVIRONMENT EXAMPLES "SEE ALSO"; do
        check "vdeskctl(1) has $s" grep -qx "# $s" "$src"
done
check "vdeskctl(1) names VDESK_TOKEN, which vdeskctl reads" grep -qx '\*VDESK_TOKEN\*' "$src"

# --- the daemons' pages: the MESSAGE_IDs each logs -------------------------
for d in brokerd directoryd netd imaged monitord; do
        src=$MAN/vdesk-$d.8.scd
        names=$(grep -rhoE 'MID_[A-Z_]+' "$VDESK_SRC/src/$d" | sort -u | sed 's/^MID_//')
        check "vdesk-$d logs entries with MESSAGE_IDs" test -n "$names"
        for n in $names; do
                id=$(sed -n "s/^#define MID_$n *\"\([0-9a-f]\{32\}\)\".*/\1/p" "$VDESK_SRC/src/shared/message-id.h")
                check "vdesk-$d(8) lists $n ($id)" grep -qx "\\*$n\\* $id" "$src"
        done
        for s in OPTIONS "D-BUS INTERFACE" PRIVILEGES CONFIGURATION JOURNAL FILES "SEE ALSO"; do
                check "vdesk-$d(8) has $s" grep -qx "# $s" "$src"
        done
done

# --- the built pages --------------------------------------------------------
built=" $* "
for p in $PAGES; do
        name=${p%.*} section=${p##*.}
        check "$p: its source names it ($name($section))" grep -q "^$name($section) " "$MAN/$p.scd"
        f=
        for a in "$@"; do [ "$(basename "$a")" = "$p" ] && f=$a; done
        check "$p is built" test -n "$f" -a -s "$f"
done
check "the pages built are these ($PAGES)" test "$#" = "$(wc -w <<<"$PAGES")"
if ! command -v man >/dev/null; then
        check "man (man-db) is installed to render the pages: tools/install-packages installs it" false
else
        for f in "$@"; do
                # man-db formats for a file (no pager on a pipe); groff's
                # warnings (a line it cannot break, a bad request) go to stderr
                warnings=$(MANWIDTH=80 MANPAGER=cat man -l --warnings "$f" 2>&1 >/dev/null)
                check "man -l --warnings $(basename "$f"): no warnings${warnings:+ ($warnings)}" test -z "$warnings"
                text=$(LC_ALL=C MANWIDTH=80 MANPAGER=cat man -l "$f" 2>/dev/null)
                check "  ... renders its NAME and SEE ALSO" bash -c 'grep -qx NAME <<<"$1" && grep -qx "SEE ALSO" <<<"$1"' _ "$text"
                check "  ... fits 80 columns" test "$(awk '{ if (length > m) m = length } END { print m + 0 }' <<<"$text")" -le 80
        done
fi
finish
