# SPDX-License-Identifier: LGPL-2.1-or-later
# vdeskctl for the tests of its documentation (sourced, bash, after
# harness.sh): what its sources declare.

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
