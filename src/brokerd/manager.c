/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include "desktop.h"
#include "host.h"
#include "log.h"
#include "manager.h"
#include "template.h"
#include "util.h"
#include "virt-loop.h"

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

int manager_new(Manager **ret) {
        Manager *m = calloc(1, sizeof *m);

        if (!m)
                return -ENOMEM;
        *ret = m;
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        manager_free_opens(m);
        manager_free_console_voids(m);
        sd_event_source_disable_unref(m->iso_watch);
        sd_event_source_disable_unref(m->iso_rescan);
        strv_free(m->busy_templates);
        while (m->actors) {
                PendingActor *a = m->actors;
                m->actors = a->next;
                free(a);
        }
        sd_event_source_disable_unref(m->sample_timer);
        hosts_free(m);
        virt_loop_unregister();
        db_close(m->db);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        free(m->console_log_dir);
        config_done(&m->config);
        free(m);
        return NULL;
}

int manager_connect_virt(Manager *m) {
        return hosts_start(m);
}

bool manager_use_kvm(Manager *m, const Host *h) {
        if (streq(m->config.accelerator, "auto"))
                return h && h->kvm;
        return streq(m->config.accelerator, "kvm");
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
