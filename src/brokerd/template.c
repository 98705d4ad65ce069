/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <sys/stat.h>

#include "bus-error.h"
#include "disk-util.h"
#include "domain-xml.h"
#include "host.h"
#include "iso.h"
#include "log.h"
#include "macro.h"
#include "template.h"
#include "util.h"

/* SPICE opens its channels one after the other, each with the ticket:
 * it is voided this long after the first got in. */
#define CONSOLE_VOID_GRACE_USEC (5 * USEC_PER_SEC)
#define TICKET_CHARS 8          /* libvirt's limit for graphics passwords */
#define MIN_TEMPLATE_SIZE (UINT64_C(1) << 20)

void template_done(Template *t) {
        free(t->description);
        free(t->path);
        t->description = t->path = NULL;
}

void template_list_free(Template *t, size_t n) {
        for (size_t i = 0; i < n && t; i++)
                template_done(&t[i]);
        free(t);
}

void console_done(Console *c) {
        free(c->uri);
        free(c->host);
        free(c->vv);
        explicit_bzero(c->ticket, sizeof c->ticket);
        *c = (Console) {};
}

/* The template's object: its state, newest version and file may have
 * changed. */
static void template_changed(Manager *m, const char *name) {
        manager_object_changed(m, OBJECT_TEMPLATE, name, "State", "Version", "Versions", "Path", "ConsoleDomain",
                               NULL);
}

int template_names(Manager *m, char ***ret) {
        return db_column_strv(m->db, "SELECT name FROM templates ORDER BY name", ret);
}

/* ---- reading ----------------------------------------------------------- */

#define TEMPLATE_COLUMNS \
        "t.id, t.name, t.state, t.format, COALESCE(v.version, 0), t.size, t.memory_mib, t.vcpus, t.os_type, " \
        "t.description, " \
        "COALESCE(i.name, ''), COALESCE(v.path, ''), COALESCE(v.format, '') " \
        "FROM templates t LEFT JOIN isos i ON i.id = t.iso_id " \
        "LEFT JOIN template_versions v ON " TEMPLATE_NEWEST_VERSION " "

static int template_row(char *const *c, unsigned n, void *userdata) {
        Template *t = db_rows_push(userdata);

        if (!t)
                return -ENOMEM;
        t->id = strtoull(c[0], NULL, 10);
        snprintf(t->name, sizeof t->name, "%s", c[1]);
        snprintf(t->state, sizeof t->state, "%s", c[2]);
        snprintf(t->format, sizeof t->format, "%s", c[3]);
        t->version = (unsigned) strtoul(c[4], NULL, 10);
        t->size = strtoull(c[5], NULL, 10);
        t->memory_mib = (unsigned) strtoul(c[6], NULL, 10);
        t->vcpus = (unsigned) strtoul(c[7], NULL, 10);
        snprintf(t->os_type, sizeof t->os_type, "%s", c[8]);
        t->description = strdup(c[9]);
        snprintf(t->iso, sizeof t->iso, "%s", c[10]);
        t->path = strdup(c[11]);
        snprintf(t->version_format, sizeof t->version_format, "%s", c[12]);
        return t->description && t->path ? 0 : -ENOMEM;
}

int template_list(Manager *m, Template **ret, size_t *ret_n) {
        DbRows rows = { .size = sizeof(Template) };
        int r;

        r = db_exec(m->db, "SELECT " TEMPLATE_COLUMNS "ORDER BY t.name", NULL, 0, template_row, &rows, NULL);
        if (r < 0) {
                template_list_free(rows.items, rows.n);
                return r;
        }
        *ret = rows.items;
        *ret_n = rows.n;
        return 0;
}

/* FOR UPDATE inside a transaction: the row stays as read until commit. */
static int template_get_full(Manager *m, const char *name, bool lock, Template *ret, sd_bus_error *error) {
        DbRows rows = { .size = sizeof(Template) };
        int r;

        r = bus_error_check_name(error, "name", name);
        if (r < 0)
                return r;
        r = db_exec(m->db, lock ? "SELECT " TEMPLATE_COLUMNS "WHERE t.name = ? FOR UPDATE"
                                : "SELECT " TEMPLATE_COLUMNS "WHERE t.name = ?",
                    (DbValue[]) { DBV_STR(name) }, 1, template_row, &rows, NULL);
        if (r < 0) {
                template_list_free(rows.items, rows.n);
                return db_bus_error(m->db, r, error);
        }
        if (rows.n == 0) {
                free(rows.items);
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_TEMPLATE, "Invalid name: no template '%s'", name);
        }
        *ret = *(Template *) rows.items;
        free(rows.items);
        return 0;
}

int template_get(Manager *m, const char *name, Template *ret, sd_bus_error *error) {
        return template_get_full(m, name, false, ret, error);
}

/* ---- imaged -------------------------------------------------------------- */

/* The path a file-making call of imaged answered with. */
static int reply_path(sd_bus_message *reply, char **ret) {
        const char *path;
        int r;

        r = sd_bus_message_read(reply, "s", &path);
        if (r < 0)
                return r;
        *ret = strdup(path);
        return *ret ? 0 : -ENOMEM;
}

/* Removes a version's file if vdesk made it (imaged refuses others: a
 * registered file stays where its admin put it). */
static void remove_template_file(Manager *m, const char *template, const char *path) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

        if (sd_bus_call_method(m->bus, IMAGED, "RemoveTemplateFile", &e, NULL, "ss", template, path) < 0 &&
            !sd_bus_error_has_names(&e, VDESK_ERROR_PATH_NOT_ALLOWED, VDESK_ERROR_NO_SUCH_DISK))
                log_warning("Cannot remove %s of template %s: %s", path, template, e.message ?: "?");
}

/* ---- consoles -------------------------------------------------------------- */

/* A template's console domains are build@<name> and edit@<name>: '@' is
 * in no desktop's name, so they never clash with a desktop. */
#define DOMAIN_NAME_MAX TEMPLATE_DOMAIN_MAX
#define BUILD "build"
#define EDIT "edit"

