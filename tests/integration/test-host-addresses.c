/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The host's desktop network's addresses against a real MariaDB (started
 * by db.sh):
 *
 *   test-host-addresses CONFIG SQL_DIR
 *
 * the free list made on the first taking, around the addresses desktops
 * held before it; the lowest taken first, never the gateway; an address
 * given back on delete; a range changed in vdesk.conf: none outside it
 * handed out or given back, the desktops keeping theirs; none left; and
 * two connections taking at once never one address twice. The RDP ports'
 * free list alike. */

#include <pthread.h>

#include "allocate.h"
#include "conf.h"
#include "db.h"
#include "desktop.h"
#include "db-tests.h"
#include "macro.h"
#include "manager.h"
#include "tests.h"
#include "util.h"

#define RACERS 2
#define PER_RACER 40

static const char *conf_file;
static unsigned next_desktop;
static uint32_t next_address;

static uint32_t ip(const char *s) {
        uint32_t a = 0;

        CHECK_INT(ipv4_parse(s, &a), 0);
        return a;
}

/* A desktop's row as desktop_create() writes it, with address and port
 * (0: one of its own outside every range tested). */
static int desktop_insert(Db *db, uint32_t address, uint16_t port, uint64_t *ret_id) {
        unsigned n = __atomic_add_fetch(&next_desktop, 1, __ATOMIC_SEQ_CST);
        char name[32];
        int r;

        snprintf(name, sizeof name, "d%u", n);
        r = db_exec(db,
                    "INSERT INTO desktops (name, uuid, account_id, template_id, template_version_id, disk_path, "
                    "address, mac, rdp_port) "
                    "SELECT ?, UUID(), a.id, t.id, v.id, CONCAT('/d/', ?), ?, ?, ? "
                    "FROM accounts a, templates t, template_versions v LIMIT 1",
                    (DbValue[]) { DBV_STR(name), DBV_STR(name), DBV_UINT(address), DBV_STR(name),
                                  DBV_UINT(port ?: 40000 + n) }, 5, NULL, NULL, NULL);
        if (r >= 0 && ret_id)
                *ret_id = db_last_insert_id(db);
        return r;
}

/* One desktop made as the broker makes it: its address taken and its row
 * written in one transaction. */
static int desktop_make(Manager *m, const AddressRange *range, uint32_t *ret, uint64_t *ret_id) {
        uint32_t a = 0;
        int r;

        r = db_begin(m->db);
        if (r >= 0)
                r = desktop_address_allocate(m, 0, range, &a);
        if (r >= 0)
                r = desktop_insert(m->db, a, 0, ret_id);
        if (r >= 0)
                r = db_commit(m->db);
        if (r < 0) {
                db_rollback(m->db);
                return r;
        }
        *ret = a;
        return 0;
}

static void check_address(uint32_t got, const char *want) {
        char s[16];

        ipv4_format(got, s);
        CHECK_STR(s, want);
}

static Db *open_db(void) {
        _cleanup_(config_done) VdeskConfig c = {};
        Db *db = NULL;

        CHECK_INT(config_load(conf_file, &c, NULL), 0);
        CHECK_INT(db_open(&c, &db, NULL), 0);
        return db;
}

typedef struct Racer {
        AddressRange range;
        uint32_t got[PER_RACER];
        int r;
} Racer;

static void *race(void *userdata) {
        Racer *x = userdata;
        Manager m = { .db = open_db() };

        /* the range row puts them one after another: no deadlock, no
         * duplicate key, no error */
        for (size_t i = 0; i < PER_RACER && x->r >= 0; i++)
                x->r = desktop_make(&m, &x->range, &x->got[i], NULL);
        db_close(m.db);
        return NULL;
}

static int cmp_u32(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

        return x < y ? -1 : x > y;
}

static void test_race(Manager *m) {
        Racer racers[RACERS] = {};
        pthread_t threads[RACERS];
        uint32_t all[RACERS * PER_RACER];
        unsigned dup = 0;

        for (size_t i = 0; i < RACERS; i++) {
                racers[i].range = (AddressRange) { ip("10.20.1.0"), ip("10.20.1.254"), ip("10.20.0.1") };
                CHECK_INT(pthread_create(&threads[i], NULL, race, &racers[i]), 0);
        }
        for (size_t i = 0; i < RACERS; i++) {
                CHECK_INT(pthread_join(threads[i], NULL), 0);
                CHECK_INT(racers[i].r, 0);
                memcpy(all + i * PER_RACER, racers[i].got, sizeof racers[i].got);
        }
        qsort(all, ELEMENTSOF(all), sizeof all[0], cmp_u32);
        for (size_t i = 1; i < ELEMENTSOF(all); i++)
                dup += all[i] == all[i - 1];
        CHECK_INT(dup, 0);
        /* the lowest ones, none skipped */
        check_address(all[0], "10.20.1.0");
        check_address(all[ELEMENTSOF(all) - 1], "10.20.1.79");
        CHECK_INT(count(m->db, "SELECT COUNT(*) FROM desktops WHERE address BETWEEN INET_ATON('10.20.1.0') AND "
                               "INET_ATON('10.20.1.254')"), RACERS * PER_RACER);
}

