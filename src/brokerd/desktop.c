/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <systemd/sd-id128.h>

#include "allocate.h"
#include "bus-error.h"
#include "cluster.h"
#include "desktop.h"
#include "desktop-queue.h"
#include "disk-util.h"
#include "domain-xml.h"
#include "log.h"
#include "metadata.h"
#include "network.h"
#include "template.h"
#include "util.h"


void desktop_done(Desktop *d) {
        free(d->template_path);
        free(d->disk_path);
        d->template_path = d->disk_path = NULL;
}

void desktop_list_free(Desktop *d, size_t n) {
        for (size_t i = 0; i < n && d; i++)
                desktop_done(&d[i]);
        free(d);
}

/* ---- desktops ------------------------------------------------------------ */

#define DESKTOP_COLUMNS \
        "d.id, d.name, d.uuid, COALESCE(a.name, ''), t.name, v.path, d.disk_path, d.address, d.mac, d.rdp_port, " \
        "d.state, " \
        "COALESCE(c.name, ''), v.version, COALESCE(n.name, ''), COALESCE(d.host_id, 0), COALESCE(h.name, ''), " \
        "v.format, CAST(UNIX_TIMESTAMP(d.state_changed_at) * 1000000 AS UNSIGNED) " \
        "FROM desktops d LEFT JOIN accounts a ON a.id = d.account_id JOIN templates t ON t.id = d.template_id " \
        "JOIN template_versions v ON v.id = d.template_version_id " \
        "LEFT JOIN categories c ON c.id = d.category_id LEFT JOIN networks n ON n.id = d.network_id " \
        "LEFT JOIN hosts h ON h.id = d.host_id "

static int desktop_row(char *const *c, unsigned n, void *userdata) {
        Desktop *d = db_rows_push(userdata);

        if (!d)
                return -ENOMEM;
        d->id = strtoull(c[0], NULL, 10);
        snprintf(d->name, sizeof d->name, "%s", c[1]);
        snprintf(d->uuid, sizeof d->uuid, "%s", c[2]);
        snprintf(d->account, sizeof d->account, "%s", c[3]);
        snprintf(d->template, sizeof d->template, "%s", c[4]);
        d->template_path = strdup(c[5]);
        d->disk_path = strdup(c[6]);
        d->address = (uint32_t) strtoul(c[7], NULL, 10);
        snprintf(d->mac, sizeof d->mac, "%s", c[8]);
        d->rdp_port = (uint16_t) strtoul(c[9], NULL, 10);
        snprintf(d->state, sizeof d->state, "%s", c[10]);
        snprintf(d->category, sizeof d->category, "%s", c[11]);
        d->template_version = (unsigned) strtoul(c[12], NULL, 10);
        snprintf(d->network, sizeof d->network, "%s", c[13]);
        d->host_id = strtoull(c[14], NULL, 10);
        snprintf(d->host, sizeof d->host, "%s", c[15]);
        snprintf(d->template_format, sizeof d->template_format, "%s", c[16]);
        d->state_since_usec = strtoull(c[17], NULL, 10);
        return d->template_path && d->disk_path ? 0 : -ENOMEM;
}

int desktop_list(Manager *m, const char *account, Desktop **ret, size_t *ret_n) {
        DbRows rows = { .size = sizeof(Desktop) };
        int r;

        if (account)
                r = db_exec(m->db, "SELECT " DESKTOP_COLUMNS "WHERE a.name = ? ORDER BY d.name",
                            (DbValue[]) { DBV_STR(account) }, 1, desktop_row, &rows, NULL);
        else
                r = db_exec(m->db, "SELECT " DESKTOP_COLUMNS "ORDER BY d.name", NULL, 0, desktop_row, &rows, NULL);
        if (r < 0) {
                desktop_list_free(rows.items, rows.n);
                return r;
        }
        *ret = rows.items;
        *ret_n = rows.n;
        return 0;
}

int desktop_names(Manager *m, char ***ret) {
        return db_column_strv(m->db, "SELECT name FROM desktops ORDER BY name", ret);
}

int desktop_get(Manager *m, const char *name, Desktop *ret, sd_bus_error *error) {
        DbRows rows = { .size = sizeof(Desktop) };
        int r;

        r = bus_error_check_name(error, "name", name);
        if (r < 0)
                return r;
        r = db_exec(m->db, "SELECT " DESKTOP_COLUMNS "WHERE d.name = ?", (DbValue[]) { DBV_STR(name) }, 1,
                    desktop_row, &rows, NULL);
        if (r < 0) {
                desktop_list_free(rows.items, rows.n);
                return db_bus_error(m->db, r, error);
        }
        if (rows.n == 0) {
                free(rows.items);
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_DESKTOP, "No desktop '%s'", name);
        }
        *ret = *(Desktop *) rows.items;
        free(rows.items);
        return 0;
}

/* What a new desktop takes of its template: the newest version. */
typedef struct TemplateChoice {
        uint64_t id;
        uint64_t version_id;
        unsigned version;
        char *path;
        char format[8];         /* the version's, as recorded */
        bool installed;
        unsigned memory_mib;
        unsigned vcpus;
} TemplateChoice;

static void template_choice_done(TemplateChoice *t) {
        free(t->path);
        t->path = NULL;
}

static int template_choice_row(char *const *c, unsigned n, void *userdata) {
        TemplateChoice *t = userdata;

        t->id = strtoull(c[0], NULL, 10);
        t->version_id = strtoull(c[1], NULL, 10);
        free(t->path);
        t->path = strdup(c[2]);
        t->installed = !streq(c[3], "building");
        t->memory_mib = (unsigned) strtoul(c[4], NULL, 10);
        t->vcpus = (unsigned) strtoul(c[5], NULL, 10);
        t->version = (unsigned) strtoul(c[6], NULL, 10);
        snprintf(t->format, sizeof t->format, "%s", c[7]);
        return t->path ? 0 : -ENOMEM;
}

/* Locks the template's row until the transaction ends: a commit cannot
 * change its newest version under a desktop being made. */
static int template_choose(Manager *m, const char *template, TemplateChoice *ret, sd_bus_error *error) {
        int r;

        r = db_exec(m->db,
                    "SELECT t.id, v.id, v.path, t.state, t.memory_mib, t.vcpus, v.version, v.format FROM templates t "
                    "JOIN template_versions v ON " TEMPLATE_NEWEST_VERSION " "
                    "WHERE t.name = ? FOR UPDATE",
                    (DbValue[]) { DBV_STR(template) }, 1, template_choice_row, ret, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (ret->id == 0) {
                db_rollback(m->db);
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_TEMPLATE, "Invalid template: no template '%s'", template);
        }
        if (!ret->installed) {
                db_rollback(m->db);
                return bus_error_setf(error, VDESK_ERROR_TEMPLATE_NOT_INSTALLED,
                                      "Invalid template: %s is being built; finish it first", template);
        }
        return 0;
}

static void console_log_path(Manager *m, const char *name, char **ret) {
        if (asprintf(ret, "%s/%s.log", m->console_log_dir, name) < 0)
                *ret = NULL;
}

/* A desktop being made, filled in by the steps of desktop_create_async()
 * in their order. */
