/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <systemd/sd-id128.h>

#include "allocate.h"
#include "bus-error.h"
#include "cluster.h"
#include "desktop.h"
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

/* A desktop being made, filled in by the steps of desktop_create() in
 * their order. */
typedef struct DesktopCreation {
        /* the request */
        const char *name;
        const char *account;            /* NULL: a desktop of the category's pool, nobody's yet */
        const char *template;
        const char *category;           /* NULL: not made from a category */
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
        char net_name[80];              /* the libvirt network of its NIC */
        char *host_xml;                 /* its DHCP host entry there */
} DesktopCreation;

static void desktop_creation_done(DesktopCreation *c) {
        template_choice_done(&c->tc);
        free(c->placement);
        free(c->host_xml);
        c->placement = c->host_xml = NULL;
}

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
        /* The domain name is the desktop's: one that libvirt has already,
         * vdesk's or not, is taken. */
        r = virt_domain_exists(c->host->virt, c->name);
        if (r > 0)
                return bus_error_setf(error, VDESK_ERROR_DESKTOP_EXISTS, "Invalid name: a domain '%s' exists already",
                                      c->name);
        if (r < 0)
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot look up domain '%s'", c->name);
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
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'stopped', CURRENT_TIMESTAMP(6))",
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

/* Undoes create_define(), in reverse: nothing of the desktop may stay
 * behind. */
static void create_undefine(const DesktopCreation *c) {
        _cleanup_(freep) char *e = NULL, *e2 = NULL;

        (void) virt_network_dhcp_host(c->host->virt, c->net_name, c->host_xml, false, &e);
        (void) virt_domain_undefine(c->host->virt, c->name, &e2);
}

/* Its domain with the vdesk metadata, and its DHCP host entry, on its
 * host: both or neither. Fills in c->host_xml. */
static int create_define(Manager *m, DesktopCreation *c, const DesktopAllocation *a, sd_bus_error *error) {
        _cleanup_(freep) char *xml = NULL, *console = NULL, *e = NULL;
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
        r = domain_xml_build(&spec, &xml);
        if (r >= 0)
                r = dhcp_host_xml_build(a->mac, a->addr, &c->host_xml);
        if (r < 0)
                return r;

        r = virt_domain_define(c->host->virt, xml, &e);
        if (r < 0)
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "libvirt refused the domain: %s", strempty(e));
        r = virt_network_dhcp_host(c->host->virt, c->net_name, c->host_xml, true, &e);
        if (r < 0) {
                create_undefine(c);
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot register the address: %s",
                                      e ?: strerror(-r));
        }
        return 0;
}