/* One desktop made with its port taken out of [Forward]'s range, its
 * address one of 10.80.0.0/16 of its own. */
static int port_make(Manager *m, uint16_t *ret, uint64_t *ret_id) {
        uint16_t port = 0;
        int r;

        r = db_begin(m->db);
        if (r >= 0)
                r = desktop_port_allocate(m, &port);
        if (r >= 0)
                r = desktop_insert(m->db, ip("10.80.0.0") + __atomic_add_fetch(&next_address, 1, __ATOMIC_SEQ_CST),
                                   port, ret_id);
        if (r >= 0)
                r = db_commit(m->db);
        if (r < 0) {
                db_rollback(m->db);
                return r;
        }
        *ret = port;
        return 0;
}

typedef struct PortRacer {
        uint16_t got[PER_RACER];
        int r;
} PortRacer;

static void *port_race(void *userdata) {
        PortRacer *x = userdata;
        Manager m = { .db = open_db(), .config = { .port_min = 45100, .port_max = 45999 } };

        for (size_t i = 0; i < PER_RACER && x->r >= 0; i++)
                x->r = port_make(&m, &x->got[i], NULL);
        db_close(m.db);
        return NULL;
}

/* The RDP ports' free list, as the addresses': made on the first taking
 * around the ports desktops held; lowest first; given back on delete;
 * none outside a changed range handed out or given back; two connections
 * at once never one port twice. */
static void test_ports(Manager *m) {
        PortRacer racers[RACERS] = {};
        pthread_t threads[RACERS];
        uint64_t id0 = 0, id2 = 0, id_old = 0;
        bool seen[RACERS * PER_RACER] = {};
        uint16_t p = 0;

        m->config.port_min = 45000;
        m->config.port_max = 45003;
        CHECK_INT(desktop_insert(m->db, ip("10.81.0.1"), 45001, &id_old), 0);
        CHECK_INT(port_make(m, &p, &id0), 0);
        CHECK_INT(p, 45000);
        CHECK_INT(port_make(m, &p, &id2), 0);
        CHECK_INT(p, 45002);
        CHECK_INT(port_make(m, &p, NULL), 0);
        CHECK_INT(p, 45003);
        /* none left: -ENOSPC, nothing written */
        CHECK_INT(port_make(m, &p, NULL), -ENOSPC);
        CHECK_INT(count(m->db, "SELECT COUNT(*) FROM desktops WHERE rdp_port BETWEEN 45000 AND 45003"), 4);
        /* given back on delete, taken again first */
        CHECK_INT(desktop_row_remove(m, id2), 0);
        CHECK_INT(count(m->db, "SELECT COUNT(*) FROM rdp_free_ports WHERE port = 45002"), 1);
        CHECK_INT(port_make(m, &p, &id2), 0);
        CHECK_INT(p, 45002);
        /* the range moved: none of the old handed out or given back */
        m->config.port_min = 45002;
        m->config.port_max = 45005;
        CHECK_INT(desktop_row_remove(m, id0), 0);
        CHECK_INT(port_make(m, &p, NULL), 0);
        CHECK_INT(p, 45004);
        CHECK_INT(count(m->db, "SELECT COUNT(*) FROM rdp_free_ports WHERE port < 45002"), 0);
        CHECK_INT(desktop_row_remove(m, id_old), 0);
        CHECK_INT(count(m->db, "SELECT COUNT(*) FROM rdp_free_ports WHERE port = 45001"), 0);
        /* an empty range: none */
        m->config.port_min = 45010;
        m->config.port_max = 45009;
        CHECK_INT(port_make(m, &p, NULL), -ENOSPC);

        /* two at once, both finding the list made for another range: each
         * port once, the lowest ones, no error (no deadlock, no duplicate
         * key) */
        for (size_t i = 0; i < RACERS; i++)
                CHECK_INT(pthread_create(&threads[i], NULL, port_race, &racers[i]), 0);
        for (size_t i = 0; i < RACERS; i++) {
                CHECK_INT(pthread_join(threads[i], NULL), 0);
                CHECK_INT(racers[i].r, 0);
                for (size_t j = 0; j < PER_RACER; j++) {
                        unsigned k = racers[i].got[j] - 45100u;

                        CHECK(k < ELEMENTSOF(seen) && !seen[k]);
                        if (k < ELEMENTSOF(seen))
                                seen[k] = true;
                }
        }
}

