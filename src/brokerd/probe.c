/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "macro.h"
#include "probe.h"

/* A SYN towards a guest that is not up yet gets no answer at all: a try
 * is given up after ATTEMPT_MIN_USEC at first, so that a guest that has
 * just come up is seen soon after, then after twice as long each time up
 * to ATTEMPT_MAX_USEC, so that a far host's round trip fits; a refused
 * one is retried after the pause. */
#define ATTEMPT_MIN_USEC (200 * USEC_PER_MSEC)
#define ATTEMPT_MAX_USEC (1 * USEC_PER_SEC)
#define PAUSE_USEC   (100 * USEC_PER_MSEC)

struct TcpProbe {
        sd_event *event;
        uint32_t address;
        uint16_t port;
        uint64_t attempt_usec;          /* how long the next try waits for an answer */
        int fd;
        sd_event_source *io, *attempt, *deadline;
        TcpProbeFunc done;
        void *userdata;
};

static int attempt_start(TcpProbe *p);

static void attempt_end(TcpProbe *p) {
        p->io = sd_event_source_disable_unref(p->io);
        p->attempt = sd_event_source_disable_unref(p->attempt);
        if (p->fd >= 0)
                close(p->fd);
        p->fd = -1;
}

static void finish(TcpProbe *p, int result) {
        attempt_end(p);
        p->deadline = sd_event_source_disable_unref(p->deadline);
        p->done(p, result, p->userdata);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        TcpProbe *p = userdata;

        p->attempt = sd_event_source_disable_unref(p->attempt);
        if (attempt_start(p) < 0)
                finish(p, -EIO);
        return 0;
}

static void retry_later(TcpProbe *p) {
        uint64_t now = 0;

        attempt_end(p);
        (void) sd_event_now(p->event, CLOCK_MONOTONIC, &now);
        if (sd_event_add_time(p->event, &p->attempt, CLOCK_MONOTONIC, now + PAUSE_USEC, 0, on_retry, p) < 0)
                finish(p, -EIO);
}

static int on_writable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        TcpProbe *p = userdata;
        int err = 0;
        socklen_t len = sizeof err;

        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        if (err == 0)
                finish(p, 0);
        else
                retry_later(p);
        return 0;
}

static int on_attempt_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        TcpProbe *p = userdata;

        p->attempt_usec = MIN(p->attempt_usec * 2, ATTEMPT_MAX_USEC);
        retry_later(p);
        return 0;
}

static int attempt_start(TcpProbe *p) {
        struct sockaddr_in sa = {
                .sin_family = AF_INET,
                .sin_port = htons(p->port),
                .sin_addr.s_addr = htonl(p->address),
        };
        uint64_t now = 0;
        int r;

        p->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (p->fd < 0)
                return -errno;
        if (connect(p->fd, (struct sockaddr *) &sa, sizeof sa) == 0) {
                finish(p, 0);
                return 0;
        }
        if (errno != EINPROGRESS) {
                retry_later(p);
                return 0;
        }
        r = sd_event_add_io(p->event, &p->io, p->fd, EPOLLOUT, on_writable, p);
        if (r < 0)
                return r;
        (void) sd_event_now(p->event, CLOCK_MONOTONIC, &now);
        if (p->attempt_usec == 0)
                p->attempt_usec = ATTEMPT_MIN_USEC;
        return sd_event_add_time(p->event, &p->attempt, CLOCK_MONOTONIC, now + p->attempt_usec, 0,
                                 on_attempt_timeout, p);
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        finish(userdata, -ETIMEDOUT);
        return 0;
}

int tcp_probe_start(sd_event *e, uint32_t address, uint16_t port, uint64_t timeout_usec,
                    TcpProbeFunc done, void *userdata, TcpProbe **ret) {
        TcpProbe *p = calloc(1, sizeof *p);
        uint64_t now = 0;
        int r;

        if (!p)
                return -ENOMEM;
        *p = (TcpProbe) { .event = sd_event_ref(e), .address = address, .port = port, .fd = -1,
                          .done = done, .userdata = userdata };
        (void) sd_event_now(e, CLOCK_MONOTONIC, &now);
        r = sd_event_add_time(e, &p->deadline, CLOCK_MONOTONIC, now + timeout_usec, 0, on_deadline, p);
        /* The first try runs from the loop too, so that done is never
         * called before this function has returned. */
        if (r >= 0)
                r = sd_event_add_time(e, &p->attempt, CLOCK_MONOTONIC, now, 0, on_retry, p);
        if (r < 0) {
                tcp_probe_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

TcpProbe *tcp_probe_free(TcpProbe *p) {
        if (!p)
                return NULL;
        attempt_end(p);
        sd_event_source_disable_unref(p->deadline);
        sd_event_unref(p->event);
        free(p);
        return NULL;
}
