# SPDX-License-Identifier: LGPL-2.1-or-later
# A real RDP server and client for end-to-end tests (sourced after
# host.sh, inside a test host): xrdp with xrdp-sesman (standing in for a
# Windows desktop) in a desktop namespace, whose PAM login checks a local
# account's password, and FreeRDP under an Xvfb of the test's.

# The uid of the desktop's account; its X sessions' files are found by it.
XRDP_UID=64997

# xrdp_account USER PASSWORD: a local account PAM accepts, in the test
# host's own copies of passwd, group and shadow (bind-mounted over the
# machine's in the host's mount namespace: the machine's stay as they are).
# Clears the account's X lock files and sockets now and at exit: the
# sessions' Xvnc servers die with the namespace and leave them in the
# machine's /tmp, and sesman would run out of displays.
xrdp_account() {
        local user=$1 password=$2 hash f
        need_cmd python3
        [ -n "${VDESK_TEST_HOST:-}" ] || die "xrdp_account runs inside a test host (host_enter)"
        chmod 755 "$T"
        mkdir -p "$T/home/$user"
        chown $XRDP_UID:$XRDP_UID "$T/home/$user"
        hash=$(python3 -W ignore -c 'import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_SHA512)))' "$password")
        for f in passwd group shadow; do cp /etc/$f "$T/$f"; done
        echo "$user:x:$XRDP_UID:$XRDP_UID::$T/home/$user:/bin/sh" >>"$T/passwd"
        echo "$user:x:$XRDP_UID:" >>"$T/group"
        echo "$user:$hash:19000:0:99999:7:::" >>"$T/shadow"
        for f in passwd group shadow; do mount --bind "$T/$f" /etc/$f; done
        _xrdp_clear_x
        cleanup_push _xrdp_clear_x
}

_xrdp_clear_x() {
        find /tmp -maxdepth 1 -name '.X*-lock' -uid $XRDP_UID -delete 2>/dev/null
        find /tmp/.X11-unix -uid $XRDP_UID -delete 2>/dev/null
        return 0
}

# xrdp_start NETNS: xrdp on port 3389 and sesman in NETNS, logging to
# $T/rdp/xrdp.log and $T/rdp/sesman.log; their PIDs in XRDP_PIDS.
xrdp_start() {
        local ns=$1
        need_cmd xrdp xrdp-sesman Xvnc
        [ -e /etc/ssl/certs/ssl-cert-snakeoil.pem ] || skip "no snakeoil certificate for xrdp (package ssl-cert)"
        mkdir -p "$T/rdp"
        sed "s|@DIR@|$T/rdp|g" "$VDESK_SRC/tests/lib/rdp/xrdp.ini.in" >"$T/rdp/xrdp.ini"
        sed "s|@DIR@|$T/rdp|g" "$VDESK_SRC/tests/lib/rdp/sesman.ini.in" >"$T/rdp/sesman.ini"
        printf '#!/bin/sh\nexec sleep 100000\n' >"$T/rdp/startwm.sh"
        chmod 755 "$T/rdp" "$T/rdp/startwm.sh"
        mkdir -p /run/xrdp/sockdir && chmod 1777 /run/xrdp/sockdir
        bg sesman ip netns exec "$ns" xrdp-sesman --nodaemon --config "$T/rdp/sesman.ini"
        bg xrdp ip netns exec "$ns" xrdp --nodaemon --config "$T/rdp/xrdp.ini"
        XRDP_PIDS="$PID_sesman $PID_xrdp"
        wait_listening "$ns" 3389 || die "xrdp did not start: $(cat "$T/xrdp.log" "$T/rdp/xrdp.log" 2>/dev/null)"
}

# xrdp_stop: ends what xrdp_start started (the namespace's sessions die
# with the namespace).
xrdp_stop() {
        local p
        for p in $XRDP_PIDS; do kill "$p" 2>/dev/null; done
        for p in $XRDP_PIDS; do wait_until 5 not kill -0 "$p"; done
        bg_done $XRDP_PIDS
}

# xrdp_display: an Xvfb for FreeRDP, which needs a display even to log
# in, reached from a client namespace through its path socket; its number
# in XRDP_DISPLAY.
xrdp_display() {
        need_cmd Xvfb xfreerdp
        XRDP_DISPLAY=$((90 + $$ % 9))
        bg xvfb Xvfb :$XRDP_DISPLAY -screen 0 1024x768x24 -nolisten tcp
        wait_until 10 test -S /tmp/.X11-unix/X$XRDP_DISPLAY || die "Xvfb did not start"
}

# xrdp_logged_in USER: sesman started USER's X session after PAM
# authenticated USER (within 30 s).
xrdp_logged_in() {
        wait_until 30 grep -q "Session in progress" "$T/rdp/sesman.log" &&
                grep -q "Session started successfully for user $1 " "$T/rdp/sesman.log"
}
