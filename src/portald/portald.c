/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "daemon-util.h"
#include "i18n.h"
#include "log.h"
#include "portal.h"
#include "util.h"

static const char help[] =
        "vdesk-portald [OPTIONS]\n\n"
        "Serves the staff's web portal: sign in, open a desktop, get its .rdp file.\n\n"
        "  --config=PATH    configuration file (default " VDESK_CONFIG_DEFAULT_PATH ")\n"
        "  --data-dir=PATH  the stylesheet and script (default " PKGDATADIR "/portal)\n";

/* MHD's descriptors are behind one epoll descriptor; the loop watches it
 * and MHD's own timeout, and hands both back to MHD_run(). */
void portal_mhd_later(Portal *p) {
        (void) sd_event_source_set_enabled(p->mhd_defer, SD_EVENT_ONESHOT);
}

static void mhd_rearm(Portal *p) {
        MHD_UNSIGNED_LONG_LONG ms;

        if (MHD_get_timeout(p->mhd, &ms) != MHD_YES) {
                (void) sd_event_source_set_enabled(p->mhd_timer, SD_EVENT_OFF);
                return;
        }
        /* 0: MHD has work already (TLS data it holds, a resumed
         * connection): on the loop's next iteration, after the others. MHD
         * also says 0 while a TLS connection it reads has nothing more
         * (a request's body still on its way): after a first immediate
         * run, it is run again after 1 ms, not in a busy loop. */
        if (ms == 0 && !p->mhd_again) {
                (void) sd_event_source_set_enabled(p->mhd_timer, SD_EVENT_OFF);
                p->mhd_again = true;
                portal_mhd_later(p);
                return;
        }
        if (ms == 0)
                ms = 1;
        else
                p->mhd_again = false;
        (void) sd_event_source_set_time_relative(p->mhd_timer, (uint64_t) ms * 1000);
        (void) sd_event_source_set_enabled(p->mhd_timer, SD_EVENT_ONESHOT);
}

void portal_mhd_kick(Portal *p) {
        (void) MHD_run(p->mhd);
        mhd_rearm(p);
}


static int on_mhd_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Portal *p = userdata;

        p->mhd_again = false;   /* news on a socket: an immediate run may be needed again */
        portal_mhd_kick(p);
        return 0;
}

static int on_mhd_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        portal_mhd_kick(userdata);
        return 0;
}

static int on_mhd_defer(sd_event_source *s, void *userdata) {
        portal_mhd_kick(userdata);
        return 0;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
        _cleanup_(freep) char *s = NULL;

        if (vasprintf(&s, fmt, ap) < 0)
                return;
        /* MHD ends its lines itself */
        s[strcspn(s, "\n")] = 0;
        log_debug("libmicrohttpd: %s", s);
}

/* The certificate and key in memory, as MHD takes them. The key is read
 * only if nobody else may read it (root and the portal's group at most). */
static int read_tls(const VdeskConfig *c, char **ret_cert, char **ret_key) {
        _cleanup_(freep) char *cert = NULL;
        _cleanup_(closep) int fd = -1;
        struct stat st;
        char *key = NULL;
        int r;

        r = read_full_file(c->portal_certificate, 1024 * 1024, &cert, NULL);
        if (r < 0)
                return log_error_errno(r, "[Portal] Certificate=%s cannot be read: %m", c->portal_certificate);
        fd = open(c->portal_key, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_error_errno(-errno, "[Portal] Key=%s cannot be opened: %m", c->portal_key);
        if (fstat(fd, &st) < 0)
                return log_error_errno(-errno, "[Portal] Key=%s: %m", c->portal_key);
        if (st.st_mode & 0007)
                return log_error_errno(-EPERM, "[Portal] Key=%s may be read by anyone (mode %04o): "
                                       "make it 0640 root:vdesk-portal", c->portal_key, st.st_mode & 07777);
        r = read_full_fd(fd, 1024 * 1024, &key, NULL);
        if (r < 0)
                return log_error_errno(r, "[Portal] Key=%s cannot be read: %m", c->portal_key);
        *ret_cert = TAKE_PTR(cert);
        *ret_key = key;
        return 0;
}

int portal_mhd_start(Portal *p, int listen_fd) {
        _cleanup_(freep) char *cert = NULL;
        _cleanup_(erase_and_freep) char *key = NULL;
        unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
        const union MHD_DaemonInfo *info;
        int r;

        p->tls = !isempty(p->config.portal_certificate);
        if (p->tls) {
                r = read_tls(&p->config, &cert, &key);
                if (r < 0)
                        return r;
                flags |= MHD_USE_TLS;
        } else if (!socket_is_local(listen_fd) && !p->config.portal_plain_http)
                return log_error_errno(-EPERM, "[Portal] Certificate= and Key= are empty and the portal listens "
                                       "beyond this host: set them, or AllowPlainHTTP=yes behind a TLS proxy");
        else
                log_warning("The portal speaks plain HTTP: passwords cross the network readable unless it "
                            "listens on loopback or a TLS proxy is in front (set [Portal] Certificate= and Key=).");

        p->mhd = MHD_start_daemon(flags, 0, NULL, NULL, request_handler, p,
                                  MHD_OPTION_LISTEN_SOCKET, listen_fd,
                                  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, p,
                                  MHD_OPTION_NOTIFY_COMPLETED, request_completed, p,
                                  MHD_OPTION_CONNECTION_LIMIT, p->config.portal_max_connections,
                                  MHD_OPTION_PER_IP_CONNECTION_LIMIT, p->config.portal_max_per_address,
                                  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) PORTAL_HEADERS_MAX,
                                  MHD_OPTION_CONNECTION_TIMEOUT, 60U,
                                  p->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
                                  MHD_OPTION_HTTPS_MEM_KEY, key,
                                  MHD_OPTION_END);
        if (!p->mhd)
                return log_error_errno(-EINVAL, "libmicrohttpd refused to start%s",
                                       p->tls ? " (is [Portal] Key= the key of Certificate=?)" : "");
        info = MHD_get_daemon_info(p->mhd, MHD_DAEMON_INFO_EPOLL_FD);
        if (!info)
                return log_error_errno(-EINVAL, "libmicrohttpd has no epoll descriptor");
        r = sd_event_add_io(p->event, &p->mhd_io, info->epoll_fd, EPOLLIN, on_mhd_io, p);
        if (r >= 0)
                /* MHD's timeouts to the millisecond, not sd-event's default 250 ms slack */
                r = sd_event_add_time_relative(p->event, &p->mhd_timer, CLOCK_MONOTONIC, 0, 1000, on_mhd_timer, p);
        if (r >= 0)
                r = sd_event_add_defer(p->event, &p->mhd_defer, on_mhd_defer, p);
        /* after everything else: the bus's replies and timeouts go first
         * (a defer source made pending from its own dispatch is always the
         * oldest pending source of its priority, and would starve them) */
        if (r >= 0)
                r = sd_event_source_set_priority(p->mhd_defer, SD_EVENT_PRIORITY_IDLE);
        if (r >= 0)
                r = sd_event_source_set_enabled(p->mhd_defer, SD_EVENT_OFF);
        if (r < 0)
                return log_error_errno(r, "Cannot watch libmicrohttpd: %m");
        mhd_rearm(p);
        return 0;
}

