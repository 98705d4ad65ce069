/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <inttypes.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "libvirt-uri.h"
#include "log.h"
#include "macro.h"
#include "metadata.h"
#include "util.h"
#include "virt.h"

static const char *const virt_domain_state_table[_VIRT_DOMAIN_STATE_MAX] = {
        [VIRT_DOMAIN_STOPPED] = "stopped",
        [VIRT_DOMAIN_RUNNING] = "running",
};

DEFINE_STRING_TABLE_LOOKUP(virt_domain_state, VirtDomainState);

#define RECONNECT_MIN_USEC (1 * USEC_PER_SEC)
#define RECONNECT_MAX_USEC (30 * USEC_PER_SEC)

/* An attempt to open a connection, made in a thread of its own: a host
 * that does not answer (a lost route, a hung libvirtd, ssh asking) keeps
 * that thread waiting, never the daemon's loop. The thread and the Virt
 * each hold a reference; a Virt freed meanwhile leaves the thread to close
 * what it opened. */
typedef struct ConnectJob {
        pthread_mutex_t lock;
        unsigned n_ref;
        char *uri;
        bool read_only;
        int wake_fd;                    /* eventfd: the attempt ended */
        virConnectPtr conn;             /* its result, or NULL and error */
        char *error;
} ConnectJob;

struct Virt {
        sd_event *event;
        char *uri;
        unsigned flags;
        virConnectPtr conn;
        int lifecycle_id;
        int graphics_id;
        VirtCallbacks cb;
        void *userdata;
        sd_event_source *reconnect;
        uint64_t backoff;
        ConnectJob *job;                /* an attempt in flight */
        sd_event_source *job_source;
        char *last_error;
};

static void connect_job_unref(ConnectJob *j) {
        bool last;

        pthread_mutex_lock(&j->lock);
        last = --j->n_ref == 0;
        pthread_mutex_unlock(&j->lock);
        if (!last)
                return;
        if (j->conn)
                virConnectClose(j->conn);
        closep(&j->wake_fd);
        pthread_mutex_destroy(&j->lock);
        free(j->uri);
        free(j->error);
        free(j);
}

static void *connect_thread(void *userdata) {
        ConnectJob *j = userdata;
        virConnectPtr c;

        c = j->read_only ? virConnectOpenReadOnly(j->uri) : virConnectOpen(j->uri);
        pthread_mutex_lock(&j->lock);
        j->conn = c;
        if (!c)
                j->error = strdup(virGetLastErrorMessage());
        pthread_mutex_unlock(&j->lock);
        (void) eventfd_write(j->wake_fd, 1);
        connect_job_unref(j);
        return NULL;
}

static void virt_schedule_reconnect(Virt *v);
static void virt_job_done(Virt *v);

static int on_job_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        virt_job_done(userdata);
        return 0;
}

/* Starts an attempt; its end is seen by on_job_done on the loop. */
static int virt_job_start(Virt *v) {
        ConnectJob *j = calloc(1, sizeof *j);
        pthread_attr_t attr;
        pthread_t t;
        int r;

        if (!j)
                return -ENOMEM;
        *j = (ConnectJob) { .n_ref = 2, .read_only = v->flags & VIRT_READ_ONLY, .wake_fd = -1 };
        pthread_mutex_init(&j->lock, NULL);
        j->uri = strdup(v->uri);
        j->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (!j->uri || j->wake_fd < 0) {
                j->n_ref = 1;
                connect_job_unref(j);
                return -ENOMEM;
        }
        r = sd_event_add_io(v->event, &v->job_source, j->wake_fd, EPOLLIN, on_job_done, v);
        if (r < 0) {
                j->n_ref = 1;
                connect_job_unref(j);
                return r;
        }
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        r = -pthread_create(&t, &attr, connect_thread, j);
        pthread_attr_destroy(&attr);
        if (r < 0) {
                v->job_source = sd_event_source_disable_unref(v->job_source);
                j->n_ref = 1;
                connect_job_unref(j);
                return r;
        }
        v->job = j;
        return 0;
}

