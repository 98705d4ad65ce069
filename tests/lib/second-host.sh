# SPDX-License-Identifier: LGPL-2.1-or-later
# A second vdesk host for end-to-end tests (sourced after host.sh, inside
# the first host): its own network and mount namespaces behind a veth wire,
# its own bus, netd, imaged and a libvirtd the broker reaches over TLS
# (tests/lib/second-host), as a real remote host is reached.

# make_pki DIR ADDRESS: a CA, a server certificate for ADDRESS and a client
# certificate, as libvirt wants them (cacert.pem, servercert.pem,
# serverkey.pem; clientcert.pem, clientkey.pem for a URI's pkipath=)
make_pki() {
        local d=$1 address=$2 ext
        mkdir -p "$d"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=vdesk test CA" \
                -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
                -keyout "$d/cakey.pem" -out "$d/cacert.pem" 2>/dev/null || return 1
        for ext in "server subjectAltName=IP:$address
extendedKeyUsage=serverAuth" "client extendedKeyUsage=clientAuth"; do
                local who=${ext%% *}
                openssl req -newkey rsa:2048 -nodes -subj "/CN=vdesk-$who" -keyout "$d/${who}key.pem" \
                        -out "$d/$who.csr" 2>/dev/null || return 1
                printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n%s\n' \
                        "${ext#* }" >"$d/$who.ext"
                openssl x509 -req -in "$d/$who.csr" -CA "$d/cacert.pem" -CAkey "$d/cakey.pem" -CAcreateserial \
                        -days 2 -extfile "$d/$who.ext" -out "$d/${who}cert.pem" 2>/dev/null || return 1
        done
}

# host2_start NAME: the host at 10.78.0.2, this host at 10.78.0.1; sets
# HOST2_PID (a process inside it) and HOST2_URI.
host2_start() {
        local name=$1
        need_cmd nsenter unshare openssl
        netns_add "$name"
        veth_pair - vdh2-a 10.78.0.1/24 "$name" vdh2-b 10.78.0.2/24
        mkdir -p "$T/$name"
        make_pki "$T/$name/pki" 10.78.0.2 || die "cannot make the second host's certificates"
        ip netns exec "$name" unshare --mount --propagation private \
                env VDESK_BUILD="$VDESK_BUILD" VDESK_SRC="$VDESK_SRC" \
                bash "$VDESK_SRC/tests/lib/second-host" "$T/$name" 10.78.0.2 >"$T/$name.log" 2>&1 &
        HOST2_PID=$!
        disown "$HOST2_PID"      # killed with its namespace at the end, unreported
        HOST2_DIR=$T/$name
        # the client's files where vdesk lets a URI name them (this test
        # host's /etc/vdesk is its own)
        [ -n "${VDESK_TEST_HOST:-}" ] || die "host2_start runs inside a test host (host_enter)"
        mkdir -p "/etc/vdesk/pki/$name"
        cp "$T/$name/pki/cacert.pem" "$T/$name/pki/clientcert.pem" "$T/$name/pki/clientkey.pem" "/etc/vdesk/pki/$name/"
        HOST2_URI="qemu+tls://10.78.0.2/system?pkipath=/etc/vdesk/pki/$name"
        cleanup_push "h2 bash -c 'for d in \$(virsh -c qemu:///system list --name); do virsh -c qemu:///system destroy \$d; done' >/dev/null 2>&1"
        wait_until 60 test -e "$T/$name/ready" || die "the second host did not start: $(cat "$T/$name.log")"
        wait_until 20 virsh -c "$HOST2_URI" version >/dev/null 2>&1 || die "the second host's libvirtd is not reached"
}

# h2 COMMAND...: runs a command on the second host.
h2() { nsenter -t "$HOST2_PID" -n -m -- "$@"; }

h2_libvirtd_pid() { h2 cat /run/libvirtd.pid; }