typedef struct DesktopCreation {
        /* the request */
        const char *name;
        const char *account;            /* NULL: a desktop of the category's pool, nobody's yet */
        const char *template;
        const char *category;           /* NULL: not made from a category */
        /* what those point to: one byte more than a name may have, so that
         * one too long is still seen as too long by the checks */
        char buf_name[65], buf_account[65], buf_template[65], buf_category[65];
        uid_t actor;
        AddressRange range;             /* [Network]'s */
        /* what it names */
        uint64_t account_id;
        uint64_t category_id;
        TemplateChoice tc;
        unsigned memory_mib;
        uint64_t network_id;            /* 0: the host's desktop network */
        Network net;                    /* the category's department network, if network_id */
        /* where it goes */
        uint64_t cluster_id;
        Host *host;
        char *placement;                /* how each host of the cluster fared */
        char host_name[64];
        char net_name[80];              /* the libvirt network of its NIC */
        char *host_xml;                 /* its DHCP host entry there */
        /* what the worker takes */
        char *xml;                      /* its domain */
        Virt *virt;                     /* its host's connection, borrowed */
        Virt **others;                  /* other hosts serving its department network */
        size_t n_others;
        /* what it brings back */
        uint64_t id;                    /* its row, reserved */
        unsigned step;
        char *error;                    /* libvirt's message */
        sd_bus_error undo_error;        /* what failed, while the domain is taken back */
} DesktopCreation;

/* What a new desktop is given. */
typedef struct DesktopAllocation {
        uint32_t address;
        char addr[16];                  /* address, dotted */
        char mac[18];
        uint16_t port;
        char uuid[37];
        char *disk_path;
} DesktopAllocation;

static void desktop_allocation_done(DesktopAllocation *a) {
        free(a->disk_path);
        a->disk_path = NULL;
}

typedef struct CreateWork {
        DesktopCreation c;
        DesktopAllocation a;
} CreateWork;

static void create_work_free(void *userdata) {
        CreateWork *w = userdata;
        DesktopCreation *c;

        if (!w)
                return;
        c = &w->c;
        template_choice_done(&c->tc);
        free(c->placement);
        free(c->host_xml);
        free(c->xml);
        free(c->error);
        virt_free(c->virt);
        for (size_t i = 0; i < c->n_others; i++)
                virt_free(c->others[i]);
        free(c->others);
        sd_bus_error_free(&c->undo_error);
        desktop_allocation_done(&w->a);
        free(w);
}

static int create_check_arguments(Manager *m, DesktopCreation *c, sd_bus_error *error) {
        int r;

        r = bus_error_check_name(error, "name", c->name);
        if (r >= 0 && c->account)
                r = bus_error_check_name(error, "account", c->account);
        if (r >= 0)
                r = bus_error_check_name(error, "template", c->template);
        if (r < 0)
                return r;
        if (address_range_from_config(&m->config, &c->range) < 0)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "[Network] addresses are not IPv4 addresses");
        return 0;
}

/* The id of the row sql (one parameter: name) finds, or error_name with
 * "<missing>'<name>'" if there is none. */
static int lookup_id(Manager *m, const char *sql, const char *name, uint64_t *ret, sd_bus_error *error,
                     const char *error_name, const char *missing) {
        int r;

        *ret = 0;
        r = db_exec(m->db, sql, (DbValue[]) { DBV_STR(name) }, 1, db_row_u64, ret, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (*ret == 0)
                return bus_error_setf(error, error_name, "%s'%s'", missing, name);
        return 0;
}

/* The category, and its department network if it names one. */
static int create_resolve_category(Manager *m, DesktopCreation *c, sd_bus_error *error) {
        int r;

        r = lookup_id(m, "SELECT id FROM categories WHERE name = ?", c->category, &c->category_id, error,
                      VDESK_ERROR_NO_SUCH_CATEGORY, "No category ");
        if (r < 0)
                return r;
        r = db_exec(m->db, "SELECT COALESCE(network_id, 0) FROM categories WHERE id = ?",
                    (DbValue[]) { DBV_UINT(c->category_id) }, 1, db_row_u64, &c->network_id, NULL);
        if (r >= 0 && c->network_id)
                r = network_get_by_id(m, (uint32_t) c->network_id, &c->net);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        return 0;
}

/* The rows the desktop names: its account, its template's newest version
 * (locked), its category. */
static int create_resolve(Manager *m, DesktopCreation *c, sd_bus_error *error) {
        int r;

        if (c->account) {
                r = lookup_id(m, "SELECT id FROM accounts WHERE name = ?", c->account, &c->account_id, error,
                              VDESK_ERROR_NO_SUCH_ACCOUNT, "Invalid account: no account ");
                if (r < 0)
                        return r;
        }
        r = template_choose(m, c->template, &c->tc, error);
        if (r < 0)
                return r;
        if (c->category) {
                r = create_resolve_category(m, c, error);
                if (r < 0)
                        return r;
        }
        c->memory_mib = c->tc.memory_mib ?: m->config.desktop_memory_mib;
        return 0;
}

/* Its cluster, with room for one more, and the host there with the lowest
 * load, which serves its network from now on. */
static int create_place(Manager *m, DesktopCreation *c, sd_bus_error *error) {
        _cleanup_(freep) char *e = NULL;
        int r;

        r = cluster_for_category(m, c->category_id, &c->cluster_id);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = cluster_reserve(m, c->cluster_id, error);
        if (r >= 0)
                r = desktop_host_pick(m, c->cluster_id, c->memory_mib, &c->host, &c->placement, error);
        if (r < 0)
                return r;

        network_libvirt_name(m, c->network_id ? c->net.spec.name : NULL, c->net_name);
        if (!c->network_id)
                return 0;
        /* the department network's bridge, gateway and DHCP (the segment
         * comes with the hook) */
        r = network_libvirt_ensure(m, c->host, &c->net, &e);
        if (r < 0)
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot set up network %s on %s: %s",
                                      c->net.spec.name, c->host->name, e ?: strerror(-r));
        return 0;
}