static const char *domain_name(char buf[static DOMAIN_NAME_MAX], const char *kind, const char *template) {
        snprintf(buf, DOMAIN_NAME_MAX, "%s@%s", kind, template);
        return buf;
}

/* A template that is not being committed: TemplateBusy while a commit is
 * in flight, or cut short and not yet resumed (CommitTemplate resumes it;
 * so does brokerd when it starts). */
static int template_get_settled(Manager *m, const char *name, Template *ret, sd_bus_error *error) {
        int r;

        r = template_get(m, name, ret, error);
        if (r >= 0 && streq(ret->state, "committing"))
                r = bus_error_setf(error, VDESK_ERROR_TEMPLATE_BUSY, "Template %s is being committed", name);
        return r;
}

const char *template_console_domain(const Template *t, char buf[static TEMPLATE_DOMAIN_MAX]) {
        if (streq(t->state, "building"))
                return domain_name(buf, BUILD, t->name);
        if (streq(t->state, "editing"))
                return domain_name(buf, EDIT, t->name);
        return NULL;
}

/* TICKET_CHARS characters, 5 random bits each, from an alphabet without
 * look-alikes. */
static int make_ticket(char ret[static TICKET_CHARS + 1]) {
        static const char alphabet[32] = "abcdefghjkmnpqrstuvwxyz23456789A";
        uint8_t raw[TICKET_CHARS];
        int r;

        r = random_bytes(raw, sizeof raw);
        if (r < 0)
                return r;
        for (size_t i = 0; i < TICKET_CHARS; i++)
                ret[i] = alphabet[raw[i] & 31];
        ret[TICKET_CHARS] = 0;
        explicit_bzero(raw, sizeof raw);
        return 0;
}

/* Sets the SPICE password of a running domain, valid until valid_to. */
static int set_ticket(Manager *m, const char *domain, const char *ticket, uint64_t valid_to, unsigned *ret_port,
                      char **ret_listen, sd_bus_error *error) {
        _cleanup_(freep) char *xml = NULL, *gxml = NULL, *e = NULL, *listen = NULL;
        unsigned port;
        int r;

        r = virt_domain_get_xml(m->virt, domain, false, &xml, &e);
        if (r < 0)
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot read domain %s: %s", domain,
                                      e ?: strerror(-r));
        r = spice_ticket_xml_build(xml, ticket, valid_to, &gxml, &port, &listen);
        if (r == -ENOENT)
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Domain %s has no SPICE console", domain);
        if (r < 0)
                return r;
        r = virt_domain_update_device(m->virt, domain, gxml, &e);
        explicit_bzero(gxml, strlen(gxml));
        if (r < 0)
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "libvirt refused the console ticket of %s: %s",
                                      domain, strempty(e));
        if (ret_port)
                *ret_port = port;
        if (ret_listen)
                *ret_listen = TAKE_PTR(listen);
        return 0;
}

