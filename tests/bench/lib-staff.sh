# SPDX-License-Identifier: LGPL-2.1-or-later
# What the staff benchmarks (tests/bench/p5, tests/bench/storm) share on
# their private host (sourced after tests/lib/host.sh).

# staff_accounts DEPARTMENT PREFIX N: N staff members PREFIX1..PREFIXN of
# DEPARTMENT (one ImportStaff), each with a password and signed in; prints
# "ACCOUNT TOKEN" lines.
staff_accounts() {
        local dept=$1 prefix=$2 n=$3 i token
        { echo "id,name,department"; for ((i = 1; i <= n; i++)); do echo "$prefix$i,Staff $i,$dept"; done; } \
                >"$T/$prefix.csv"
        ctl import-staff "$T/$prefix.csv" >/dev/null || return 1
        for ((i = 1; i <= n; i++)); do
                echo "Bench-Pass-$i" | ctl reset-password "$prefix$i" >/dev/null || return 1
                token=$(dir_call SignIn ss "$prefix$i" "Bench-Pass-$i" | awk '{ print $2 }' | tr -d '"')
                [ ${#token} = 64 ] || return 1
                echo "$prefix$i $token"
        done
}

# desktops_count: how many desktops the broker lists.
desktops_count() { broker_json ListDesktops | jq '.data[0] | length'; }

# desktops_more_than N: the broker lists more than N desktops.
desktops_more_than() { [ "$(desktops_count)" -gt "$1" ]; }

# answers ADDRESS: the test guest's banner comes from ADDRESS:3389 (1 s).
answers() {
        timeout 1 bash -c "exec 3<>/dev/tcp/$1/3389 && head -1 <&3" 2>/dev/null | grep -q '^VDESK-TEST-GUEST '
}

# pool_ready N: at least N running desktops answer on their guest port: a
# pool's started desktops have booted (every other desktop is stopped).
pool_ready() {
        local n=0 a
        for a in $(broker_json ListDesktops | jq -r '.data[0][] | select(.[7] == "running") | .[4]'); do
                answers "$a" && n=$((n + 1))
        done
        [ $n -ge "$1" ]
}