static int create_check_name_free(Manager *m, const DesktopCreation *c, sd_bus_error *error) {
        uint64_t existing = 0;
        int r;

        r = db_exec(m->db, "SELECT id FROM desktops WHERE name = ?", (DbValue[]) { DBV_STR(c->name) }, 1,
                    db_row_u64, &existing, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (existing != 0)
                return bus_error_setf(error, VDESK_ERROR_DESKTOP_EXISTS, "Invalid name: desktop '%s' exists already",
                                      c->name);
        /* a domain of its name on the host: the worker looks */
        return 0;
}

/* Its address, port and MAC (allocate.c), its UUID and its disk's path. */
static int create_allocate(Manager *m, const DesktopCreation *c, DesktopAllocation *ret, sd_bus_error *error) {
        DesktopAllocation a = {};
        sd_id128_t id;
        int r;

        r = desktop_address_allocate(m, c->network_id, &c->range, &a.address);
        if (r == -ENOSPC && c->network_id)
                return bus_error_setf(error, VDESK_ERROR_ADDRESSES_EXHAUSTED, "No free address left in network %s",
                                      c->net.spec.name);
        if (r == -ENOSPC)
                return bus_error_setf(error, VDESK_ERROR_ADDRESSES_EXHAUSTED, "No free address left in %s-%s",
                                      m->config.range_start, m->config.range_end);
        if (r >= 0)
                r = desktop_port_allocate(m, &a.port);
        if (r == -ENOSPC)
                return bus_error_setf(error, VDESK_ERROR_PORTS_EXHAUSTED, "No free port left in %u-%u",
                                      m->config.port_min, m->config.port_max);
        if (r < 0)
                return db_bus_error(m->db, r, error);

        ipv4_format(a.address, a.addr);
        desktop_mac_allocate(a.address, a.mac);
        r = sd_id128_randomize(&id);
        if (r < 0)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot make a UUID: %s", strerror(-r));
        snprintf(a.uuid, sizeof a.uuid, SD_ID128_UUID_FORMAT_STR, SD_ID128_FORMAT_VAL(id));
        if (asprintf(&a.disk_path, "%s/%s.qcow2", m->config.disk_dir, c->name) < 0)
                return -ENOMEM;
        *ret = a;
        return 0;
}

static int create_record(Manager *m, const DesktopCreation *c, const DesktopAllocation *a, sd_bus_error *error) {
        int r;

        r = db_exec(m->db,
                    "INSERT INTO desktops (name, uuid, account_id, template_id, template_version_id, category_id, "
                    "network_id, host_id, disk_path, address, mac, rdp_port, state, state_changed_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '" DESKTOP_STATE_CREATING "', CURRENT_TIMESTAMP(6))",
                    (DbValue[]) { DBV_STR(c->name), DBV_STR(a->uuid),
                                  c->account ? DBV_UINT(c->account_id) : DBV_NULL, DBV_UINT(c->tc.id),
                                  DBV_UINT(c->tc.version_id), c->category_id ? DBV_UINT(c->category_id) : DBV_NULL,
                                  c->network_id ? DBV_UINT(c->network_id) : DBV_NULL, DBV_UINT(c->host->id),
                                  DBV_STR(a->disk_path), DBV_UINT(a->address), DBV_STR(a->mac), DBV_UINT(a->port) }, 12,
                    NULL, NULL, NULL);
        if (r == -EEXIST && streq(db_error_key(m->db), "name"))
                return bus_error_setf(error, VDESK_ERROR_DESKTOP_EXISTS, "Invalid name: desktop '%s' exists already",
                                      c->name);
        if (r == -EEXIST && streq(db_error_key(m->db), "account_category"))
                return bus_error_setf(error, VDESK_ERROR_DESKTOP_EXISTS, "%s has a desktop of category %s already",
                                      c->account, c->category);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        return 0;
}

/* Its domain with the vdesk metadata and its DHCP host entry, built
 * before anything is recorded. Fills in c->xml and c->host_xml. */
static int create_build(Manager *m, DesktopCreation *c, const DesktopAllocation *a, sd_bus_error *error) {
        _cleanup_(freep) char *console = NULL, *e = NULL;
        DesktopMeta meta = {
                .name = (char *) c->name,
                .uuid = (char *) a->uuid,
                .account = (char *) c->account,
                .disk_path = a->disk_path,
                .template_path = c->tc.path,
                .template_format = (char *) c->tc.format,
                .network = c->net_name,
                .bridge = c->network_id ? c->net.bridge : m->config.bridge,
                .segment = c->network_id && c->net.spec.segment != SEGMENT_NONE ? &c->net.spec : NULL,
                .mac = (char *) a->mac,
                .address = a->address,
                .rdp_port = a->port,
                .guest_port = m->config.guest_port,
        };
        DomainSpec spec = {
                .meta = &meta,
                .memory_mib = c->memory_mib,
                .vcpus = c->tc.vcpus ?: m->config.desktop_vcpus,
                .kvm = host_use_kvm(c->host),
        };
        int r;

        /* the hook's rules (one port range, the image directories, ...):
         * a domain it would refuse at its first start is never defined */
        r = desktop_meta_validate(&meta, &m->config, &e);
        if (r < 0)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "The desktop's metadata breaks the hook's rules: %s",
                                      e ?: strerror(-r));
        console_log_path(m, c->name, &console);
        spec.console_log = console;
        r = domain_xml_build(&spec, &c->xml);
        if (r >= 0)
                r = dhcp_host_xml_build(a->mac, a->addr, &c->host_xml);
        return r;
}

int desktop_row_remove(Manager *m, uint64_t id) {
        int r;

        r = db_begin(m->db);
        if (r >= 0)
                r = desktop_address_release(m, id);
        if (r >= 0)
                r = db_exec(m->db, "DELETE FROM desktops WHERE id = ?", (DbValue[]) { DBV_UINT(id) }, 1, NULL,
                            NULL, NULL);
        if (r >= 0)
                r = db_commit(m->db);
        if (r < 0)
                db_rollback(m->db);
        return r;
}

/* Connections, for a worker, to every host up but the one with id except
 * (those that cannot be had are left out). */
static int borrow_others(Manager *m, uint64_t except, Virt ***others, size_t *n_others) {
        for (Host *h = m->hosts; h; h = h->next) {
                Virt **a;

                if (h->id == except || !h->up)
                        continue;
                a = reallocarray(*others, *n_others + 1, sizeof *a);
                if (!a)
                        return -ENOMEM;
                *others = a;
                if (virt_borrow(h->virt, &a[*n_others]) >= 0)
                        (*n_others)++;
        }
        return 0;
}

static void create_journal(const DesktopCreation *c, const DesktopAllocation *a, uid_t actor) {
        log_event(LOG_INFO, MID_DESKTOP_PLACED,
                  "VDESK_DESKTOP=%s", c->name,
                  "VDESK_HOST=%s", c->host_name,
                  "VDESK_CLUSTER_ID=%" PRIu64, c->cluster_id,
                  "VDESK_SCHEDULE=%s", strempty(c->placement),
                  "MESSAGE=Desktop %s placed on %s: %s", c->name, c->host_name, strempty(c->placement));
        log_event(LOG_INFO, MID_DESKTOP_CREATED,
                  "VDESK_DESKTOP=%s", c->name,
                  "VDESK_HOST=%s", c->host_name,
                  "VDESK_ACCOUNT=%s", strempty(c->account),
                  "VDESK_TEMPLATE=%s", c->template,
                  "VDESK_CATEGORY=%s", strempty(c->category),
                  "VDESK_ADDRESS=%s", a->addr,
                  "VDESK_NETWORK=%s", c->net_name,
                  "VDESK_PORT=%u", (unsigned) a->port,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Desktop %s of %s created on template %s (%s, port %u)", c->name,
                  c->account ?: "the pool", c->template,
                  a->addr, (unsigned) a->port);
}

/* On the loop: the row (state "creating", which nothing else takes for
 * a desktop ready) with its address, port and place in its cluster, in
 * one transaction; the domain's XML; connections for the worker. */
static int create_reserve(Manager *m, CreateWork *w, sd_bus_error *error) {
        DesktopCreation *c = &w->c;
        int r;

        r = db_begin(m->db);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = create_resolve(m, c, error);
        if (r >= 0)
                r = create_place(m, c, error);
        if (r >= 0)
                r = create_check_name_free(m, c, error);
        if (r >= 0)
                r = create_allocate(m, c, &w->a, error);
        if (r >= 0)
                r = create_build(m, c, &w->a, error);
        if (r >= 0)
                r = create_record(m, c, &w->a, error);
        if (r >= 0) {
                c->id = db_last_insert_id(m->db);
                r = db_commit(m->db);
                if (r < 0)
                        r = db_bus_error(m->db, r, error);
        }
        if (r < 0) {
                db_rollback(m->db);
                return r;
        }
        return 0;
}

static int create_borrow(Manager *m, DesktopCreation *c) {
        int r;

        snprintf(c->host_name, sizeof c->host_name, "%s", c->host->name);
        r = virt_borrow(c->host->virt, &c->virt);
        if (r < 0 || !c->network_id)
                return r;
        /* a department network's DHCP answers alike on every host
         * serving it */
        return borrow_others(m, c->host->id, &c->others, &c->n_others);
}

static int create_begin(Manager *m, void *userdata, sd_bus_error *error) {
        CreateWork *w = userdata;
        DesktopCreation *c = &w->c;
        int r;

        r = create_check_arguments(m, c, error);
        if (r >= 0)
                r = create_reserve(m, w, error);
        if (r < 0)
                return r;
        r = create_borrow(m, c);
        if (r < 0) {
                (void) desktop_row_remove(m, c->id);
                return bus_error_setf(error, VDESK_ERROR_HOST_DOWN, "Host %s is down", c->host_name);
        }
        return 1;
}

