/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "log.h"
#include "macro.h"
#include "virt.h"

/* ---- libvirt's event loop on sd-event ---------------------------------- */

typedef struct LoopEntry {
        int id;
        bool is_timer;
        int fd;
        int timeout_ms;
        sd_event_source *source;
        virEventHandleCallback handle_cb;
        virEventTimeoutCallback timeout_cb;
        void *opaque;
        virFreeCallback ff;
        struct LoopEntry *next;
} LoopEntry;

static sd_event *loop_event;
static LoopEntry *loop_entries;         /* registered watches and timers */
static LoopEntry *loop_removed;         /* removed, free callback not yet run */
static sd_event_source *loop_reaper;
static int loop_next_id = 1;

static LoopEntry *loop_find(int id, bool is_timer) {
        for (LoopEntry *e = loop_entries; e; e = e->next)
                if (e->id == id && e->is_timer == is_timer)
                        return e;
        return NULL;
}

static int loop_link(LoopEntry *e) {
        e->next = loop_entries;
        loop_entries = e;
        return e->id;
}

static uint32_t events_to_epoll(int events) {
        return (events & VIR_EVENT_HANDLE_READABLE ? EPOLLIN : 0) |
               (events & VIR_EVENT_HANDLE_WRITABLE ? EPOLLOUT : 0);
}

static int epoll_to_events(uint32_t revents) {
        return (revents & EPOLLIN ? VIR_EVENT_HANDLE_READABLE : 0) |
               (revents & EPOLLOUT ? VIR_EVENT_HANDLE_WRITABLE : 0) |
               (revents & EPOLLERR ? VIR_EVENT_HANDLE_ERROR : 0) |
               (revents & EPOLLHUP ? VIR_EVENT_HANDLE_HANGUP : 0);
}

static int on_loop_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        LoopEntry *e = userdata;

        e->handle_cb(e->id, fd, epoll_to_events(revents), e->opaque);
        return 0;
}

static int loop_add_handle(int fd, int events, virEventHandleCallback cb, void *opaque, virFreeCallback ff) {
        LoopEntry *e = calloc(1, sizeof *e);
        int r;

        if (!e)
                return -1;
        *e = (LoopEntry) { .id = loop_next_id++, .fd = fd, .handle_cb = cb, .opaque = opaque, .ff = ff };
        r = sd_event_add_io(loop_event, &e->source, fd, events_to_epoll(events), on_loop_io, e);
        if (r < 0) {
                free(e);
                return -1;
        }
        /* An io source with no events still reports errors and hangups;
         * libvirt asks for nothing when it wants nothing. */
        if (events == 0)
                (void) sd_event_source_set_enabled(e->source, SD_EVENT_OFF);
        return loop_link(e);
}

static void loop_update_handle(int id, int events) {
        LoopEntry *e = loop_find(id, false);

        if (!e)
                return;
        if (events == 0)
                (void) sd_event_source_set_enabled(e->source, SD_EVENT_OFF);
        else {
                (void) sd_event_source_set_io_events(e->source, events_to_epoll(events));
                (void) sd_event_source_set_enabled(e->source, SD_EVENT_ON);
        }
}

static void entry_free(LoopEntry *e) {
        if (e->ff)
                e->ff(e->opaque);
        sd_event_source_disable_unref(e->source);
        free(e);
}

static int on_loop_reap(sd_event_source *s, void *userdata) {
        /* libvirt's free callbacks may take locks held while it removes a
         * watch: they run from the loop, never inside the removal. */
        while (loop_removed) {
                LoopEntry *e = loop_removed;
                loop_removed = e->next;
                entry_free(e);
        }
        (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        return 0;
}

static int loop_remove(int id, bool is_timer) {
        LoopEntry **p = &loop_entries, *e;

        while (*p && !((*p)->id == id && (*p)->is_timer == is_timer))
                p = &(*p)->next;
        e = *p;
        if (!e)
                return -1;
        *p = e->next;
        e->source = sd_event_source_disable_unref(e->source);
        e->next = loop_removed;
        loop_removed = e;
        if (loop_reaper)
                (void) sd_event_source_set_enabled(loop_reaper, SD_EVENT_ONESHOT);
        return 0;
}

static int loop_remove_handle(int id) {
        return loop_remove(id, false);
}

static void timer_arm(LoopEntry *e) {
        uint64_t now = 0;

        if (e->timeout_ms < 0) {
                (void) sd_event_source_set_enabled(e->source, SD_EVENT_OFF);
                return;
        }
        (void) sd_event_now(loop_event, CLOCK_MONOTONIC, &now);
        (void) sd_event_source_set_time(e->source, now + (uint64_t) e->timeout_ms * USEC_PER_MSEC);
        (void) sd_event_source_set_enabled(e->source, SD_EVENT_ONESHOT);
}

static int on_loop_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        LoopEntry *e = userdata;
        int id = e->id;

        /* Re-arm first: the callback may update or remove this timer. */
        timer_arm(e);
        e->timeout_cb(id, e->opaque);
        return 0;
}