static int console_issue(Manager *m, const Template *t, const char *domain, uid_t actor, Console *ret,
                         sd_bus_error *error) {
        _cleanup_(console_done) Console c = {};
        _cleanup_(freep) char *e = NULL;
        uint64_t now = now_realtime_usec();
        char until[64];
        int r;

        manager_push_actor(m, domain, actor);
        r = virt_domain_start(m->virt, domain, &e);
        if (r < 0) {
                (void) manager_pop_actor(m, domain);
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot start %s: %s", domain, strempty(e));
        }
        if (r == 0)
                (void) manager_pop_actor(m, domain);    /* it was running */

        r = make_ticket(c.ticket);
        if (r < 0)
                return r;
        c.valid_until_usec = now + (uint64_t) m->config.console_ticket_sec * USEC_PER_SEC;
        r = set_ticket(m, domain, c.ticket, c.valid_until_usec / USEC_PER_SEC, &c.port, &c.host, error);
        if (r < 0)
                return r;
        if (asprintf(&c.uri, "spice://%s:%u", c.host, c.port) < 0 ||
            asprintf(&c.vv,
                     "[virt-viewer]\n"
                     "type=spice\n"
                     "host=%s\n"
                     "port=%u\n"
                     "password=%s\n"
                     "delete-this-file=1\n"
                     "title=vdesk: %s template %s\n"
                     "release-cursor=shift+f12\n",
                     c.host, c.port, c.ticket, streq(t->state, "building") ? "building" : "editing", t->name) < 0)
                return -ENOMEM;

        format_timestamp_utc(c.valid_until_usec, until, sizeof until);
        log_event(LOG_INFO, MID_CONSOLE_TICKET,
                  "VDESK_TEMPLATE=%s", t->name,
                  "VDESK_DOMAIN=%s", domain,
                  "VDESK_VALID_UNTIL=%s", until,
                  "VDESK_CONSOLE=%s", c.uri,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Console ticket for %s (%s) issued, valid until %s", domain, c.uri, until);
        *ret = c;
        c = (Console) {};
        return 0;
}

int template_console(Manager *m, const char *name, uid_t actor, Console *ret, sd_bus_error *error) {
        _cleanup_(template_done) Template t = {};
        char buf[DOMAIN_NAME_MAX];
        const char *domain;
        int r;

        r = template_get_settled(m, name, &t, error);
        if (r < 0)
                return r;
        domain = template_console_domain(&t, buf);
        if (!domain)
                return bus_error_setf(error, VDESK_ERROR_NO_EDIT,
                                      "Template %s is neither being built nor edited: it has no console", name);
        if (!virt_is_connected(m->virt))
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Not connected to %s", m->config.libvirt_uri);
        return console_issue(m, &t, domain, actor, ret, error);
}

/* A ticket that got somebody in is voided after a grace period. */
typedef struct ConsoleVoid {
        Manager *manager;
        char *domain;
        char *client;
        sd_event_source *timer;
        struct ConsoleVoid *next;
} ConsoleVoid;

static void console_void_free(Manager *m, ConsoleVoid *v) {
        for (ConsoleVoid **p = &m->console_voids; *p; p = &(*p)->next)
                if (*p == v) {
                        *p = v->next;
                        break;
                }
        sd_event_source_disable_unref(v->timer);
        free(v->domain);
        free(v->client);
        free(v);
}

void template_console_voids_free(Manager *m) {
        while (m->console_voids)
                console_void_free(m, m->console_voids);
}

static int on_console_void(sd_event_source *s, uint64_t usec, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        ConsoleVoid *v = userdata;
        Manager *m = v->manager;
        char ticket[TICKET_CHARS + 1];

        /* A new password nobody knows, expired already: whoever is in
         * stays (connected='keep'), nobody else gets in. */
        if (make_ticket(ticket) >= 0 && set_ticket(m, v->domain, ticket, 1, NULL, NULL, &e) >= 0)
                log_event(LOG_INFO, MID_CONSOLE_TICKET,
                          "VDESK_DOMAIN=%s", v->domain,
                          "VDESK_CLIENT_ADDRESS=%s", v->client,
                          "MESSAGE=Console of %s opened from %s; its ticket is void now", v->domain, v->client);
        else
                log_warning("Cannot void the console ticket of %s: %s", v->domain, e.message ?: "?");
        explicit_bzero(ticket, sizeof ticket);
        console_void_free(m, v);
        return 0;
}

void template_console_used(Manager *m, const char *domain, const char *client) {
        ConsoleVoid *v;

        if (!startswith(domain, BUILD "@") && !startswith(domain, EDIT "@"))
                return;
        for (v = m->console_voids; v; v = v->next)
                if (streq(v->domain, domain))
                        return;         /* another channel of the same client */
        v = new0(ConsoleVoid, 1);
        if (!v)
                return (void) log_oom();
        v->manager = m;
        v->domain = strdup(domain);
        v->client = strdup(strempty(client));
        if (!v->domain || !v->client ||
            sd_event_add_time_relative(m->event, &v->timer, CLOCK_MONOTONIC, CONSOLE_VOID_GRACE_USEC, 0,
                                       on_console_void, v) < 0) {
                free(v->domain);
                free(v->client);
                free(v);
                return (void) log_warning("Cannot schedule voiding the console ticket of %s", domain);
        }
        v->next = m->console_voids;
        m->console_voids = v;
}

/* ---- registering and building -------------------------------------------- */

int template_register(Manager *m, const char *name, const char *path, uid_t actor, sd_bus_error *error) {
        DiskFormat fmt;
        uint64_t id;
        int r;

        r = bus_error_check_name(error, "name", name);
        if (r < 0)
                return r;
        /* The file is imaged's to read (the broker may not enter the
         * template directory): it checks the path and reads the format. */
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                const char *format;

                r = sd_bus_call_method(m->bus, IMAGED, "InspectTemplate", error, &reply, "s", path);
                if (r >= 0)
                        r = sd_bus_message_read(reply, "s", &format);
                if (r < 0)
                        return r;
                fmt = disk_format_from_string(format);
                if (fmt < 0)
                        return bus_error_setf(error, SD_BUS_ERROR_FAILED, "imaged named an unknown format '%s'",
                                              format);
        }

        r = db_begin(m->db);
        if (r >= 0)
                r = db_exec(m->db, "INSERT INTO templates (name, format, state) VALUES (?, ?, 'installed')",
                            (DbValue[]) { DBV_STR(name), DBV_STR(disk_format_to_string(fmt)) }, 2, NULL, NULL, NULL);
        if (r >= 0) {
                id = db_last_insert_id(m->db);
                r = db_exec(m->db,
                            "INSERT INTO template_versions (template_id, version, path, format) VALUES (?, 1, ?, ?)",
                            (DbValue[]) { DBV_UINT(id), DBV_STR(path), DBV_STR(disk_format_to_string(fmt)) }, 3,
                            NULL, NULL, NULL);
        }
        if (r >= 0)
                r = db_commit(m->db);
        if (r == -EEXIST) {
                bool by_path = streq(db_error_key(m->db), "path");

                db_rollback(m->db);
                return bus_error_setf(error, VDESK_ERROR_TEMPLATE_EXISTS, "A template with this %s exists already",
                                      by_path ? "path" : "name");
        }
        if (r < 0)
                return db_bus_error(m->db, r, error);

        log_event(LOG_INFO, MID_TEMPLATE_REGISTERED,
                  "VDESK_TEMPLATE=%s", name,
                  "VDESK_TEMPLATE_PATH=%s", path,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Template %s registered (%s, %s)", name, path, disk_format_to_string(fmt));
        manager_object_added(m, OBJECT_TEMPLATE, name);
        return 0;
}

static int check_spec(Manager *m, const TemplateSpec *s, uint64_t *ret_size, sd_bus_error *error) {
        uint64_t max = (uint64_t) m->config.max_template_gib << 30, size;
        int r;

        r = bus_error_check_name(error, "name", s->name);
        if (r < 0)
                return r;
        if (s->size <= 0)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid size: %" PRIi64 " is not above 0",
                                      s->size);
        if ((uint64_t) s->size > max)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                      "Invalid size: %" PRIi64 " bytes is beyond [Images] MaxTemplateGiB=%u",
                                      s->size, m->config.max_template_gib);
        if ((uint64_t) s->size < MIN_TEMPLATE_SIZE)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid size: %" PRIi64 " is below 1 MiB",
                                      s->size);
        /* whole MiB: what every disk format and bus takes */
        size = ((uint64_t) s->size + MIN_TEMPLATE_SIZE - 1) & ~(MIN_TEMPLATE_SIZE - 1);
        if (disk_format_from_string(s->format) < 0)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid format: '%s' is neither qcow2 nor raw",
                                      s->format);
        if (s->memory_mib < 64 || s->memory_mib > (1u << 20))
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                      "Invalid memory_mib: %u is not within 64-1048576", s->memory_mib);
        if (s->vcpus < 1 || s->vcpus > 256)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid vcpus: %u is not within 1-256",
                                      s->vcpus);
        r = bus_error_check_text(error, "description", s->description, 1024);
        if (r >= 0 && !isempty(s->os_type))
                r = bus_error_check_name(error, "os_type", s->os_type);
        if (r < 0)
                return r;
        *ret_size = size;
        return 0;
}

