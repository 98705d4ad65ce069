#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The staff portal end to end: vdesk-portald over HTTPS on a private host
# (real libvirtd, QEMU, MariaDB, polkitd, the hook), driven by headless
# Chromium from a client namespace as an office PC would drive it
# (browser.py). An admin models a department; ann activates her account
# in the browser, opens her desktop (booting, then ready), downloads its
# .rdp file, and FreeRDP fed that file logs in to an RDP server behind
# the desktop's forward; she changes her password, restarts the desktop
# (a new QEMU), is refused another account's desktop, signs out (Back
# shows nothing private); wrong sign-ins get one message and the browser's
# address is throttled while another address is not; forms without their
# CSRF field, forged and ended cookies, oversized requests are refused;
# every page carries its security headers; the sign-in page in Chinese; a
# manager's read-only view; no secret in the journal. Screenshots of every
# page go to build/test-artifacts/portal/.
. "$VDESK_SRC/tests/lib/harness.sh"
. "$VDESK_SRC/tests/lib/host.sh"
host_enter "$@"
. "$VDESK_SRC/tests/lib/xrdp.sh"
need_cmd curl openssl jq virsh setpriv
[ -x /usr/lib/chromium/chromium ] && [ -x /usr/bin/chromedriver ] || skip "needs chromium and chromium-driver"
/usr/bin/python3 -c 'import selenium' 2>/dev/null || skip "needs python3-selenium"
host_start_desktops <<X
[Directory]
YescryptCost=3
MaxFailedPerSource=3
[Portal]
MaxConnectionsPerAddress=24
X

ART=${VDESK_ARTIFACTS:-$VDESK_BUILD/test-artifacts}/portal
rm -rf "$ART"
mkdir -p "$ART"

# the office PC (C, 10.77.0.2) and another one (C2, 10.79.0.2); the
# portal listens on the host's address towards them
C=vdc-$$ C2=vdc2-$$
client_netns $C vdp-c 10.77.0.1/24 10.77.0.2/24
client_netns $C2 vdp-e 10.79.0.1/24 10.79.0.2/24
host_start_portal 10.77.0.1
URL=$PORTAL_URL

# curl NS ARGS...: from a client namespace, the portal's certificate
# checked against the configured one (--cacert: its name is the address)
pcurl() { local ns=$1; shift; ip netns exec "$ns" curl -sS --max-time 60 --cacert "$PORTAL_CERT" "$@"; }

"$VDESK_SRC/tests/guest/build-template" "$T/templates/tiny.img" >/dev/null || die "cannot build the template"

# the admin's side, as staff.sh
check "register the template" ctl register-template tiny "$T/templates/tiny.img"
check "department sales" ctl create-department sales --unit=ACME
check "category office: template tiny, printers and USB only" ctl create-category office tiny --redirect=printers,usb
check "  ... linked to sales" ctl link-category office sales
printf 'id,name,department\nann,"Smith, Ann",sales\nbob,Bob,\n' >"$T/staff.csv"
check "import ann (sales) and bob" bash -c "$(declare -f ctl); ctl import-staff '$T/staff.csv' >'$T/codes.csv'"
code=$(sed -n 's/^ann,//p' "$T/codes.csv")
check "bob gets a password from the admin" bash -c "echo Bob-Pass-2026 | '$VDESK_BUILD/src/vdeskctl/vdeskctl' reset-password bob"
check "an admin-made desktop for bob" ctl create bob-1 bob tiny
check "carol, a manager of sales" bash -c "$(declare -f ctl); ctl create-account carol 'Carol Jones' --role=manager &&
        echo Carol-Pass-2026 | ctl reset-password carol && ctl add-manager sales carol"

# the portal's certificate is the configured one
check "curl from the office PC verifies the portal's certificate by the host's address" \
        pcurl $C -o /dev/null "$URL/signin"
served=$(ip netns exec $C openssl s_client -connect 10.77.0.1:443 </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256)
check "  ... it is the certificate of [Portal] Certificate= ($served)" \
        test -n "$served" -a "$served" = "$(openssl x509 -in "$PORTAL_CERT" -noout -fingerprint -sha256)"
