#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdesk's MariaDB layer against a real MariaDB in a data directory of the
# test's own (see test-db.c).
. "$VDESK_SRC/tests/lib/harness.sh"
need_cmd mariadb-install-db mariadbd mariadb-admin

mkdir -p "$T/db"
mariadb-install-db --no-defaults --datadir="$T/db/data" --user="$(id -un)" \
        --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
        >"$T/db-install.log" 2>&1 || die "mariadb-install-db failed: $(tail -3 "$T/db-install.log")"
cat >"$T/start-db" <<X
#!/bin/bash
mariadbd --no-defaults --datadir="$T/db/data" --socket="$T/db/mysqld.sock" --pid-file="$T/db/mysqld.pid" \\
        --skip-networking --user="$(id -un)" --skip-log-bin --innodb-buffer-pool-size=32M \\
        --log-error="$T/db/error.log" </dev/null >/dev/null 2>&1 &
for i in \$(seq 300); do mariadb-admin --no-defaults -S "$T/db/mysqld.sock" ping >/dev/null 2>&1 && exit 0; sleep 0.1; done
exit 1
X
# The restart the test asks for: stop by PID, start again.
cat >"$T/restart-db" <<X
#!/bin/bash
pid=\$(cat "$T/db/mysqld.pid")
kill \$pid
while kill -0 \$pid 2>/dev/null; do sleep 0.1; done
exec "$T/start-db"
X
chmod +x "$T/start-db" "$T/restart-db"
"$T/start-db" || die "mariadbd did not start: $(tail -3 "$T/db/error.log")"
cleanup_push "kill \$(cat $T/db/mysqld.pid)"

cat >"$T/vdesk.conf" <<X
[Images]
TemplateDir=$T/templates
DiskDir=$T/disks
[Database]
Socket=$T/db/mysqld.sock
User=root
Name=vdesk_test
X
check "the MariaDB layer (test-db)" "$VDESK_BUILD/tests/integration/test-db" "$T/vdesk.conf" "$VDESK_SRC/sql" "$T/restart-db"

# the host network's addresses, on a database of their own
sed 's/^Name=vdesk_test$/Name=vdesk_hostnet/' "$T/vdesk.conf" >"$T/hostnet.conf"
check "the host network's free addresses (test-host-addresses)" \
        "$VDESK_BUILD/tests/integration/test-host-addresses" "$T/hostnet.conf" "$VDESK_SRC/sql"

# 009 on a database that holds template versions already: each gets its
# template's format, from the database, not from the files.
db() { mariadb --no-defaults -S "$T/db/mysqld.sock" -u root -N -B "$@"; }
db -e "CREATE DATABASE vdesk_upgrade" || die "cannot create the database"
for f in "$VDESK_SRC"/sql/00[1-8]-*.sql; do db vdesk_upgrade <"$f" || die "$f failed"; done
db vdesk_upgrade -e "INSERT INTO templates (name, format) VALUES ('win', 'qcow2'), ('lin', 'raw');
        INSERT INTO template_versions (template_id, version, path) VALUES
                (1, 1, '/t/win/1.qcow2'), (1, 2, '/t/win/2.qcow2'), (2, 1, '/t/lin.img')" || die "cannot fill it"
versions() { db vdesk_upgrade -e "SELECT GROUP_CONCAT(CONCAT(path, ' ', format) ORDER BY path) FROM template_versions"; }
check "009 applies to it" db vdesk_upgrade <"$VDESK_SRC/sql/009-template-version-format.sql"
check "... each version has its template's format" \
        test "$(versions)" = "/t/lin.img raw,/t/win/1.qcow2 qcow2,/t/win/2.qcow2 qcow2"
check "... applied again, it changes nothing" db vdesk_upgrade <"$VDESK_SRC/sql/009-template-version-format.sql"
check "... (the same formats)" test "$(versions)" = "/t/lin.img raw,/t/win/1.qcow2 qcow2,/t/win/2.qcow2 qcow2"
check "a version without a format is refused" \
        not db vdesk_upgrade -e "INSERT INTO template_versions (template_id, version, path) VALUES (2, 2, '/t/l2')" 2>/dev/null
check "... so is one of a format vdesk does not know" \
        not db vdesk_upgrade -e "INSERT INTO template_versions (template_id, version, path, format) VALUES (2, 2, '/t/l2', 'vmdk')" 2>/dev/null
check "... and neither was recorded" test "$(db vdesk_upgrade -e "SELECT COUNT(*) FROM template_versions")" = 3

# 010 on a database that holds a desktop: its state counts from the
# migration, to the microsecond; a change of state moves it, the same
# state written again does not.
db vdesk_upgrade -e "INSERT INTO accounts (name) VALUES ('ann');
        INSERT INTO desktops (name, uuid, account_id, template_id, template_version_id, disk_path, address, mac,
                rdp_port, state) VALUES ('d1', 'u1', 1, 1, 1, '/d/d1.qcow2', 1, 'm1', 50000, 'stopped')" ||
        die "cannot add a desktop"
since() { db vdesk_upgrade -e "SELECT CAST(UNIX_TIMESTAMP(state_changed_at) * 1000000 AS UNSIGNED) FROM desktops"; }
t0=$(date +%s%6N)
check "010 applies to it" db vdesk_upgrade <"$VDESK_SRC/sql/010-desktop-state-since.sql"
s1=$(since)
check "... the desktop's state counts from then ($s1 >= $t0)" test "$s1" -ge "$t0" -a "$s1" -le "$(date +%s%6N)"
check "... applied again, it changes nothing" db vdesk_upgrade <"$VDESK_SRC/sql/010-desktop-state-since.sql"
check "... (the same time)" test "$(since)" = "$s1"
set_state() {
        db vdesk_upgrade -e "UPDATE desktops SET state = '$1', state_changed_at = CURRENT_TIMESTAMP(6)
                WHERE name = 'd1' AND state <> '$1'"
}
check "the same state written again (as the broker writes it)" set_state stopped
check "... keeps its time" test "$(since)" = "$s1"
check "another state" set_state running
check "... moves it" test "$(since)" -gt "$s1"
finish