enum {
        CREATE_DEFINE,                  /* its domain and DHCP entry: both or neither */
        CREATE_UNDO,                    /* ... taken back: the row could not be marked made */
};

static void create_undefine(DesktopCreation *c) {
        _cleanup_(freep) char *e = NULL, *e2 = NULL;

        (void) virt_network_dhcp_host(c->virt, c->net_name, c->host_xml, false, &e);
        (void) virt_domain_undefine(c->virt, c->name, &e2);
        for (size_t i = 0; i < c->n_others; i++) {
                _cleanup_(freep) char *e3 = NULL;

                (void) virt_network_dhcp_host(c->others[i], c->net_name, c->host_xml, false, &e3);
        }
}

static int create_work(void *userdata) {
        CreateWork *w = userdata;
        DesktopCreation *c = &w->c;
        int r;

        if (c->step == CREATE_UNDO) {
                create_undefine(c);
                return 0;
        }
        /* The domain name is the desktop's: one that libvirt has already,
         * vdesk's or not, is taken. */
        r = virt_domain_exists(c->virt, c->name);
        if (r != 0)
                return r < 0 ? r : -EEXIST;
        r = virt_domain_define(c->virt, c->xml, &c->error);
        if (r < 0)
                return -EIO;
        r = virt_network_dhcp_host(c->virt, c->net_name, c->host_xml, true, &c->error);
        if (r < 0) {
                create_undefine(c);
                return -EADDRNOTAVAIL;
        }
        for (size_t i = 0; i < c->n_others; i++) {
                _cleanup_(freep) char *e = NULL;

                /* a host that does not serve the network gets every entry
                 * when it first does (network_libvirt_ensure) */
                if (virt_network_is_active(c->others[i], c->net_name) >= 0)
                        (void) virt_network_dhcp_host(c->others[i], c->net_name, c->host_xml, true, &e);
        }
        return 0;
}

static int create_failed(const DesktopCreation *c, int r, sd_bus_error *error) {
        if (r == -EEXIST)
                return bus_error_setf(error, VDESK_ERROR_DESKTOP_EXISTS, "Invalid name: a domain '%s' exists already",
                                      c->name);
        if (r == -EIO)
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "libvirt refused the domain: %s",
                                      strempty(c->error));
        if (r == -EADDRNOTAVAIL)
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot register the address: %s",
                                      strempty(c->error));
        if (r == -ENOTCONN)
                return bus_error_setf(error, VDESK_ERROR_HOST_DOWN, "Host %s is down", c->host_name);
        return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot look up domain '%s'", c->name);
}

/* Made: the row says so; else the row goes with what it holds, so that
 * nothing half-made stays. */
static int create_end(Manager *m, void *userdata, int r, sd_bus_error *error) {
        CreateWork *w = userdata;
        DesktopCreation *c = &w->c;

        if (c->step == CREATE_UNDO || r < 0) {
                if (desktop_row_remove(m, c->id) < 0)
                        log_error("Cannot remove the row of %s, left half-made: %s", c->name, db_error(m->db));
                if (c->step == CREATE_UNDO)
                        return sd_bus_error_copy(error, &c->undo_error);
                return create_failed(c, r, error);
        }
        r = db_exec(m->db, "UPDATE desktops SET state = 'stopped', state_changed_at = CURRENT_TIMESTAMP(6) "
                    "WHERE id = ?", (DbValue[]) { DBV_UINT(c->id) }, 1, NULL, NULL, NULL);
        if (r < 0) {
                (void) db_bus_error(m->db, r, &c->undo_error);
                c->step = CREATE_UNDO;
                return DESKTOP_OP_AGAIN;
        }
        create_journal(c, &w->a, c->actor);
        manager_object_added(m, OBJECT_DESKTOP, c->name);
        return 0;
}

static const DesktopOpType create_op = {
        .begin = create_begin, .work = create_work, .end = create_end, .free = create_work_free,
};

int desktop_create_async(Manager *m, const char *name, const char *account, const char *template,
                         const char *category, uid_t actor, DesktopDoneFunc done, void *userdata) {
        CreateWork *w = new0(CreateWork, 1);
        DesktopCreation *c;

        if (!w)
                return -ENOMEM;
        c = &w->c;
        snprintf(c->buf_name, sizeof c->buf_name, "%s", name);
        snprintf(c->buf_account, sizeof c->buf_account, "%s", strempty(account));
        snprintf(c->buf_template, sizeof c->buf_template, "%s", template);
        snprintf(c->buf_category, sizeof c->buf_category, "%s", strempty(category));
        c->name = c->buf_name;
        c->account = account ? c->buf_account : NULL;    /* NULL: a pool's */
        c->template = c->buf_template;
        c->category = category ? c->buf_category : NULL;
        c->actor = actor;
        return desktop_queue_push(m, name, &create_op, w, done, userdata);
}

/* Points the domain's vdesk metadata and its disk's backing store at
 * another template file of the format recorded for it. */
static int set_template(Virt *virt, const char *name, const char *template_path, const char *template_format,
                        sd_bus_error *error) {
        _cleanup_(desktop_meta_done) DesktopMeta meta = {};
        _cleanup_(freep) char *xml = NULL, *new_xml = NULL, *e = NULL;
        int r;

        r = virt_domain_get_xml(virt, name, true, &xml, &e);
        if (r >= 0)
                r = desktop_meta_parse_domain(xml, &meta, &e);
        if (r >= 0)
                r = free_and_strdup(&meta.template_path, template_path);
        if (r >= 0)
                r = free_and_strdup(&meta.template_format, template_format);
        if (r >= 0)
                r = domain_xml_set_meta(xml, &meta, &new_xml);
        if (r >= 0)
                r = virt_domain_define(virt, new_xml, &e);
        if (r < 0)
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot update the metadata of %s: %s", name,
                                      e ?: strerror(-r));
        return 0;
}

/* Asks vdesk-imaged, for the desktop's operation under way, for a method
 * on the desktop's disk ("ss": its name and path, then more ...): end
 * runs again with the reply (desktop_queue_call()). */
static int disk_call(Manager *m, const Desktop *d, const char *method, const char *more_types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(m->bus, &call, IMAGED, method);
        if (r >= 0)
                r = sd_bus_message_append(call, "ss", d->name, d->disk_path);
        if (r >= 0 && more_types) {
                va_start(ap, more_types);
                r = sd_bus_message_appendv(call, more_types, ap);
                va_end(ap);
        }
        if (r < 0)
                return r;
        return desktop_queue_call(m, d->name, call);
}

/* A state the row has already keeps its time: state_changed_at is when
 * the desktop last changed, not when libvirt last said so. */
static void set_state(Manager *m, const Desktop *d, VirtDomainState state) {
        const char *s = virt_domain_state_to_string(state);
        uint64_t changed = 0;
        int r;

        r = db_exec(m->db, "UPDATE desktops SET state = ?, state_changed_at = CURRENT_TIMESTAMP(6) "
                    "WHERE id = ? AND state <> ?",
                    (DbValue[]) { DBV_STR(s), DBV_UINT(d->id), DBV_STR(s) }, 3, NULL, NULL, &changed);
        if (r < 0)
                log_error("Cannot record the state of %s: %s", d->name, db_error(m->db));
        else if (changed > 0)
                manager_object_changed(m, OBJECT_DESKTOP, d->name, "State", "StateSince", NULL);
}

