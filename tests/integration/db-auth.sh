#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# How vdesk signs in to MariaDB, against a private server in a network
# namespace of the test's own: a system user by unix_socket with grants on
# vdesk's database only; over TCP a password from a systemd credential or
# PasswordFile=, a readable one refused before any connection; TLS with the
# server's certificate verified, a wrong CA and a server without TLS
# refused. The client is test-db (query and migrate).
. "$VDESK_SRC/tests/lib/harness.sh"
. "$VDESK_SRC/tests/lib/second-host.sh"         # make_pki
need_root
need_cmd mariadb-install-db mariadbd mariadb-admin mariadb openssl useradd userdel setpriv ip

NS=vdesk-dbauth-$$
TESTDB=$VDESK_BUILD/tests/integration/test-db
netns_add "$NS"
# The test's system user reaches the socket and its configuration here.
chmod 0711 "$T"

mkdir -p "$T/db"
mariadb-install-db --no-defaults --datadir="$T/db/data" --user=root \
        --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
        >"$T/db-install.log" 2>&1 || die "mariadb-install-db failed: $(tail -3 "$T/db-install.log")"

# start_db [OPTION...]: mariadbd on the socket and on 127.0.0.1:3306 of the
# namespace; stop_db ends it.
start_db() {
        bg mariadbd ip netns exec "$NS" mariadbd --no-defaults --datadir="$T/db/data" \
                --socket="$T/db/mysqld.sock" --pid-file="$T/db/mysqld.pid" --user=root \
                --bind-address=127.0.0.1 --port=3306 --skip-name-resolve --skip-log-bin \
                --innodb-buffer-pool-size=32M --log-error="$T/db/error.log" "$@"
        wait_until 30 mariadb-admin --no-defaults -S "$T/db/mysqld.sock" ping >/dev/null ||
                die "mariadbd did not start: $(tail -5 "$T/db/error.log")"
}
stop_db() {
        local pid
        pid=$(cat "$T/db/mysqld.pid")
        kill "$pid"
        wait_until 30 not kill -0 "$pid" || die "mariadbd did not stop"
}
root_sql() { mariadb --no-defaults -S "$T/db/mysqld.sock" -N -B -e "$1"; }
connections() { root_sql "SHOW GLOBAL STATUS LIKE 'Connections'" | cut -f2; }

start_db
# what README.md tells to grant each service's account on vdesk.*
GRANTS="SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX"

# (a) a system user, as sysusers.d makes one for each service, signed in by
# unix_socket with the grants the units' accounts get (see README.md)
U=vdesk-t$$
useradd -r -M -d /nonexistent -s /usr/sbin/nologin "$U" || die "cannot add the user $U"
cleanup_push "userdel $U"
root_sql "CREATE USER '$U'@'localhost' IDENTIFIED VIA unix_socket;
          GRANT $GRANTS ON vdesktest.* TO '$U'@'localhost'" ||
        die "cannot create the account $U"
write_config "$T/socket.conf" <<X
[Database]
Socket=$T/db/mysqld.sock
Name=vdesktest
X
chmod 0644 "$T/socket.conf"
as_user() { setpriv --reuid="$U" --regid="$U" --init-groups "$@"; }
migrations=$(ls "$VDESK_SRC"/sql/[0-9][0-9][0-9]-*.sql | wc -l)

check "User= empty: $U is $U@localhost over the socket, with no password" \
        outputs "$U@localhost" as_user "$TESTDB" query "$T/socket.conf" "SELECT CURRENT_USER()"
check "$U creates the database and applies every migration with its grants" \
        outputs "$migrations" as_user "$TESTDB" migrate "$T/socket.conf" "$VDESK_SRC/sql"
check "$U writes and reads its database" \
        as_user "$TESTDB" query "$T/socket.conf" "INSERT INTO accounts (name) VALUES ('alice')"
check "... and what it wrote is there" \
        outputs alice as_user "$TESTDB" query "$T/socket.conf" "SELECT name FROM accounts"
check "$U cannot read another database (mysql.user)" \
        fails_with "SELECT command denied to user '$U'@'localhost' for table" \
        as_user "$TESTDB" query "$T/socket.conf" "SELECT COUNT(*) FROM mysql.user"
