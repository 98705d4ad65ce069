/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <string.h>

#include "bus-api.h"
#include "log.h"
#include "portal.h"
#include "util.h"

/* A desktop opened is shown (its .rdp file) for this long, a failure
 * for a moment: then both are forgotten. */
#define OPEN_KEEP_USEC (60ULL * 60 * USEC_PER_SEC)
#define OPEN_KEEP_FAILED_USEC (2ULL * 60 * USEC_PER_SEC)

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

static bool open_job_expired(const OpenJob *j, uint64_t now) {
        return j->state != OPEN_PENDING &&
                now - j->finished_usec > (j->state == OPEN_FAILED ? OPEN_KEEP_FAILED_USEC : OPEN_KEEP_USEC);
}

static void open_job_unlink(Portal *p, OpenJob **pj) {
        OpenJob *j = *pj;

        *pj = j->next;
        p->n_opens--;
        open_job_free(j);
}

/* Drops the opens shown long enough, and j if given; when all that is kept
 * is still PORTAL_OPENS_MAX, the finished one made first (the list is
 * newest first). */
static void open_jobs_prune(Portal *p, OpenJob *drop) {
        uint64_t now = now_usec();
        OpenJob **oldest = NULL;

        for (OpenJob **pj = &p->opens; *pj;) {
                if (*pj == drop || open_job_expired(*pj, now))
                        open_job_unlink(p, pj);
                else {
                        if ((*pj)->state != OPEN_PENDING)
                                oldest = pj;
                        pj = &(*pj)->next;
                }
        }
        if (p->n_opens >= PORTAL_OPENS_MAX && oldest)
                open_job_unlink(p, oldest);
}

static int on_opened(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        OpenJob *j = userdata;
        const char *desktop, *host, *rdp, *freerdp;
        uint16_t port;
        int r;

        j->slot = sd_bus_slot_unref(j->slot);
        j->finished_usec = now_usec();
        if (sd_bus_message_is_method_error(m, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(m);

                /* the message is the broker's, for the journal: staff see
                 * the portal's own words for the error's name */
                j->state = OPEN_FAILED;
                j->error_name = strdup(e->name);
                log_info("Opening %s for %s failed: %s: %s", j->name, j->account, e->name, e->message ?: "");
        } else {
                r = sd_bus_message_read(m, "ssqss", &desktop, &host, &port, &rdp, &freerdp);
                if (r < 0) {
                        j->state = OPEN_FAILED;
                        j->error_name = strdup(SD_BUS_ERROR_INVALID_ARGS);
                        log_warning_errno(r, "The broker's answer to opening %s cannot be read: %m", j->name);
                } else {
                        j->desktop = strdup(desktop);
                        j->host = strdup(host);
                        j->port = port;
                        j->rdp_file = strdup(rdp);
                        j->freerdp = strdup(freerdp);
                        j->state = j->desktop && j->host && j->rdp_file && j->freerdp ? OPEN_READY : OPEN_FAILED;
                }
        }
        wake_waiters(j);
        return 1;
}

int open_job_start(Portal *p, const char *token, const char *account, const char *name, bool restart,
                   OpenJob **ret) {
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

        /* what is being opened counts, per account (however many
         * sessions it has) and in all */
        owner_of(token, owner);
        for (j = p->opens; j; j = j->next)
                if (j->state == OPEN_PENDING && streq(j->account, account))
                        mine++;
        if (mine >= PORTAL_OPENS_PER_ACCOUNT || p->n_opens >= PORTAL_OPENS_MAX)
                return -EUSERS;

        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        *j = (OpenJob) { .portal = p, .restart = restart, .state = OPEN_PENDING };
        memcpy(j->owner, owner, sizeof owner);
        snprintf(j->account, sizeof j->account, "%s", account);
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
