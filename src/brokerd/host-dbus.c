/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "allocate.h"
#include "bus-error.h"
#include "category.h"
#include "desktop.h"
#include "host.h"
#include "libvirt-uri.h"
#include "log.h"
#include "manager.h"
#include "polkit.h"
#include "util.h"

/* The hosts' and clusters' methods: every one an admin's (polkit's
 * org.vdesk.broker1.read to list and to ask where a desktop would go,
 * org.vdesk.broker1.manage to change anything). */

#define AUTHORIZED(name) POLKIT_METHOD_EXPORTED(name, Manager, BROKERD_ACTION_MANAGE)
#define AUTHORIZED_READ(name) POLKIT_METHOD_EXPORTED(name, Manager, BROKERD_ACTION_READ)

#define CLUSTER_CAPACITY_MAX 1000000u

static int cluster_id(Manager *m, const char *name, uint64_t *ret, sd_bus_error *error) {
        uint64_t id = 0;
        int r;

        r = bus_error_check_name(error, "cluster", name);
        if (r < 0)
                return r;
        r = db_exec(m->db, "SELECT id FROM clusters WHERE name = ?", (DbValue[]) { DBV_STR(name) }, 1, db_row_u64,
                    &id, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (id == 0)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_CLUSTER, "Invalid cluster: no cluster '%s'", name);
        *ret = id;
        return 0;
}

static int name_row(char *const *c, unsigned n, void *userdata) {
        snprintf(userdata, 64, "%s", c[0]);
        return 0;
}

static const char *cluster_name(Manager *m, uint64_t id, char buf[static 64]) {
        buf[0] = 0;
        (void) db_exec(m->db, "SELECT name FROM clusters WHERE id = ?", (DbValue[]) { DBV_UINT(id) }, 1, name_row, buf,
                       NULL);
        return buf;
}

/* ---- clusters ------------------------------------------------------------------ */