check "$U cannot make another database" \
        fails_with "Access denied for user '$U'@'localhost' to database 'other'" \
        as_user "$TESTDB" query "$T/socket.conf" "CREATE DATABASE other"
check "a user without an account (nobody) is refused by its own name" \
        fails_with "Access denied for user 'nobody'@'localhost'" \
        setpriv --reuid=nobody --regid=nogroup --clear-groups "$TESTDB" query "$T/socket.conf" "SELECT 1"
check "root with User= empty is root@localhost, as the tests' daemons are" \
        outputs "root@localhost" "$TESTDB" query "$T/socket.conf" "SELECT CURRENT_USER()"

# (b) TCP with a password: from a systemd credential, from PasswordFile=
PW="tcp pass $$ \"#=;"
root_sql "CREATE USER 'vdesk-tcp'@'127.0.0.1' IDENTIFIED BY '$PW';
          GRANT $GRANTS ON vdesktcp.* TO 'vdesk-tcp'@'127.0.0.1'" ||
        die "cannot create the account vdesk-tcp"
tcp_config() {
        write_config "$1" <<X
[Database]
Host=127.0.0.1
Port=3306
User=vdesk-tcp
Name=vdesktcp
$(cat)
X
}
in_ns() { ip netns exec "$NS" "$@"; }
mkdir -m 0700 "$T/creds"
printf '%s\n' "$PW" >"$T/creds/vdesk.db-password"
chmod 0400 "$T/creds/vdesk.db-password"
tcp_config "$T/tcp.conf" </dev/null

check "TCP without a password is refused" \
        fails_with "Access denied for user 'vdesk-tcp'@'127.0.0.1' (using password: NO)" \
        in_ns "$TESTDB" query "$T/tcp.conf" "SELECT 1"
check "TCP with the password from the credential vdesk.db-password in \$CREDENTIALS_DIRECTORY" \
        outputs "vdesk-tcp@127.0.0.1" in_ns env CREDENTIALS_DIRECTORY="$T/creds" \
        "$TESTDB" query "$T/tcp.conf" "SELECT CURRENT_USER()"

printf '%s\n' "$PW" >"$T/db-password"
chmod 0600 "$T/db-password"
tcp_config "$T/tcp-file.conf" <<<"PasswordFile=$T/db-password"
check "TCP with the password from PasswordFile= (0600)" \
        outputs "vdesk-tcp@127.0.0.1" in_ns "$TESTDB" query "$T/tcp-file.conf" "SELECT CURRENT_USER()"

printf 'not it\n' >"$T/wrong-password"
chmod 0600 "$T/wrong-password"
tcp_config "$T/tcp-wrong.conf" <<<"PasswordFile=$T/wrong-password"
check "the credential is preferred to PasswordFile=" \
        outputs "vdesk-tcp@127.0.0.1" in_ns env CREDENTIALS_DIRECTORY="$T/creds" \
        "$TESTDB" query "$T/tcp-wrong.conf" "SELECT CURRENT_USER()"
in_ns "$TESTDB" query "$T/tcp-wrong.conf" "SELECT 1" >"$T/wrong.out" 2>&1
check "a wrong password is refused by the server" \
        grep -q "Access denied for user 'vdesk-tcp'@'127.0.0.1' (using password: YES)" "$T/wrong.out"
check "... and what is printed holds no password" not grep -q "not it" "$T/wrong.out"

chmod 0644 "$T/db-password"
before=$(connections)
check "a PasswordFile= readable by others (0644) is refused, the key and the mode named" \
        fails_with "[Database] PasswordFile=$T/db-password has mode 0644: group and others must have no access to it" \
        in_ns "$TESTDB" query "$T/tcp-file.conf" "SELECT 1"
after=$(connections)
# the only connection between the two counts is the one that read the first
check "... before any connection was attempted ($before, then $after)" test "$after" = "$((before + 1))"
check "vdesk-directoryd refuses to start with it, naming the key and the mode" \
        fails_with "Cannot open the database vdesktcp: [Database] PasswordFile=$T/db-password has mode 0644" \
        in_ns "$VDESK_BUILD/src/directoryd/vdesk-directoryd" --config="$T/tcp-file.conf" --sql-dir="$VDESK_SRC/sql"