void desktop_state_changed(Manager *m, Host *h, const char *name, VirtDomainState state, VirtStopReason reason) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        Desktop d = {};
        uid_t actor;

        if (name_invalid_reason(name) || desktop_get(m, name, &d, &e) < 0)
                return;         /* not a vdesk desktop */
        if (d.host_id != h->id) {
                /* a domain of that name on a host the desktop does not live on */
                desktop_done(&d);
                return;
        }
        actor = manager_pop_actor(m, name);
        set_state(m, &d, state);
        if (reason == VIRT_STOP_CRASHED)
                log_event(LOG_WARNING, MID_DESKTOP_CRASHED,
                          "VDESK_DESKTOP=%s", d.name,
                          "VDESK_ACCOUNT=%s", d.account,
                          "VDESK_HOST=%s", h->name,
                          "MESSAGE=Desktop %s of %s on %s crashed (its QEMU died or the guest crashed)", d.name,
                          d.account, h->name);
        /* A start by vdesk names who asked; one by anybody else (virsh,
         * libvirt's autostart, a crash) says libvirt did it. */
        else if (actor != (uid_t) -1)
                log_event(LOG_INFO, state == VIRT_DOMAIN_RUNNING ? MID_DESKTOP_STARTED : MID_DESKTOP_STOPPED,
                          "VDESK_DESKTOP=%s", d.name,
                          "VDESK_ACCOUNT=%s", d.account,
                          "VDESK_HOST=%s", h->name,
                          "VDESK_PORT=%u", d.rdp_port,
                          "VDESK_ACTOR_UID=%u", (unsigned) actor,
                          "MESSAGE=Desktop %s of %s %s", d.name, d.account,
                          state == VIRT_DOMAIN_RUNNING ? "started" : "stopped");
        else
                log_event(LOG_INFO, state == VIRT_DOMAIN_RUNNING ? MID_DESKTOP_STARTED : MID_DESKTOP_STOPPED,
                          "VDESK_DESKTOP=%s", d.name,
                          "VDESK_ACCOUNT=%s", d.account,
                          "VDESK_HOST=%s", h->name,
                          "VDESK_PORT=%u", d.rdp_port,
                          "VDESK_ACTOR=libvirt",
                          "MESSAGE=Desktop %s of %s %s (outside vdesk)", d.name, d.account,
                          state == VIRT_DOMAIN_RUNNING ? "started" : "stopped");
        desktop_done(&d);
}

void dhcp_entry_everywhere(Manager *m, Host *except, const char *network, const char *host_xml, bool add) {
        for (Host *h = m->hosts; h; h = h->next) {
                _cleanup_(freep) char *e = NULL;
                int r;

                /* a host that does not serve the network gets every entry
                 * when it first does (network_libvirt_ensure) */
                if (h == except || !h->up || virt_network_is_active(h->virt, network) < 0)
                        continue;
                r = virt_network_dhcp_host(h->virt, network, host_xml, add, &e);
                if (r < 0)
                        log_warning("Cannot %s a DHCP entry of network %s on %s: %s", add ? "add" : "remove", network,
                                    h->name, strempty(e));
        }
}

/* A domain defined before vdesk wrote the template's format into the
 * metadata gets it, and its disk the backing store: the hook makes no disk
 * for a desktop whose template's format it is not told. */
static void desktop_name_template_format(Host *h, const Desktop *d) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(desktop_meta_done) DesktopMeta meta = {};
        _cleanup_(freep) char *xml = NULL, *err = NULL;

        if (virt_domain_get_xml(h->virt, d->name, true, &xml, &err) < 0 ||
            desktop_meta_parse_domain(xml, &meta, &err) < 0 || meta.template_format)
                return;
        if (!streq(meta.template_path, d->template_path)) {
                log_warning("Desktop %s: its domain is on %s, the database has it on %s; its template's format "
                            "stays unnamed", d->name, meta.template_path, d->template_path);
                return;
        }
        if (set_template(h->virt, d->name, d->template_path, d->template_format, &e) < 0)
                log_warning("Cannot record the template format of %s in its domain: %s", d->name, e.message);
        else
                log_info("Desktop %s: its domain names the template's format (%s) now", d->name, d->template_format);
}

/* A desktop left "creating" by a broker that stopped while making it (no
 * operation on it runs): its domain and DHCP entries, if they were made,
 * and its row with what it holds go. */
static void desktop_remove_half_made(Manager *m, Host *h, const Desktop *d) {
        _cleanup_(freep) char *host_xml = NULL, *e = NULL, *e2 = NULL;
        char addr[16], net[80];
        bool had_domain;
        int r;

        network_libvirt_name(m, d->network, net);
        ipv4_format(d->address, addr);
        r = virt_domain_undefine(h->virt, d->name, &e);
        had_domain = r >= 0;
        if (r < 0 && r != -ENOENT) {
                log_warning("Desktop %s was left half-made; cannot remove its domain on %s: %s", d->name, h->name,
                            strempty(e));
                return;
        }
        if (dhcp_host_xml_build(d->mac, addr, &host_xml) >= 0) {
                (void) virt_network_dhcp_host(h->virt, net, host_xml, false, &e2);
                if (!isempty(d->network))
                        dhcp_entry_everywhere(m, h, net, host_xml, false);
        }
        r = desktop_row_remove(m, d->id);
        if (r < 0) {
                log_warning("Desktop %s was left half-made; cannot remove its row: %s", d->name, db_error(m->db));
                return;
        }
        log_warning("Desktop %s of %s was left half-made on %s (the broker stopped while making it): its %s"
                    "row, address and port removed", d->name, d->account, h->name,
                    had_domain ? "domain, " : "");
}

void desktops_resync(Manager *m, Host *h) {
        _cleanup_(strv_freep) char **served = NULL, **unserved = NULL;
        Desktop *d = NULL;
        size_t n = 0;
        int r;

        host_network_ensure(h);
        networks_prune_stale(m, h);

        r = desktop_list(m, NULL, &d, &n);
        if (r < 0) {
                log_error("Cannot list desktops: %s", db_error(m->db));
                return;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_(freep) char *host_xml = NULL, *err = NULL;
                bool here = d[i].host_id == h->id;
                VirtDomainState s;
                char addr[16], net[80];

                if (streq(d[i].state, DESKTOP_STATE_CREATING)) {
                        if (here && desktop_queue_pending(m, d[i].name) == 0)
                                desktop_remove_half_made(m, h, &d[i]);
                        continue;
                }

                /* a department network is served on every host one of its
                 * desktops lives on, with the entries of all of them */
                if (!isempty(d[i].network) && here && !strv_contains(served, d[i].network)) {
                        _cleanup_(sd_bus_error_free) sd_bus_error be = SD_BUS_ERROR_NULL;
                        Network dn;

                        if (network_get(m, d[i].network, &dn, &be) < 0 || network_libvirt_ensure(m, h, &dn, &err) < 0)
                                log_warning("Cannot set up network %s on %s: %s", d[i].network, h->name,
                                            be.message ?: strempty(err));
                        (void) strv_extend(&served, d[i].network);
                        err = mfree(err);
                }
                if (!here && (isempty(d[i].network) || strv_contains(unserved, d[i].network)))
                        continue;
                network_libvirt_name(m, d[i].network, net);
                if (!here && !strv_contains(served, d[i].network)) {
                        if (virt_network_is_active(h->virt, net) < 0) {
                                (void) strv_extend(&unserved, d[i].network);
                                continue;
                        }
                        (void) strv_extend(&served, d[i].network);
                }
                ipv4_format(d[i].address, addr);
                if (dhcp_host_xml_build(d[i].mac, addr, &host_xml) >= 0 &&
                    virt_network_dhcp_host(h->virt, net, host_xml, true, &err) < 0)
                        log_warning("Cannot register the address of %s on %s: %s", d[i].name, h->name, strempty(err));
                if (!here)
                        continue;
                desktop_name_template_format(h, &d[i]);
                if (virt_domain_get_state(h->virt, d[i].name, &s) < 0)
                        s = VIRT_DOMAIN_STOPPED;
                if (!streq(d[i].state, virt_domain_state_to_string(s)))
                        set_state(m, &d[i], s);
        }
        desktop_list_free(d, n);
}