check "  ... its key readable by root and the portal's group alone (0640)" \
        test "$(stat -c %a /etc/vdesk/portal/key.pem)" = 640

# The browser: one Chromium for the whole scenario, in the office PC's
# namespace. b COMMAND ARGS... sends a command (browser.py says which) and
# puts its answer's value in R; it fails when the browser could not do it.
coproc BROWSER { exec ip netns exec $C /usr/bin/python3 "$VDESK_SRC/tests/portal/browser.py" "$URL" "$ART" \
        "$T/downloads" 2>"$T/browser.log"; }
browser_pid=$BROWSER_PID
_pids+=("$browser_pid")
R=
b() {
        local line
        R=
        [ -n "${BROWSER[1]:-}" ] || { echo "  the browser is gone: $(tail -3 "$T/browser.log")" >&2; return 1; }
        printf '%q ' "$@" >&"${BROWSER[1]}" && echo >&"${BROWSER[1]}" || { echo "  the browser is gone" >&2; return 1; }
        IFS= read -r -t 300 line <&"${BROWSER[0]}" || line="fail: no answer from the browser ($(tail -3 "$T/browser.log"))"
        echo "$1 -> $line" >>"$T/browser.answers"
        R=${line#ok}
        R=${R# }
        # a failure's value is empty: no check compares two failures' texts
        [[ $line == ok* ]] || { echo "  browser: $line" >&2; R=; return 1; }
}
# b_is WANT COMMAND...: the answer's value is WANT
b_is() { local want=$1; shift; b "$@" && [ "$R" = "$want" ] || { echo "  wanted '$want', got '$R'" >&2; return 1; }; }
# b_state WANT: the open's page says WANT (its #status's data-state)
b_state() { b_is "$1" attr '#status' data-state; }

# ---- activation ----
check "the activation page" b_is /activate go /activate activate
b text '#policy'
check "  ... states the password policy ($R)" grep -qF "A password has at least 10 characters" <<<"$R"
PW=Ann-Pass-2026
check "ann activates with her code and a password" \
        b submit activate activated id=ann "code=$code" "password=$PW" "password2=$PW"
check "  ... and lands on My desktops ($R)" test "$R" = /desktops
check "  ... signed in: her name in the header" b_is "Smith, Ann" text .who
check "  ... the category office offered, no desktop yet" b_is 1 count 'tr[data-category="office"]'
check "  ... the directory has her online" test "$(ctl account ann | sed -n 's/^  State: //p')" = online

# ---- open: booting, ready, the .rdp file ----
check "Open office" b_is /open/office click '#open-office' booting
check "  ... the page says booting" b_state booting
check "  ... then ready (within 240 s)" b wait '#status' data-state ready 240 ready
check "  ... the desktop's name is the heading" b_is office-ann text h1
check "  ... the address for a client" b_is 10.77.0.1:50001 text '#address'
check "the browser downloads the .rdp file" b download '#rdp-file' downloaded
rdp=$R
check "  ... office-ann.rdp ($rdp)" test "$(basename "$rdp")" = office-ann.rdp
check "  ... it names the forwarded address and port" grep -qx $'full address:s:10.77.0.1:50001\r' "$rdp"
check "  ... and ann" grep -qx $'username:s:ann\r' "$rdp"
check "  ... the category's redirection: printers and USB on" \
        test "$(grep -cxE $'(redirectprinters:i:1|usbdevicestoredirect:s:\\*)\r' "$rdp")" = 2
check "  ... clipboard and drives off" test "$(grep -cxE $'(redirectclipboard:i:0|redirectdrives:i:0)\r' "$rdp")" = 2
b cookie vdesk_session
ann_token=$R
check "ann's session cookie is a token (${#ann_token} characters)" bash -c '[[ $1 =~ ^[0-9a-f]{64}$ ]]' _ "$ann_token"
hdrs=$(pcurl $C -D - -o "$T/curl.rdp" -b "vdesk_session=$ann_token" "$URL/open/office/rdp")
check "the file comes as an attachment: Content-Disposition names office-ann.rdp" \
        grep -qix $'content-disposition: attachment; filename="office-ann.rdp"\r' <<<"$hdrs"
check "  ... as application/x-rdp" grep -qi $'^content-type: application/x-rdp' <<<"$hdrs"
check "  ... the same file the browser saved" cmp "$rdp" "$T/curl.rdp"

addr=$(broker_json GetDesktop s office-ann | jq -r '.data[0][4]')
line=$(tcp_line $C 10.77.0.1 50001)
check "the office PC reads ann's guest through the forward ($line)" test "$line" = "VDESK-TEST-GUEST ip=$addr"

# FreeRDP fed that file. The test guest has no RDP server: while it is
# paused, an RDP server (xrdp, as rdp.sh runs it) answers at the guest's
# address on the desktop network, behind the forward vdesk made for
# office-ann; the client reaches it as it would reach Windows there.
check "pause office-ann" virsh -q suspend office-ann
D=vdd-$$
netns_add $D
ip link add vdp-x0 type veth peer name vdp-x1
cleanup_push "ip link del vdp-x0"
ip link set vdp-x1 netns $D
ip link set vdp-x0 master vdeskbr0 up
ip -n $D addr add "$addr/24" dev vdp-x1
ip -n $D link set vdp-x1 up
ip -n $D route add default via 10.20.0.1
ip neigh flush dev vdeskbr0
xrdp_account ann "$PW"
xrdp_start $D
xrdp_display
ip netns exec $C env DISPLAY=:$XRDP_DISPLAY xfreerdp "$rdp" /p:"$PW" /cert:ignore /size:800x600 \
        >"$T/freerdp.log" 2>&1 </dev/null &
fr=$!          # in the client's namespace: ended with it at the latest
check "FreeRDP fed the downloaded file logs ann in to the RDP server behind office-ann's forward" \
        xrdp_logged_in ann
check "  ... from the office PC's own address" grep -q "10.77.0.2" "$T/rdp/xrdp.log"
kill $fr 2>/dev/null
xrdp_stop
ip link del vdp-x0
ip neigh flush dev vdeskbr0
check "resume office-ann" virsh -q resume office-ann
check "  ... its guest answers through the forward again" \
        wait_until 20 outputs "VDESK-TEST-GUEST ip=$addr" tcp_line $C 10.77.0.1 50001

# ---- change password ----
PW2=Ann-Newer-2027
check "the password page" b_is /password click 'a[href="/password"]' password
check "  ... states the policy" b_is 1 count '#policy'
check "ann changes her password" b_is /password submit password-form password-changed old="$PW" password="$PW2" password2="$PW2"
check "  ... the page says so" b_is "Your password was changed. Your other sessions were signed out." text '#message'

# ---- restart: a new QEMU ----
pid=$(cat /run/libvirt/qemu/office-ann.pid)
check "office-ann runs in QEMU $pid" kill -0 "$pid"
check "My desktops" b_is /desktops go /desktops desktops
check "  ... lists office-ann running" b_is 1 count 'tr[data-desktop="office-ann"] td.state.running'
check "Restart office-ann (confirmed)" b_is /open/office-ann click '#restart-office-ann' restart-booting confirm
check "  ... the page says booting" b_state booting
check "  ... then ready (within 240 s)" b wait '#status' data-state ready 240 restart-ready
pid2=$(cat /run/libvirt/qemu/office-ann.pid)
check "  ... in another QEMU ($pid2, was $pid)" test -n "$pid2" -a "$pid2" != "$pid"
check "  ... journaled as DESKTOP_RESTARTED with ann as the actor" \
        test "$(journal_json MESSAGE_ID="$(mid DESKTOP_RESTARTED)" VDESK_DESKTOP=office-ann | jq -r .VDESK_ACCOUNT)" = ann
check "  ... the old one is gone" not kill -0 "$pid" 2>/dev/null
check "  ... the guest answers through the forward" \
        wait_until 20 outputs "VDESK-TEST-GUEST ip=$addr" tcp_line $C 10.77.0.1 50001

# ---- another account's desktop ----
check "My desktops" b_is /desktops go /desktops desktops-again
check "  ... does not list bob-1" b_is 0 count 'tr[data-desktop="bob-1"]'
check "  ... nor name it" b_is no has bob-1
check "the open form of office-ann made to name bob-1 (a valid CSRF field of ann's session)" \
        b set 'form[action="/open"] input[name="name"]' bob-1
check "  ... sent" b_is /open/bob-1 click '#open-office-ann' forged-open
check "  ... the page says it failed" b wait '#status' data-state failed 60 not-yours
check "  ... 403" b_is 403 status
check "  ... not one of hers" b_is "This is not one of your desktops." text '#status'
check "  ... bob-1 stays shut off" test "$(virsh domstate bob-1)" = "shut off"
check "the restart form made to name bob-1" b go /desktops desktops-3
check "  ... set" b set 'form[action="/restart"] input[name="name"]' bob-1
check "  ... sent" b_is /open/bob-1 click '#restart-office-ann' forged-restart confirm
check "  ... refused: not yours" b wait '#status' data-state failed 60 not-yours-restart
check "  ... 403" b_is 403 status
check "  ... bob-1 stays shut off" test "$(virsh domstate bob-1)" = "shut off"
check "  ... office-ann still runs in QEMU $pid2" test "$(cat /run/libvirt/qemu/office-ann.pid)" = "$pid2"

# ---- CSRF, cookies, sizes (curl with ann's session cookie) ----
jar=(-b "vdesk_session=$ann_token")
got=$(pcurl $C "${jar[@]}" -o "$T/page.html" -w '%{http_code}' --data-urlencode old="$PW2" \
        --data-urlencode password=Csrf-Pass-2028 --data-urlencode password2=Csrf-Pass-2028 "$URL/password")
check "a password change without its csrf field: 403 ($got)" test "$got" = 403
check "  ... the form-expired page" grep -q 'id="message"' "$T/page.html"
got=$(pcurl $C "${jar[@]}" -o /dev/null -w '%{http_code}' --data-urlencode csrf="$(printf '%064x' 1)" \
        --data-urlencode name=office-ann "$URL/restart")
check "a restart with a wrong csrf field: 403 ($got)" test "$got" = 403
check "  ... office-ann still runs in QEMU $pid2" test "$(cat /run/libvirt/qemu/office-ann.pid)" = "$pid2"
got=$(pcurl $C "${jar[@]}" -o /dev/null -w '%{http_code}' "$URL/signout" -d x=1)
check "a sign-out without its csrf field: 403 ($got)" test "$got" = 403
check "  ... the session still works" outputs 200 pcurl $C "${jar[@]}" -o /dev/null -w '%{http_code}' "$URL/desktops"
check "  ... and the password is still $PW2: the directory signs ann in with it" \
        bash -c "$(declare -f dir_call); dir_call SignIn ss ann '$PW2' >'$T/signin.out'"
tok=$(sed -n 's/^sx "\([0-9a-f]*\)" .*/\1/p' "$T/signin.out")
check "  ... (a token)" test ${#tok} = 64
check "  ... which SignOut ends" dir_call SignOut s "$tok"
got=$(pcurl $C -b "vdesk_session=$tok" -o /dev/null -w '%{http_code} %{redirect_url}' "$URL/desktops")
check "a cookie of an ended session: to the sign-in page ($got)" test "$got" = "303 $URL/signin?m=expired"
got=$(pcurl $C -b "vdesk_session=$(printf '%064x' 7)" -o /dev/null -w '%{http_code} %{redirect_url}' "$URL/desktops")
check "a forged cookie: to the sign-in page ($got)" test "$got" = "303 $URL/signin?m=expired"
got=$(pcurl $C -b "vdesk_session=$(printf '%064x' 7)" -L -o "$T/page.html" -w '%{http_code}' "$URL/open/office/rdp")
check "  ... and it gets no .rdp file, but the sign-in form ($got)" \
        bash -c "[ $got = 200 ] && grep -q 'id=\"signin\"' '$T/page.html' && ! grep -q 'full address' '$T/page.html'"
got=$(pcurl $C -b "vdesk_session=$(printf '%064x' 7)x" -o /dev/null -w '%{http_code} %{redirect_url}' "$URL/desktops")
check "a malformed cookie (not 64 hex digits): to the sign-in page ($got)" test "$got" = "303 $URL/signin"
got=$(pcurl $C -b "vdesk_session=$(printf '\xff\xfe%062d' 0)" -o /dev/null -w '%{http_code} %{redirect_url}' "$URL/desktops")
check "a cookie that is not UTF-8: to the sign-in page ($got)" test "$got" = "303 $URL/signin"
# a pre-session cookie of one's own choosing and its sign-in form's CSRF
# token do not make a session: an open needs the directory to know it
pre=$(printf '%032x' 99)
csrf=$(pcurl $C -b "vdesk_pre=$pre" "$URL/signin" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p')
fake=$(printf '%032x%032x' 99 99)
got=$(pcurl $C -b "vdesk_pre=$pre; vdesk_session=$fake" -o /dev/null -w '%{http_code} %{redirect_url}' \
        --data-urlencode "csrf=$csrf" --data-urlencode name=office "$URL/open")
check "an open with a made-up session and a sign-in form's CSRF token: to the sign-in page ($got)" \
        test "$got" = "303 $URL/signin?m=expired"
got=$(pcurl $C -b "vdesk_pre=$pre" -o /dev/null -w '%{http_code} %{redirect_url}' \
        --data-urlencode "csrf=$csrf" --data-urlencode name=office-ann "$URL/restart")
check "  ... nor without a session ($got)" test "$got" = "303 $URL/signin"
check "  ... office-ann still runs in QEMU $pid2" test "$(cat /run/libvirt/qemu/office-ann.pid)" = "$pid2"
check "HEAD of the sign-in page: 200" outputs 200 pcurl $C -I -o /dev/null -w '%{http_code}' "$URL/signin"
got=$(head -c 17000 /dev/zero | tr '\0' a | pcurl $C "${jar[@]}" -o /dev/null -w '%{http_code}' --data-binary @- \
        -H 'Content-Type: application/x-www-form-urlencoded' "$URL/signin")
check "a body over 16 KiB: 413 ($got)" test "$got" = 413
pad=$(head -c 33000 /dev/zero | tr '\0' a)
got=$(pcurl $C -o /dev/null -w '%{http_code}' -H "X-Pad: $pad" "$URL/signin")
check "headers over 32 KiB: 431 ($got)" test "$got" = 431
check "the portal still answers" outputs 200 pcurl $C -o /dev/null -w '%{http_code}' "$URL/signin"

# every page's headers, as curl sees them (the browser's below)
for page in /signin /activate /desktops /password /manage /open/office-ann /nosuch; do
        h=$(pcurl $C "${jar[@]}" -D - -o /dev/null "$URL$page" | tr -d '\r')
        csp=$(sed -n 's/^content-security-policy: //Ip' <<<"$h")
        check "$page: a CSP without 'unsafe-inline' ($csp)" \
                bash -c '[[ $1 == *"default-src '\''none'\''"* && $1 == *"frame-ancestors '\''none'\''"* && $1 != *unsafe-inline* ]]' _ "$csp"
        check "  ... X-Frame-Options DENY, Referrer-Policy no-referrer, Cache-Control no-store" \
                test "$(grep -ciE '^(x-frame-options: DENY|referrer-policy: no-referrer|cache-control: no-store)$' <<<"$h")" = 3
done
h=$(pcurl $C -D - -o /dev/null "$URL/signin" | tr -d '\r')
check "the sign-in page's cookie: HttpOnly; Secure; SameSite=Strict" \
        grep -qiE '^set-cookie: vdesk_pre=[0-9a-f]{32}; Path=/; HttpOnly; Secure; SameSite=Strict$' <<<"$h"

# ---- sign out; Back shows nothing private ----
check "My desktops before signing out lists office-ann" b_is /desktops go /desktops before-signout
check "  ... (its name on the page)" b_is yes has office-ann
check "ann signs out" b_is "/signin?m=bye" click '#signout' signed-out
check "  ... the page says so" b_is "You have signed out." text '#message'
check "  ... the directory has her offline" test "$(ctl account ann | sed -n 's/^  State: //p')" = offline
check "Back" b back back-after-signout
check "  ... shows the sign-in page ($R)" b_is 1 count 'form#signin'
check "  ... and no desktop's name" b_is no has office-ann
check "  ... nor ann's" b_is no has "Smith, Ann"

# ---- the password changed: the old fails, the new works ----
check "the old password: refused" b_is /signin submit signin old-password id=ann password="$PW"
check "  ... 401" b_is 401 status
b text '#error'
msg_pw=$R
check "the new password: My desktops" b_is /desktops submit signin new-password id=ann password="$PW2"
b cookie vdesk_session
ann_token2=$R
check "ann signs out" b_is "/signin?m=bye" click '#signout' signed-out-2

# ---- the manager's view ----
check "carol signs in" b_is /desktops submit signin carol-desktops id=carol password=Carol-Pass-2026
check "  ... My departments" b_is /manage click 'a[href="/manage"]' manage
check "  ... lists ann's office-ann of sales, running" b_is 1 count 'tr:has(td.state.running)'
b text '#managed tbody'
check "  ... with her name ($R)" grep -qF "Smith, Ann (ann)" <<<"$R"
check "  ... not bob's desktop" b_is no has bob-1
check "  ... read-only: no form on the page but the header's sign-out" b_is 0 count 'main form'
check "  ... no button in the table" b_is 0 count '#managed button'
b cookie vdesk_session
carol_token=$R
check "carol signs out" b_is "/signin?m=bye" click '#signout' signed-out-carol

# ---- wrong sign-ins, one message; throttled by address ----
check "an id that does not exist" b_is /signin submit signin wrong-id id=nosuch password="$PW2"
check "  ... 401" b_is 401 status
b text '#error'
msg_id=$R
check "a wrong password for ann" b_is /signin submit signin wrong-password id=ann password=Wrong-Pass-1
b text '#error'
msg_wrong=$R
check "the same message for a wrong id and a wrong password ($msg_wrong)" \
        test -n "$msg_wrong" -a "$msg_id" = "$msg_wrong" -a "$msg_pw" = "$msg_wrong"
check "  ... which says the sign-in failed, not which part was wrong" \
        test "$msg_wrong" = "Sign-in failed: the staff id or the password is wrong, or the account is locked for a while after repeated failures."
check "a fourth attempt from this address, with the right password, is throttled" \
        b_is /signin submit signin throttled id=ann password="$PW2"
check "  ... 429" b_is 429 status
check "  ... saying so" b_is "Too many failed attempts from this computer. Wait a few minutes, then try again." text '#error'
check "  ... journaled once: the browser's address blocked after 3 failures" \
        test "$(journal_json MESSAGE_ID="$(mid SOURCE_THROTTLED)" | jq -r '"\(.VDESK_SOURCE) \(.VDESK_FAILED_COUNT)"')" = "10.77.0.2 3"
pre=$(pcurl $C2 -c "$T/jar2" "$URL/signin" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p')
got=$(pcurl $C2 -b "$T/jar2" -c "$T/jar2" -D "$T/signin2.headers" -o /dev/null -w '%{http_code} %{redirect_url}' \
        --data-urlencode "csrf=$pre" --data-urlencode id=ann --data-urlencode password="$PW2" "$URL/signin")
check "ann signs in from another address meanwhile ($got)" test "$got" = "303 $URL/desktops"
check "  ... her session cookie: HttpOnly; Secure; SameSite=Strict" \
        grep -qiE $'^set-cookie: vdesk_session=[0-9a-f]{64}; Path=/; HttpOnly; Secure; SameSite=Strict\r$' "$T/signin2.headers"
tok2=$(sed -n 's/.*\tvdesk_session\t//p' "$T/jar2")
check "  ... and her desktops are there" \
        bash -c "ip netns exec $C2 curl -sS --cacert '$PORTAL_CERT' -b 'vdesk_session=$tok2' '$URL/desktops' | grep -q 'data-desktop=\"office-ann\"'"

# ---- many at once: nobody waits for another's sign-in, no busy loop ----
for ((i = 0; i < 20; i++)); do
        (
                jar=$T/burst$i.jar
                pre=$(pcurl $C2 -c "$jar" "$URL/signin" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p')
                pcurl $C2 -b "$jar" -o /dev/null -w '%{http_code}\n' --data-urlencode "csrf=$pre" \
                        --data-urlencode id=ann --data-urlencode password="$PW2" "$URL/signin" >"$T/burst$i.out"
        ) &
        burst[i]=$!
done
slow=0
for ((i = 0; i < 10; i++)); do
        got=$(ip netns exec $C2 curl -sS --max-time 10 --cacert "$PORTAL_CERT" -b "vdesk_session=$tok2" -o /dev/null \
                -w '%{http_code}' "$URL/desktops")
        [ "$got" = 200 ] || slow=$((slow + 1))
done
check "ann's desktops page answers 10 times within 10 s each during 20 sign-ins at once ($slow did not)" test $slow = 0
wait "${burst[@]}"
check "  ... and all 20 sign-ins were served" test "$(cat "$T"/burst*.out | grep -cx 303)" = 20
cpu() { awk '{ print $14 + $15 }' "/proc/$PID_portald/stat"; }
a=$(cpu)
sleep 3
b=$(cpu)
check "an idle portal burns no CPU ($((b - a)) ticks in 3 s)" test $((b - a)) -le 30

# ---- Chinese ----
check "the sign-in page" b_is /signin go /signin signin-en
check "  ... its language switch to 简体中文" b click 'a[hreflang="zh-CN"]' signin-zh-CN
check "  ... <html lang=zh-CN>" b_is zh-CN attr html lang
check "  ... the heading 登录" b_is 登录 text h1
page=$(pcurl $C2 -H 'Accept-Language: zh-CN,zh;q=0.9,en;q=0.5' "$URL/signin")
check "Accept-Language zh-CN alone: the sign-in page in Chinese" \
        bash -c 'grep -q "<html lang=\"zh-CN\">" <<<"$1" && grep -q "<h1>登录</h1>" <<<"$1"' _ "$page"

page=$(pcurl $C2 -H 'Accept-Language: zh-CN' -b "vdesk_session=$tok2" "$URL/desktops")
check "  ... and ann's desktops page too: 我的桌面, 运行中" \
        bash -c 'grep -q "<h1>我的桌面</h1>" <<<"$1" && grep -q "运行中" <<<"$1"' _ "$page"

# ---- the bound on connections from one address ----
for ((i = 0; i < 24; i++)); do
        (sleep 30 | ip netns exec $C2 openssl s_client -quiet -connect 10.77.0.1:443 >/dev/null 2>&1) &
done
check "24 connections held open from 10.79.0.2" \
        wait_until 20 bash -c "[ \$(ip netns exec $C2 ss -Htn state established '( dport = :443 )' | wc -l) -ge 24 ]"
got=$(pcurl $C2 --max-time 10 -o /dev/null -w '%{http_code}' "$URL/signin" 2>/dev/null)
check "  ... a 25th from there is refused (MaxConnectionsPerAddress=24: $got)" test "$got" != 200
check "  ... while another address is served" outputs 200 pcurl $C -o /dev/null -w '%{http_code}' "$URL/signin"
pkill -f "s_client -quiet -connect 10.77.0.1:443"
check "  ... and once they close, 10.79.0.2 again" \
        wait_until 20 outputs 200 pcurl $C2 -o /dev/null -w '%{http_code}' "$URL/signin"

# ---- plain HTTP: on loopback only, and said ----
printf '[Portal]\nListen=10.77.0.1:8080\nCertificate=\nKey=\n' >"$T/plain.conf"
"$VDESK_BUILD/src/portald/vdesk-portald" --config="$T/plain.conf" --data-dir="$VDESK_BUILD/src/portald" \
        >"$T/plain.log" 2>&1 </dev/null
st=$?
check "plain HTTP on the host's address is refused at start with 78 ($st)" test $st = 78
check "  ... naming the settings ($(tail -n 1 "$T/plain.log"))" grep -q "Certificate= and Key= are empty.*AllowPlainHTTP=yes" "$T/plain.log"
printf '[Portal]\nListen=127.0.0.1:8080\nCertificate=\nKey=\n' >"$T/plain.conf"
bg portald-plain "$VDESK_BUILD/src/portald/vdesk-portald" --config="$T/plain.conf" --data-dir="$VDESK_BUILD/src/portald"
check "on loopback it serves plain HTTP" \
        wait_until 10 outputs 200 curl -sS -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/signin
journalctl --no-pager -o cat _PID="$PID_portald_plain" >"$T/plain.journal" 2>&1
check "  ... and says so in the journal" grep -q 'The portal speaks plain HTTP' "$T/plain.journal"
kill "$PID_portald_plain"
wait "$PID_portald_plain"
st=$?
bg_done "$PID_portald_plain"
check "  ... and stops with 0 ($st)" test $st = 0

# ---- what every page the browser got carried ----
check "every page the browser got: CSP, X-Frame-Options, Referrer-Policy, no-store; its cookies' flags" b headers
check "  ... pages and the cookies checked ($R)" \
        bash -c '[[ $1 =~ ^([0-9]+)\ (.*)$ ]] && [ ${BASH_REMATCH[1]} -ge 20 ] && [ "${BASH_REMATCH[2]}" = vdesk_lang,vdesk_pre,vdesk_session ]' _ "$R"
[ -n "${BROWSER[1]:-}" ] && echo quit >&"${BROWSER[1]}"
check "the browser quits" wait_until 30 not kill -0 "$browser_pid"
bg_done "$browser_pid"

check "vdesk-portald served the whole test (it still runs)" kill -0 "$PID_portald"

# ---- no secret in the journal ----
journalctl --no-pager -o export >"$T/journal.export" 2>/dev/null
check "the journal holds the portal's own entries (the grep below reads what is there)" \
        grep -qa "^SYSLOG_IDENTIFIER=vdesk-portald" "$T/journal.export"
check "  ... and ann's sign-ins" grep -qa "^VDESK_ACCOUNT=ann$" "$T/journal.export"
for secret in "$PW" "$PW2" "$code" Carol-Pass-2026 "$ann_token" "$ann_token2" "$carol_token" "$tok" "$tok2"; do
        check "no password, code or token in the journal (${#secret} characters)" \
                bash -c '[ -n "$1" ] && ! grep -qaF -- "$1" "$2"' _ "$secret" "$T/journal.export"
done

# ---- stopped while a page waits for the directory ----
kill -STOP "$PID_directoryd"
ip netns exec $C2 curl -sS --max-time 30 --cacert "$PORTAL_CERT" -b "vdesk_session=$tok2" -o /dev/null \
        -w '%{http_code}' "$URL/desktops" >"$T/waiting.out" 2>&1 &
waiting=$!
sleep 2
kill -TERM "$PID_portald"
wait "$PID_portald"
status=$?
bg_done "$PID_portald"
wait "$waiting"
kill -CONT "$PID_directoryd"
check "vdesk-portald stopped while a page waited for the directory: exit status 0 ($status)" test "$status" = 0
check "  ... the waiting page answered 503 ($(cat "$T/waiting.out"))" test "$(cat "$T/waiting.out")" = 503
finish
