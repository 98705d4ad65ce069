/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "bus-util.h"
#include "i18n.h"
#include "log.h"
#include "portal.h"
#include "util.h"

static void request_free(Request *q) {
        if (!q)
                return;
        if (q->prev)
                q->prev->next = q->next;
        else if (q->portal->requests == q)
                q->portal->requests = q->next;
        if (q->next)
                q->next->prev = q->prev;
        for (unsigned i = 0; i < PORTAL_CALLS_MAX; i++) {
                sd_bus_slot_unref(q->slot[i]);
                sd_bus_message_unref(q->reply[i]);
        }
        open_job_unwait(q);
        sd_event_source_disable_unref(q->wait_timer);
        if (q->post)
                MHD_destroy_post_processor(q->post);
        /* passwords and codes do not stay in freed memory */
        for (size_t i = 0; i < q->n_fields; i++) {
                free(q->fields[i].key);
                q->fields[i].value = erase_and_free(q->fields[i].value);
        }
        free(q->scratch);
        free(q->url);
        free(q);
}

void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
        request_free(*con_cls);
        *con_cls = NULL;
}

const char *request_field(Request *q, const char *key) {
        for (size_t i = 0; i < q->n_fields; i++)
                if (streq(q->fields[i].key, key))
                        return q->fields[i].value ?: "";
        return NULL;
}

static enum MHD_Result on_post_data(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                                    const char *content_type, const char *transfer_encoding, const char *data,
                                    uint64_t off, size_t size) {
        Request *q = cls;
        FormField *f = NULL;
        char *v;
        size_t old;

        if (filename)
                return MHD_NO;          /* no form of the portal uploads files */
        for (size_t i = 0; i < q->n_fields; i++)
                if (streq(q->fields[i].key, key))
                        f = &q->fields[i];
        if (!f) {
                if (q->n_fields >= PORTAL_FIELDS_MAX)
                        return MHD_NO;
                f = &q->fields[q->n_fields];
                f->key = strdup(key);
                if (!f->key)
                        return MHD_NO;
                q->n_fields++;
        }
        /* a value may come in pieces */
        old = f->value ? strlen(f->value) : 0;
        v = malloc(old + size + 1);
        if (!v)
                return MHD_NO;
        if (old)
                memcpy(v, f->value, old);
        memcpy(v + old, data, size);
        v[old + size] = 0;
        erase_and_free(f->value);
        f->value = v;
        return MHD_YES;
}

/* MHD takes up a resumed connection at its next MHD_run(), which the loop
 * makes soon (portal_mhd_later()): never MHD_run() from here, which may be
 * called from within MHD's own handler. */
static void request_resume(Request *q) {
        if (!q->suspended)
                return;
        q->suspended = false;
        MHD_resume_connection(q->conn);
        q->portal->mhd_again = false;
        portal_mhd_later(q->portal);
}

void request_wake(Request *q) {
        request_resume(q);
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Request *q = userdata;

        for (unsigned i = 0; i < PORTAL_CALLS_MAX; i++)
                if (q->slot[i] && sd_bus_get_current_slot(sd_bus_message_get_bus(m)) == q->slot[i]) {
                        q->reply[i] = sd_bus_message_ref(m);
                        q->slot[i] = sd_bus_slot_unref(q->slot[i]);
                        break;
                }
        if (q->pending > 0 && --q->pending == 0)
                request_resume(q);
        return 1;
}

int request_call(Request *q, unsigned slot, const char *dest, const char *path, const char *iface,
                 const char *member, uint64_t timeout_usec, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        assert(slot < PORTAL_CALLS_MAX);
        q->reply[slot] = sd_bus_message_unref(q->reply[slot]);
        va_start(ap, types);
        r = bus_message_new_callv(q->portal->bus, &m, dest, path, iface, member, types, ap);
        va_end(ap);
        if (r < 0)
                return r;
        r = sd_bus_call_async(q->portal->bus, &q->slot[slot], m, on_reply, q, timeout_usec);
        if (r < 0)
                return r;
        q->pending++;
        return 0;
}

