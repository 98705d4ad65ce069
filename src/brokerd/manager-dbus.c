/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-error.h"
#include "bus-util.h"
#include "desktop.h"
#include "host.h"
#include "iso.h"
#include "log.h"
#include "manager.h"
#include "network.h"
#include "polkit.h"
#include "probe.h"
#include "rdp.h"
#include "template.h"
#include "util.h"

/* Every method is an admin's: polkit decides, asked without blocking —
 * org.vdesk.broker1.read for what only reads (AUTHORIZED_READ),
 * org.vdesk.broker1.manage for everything that changes something, hands
 * out a console or opens a desktop (AUTHORIZED). The method itself runs
 * once polkitd said yes; it replies at once, or later (OpenDesktop). */

#define AUTHORIZED(name) POLKIT_METHOD(name, Manager, BROKERD_ACTION_MANAGE)
#define AUTHORIZED_READ(name) POLKIT_METHOD(name, Manager, BROKERD_ACTION_READ)

/* ---- ISOs -------------------------------------------------------------------- */

AUTHORIZED_READ(list_isos) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) Iso *isos = NULL;
        size_t n = 0;
        int r;

        r = iso_list(m, &isos, &n);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', ISO_SIGNATURE);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, ISO_SIGNATURE, isos[i].name, isos[i].format, isos[i].size,
                                          isos[i].created_usec);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

AUTHORIZED(refresh_isos) {
        unsigned added = 0, removed = 0;
        int r;

        r = iso_rescan(m, &added, &removed);
        if (r == -EIO || r == -ENOTCONN)
                return db_bus_error(m->db, r, error);
        if (r < 0)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot read %s: %s", m->config.iso_dir, strerror(-r));
        return sd_bus_reply_method_return(msg, "uu", added, removed);
}