AUTHORIZED(create_cluster) {
        const char *name;
        uint32_t capacity;
        int r;

        r = sd_bus_message_read(msg, "su", &name, &capacity);
        if (r < 0)
                return r;
        r = bus_error_check_name(error, "name", name);
        if (r < 0)
                return r;
        if (capacity < 1 || capacity > CLUSTER_CAPACITY_MAX)
                return bus_error_setf(error, VDESK_ERROR_INVALID_ARGS, "Invalid capacity: %u is not from 1 to %u",
                                      capacity, CLUSTER_CAPACITY_MAX);
        r = db_exec(m->db, "INSERT INTO clusters (name, capacity) VALUES (?, ?)",
                    (DbValue[]) { DBV_STR(name), DBV_UINT(capacity) }, 2, NULL, NULL, NULL);
        if (r == -EEXIST)
                return bus_error_setf(error, VDESK_ERROR_CLUSTER_EXISTS, "Invalid name: cluster '%s' exists already",
                                      name);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        log_event(LOG_INFO, MID_CLUSTER_CREATED,
                  "VDESK_CLUSTER=%s", name,
                  "VDESK_CAPACITY=%u", capacity,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Cluster %s created (at most %u desktops)", name, capacity);
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(delete_cluster) {
        uint64_t id, hosts = 0, categories = 0;
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = cluster_id(m, name, &id, error);
        if (r < 0)
                return r;
        r = db_begin(m->db);
        if (r >= 0)
                r = db_exec(m->db, "SELECT COUNT(*) FROM hosts WHERE cluster_id = ? FOR UPDATE",
                            (DbValue[]) { DBV_UINT(id) }, 1, db_row_u64, &hosts, NULL);
        if (r >= 0)
                r = db_exec(m->db, "SELECT COUNT(*) FROM categories WHERE cluster_id = ? FOR UPDATE",
                            (DbValue[]) { DBV_UINT(id) }, 1, db_row_u64, &categories, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (hosts > 0 || categories > 0) {
                db_rollback(m->db);
                return bus_error_setf(error, VDESK_ERROR_CLUSTER_IN_USE,
                                      "Cluster %s has %" PRIu64 " hosts and %" PRIu64 " categories placing desktops in it",
                                      name, hosts, categories);
        }
        r = db_exec(m->db, "DELETE FROM clusters WHERE id = ?", (DbValue[]) { DBV_UINT(id) }, 1, NULL, NULL, NULL);
        if (r >= 0)
                r = db_commit(m->db);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        log_event(LOG_INFO, MID_CLUSTER_DELETED,
                  "VDESK_CLUSTER=%s", name,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Cluster %s deleted", name);
        return sd_bus_reply_method_return(msg, NULL);
}

typedef struct ClusterRow {
        char name[64];
        uint32_t capacity, hosts, desktops;
} ClusterRow;

static int cluster_row(char *const *c, unsigned n, void *userdata) {
        ClusterRow *k = db_rows_push(userdata);

        if (!k)
                return -ENOMEM;
        snprintf(k->name, sizeof k->name, "%s", c[0]);
        k->capacity = (uint32_t) strtoul(c[1], NULL, 10);
        k->hosts = (uint32_t) strtoul(c[2], NULL, 10);
        k->desktops = (uint32_t) strtoul(c[3], NULL, 10);
        return 0;
}

AUTHORIZED_READ(list_clusters) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        DbRows rows = { .size = sizeof(ClusterRow) };
        _cleanup_(freep) void *items = NULL;
        int r;

        r = db_exec(m->db,
                    "SELECT c.name, c.capacity, (SELECT COUNT(*) FROM hosts h WHERE h.cluster_id = c.id), "
                    "(SELECT COUNT(*) FROM desktops d JOIN hosts h ON h.id = d.host_id WHERE h.cluster_id = c.id) "
                    "FROM clusters c ORDER BY c.name",
                    NULL, 0, cluster_row, &rows, NULL);
        items = rows.items;
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', CLUSTER_SIGNATURE);
        for (size_t i = 0; r >= 0 && i < rows.n; i++) {
                ClusterRow *k = &((ClusterRow *) items)[i];
                r = sd_bus_message_append(reply, CLUSTER_SIGNATURE, k->name, k->capacity, k->hosts, k->desktops);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* AssignCluster and ReclaimCluster */
AUTHORIZED(category_cluster) {
        const char *cluster, *category;
        bool assign = streq(sd_bus_message_get_member(msg), "AssignCluster");
        uint64_t id;
        int r;

        r = sd_bus_message_read(msg, "ss", &cluster, &category);
        if (r >= 0)
                r = cluster_id(m, cluster, &id, error);
        if (r >= 0)
                r = category_set_link(m, CATEGORY_CLUSTER, id, cluster, category, assign, error);
        if (r < 0)
                return r;
        log_event(LOG_INFO, assign ? MID_CLUSTER_ASSIGNED : MID_CLUSTER_RECLAIMED,
                  "VDESK_CLUSTER=%s", cluster,
                  "VDESK_CATEGORY=%s", category,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  assign ? "MESSAGE=New desktops of category %s go to cluster %s"
                         : "MESSAGE=New desktops of category %s no longer go to cluster %s",
                  category, cluster);
        return sd_bus_reply_method_return(msg, NULL);
}

/* ---- hosts ----------------------------------------------------------------------- */

static void host_dispose(Host *h);

static int on_add_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Host *h = userdata;

        add_finish(h, VDESK_ERROR_HOST_UNREACHABLE, "Host unreachable: %s did not answer within %u s", h->uri,
                   h->manager->config.host_connect_timeout_sec);
        return 0;
}

AUTHORIZED(add_host) {
        const char *name, *uri, *cluster, *address;
        char uri_host[LIBVIRT_URI_HOST_MAX], buf[LIBVIRT_URI_REASON_MAX];
        const char *why;
        uint64_t cid;
        uint32_t addr = 0;
        Host *h;
        int r;

        r = sd_bus_message_read(msg, "ssss", &name, &uri, &cluster, &address);
        if (r < 0)
                return r;
        r = bus_error_check_name(error, "name", name);
        if (r < 0)
                return r;
        why = libvirt_uri_invalid_reason(uri, buf, uri_host);
        if (why)
                return bus_error_setf(error, VDESK_ERROR_INVALID_ARGS, "Invalid uri: '%s' %s", uri, why);
        r = cluster_id(m, cluster, &cid, error);
        if (r < 0)
                return r;
        if (!isempty(address) && ipv4_parse(address, &addr) < 0)
                return bus_error_setf(error, VDESK_ERROR_INVALID_ARGS, "Invalid address: '%s' is not an IPv4 address",
                                      address);
        if (isempty(address) && !isempty(uri_host) && ipv4_parse(uri_host, &addr) < 0)
                return bus_error_setf(error, VDESK_ERROR_INVALID_ARGS,
                                      "Invalid address: give the IPv4 address staff reach %s on", uri_host);
        /* staff connect there: 0.0.0.0 would silently mean the broker's own */
        if (addr != 0 && !ipv4_is_unicast(addr))
                return bus_error_setf(error, VDESK_ERROR_INVALID_ARGS,
                                      "Invalid address: %s is not an address staff can reach a host on",
                                      isempty(address) ? uri_host : address);
        if (addr == 0 && (!isempty(address) || !isempty(uri_host)))
                return bus_error_setf(error, VDESK_ERROR_INVALID_ARGS,
                                      "Invalid address: 0.0.0.0 is not an address staff can reach a host on");
        for (Host *o = m->hosts; o; o = o->next)
                if (streq(o->name, name) || streq(o->uri, uri))
                        return bus_error_setf(error, VDESK_ERROR_HOST_EXISTS, "Host %s (%s) is there already", o->name,
                                              o->uri);
        for (Host *o = m->adding_hosts; o; o = o->next)
                if (streq(o->name, name) || streq(o->uri, uri))
                        return bus_error_setf(error, VDESK_ERROR_HOST_EXISTS, "Host %s (%s) is being added already",
                                              o->name, o->uri);

        r = host_new(m, 0, name, uri, cid, addr, false, false, &h);
        if (r < 0)
                return r;
        h->adding = sd_bus_message_ref(msg);
        h->add_actor = actor;
        r = sd_event_add_time_relative(m->event, &h->add_timeout, CLOCK_MONOTONIC,
                                       (uint64_t) m->config.host_connect_timeout_sec * USEC_PER_SEC, 0,
                                       on_add_timeout, h);
        if (r < 0) {
                host_free(h);
                return r;
        }
        h->next = m->adding_hosts;
        m->adding_hosts = h;
        return 1;       /* the reply comes with the first answer, or the timeout */
}

static int on_dispose(sd_event_source *s, void *userdata) {
        host_free(userdata);
        sd_event_source_disable_unref(s);
        return 0;
}

/* Frees h from the loop: never inside its own connection's callback. */
static void host_dispose(Host *h) {
        sd_event_source *s = NULL;

        (void) virt_free(TAKE_PTR(h->virt)) ;
        if (sd_event_add_defer(h->manager->event, &s, on_dispose, h) < 0)
                log_oom();      /* leaked rather than freed under a caller */
}

void add_finish(Host *h, const char *error_name, const char *format, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = TAKE_PTR(h->adding);
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        Manager *m = h->manager;
        char cname[64];
        int r;

        h->add_timeout = sd_event_source_disable_unref(h->add_timeout);
        host_unlink(&m->adding_hosts, h);
        if (!error_name) {
                r = db_exec(m->db, "INSERT INTO hosts (name, uri, cluster_id, address, state) VALUES (?, ?, ?, ?, 'up')",
                            (DbValue[]) { DBV_STR(h->name), DBV_STR(h->uri), DBV_UINT(h->cluster_id),
                                          h->address ? DBV_UINT(h->address) : DBV_NULL }, 4, NULL, NULL, NULL);
                if (r == -EEXIST)
                        bus_error_setf(&e, VDESK_ERROR_HOST_EXISTS, "Host %s (%s) is there already", h->name, h->uri);
                else if (r < 0)
                        db_bus_error(m->db, r, &e);
                if (r < 0) {
                        (void) sd_bus_reply_method_error(msg, &e);
                        host_dispose(h);
                        return;
                }
                h->id = db_last_insert_id(m->db);
                h->state_known = h->recorded = h->up = true;
                h->next = m->hosts;
                m->hosts = h;
                log_event(LOG_INFO, MID_HOST_ADDED,
                          "VDESK_HOST=%s", h->name,
                          "VDESK_LIBVIRT_URI=%s", h->uri,
                          "VDESK_CLUSTER=%s", cluster_name(m, h->cluster_id, cname),
                          "VDESK_ACTOR_UID=%u", (unsigned) h->add_actor,
                          "MESSAGE=Host %s (%s) added to cluster %s", h->name, h->uri, cname);
                (void) sd_bus_reply_method_return(msg, NULL);
                (void) sd_bus_emit_signal(m->bus, BROKERD_OBJECT_PATH, BROKERD_INTERFACE, "HostStateChanged", "sss",
                                          h->name, host_state_name(h), "");
                (void) host_sample(h);
                desktops_resync(m, h);
                return;
        }

        va_list ap;
        _cleanup_(freep) char *text = NULL;

        va_start(ap, format);
        if (vasprintf(&text, format, ap) < 0)
                text = NULL;
        va_end(ap);
        (void) sd_bus_reply_method_errorf(msg, error_name, "%s", text ?: "Host unreachable");
        host_dispose(h);
}

AUTHORIZED(remove_host) {
        uint64_t desktops = 0;
        const char *name;
        Host *h;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = bus_error_check_name(error, "name", name);
        if (r < 0)
                return r;
        h = host_by_name(m, name);
        if (!h)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_HOST, "Invalid name: no host '%s'", name);
        if (h == m->local)
                return bus_error_setf(error, VDESK_ERROR_HOST_IN_USE,
                                      "Host %s is the broker's own ([Libvirt] URI=), where templates are built", name);
        r = db_begin(m->db);
        if (r >= 0)
                r = db_exec(m->db, "SELECT COUNT(*) FROM desktops WHERE host_id = ? FOR UPDATE",
                            (DbValue[]) { DBV_UINT(h->id) }, 1, db_row_u64, &desktops, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (desktops > 0) {
                db_rollback(m->db);
                return bus_error_setf(error, VDESK_ERROR_HOST_IN_USE,
                                      "Host %s has %" PRIu64 " desktops defined; delete or move them first", name,
                                      desktops);
        }
        r = db_exec(m->db, "DELETE FROM hosts WHERE id = ?", (DbValue[]) { DBV_UINT(h->id) }, 1, NULL, NULL, NULL);
        if (r >= 0)
                r = db_commit(m->db);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        log_event(LOG_INFO, MID_HOST_REMOVED,
                  "VDESK_HOST=%s", h->name,
                  "VDESK_LIBVIRT_URI=%s", h->uri,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Host %s (%s) removed", h->name, h->uri);
        host_unlink(&m->hosts, h);
        host_dispose(h);
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(set_host_maintenance) {
        const char *name;
        int on, r;
        Host *h;

        r = sd_bus_message_read(msg, "sb", &name, &on);
        if (r >= 0)
                r = bus_error_check_name(error, "name", name);
        if (r < 0)
                return r;
        h = host_by_name(m, name);
        if (!h)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_HOST, "Invalid name: no host '%s'", name);
        r = db_exec(m->db, "UPDATE hosts SET maintenance = ? WHERE id = ?",
                    (DbValue[]) { DBV_UINT(!!on), DBV_UINT(h->id) }, 2, NULL, NULL, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (h->maintenance != !!on) {
                h->maintenance = on;
                log_event(LOG_INFO, MID_HOST_MAINTENANCE,
                          "VDESK_HOST=%s", h->name,
                          "VDESK_MAINTENANCE=%d", !!on,
                          "VDESK_ACTOR_UID=%u", (unsigned) actor,
                          on ? "MESSAGE=Host %s in maintenance: no new desktops go there"
                             : "MESSAGE=Host %s out of maintenance", h->name);
                (void) sd_bus_emit_signal(m->bus, BROKERD_OBJECT_PATH, BROKERD_INTERFACE, "HostStateChanged", "sss",
                                          h->name, host_state_name(h), h->up ? "" : h->reason);
        }
        return sd_bus_reply_method_return(msg, NULL);
}

typedef struct HostCount {
        uint64_t id;
        uint32_t desktops;
} HostCount;

static int host_count_row(char *const *c, unsigned n, void *userdata) {
        HostCount *k = db_rows_push(userdata);

        if (!k)
                return -ENOMEM;
        k->id = strtoull(c[0], NULL, 10);
        k->desktops = (uint32_t) strtoul(c[1], NULL, 10);
        return 0;
}

static int append_host(Manager *m, sd_bus_message *reply, Host *h, const DbRows *counts) {
        char addr[16] = "", cname[64];
        uint32_t desktops = 0, a;

        for (size_t i = 0; i < counts->n; i++)
                if (((HostCount *) counts->items)[i].id == h->id)
                        desktops = ((HostCount *) counts->items)[i].desktops;
        if (host_public_address(h, &a) >= 0)
                ipv4_format(a, addr);
        return sd_bus_message_append(reply, HOST_SIGNATURE, h->name, h->uri, cluster_name(m, h->cluster_id, cname),
                                     addr, host_state_name(h),
                                     h->up ? "" : h->reason, desktops, h->up ? h->load.running : 0,
                                     h->load.node.memory_kib, h->load.free_kib, h->load.committed_kib,
                                     h->load.cpu, h->load.score);
}

/* ListHosts and GetHost */
AUTHORIZED_READ(list_hosts) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        DbRows counts = { .size = sizeof(HostCount) };
        _cleanup_(freep) void *items = NULL;
        bool one = streq(sd_bus_message_get_member(msg), "GetHost");
        const char *name = NULL;
        int r;

        if (one) {
                r = sd_bus_message_read(msg, "s", &name);
                if (r >= 0)
                        r = bus_error_check_name(error, "name", name);
                if (r < 0)
                        return r;
                if (!host_by_name(m, name))
                        return bus_error_setf(error, VDESK_ERROR_NO_SUCH_HOST, "Invalid name: no host '%s'", name);
        }
        r = db_exec(m->db, "SELECT host_id, COUNT(*) FROM desktops WHERE host_id IS NOT NULL GROUP BY host_id", NULL, 0,
                    host_count_row, &counts, NULL);
        items = counts.items;
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (one) {
                if (r >= 0)
                        r = append_host(m, reply, host_by_name(m, name), &counts);
        } else {
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'a', HOST_SIGNATURE);
                /* by name */
                for (const char *last = ""; r >= 0;) {
                        Host *next = NULL;

                        for (Host *h = m->hosts; h; h = h->next)
                                if (strcmp(h->name, last) > 0 && (!next || strcmp(h->name, next->name) < 0))
                                        next = h;
                        if (!next)
                                break;
                        r = append_host(m, reply, next, &counts);
                        last = next->name;
                }
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* Where a new desktop of the category would go, and why; nothing made. */
AUTHORIZED_READ(place_desktop) {
        _cleanup_(freep) char *reason = NULL;
        const char *category;
        uint64_t category_id = 0, cid;
        unsigned memory_mib = m->config.desktop_memory_mib;
        Host *h;
        int r;

        r = sd_bus_message_read(msg, "s", &category);
        if (r < 0)
                return r;
        if (!isempty(category)) {
                uint64_t mem = 0;

                r = bus_error_check_name(error, "category", category);
                if (r < 0)
                        return r;
                r = db_exec(m->db, "SELECT id FROM categories WHERE name = ?", (DbValue[]) { DBV_STR(category) }, 1,
                            db_row_u64, &category_id, NULL);
                if (r >= 0 && category_id)
                        r = db_exec(m->db,
                                    "SELECT t.memory_mib FROM categories c JOIN templates t ON t.id = c.template_id "
                                    "WHERE c.id = ?", (DbValue[]) { DBV_UINT(category_id) }, 1, db_row_u64, &mem, NULL);
                if (r < 0)
                        return db_bus_error(m->db, r, error);
                if (category_id == 0)
                        return bus_error_setf(error, VDESK_ERROR_NO_SUCH_CATEGORY, "Invalid category: no category '%s'",
                                              category);
                if (mem)
                        memory_mib = (unsigned) mem;
        }
        r = cluster_for_category(m, category_id, &cid);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = desktop_host_pick(m, cid, memory_mib, &h, &reason, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "ss", h->name, strempty(reason));
}