bool reply_is(sd_bus_message *m, const char *name) {
        return m && sd_bus_message_is_method_error(m, name);
}

/* What every answer carries: no framing, no inline script, no referrer,
 * and nothing private kept by a cache or the back button. */
static void add_common_headers(Request *q, struct MHD_Response *resp, bool cacheable) {
        static const char *const headers[] = {
                "Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; "
                        "img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                        "base-uri 'none'",
                "X-Frame-Options", "DENY",
                "Referrer-Policy", "no-referrer",
                "X-Content-Type-Options", "nosniff",
                "Cross-Origin-Opener-Policy", "same-origin",
        };

        for (size_t i = 0; i < ELEMENTSOF(headers); i += 2)
                (void) MHD_add_response_header(resp, headers[i], headers[i + 1]);
        (void) MHD_add_response_header(resp, "Cache-Control", cacheable ? "public, max-age=3600" : "no-store");
        if (q->portal->tls)
                (void) MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
        (void) MHD_add_response_header(resp, "Vary", "Cookie, Accept-Language");
}

int respond(Request *q, unsigned status, const char *content_type, char *body, size_t size,
            const char *const *headers) {
        struct MHD_Response *resp;
        enum MHD_Result ok;

        resp = MHD_create_response_from_buffer_with_free_callback(size, body, free);
        if (!resp) {
                free(body);
                return -ENOMEM;
        }
        if (content_type)
                (void) MHD_add_response_header(resp, "Content-Type", content_type);
        add_common_headers(q, resp, status == 200 && startswith(q->url, "/static/"));
        for (size_t i = 0; headers && headers[i]; i += 2)
                (void) MHD_add_response_header(resp, headers[i], headers[i + 1]);
        ok = MHD_queue_response(q->conn, status, resp);
        MHD_destroy_response(resp);
        q->answered = true;
        return ok == MHD_YES ? 0 : -EIO;
}

int respond_redirect(Request *q, const char *location, const char *const *headers) {
        const char *h[16] = { "Location", location };
        size_t n = 2;

        for (size_t i = 0; headers && headers[i] && n + 2 < ELEMENTSOF(h); i += 2) {
                h[n++] = headers[i];
                h[n++] = headers[i + 1];
        }
        /* 303: the browser comes back with GET, so a reload posts nothing twice */
        return respond(q, 303, NULL, strdup(""), 0, h);
}

/* A request as its headers describe it (address, session, language, a
 * form to come), on the portal's list of requests. */
static Request *request_new(Portal *p, struct MHD_Connection *conn, const char *url, const char *method) {
        const union MHD_ConnectionInfo *ci;
        const char *ctype;
        Request *q;

        q = calloc(1, sizeof *q);
        if (!q)
                return NULL;
        q->portal = p;
        q->conn = conn;
        q->method = method;
        q->url = strdup(url);
        if (!q->url) {
                free(q);
                return NULL;
        }
        ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        sockaddr_address_text(ci ? ci->client_addr : NULL, q->address);
        q->token = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, PORTAL_COOKIE_SESSION);
        /* a token is 64 hex digits: anything else is no session (and never
         * reaches the bus, which takes UTF-8 only) */
        if (q->token && (strlen(q->token) != 64 || strspn(q->token, "0123456789abcdef") != 64))
                q->token = NULL;
        q->lang = i18n_choose(MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, PORTAL_COOKIE_LANG),
                              MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Language"));
        ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
        if (streq(method, "POST") && ctype)
                q->post = MHD_create_post_processor(conn, 1024, on_post_data, q);
        q->next = p->requests;
        if (q->next)
                q->next->prev = q;
        p->requests = q;
        return q;
}

/* A piece of the body: to the form's fields, or refused (too large, or
 * not a form) once the page runs. */
static void request_take_body(Request *q, const char *data, size_t size) {
        q->body_size += size;
        if (q->body_size > PORTAL_BODY_MAX || !q->post)
                q->body_refused = true;
        else if (MHD_post_process(q->post, data, size) != MHD_YES)
                q->body_refused = true;
}