int main(int argc, char *argv[]) {
        _cleanup_(db_closep) Db *db = NULL;
        Manager m = {};
        AddressRange range = { ip("10.20.0.10"), ip("10.20.0.14"), ip("10.20.0.12") };
        uint32_t a = 0, b = 0;
        uint64_t id10 = 0, id11 = 0, id13 = 0;
        unsigned version;

        if (argc != 3) {
                fprintf(stderr, "usage: %s CONFIG SQL_DIR\n", argv[0]);
                return 2;
        }
        conf_file = argv[1];
        db = open_db();
        if (!db)
                return test_summary();
        CHECK_INT(db_migrate(db, argv[2], &version), 0);
        m.db = db;
        CHECK_INT(db_exec(db, "INSERT INTO accounts (name) VALUES ('ann')", NULL, 0, NULL, NULL, NULL), 0);
        CHECK_INT(db_exec(db, "INSERT INTO templates (name, format) VALUES ('win', 'qcow2')", NULL, 0, NULL, NULL,
                          NULL), 0);
        CHECK_INT(db_exec(db, "INSERT INTO template_versions (template_id, version, path, format) "
                              "SELECT id, 1, '/t/1.qcow2', 'qcow2' FROM templates", NULL, 0, NULL, NULL, NULL), 0);

        /* a desktop from before the free list: its address stays its own
         * (the gateway is inside the range here, which vdesk.conf
         * refuses, to show that the list never holds it either) */
        CHECK_INT(desktop_insert(db, ip("10.20.0.11"), 0, &id11), 0);
        CHECK_INT(count(db, "SELECT COUNT(*) FROM host_free_addresses"), 0);
        CHECK_INT(desktop_make(&m, &range, &a, &id10), 0);
        check_address(a, "10.20.0.10");
        /* .11 a desktop's, .12 the gateway */
        CHECK_INT(desktop_make(&m, &range, &a, &id13), 0);
        check_address(a, "10.20.0.13");
        CHECK_INT(count(db, "SELECT COUNT(*) FROM host_free_addresses"), 1);

        /* given back on delete, and taken again first */
        CHECK_INT(desktop_row_remove(&m, id10), 0);
        CHECK_INT(count(db, "SELECT COUNT(*) FROM host_free_addresses WHERE address = INET_ATON('10.20.0.10')"), 1);
        CHECK_INT(desktop_make(&m, &range, &a, &id10), 0);
        check_address(a, "10.20.0.10");
        CHECK_INT(desktop_make(&m, &range, &a, NULL), 0);
        check_address(a, "10.20.0.14");
        /* none left: -ENOSPC, and nothing written */
        CHECK_INT(desktop_make(&m, &range, &a, NULL), -ENOSPC);
        CHECK_INT(count(db, "SELECT COUNT(*) FROM desktops"), 4);

        /* the range moved (and the gateway out of it): none of the old
         * range handed out, not even one given back since */
        range = (AddressRange) { ip("10.20.0.13"), ip("10.20.0.16"), ip("10.20.0.1") };
        CHECK_INT(desktop_row_remove(&m, id10), 0);
        CHECK_INT(desktop_make(&m, &range, &a, NULL), 0);
        check_address(a, "10.20.0.15");
        CHECK_INT(count(db, "SELECT COUNT(*) FROM host_free_addresses WHERE address < INET_ATON('10.20.0.13')"), 0);
        /* a desktop outside it keeps its address, and does not give it back */
        CHECK_INT(count(db, "SELECT COUNT(*) FROM desktops WHERE address = INET_ATON('10.20.0.11')"), 1);
        CHECK_INT(desktop_row_remove(&m, id11), 0);
        CHECK_INT(count(db, "SELECT COUNT(*) FROM host_free_addresses WHERE address = INET_ATON('10.20.0.11')"), 0);
        /* one inside it does */
        CHECK_INT(desktop_row_remove(&m, id13), 0);
        CHECK_INT(desktop_make(&m, &range, &b, NULL), 0);
        check_address(b, "10.20.0.13");
        CHECK_INT(desktop_make(&m, &range, &b, NULL), 0);
        check_address(b, "10.20.0.16");
        CHECK_INT(desktop_make(&m, &range, &b, NULL), -ENOSPC);

        test_race(&m);
        test_ports(&m);
        return test_summary();
}