static void create_journal(const DesktopCreation *c, const DesktopAllocation *a, uid_t actor) {
        log_event(LOG_INFO, MID_DESKTOP_PLACED,
                  "VDESK_DESKTOP=%s", c->name,
                  "VDESK_HOST=%s", c->host->name,
                  "VDESK_CLUSTER_ID=%" PRIu64, c->cluster_id,
                  "VDESK_SCHEDULE=%s", strempty(c->placement),
                  "MESSAGE=Desktop %s placed on %s: %s", c->name, c->host->name, strempty(c->placement));
        log_event(LOG_INFO, MID_DESKTOP_CREATED,
                  "VDESK_DESKTOP=%s", c->name,
                  "VDESK_HOST=%s", c->host->name,
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

int desktop_create(Manager *m, const char *name, const char *account, const char *template, const char *category,
                   uid_t actor, Desktop *ret, sd_bus_error *error) {
        _cleanup_(desktop_creation_done) DesktopCreation c = {
                .name = name, .account = account, .template = template, .category = category,
        };
        _cleanup_(desktop_allocation_done) DesktopAllocation a = {};
        int r;

        r = create_check_arguments(m, &c, error);
        if (r < 0)
                return r;

        r = db_begin(m->db);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = create_resolve(m, &c, error);
        if (r >= 0)
                r = create_place(m, &c, error);
        if (r >= 0)
                r = create_check_name_free(m, &c, error);
        if (r >= 0)
                r = create_allocate(m, &c, &a, error);
        if (r >= 0)
                r = create_record(m, &c, &a, error);
        if (r >= 0)
                r = create_define(m, &c, &a, error);
        if (r < 0) {
                /* the row, the address taken out of a pool, the cluster's
                 * count: all go with the transaction */
                db_rollback(m->db);
                return r;
        }
        r = db_commit(m->db);
        if (r < 0) {
                create_undefine(&c);
                db_rollback(m->db);
                return db_bus_error(m->db, r, error);
        }

        /* a department network's DHCP answers alike on every host
         * serving it */
        if (c.network_id)
                dhcp_entry_everywhere(m, c.host, c.net_name, c.host_xml, true);
        create_journal(&c, &a, actor);
        manager_object_added(m, OBJECT_DESKTOP, name);

        if (ret)
                return desktop_get(m, name, ret, error);
        return 0;
}

/* The host d lives on and its domain's state there: HostDown,
 * NotReady (no domain yet) or Hypervisor in *error otherwise. */
static int desktop_domain_state(Manager *m, const Desktop *d, Host **ret_host, VirtDomainState *ret,
                                sd_bus_error *error) {
        Host *h;
        int r;

        h = host_for_desktop(m, d->host_id, d->name, error);
        if (!h)
                return -EHOSTDOWN;
        r = virt_domain_get_state(h->virt, d->name, ret);
        if (r == -ENOTCONN)
                return bus_error_setf(error, VDESK_ERROR_HOST_DOWN, "Host %s of desktop %s is down", h->name, d->name);
        if (r == -ENOENT)
                return bus_error_setf(error, VDESK_ERROR_NOT_READY, "Desktop %s has no domain on %s yet; try again later",
                                      d->name, h->name);
        if (r < 0)
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot look up the domain of %s", d->name);
        *ret_host = h;
        return 0;
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

int desktop_reissue(Manager *m, const Desktop *d, uid_t actor, unsigned *ret_version, sd_bus_error *error) {
        _cleanup_(template_choice_done) TemplateChoice tc = {};
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        VirtDomainState state;
        Host *h;
        int r;

        r = desktop_domain_state(m, d, &h, &state, error);
        if (r < 0)
                return r;
        if (state == VIRT_DOMAIN_RUNNING)
                return bus_error_setf(error, VDESK_ERROR_DESKTOP_RUNNING, "Desktop %s is running; stop it first",
                                      d->name);

        r = db_begin(m->db);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = template_choose(m, d->template, &tc, error);
        if (r < 0)
                return r;
        /* The metadata first: the hook then makes the new disk, should the
         * desktop start before it is replaced here. */
        r = set_template(h->virt, d->name, tc.path, tc.format, error);
        if (r < 0) {
                db_rollback(m->db);
                return r;
        }
        r = sd_bus_call_method(m->bus, IMAGED, "ReplaceDisk", &e, NULL, "ssss", d->name, d->disk_path, tc.path,
                               tc.format);
        if (r < 0) {
                _cleanup_(sd_bus_error_free) sd_bus_error e2 = SD_BUS_ERROR_NULL;

                db_rollback(m->db);
                (void) set_template(h->virt, d->name, d->template_path, d->template_format, &e2);
                return sd_bus_error_copy(error, &e);
        }
        r = db_exec(m->db, "UPDATE desktops SET template_version_id = ? WHERE id = ?",
                    (DbValue[]) { DBV_UINT(tc.version_id), DBV_UINT(d->id) }, 2, NULL, NULL, NULL);
        if (r >= 0)
                r = db_commit(m->db);
        if (r < 0)
                return db_bus_error(m->db, r, error);

        log_event(LOG_INFO, MID_DESKTOP_REISSUED,
                  "VDESK_DESKTOP=%s", d->name,
                  "VDESK_ACCOUNT=%s", d->account,
                  "VDESK_TEMPLATE=%s", d->template,
                  "VDESK_TEMPLATE_VERSION=%u", tc.version,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Desktop %s of %s re-issued: a fresh disk on version %u of %s (was version %u)",
                  d->name, d->account, tc.version, d->template, d->template_version);
        manager_object_changed(m, OBJECT_DESKTOP, d->name, "TemplateVersion", NULL);
        if (ret_version)
                *ret_version = tc.version;
        return 0;
}

int desktop_start(Manager *m, const Desktop *d, uid_t actor, sd_bus_error *error) {
        _cleanup_(freep) char *e = NULL;
        Host *h;
        int r;

        h = host_for_desktop(m, d->host_id, d->name, error);
        if (!h)
                return -EHOSTDOWN;
        manager_push_actor(m, d->name, actor);
        r = virt_domain_start(h->virt, d->name, &e);
        if (r == -ENOTCONN)
                return bus_error_setf(error, VDESK_ERROR_HOST_DOWN, "Host %s of desktop %s is down", h->name, d->name);
        if (r < 0)
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot start %s: %s", d->name, strempty(e));
        return r;
}

int desktop_stop(Manager *m, const Desktop *d, bool force, uid_t actor, sd_bus_error *error) {
        _cleanup_(freep) char *e = NULL;
        Host *h;
        int r;

        h = host_for_desktop(m, d->host_id, d->name, error);
        if (!h)
                return -EHOSTDOWN;
        manager_push_actor(m, d->name, actor);
        r = virt_domain_stop(h->virt, d->name, force, &e);
        if (r == -ENOTCONN)
                return bus_error_setf(error, VDESK_ERROR_HOST_DOWN, "Host %s of desktop %s is down", h->name, d->name);
        if (r < 0)
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot stop %s: %s", d->name, strempty(e));
        return r;
}

static int delete_disk(Manager *m, const Desktop *d) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(m->bus, IMAGED, "DeleteDisk", &e, NULL, "ss", d->name, d->disk_path);
        /* Never started: the hook never asked for a disk. */
        if (r < 0 && sd_bus_error_has_name(&e, VDESK_ERROR_NO_SUCH_DISK))
                return 0;
        if (r < 0)
                log_warning("Cannot delete disk %s of %s: %s", d->disk_path, d->name, e.message ?: strerror(-r));
        return r;
}

int desktop_delete(Manager *m, const Desktop *d, uid_t actor, sd_bus_error *error) {
        _cleanup_(freep) char *e = NULL, *host_xml = NULL;
        VirtDomainState state;
        char addr[16];
        Host *h;
        int r;

        h = host_for_desktop(m, d->host_id, d->name, error);
        if (!h)
                return -EHOSTDOWN;
        r = virt_domain_get_state(h->virt, d->name, &state);
        if (r >= 0 && state == VIRT_DOMAIN_RUNNING)
                return bus_error_setf(error, VDESK_ERROR_DESKTOP_RUNNING, "Desktop %s is running; stop it first", d->name);

        /* Each step tolerates its object being gone already, so a delete
         * cut short is finished by calling it again; the row goes last. */
        r = virt_domain_undefine(h->virt, d->name, &e);
        if (r < 0 && r != -ENOENT)
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot remove domain %s: %s", d->name, strempty(e));
        ipv4_format(d->address, addr);
        r = dhcp_host_xml_build(d->mac, addr, &host_xml);
        if (r < 0)
                return r;
        {
                char net[80];

                network_libvirt_name(m, d->network, net);
                r = virt_network_dhcp_host(h->virt, net, host_xml, false, &e);
                if (!isempty(d->network))
                        dhcp_entry_everywhere(m, h, net, host_xml, false);
        }
        if (r < 0 && r != -ENOENT)
                log_warning("Cannot remove the DHCP entry of %s: %s", d->name, strempty(e));
        r = delete_disk(m, d);
        if (r < 0)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot delete the disk of %s", d->name);

        /* its address goes back to its network's free list with the row,
         * in one transaction */
        r = db_begin(m->db);
        if (r >= 0)
                r = desktop_address_release(m, d->id);
        if (r >= 0)
                r = db_exec(m->db, "DELETE FROM desktops WHERE id = ?", (DbValue[]) { DBV_UINT(d->id) }, 1, NULL,
                            NULL, NULL);
        if (r >= 0)
                r = db_commit(m->db);
        if (r < 0)
                return db_bus_error(m->db, r, error);

        log_event(LOG_INFO, MID_DESKTOP_DELETED,
                  "VDESK_DESKTOP=%s", d->name,
                  "VDESK_ACCOUNT=%s", d->account,
                  "VDESK_PORT=%u", d->rdp_port,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Desktop %s of %s deleted", d->name, d->account);
        manager_object_removed(m, OBJECT_DESKTOP, d->name);
        return 0;
}

/* The host a stopped desktop moves to (up, without a domain of its name)
 * and the one it leaves. */
static int move_check(Manager *m, const Desktop *d, const char *host_name, Host **ret_from, Host **ret_to,
                      sd_bus_error *error) {
        VirtDomainState state;
        Host *from, *to;
        int r;

        r = bus_error_check_name(error, "host", host_name);
        if (r < 0)
                return r;
        to = host_by_name(m, host_name);
        if (!to)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_HOST, "Invalid host: no host '%s'", host_name);
        if (to->id == d->host_id)
                return bus_error_setf(error, VDESK_ERROR_INVALID_ARGS, "Invalid host: %s lives on %s already", d->name,
                                      host_name);
        if (!to->up)
                return bus_error_setf(error, VDESK_ERROR_HOST_DOWN, "Host %s is down (%s)", to->name, to->reason);
        from = host_for_desktop(m, d->host_id, d->name, error);
        if (!from)
                return -EHOSTDOWN;
        r = virt_domain_get_state(from->virt, d->name, &state);
        if (r < 0)
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot look up the domain of %s", d->name);
        if (state == VIRT_DOMAIN_RUNNING)
                return bus_error_setf(error, VDESK_ERROR_DESKTOP_RUNNING, "Desktop %s is running; stop it first",
                                      d->name);
        if (virt_domain_exists(to->virt, d->name) != 0)
                return bus_error_setf(error, VDESK_ERROR_DESKTOP_EXISTS, "Host %s has a domain '%s' already",
                                      to->name, d->name);
        *ret_from = from;
        *ret_to = to;
        return 0;
}

/* What the desktop takes along: its domain's definition as it is (its
 * disk is on storage both hosts share) and its DHCP host entry; its
 * department network is served on the new host from now on. */
static int move_prepare(Manager *m, const Desktop *d, Host *from, Host *to, char **ret_xml, char **ret_host_xml,
                        sd_bus_error *error) {
        _cleanup_(freep) char *xml = NULL, *host_xml = NULL, *e = NULL;
        char addr[16];
        int r;

        r = virt_domain_get_xml(from->virt, d->name, true, &xml, &e);
        if (r < 0)
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot read the domain of %s: %s", d->name,
                                      strempty(e));
        if (!isempty(d->network)) {
                _cleanup_(sd_bus_error_free) sd_bus_error be = SD_BUS_ERROR_NULL;
                Network dn;

                r = network_get(m, d->network, &dn, &be);
                if (r >= 0)
                        r = network_libvirt_ensure(m, to, &dn, &e);
                if (r < 0)
                        return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot set up network %s on %s: %s",
                                              d->network, to->name, be.message ?: strempty(e));
        }
        ipv4_format(d->address, addr);
        r = dhcp_host_xml_build(d->mac, addr, &host_xml);
        if (r < 0)
                return r;
        *ret_xml = TAKE_PTR(xml);
        *ret_host_xml = TAKE_PTR(host_xml);
        return 0;
}