static int loop_add_timeout(int timeout, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff) {
        LoopEntry *e = calloc(1, sizeof *e);
        int r;

        if (!e)
                return -1;
        *e = (LoopEntry) { .id = loop_next_id++, .is_timer = true, .fd = -1, .timeout_ms = timeout,
                           .timeout_cb = cb, .opaque = opaque, .ff = ff };
        r = sd_event_add_time(loop_event, &e->source, CLOCK_MONOTONIC, 0, 0, on_loop_timer, e);
        if (r < 0) {
                free(e);
                return -1;
        }
        timer_arm(e);
        return loop_link(e);
}

static void loop_update_timeout(int id, int timeout) {
        LoopEntry *e = loop_find(id, true);

        if (!e)
                return;
        e->timeout_ms = timeout;
        timer_arm(e);
}

static int loop_remove_timeout(int id) {
        return loop_remove(id, true);
}

static void silence(void *userdata, virErrorPtr error) {
        /* libvirt prints every error to stderr by default; callers log once. */
}

int virt_event_register(sd_event *e) {
        int r;

        if (loop_event)
                return -EALREADY;
        r = sd_event_add_defer(e, &loop_reaper, on_loop_reap, NULL);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(loop_reaper, SD_EVENT_OFF);
        loop_event = sd_event_ref(e);
        virSetErrorFunc(NULL, silence);
        virEventRegisterImpl(loop_add_handle, loop_update_handle, loop_remove_handle,
                             loop_add_timeout, loop_update_timeout, loop_remove_timeout);
        return 0;
}

/* ---- the connection ------------------------------------------------------ */

void virt_event_unregister(void) {
        /* After the last connection is closed: what libvirt removed is freed
         * with its callbacks; what it still holds is only released. */
        if (loop_reaper)
                on_loop_reap(loop_reaper, NULL);
        while (loop_entries) {
                LoopEntry *e = loop_entries;
                loop_entries = e->next;
                sd_event_source_disable_unref(e->source);
                free(e);
        }
        loop_reaper = sd_event_source_disable_unref(loop_reaper);
        loop_event = sd_event_unref(loop_event);
}

static const char *const virt_domain_state_table[_VIRT_DOMAIN_STATE_MAX] = {
        [VIRT_DOMAIN_STOPPED] = "stopped",
        [VIRT_DOMAIN_RUNNING] = "running",
};

DEFINE_STRING_TABLE_LOOKUP(virt_domain_state, VirtDomainState);

#define RECONNECT_MIN_USEC (1 * USEC_PER_SEC)
#define RECONNECT_MAX_USEC (30 * USEC_PER_SEC)

struct Virt {
        sd_event *event;
        char *uri;
        virConnectPtr conn;
        int lifecycle_id;
        int graphics_id;
        VirtCallbacks cb;
        void *userdata;
        sd_event_source *reconnect;
        uint64_t backoff;
};

static void virt_schedule_reconnect(Virt *v);

static void on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque) {
        Virt *v = opaque;
        const char *name = virDomainGetName(dom);

        if (!name || !v->cb.lifecycle)
                return;
        if (event == VIR_DOMAIN_EVENT_STARTED)
                v->cb.lifecycle(name, VIRT_DOMAIN_RUNNING, v->userdata);
        else if (event == VIR_DOMAIN_EVENT_STOPPED)
                v->cb.lifecycle(name, VIRT_DOMAIN_STOPPED, v->userdata);
}

