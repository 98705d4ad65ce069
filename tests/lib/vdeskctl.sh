# SPDX-License-Identifier: LGPL-2.1-or-later
# vdeskctl for the tests of its documentation and its bash completion
# (sourced, bash, after harness.sh): what its sources declare, and the
# completion driven as bash drives it.

# vdeskctl_verbs: the commands of the Verb tables ({ "name", min, max, fn }).
vdeskctl_verbs() {
        cat "$VDESK_SRC"/src/vdeskctl/*.c | sed -n 's/^ *{ *"\([a-z][a-z-]*\)", *[0-9]*, *[0-9]*, *[a-z_]* *},.*/\1/p'
}

# vdeskctl_long_options: "NAME no|required|optional" for each entry of the
# struct option table.
vdeskctl_long_options() {
        cat "$VDESK_SRC"/src/vdeskctl/*.c |
                sed -n 's/^ *{ *"\([a-z][a-z-]*\)", *\(no\|required\|optional\)_argument,.*/\1 \2/p'
}

# vdeskctl_short_options: the letters of getopt_long's option string, one a line.
vdeskctl_short_options() {
        cat "$VDESK_SRC"/src/vdeskctl/*.c | sed -n 's/.*getopt_long([^"]*"\([^"]*\)".*/\1/p' | tr -d ':+-' | fold -w1
}

# comp WORD...: the completions of the last word of the command line WORD...
# (split at = as readline splits it), one a line, sorted; the completion
# file must be sourced.
comp() {
        COMP_WORDS=("$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMPREPLY=()
        _vdeskctl 2>/dev/null
        ((${#COMPREPLY[@]} == 0)) || printf '%s\n' "${COMPREPLY[@]}" | sort
}

# lines WORD...: the words one a line, sorted (what comp prints).
lines() { printf '%s\n' "$@" | sort; }