/* The DHCP entry and the definition on the new host, then the row
 * pointing there, in one transaction in which another cluster's capacity
 * counts the desktop from now on: all of it or none. */
static int move_define(Manager *m, const Desktop *d, Host *from, Host *to, const char *net, const char *xml,
                       const char *host_xml, sd_bus_error *error) {
        _cleanup_(freep) char *e = NULL;
        int r;

        r = db_begin(m->db);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (to->cluster_id != from->cluster_id) {
                r = cluster_reserve(m, to->cluster_id, error);
                if (r < 0) {
                        db_rollback(m->db);
                        return r;
                }
        }
        r = virt_network_dhcp_host(to->virt, net, host_xml, true, &e);
        if (r >= 0)
                r = virt_domain_define(to->virt, xml, &e);
        if (r < 0) {
                db_rollback(m->db);
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot define %s on %s: %s", d->name, to->name,
                                      strempty(e));
        }
        r = db_exec(m->db, "UPDATE desktops SET host_id = ? WHERE id = ?",
                    (DbValue[]) { DBV_UINT(to->id), DBV_UINT(d->id) }, 2, NULL, NULL, NULL);
        if (r >= 0)
                r = db_commit(m->db);
        if (r < 0) {
                _cleanup_(freep) char *e2 = NULL;

                (void) virt_domain_undefine(to->virt, d->name, &e2);
                return db_bus_error(m->db, r, error);
        }
        return 0;
}

