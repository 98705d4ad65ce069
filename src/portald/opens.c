/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <string.h>

#include "bus-api.h"
#include "log.h"
#include "portal.h"
#include "util.h"

/* A finished open is shown for this long, then forgotten. */
#define OPEN_KEEP_USEC (60ULL * 60 * USEC_PER_SEC)

static uint64_t now_usec_mono(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static void owner_of(const char *token, char ret[static SHA256_HEX_SIZE]) {
        sha256_hex(token, strlen(token), ret);
}

static void wake_waiters(OpenJob *j) {
        while (j->waiters) {
                Request *q = j->waiters;

                j->waiters = q->wait_next;
                q->waiting = NULL;
                q->wait_next = NULL;
                request_wake(q);
        }
}

static void open_job_free(OpenJob *j) {
        wake_waiters(j);
        sd_bus_slot_unref(j->slot);
        free(j->desktop);
        free(j->host);
        free(j->rdp_file);
        free(j->freerdp);
        free(j->error_name);
        free(j->error_message);
        free(j);
}

void open_jobs_free(Portal *p) {
        while (p->opens) {
                OpenJob *j = p->opens;

                p->opens = j->next;
                open_job_free(j);
        }
        p->n_opens = 0;
}

void open_job_unwait(Request *q) {
        OpenJob *j = q->waiting;

        if (!j)
                return;
        for (Request **w = &j->waiters; *w; w = &(*w)->wait_next)
                if (*w == q) {
                        *w = q->wait_next;
                        break;
                }
        q->waiting = NULL;
        q->wait_next = NULL;
}

OpenJob *open_job_find(Portal *p, const char *token, const char *name) {
        char owner[SHA256_HEX_SIZE];

        owner_of(token, owner);
        for (OpenJob *j = p->opens; j; j = j->next)
                if (streq(j->owner, owner) && streq(j->name, name))
                        return j;
        return NULL;
}

/* Drops finished opens older than OPEN_KEEP_USEC, and j if given. */
static void open_jobs_prune(Portal *p, OpenJob *drop) {
        uint64_t now = now_usec_mono();

        for (OpenJob **pj = &p->opens; *pj;) {
                OpenJob *j = *pj;

                if (j == drop || (j->state != OPEN_PENDING && now - j->finished_usec > OPEN_KEEP_USEC)) {
                        *pj = j->next;
                        p->n_opens--;
                        open_job_free(j);
                } else
                        pj = &j->next;
        }
}

static int on_opened(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        OpenJob *j = userdata;
        const char *desktop, *host, *rdp, *freerdp;
        uint16_t port;
        int r;

        j->slot = sd_bus_slot_unref(j->slot);
        j->finished_usec = now_usec_mono();
        if (sd_bus_message_is_method_error(m, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(m);

                j->state = OPEN_FAILED;
                j->error_name = strdup(e->name);
                j->error_message = strdup(e->message ?: e->name);
                log_info("Opening %s failed: %s", j->name, e->name);
        } else {
                r = sd_bus_message_read(m, "ssqss", &desktop, &host, &port, &rdp, &freerdp);
                if (r < 0) {
                        j->state = OPEN_FAILED;
                        j->error_name = strdup(SD_BUS_ERROR_INVALID_ARGS);
                        j->error_message = strdup("The broker's answer could not be read");
                } else {
                        j->state = OPEN_READY;
                        j->desktop = strdup(desktop);
                        j->host = strdup(host);
                        j->port = port;
                        j->rdp_file = strdup(rdp);
                        j->freerdp = strdup(freerdp);
                }
        }
        wake_waiters(j);
        return 1;
}

int open_job_start(Portal *p, const char *token, const char *name, bool restart, OpenJob **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        char owner[SHA256_HEX_SIZE];
        unsigned mine = 0;
        OpenJob *j, *old;
        int r;

        /* Opening again what is being opened joins it; what was opened before
         * is opened anew (the desktop may have stopped since). */
        old = open_job_find(p, token, name);
        if (old && old->state == OPEN_PENDING && !restart) {
                *ret = old;
                return 0;
        }
        if (old && old->state == OPEN_PENDING)
                return -EBUSY;
        open_jobs_prune(p, old);

        owner_of(token, owner);
        for (j = p->opens; j; j = j->next)
                if (streq(j->owner, owner))
                        mine++;
        if (mine >= PORTAL_OPENS_PER_SESSION || p->n_opens >= PORTAL_OPENS_MAX)
                return -EUSERS;

        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        *j = (OpenJob) { .portal = p, .restart = restart, .state = OPEN_PENDING, .started_usec = now_usec_mono() };
        memcpy(j->owner, owner, sizeof owner);
        snprintf(j->name, sizeof j->name, "%s", name);

        r = sd_bus_message_new_method_call(p->bus, &m, BROKERD, restart ? "RestartMyDesktop" : "OpenMyDesktop");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", token, name);
        /* as long as the broker may take to boot it, and a little more */
        if (r >= 0)
                r = sd_bus_call_async(p->bus, &j->slot, m, on_opened, j,
                                      ((uint64_t) p->config.open_timeout_sec + 30) * USEC_PER_SEC);
        if (r < 0) {
                open_job_free(j);
                return r;
        }
        j->next = p->opens;
        p->opens = j;
        p->n_opens++;
        *ret = j;
        return 0;
}