/* Defines and starts a console domain; undoes the define on failure. What
 * every console domain has is filled in here: the host's desktop network,
 * the accelerator, the serial console's log, and a SPICE password nobody
 * knows, already expired (tickets are set on the running domain). */
static int console_domain_up(Manager *m, ConsoleDomainSpec *spec, uid_t actor, sd_bus_error *error) {
        _cleanup_(freep) char *xml = NULL, *e = NULL, *log = NULL;
        char password[TICKET_CHARS + 1];
        int r;

        if (asprintf(&log, "%s/%s.log", m->console_log_dir, spec->name) < 0)
                return -ENOMEM;
        r = make_ticket(password);
        if (r < 0)
                return r;
        spec->console_log = log;
        spec->network = m->config.network_name;
        spec->kvm = host_use_kvm(m->local);
        spec->password = password;
        r = console_domain_xml_build(spec, &xml);
        explicit_bzero(password, sizeof password);
        if (r < 0)
                return r;
        r = virt_domain_define(m->virt, xml, &e);
        if (r < 0)
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "libvirt refused domain %s: %s", spec->name,
                                      strempty(e));
        manager_push_actor(m, spec->name, actor);
        r = virt_domain_start(m->virt, spec->name, &e);
        if (r < 0) {
                _cleanup_(freep) char *e2 = NULL;

                (void) manager_pop_actor(m, spec->name);
                (void) virt_domain_undefine(m->virt, spec->name, &e2);
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot start %s: %s", spec->name, strempty(e));
        }
        return 0;
}

/* Stops (force: at once; else only if it is not running) and undefines a
 * console domain; one that is gone already is fine. */
static int console_domain_down(Manager *m, const char *domain, bool force, sd_bus_error *error) {
        _cleanup_(freep) char *e = NULL;
        VirtDomainState state;
        int r;

        r = virt_domain_get_state(m->virt, domain, &state);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot look up domain %s", domain);
        if (state == VIRT_DOMAIN_RUNNING) {
                if (!force)
                        return bus_error_setf(error, VDESK_ERROR_TEMPLATE_RUNNING,
                                              "Domain %s is still running: shut its system down first, or force",
                                              domain);
                r = virt_domain_stop(m->virt, domain, true, &e);
                if (r < 0)
                        return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot stop %s: %s", domain, strempty(e));
        }
        r = virt_domain_undefine(m->virt, domain, &e);
        if (r < 0 && r != -ENOENT)
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot undefine %s: %s", domain, strempty(e));
        return 0;
}

static int console_listen_address(Manager *m, char buf[static 16], sd_bus_error *error) {
        uint32_t a;

        if (manager_public_address(m, &a) < 0)
                return bus_error_setf(error, VDESK_ERROR_NOT_READY,
                                      "This host has no address for consoles; set [Forward] PublicAddress=");
        ipv4_format(a, buf);
        return 0;
}

/* A new template's name is free: no template of it, being built or not,
 * and no domain of its build's name. */
static int build_check_name_free(Manager *m, const char *name, const char *domain, sd_bus_error *error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(template_done) Template t = {};
        int r;

        if (template_get(m, name, &t, &e) >= 0) {
                if (streq(t.state, "building"))
                        return bus_error_setf(error, VDESK_ERROR_TEMPLATE_BUSY,
                                              "Invalid name: template %s is being built already", name);
                return bus_error_setf(error, VDESK_ERROR_TEMPLATE_EXISTS, "Invalid name: template %s exists already",
                                      name);
        }
        if (!sd_bus_error_has_name(&e, VDESK_ERROR_NO_SUCH_TEMPLATE))
                return sd_bus_error_copy(error, &e);
        r = virt_domain_exists(m->virt, domain);
        if (r != 0)
                return bus_error_setf(error, VDESK_ERROR_TEMPLATE_BUSY, "Invalid name: a domain %s exists already",
                                      domain);
        return 0;
}

/* Opens the transaction the build's start commits: the template's row
 * (building) and its first version's, on the empty disk imaged makes for
 * it. On failure, nothing stays: no row, no disk. */
static int build_record(Manager *m, const TemplateSpec *spec, uint64_t size, uint64_t iso_id, char **ret_disk,
                        sd_bus_error *error) {
        _cleanup_(freep) char *disk = NULL;
        uint64_t id;
        int r;

        r = db_begin(m->db);
        if (r >= 0)
                r = db_exec(m->db,
                            "INSERT INTO templates (name, format, state, size, memory_mib, vcpus, os_type, "
                            "description, iso_id) VALUES (?, ?, 'building', ?, ?, ?, ?, ?, ?)",
                            (DbValue[]) { DBV_STR(spec->name), DBV_STR(spec->format), DBV_UINT(size),
                                          DBV_UINT(spec->memory_mib), DBV_UINT(spec->vcpus), DBV_STR(spec->os_type),
                                          DBV_STR(spec->description), DBV_UINT(iso_id) }, 8,
                            NULL, NULL, NULL);
        if (r == -EEXIST) {
                db_rollback(m->db);
                return bus_error_setf(error, VDESK_ERROR_TEMPLATE_EXISTS, "Invalid name: template %s exists already",
                                      spec->name);
        }
        if (r < 0)
                return db_bus_error(m->db, r, error);
        id = db_last_insert_id(m->db);

        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

                r = sd_bus_call_method(m->bus, IMAGED, "CreateTemplateDisk", error, &reply, "sst", spec->name,
                                       spec->format, size);
                if (r >= 0)
                        r = reply_path(reply, &disk);
        }
        if (r < 0) {
                db_rollback(m->db);
                return r;
        }
        r = db_exec(m->db, "INSERT INTO template_versions (template_id, version, path, format) VALUES (?, 1, ?, ?)",
                    (DbValue[]) { DBV_UINT(id), DBV_STR(disk), DBV_STR(spec->format) }, 3, NULL, NULL, NULL);
        if (r < 0) {
                r = db_bus_error(m->db, r, error);
                remove_template_file(m, spec->name, disk);
                return r;
        }
        *ret_disk = TAKE_PTR(disk);
        return 0;
}