/* ---- operations off the loop (desktop-queue.h) --------------------------------- */

/* What an operation on an existing desktop takes to its worker thread,
 * and what it brings back. */
typedef struct DesktopWork {
        /* the request */
        char name[64];
        const char *verb;               /* what it does, for its errors: "start", ... */
        uid_t actor;
        bool force;                     /* Stop */
        char to_name[64];               /* Move: the host it goes to */
        /* copied on the loop */
        Desktop d;
        char host[64];                  /* the host it lives on */
        uint64_t cluster_id;            /* ... and that host's cluster */
        Virt *virt;                     /* ... and its connection, borrowed */
        char net[80];                   /* the libvirt network of its NIC */
        char *host_xml;                 /* its DHCP host entry */
        Virt **others;                  /* other hosts serving its department network */
        size_t n_others;
        Virt *to_virt;                  /* Move: the new host's connection, borrowed */
        uint64_t to_id, to_cluster_id;
        TemplateChoice tc;              /* Reissue: the version it goes to */
        /* brought back */
        unsigned step;                  /* which of the operation's works runs */
        char *error;                    /* libvirt's message */
        char *dhcp_error;               /* a DHCP entry that could not be removed */
        char *xml;                      /* Move: the domain's definition */
        sd_bus_error undo_error;        /* what failed, while the work undoes the rest */
} DesktopWork;

static void desktop_work_free(void *userdata) {
        DesktopWork *w = userdata;

        if (!w)
                return;
        desktop_done(&w->d);
        virt_free(w->virt);
        virt_free(w->to_virt);
        for (size_t i = 0; i < w->n_others; i++)
                virt_free(w->others[i]);
        free(w->others);
        template_choice_done(&w->tc);
        free(w->host_xml);
        free(w->error);
        free(w->dhcp_error);
        free(w->xml);
        sd_bus_error_free(&w->undo_error);
        free(w);
}

/* A new message from libvirt for the loop (the last one counts). */
static void work_error(DesktopWork *w, char *e) {
        free(w->error);
        w->error = e;
}

/* The row, its host (up) and a connection to it for the worker. A desktop
 * still being made is refused (NotReady). */
static int work_begin(Manager *m, DesktopWork *w, sd_bus_error *error) {
        Host *h;
        int r;

        desktop_done(&w->d);
        r = desktop_get(m, w->name, &w->d, error);
        if (r < 0)
                return r;
        if (streq(w->d.state, DESKTOP_STATE_CREATING))
                return bus_error_setf(error, VDESK_ERROR_NOT_READY, "Desktop %s is being made; try again later",
                                      w->name);
        h = host_for_desktop(m, w->d.host_id, w->d.name, error);
        if (!h)
                return -EHOSTDOWN;
        snprintf(w->host, sizeof w->host, "%s", h->name);
        w->cluster_id = h->cluster_id;
        r = virt_borrow(h->virt, &w->virt);
        if (r == -ENOTCONN)
                return bus_error_setf(error, VDESK_ERROR_HOST_DOWN, "Host %s of desktop %s is down", h->name,
                                      w->d.name);
        return r < 0 ? r : 1;
}

/* The named error for a libvirt call on the desktop's domain that
 * failed with r. */
static int work_domain_error(const DesktopWork *w, int r, const char *what, sd_bus_error *error) {
        if (r == -ENOTCONN)
                return bus_error_setf(error, VDESK_ERROR_HOST_DOWN, "Host %s of desktop %s is down", w->host,
                                      w->d.name);
        if (r == -ENOENT)
                return bus_error_setf(error, VDESK_ERROR_NOT_READY, "Desktop %s has no domain on %s yet; try again later",
                                      w->d.name, w->host);
        if (r == -EBUSY)
                return bus_error_setf(error, VDESK_ERROR_DESKTOP_RUNNING, "Desktop %s is running; stop it first",
                                      w->d.name);
        return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot %s %s: %s", what, w->d.name,
                              w->error ?: strerror(-r));
}

static int desktop_work_push(Manager *m, const char *name, const char *verb, uid_t actor,
                             const DesktopOpType *type, DesktopWork **ret_work, DesktopDoneFunc done, void *userdata) {
        DesktopWork *w = new0(DesktopWork, 1);

        if (!w)
                return -ENOMEM;
        snprintf(w->name, sizeof w->name, "%s", name);
        w->verb = verb;
        w->actor = actor;
        if (ret_work)
                *ret_work = w;
        return desktop_queue_push(m, name, type, w, done, userdata);
}

/* -- Start, Stop, power off -- */

static int start_begin(Manager *m, void *userdata, sd_bus_error *error) {
        DesktopWork *w = userdata;
        int r;

        r = work_begin(m, w, error);
        if (r > 0)
                manager_push_actor(m, w->name, w->actor);
        return r;
}

static int start_work(void *userdata) {
        DesktopWork *w = userdata;
        char *e = NULL;
        int r;

        r = virt_domain_start(w->virt, w->d.name, &e);
        work_error(w, e);
        return r;
}

/* r > 0: it started or stopped, and the lifecycle event names the actor. */
static int start_stop_end(Manager *m, void *userdata, int r, sd_bus_error *error) {
        DesktopWork *w = userdata;

        if (r <= 0)
                /* no lifecycle event comes to take the actor */
                (void) manager_pop_actor(m, w->name);
        return r < 0 ? work_domain_error(w, r, w->verb, error) : r;
}

static const DesktopOpType start_op = {
        .begin = start_begin, .work = start_work, .end = start_stop_end, .free = desktop_work_free,
};

int desktop_start_async(Manager *m, const char *name, uid_t actor, DesktopDoneFunc done, void *userdata) {
        return desktop_work_push(m, name, "start", actor, &start_op, NULL, done, userdata);
}

static int stop_work(void *userdata) {
        DesktopWork *w = userdata;
        char *e = NULL;
        int r;

        r = virt_domain_stop(w->virt, w->d.name, w->force, &e);
        work_error(w, e);
        return r;
}

static const DesktopOpType stop_op = {
        .begin = start_begin, .work = stop_work, .end = start_stop_end, .free = desktop_work_free,
};

int desktop_stop_async(Manager *m, const char *name, bool force, uid_t actor, DesktopDoneFunc done,
                       void *userdata) {
        DesktopWork *w = NULL;
        int r;

        r = desktop_work_push(m, name, "stop", actor, &stop_op, &w, done, userdata);
        if (r >= 0)
                w->force = force;
        return r;
}

/* A domain that is not running is left alone: 0. */
static int power_off_work(void *userdata) {
        DesktopWork *w = userdata;
        VirtDomainState state;
        int r;

        r = virt_domain_get_state(w->virt, w->d.name, &state);
        if (r < 0 || state != VIRT_DOMAIN_RUNNING)
                return r < 0 ? r : 0;
        w->force = true;
        return stop_work(w);
}

static const DesktopOpType power_off_op = {
        .begin = start_begin, .work = power_off_work, .end = start_stop_end, .free = desktop_work_free,
};

int desktop_power_off_async(Manager *m, const char *name, uid_t actor, DesktopDoneFunc done, void *userdata) {
        return desktop_work_push(m, name, "power off", actor, &power_off_op, NULL, done, userdata);
}

/* -- Delete -- */