/* Forgets the attempt in flight; its thread closes what it opens. */
static void virt_job_abandon(Virt *v) {
        v->job_source = sd_event_source_disable_unref(v->job_source);
        if (v->job)
                connect_job_unref(v->job);
        v->job = NULL;
}

static void on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque) {
        Virt *v = opaque;
        const char *name = virDomainGetName(dom);

        if (!name || !v->cb.lifecycle)
                return;
        if (event == VIR_DOMAIN_EVENT_STARTED)
                v->cb.lifecycle(name, VIRT_DOMAIN_RUNNING, VIRT_STOP_NONE, v->userdata);
        else if (event == VIR_DOMAIN_EVENT_STOPPED)
                /* QEMU killed or dead: FAILED; the guest panicked: CRASHED. */
                v->cb.lifecycle(name, VIRT_DOMAIN_STOPPED,
                                detail == VIR_DOMAIN_EVENT_STOPPED_FAILED ||
                                detail == VIR_DOMAIN_EVENT_STOPPED_CRASHED ? VIRT_STOP_CRASHED : VIRT_STOP_ORDERLY,
                                v->userdata);
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
        static const char *const reasons[] = {
                [VIR_CONNECT_CLOSE_REASON_ERROR] = "error",
                [VIR_CONNECT_CLOSE_REASON_EOF] = "closed by the host",
                [VIR_CONNECT_CLOSE_REASON_KEEPALIVE] = "keepalive timeout",
                [VIR_CONNECT_CLOSE_REASON_CLIENT] = "closed",
        };
        const char *why = reason >= 0 && (size_t) reason < ELEMENTSOF(reasons) && reasons[reason]
                          ? reasons[reason] : "unknown";

        log_event(LOG_WARNING, MID_LIBVIRT_CONNECTION,
                  "VDESK_LIBVIRT_URI=%s", v->uri,
                  "VDESK_CLOSE_REASON=%s", why,
                  "MESSAGE=Connection to %s lost (%s), reconnecting", v->uri, why);
        /* Closing the connection from inside its own close callback is not
         * allowed: the reconnect timer does it. */
        virt_schedule_reconnect(v);
        if (v->cb.disconnected)
                v->cb.disconnected(why, v->userdata);
}

/* A connection was opened: subscribe, and tell the owner. */
static int virt_setup(Virt *v, virConnectPtr c) {
        v->conn = c;
        if (virConnectSetKeepAlive(c, 5, 3) < 0)
                log_debug("No keepalive on %s: %s", v->uri, virGetLastErrorMessage());
        if (virConnectRegisterCloseCallback(c, on_close, v, NULL) < 0)
                log_debug("No close callback on %s: %s", v->uri, virGetLastErrorMessage());
        v->lifecycle_id = virConnectDomainEventRegisterAny(c, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                           VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), v, NULL);
        if (v->lifecycle_id < 0) {
                free(v->last_error);
                v->last_error = strdup(virGetLastErrorMessage());
                log_debug("Cannot subscribe to events of %s: %s", v->uri, strempty(v->last_error));
                disconnect(v);
                return -EIO;
        }
        if (!(v->flags & VIRT_READ_ONLY)) {
                v->graphics_id = virConnectDomainEventRegisterAny(c, NULL, VIR_DOMAIN_EVENT_ID_GRAPHICS,
                                                                  VIR_DOMAIN_EVENT_CALLBACK(on_graphics), v, NULL);
                if (v->graphics_id < 0)
                        log_warning("No graphics events from %s (console tickets stay valid until they expire): %s",
                                    v->uri, virGetLastErrorMessage());
        }
        v->backoff = 0;
        log_event(LOG_INFO, MID_LIBVIRT_CONNECTION,
                  "VDESK_LIBVIRT_URI=%s", v->uri,
                  "MESSAGE=Connected to %s", v->uri);
        if (v->cb.connected)
                v->cb.connected(v->userdata);
        return 0;
}