static void on_graphics(virConnectPtr conn, virDomainPtr dom, int phase, const virDomainEventGraphicsAddress *local,
                        const virDomainEventGraphicsAddress *remote, const char *auth_scheme,
                        const virDomainEventGraphicsSubject *subject, void *opaque) {
        Virt *v = opaque;
        const char *name = virDomainGetName(dom);

        /* INITIALIZE: the client got past authentication. */
        if (name && v->cb.graphics_authenticated && phase == VIR_DOMAIN_EVENT_GRAPHICS_INITIALIZE)
                v->cb.graphics_authenticated(name, remote ? remote->node : "", v->userdata);
}

static void disconnect(Virt *v) {
        if (!v->conn)
                return;
        if (v->lifecycle_id >= 0)
                (void) virConnectDomainEventDeregisterAny(v->conn, v->lifecycle_id);
        v->lifecycle_id = -1;
        if (v->graphics_id >= 0)
                (void) virConnectDomainEventDeregisterAny(v->conn, v->graphics_id);
        v->graphics_id = -1;
        (void) virConnectUnregisterCloseCallback(v->conn, NULL);
        virConnectClose(v->conn);
        v->conn = NULL;
}

static void on_close(virConnectPtr conn, int reason, void *opaque) {
        Virt *v = opaque;

        log_event(LOG_WARNING, MID_LIBVIRT_CONNECTION,
                  "VDESK_LIBVIRT_URI=%s", v->uri,
                  "VDESK_CLOSE_REASON=%d", reason,
                  "MESSAGE=Connection to %s lost (reason %d), reconnecting", v->uri, reason);
        /* Closing the connection from inside its own close callback is not
         * allowed: the reconnect timer does it. */
        virt_schedule_reconnect(v);
}

static int virt_connect(Virt *v) {
        virConnectPtr c;

        c = virConnectOpen(v->uri);
        if (!c) {
                log_debug("Cannot connect to %s: %s", v->uri, virGetLastErrorMessage());
                return -ECONNREFUSED;
        }
        v->conn = c;
        if (virConnectSetKeepAlive(c, 5, 3) < 0)
                log_debug("No keepalive on %s: %s", v->uri, virGetLastErrorMessage());
        if (virConnectRegisterCloseCallback(c, on_close, v, NULL) < 0)
                log_debug("No close callback on %s: %s", v->uri, virGetLastErrorMessage());
        v->lifecycle_id = virConnectDomainEventRegisterAny(c, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                           VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), v, NULL);
        if (v->lifecycle_id < 0) {
                log_debug("Cannot subscribe to events of %s: %s", v->uri, virGetLastErrorMessage());
                disconnect(v);
                return -EIO;
        }
        v->graphics_id = virConnectDomainEventRegisterAny(c, NULL, VIR_DOMAIN_EVENT_ID_GRAPHICS,
                                                          VIR_DOMAIN_EVENT_CALLBACK(on_graphics), v, NULL);
        if (v->graphics_id < 0)
                log_warning("No graphics events from %s (console tickets stay valid until they expire): %s",
                            v->uri, virGetLastErrorMessage());
        v->backoff = 0;
        log_event(LOG_INFO, MID_LIBVIRT_CONNECTION,
                  "VDESK_LIBVIRT_URI=%s", v->uri,
                  "MESSAGE=Connected to %s", v->uri);
        if (v->cb.connected)
                v->cb.connected(v->userdata);
        return 0;
}

static int on_reconnect(sd_event_source *s, uint64_t usec, void *userdata) {
        Virt *v = userdata;

        v->reconnect = sd_event_source_disable_unref(v->reconnect);
        disconnect(v);
        if (virt_connect(v) < 0) {
                if (v->backoff == 0)
                        log_warning("Cannot connect to %s yet (%s), retrying in the background.", v->uri,
                                    virGetLastErrorMessage());
                virt_schedule_reconnect(v);
        }
        return 0;
}