/* The build domain on the disk, booting the ISO, then the rows committed:
 * both or neither (nor the disk). */
static int build_start(Manager *m, const TemplateSpec *spec, const char *domain, const char *disk,
                       const char *iso_path, const char *listen, uid_t actor, sd_bus_error *error) {
        int r;

        r = console_domain_up(m, &(ConsoleDomainSpec) {
                .name = domain,
                .title = "vdesk template build",
                .disk_path = disk,
                .disk_format = spec->format,
                .iso_path = iso_path,
                .memory_mib = spec->memory_mib,
                .vcpus = spec->vcpus,
                .listen = listen,
        }, actor, error);
        if (r >= 0)
                r = db_commit(m->db);
        if (r < 0) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                (void) console_domain_down(m, domain, true, &e);
                db_rollback(m->db);
                remove_template_file(m, spec->name, disk);
                if (!sd_bus_error_is_set(error))
                        return db_bus_error(m->db, r, error);
                return r;
        }
        return 0;
}

int template_create(Manager *m, const TemplateSpec *spec, uid_t actor, Console *ret, sd_bus_error *error) {
        _cleanup_(freep) char *iso_path = NULL, *disk = NULL;
        _cleanup_(template_done) Template t = {};
        char domain[DOMAIN_NAME_MAX], listen[16];
        uint64_t size = 0, iso_id = 0;
        int r;

        r = check_spec(m, spec, &size, error);
        if (r >= 0)
                r = iso_lookup(m, spec->iso, &iso_path, &iso_id, error);
        if (r < 0)
                return r;
        if (!virt_is_connected(m->virt))
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Not connected to %s", m->config.libvirt_uri);
        r = console_listen_address(m, listen, error);
        if (r < 0)
                return r;

        domain_name(domain, BUILD, spec->name);
        r = build_check_name_free(m, spec->name, domain, error);
        if (r >= 0)
                r = build_record(m, spec, size, iso_id, &disk, error);
        if (r >= 0)
                r = build_start(m, spec, domain, disk, iso_path, listen, actor, error);
        if (r < 0)
                return r;

        log_event(LOG_INFO, MID_TEMPLATE_BUILD_STARTED,
                  "VDESK_TEMPLATE=%s", spec->name,
                  "VDESK_ISO=%s", spec->iso,
                  "VDESK_TEMPLATE_PATH=%s", disk,
                  "VDESK_DOMAIN=%s", domain,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Template %s: build from %s begun in %s (%s, %" PRIu64 " bytes)", spec->name, spec->iso,
                  domain, spec->format, size);
        manager_object_added(m, OBJECT_TEMPLATE, spec->name);

        r = template_get(m, spec->name, &t, error);
        if (r < 0)
                return r;
        return console_issue(m, &t, domain, actor, ret, error);
}