static int work_dhcp_entry(Manager *m, DesktopWork *w) {
        char addr[16];

        network_libvirt_name(m, w->d.network, w->net);
        ipv4_format(w->d.address, addr);
        return dhcp_host_xml_build(w->d.mac, addr, &w->host_xml);
}

static int delete_begin(Manager *m, void *userdata, sd_bus_error *error) {
        DesktopWork *w = userdata;
        int r;

        r = work_begin(m, w, error);
        if (r > 0)
                r = work_dhcp_entry(m, w);
        if (r >= 0 && !isempty(w->d.network))
                /* the other hosts serving its department network, whose
                 * DHCP entries of it go too */
                r = borrow_others(m, w->d.host_id, &w->others, &w->n_others);
        return r < 0 ? r : 1;
}

/* Each step tolerates its object being gone already, so that a delete
 * cut short is finished by calling it again. */
static int delete_work(void *userdata) {
        DesktopWork *w = userdata;
        VirtDomainState state;
        char *e = NULL;
        int r;

        r = virt_domain_get_state(w->virt, w->d.name, &state);
        if (r >= 0 && state == VIRT_DOMAIN_RUNNING)
                return -EBUSY;
        r = virt_domain_undefine(w->virt, w->d.name, &e);
        work_error(w, e);
        if (r < 0 && r != -ENOENT)
                return r;
        r = virt_network_dhcp_host(w->virt, w->net, w->host_xml, false, &w->dhcp_error);
        if (r == -ENOENT)
                w->dhcp_error = mfree(w->dhcp_error);
        for (size_t i = 0; i < w->n_others; i++) {
                _cleanup_(freep) char *e2 = NULL;

                /* a host that does not serve the network has no entry */
                if (virt_network_is_active(w->others[i], w->net) >= 0)
                        (void) virt_network_dhcp_host(w->others[i], w->net, w->host_xml, false, &e2);
        }
        return 0;
}

enum {
        DELETE_DOMAIN,                  /* its domain and DHCP entries */
        DELETE_DISK,                    /* its disk, through vdesk-imaged */
};

static int delete_end(Manager *m, void *userdata, int r, sd_bus_error *error) {
        DesktopWork *w = userdata;
        const Desktop *d = &w->d;

        if (w->step == DELETE_DOMAIN) {
                if (r < 0)
                        return work_domain_error(w, r, w->verb, error);
                if (w->dhcp_error)
                        log_warning("Cannot remove the DHCP entry of %s: %s", d->name, w->dhcp_error);
                w->step = DELETE_DISK;
                return disk_call(m, d, "DeleteDisk", NULL);
        }
        /* Never started: the hook never asked for a disk. */
        if (r < 0 && !sd_bus_error_has_name(error, VDESK_ERROR_NO_SUCH_DISK)) {
                log_warning("Cannot delete disk %s of %s: %s", d->disk_path, d->name,
                            error->message ?: strerror(-r));
                sd_bus_error_free(error);
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot delete the disk of %s", d->name);
        }
        sd_bus_error_free(error);

        r = desktop_row_remove(m, d->id);
        if (r < 0)
                return db_bus_error(m->db, r, error);

        log_event(LOG_INFO, MID_DESKTOP_DELETED,
                  "VDESK_DESKTOP=%s", d->name,
                  "VDESK_ACCOUNT=%s", d->account,
                  "VDESK_PORT=%u", d->rdp_port,
                  "VDESK_ACTOR_UID=%u", (unsigned) w->actor,
                  "MESSAGE=Desktop %s of %s deleted", d->name, d->account);
        manager_object_removed(m, OBJECT_DESKTOP, d->name);
        return 0;
}

static const DesktopOpType delete_op = {
        .begin = delete_begin, .work = delete_work, .end = delete_end, .free = desktop_work_free,
};

int desktop_delete_async(Manager *m, const char *name, uid_t actor, DesktopDoneFunc done, void *userdata) {
        return desktop_work_push(m, name, "remove the domain of", actor, &delete_op, NULL, done, userdata);
}

/* -- Move -- */

enum {
        MOVE_DEFINE,                    /* the DHCP entry and the definition on the new host */
        MOVE_UNDO,                      /* ... taken back: the row could not follow */
        MOVE_LEAVE,                     /* the old host lets it go */
};

/* The host a desktop moves to (up, not its own), with its department
 * network served there. */
static int move_begin(Manager *m, void *userdata, sd_bus_error *error) {
        _cleanup_(freep) char *e = NULL;
        DesktopWork *w = userdata;
        Host *to;
        int r;

        r = bus_error_check_name(error, "host", w->to_name);
        if (r < 0)
                return r;
        to = host_by_name(m, w->to_name);
        if (!to)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_HOST, "Invalid host: no host '%s'", w->to_name);
        r = work_begin(m, w, error);
        if (r < 0)
                return r;
        if (to->id == w->d.host_id)
                return bus_error_setf(error, VDESK_ERROR_INVALID_ARGS, "Invalid host: %s lives on %s already",
                                      w->name, w->to_name);
        if (!to->up || virt_borrow(to->virt, &w->to_virt) < 0)
                return bus_error_setf(error, VDESK_ERROR_HOST_DOWN, "Host %s is down (%s)", to->name, to->reason);
        w->to_id = to->id;
        w->to_cluster_id = to->cluster_id;
        r = work_dhcp_entry(m, w);
        if (r < 0)
                return r;
        if (!isempty(w->d.network)) {
                _cleanup_(sd_bus_error_free) sd_bus_error be = SD_BUS_ERROR_NULL;
                Network dn;

                /* the department network's bridge, gateway and DHCP there,
                 * with every desktop's entry */
                r = network_get(m, w->d.network, &dn, &be);
                if (r >= 0)
                        r = network_libvirt_ensure(m, to, &dn, &e);
                if (r < 0)
                        return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot set up network %s on %s: %s",
                                              w->d.network, to->name, be.message ?: strempty(e));
        }
        return 1;
}

/* The same definition (its disk is on storage both hosts share), with the
 * DHCP entry there first. */
static int move_define_work(DesktopWork *w) {
        VirtDomainState state;
        char *e = NULL;
        int r;

        r = virt_domain_get_state(w->virt, w->d.name, &state);
        if (r < 0)
                return r;
        if (state == VIRT_DOMAIN_RUNNING)
                return -EBUSY;
        r = virt_domain_exists(w->to_virt, w->d.name);
        if (r != 0)
                return r < 0 ? r : -EEXIST;
        r = virt_domain_get_xml(w->virt, w->d.name, true, &w->xml, &e);
        if (r >= 0)
                r = virt_network_dhcp_host(w->to_virt, w->net, w->host_xml, true, &e);
        if (r >= 0)
                r = virt_domain_define(w->to_virt, w->xml, &e);
        work_error(w, e);
        return r < 0 ? -EIO : 0;
}

static int move_work(void *userdata) {
        DesktopWork *w = userdata;
        _cleanup_(freep) char *e = NULL, *e2 = NULL;
        Virt *v;

        switch (w->step) {
        case MOVE_DEFINE:
                return move_define_work(w);
        case MOVE_UNDO:
        case MOVE_LEAVE:
                v = w->step == MOVE_UNDO ? w->to_virt : w->virt;
                if (virt_domain_undefine(v, w->d.name, &e) < 0) {
                        work_error(w, TAKE_PTR(e));
                        return -EIO;
                }
                /* the host's own desktop network answers for its desktops
                 * only; a department network's entries stay everywhere */
                if (w->step == MOVE_UNDO || isempty(w->d.network))
                        (void) virt_network_dhcp_host(v, w->net, w->host_xml, false, &e2);
                return 0;
        default:
                return -EINVAL;
        }
}