/* The old host lets the desktop go once the row points at the new one. */
static void move_leave(const Desktop *d, Host *from, Host *to, const char *net, const char *host_xml) {
        _cleanup_(freep) char *e = NULL, *e2 = NULL;
        int r;

        r = virt_domain_undefine(from->virt, d->name, &e);
        if (r < 0 && r != -ENOENT)
                log_warning("Desktop %s moved to %s, but its old definition on %s stays: %s", d->name, to->name,
                            from->name, strempty(e));
        /* the host's own desktop network answers for its desktops only */
        if (isempty(d->network))
                (void) virt_network_dhcp_host(from->virt, net, host_xml, false, &e2);
}

int desktop_move(Manager *m, const Desktop *d, const char *host_name, uid_t actor, sd_bus_error *error) {
        _cleanup_(freep) char *xml = NULL, *host_xml = NULL;
        Host *from = NULL, *to = NULL;
        char net[80];
        int r;

        r = move_check(m, d, host_name, &from, &to, error);
        if (r < 0)
                return r;

        /* the same definition, the network and the DHCP entry there first,
         * the row next, the old definition last: at no time is the desktop
         * on neither */
        network_libvirt_name(m, d->network, net);
        r = move_prepare(m, d, from, to, &xml, &host_xml, error);
        if (r >= 0)
                r = move_define(m, d, from, to, net, xml, host_xml, error);
        if (r < 0)
                return r;
        move_leave(d, from, to, net, host_xml);

        log_event(LOG_INFO, MID_DESKTOP_MOVED,
                  "VDESK_DESKTOP=%s", d->name,
                  "VDESK_ACCOUNT=%s", d->account,
                  "VDESK_HOST=%s", to->name,
                  "VDESK_FROM_HOST=%s", from->name,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Desktop %s of %s moved from %s to %s", d->name, d->account, from->name, to->name);
        manager_object_changed(m, OBJECT_DESKTOP, d->name, "Host", NULL);
        return 0;
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

void desktops_resync(Manager *m, Host *h) {
        _cleanup_(freep) char *net_xml = NULL, *e = NULL;
        _cleanup_(strv_freep) char **served = NULL, **unserved = NULL;
        Desktop *d = NULL;
        size_t n = 0;
        int r;

        r = network_xml_build(&(LibvirtNetwork) {
                        .name = m->config.network_name, .bridge = m->config.bridge, .gateway = m->config.gateway,
                        .prefix = m->config.prefix,
                }, &net_xml);
        if (r >= 0)
                r = virt_network_ensure(h->virt, m->config.network_name, net_xml, &e);
        if (r < 0)
                log_error("Cannot set up network %s on %s: %s", m->config.network_name, h->name, e ?: strerror(-r));
        else
                log_event(LOG_INFO, MID_NETWORK_READY,
                          "VDESK_NETWORK=%s", m->config.network_name,
                          "VDESK_BRIDGE=%s", m->config.bridge,
                          "VDESK_HOST=%s", h->name,
                          "MESSAGE=Desktop network %s (%s, %s/%u) on %s %s", m->config.network_name, m->config.bridge,
                          m->config.gateway, m->config.prefix, h->name, r > 0 ? "set up" : "ready");

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

int desktop_power_off(Manager *m, const Desktop *d, uid_t actor, sd_bus_error *error) {
        VirtDomainState state;
        Host *h;
        int r;

        r = desktop_domain_state(m, d, &h, &state, error);
        if (r < 0)
                return r;
        if (state != VIRT_DOMAIN_RUNNING)
                return 0;
        r = desktop_stop(m, d, true, actor, error);
        if (r < 0)
                return r;
        return 1;
}