int template_finish(Manager *m, const char *name, bool force, uid_t actor, sd_bus_error *error) {
        _cleanup_(template_done) Template t = {};
        char domain[DOMAIN_NAME_MAX];
        int r;

        r = template_get(m, name, &t, error);
        if (r < 0)
                return r;
        if (!streq(t.state, "building"))
                return bus_error_setf(error, VDESK_ERROR_NO_EDIT, "Template %s is not being built (%s)", name, t.state);
        if (!virt_is_connected(m->virt))
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Not connected to %s", m->config.libvirt_uri);
        domain_name(domain, BUILD, name);
        r = console_domain_down(m, domain, force, error);
        if (r < 0)
                return r;
        r = db_exec(m->db, "UPDATE templates SET state = 'installed' WHERE id = ?",
                    (DbValue[]) { DBV_UINT(t.id) }, 1, NULL, NULL, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        log_event(LOG_INFO, MID_TEMPLATE_INSTALLED,
                  "VDESK_TEMPLATE=%s", name,
                  "VDESK_TEMPLATE_VERSION=1",
                  "VDESK_TEMPLATE_PATH=%s", t.path,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Template %s installed: version 1 is %s", name, t.path);
        template_changed(m, name);
        return 0;
}

/* ---- editing --------------------------------------------------------------- */

int template_edit(Manager *m, const char *name, const char *iso, uid_t actor, Console *ret, sd_bus_error *error) {
        _cleanup_(freep) char *iso_path = NULL, *overlay = NULL;
        _cleanup_(template_done) Template t = {};
        char domain[DOMAIN_NAME_MAX], listen[16];
        uint64_t iso_id;
        int r;

        r = template_get(m, name, &t, error);
        if (r < 0)
                return r;
        if (!isempty(iso)) {
                r = iso_lookup(m, iso, &iso_path, &iso_id, error);
                if (r < 0)
                        return r;
        }
        if (!streq(t.state, "installed"))
                return bus_error_setf(error, VDESK_ERROR_TEMPLATE_BUSY, "Template %s is %s: no edit now", name,
                                      streq(t.state, "editing") ? "being edited already" : "being built");
        if (!virt_is_connected(m->virt))
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Not connected to %s", m->config.libvirt_uri);
        r = console_listen_address(m, listen, error);
        if (r < 0)
                return r;
        domain_name(domain, EDIT, name);
        if (virt_domain_exists(m->virt, domain) != 0)
                return bus_error_setf(error, VDESK_ERROR_TEMPLATE_BUSY, "A domain %s exists already", domain);

        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

                r = sd_bus_call_method(m->bus, IMAGED, "BeginTemplateEdit", error, &reply, "sss", name, t.path,
                                       t.version_format);
                if (r >= 0)
                        r = reply_path(reply, &overlay);
                if (r < 0)
                        return r;
        }
        r = console_domain_up(m, &(ConsoleDomainSpec) {
                .name = domain,
                .title = "vdesk template edit",
                .disk_path = overlay,
                .disk_format = "qcow2",
                .backing_path = t.path,
                .backing_format = t.version_format,
                .iso_path = iso_path,
                .memory_mib = t.memory_mib ?: m->config.desktop_memory_mib,
                .vcpus = t.vcpus ?: m->config.desktop_vcpus,
                .listen = listen,
        }, actor, error);
        if (r >= 0) {
                r = db_exec(m->db, "UPDATE templates SET state = 'editing' WHERE id = ?",
                            (DbValue[]) { DBV_UINT(t.id) }, 1, NULL, NULL, NULL);
                if (r < 0) {
                        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                        r = db_bus_error(m->db, r, error);
                        (void) console_domain_down(m, domain, true, &e);
                }
        }
        if (r < 0) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                (void) sd_bus_call_method(m->bus, IMAGED, "DiscardTemplateEdit", &e, NULL, "s", name);
                return r;
        }
        log_event(LOG_INFO, MID_TEMPLATE_EDIT_STARTED,
                  "VDESK_TEMPLATE=%s", name,
                  "VDESK_TEMPLATE_VERSION=%u", t.version,
                  "VDESK_DOMAIN=%s", domain,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Template %s: edit of version %u begun in %s", name, t.version, domain);
        template_changed(m, name);
        snprintf(t.state, sizeof t.state, "editing");
        return console_issue(m, &t, domain, actor, ret, error);
}

/* An edit's state and domain, checked before it is committed or dropped.
 * A commit cut short (committing, but not in flight here) may be committed
 * again, nothing else. */
static int edit_get(Manager *m, const char *name, bool commit, Template *t, char domain[static DOMAIN_NAME_MAX],
                    sd_bus_error *error) {
        int r;

        /* only a commit may find it committing, and not one in flight */
        if (!commit || strv_contains(m->busy_templates, name))
                r = template_get_settled(m, name, t, error);
        else
                r = template_get(m, name, t, error);
        if (r < 0)
                return r;
        if (!streq(t->state, "editing") && !streq(t->state, "committing"))
                return bus_error_setf(error, VDESK_ERROR_NO_EDIT, "Template %s has no edit open", name);
        if (!virt_is_connected(m->virt))
                return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Not connected to %s", m->config.libvirt_uri);
        domain_name(domain, EDIT, name);
        return 0;
}

int template_discard(Manager *m, const char *name, bool force, uid_t actor, sd_bus_error *error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(template_done) Template t = {};
        char domain[DOMAIN_NAME_MAX];
        int r;

        r = edit_get(m, name, false, &t, domain, error);
        if (r >= 0)
                r = console_domain_down(m, domain, force, error);
        if (r < 0)
                return r;
        r = sd_bus_call_method(m->bus, IMAGED, "DiscardTemplateEdit", &e, NULL, "s", name);
        if (r < 0 && !sd_bus_error_has_name(&e, VDESK_ERROR_NO_EDIT))
                return sd_bus_error_copy(error, &e);
        r = db_exec(m->db, "UPDATE templates SET state = 'installed' WHERE id = ?", (DbValue[]) { DBV_UINT(t.id) }, 1,
                    NULL, NULL, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        log_event(LOG_INFO, MID_TEMPLATE_EDIT_DISCARDED,
                  "VDESK_TEMPLATE=%s", name,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Template %s: edit discarded, version %u stays the newest", name, t.version);
        template_changed(m, name);
        return 0;
}

/* ---- versions ---------------------------------------------------------------- */

void template_versions_free(TemplateVersion *v, size_t n) {
        for (size_t i = 0; i < n && v; i++) {
                free(v[i].path);
                strv_free(v[i].desktops);
        }
        free(v);
}

/* Rows (version, path, created, desktop or NULL) ordered by version: one
 * item per version, its desktops gathered. */
static int version_row(char *const *c, unsigned n, void *userdata) {
        DbRows *rows = userdata;
        TemplateVersion *v = rows->n > 0 ? (TemplateVersion *) rows->items + rows->n - 1 : NULL;
        unsigned version = (unsigned) strtoul(c[0], NULL, 10);

        if (!v || v->version != version) {
                v = db_rows_push(rows);
                if (!v)
                        return -ENOMEM;
                v->version = version;
                v->created_usec = strtoull(c[2], NULL, 10) * USEC_PER_SEC;
                v->path = strdup(c[1]);
                v->desktops = new0(char *, 1);
                if (!v->path || !v->desktops)
                        return -ENOMEM;
        }
        return c[3] ? strv_extend(&v->desktops, c[3]) : 0;
}

/* A template's versions, each with the desktops derived from it. */
static int versions_of(Manager *m, uint64_t template_id, TemplateVersion **ret, size_t *ret_n) {
        DbRows rows = { .size = sizeof(TemplateVersion) };
        int r;

        r = db_exec(m->db,
                    "SELECT v.version, v.path, UNIX_TIMESTAMP(v.created_at), d.name FROM template_versions v "
                    "LEFT JOIN desktops d ON d.template_version_id = v.id WHERE v.template_id = ? "
                    "ORDER BY v.version, d.name",
                    (DbValue[]) { DBV_UINT(template_id) }, 1, version_row, &rows, NULL);
        if (r < 0) {
                template_versions_free(rows.items, rows.n);
                return r;
        }
        *ret = rows.items;
        *ret_n = rows.n;
        return 0;
}

int template_versions(Manager *m, const char *name, TemplateVersion **ret, size_t *ret_n, sd_bus_error *error) {
        _cleanup_(template_done) Template t = {};
        int r;

        r = template_get(m, name, &t, error);
        if (r < 0)
                return r;
        r = versions_of(m, t.id, ret, ret_n);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        return 0;
}

/* Removes the versions below the newest that no desktop is derived from. */
static int prune_versions(Manager *m, const Template *t, uid_t actor, uint32_t **ret_versions, size_t *ret_n) {
        TemplateVersion *v = NULL;
        uint32_t *removed = NULL;
        size_t n_versions = 0, n = 0;
        int r;

        r = versions_of(m, t->id, &v, &n_versions);
        if (r < 0)
                return r;
        removed = new0(uint32_t, n_versions + 1);
        if (!removed) {
                template_versions_free(v, n_versions);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n_versions; i++) {
                if (v[i].version >= t->version || v[i].desktops[0])
                        continue;
                /* The row first: should removing the file fail, no desktop
                 * can be derived from a half-removed version. A desktop
                 * created meanwhile holds the row (ON DELETE RESTRICT). */
                r = db_exec(m->db, "DELETE FROM template_versions WHERE template_id = ? AND version = ?",
                            (DbValue[]) { DBV_UINT(t->id), DBV_UINT(v[i].version) }, 2, NULL, NULL, NULL);
                if (r < 0) {
                        log_warning("Version %u of %s stays: %s", v[i].version, t->name, db_error(m->db));
                        continue;
                }
                remove_template_file(m, t->name, v[i].path);
                removed[n++] = v[i].version;
                log_event(LOG_INFO, MID_TEMPLATE_VERSION_REMOVED,
                          "VDESK_TEMPLATE=%s", t->name,
                          "VDESK_TEMPLATE_VERSION=%u", v[i].version,
                          "VDESK_TEMPLATE_PATH=%s", v[i].path,
                          "VDESK_ACTOR_UID=%u", (unsigned) actor,
                          "MESSAGE=Template %s: version %u removed (%s), no desktop used it", t->name,
                          v[i].version, v[i].path);
        }
        template_versions_free(v, n_versions);
        if (ret_versions) {
                *ret_versions = removed;
                *ret_n = n;
        } else
                free(removed);
        return 0;
}

int template_prune(Manager *m, const char *name, uid_t actor, uint32_t **ret_versions, size_t *ret_n,
                   sd_bus_error *error) {
        _cleanup_(template_done) Template t = {};
        int r;

        r = template_get_settled(m, name, &t, error);
        if (r < 0)
                return r;
        r = prune_versions(m, &t, actor, ret_versions, ret_n);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        manager_object_changed(m, OBJECT_TEMPLATE, name, "Versions", NULL);
        return 0;
}

typedef struct CommitRequest {
        Manager *manager;
        sd_bus_message *msg;
        sd_bus_slot *slot;
        Template template;
        uid_t actor;
} CommitRequest;

static void commit_request_free(CommitRequest *c) {
        strv_remove(c->manager->busy_templates, c->template.name);
        sd_bus_slot_unref(c->slot);
        sd_bus_message_unref(c->msg);
        template_done(&c->template);
        free(c);
}

/* A commit that did not happen: the edit is open again, as it was. */
static void commit_failed(CommitRequest *c, const sd_bus_error *e) {
        Manager *m = c->manager;

        if (db_exec(m->db, "UPDATE templates SET state = 'editing' WHERE id = ? AND state = 'committing'",
                    (DbValue[]) { DBV_UINT(c->template.id) }, 1, NULL, NULL, NULL) < 0)
                log_warning("Template %s stays 'committing' (a later commit resumes it): %s", c->template.name,
                            db_error(m->db));
        else
                template_changed(m, c->template.name);
        log_warning("Template %s: the commit of version %u failed, the edit is kept: %s", c->template.name,
                    c->template.version + 1, e->message);
        if (c->msg)
                (void) sd_bus_reply_method_error(c->msg, e);
}

static int on_committed(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        CommitRequest *c = userdata;
        Manager *m = c->manager;
        Template *t = &c->template;
        unsigned version = t->version + 1;
        const char *path;
        char domain[DOMAIN_NAME_MAX];
        int r;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                commit_failed(c, sd_bus_message_get_error(reply));
                goto out;
        }
        r = sd_bus_message_read(reply, "s", &path);
        if (r < 0) {
                (void) sd_bus_error_set_errno(&e, r);
                commit_failed(c, &e);
                goto out;
        }

        r = db_begin(m->db);
        if (r >= 0)
                r = db_exec(m->db, "INSERT INTO template_versions (template_id, version, path, format) "
                            "VALUES (?, ?, ?, ?)",
                            (DbValue[]) { DBV_UINT(t->id), DBV_UINT(version), DBV_STR(path), DBV_STR(t->format) }, 4,
                            NULL, NULL, NULL);
        if (r >= 0)
                r = db_exec(m->db, "UPDATE templates SET state = 'installed' WHERE id = ?",
                            (DbValue[]) { DBV_UINT(t->id) }, 1, NULL, NULL, NULL);
        if (r >= 0)
                r = db_commit(m->db);
        if (r < 0) {
                /* The version's file is there: the template stays
                 * 'committing', and committing again records it. */
                (void) db_bus_error(m->db, r, &e);
                log_warning("Template %s: version %u is made (%s) but not recorded: %s", t->name, version, path,
                            e.message);
                if (c->msg)
                        (void) sd_bus_reply_method_error(c->msg, &e);
                goto out;
        }
        domain_name(domain, EDIT, t->name);
        if (console_domain_down(m, domain, true, &e) < 0)
                log_warning("Template %s committed, but %s stays defined: %s", t->name, domain, e.message);

        log_event(LOG_INFO, MID_TEMPLATE_COMMITTED,
                  "VDESK_TEMPLATE=%s", t->name,
                  "VDESK_TEMPLATE_VERSION=%u", version,
                  "VDESK_TEMPLATE_PATH=%s", path,
                  "VDESK_ACTOR_UID=%u", (unsigned) c->actor,
                  "MESSAGE=Template %s: edit committed as version %u (%s)", t->name, version, path);
        t->version = version;
        if (prune_versions(m, t, c->actor, NULL, NULL) < 0)
                log_warning("Cannot remove the unused versions of %s: %s", t->name, db_error(m->db));
        /* after the pruning: Versions as it stays */
        template_changed(m, t->name);
        if (c->msg)
                (void) sd_bus_reply_method_return(c->msg, "u", version);
out:
        commit_request_free(c);
        return 0;
}

int template_commit_begin(Manager *m, sd_bus_message *msg, const char *name, bool force, uid_t actor,
                          sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        CommitRequest *c;
        char domain[DOMAIN_NAME_MAX];
        bool marked = false;
        int r;

        c = new0(CommitRequest, 1);
        if (!c)
                return -ENOMEM;
        c->manager = m;
        c->actor = actor;
        r = edit_get(m, name, true, &c->template, domain, error);
        if (r >= 0) {
                /* The edit domain must not write while the overlay is read:
                 * stopped (by force if asked), but kept defined, so that a
                 * failed commit leaves the edit as it was. */
                _cleanup_(freep) char *e = NULL;
                VirtDomainState state;

                if (virt_domain_get_state(m->virt, domain, &state) >= 0 && state == VIRT_DOMAIN_RUNNING) {
                        if (!force)
                                r = bus_error_setf(error, VDESK_ERROR_TEMPLATE_RUNNING,
                                                   "Domain %s is still running: shut its system down first, or force",
                                                   domain);
                        else if (virt_domain_stop(m->virt, domain, true, &e) < 0)
                                r = bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Cannot stop %s: %s", domain,
                                                   strempty(e));
                }
        }
        /* Recorded before it begins: a commit cut short (brokerd stopped
         * meanwhile) is resumed, not forgotten. */
        if (r >= 0 && !streq(c->template.state, "committing")) {
                r = db_exec(m->db, "UPDATE templates SET state = 'committing' WHERE id = ?",
                            (DbValue[]) { DBV_UINT(c->template.id) }, 1, NULL, NULL, NULL);
                if (r < 0)
                        r = db_bus_error(m->db, r, error);
                else {
                        marked = true;
                        template_changed(m, name);
                }
        }
        if (r >= 0)
                r = sd_bus_message_new_method_call(m->bus, &call, IMAGED, "CommitTemplateEdit");
        if (r >= 0)
                r = sd_bus_message_append(call, "sus", name, c->template.version + 1, c->template.format);
        if (r >= 0)
                r = sd_bus_call_async(m->bus, &c->slot, call, on_committed, c, TEMPLATE_COMMIT_WAIT_USEC);
        if (r >= 0)
                r = strv_extend(&m->busy_templates, name);
        if (r < 0) {
                /* Marked here, not begun: as it was. One cut short earlier
                 * stays so, to be resumed. */
                if (marked) {
                        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                        (void) sd_bus_error_set_errno(&e, r);
                        commit_failed(c, &e);
                }
                sd_bus_slot_unref(c->slot);
                template_done(&c->template);
                free(c);
                return r;
        }
        c->msg = sd_bus_message_ref(msg);
        return 0;
}

void template_commits_resume(Manager *m) {
        _cleanup_(strv_freep) char **names = NULL;
        DbRows rows = { .size = sizeof(char *) };
        int r;

        r = db_exec(m->db, "SELECT name FROM templates WHERE state = 'committing' ORDER BY name", NULL, 0,
                    db_row_str, &rows, NULL);
        names = db_rows_take_strv(&rows);
        if (r < 0 || !names) {
                log_warning("Cannot look for commits to resume: %s", r < 0 ? db_error(m->db) : strerror(ENOMEM));
                return;
        }
        for (char **name = names; *name; name++) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                if (strv_contains(m->busy_templates, *name))
                        continue;       /* in flight: not cut short */
                log_info("Template %s: resuming its commit, cut short (brokerd stopped, or libvirt went away)", *name);
                r = template_commit_begin(m, NULL, *name, false, 0, &e);
                if (r < 0)
                        log_warning("Template %s: cannot resume its commit: %s", *name, e.message ?: strerror(-r));
        }
}