/* Runs the request's page (again, each time it is woken): its answer, 503
 * while the portal stops, 500 if the page failed, or the connection
 * suspended while the page waits. < 0: no answer could be queued. */
static int request_answer(Request *q) {
        int r;

        if (q->portal->stopping) {
                const char *text = "The portal is restarting; try again in a moment.\n";

                return respond(q, 503, "text/plain; charset=utf-8", strdup(text), strlen(text), NULL);
        }
        if (!q->page)
                q->page = route(q);
        /* one language per request, set before each run of its page */
        i18n_use(q->lang);
        r = q->page(q);
        if (r < 0) {
                const char *text = "The portal failed; try again.\n";

                log_warning_errno(r, "%s %s from %s failed: %m", q->method, q->url, q->address);
                if (!q->answered)
                        return respond(q, 500, "text/plain; charset=utf-8", strdup(text), strlen(text), NULL);
                return 0;
        }
        /* waiting for the bus (or an open): MHD looks again when woken */
        if (!q->answered && !q->suspended) {
                q->suspended = true;
                MHD_suspend_connection(q->conn);
        }
        return 0;
}

enum MHD_Result request_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                const char *version, const char *upload_data, size_t *upload_data_size,
                                void **con_cls) {
        Request *q = *con_cls;

        /* MHD calls with the headers first, then with each piece of the
         * body, then without one until the request is answered */
        if (!q) {
                q = request_new(cls, conn, url, method);
                if (!q)
                        return MHD_NO;
                *con_cls = q;
                return MHD_YES;
        }
        if (*upload_data_size > 0) {
                request_take_body(q, upload_data, *upload_data_size);
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (q->answered)
                return MHD_YES;
        return request_answer(q) < 0 ? MHD_NO : MHD_YES;
}

void csrf_token(const Portal *p, const char *purpose, const char *secret, char ret[static SHA256_HEX_SIZE]) {
        _cleanup_(freep) char *text = NULL;
        uint8_t d[SHA256_DIGEST_SIZE];
        int n;

        /* purpose, a NUL, the secret */
        n = asprintf(&text, "%s%c%s", purpose, 0, secret);
        if (n < 0)
                abort();        /* a few bytes; no page can be made without it */
        hmac_sha256(p->secret, sizeof p->secret, text, (size_t) n, d);
        hex_encode(d, sizeof d, ret);
}

/* A state-changing form proves it was made by this portal for this
 * browser: its "csrf" field is the HMAC of a secret of the browser's (the
 * session token, or before sign-in the pre-session cookie), which another
 * site can neither read nor make. Compared in constant time. */
bool csrf_check(Request *q, const char *purpose, const char *secret) {
        const char *given = request_field(q, "csrf");
        char want[SHA256_HEX_SIZE];
        unsigned char diff = 0;

        if (isempty(secret) || !given || strlen(given) != SHA256_HEX_SIZE - 1)
                return false;
        csrf_token(q->portal, purpose, secret, want);
        for (size_t i = 0; i < SHA256_HEX_SIZE - 1; i++)
                diff |= (unsigned char) (want[i] ^ given[i]);
        return diff == 0;
}

void requests_finish(Portal *p) {
        p->stopping = true;
        for (Request *q = p->requests; q; q = q->next) {
                /* its calls and waits are dropped: it answers 503 when MHD runs it */
                for (unsigned i = 0; i < PORTAL_CALLS_MAX; i++)
                        q->slot[i] = sd_bus_slot_unref(q->slot[i]);
                q->pending = 0;
                open_job_unwait(q);
                q->wait_timer = sd_event_source_disable_unref(q->wait_timer);
                request_resume(q);
        }
        /* MHD answers the resumed ones; none may stay suspended when it stops */
        for (unsigned i = 0; i < 100; i++) {
                bool suspended = false;

                (void) MHD_run(p->mhd);
                for (Request *q = p->requests; q; q = q->next)
                        suspended = suspended || q->suspended;
                if (!suspended)
                        break;
        }
}
