/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <microhttpd.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "conf.h"
#include "i18n.h"
#include "sha256.h"
#include "socket-util.h"

/* vdesk-portald: the staff's web portal. HTTP and TLS are libmicrohttpd's,
 * run from the sd-event loop (its epoll descriptor is one of the loop's
 * sources); every page is made from the staff API of vdesk-directoryd and
 * vdesk-brokerd, called asynchronously while the page's connection is
 * suspended, so that one slow call holds nobody else. The portal keeps no
 * state of its own but the desktops being opened (OpenJob): the session is
 * the directory's token, in a cookie. */

#define PORTAL_COOKIE_SESSION "vdesk_session"
#define PORTAL_COOKIE_PRE     "vdesk_pre"       /* the sign-in forms' CSRF secret */
#define PORTAL_COOKIE_LANG    "vdesk_lang"

#define PORTAL_BODY_MAX       (16U * 1024U)     /* a form's body */
#define PORTAL_HEADERS_MAX    (32U * 1024U)     /* MHD's buffer for a request's headers */
#define PORTAL_FIELDS_MAX     16
#define PORTAL_CALLS_MAX      3                 /* bus calls one page waits for at once */
#define PORTAL_OPENS_MAX      4096              /* opens kept (being opened, or done and shown) */
#define PORTAL_OPENS_PER_ACCOUNT 8              /* desktops one account has being opened at once */

typedef struct Portal Portal;
typedef struct Request Request;
typedef struct OpenJob OpenJob;

typedef enum OpenState {
        OPEN_PENDING,
        OPEN_READY,
        OPEN_FAILED,
} OpenState;

/* A desktop being opened (or restarted) for one session: OpenMyDesktop
 * runs as long as the desktop boots, longer than a page may wait, so the
 * call is the portal's and the pages look at it. */
struct OpenJob {
        Portal *portal;
        char owner[SHA256_HEX_SIZE];    /* the session token's digest */
        char account[64];               /* whose (WhoAmI's): the bound on opens at once */
        char name[64];                  /* what was opened: a desktop or a category */
        bool restart;
        OpenState state;
        uint64_t finished_usec;
        char *desktop, *host, *rdp_file, *freerdp;
        uint16_t port;
        char *error_name;
        sd_bus_slot *slot;
        Request *waiters;               /* suspended event streams */
        OpenJob *next;
};

struct Portal {
        VdeskConfig config;
        sd_event *event;
        sd_bus *bus;
        struct MHD_Daemon *mhd;
        sd_event_source *mhd_io, *mhd_timer, *mhd_defer;
        bool tls;
        bool stopping;                  /* every request still waiting is answered 503 */
        bool mhd_again;                 /* MHD asked to run at once after such a run */
        uint8_t secret[32];             /* keys the CSRF tokens; new at every start */
        char *data_dir;                 /* static/ and, in a build tree, locale/ */
        char *css, *js;
        size_t css_size, js_size;
        OpenJob *opens;
        size_t n_opens;
        Request *requests;              /* every request MHD has given us, until it completes */
};

typedef struct FormField {
        char *key, *value;
} FormField;

typedef int (*PageFunc)(Request *q);

/* One HTTP request, from its headers to its answer. */
struct Request {
        Portal *portal;
        struct MHD_Connection *conn;
        char *url;
        const char *method;
        char address[SOCKADDR_TEXT_MAX];        /* the browser's */
        const Language *lang;                   /* the request's; gettext answers in it while its page runs */
        const char *token;                      /* the session cookie, or NULL */

        struct MHD_PostProcessor *post;
        FormField fields[PORTAL_FIELDS_MAX];
        size_t n_fields, body_size;
        bool body_refused;

        PageFunc page;
        unsigned step;                          /* the page's progress between calls */
        const char *arg;                        /* the URL's NAME, for /open/NAME... */
        sd_bus_message *reply[PORTAL_CALLS_MAX];
        sd_bus_slot *slot[PORTAL_CALLS_MAX];
        unsigned pending;
        bool suspended, answered;

        OpenJob *waiting;                       /* an event stream waiting on an open */
        Request *wait_next;
        sd_event_source *wait_timer;
        void *scratch;                          /* a page's own, freed with free() */
        Request *next, *prev;                   /* in Portal.requests */
};

/* portald.c */
int portal_mhd_start(Portal *p, int listen_fd);
void portal_mhd_kick(Portal *p);
/* Runs MHD on the loop's next iteration. */
void portal_mhd_later(Portal *p);

/* request.c */
enum MHD_Result request_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                const char *version, const char *upload_data, size_t *upload_data_size,
                                void **con_cls);
void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe);
/* Calls a method of directoryd or brokerd; the page runs again once every
 * call it made has its reply (or error) in q->reply[slot]. */
int request_call(Request *q, unsigned slot, const char *dest, const char *path, const char *iface,
                 const char *member, uint64_t timeout_usec, const char *types, ...);
const char *request_field(Request *q, const char *key);
void request_wake(Request *q);
/* Answers: the body is taken (freed by MHD). */
int respond(Request *q, unsigned status, const char *content_type, char *body, size_t size,
            const char *const *headers);
int respond_redirect(Request *q, const char *location, const char *const *headers);
/* Whether a reply is the error name. */
bool reply_is(sd_bus_message *m, const char *name);

/* CSRF tokens (request.c): what a form proves it was made for, for a
 * purpose (CSRF_PRE: the sign-in forms, keyed by the pre-session cookie;
 * CSRF_SESSION: the forms of a session, keyed by its token), so that one
 * cannot stand for the other. */
#define CSRF_PRE "pre"
#define CSRF_SESSION "session"
void csrf_token(const Portal *p, const char *purpose, const char *secret, char ret[static SHA256_HEX_SIZE]);
bool csrf_check(Request *q, const char *purpose, const char *secret);
/* Answers every request still waiting with 503, before MHD stops. */
void requests_finish(Portal *p);

/* pages.c */
PageFunc route(Request *q);

/* opens.c */
OpenJob *open_job_find(Portal *p, const char *token, const char *name);
int open_job_start(Portal *p, const char *token, const char *account, const char *name, bool restart,
                   OpenJob **ret);
void open_jobs_free(Portal *p);
void open_job_unwait(Request *q);