chmod 0600 "$T/db-password"
printf '[Database]\nPassword=%s\n' "$PW" >"$T/password.conf"
check "vdesk-directoryd refuses Password= in vdesk.conf and says where a password goes" \
        fails_with "Bad configuration: $T/password.conf:2: [Database] Password= is not read from vdesk.conf" \
        "$VDESK_BUILD/src/directoryd/vdesk-directoryd" --config="$T/password.conf" --sql-dir="$VDESK_SRC/sql"

# (c) TLS: required against a server without it, then a server with a
# certificate of the test's CA
make_pki "$T/pki" 127.0.0.1 || die "cannot make the test's certificates"
make_pki "$T/pki-other" 127.0.0.1 || die "cannot make the other CA"
tcp_config "$T/tls-yes.conf" <<<"PasswordFile=$T/db-password
TLS=yes"
tcp_config "$T/tls-verify.conf" <<<"PasswordFile=$T/db-password
TLS=verify
TLSCA=$T/pki/cacert.pem"
tcp_config "$T/tls-wrong-ca.conf" <<<"PasswordFile=$T/db-password
TLS=verify
TLSCA=$T/pki-other/cacert.pem"
check "TLS=yes against a server without TLS is refused, the setting named" \
        fails_with "[Database] TLS=yes: " in_ns "$TESTDB" query "$T/tls-yes.conf" "SELECT 1"
check "TLS=verify against a server without TLS is refused, the setting named" \
        fails_with "[Database] TLS=verify (TLSCA=$T/pki/cacert.pem): " \
        in_ns "$TESTDB" query "$T/tls-verify.conf" "SELECT 1"

stop_db
start_db --ssl-ca="$T/pki/cacert.pem" --ssl-cert="$T/pki/servercert.pem" --ssl-key="$T/pki/serverkey.pem"
root_sql "CREATE USER 'vdesk-x509'@'127.0.0.1' IDENTIFIED BY 'x509 pass' REQUIRE X509;
          GRANT $GRANTS ON vdesktcp.* TO 'vdesk-x509'@'127.0.0.1'" || die "cannot create the account vdesk-x509"
cipher="SELECT CONCAT('cipher:', VARIABLE_VALUE) FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'SSL_CIPHER'"

check "TLS=verify with the server's CA connects" \
        outputs "vdesk-tcp@127.0.0.1" in_ns "$TESTDB" query "$T/tls-verify.conf" "SELECT CURRENT_USER()"
in_ns "$TESTDB" query "$T/tls-verify.conf" "$cipher" >"$T/cipher.out" 2>&1
check "... over TLS ($(cat "$T/cipher.out"))" grep -q -x 'cipher:..*' "$T/cipher.out"
check "TLS=yes connects over TLS too" \
        outputs "vdesk-tcp@127.0.0.1" in_ns "$TESTDB" query "$T/tls-yes.conf" "SELECT CURRENT_USER()"
check "TLS=no stays in the clear" outputs "cipher:" in_ns "$TESTDB" query "$T/tcp-file.conf" "$cipher"
check "TLS=verify with another CA is refused, the setting and the CA named" \
        fails_with "[Database] TLS=verify (TLSCA=$T/pki-other/cacert.pem): " \
        in_ns "$TESTDB" query "$T/tls-wrong-ca.conf" "SELECT 1"

printf 'x509 pass\n' >"$T/x509-password"
chmod 0600 "$T/x509-password"
tcp_config "$T/tls-client.conf" <<<"PasswordFile=$T/x509-password
TLS=verify
TLSCA=$T/pki/cacert.pem"
sed -i 's/^User=.*/User=vdesk-x509/' "$T/tls-client.conf"
check "an account that requires a client certificate refuses a client without one" \
        fails_with "Access denied for user 'vdesk-x509'@'127.0.0.1'" \
        in_ns "$TESTDB" query "$T/tls-client.conf" "SELECT 1"
printf 'TLSCert=%s\nTLSKey=%s\n' "$T/pki/clientcert.pem" "$T/pki/clientkey.pem" >>"$T/tls-client.conf"
check "... and takes TLSCert= and TLSKey=" \
        outputs "vdesk-x509@127.0.0.1" in_ns "$TESTDB" query "$T/tls-client.conf" "SELECT CURRENT_USER()"

finish