static void virt_schedule_reconnect(Virt *v) {
        uint64_t now = 0;

        if (v->reconnect)
                return;
        /* The first retry comes at once (libvirtd restarting takes ~2 s),
         * then with doubling delays. */
        v->backoff = v->backoff == 0 ? RECONNECT_MIN_USEC : MIN(v->backoff * 2, RECONNECT_MAX_USEC);
        (void) sd_event_now(v->event, CLOCK_MONOTONIC, &now);
        if (sd_event_add_time(v->event, &v->reconnect, CLOCK_MONOTONIC, now + v->backoff, 0, on_reconnect, v) < 0)
                log_error("Cannot schedule reconnecting to %s.", v->uri);
}

int virt_new(sd_event *e, const char *uri, const VirtCallbacks *cb, void *userdata, Virt **ret) {
        Virt *v = calloc(1, sizeof *v);

        if (!v)
                return -ENOMEM;
        v->event = sd_event_ref(e);
        v->uri = strdup(uri);
        v->lifecycle_id = -1;
        v->graphics_id = -1;
        v->cb = *cb;
        v->userdata = userdata;
        if (!v->uri) {
                virt_free(v);
                return -ENOMEM;
        }
        /* The first attempt runs from the loop, so that the callbacks never
         * see a half set-up caller. */
        if (sd_event_add_time(e, &v->reconnect, CLOCK_MONOTONIC, 0, 0, on_reconnect, v) < 0) {
                virt_free(v);
                return -ENOMEM;
        }
        *ret = v;
        return 0;
}

Virt *virt_free(Virt *v) {
        if (!v)
                return NULL;
        disconnect(v);
        sd_event_source_disable_unref(v->reconnect);
        sd_event_unref(v->event);
        free(v->uri);
        free(v);
        return NULL;
}

bool virt_is_connected(Virt *v) {
        return v->conn && virConnectIsAlive(v->conn) == 1;
}

static int fail(char **ret_error) {
        virErrorPtr e = virGetLastError();
        int r = e && (e->code == VIR_ERR_NO_DOMAIN || e->code == VIR_ERR_NO_NETWORK) ? -ENOENT : -EIO;

        if (ret_error)
                *ret_error = strdup(virGetLastErrorMessage());
        return r;
}

static int lookup(Virt *v, const char *name, virDomainPtr *ret, char **ret_error) {
        if (!v->conn)
                return -ENOTCONN;
        *ret = virDomainLookupByName(v->conn, name);
        return *ret ? 0 : fail(ret_error);
}

int virt_domain_define(Virt *v, const char *xml, char **ret_error) {
        virDomainPtr d;

        if (!v->conn)
                return -ENOTCONN;
        d = virDomainDefineXMLFlags(v->conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);
        if (!d)
                return fail(ret_error);
        virDomainFree(d);
        return 0;
}

int virt_domain_undefine(Virt *v, const char *name, char **ret_error) {
        virDomainPtr d;
        int r;

        r = lookup(v, name, &d, ret_error);
        if (r < 0)
                return r;
        r = virDomainUndefine(d) < 0 ? fail(ret_error) : 0;
        virDomainFree(d);
        return r;
}

int virt_domain_start(Virt *v, const char *name, char **ret_error) {
        virDomainPtr d;
        int r;

        r = lookup(v, name, &d, ret_error);
        if (r < 0)
                return r;
        r = virDomainIsActive(d);
        if (r == 0)
                r = virDomainCreate(d) < 0 ? fail(ret_error) : 1;
        else if (r > 0)
                r = 0;          /* already running */
        else
                r = fail(ret_error);
        virDomainFree(d);
        return r;
}

int virt_domain_stop(Virt *v, const char *name, bool force, char **ret_error) {
        virDomainPtr d;
        int r;

        r = lookup(v, name, &d, ret_error);
        if (r < 0)
                return r;
        r = virDomainIsActive(d);
        if (r > 0)
                r = (force ? virDomainDestroy(d) : virDomainShutdown(d)) < 0 ? fail(ret_error) : 1;
        else if (r < 0)
                r = fail(ret_error);
        virDomainFree(d);
        return r;
}

int virt_domain_get_state(Virt *v, const char *name, VirtDomainState *ret) {
        virDomainPtr d;
        int r;

        r = lookup(v, name, &d, NULL);
        if (r < 0)
                return r;
        r = virDomainIsActive(d);
        virDomainFree(d);
        if (r < 0)
                return -EIO;
        *ret = r ? VIRT_DOMAIN_RUNNING : VIRT_DOMAIN_STOPPED;
        return 0;
}

