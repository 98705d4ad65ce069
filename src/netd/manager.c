/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <sys/eventfd.h>

#include "log.h"
#include "manager.h"
#include "metadata.h"
#include "util.h"
#include "virt.h"

int manager_new(Manager **ret) {
        Manager *m = calloc(1, sizeof *m);

        if (!m)
                return -ENOMEM;
        m->reconcile_fd = -1;
        *ret = m;
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        if (m->reconcile_running)
                pthread_join(m->reconcile_thread, NULL);
        sd_event_source_unref(m->reconcile_source);
        segments_done(&m->segments);
        if (m->reconcile_fd >= 0)
                close(m->reconcile_fd);
        strv_free(m->reconcile_xmls);
        forwards_done(&m->forwards);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        config_done(&m->config);
        free(m);
        return NULL;
}

int manager_setup_tables(Manager *m, const char *ruleset_path) {
        int r;

        r = forwards_init(&m->forwards, &m->config, &m->segments, ruleset_path);
        if (r < 0)
                return r;
        segments_init(&m->segments, m->forwards.nft);
        return 0;
}

typedef struct ReconcileArgs {
        Manager *m;
        char *uri;
} ReconcileArgs;

static void *reconcile_thread(void *p) {
        ReconcileArgs *a = p;
        uint64_t one = 1;

        /* Only this thread writes these until the eventfd fires. */
        a->m->reconcile_error = virt_running_domain_xmls(a->uri, &a->m->reconcile_xmls);
        (void) write(a->m->reconcile_fd, &one, sizeof one);
        free(a->uri);
        free(a);
        return NULL;
}

static int on_reconcile_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        _cleanup_(freep) Forward *want = NULL;
        _cleanup_(strv_freep) char **networks = NULL;
        size_t n = 0, n_desktops = 0;
        uint64_t v;
        int r;

        (void) read(fd, &v, sizeof v);
        pthread_join(m->reconcile_thread, NULL);
        m->reconcile_running = false;
        m->reconcile_source = sd_event_source_disable_unref(m->reconcile_source);

        if (m->reconcile_error < 0) {
                log_warning_errno(m->reconcile_error,
                                  "Cannot read running desktops from %s, forwards not reconciled: %m",
                                  m->config.libvirt_uri);
                goto finish;
        }

        for (char **x = m->reconcile_xmls; *x; x++)
                n++;
        want = calloc(n + 1, sizeof *want);
        if (!want) {
                log_oom();
                goto finish;
        }
        for (char **x = m->reconcile_xmls; *x; x++) {
                _cleanup_(desktop_meta_done) DesktopMeta meta = {};
                _cleanup_(freep) char *err = NULL;
                Forward *f = &want[n_desktops];

                r = desktop_meta_parse_domain(*x, &meta, &err);
                if (r == -ENODATA)
                        continue;
                if (r >= 0)
                        r = desktop_meta_validate(&meta, &m->config, &err);
                if (r < 0) {
                        log_warning("Skipping a running domain with bad vdesk metadata: %s", strempty(err));
                        continue;
                }
                /* its department network's segment and elements: the
                 * table may have been replaced, the link lost */
                if (meta.segment && !strv_contains(networks, meta.segment->name)) {
                        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                        if (segments_ensure(&m->segments, meta.bridge, meta.segment, &e) < 0)
                                log_warning("Cannot restore network %s of %s: %s", meta.segment->name, meta.name,
                                            e.message);
                        (void) strv_extend(&networks, meta.segment->name);
                }
                *f = (Forward) { .port = meta.rdp_port, .address = meta.address, .guest_port = meta.guest_port };
                snprintf(f->desktop, sizeof f->desktop, "%s", meta.name);
                snprintf(f->account, sizeof f->account, "%s", strempty(meta.account));
                n_desktops++;
        }

        /* the networks are up by now, so that their desktops' forwards
         * are inside networks served here */
        r = forwards_reconcile(&m->forwards, want, n_desktops);
        if (r < 0)
                log_error_errno(r, "Reconciling forwards failed: %m");
        else
                log_event(LOG_INFO, MID_FORWARDS_RECONCILED,
                          "VDESK_DESKTOP_COUNT=%zu", n_desktops,
                          "VDESK_CHANGED_COUNT=%d", r,
                          "VDESK_NETWORK_COUNT=%zu", strv_length(networks),
                          "MESSAGE=Forwards reconciled with %zu running desktops (%d elements changed), %zu department network(s) restored",
                          n_desktops, r, strv_length(networks));

finish:
        m->reconcile_xmls = strv_free(m->reconcile_xmls);
        forwards_remember_changes(&m->forwards, false);
        return 0;
}

int manager_start_reconcile(Manager *m, const char *uri) {
        ReconcileArgs *a;
        int r;

        m->reconcile_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (m->reconcile_fd < 0)
                return -errno;
        r = sd_event_add_io(m->event, &m->reconcile_source, m->reconcile_fd, EPOLLIN, on_reconcile_done, m);
        if (r < 0)
                return r;
        a = calloc(1, sizeof *a);
        if (!a || !(a->uri = strdup(uri))) {
                free(a);
                return -ENOMEM;
        }
        a->m = m;
        m->reconcile_running = true;
        forwards_remember_changes(&m->forwards, true);
        r = -pthread_create(&m->reconcile_thread, NULL, reconcile_thread, a);
        if (r < 0) {
                m->reconcile_running = false;
                forwards_remember_changes(&m->forwards, false);
                free(a->uri);
                free(a);
        }
        return r;
}