static void virt_job_done(Virt *v) {
        ConnectJob *j = v->job;
        virConnectPtr c;
        bool first;

        pthread_mutex_lock(&j->lock);
        c = j->conn;
        j->conn = NULL;
        if (!c) {
                free(v->last_error);
                v->last_error = j->error;
                j->error = NULL;
        }
        pthread_mutex_unlock(&j->lock);
        virt_job_abandon(v);

        first = v->backoff == 0;
        if (c && virt_setup(v, c) >= 0)
                return;
        if (!c)
                log_debug("Cannot connect to %s: %s", v->uri, strempty(v->last_error));
        if (first)
                log_warning("Cannot connect to %s yet (%s), retrying in the background.", v->uri,
                            strempty(v->last_error));
        virt_schedule_reconnect(v);
        if (v->cb.failed)
                v->cb.failed(strempty(v->last_error), v->userdata);
}

static int on_reconnect(sd_event_source *s, uint64_t usec, void *userdata) {
        Virt *v = userdata;

        v->reconnect = sd_event_source_disable_unref(v->reconnect);
        disconnect(v);
        if (v->job)
                return 0;       /* an attempt is under way */
        if (virt_job_start(v) < 0) {
                log_error("Cannot start connecting to %s.", v->uri);
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

int virt_new(sd_event *e, const char *uri, unsigned flags, const VirtCallbacks *cb, void *userdata, Virt **ret) {
        char why[LIBVIRT_URI_REASON_MAX];
        Virt *v;

        /* callers check first and say why; this is where no URI gets past */
        if (libvirt_uri_invalid_reason(uri, why, NULL))
                return -EINVAL;
        v = calloc(1, sizeof *v);
        if (!v)
                return -ENOMEM;
        v->event = sd_event_ref(e);
        v->uri = strdup(uri);
        v->flags = flags;
        v->lifecycle_id = -1;
        v->graphics_id = -1;
        v->cb = *cb;
        v->userdata = userdata;
        if (!v->uri) {
                virt_free(v);
                return -ENOMEM;
        }
        /* The first attempt starts from the loop, so that the callbacks
         * never see a half set-up caller. */
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
        virt_job_abandon(v);
        disconnect(v);
        sd_event_source_disable_unref(v->reconnect);
        sd_event_unref(v->event);
        free(v->uri);
        free(v->last_error);
        free(v);
        return NULL;
}

const char *virt_uri(Virt *v) {
        return v->uri;
}

const char *virt_last_error(Virt *v) {
        return v->last_error;
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

int virt_domain_set_metadata(Virt *v, const char *name, const char *xml, char **ret_error) {
        unsigned flags = VIR_DOMAIN_AFFECT_CONFIG;
        virDomainPtr d;
        int r;

        r = lookup(v, name, &d, ret_error);
        if (r < 0)
                return r;
        r = virDomainIsActive(d);
        if (r > 0)
                flags |= VIR_DOMAIN_AFFECT_LIVE;
        if (r >= 0)
                r = virDomainSetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, xml, VDESK_METADATA_PREFIX,
                                         VDESK_METADATA_NS, flags) < 0 ? fail(ret_error) : 0;
        else
                r = fail(ret_error);
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

/* ---- figures ------------------------------------------------------------- */

int virt_node_info(Virt *v, VirtNodeInfo *ret) {
        virNodeInfo ni;

        if (!v->conn)
                return -ENOTCONN;
        if (virNodeGetInfo(v->conn, &ni) < 0)
                return fail(NULL);
        *ret = (VirtNodeInfo) {
                .memory_kib = ni.memory, .cpus = ni.cpus, .mhz = ni.mhz, .nodes = ni.nodes,
                .sockets = ni.sockets, .cores = ni.cores, .threads = ni.threads,
        };
        snprintf(ret->model, sizeof ret->model, "%s", ni.model);
        return 0;
}

bool virt_kvm_usable(Virt *v) {
        _cleanup_(freep) char *caps = NULL;

        if (!v->conn)
                return false;
        /* libvirt answers only where its QEMU can run kvm domains: /dev/kvm
         * there, usable, and a QEMU that accepts it. */
        caps = virConnectGetDomainCapabilities(v->conn, NULL, NULL, NULL, "kvm", 0);
        if (!caps)
                virResetLastError();
        return caps;
}

unsigned virt_max_vcpus(Virt *v) {
        int max;

        if (!v->conn)
                return 0;
        max = virConnectGetMaxVcpus(v->conn, "kvm");
        if (max < 0)
                max = virConnectGetMaxVcpus(v->conn, NULL);
        return max > 0 ? (unsigned) max : 0;
}

int virt_node_load(Virt *v, uint64_t *ret_free_kib, uint64_t *ret_cpu_busy_ns, uint64_t *ret_cpu_total_ns) {
        virNodeCPUStatsPtr st = NULL;
        unsigned long long free_bytes;
        uint64_t busy = 0, idle = 0;
        int n = 0;

        if (!v->conn)
                return -ENOTCONN;
        free_bytes = virNodeGetFreeMemory(v->conn);
        if (free_bytes == 0)
                return fail(NULL);
        if (virNodeGetCPUStats(v->conn, VIR_NODE_CPU_STATS_ALL_CPUS, NULL, &n, 0) < 0 || n <= 0)
                return fail(NULL);
        st = calloc(n, sizeof *st);
        if (!st)
                return -ENOMEM;
        if (virNodeGetCPUStats(v->conn, VIR_NODE_CPU_STATS_ALL_CPUS, st, &n, 0) < 0) {
                free(st);
                return fail(NULL);
        }
        for (int i = 0; i < n; i++) {
                if (streq(st[i].field, VIR_NODE_CPU_STATS_IDLE) || streq(st[i].field, VIR_NODE_CPU_STATS_IOWAIT))
                        idle += st[i].value;
                else if (streq(st[i].field, VIR_NODE_CPU_STATS_KERNEL) || streq(st[i].field, VIR_NODE_CPU_STATS_USER))
                        busy += st[i].value;
        }
        free(st);
        *ret_free_kib = free_bytes / 1024;
        *ret_cpu_busy_ns = busy;
        *ret_cpu_total_ns = busy + idle;
        return 0;
}

/* A counter, whichever unsigned type libvirt gave it. */
static uint64_t param_u64(virTypedParameterPtr p, int n, const char *name) {
        unsigned long long v = 0;
        unsigned u = 0;

        if (virTypedParamsGetULLong(p, n, name, &v) == 1)
                return v;
        if (virTypedParamsGetUInt(p, n, name, &u) == 1)
                return u;
        return 0;
}

/* The sum over block.<i>.<what> or net.<i>.<what>. */
static uint64_t param_sum(virTypedParameterPtr p, int n, const char *prefix, const char *what) {
        char key[VIR_TYPED_PARAM_FIELD_LENGTH];
        uint64_t count = param_u64(p, n, strcmp(prefix, "block") == 0 ? "block.count" : "net.count"), sum = 0;

        for (uint64_t i = 0; i < count; i++) {
                snprintf(key, sizeof key, "%s.%" PRIu64 ".%s", prefix, i, what);
                sum += param_u64(p, n, key);
        }
        return sum;
}

static void stats_from_record(virDomainStatsRecordPtr rec, VirtDomainStats *s) {
        virTypedParameterPtr p = rec->params;
        int n = rec->nparams, state = 0;
        unsigned vcpus = 0;

        *s = (VirtDomainStats) {};
        snprintf(s->name, sizeof s->name, "%s", strempty(virDomainGetName(rec->dom)));
        (void) virTypedParamsGetInt(p, n, "state.state", &state);
        s->running = state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_PAUSED || state == VIR_DOMAIN_BLOCKED;
        (void) virTypedParamsGetUInt(p, n, "vcpu.current", &vcpus);
        s->vcpus = vcpus;
        s->cpu_time_ns = param_u64(p, n, "cpu.time");
        s->memory_kib = param_u64(p, n, "balloon.current");
        s->max_memory_kib = param_u64(p, n, "balloon.maximum");
        s->rd_bytes = param_sum(p, n, "block", "rd.bytes");
        s->wr_bytes = param_sum(p, n, "block", "wr.bytes");
        s->rd_reqs = param_sum(p, n, "block", "rd.reqs");
        s->wr_reqs = param_sum(p, n, "block", "wr.reqs");
        s->rx_bytes = param_sum(p, n, "net", "rx.bytes");
        s->tx_bytes = param_sum(p, n, "net", "tx.bytes");
        s->rx_packets = param_sum(p, n, "net", "rx.pkts");
        s->tx_packets = param_sum(p, n, "net", "tx.pkts");
}

static unsigned stats_types(VirtStatsWhat what) {
        unsigned t = VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | VIR_DOMAIN_STATS_BALLOON;

        if (what == VIRT_STATS_ALL)
                t |= VIR_DOMAIN_STATS_VCPU | VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_BLOCK;
        return t;
}

static int stats_collect(virDomainStatsRecordPtr *recs, int k, VirtDomainStats **ret, size_t *ret_n) {
        VirtDomainStats *s = calloc(k > 0 ? k : 1, sizeof *s);

        if (!s) {
                virDomainStatsRecordListFree(recs);
                return -ENOMEM;
        }
        for (int i = 0; i < k; i++)
                stats_from_record(recs[i], &s[i]);
        virDomainStatsRecordListFree(recs);
        *ret = s;
        *ret_n = (size_t) k;
        return 0;
}

int virt_all_domain_stats(Virt *v, VirtStatsWhat what, bool running_only, VirtDomainStats **ret, size_t *ret_n) {
        virDomainStatsRecordPtr *recs = NULL;
        int k;

        if (!v->conn)
                return -ENOTCONN;
        k = virConnectGetAllDomainStats(v->conn, stats_types(what), &recs,
                                        running_only ? VIR_CONNECT_GET_ALL_DOMAINS_STATS_RUNNING : 0);
        if (k < 0)
                return fail(NULL);
        return stats_collect(recs, k, ret, ret_n);
}

int virt_each_domain_stats(Virt *v, VirtStatsWhat what, VirtDomainStats **ret, size_t *ret_n) {
        virDomainPtr *doms = NULL;
        VirtDomainStats *s;
        int k, r = 0;

        if (!v->conn)
                return -ENOTCONN;
        k = virConnectListAllDomains(v->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
        if (k < 0)
                return fail(NULL);
        s = calloc(k > 0 ? k : 1, sizeof *s);
        if (!s)
                r = -ENOMEM;
        for (int i = 0; i < k; i++) {
                virDomainPtr one[2] = { doms[i], NULL };
                virDomainStatsRecordPtr *recs = NULL;

                /* after a failure the rest are only freed */
                if (r >= 0) {
                        if (virDomainListGetStats(one, stats_types(what), &recs, 0) == 1)
                                stats_from_record(recs[0], &s[i]);
                        else
                                r = fail(NULL);
                }
                if (recs)
                        virDomainStatsRecordListFree(recs);
                virDomainFree(doms[i]);
        }
        free(doms);
        if (r < 0) {
                free(s);
                return r;
        }
        *ret = s;
        *ret_n = (size_t) k;
        return 0;
}

int virt_hostname(Virt *v, char **ret) {
        char *h;

        if (!v->conn)
                return -ENOTCONN;
        h = virConnectGetHostname(v->conn);
        if (!h)
                return fail(NULL);
        *ret = h;
        return 0;
}

int virt_domain_is_desktop(Virt *v, const char *name) {
        virDomainPtr d;
        char *md;
        int r;

        r = lookup(v, name, &d, NULL);
        if (r < 0)
                return r;
        md = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, VDESK_METADATA_NS, VIR_DOMAIN_AFFECT_CURRENT);
        virDomainFree(d);
        r = md != NULL;
        free(md);
        return r;
}

int virt_network_names(Virt *v, char ***ret) {
        virNetworkPtr *nets = NULL;
        char **names;
        int k;

        if (!v->conn)
                return -ENOTCONN;
        k = virConnectListAllNetworks(v->conn, &nets, 0);
        if (k < 0)
                return fail(NULL);
        names = calloc((size_t) k + 1, sizeof *names);
        for (int i = 0; i < k; i++) {
                if (names)
                        names[i] = strdup(virNetworkGetName(nets[i]));
                virNetworkFree(nets[i]);
        }
        free(nets);
        for (int i = 0; names && i < k; i++)
                if (!names[i]) {
                        strv_free(names);
                        names = NULL;
                }
        if (!names)
                return -ENOMEM;
        *ret = names;
        return 0;
}
