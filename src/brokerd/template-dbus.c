/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-error.h"
#include "bus-util.h"
#include "manager.h"
#include "polkit.h"
#include "template.h"
#include "template-dbus.h"
#include "util.h"

/* The templates' methods: polkit's org.vdesk.broker1.read to read,
 * org.vdesk.broker1.manage to change anything or hand out a console. */

#define AUTHORIZED(name) POLKIT_METHOD_EXPORTED(name, Manager, BROKERD_ACTION_MANAGE)
#define AUTHORIZED_READ(name) POLKIT_METHOD_EXPORTED(name, Manager, BROKERD_ACTION_READ)

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

static int append_console(sd_bus_message *reply, const Console *c) {
        return sd_bus_message_append(reply, CONSOLE_SIGNATURE, c->uri, c->host, (uint16_t) c->port, c->ticket,
                                     c->valid_until_usec, c->vv);
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