AUTHORIZED(register_iso) {
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = iso_register(m, name, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(unregister_iso) {
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = iso_unregister(m, name, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

/* ---- templates ----------------------------------------------------------- */

static int append_template(sd_bus_message *reply, const Template *t) {
        return sd_bus_message_append(reply, TEMPLATE_SIGNATURE, t->name, t->state, t->format, t->version, t->size,
                                     t->memory_mib, t->vcpus, t->os_type, t->description, t->iso, t->path);
}

AUTHORIZED(register_template) {
        const char *name, *path;
        int r;

        r = sd_bus_message_read(msg, "ss", &name, &path);
        if (r < 0)
                return r;
        r = template_register(m, name, path, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED_READ(list_templates) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Template *t = NULL;
        size_t n = 0;
        int r;

        r = template_list(m, &t, &n);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', TEMPLATE_SIGNATURE);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = append_template(reply, &t[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        template_list_free(t, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

AUTHORIZED_READ(get_template) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(template_done) Template t = {};
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = template_get(m, name, &t, error);
        if (r >= 0)
                r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_template(reply, &t);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

AUTHORIZED_READ(list_template_versions) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        TemplateVersion *v = NULL;
        const char *name;
        size_t n = 0;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = template_versions(m, name, &v, &n, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', TEMPLATE_VERSION_SIGNATURE);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = sd_bus_message_open_container(reply, 'r', TEMPLATE_VERSION_FIELDS);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "ust", v[i].version, v[i].path, v[i].created_usec);
                if (r >= 0)
                        r = sd_bus_message_append_strv(reply, v[i].desktops);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        template_versions_free(v, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* Replies with a console and forgets it (it holds a ticket). */
static int reply_console(sd_bus_message *msg, Console *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_console(reply, c);
        console_done(c);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

AUTHORIZED(create_template) {
        _cleanup_(console_done) Console c = {};
        TemplateSpec s = {};
        int r;

        r = sd_bus_message_read(msg, "sxssuuss", &s.name, &s.size, &s.format, &s.iso, &s.memory_mib, &s.vcpus,
                                &s.description, &s.os_type);
        if (r >= 0)
                r = template_create(m, &s, actor, &c, error);
        if (r < 0)
                return r;
        return reply_console(msg, &c);
}

AUTHORIZED(console_of_template) {
        _cleanup_(console_done) Console c = {};
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = template_console(m, name, actor, &c, error);
        if (r < 0)
                return r;
        return reply_console(msg, &c);
}

AUTHORIZED(finish_template) {
        const char *name;
        int force = 0, r;

        r = sd_bus_message_read(msg, "sb", &name, &force);
        if (r >= 0)
                r = template_finish(m, name, force, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(edit_template) {
        _cleanup_(console_done) Console c = {};
        const char *name, *iso;
        int r;

        r = sd_bus_message_read(msg, "ss", &name, &iso);
        if (r >= 0)
                r = template_edit(m, name, iso, actor, &c, error);
        if (r < 0)
                return r;
        return reply_console(msg, &c);
}

AUTHORIZED(commit_template) {
        const char *name;
        int force = 0, r;

        r = sd_bus_message_read(msg, "sb", &name, &force);
        if (r >= 0)
                r = template_commit_begin(m, msg, name, force, actor, error);
        return r;       /* the reply comes when the new version is in place */
}

AUTHORIZED(discard_template_edit) {
        const char *name;
        int force = 0, r;

        r = sd_bus_message_read(msg, "sb", &name, &force);
        if (r >= 0)
                r = template_discard(m, name, force, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(delete_template) {
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = template_delete(m, name, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

/* ---- networks ------------------------------------------------------------------ */

AUTHORIZED(create_network) {
        NetworkSpec s = {};
        int r;

        r = network_spec_read(msg, &s, error);
        if (r >= 0)
                r = network_create(m, &s, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static int append_network(sd_bus_message *reply, const Network *n) {
        const NetworkSpec *s = &n->spec;
        char subnet[20], gateway[16], range[32], a[16], b[16], local[16] = "", group[16] = "";
        int r;

        ipv4_format(s->subnet, a);
        snprintf(subnet, sizeof subnet, "%s/%u", a, s->prefix);
        ipv4_format(s->gateway, gateway);
        ipv4_format(s->range_start, a);
        ipv4_format(s->range_end, b);
        snprintf(range, sizeof range, "%s-%s", a, b);
        if (s->local)
                ipv4_format(s->local, local);
        if (s->group)
                ipv4_format(s->group, group);
        r = sd_bus_message_open_container(reply, 'r', NETWORK_FIELDS);
        if (r >= 0)
                r = sd_bus_message_append(reply, "ssssssususs", s->name, subnet, gateway, range,
                                          segment_type_to_string(s->segment), n->bridge, s->vlan_id, s->uplink, s->vni,
                                          local, group);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "s");
        for (size_t i = 0; r >= 0 && i < s->n_peers; i++) {
                ipv4_format(s->peers[i], a);
                r = sd_bus_message_append(reply, "s", a);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "quuu", s->port, s->mtu, n->allocated, network_spec_range_size(s));
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

AUTHORIZED_READ(list_networks) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) Network *n = NULL;
        size_t k = 0;
        int r;

        r = network_list(m, &n, &k);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', NETWORK_SIGNATURE);
        for (size_t i = 0; r >= 0 && i < k; i++)
                r = append_network(reply, &n[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

AUTHORIZED_READ(get_network) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name;
        Network n;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = network_get(m, name, &n, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_network(reply, &n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

AUTHORIZED(delete_network) {
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = network_delete(m, name, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

/* AssignNetwork and ReclaimNetwork */
AUTHORIZED(category_network) {
        const char *network, *category;
        int r;

        r = sd_bus_message_read(msg, "ss", &network, &category);
        if (r >= 0)
                r = streq(sd_bus_message_get_member(msg), "AssignNetwork")
                            ? network_assign(m, network, category, actor, error)
                            : network_reclaim(m, network, category, actor, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(prune_template) {
        _cleanup_(freep) uint32_t *versions = NULL;
        const char *name;
        size_t n = 0;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = template_prune(m, name, actor, &versions, &n, error);
        if (r < 0)
                return r;
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

                r = sd_bus_message_new_method_return(msg, &reply);
                if (r >= 0)
                        r = sd_bus_message_append_array(reply, 'u', versions, n * sizeof *versions);
                if (r < 0)
                        return r;
                return sd_bus_send(NULL, reply, NULL);
        }
}

/* ---- desktops ------------------------------------------------------------ */

int append_desktop(sd_bus_message *reply, const Desktop *d) {
        char addr[16];

        ipv4_format(d->address, addr);
        return sd_bus_message_append(reply, DESKTOP_SIGNATURE, d->name, d->uuid, d->account, d->template,
                                     addr, d->mac, d->rdp_port, d->state, d->host);
}

/* Replies with d and frees it. */
static int reply_desktop(sd_bus_message *msg, Desktop *d) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_desktop(reply, d);
        desktop_done(d);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

AUTHORIZED(create_desktop) {
        const char *name, *account, *template;
        Desktop d = {};
        int r;

        r = sd_bus_message_read(msg, "sss", &name, &account, &template);
        if (r < 0)
                return r;
        r = desktop_create(m, name, account, template, NULL, actor, &d, error);
        if (r < 0)
                return r;
        return reply_desktop(msg, &d);
}

AUTHORIZED_READ(get_desktop) {
        const char *name;
        Desktop d = {};
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = desktop_get(m, name, &d, error);
        if (r < 0)
                return r;
        return reply_desktop(msg, &d);
}

AUTHORIZED_READ(list_desktops) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Desktop *d = NULL;
        size_t n = 0;
        int r;

        r = desktop_list(m, NULL, &d, &n);
        if (r < 0)
                return bus_error_setf(error, VDESK_ERROR_DATABASE, "Database failure: %s", db_error(m->db));
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', DESKTOP_SIGNATURE);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = append_desktop(reply, &d[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        desktop_list_free(d, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* Reads the desktop name every per-desktop method starts with. */
static int read_desktop(Manager *m, sd_bus_message *msg, Desktop *ret, sd_bus_error *error) {
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        return desktop_get(m, name, ret, error);
}

AUTHORIZED(start_desktop) {
        Desktop d = {};
        int r;

        r = read_desktop(m, msg, &d, error);
        if (r >= 0)
                r = desktop_start(m, &d, actor, error);
        desktop_done(&d);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(stop_desktop) {
        Desktop d = {};
        int force = 0, r;

        r = read_desktop(m, msg, &d, error);
        if (r >= 0)
                r = sd_bus_message_read(msg, "b", &force);
        if (r >= 0)
                r = desktop_stop(m, &d, force, actor, error);
        desktop_done(&d);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(reissue_desktop) {
        Desktop d = {};
        unsigned version = 0;
        int r;

        r = read_desktop(m, msg, &d, error);
        if (r >= 0)
                r = desktop_reissue(m, &d, actor, &version, error);
        desktop_done(&d);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "u", version);
}

AUTHORIZED(move_desktop) {
        const char *host;
        Desktop d = {};
        int r;

        r = read_desktop(m, msg, &d, error);
        if (r >= 0)
                r = sd_bus_message_read(msg, "s", &host);
        if (r >= 0)
                r = desktop_move(m, &d, host, actor, error);
        desktop_done(&d);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

AUTHORIZED(delete_desktop) {
        Desktop d = {};
        int r;

        r = read_desktop(m, msg, &d, error);
        if (r >= 0)
                r = desktop_delete(m, &d, actor, error);
        desktop_done(&d);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

/* ---- opening a desktop ----------------------------------------------------- */

struct OpenRequest {
        Manager *manager;
        sd_bus_message *msg;
        TcpProbe *probe;
        Desktop desktop;
        RdpRedirect redirect;
        bool reply_with_name;           /* OpenMyDesktop's reply starts with the desktop */
        uint32_t host;
        uid_t actor;
        uint64_t started_usec;
        OpenRequest *next;
};

static void open_request_free(OpenRequest *o) {
        sd_bus_message_unref(o->msg);
        tcp_probe_free(o->probe);
        desktop_done(&o->desktop);
        free(o);
}

static void open_request_unlink(Manager *m, OpenRequest *o) {
        for (OpenRequest **p = &m->opens; *p; p = &(*p)->next)
                if (*p == o) {
                        *p = o->next;
                        return;
                }
}

void manager_free_opens(Manager *m) {
        while (m->opens) {
                OpenRequest *o = m->opens;
                m->opens = o->next;
                (void) sd_bus_reply_method_errorf(o->msg, VDESK_ERROR_NOT_READY, "vdesk-brokerd is stopping");
                open_request_free(o);
        }
}

static void on_desktop_answers(TcpProbe *p, int result, void *userdata) {
        _cleanup_(freep) char *rdp = NULL, *cmd = NULL;
        OpenRequest *o = userdata;
        Manager *m = o->manager;
        const Desktop *d = &o->desktop;
        char host[16];
        RdpTarget t;
        int r;

        open_request_unlink(m, o);
        if (result < 0) {
                (void) sd_bus_reply_method_errorf(o->msg, VDESK_ERROR_NOT_READY,
                                                  "Desktop %s did not answer on port %u within %u s",
                                                  d->name, d->rdp_port, m->config.open_timeout_sec);
                goto out;
        }

        ipv4_format(o->host, host);
        t = (RdpTarget) {
                .host = host,
                .port = d->rdp_port,
                .username = d->account,
                .desktop = d->name,
                .printers = o->redirect.printers,
                .drives = o->redirect.drives,
                .clipboard = o->redirect.clipboard,
                .usb = o->redirect.usb,
        };
        r = rdp_file_render(&t, &rdp);
        if (r >= 0)
                r = rdp_freerdp_command(&t, &cmd);
        if (r < 0) {
                (void) sd_bus_reply_method_errno(o->msg, r, NULL);
                goto out;
        }
        log_event(LOG_INFO, MID_DESKTOP_OPENED,
                  "VDESK_DESKTOP=%s", d->name,
                  "VDESK_ACCOUNT=%s", d->account,
                  "VDESK_PORT=%u", d->rdp_port,
                  "VDESK_HOST=%s", host,
                  "VDESK_WAITED_MSEC=%llu", (now_usec() - o->started_usec) / USEC_PER_MSEC,
                  "VDESK_ACTOR_UID=%u", (unsigned) o->actor,
                  "MESSAGE=Desktop %s of %s opened at %s:%u", d->name, d->account, host, d->rdp_port);
        if (o->reply_with_name)
                (void) sd_bus_reply_method_return(o->msg, "ssqss", d->name, host, d->rdp_port, rdp, cmd);
        else
                (void) sd_bus_reply_method_return(o->msg, "sqss", host, d->rdp_port, rdp, cmd);
out:
        /* The probe is done with: free it from here is fine, it calls us last. */
        open_request_free(o);
}

int desktop_open_begin(Manager *m, sd_bus_message *msg, Desktop *d, const RdpRedirect *redirect,
                       bool reply_with_name, uid_t actor, sd_bus_error *error) {
        OpenRequest *o;
        uint32_t host;
        Host *h;
        int r;

        h = host_for_desktop(m, d->host_id, d->name, error);
        if (!h) {
                desktop_done(d);
                return -EHOSTDOWN;
        }
        r = host_public_address(h, &host);
        if (r < 0) {
                desktop_done(d);
                return bus_error_setf(error, VDESK_ERROR_NOT_READY,
                                      "Host %s has no address to hand out; set [Forward] PublicAddress=", h->name);
        }
        o = calloc(1, sizeof *o);
        if (!o) {
                desktop_done(d);
                return -ENOMEM;
        }
        *o = (OpenRequest) {
                .manager = m,
                .desktop = *d,
                .redirect = *redirect,
                .reply_with_name = reply_with_name,
                .host = host,
                .actor = actor,
                .started_usec = now_usec(),
        };
        *d = (Desktop) {};
        r = desktop_start(m, &o->desktop, actor, error);
        if (r >= 0)
                r = tcp_probe_start(m->event, host, o->desktop.rdp_port,
                                    (uint64_t) m->config.open_timeout_sec * USEC_PER_SEC,
                                    on_desktop_answers, o, &o->probe);
        if (r < 0) {
                open_request_free(o);
                return r;
        }
        o->msg = sd_bus_message_ref(msg);
        o->next = m->opens;
        m->opens = o;
        return 0;
}

AUTHORIZED(open_desktop) {
        RdpRedirect redirect = {
                .printers = m->config.redirect_printers,
                .drives = m->config.redirect_drives,
                .clipboard = m->config.redirect_clipboard,
        };
        Desktop d = {};
        int r;

        r = read_desktop(m, msg, &d, error);
        if (r < 0)
                return r;
        return desktop_open_begin(m, msg, &d, &redirect, false, actor, error);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("ListIsos",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a" ISO_SIGNATURE, isos),
                                method_list_isos, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RefreshIsos",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("u", added, "u", removed),
                                method_refresh_isos, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RegisterIso",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_NO_RESULT,
                                method_register_iso, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UnregisterIso",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_NO_RESULT,
                                method_unregister_iso, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RegisterTemplate",
                                SD_BUS_ARGS("s", name, "s", path),
                                SD_BUS_NO_RESULT,
                                method_register_template, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListTemplates",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a" TEMPLATE_SIGNATURE, templates),
                                method_list_templates, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetTemplate",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT(TEMPLATE_SIGNATURE, template),
                                method_get_template, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListTemplateVersions",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("a" TEMPLATE_VERSION_SIGNATURE, versions),
                                method_list_template_versions, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateTemplate",
                                SD_BUS_ARGS("s", name, "x", size, "s", format, "s", iso, "u", memory_mib, "u", vcpus,
                                            "s", description, "s", os_type),
                                SD_BUS_RESULT(CONSOLE_SIGNATURE, console),
                                method_create_template, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("TemplateConsole",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT(CONSOLE_SIGNATURE, console),
                                method_console_of_template, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("FinishTemplate",
                                SD_BUS_ARGS("s", name, "b", force),
                                SD_BUS_NO_RESULT,
                                method_finish_template, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("EditTemplate",
                                SD_BUS_ARGS("s", name, "s", iso),
                                SD_BUS_RESULT(CONSOLE_SIGNATURE, console),
                                method_edit_template, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("CommitTemplate",
                                SD_BUS_ARGS("s", name, "b", force),
                                SD_BUS_RESULT("u", version),
                                method_commit_template, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DiscardTemplateEdit",
                                SD_BUS_ARGS("s", name, "b", force),
                                SD_BUS_NO_RESULT,
                                method_discard_template_edit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteTemplate",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_NO_RESULT,
                                method_delete_template, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PruneTemplate",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("au", removed_versions),
                                method_prune_template, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateNetwork",
                                SD_BUS_ARGS(NETWORK_SPEC_ARGS),
                                SD_BUS_NO_RESULT,
                                method_create_network, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListNetworks",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a" NETWORK_SIGNATURE, networks),
                                method_list_networks, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetNetwork",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT(NETWORK_SIGNATURE, network),
                                method_get_network, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteNetwork",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_NO_RESULT,
                                method_delete_network, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AssignNetwork",
                                SD_BUS_ARGS("s", network, "s", category),
                                SD_BUS_NO_RESULT,
                                method_category_network, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ReclaimNetwork",
                                SD_BUS_ARGS("s", network, "s", category),
                                SD_BUS_NO_RESULT,
                                method_category_network, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateCluster",
                                SD_BUS_ARGS("s", name, "u", capacity),
                                SD_BUS_NO_RESULT,
                                method_create_cluster, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteCluster",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_NO_RESULT,
                                method_delete_cluster, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListClusters",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a" CLUSTER_SIGNATURE, clusters),
                                method_list_clusters, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AssignCluster",
                                SD_BUS_ARGS("s", cluster, "s", category),
                                SD_BUS_NO_RESULT,
                                method_category_cluster, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ReclaimCluster",
                                SD_BUS_ARGS("s", cluster, "s", category),
                                SD_BUS_NO_RESULT,
                                method_category_cluster, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddHost",
                                SD_BUS_ARGS("s", name, "s", uri, "s", cluster, "s", address),
                                SD_BUS_NO_RESULT,
                                method_add_host, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveHost",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_NO_RESULT,
                                method_remove_host, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListHosts",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a" HOST_SIGNATURE, hosts),
                                method_list_hosts, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetHost",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT(HOST_SIGNATURE, host),
                                method_list_hosts, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetHostMaintenance",
                                SD_BUS_ARGS("s", name, "b", maintenance),
                                SD_BUS_NO_RESULT,
                                method_set_host_maintenance, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("MoveDesktop",
                                SD_BUS_ARGS("s", name, "s", host),
                                SD_BUS_NO_RESULT,
                                method_move_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PlaceDesktop",
                                SD_BUS_ARGS("s", category),
                                SD_BUS_RESULT("s", host, "s", reason),
                                method_place_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("HostStateChanged",
                                SD_BUS_ARGS("s", name, "s", state, "s", reason),
                                0),
        SD_BUS_METHOD_WITH_ARGS("CreateDesktop",
                                SD_BUS_ARGS("s", name, "s", account, "s", template),
                                SD_BUS_RESULT(DESKTOP_SIGNATURE, desktop),
                                method_create_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetDesktop",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT(DESKTOP_SIGNATURE, desktop),
                                method_get_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListDesktops",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a" DESKTOP_SIGNATURE, desktops),
                                method_list_desktops, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StartDesktop",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_NO_RESULT,
                                method_start_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StopDesktop",
                                SD_BUS_ARGS("s", name, "b", force),
                                SD_BUS_NO_RESULT,
                                method_stop_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ReissueDesktop",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("u", template_version),
                                method_reissue_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteDesktop",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_NO_RESULT,
                                method_delete_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("OpenDesktop",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("s", host, "q", port, "s", rdp_file, "s", freerdp_command),
                                method_open_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListMyDesktops",
                                SD_BUS_ARGS("s", token),
                                SD_BUS_RESULT("a" DESKTOP_SIGNATURE, desktops, "as", categories_without_desktop),
                                method_list_my_desktops, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("OpenMyDesktop",
                                SD_BUS_ARGS("s", token, "s", name),
                                SD_BUS_RESULT("s", desktop, "s", host, "q", port, "s", rdp_file, "s", freerdp_command),
                                method_open_my_desktop, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("ListMyDesktopDetails",
                                SD_BUS_ARGS("s", token),
                                SD_BUS_RESULT("a" STAFF_DESKTOP_SIGNATURE, desktops, "as", categories_without_desktop),
                                method_list_my_desktop_details, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("RestartMyDesktop",
                                SD_BUS_ARGS("s", token, "s", name),
                                SD_BUS_RESULT("s", desktop, "s", host, "q", port, "s", rdp_file, "s", freerdp_command),
                                method_restart_my_desktop, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("ListManagedDesktops",
                                SD_BUS_ARGS("s", token),
                                SD_BUS_RESULT("a" MANAGED_DESKTOP_SIGNATURE, desktops),
                                method_list_managed_desktops, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_VTABLE_END
};

int manager_add_bus_objects(Manager *m) {
        return sd_bus_add_object_vtable(m->bus, NULL, BROKERD_OBJECT_PATH, BROKERD_INTERFACE, manager_vtable, m);
}
