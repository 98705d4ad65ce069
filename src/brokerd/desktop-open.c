/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-error.h"
#include "desktop-open.h"
#include "host.h"
#include "idle.h"
#include "log.h"
#include "probe.h"
#include "util.h"

struct OpenRequest {
        Manager *manager;
        TcpProbe *probe;
        Desktop desktop;
        RdpRedirect redirect;
        uint32_t host;
        uid_t actor;
        uint64_t started_usec;
        DesktopOpenDone done;
        void *userdata;
        OpenRequest *next;
};

static void open_request_free(OpenRequest *o) {
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

static void open_request_fail(OpenRequest *o, const char *name, const char *format, ...) _printf_(3, 4);
static void open_request_fail(OpenRequest *o, const char *name, const char *format, ...) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        va_list ap;

        va_start(ap, format);
        (void) sd_bus_error_setfv(&e, name, format, ap);
        va_end(ap);
        o->done(NULL, &e, o->userdata);
}

void desktop_opens_free(Manager *m) {
        while (m->opens) {
                OpenRequest *o = m->opens;
                m->opens = o->next;
                open_request_fail(o, VDESK_ERROR_NOT_READY, "vdesk-brokerd is stopping");
                open_request_free(o);
        }
}

/* The .rdp file and FreeRDP line for an open whose guest answered. */
static void open_request_finish(OpenRequest *o) {
        _cleanup_(freep) char *rdp = NULL, *cmd = NULL;
        const Desktop *d = &o->desktop;
        char host[16];
        RdpTarget t;
        int r;

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
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                (void) sd_bus_error_set_errnof(&e, r, "Cannot write the .rdp file of %s: %m", d->name);
                o->done(NULL, &e, o->userdata);
                return;
        }
        log_event(LOG_INFO, MID_DESKTOP_OPENED,
                  "VDESK_DESKTOP=%s", d->name,
                  "VDESK_ACCOUNT=%s", d->account,
                  "VDESK_PORT=%u", d->rdp_port,
                  "VDESK_HOST=%s", host,
                  "VDESK_WAITED_MSEC=%llu", (now_usec() - o->started_usec) / USEC_PER_MSEC,
                  "VDESK_ACTOR_UID=%u", (unsigned) o->actor,
                  "MESSAGE=Desktop %s of %s opened at %s:%u", d->name, d->account, host, d->rdp_port);
        idle_touch(o->manager, d->name);
        o->done(&(DesktopOpened) {
                        .desktop = d->name,
                        .host = host,
                        .port = d->rdp_port,
                        .rdp_file = rdp,
                        .freerdp_command = cmd,
                }, NULL, o->userdata);
}

static void on_desktop_answers(TcpProbe *p, int result, void *userdata) {
        OpenRequest *o = userdata;
        Manager *m = o->manager;

        open_request_unlink(m, o);
        if (result < 0)
                open_request_fail(o, VDESK_ERROR_NOT_READY, "Desktop %s did not answer on port %u within %u s",
                                  o->desktop.name, o->desktop.rdp_port, m->config.open_timeout_sec);
        else
                open_request_finish(o);
        /* The probe is done with: free it from here is fine, it calls us last. */
        open_request_free(o);
}

/* Its domain started (or running already): wait for the guest. */
static void on_open_started(Manager *m, const char *name, int r, const sd_bus_error *e, void *userdata) {
        OpenRequest *o = userdata;

        if (r >= 0)
                r = tcp_probe_start(m->event, o->host, o->desktop.rdp_port,
                                    (uint64_t) m->config.open_timeout_sec * USEC_PER_SEC,
                                    on_desktop_answers, o, &o->probe);
        if (r >= 0)
                return;
        open_request_unlink(m, o);
        if (e)
                o->done(NULL, e, o->userdata);
        else
                open_request_fail(o, SD_BUS_ERROR_FAILED, "Cannot wait for %s: %s", name, strerror(-r));
        open_request_free(o);
}

int desktop_open(Manager *m, Desktop *d, const RdpRedirect *redirect, uid_t actor, DesktopOpenDone done,
                 void *userdata, sd_bus_error *error) {
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
                .host = host,
                .actor = actor,
                .started_usec = now_usec(),
                .done = done,
                .userdata = userdata,
        };
        *d = (Desktop) {};
        r = desktop_start_async(m, o->desktop.name, actor, on_open_started, o);
        if (r < 0) {
                open_request_free(o);
                return r;
        }
        o->next = m->opens;
        m->opens = o;
        return 0;
}