/* ---- deleting ---------------------------------------------------------------- */

/* The checks and the removal of template_delete() once its versions are read. */
static int delete_with_versions(Manager *m, const Template *t, const TemplateVersion *v, size_t n, uid_t actor,
                                sd_bus_error *error) {
        uint64_t n_categories = 0;
        size_t n_desktops = 0;
        char buf[DOMAIN_NAME_MAX];
        const char *domain;
        int r;

        for (size_t i = 0; i < n; i++)
                n_desktops += strv_length(v[i].desktops);
        if (n_desktops > 0)
                return bus_error_setf(error, VDESK_ERROR_TEMPLATE_IN_USE,
                                      "Template %s is in use: %zu desktop(s) derive from its versions", t->name,
                                      n_desktops);
        r = db_exec(m->db, "SELECT COUNT(*) FROM categories WHERE template_id = ?", (DbValue[]) { DBV_UINT(t->id) }, 1,
                    db_row_u64, &n_categories, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (n_categories > 0)
                return bus_error_setf(error, VDESK_ERROR_TEMPLATE_IN_USE,
                                      "Template %s is in use: %" PRIu64 " categor%s name it", t->name, n_categories,
                                      n_categories == 1 ? "y" : "ies");
        /* A build is given up with its template. */
        domain = template_console_domain(t, buf);
        if (domain) {
                if (!virt_is_connected(m->virt))
                        return bus_error_setf(error, VDESK_ERROR_HYPERVISOR, "Not connected to %s",
                                              m->config.libvirt_uri);
                r = console_domain_down(m, domain, true, error);
                if (r < 0)
                        return r;
        }
        /* The rows go first (versions with them, ON DELETE CASCADE): a
         * desktop made meanwhile holds them (RESTRICT) and the delete fails
         * with nothing removed. */
        r = db_exec(m->db, "DELETE FROM templates WHERE id = ?", (DbValue[]) { DBV_UINT(t->id) }, 1, NULL, NULL, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        for (size_t i = 0; i < n; i++)
                remove_template_file(m, t->name, v[i].path);
        log_event(LOG_INFO, MID_TEMPLATE_DELETED,
                  "VDESK_TEMPLATE=%s", t->name,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Template %s deleted (%zu version file(s))", t->name, n);
        manager_object_removed(m, OBJECT_TEMPLATE, t->name);
        return 0;
}

int template_delete(Manager *m, const char *name, uid_t actor, sd_bus_error *error) {
        _cleanup_(template_done) Template t = {};
        TemplateVersion *v = NULL;
        size_t n = 0;
        int r;

        r = template_get_settled(m, name, &t, error);
        if (r < 0)
                return r;
        if (streq(t.state, "editing"))
                return bus_error_setf(error, VDESK_ERROR_TEMPLATE_BUSY,
                                      "Template %s is being edited: commit or discard the edit first", name);
        r = versions_of(m, t.id, &v, &n);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = delete_with_versions(m, &t, v, n, actor, error);
        template_versions_free(v, n);
        return r;
}