int virt_domain_exists(Virt *v, const char *name) {
        virDomainPtr d;
        int r;

        r = lookup(v, name, &d, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        virDomainFree(d);
        return 1;
}

int virt_domain_get_xml(Virt *v, const char *name, bool inactive, char **ret, char **ret_error) {
        virDomainPtr d;
        char *xml;
        int r;

        r = lookup(v, name, &d, ret_error);
        if (r < 0)
                return r;
        /* Never VIR_DOMAIN_XML_SECURE: vdesk has no use for passwords
         * libvirt holds, and they must not travel further. */
        xml = virDomainGetXMLDesc(d, inactive ? VIR_DOMAIN_XML_INACTIVE : 0);
        r = xml ? 0 : fail(ret_error);
        virDomainFree(d);
        if (r < 0)
                return r;
        *ret = xml;
        return 0;
}

int virt_domain_update_device(Virt *v, const char *name, const char *device_xml, char **ret_error) {
        virDomainPtr d;
        int r;

        r = lookup(v, name, &d, ret_error);
        if (r < 0)
                return r;
        r = virDomainUpdateDeviceFlags(d, device_xml, VIR_DOMAIN_AFFECT_LIVE) < 0 ? fail(ret_error) : 0;
        virDomainFree(d);
        return r;
}

int virt_network_ensure(Virt *v, const char *name, const char *xml, char **ret_error) {
        virNetworkPtr n;
        int changed = 0, r = 0;

        if (!v->conn)
                return -ENOTCONN;
        n = virNetworkLookupByName(v->conn, name);
        if (!n) {
                n = virNetworkDefineXML(v->conn, xml);
                if (!n)
                        return fail(ret_error);
                changed = 1;
        }
        if (virNetworkIsActive(n) == 0) {
                if (virNetworkCreate(n) < 0)
                        r = fail(ret_error);
                else
                        changed = 1;
        }
        if (r >= 0)
                (void) virNetworkSetAutostart(n, 1);
        virNetworkFree(n);
        return r < 0 ? r : changed;
}

int virt_network_is_active(Virt *v, const char *name) {
        virNetworkPtr n;
        int r;

        if (!v->conn)
                return -ENOTCONN;
        n = virNetworkLookupByName(v->conn, name);
        if (!n)
                return -ENOENT;
        r = virNetworkIsActive(n);
        virNetworkFree(n);
        return r < 0 ? -EIO : r;
}

int virt_network_remove(Virt *v, const char *name, char **ret_error) {
        virNetworkPtr n;
        int r = 0;

        if (!v->conn)
                return -ENOTCONN;
        n = virNetworkLookupByName(v->conn, name);
        if (!n)
                return -ENOENT;
        if (virNetworkIsActive(n) == 1 && virNetworkDestroy(n) < 0)
                r = fail(ret_error);
        if (r >= 0 && virNetworkUndefine(n) < 0)
                r = fail(ret_error);
        virNetworkFree(n);
        return r;
}

int virt_network_dhcp_host(Virt *v, const char *network, const char *host_xml, bool add, char **ret_error) {
        unsigned flags = VIR_NETWORK_UPDATE_AFFECT_CONFIG;
        virNetworkPtr n;
        int r = 0;

        if (!v->conn)
                return -ENOTCONN;
        n = virNetworkLookupByName(v->conn, network);
        if (!n)
                return fail(ret_error);
        if (virNetworkIsActive(n) == 1)
                flags |= VIR_NETWORK_UPDATE_AFFECT_LIVE;
        if (virNetworkUpdate(n, add ? VIR_NETWORK_UPDATE_COMMAND_ADD_LAST : VIR_NETWORK_UPDATE_COMMAND_DELETE,
                             VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, host_xml, flags) < 0) {
                virErrorPtr e = virGetLastError();

                /* Idempotent: "there is an existing dhcp host entry" on add,
                 * "couldn't locate a matching dhcp host entry" on delete. */
                if (!(e && e->code == VIR_ERR_OPERATION_INVALID))
                        r = fail(ret_error);
        }
        virNetworkFree(n);
        return r;
}