static void portal_done(Portal *p) {
        /* MHD aborts when it stops with a connection suspended */
        if (p->mhd)
                requests_finish(p);
        open_jobs_free(p);
        p->mhd_io = sd_event_source_disable_unref(p->mhd_io);
        p->mhd_timer = sd_event_source_disable_unref(p->mhd_timer);
        p->mhd_defer = sd_event_source_disable_unref(p->mhd_defer);
        if (p->mhd)
                MHD_stop_daemon(p->mhd);
        sd_bus_flush_close_unref(p->bus);
        sd_event_unref(p->event);
        free(p->data_dir);
        free(p->css);
        free(p->js);
        config_done(&p->config);
        explicit_bzero(p->secret, sizeof p->secret);
}

static int load_static(Portal *p) {
        _cleanup_(freep) char *css = NULL, *js = NULL;
        int r;

        if (asprintf(&css, "%s/static/portal.css", p->data_dir) < 0 ||
            asprintf(&js, "%s/static/portal.js", p->data_dir) < 0)
                return log_oom();
        r = read_full_file(css, 1024 * 1024, &p->css, &p->css_size);
        if (r >= 0)
                r = read_full_file(js, 1024 * 1024, &p->js, &p->js_size);
        if (r < 0)
                return log_error_errno(r, "Cannot read the portal's stylesheet and script in %s/static: %m",
                                       p->data_dir);
        return 0;
}

/* The listening socket: systemd's (vdesk-portald.socket), else [Portal]
 * Listen=. */
static int listen_socket(Portal *p) {
        int n = sd_listen_fds(true);

        if (n > 1)
                return log_error_errno(-EINVAL, "systemd passed %d sockets; the portal takes one", n);
        /* The directory throttles sign-ins by the browser's address: a
         * Unix socket has none to give. */
        if (n == 1) {
                if (sd_is_socket(SD_LISTEN_FDS_START, AF_INET, SOCK_STREAM, 1) <= 0 &&
                    sd_is_socket(SD_LISTEN_FDS_START, AF_INET6, SOCK_STREAM, 1) <= 0)
                        return log_error_errno(-EINVAL, "The socket from systemd is no listening TCP socket "
                                               "(the portal needs its browsers' addresses)");
                return SD_LISTEN_FDS_START;
        }
        if (p->config.portal_listen[0] == '/')
                return log_error_errno(-EINVAL, "[Portal] Listen=%s: the portal listens on an address and port, "
                                       "not a Unix socket (it needs its browsers' addresses)", p->config.portal_listen);
        return socket_listen_spec("[Portal] Listen", p->config.portal_listen, 128);
}

int main(int argc, char *argv[]) {
        Portal p = {};
        DaemonArgs args;
        int r, fd;

        r = daemon_start(argc, argv, "data-dir", help, &args, &p.config);
        if (r != 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        p.data_dir = strdup(args.data_path ?: PKGDATADIR "/portal");
        if (!p.data_dir)
                return log_oom(), EXIT_FAILURE;
        if (load_static(&p) < 0)
                return portal_done(&p), EXIT_CONFIG;
        i18n_setup(p.data_dir);
        r = random_bytes(p.secret, sizeof p.secret);
        if (r < 0)
                return log_error_errno(r, "Cannot read random bytes: %m"), portal_done(&p), EXIT_FAILURE;

        r = daemon_event_new(&p.event);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the event loop: %m"), portal_done(&p), EXIT_FAILURE;
        if (daemon_bus_open(&p.config, p.event, &p.bus) < 0)
                return portal_done(&p), EXIT_FAILURE;
        fd = listen_socket(&p);
        if (fd < 0)
                return portal_done(&p), EXIT_CONFIG;
        if (portal_mhd_start(&p, fd) < 0) {
                portal_done(&p);
                return EXIT_CONFIG;
        }
        r = daemon_serve(p.bus, p.event, NULL, p.tls ? "Serving the portal over HTTPS." :
                         "Serving the portal over plain HTTP.");
        portal_done(&p);
        return r;
}
