/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <stdarg.h>

#include "manager.h"
#include "util.h"

struct PendingActor {
        char name[64];
        uid_t uid;
        PendingActor *next;
};

void manager_push_actor(Manager *m, const char *desktop, uid_t uid) {
        PendingActor *a = calloc(1, sizeof *a);

        if (!a)
                return;         /* the journal entry then names no actor */
        snprintf(a->name, sizeof a->name, "%s", desktop);
        a->uid = uid;
        a->next = m->actors;
        m->actors = a;
}

uid_t manager_pop_actor(Manager *m, const char *name) {
        for (PendingActor **p = &m->actors; *p; p = &(*p)->next)
                if (streq((*p)->name, name)) {
                        PendingActor *a = *p;
                        uid_t uid = a->uid;
                        *p = a->next;
                        free(a);
                        return uid;
                }
        return (uid_t) -1;
}

void manager_actors_free(Manager *m) {
        while (m->actors) {
                PendingActor *a = m->actors;
                m->actors = a->next;
                free(a);
        }
}

static const char *const object_kind_table[_OBJECT_KIND_MAX] = {
        [OBJECT_DESKTOP] = "desktop",
        [OBJECT_TEMPLATE] = "template",
        [OBJECT_HOST] = "host",
        [OBJECT_NETWORK] = "network",
        [OBJECT_CLUSTER] = "cluster",
        [OBJECT_JOB] = "job",
};

const char *object_kind_to_string(ObjectKind kind) {
        return kind >= 0 && kind < _OBJECT_KIND_MAX ? object_kind_table[kind] : NULL;
}

void manager_object_added(Manager *m, ObjectKind kind, const char *name) {
        if (m->events.object_added)
                m->events.object_added(m, kind, name);
}

void manager_object_removed(Manager *m, ObjectKind kind, const char *name) {
        if (m->events.object_removed)
                m->events.object_removed(m, kind, name);
}

void manager_object_changed(Manager *m, ObjectKind kind, const char *name, ...) {
        const char *properties[16];
        size_t n = 0;
        va_list ap;

        if (!m->events.object_changed)
                return;
        va_start(ap, name);
        for (const char *p; (p = va_arg(ap, const char *)) && n < ELEMENTSOF(properties) - 1;)
                properties[n++] = p;
        va_end(ap);
        properties[n] = NULL;
        m->events.object_changed(m, kind, name, (char **) properties);
}

int manager_public_address(Manager *m, uint32_t *ret) {
        struct ifaddrs *ifa = NULL;
        int r = -EADDRNOTAVAIL;

        if (!isempty(m->config.public_address))
                return ipv4_parse(m->config.public_address, ret) < 0 ? -EINVAL : 0;
        if (getifaddrs(&ifa) < 0)
                return -errno;
        for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
                if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP) ||
                    (i->ifa_flags & IFF_LOOPBACK) || streq(i->ifa_name, m->config.bridge))
                        continue;
                *ret = ntohl(((struct sockaddr_in *) i->ifa_addr)->sin_addr.s_addr);
                r = 0;
                break;
        }
        freeifaddrs(ifa);
        return r;
}
