/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "socket-util.h"
#include "metrics.h"
#include "monitor.h"
#include "util.h"

/* The figures in the Prometheus text exposition format (version 0.0.4),
 * served over HTTP/1.0 on [Monitor] MetricsListen=: what a scraper asks
 * for, it gets; one request a connection. */

typedef struct Out {
        FILE *f;
} Out;

static void help(Out *o, const char *name, const char *type, const char *text) {
        fprintf(o->f, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void label(Out *o, const char *s) {
        for (; *s; s++)
                if (*s == '\\' || *s == '"')
                        fprintf(o->f, "\\%c", *s);
                else if (*s == '\n')
                        fputs("\\n", o->f);
                else
                        fputc(*s, o->f);
}

static void host_value(Out *o, const char *name, const MonHost *h, double v) {
        fprintf(o->f, "%s{host=\"", name);
        label(o, h->name);
        fprintf(o->f, "\"} %.17g\n", v);
}

static void desktop_value(Out *o, const char *name, const MonHost *h, const MonDomain *d, double v) {
        fprintf(o->f, "%s{host=\"", name);
        label(o, h->name);
        fputs("\",desktop=\"", o->f);
        label(o, d->st.name);
        fprintf(o->f, "\"} %.17g\n", v);
}

typedef double (*HostFigure)(const MonHost *h);
typedef double (*DesktopFigure)(const MonDomain *d);

static double h_up(const MonHost *h) { return h->up; }
static double h_memory(const MonHost *h) { return (double) h->node.memory_kib * 1024; }
static double h_free(const MonHost *h) { return (double) h->free_kib * 1024; }
static double h_cpu(const MonHost *h) { return h->cpu; }
static double h_cpus(const MonHost *h) { return h->node.cpus; }
static double h_running(const MonHost *h) { return (double) mon_host_running_desktops(h); }

static double d_running(const MonDomain *d) { return d->st.running; }
static double d_vcpus(const MonDomain *d) { return d->st.vcpus; }
static double d_memory(const MonDomain *d) { return (double) d->st.memory_kib * 1024; }
static double d_max_memory(const MonDomain *d) { return (double) d->st.max_memory_kib * 1024; }
static double d_cpu(const MonDomain *d) { return d->cpu; }
static double d_cpu_seconds(const MonDomain *d) { return (double) d->st.cpu_time_ns / 1e9; }
static double d_rd_bytes(const MonDomain *d) { return (double) d->st.rd_bytes; }
static double d_wr_bytes(const MonDomain *d) { return (double) d->st.wr_bytes; }
static double d_rd_reqs(const MonDomain *d) { return (double) d->st.rd_reqs; }
static double d_wr_reqs(const MonDomain *d) { return (double) d->st.wr_reqs; }
static double d_rx_bytes(const MonDomain *d) { return (double) d->st.rx_bytes; }
static double d_tx_bytes(const MonDomain *d) { return (double) d->st.tx_bytes; }

static const struct {
        const char *name, *type, *help;
        HostFigure f;
        bool needs_up;
} host_metrics[] = {
        { "vdesk_host_up", "gauge", "1 if the monitor's connection to the host is open", h_up, false },
        { "vdesk_host_memory_bytes", "gauge", "The host's memory", h_memory, true },
        { "vdesk_host_memory_free_bytes", "gauge", "The host's free memory", h_free, true },
        { "vdesk_host_cpu_utilisation", "gauge", "The host's CPU use over the last interval, 0 to 1", h_cpu, true },
        { "vdesk_host_cpus", "gauge", "The host's active CPUs", h_cpus, true },
        { "vdesk_host_running_desktops", "gauge", "vdesk desktops running on the host", h_running, true },
};

static const struct {
        const char *name, *type, *help;
        DesktopFigure f;
} desktop_metrics[] = {
        { "vdesk_desktop_running", "gauge", "1 if the desktop's domain runs", d_running },
        { "vdesk_desktop_vcpus", "gauge", "The desktop's vCPUs", d_vcpus },
        { "vdesk_desktop_memory_bytes", "gauge", "The desktop's current memory (its balloon's)", d_memory },
        { "vdesk_desktop_memory_max_bytes", "gauge", "The desktop's maximum memory", d_max_memory },
        { "vdesk_desktop_cpu_utilisation", "gauge", "The desktop's CPU use over the last interval, share of its vCPUs",
          d_cpu },
        { "vdesk_desktop_cpu_seconds_total", "counter", "CPU time the desktop used", d_cpu_seconds },
        { "vdesk_desktop_disk_read_bytes_total", "counter", "Bytes the desktop read from its disks", d_rd_bytes },
        { "vdesk_desktop_disk_written_bytes_total", "counter", "Bytes the desktop wrote to its disks", d_wr_bytes },
        { "vdesk_desktop_disk_reads_total", "counter", "Read requests to the desktop's disks", d_rd_reqs },
        { "vdesk_desktop_disk_writes_total", "counter", "Write requests to the desktop's disks", d_wr_reqs },
        { "vdesk_desktop_network_receive_bytes_total", "counter", "Bytes the desktop received", d_rx_bytes },
        { "vdesk_desktop_network_transmit_bytes_total", "counter", "Bytes the desktop sent", d_tx_bytes },
};

/* The categories' pools, as the broker last listed them. */
static void pool_value(Out *o, const char *name, const MonPool *p, const char *state, unsigned v) {
        fprintf(o->f, "%s{category=\"", name);
        label(o, p->category);
        if (state)
                fprintf(o->f, "\",state=\"%s", state);
        fprintf(o->f, "\"} %u\n", v);
}

static void pool_metrics(Out *o, Monitor *m) {
        help(o, "vdesk_pool_size", "gauge", "The category's PoolSize=: desktops kept made ahead for its staff");
        for (size_t i = 0; i < m->n_pools; i++)
                pool_value(o, "vdesk_pool_size", &m->pools[i], NULL, m->pools[i].size);
        help(o, "vdesk_pool_started", "gauge", "The category's PoolStarted=: of those, kept running");
        for (size_t i = 0; i < m->n_pools; i++)
                pool_value(o, "vdesk_pool_started", &m->pools[i], NULL, m->pools[i].started);
        help(o, "vdesk_pool_desktops", "gauge", "The category's desktops made ahead, nobody's yet, by state");
        for (size_t i = 0; i < m->n_pools; i++) {
                pool_value(o, "vdesk_pool_desktops", &m->pools[i], "running", m->pools[i].running);
                pool_value(o, "vdesk_pool_desktops", &m->pools[i], "stopped",
                           m->pools[i].made - MIN(m->pools[i].made, m->pools[i].running));
        }
}

int metrics_render(Monitor *m, char **ret) {
        char *buf = NULL;
        size_t size = 0;
        Out o;

        o.f = open_memstream(&buf, &size);
        if (!o.f)
                return -ENOMEM;
        for (size_t k = 0; k < ELEMENTSOF(host_metrics); k++) {
                help(&o, host_metrics[k].name, host_metrics[k].type, host_metrics[k].help);
                for (MonHost *h = m->hosts; h; h = h->next)
                        if (h->up || !host_metrics[k].needs_up)
                                host_value(&o, host_metrics[k].name, h, host_metrics[k].f(h));
        }
        for (size_t k = 0; k < ELEMENTSOF(desktop_metrics); k++) {
                help(&o, desktop_metrics[k].name, desktop_metrics[k].type, desktop_metrics[k].help);
                for (MonHost *h = m->hosts; h; h = h->next)
                        for (size_t i = 0; h->up && i < h->n_domains; i++)
                                if (h->domains[i].desktop)
                                        desktop_value(&o, desktop_metrics[k].name, h, &h->domains[i],
                                                      desktop_metrics[k].f(&h->domains[i]));
        }
        pool_metrics(&o, m);
        if (fclose(o.f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

/* ---- the HTTP side ---------------------------------------------------------------- */

/* Scrapers are few (a Prometheus or two, a person with curl): 16 open
 * connections at once are plenty, and bound the descriptors and memory a
 * flood of connections can take from the monitor. At the bound the
 * listening socket is not watched, so further connections wait in the
 * kernel's backlog (listen()'s 16) until one closes. */
#define METRICS_MAX_CONNECTIONS 16u
/* A connection that has not been answered and written out by then is
 * closed, so an idle or slow client cannot keep its place. */
#define METRICS_CONNECTION_TIMEOUT_USEC (5 * USEC_PER_SEC)
/* When accept4() finds no descriptor left (EMFILE, ENFILE) the pending
 * connection stays pending and the socket stays readable: rather than
 * being woken for it again at once, the monitor stops watching the socket
 * and tries again after this long. */
#define METRICS_ACCEPT_RETRY_USEC (1 * USEC_PER_SEC)

typedef struct MetricsClient {
        Monitor *monitor;
        sd_event_source *io, *timeout;
        char req[4096];
        size_t n;
        char *out;                      /* the answer, once the request is read */
        size_t out_len, out_done;
        struct MetricsClient *prev, *next;
} MetricsClient;

/* Watches the listening socket while there is room for a connection and
 * no retry is pending. */
static void listener_update(Monitor *m) {
        if (!m->metrics_listener)
                return;
        (void) sd_event_source_set_enabled(m->metrics_listener,
                                           m->n_metrics_clients < METRICS_MAX_CONNECTIONS && !m->metrics_retry
                                                   ? SD_EVENT_ON : SD_EVENT_OFF);
}

static void client_free(MetricsClient *c) {
        Monitor *m = c->monitor;

        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timeout);
        free(c->out);
        if (c->prev)
                c->prev->next = c->next;
        else
                m->metrics_clients = c->next;
        if (c->next)
                c->next->prev = c->prev;
        m->n_metrics_clients--;
        free(c);
        listener_update(m);
}

/* The whole answer, head and body, to write as the socket takes it. */
static int client_answer(MetricsClient *c) {
        _cleanup_(freep) char *body = NULL;
        const char *status = "200 OK";
        int k;

        if (!startswith(c->req, "GET /metrics ") && !startswith(c->req, "GET / "))
                status = "404 Not Found";
        else if (metrics_render(c->monitor, &body) < 0)
                status = "500 Internal Server Error";
        k = asprintf(&c->out, "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                              "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     status, body ? strlen(body) : 0, strempty(body));
        if (k < 0) {
                c->out = NULL;
                return -ENOMEM;
        }
        c->out_len = (size_t) k;
        return 0;
}

/* Reads the request, then writes the answer without ever blocking the
 * loop: a slow scraper waits, the monitor does not. */
static int on_client_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        MetricsClient *c = userdata;
        ssize_t k;

        if (!c->out) {
                k = read(fd, c->req + c->n, sizeof c->req - 1 - c->n);
                if (k < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                if (k <= 0)
                        goto done;
                c->n += (size_t) k;
                c->req[c->n] = 0;
                if (!strstr(c->req, "\r\n\r\n") && !strstr(c->req, "\n\n") && c->n < sizeof c->req - 1)
                        return 0;
                if (client_answer(c) < 0 || sd_event_source_set_io_events(s, EPOLLOUT) < 0)
                        goto done;
                return 0;
        }
        k = write(fd, c->out + c->out_done, c->out_len - c->out_done);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (k > 0) {
                c->out_done += (size_t) k;
                if (c->out_done < c->out_len)
                        return 0;
        }
done:
        client_free(c);
        return 0;
}

static int on_client_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        client_free(userdata);
        return 0;
}

static int on_accept_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Monitor *m = userdata;

        m->metrics_retry = sd_event_source_disable_unref(m->metrics_retry);
        listener_update(m);
        return 0;
}

/* Stops watching the listening socket for a while: accept4() cannot take
 * the pending connection now and would be woken for it at once again. */
static void accept_pause(Monitor *m, int error) {
        int r;

        if (!m->metrics_retry) {
                /* once a spell, not once a second */
                log_full_errno(m->metrics_accept_failing ? LOG_DEBUG : LOG_WARNING, error,
                               "Cannot accept a metrics connection, trying again every %llu s: %m",
                               METRICS_ACCEPT_RETRY_USEC / USEC_PER_SEC);
                m->metrics_accept_failing = true;
                r = sd_event_add_time_relative(m->event, &m->metrics_retry, CLOCK_MONOTONIC,
                                               METRICS_ACCEPT_RETRY_USEC, 0, on_accept_retry, m);
                if (r < 0) {
                        /* No timer, no retry: listening on would spin, so the page stays off. */
                        log_error_errno(r, "Cannot arm the metrics retry timer, metrics are off: %m");
                        m->metrics_listener = sd_event_source_disable_unref(m->metrics_listener);
                        return;
                }
        }
        listener_update(m);
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Monitor *m = userdata;
        MetricsClient *c;
        int cfd, r;

        cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
                /* gone before it was taken, or another wake-up took it: nothing to do */
                if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED || errno == EPROTO ||
                    errno == EPERM)
                        return 0;
                /* EMFILE, ENFILE, ENOBUFS, ENOMEM and the rest: the connection stays pending */
                accept_pause(m, errno);
                return 0;
        }
        c = calloc(1, sizeof *c);
        if (!c) {
                close(cfd);
                accept_pause(m, ENOMEM);
                return 0;
        }
        c->monitor = m;
        r = sd_event_add_io(m->event, &c->io, cfd, EPOLLIN, on_client_io, c);
        if (r < 0) {
                close(cfd);
                free(c);
                accept_pause(m, -r);
                return 0;
        }
        (void) sd_event_source_set_io_fd_own(c->io, true);
        m->metrics_accept_failing = false;
        c->next = m->metrics_clients;
        if (c->next)
                c->next->prev = c;
        m->metrics_clients = c;
        m->n_metrics_clients++;
        r = sd_event_add_time_relative(m->event, &c->timeout, CLOCK_MONOTONIC, METRICS_CONNECTION_TIMEOUT_USEC, 0,
                                       on_client_timeout, c);
        if (r < 0)
                client_free(c);
        else
                listener_update(m);
        return 0;
}

void metrics_close(Monitor *m) {
        m->metrics_listener = sd_event_source_disable_unref(m->metrics_listener);
        m->metrics_retry = sd_event_source_disable_unref(m->metrics_retry);
        while (m->metrics_clients)
                client_free(m->metrics_clients);
}

int metrics_listen(Monitor *m) {
        const char *spec = m->config.metrics_listen;
        int fd, r;

        if (isempty(spec))
                return 0;
        fd = socket_listen_spec("[Monitor] MetricsListen", spec, 16);
        if (fd < 0)
                return fd;
        r = sd_event_add_io(m->event, &m->metrics_listener, fd, EPOLLIN, on_accept, m);
        if (r < 0) {
                close(fd);
                return log_error_errno(r, "Cannot watch the metrics socket: %m");
        }
        (void) sd_event_source_set_io_fd_own(m->metrics_listener, true);
        log_info("Serving metrics on %s.", spec);
        return 0;
}