/* The row points at the new host, in one transaction in which another
 * cluster's capacity counts the desktop from now on. */
static int move_record(Manager *m, DesktopWork *w, sd_bus_error *error) {
        int r;

        r = db_begin(m->db);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (w->to_cluster_id != w->cluster_id) {
                r = cluster_reserve(m, w->to_cluster_id, error);
                if (r < 0) {
                        db_rollback(m->db);
                        return r;
                }
        }
        r = db_exec(m->db, "UPDATE desktops SET host_id = ? WHERE id = ?",
                    (DbValue[]) { DBV_UINT(w->to_id), DBV_UINT(w->d.id) }, 2, NULL, NULL, NULL);
        if (r >= 0)
                r = db_commit(m->db);
        if (r < 0) {
                db_rollback(m->db);
                return db_bus_error(m->db, r, error);
        }
        return 0;
}

static void move_journal(const DesktopWork *w) {
        log_event(LOG_INFO, MID_DESKTOP_MOVED,
                  "VDESK_DESKTOP=%s", w->d.name,
                  "VDESK_ACCOUNT=%s", w->d.account,
                  "VDESK_HOST=%s", w->to_name,
                  "VDESK_FROM_HOST=%s", w->host,
                  "VDESK_ACTOR_UID=%u", (unsigned) w->actor,
                  "MESSAGE=Desktop %s of %s moved from %s to %s", w->d.name, w->d.account, w->host, w->to_name);
}

/* The definition and the DHCP entry on the new host first, the row next,
 * the old definition last: at no time is the desktop on neither. */
static int move_end(Manager *m, void *userdata, int r, sd_bus_error *error) {
        DesktopWork *w = userdata;

        switch (w->step) {
        case MOVE_DEFINE:
                if (r == -EEXIST)
                        return bus_error_setf(error, VDESK_ERROR_DESKTOP_EXISTS, "Host %s has a domain '%s' already",
                                              w->to_name, w->d.name);
                if (r == -EIO)
                        return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot define %s on %s: %s",
                                              w->d.name, w->to_name, strempty(w->error));
                if (r < 0)
                        return work_domain_error(w, r, w->verb, error);
                r = move_record(m, w, &w->undo_error);
                if (r < 0 && !sd_bus_error_is_set(&w->undo_error))
                        (void) sd_bus_error_set_errnof(&w->undo_error, r, "Cannot record the move of %s: %m",
                                                       w->d.name);
                w->step = r < 0 ? MOVE_UNDO : MOVE_LEAVE;
                return DESKTOP_OP_AGAIN;
        case MOVE_UNDO:
                if (r < 0)
                        log_warning("Desktop %s stays on %s, but its new definition on %s stays too: %s", w->d.name,
                                    w->host, w->to_name, strempty(w->error));
                return sd_bus_error_copy(error, &w->undo_error);
        case MOVE_LEAVE:
                if (r < 0)
                        log_warning("Desktop %s moved to %s, but its old definition on %s stays: %s", w->d.name,
                                    w->to_name, w->host, strempty(w->error));
                move_journal(w);
                manager_object_changed(m, OBJECT_DESKTOP, w->d.name, "Host", NULL);
                return 0;
        default:
                return -EINVAL;
        }
}

static const DesktopOpType move_op = {
        .begin = move_begin, .work = move_work, .end = move_end, .free = desktop_work_free,
};

int desktop_move_async(Manager *m, const char *name, const char *host, uid_t actor, DesktopDoneFunc done,
                       void *userdata) {
        DesktopWork *w = NULL;
        int r;

        r = desktop_work_push(m, name, "look up the domain of", actor, &move_op, &w, done, userdata);
        if (r >= 0)
                snprintf(w->to_name, sizeof w->to_name, "%s", host);
        return r;
}

/* -- Reissue -- */

enum {
        REISSUE_METADATA,               /* the domain names the newest version */
        REISSUE_DISK,                   /* its new disk, through vdesk-imaged */
        REISSUE_UNDO,                   /* ... and its own again: no new disk */
};

static int reissue_begin(Manager *m, void *userdata, sd_bus_error *error) {
        DesktopWork *w = userdata;
        int r;

        r = work_begin(m, w, error);
        if (r > 0)
                r = template_choose(m, w->d.template, &w->tc, error);
        return r < 0 ? r : 1;
}

/* The metadata first: the hook then makes the new disk, should the
 * desktop start before it is replaced. */
static int reissue_work(void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        DesktopWork *w = userdata;
        VirtDomainState state;
        int r;

        if (w->step == REISSUE_UNDO)
                r = set_template(w->virt, w->d.name, w->d.template_path, w->d.template_format, &e);
        else {
                r = virt_domain_get_state(w->virt, w->d.name, &state);
                if (r < 0 || state == VIRT_DOMAIN_RUNNING)
                        return r < 0 ? r : -EBUSY;
                r = set_template(w->virt, w->d.name, w->tc.path, w->tc.format, &e);
        }
        if (r < 0) {
                work_error(w, strdup(strempty(e.message)));
                return -EIO;
        }
        return 0;
}

static int reissue_record(Manager *m, DesktopWork *w, sd_bus_error *error) {
        const Desktop *d = &w->d;
        int r;

        r = db_exec(m->db, "UPDATE desktops SET template_version_id = ? WHERE id = ?",
                    (DbValue[]) { DBV_UINT(w->tc.version_id), DBV_UINT(d->id) }, 2, NULL, NULL, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        log_event(LOG_INFO, MID_DESKTOP_REISSUED,
                  "VDESK_DESKTOP=%s", d->name,
                  "VDESK_ACCOUNT=%s", d->account,
                  "VDESK_TEMPLATE=%s", d->template,
                  "VDESK_TEMPLATE_VERSION=%u", w->tc.version,
                  "VDESK_ACTOR_UID=%u", (unsigned) w->actor,
                  "MESSAGE=Desktop %s of %s re-issued: a fresh disk on version %u of %s (was version %u)",
                  d->name, d->account, w->tc.version, d->template, d->template_version);
        manager_object_changed(m, OBJECT_DESKTOP, d->name, "TemplateVersion", NULL);
        return (int) w->tc.version;
}

static int reissue_end(Manager *m, void *userdata, int r, sd_bus_error *error) {
        DesktopWork *w = userdata;

        switch (w->step) {
        case REISSUE_METADATA:
                if (r == -EIO)
                        return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "%s", strempty(w->error));
                if (r < 0)
                        return work_domain_error(w, r, w->verb, error);
                w->step = REISSUE_DISK;
                return disk_call(m, &w->d, "ReplaceDisk", "ss", w->tc.path, w->tc.format);
        case REISSUE_DISK:
                if (r >= 0)
                        return reissue_record(m, w, error);
                /* the domain names its own version again */
                if (sd_bus_error_is_set(error))
                        sd_bus_error_move(&w->undo_error, error);
                else
                        (void) sd_bus_error_set_errnof(&w->undo_error, r, "Cannot replace the disk of %s: %m",
                                                       w->d.name);
                w->step = REISSUE_UNDO;
                return DESKTOP_OP_AGAIN;
        case REISSUE_UNDO:
                return sd_bus_error_copy(error, &w->undo_error);
        default:
                return -EINVAL;
        }
}

static const DesktopOpType reissue_op = {
        .begin = reissue_begin, .work = reissue_work, .end = reissue_end, .free = desktop_work_free,
};

int desktop_reissue_async(Manager *m, const char *name, uid_t actor, DesktopDoneFunc done, void *userdata) {
        return desktop_work_push(m, name, "look up the domain of", actor, &reissue_op, NULL, done, userdata);
}
