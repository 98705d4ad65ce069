/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The portal's pages. Each is a PageFunc that runs again after the bus
 * calls it made have answered (q->step says how far it got); it answers
 * with a page, a redirect or an error. Every state-changing action is a
 * POST with a CSRF token; every page works without JavaScript. */

#include <errno.h>
#include <string.h>
#include <time.h>

#include "bus-api.h"
#include "bus-error.h"
#include "html.h"
#include "i18n.h"
#include "log.h"
#include "portal.h"
#include "util.h"

#define CALL_USEC (30ULL * USEC_PER_SEC)

/* The account behind the session, from WhoAmI. */
typedef struct Me {
        const char *id, *name, *role;
} Me;

/* HEAD is answered as GET is (MHD sends no body) */
static bool is_get(const Request *q) {
        return streq(q->method, "GET") || streq(q->method, "HEAD");
}

static const char *cookie_flags(Request *q) {
        /* Secure only means something over TLS: a browser drops a Secure
         * cookie that came over plain HTTP (which the portal speaks only on
         * loopback or behind a TLS proxy) */
        return q->portal->tls ? "; Path=/; HttpOnly; Secure; SameSite=Strict" : "; Path=/; HttpOnly; SameSite=Strict";
}

static char *cookie(Request *q, const char *name, const char *value, long max_age) {
        char *s;

        if (max_age >= 0) {
                if (asprintf(&s, "%s=%s%s; Max-Age=%ld", name, value, cookie_flags(q), max_age) < 0)
                        return NULL;
        } else if (asprintf(&s, "%s=%s%s", name, value, cookie_flags(q)) < 0)
                return NULL;
        return s;
}

static const char *state_text(const char *state) {
        if (streq(state, "running"))
                return _("running");
        if (streq(state, "stopped"))
                return _("stopped");
        if (streq(state, "defined"))
                return _("not started yet");
        return state;
}

static void format_since(int64_t usec, char buf[static 32]) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;

        if (usec <= 0 || !gmtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%d %H:%M UTC", &tm) == 0)
                strcpy(buf, "–");
}

static void page_begin(Request *q, Html *h, const char *title, const Me *me, const char *body_attrs) {
        const Language *lang = q->lang;
        const char *here = url_is_local_path(q->url) && is_get(q) ? q->url : "/desktops";

        html_printf(h, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                    "<title>%s – vdesk</title><link rel=\"stylesheet\" href=\"/static/portal.css\">"
                    "<script src=\"/static/portal.js\" defer></script>%S</head>\n<body%S>\n",
                    lang->tag, title, body_attrs && strstr(body_attrs, "data-events") ?
                    "<noscript><meta http-equiv=\"refresh\" content=\"3\"></noscript>" : "",
                    body_attrs ?: "");
        html_printf(h, "<header><span class=\"brand\">vdesk</span><nav>");
        if (me) {
                char csrf[SHA256_HEX_SIZE];

                csrf_token(q->portal, CSRF_SESSION, q->token, csrf);
                html_printf(h, "<a href=\"/desktops\">%s</a>", _("My desktops"));
                if (streq(me->role, "manager") || streq(me->role, "admin"))
                        html_printf(h, "<a href=\"/manage\">%s</a>", _("My departments"));
                html_printf(h, "<a href=\"/password\">%s</a>", _("Change password"));
                html_printf(h, "<form method=\"post\" action=\"/signout\" class=\"inline\">"
                            "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                            "<button type=\"submit\" id=\"signout\">%s</button></form>"
                            "<span class=\"who\">%s</span>", csrf, _("Sign out"), me->name);
        }
        html_printf(h, "<span class=\"lang\">");
        for (size_t i = 0; i < n_languages; i++)
                if (&languages[i] == lang)
                        html_printf(h, "<strong>%s</strong> ", languages[i].native);
                else
                        html_printf(h, "<a href=\"/lang?l=%s&amp;next=%s\" hreflang=\"%s\" lang=\"%s\">%s</a> ",
                                    languages[i].code, here, languages[i].tag, languages[i].tag,
                                    languages[i].native);
        html_printf(h, "</span></nav></header>\n<main>\n<h1>%s</h1>\n", title);
}

static int page_send(Request *q, Html *h, unsigned status, const char *const *headers) {
        char *body;
        size_t size;
        int r;

        html_printf(h, "</main>\n</body></html>\n");
        r = html_close(h, &body, &size);
        if (r < 0)
                return r;
        return respond(q, status, "text/html; charset=utf-8", body, size, headers);
}

/* A page that is only a message. */
static int message_page(Request *q, unsigned status, const char *title, const char *text, const char *link,
                        const char *link_text) {
        Html h;
        int r;

        r = html_open(&h);
        if (r < 0)
                return r;
        page_begin(q, &h, title, NULL, NULL);
        html_printf(&h, "<p class=\"message\" id=\"message\">%s</p>\n", text);
        if (link)
                html_printf(&h, "<p><a href=\"%s\">%s</a></p>\n", link, link_text);
        return page_send(q, &h, status, NULL);
}

static int bus_failure_page(Request *q, sd_bus_message *reply) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        log_warning("%s %s: %s: %s", q->method, q->url, e ? e->name : "?", e && e->message ? e->message : "");
        return message_page(q, 503, _("Not available"),
                            _("vdesk does not answer right now. Try again in a minute; if it lasts, tell your administrator."),
                            "/desktops", _("Back"));
}

/* The sign-in page, after the session cookie was refused or ended: the
 * cookie is cleared. */
static int to_signin(Request *q, const char *why) {
        _cleanup_(freep) char *clear = cookie(q, PORTAL_COOKIE_SESSION, "", 0), *loc = NULL;

        if (!clear)
                return -ENOMEM;
        if (asprintf(&loc, "/signin%s%s", why ? "?m=" : "", why ?: "") < 0)
                return -ENOMEM;
        return respond_redirect(q, loc, (const char *const[]) { "Set-Cookie", clear, NULL });
}

/* Step 0 of a page behind the session: asks who it is (slot 0). Returns 1
 * when it answered already (no cookie). */
static int session_begin(Request *q) {
        int r;

        if (isempty(q->token))
                return to_signin(q, NULL) < 0 ? -ENOMEM : 1;
        r = request_call(q, 0, DIRECTORYD, "WhoAmI", CALL_USEC, "s", q->token);
        return r < 0 ? r : 0;
}

/* Once WhoAmI answered: the account, or 1 when the page answered already
 * (sign-in again, or vdesk not answering). */
static int session_read(Request *q, Me *ret) {
        const char *email, *state;
        int64_t created, updated;
        int r;

        if (reply_is(q->reply[0], VDESK_ERROR_INVALID_TOKEN) || reply_is(q->reply[0], SD_BUS_ERROR_INVALID_ARGS))
                return to_signin(q, "expired") < 0 ? -ENOMEM : 1;
        if (sd_bus_message_is_method_error(q->reply[0], NULL))
                return bus_failure_page(q, q->reply[0]) < 0 ? -ENOMEM : 1;
        /* a page may read it again after its next call */
        r = sd_bus_message_rewind(q->reply[0], true);
        if (r >= 0)
                r = sd_bus_message_read(q->reply[0], ACCOUNT_SIGNATURE, &ret->id, &ret->name, &ret->role, &email, &state,
                                &created, &updated);
        return r < 0 ? r : 0;
}

/* The start of every page behind the session: step 0 asks WhoAmI (slot 0)
 * and, if listing is given, that broker method (slot 1) with the token;
 * later steps read the account into *ret. Returns 0 to go on, 1 when the
 * page has answered or waits for its calls (the caller returns 0). */
static int session_step(Request *q, const char *listing, Me *ret) {
        int r;

        if (q->step == 0) {
                r = session_begin(q);
                if (r == 0 && listing)
                        r = request_call(q, 1, BROKERD, listing, CALL_USEC, "s", q->token);
                if (r < 0)
                        return r;
                q->step = 1;
                return 1;
        }
        r = session_read(q, ret);
        if (r != 0 || !listing)
                return r;
        if (reply_is(q->reply[1], VDESK_ERROR_INVALID_TOKEN))
                return to_signin(q, "expired") < 0 ? -ENOMEM : 1;
        if (sd_bus_message_is_method_error(q->reply[1], NULL))
                return bus_failure_page(q, q->reply[1]) < 0 ? -ENOMEM : 1;
        return 0;
}

static int forbidden_form(Request *q) {
        return message_page(q, 403, _("Form expired"),
                            _("This form has expired or did not come from this portal. Go back, reload the page and try again."),
                            "/desktops", _("Back"));
}

/* ---- sign-in and activation ---- */

static void policy_text(Request *q, Html *h) {
        html_printf(h, "<p class=\"policy\" id=\"policy\">");
        html_printf(h, _("A password has at least %u characters and mixes at least %u of: lower case letters, "
                         "upper case letters, digits, other characters."), /* %u: vdesk's own formatter */
                    q->portal->config.password_min_length, q->portal->config.password_min_classes);
        html_printf(h, "</p>\n");
}

/* The pre-session secret of the sign-in forms: the cookie's, or a new one
 * (set with the page). */
static int pre_secret(Request *q, char ret[static 33], char **ret_cookie) {
        const char *c = MHD_lookup_connection_value(q->conn, MHD_COOKIE_KIND, PORTAL_COOKIE_PRE);
        uint8_t b[16];
        int r;

        *ret_cookie = NULL;
        if (c && strlen(c) == 32 && strspn(c, "0123456789abcdef") == 32) {
                strcpy(ret, c);
                return 0;
        }
        r = random_bytes(b, sizeof b);
        if (r < 0)
                return r;
        hex_encode(b, sizeof b, ret);
        *ret_cookie = cookie(q, PORTAL_COOKIE_PRE, ret, -1);
        return *ret_cookie ? 0 : -ENOMEM;
}

static const char *signin_message(const char *m) {
        if (streq_ptr(m, "expired"))
                return _("Your session has ended. Sign in again.");
        if (streq_ptr(m, "bye"))
                return _("You have signed out.");
        if (streq_ptr(m, "changed"))
                return _("Your password was changed. Sign in with the new one.");
        return NULL;
}

static int signin_form(Request *q, unsigned status, const char *error, const char *id) {
        _cleanup_(freep) char *set = NULL;
        char pre[33], csrf[SHA256_HEX_SIZE];
        const char *note;
        Html h;
        int r;

        note = signin_message(MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "m"));
        r = pre_secret(q, pre, &set);
        if (r < 0)
                return r;
        csrf_token(q->portal, CSRF_PRE, pre, csrf);
        r = html_open(&h);
        if (r < 0)
                return r;
        page_begin(q, &h, _("Sign in"), NULL, NULL);
        if (error)
                html_printf(&h, "<p class=\"error\" id=\"error\" role=\"alert\">%s</p>\n", error);
        else if (note)
                html_printf(&h, "<p class=\"message\" id=\"message\">%s</p>\n", note);
        html_printf(&h, "<form method=\"post\" action=\"/signin\" id=\"signin\">"
                    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                    "<label>%s <input name=\"id\" id=\"id\" autocomplete=\"username\" required value=\"%s\"></label>"
                    "<label>%s <input name=\"password\" id=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>"
                    "<button type=\"submit\">%s</button></form>\n"
                    "<p><a href=\"/activate\" id=\"activate-link\">%s</a></p>\n",
                    csrf, _("Staff id"), id ?: "", _("Password"), _("Sign in"),
                    _("First time here? Activate your account with the code you were given."));
        return page_send(q, &h, status, set ? (const char *const[]) { "Set-Cookie", set, NULL } : NULL);
}

static int signed_in(Request *q, sd_bus_message *reply) {
        _cleanup_(freep) char *set = NULL;
        const char *token;
        int64_t expires;
        int r;

        r = sd_bus_message_read(reply, "sx", &token, &expires);
        if (r < 0)
                return r;
        set = cookie(q, PORTAL_COOKIE_SESSION, token, -1);
        if (!set)
                return -ENOMEM;
        return respond_redirect(q, "/desktops", (const char *const[]) { "Set-Cookie", set, NULL });
}

static const char *throttled_text(void) {
        return _("Too many failed attempts from this computer. Wait a few minutes, then try again.");
}

static int page_signin(Request *q) {
        const char *id = request_field(q, "id"), *pw = request_field(q, "password");
        int r;

        if (is_get(q))
                return signin_form(q, 200, NULL, NULL);
        if (q->step == 0) {
                if (!csrf_check(q, CSRF_PRE, MHD_lookup_connection_value(q->conn, MHD_COOKIE_KIND, PORTAL_COOKIE_PRE)))
                        return forbidden_form(q);
                if (isempty(id) || isempty(pw))
                        return signin_form(q, 400, _("Enter your staff id and your password."), id);
                r = request_call(q, 0, DIRECTORYD, "SignInFrom", CALL_USEC, "sss", id, pw, q->address);
                if (r < 0)
                        return r;
                q->step = 1;
                return 0;
        }
        if (!sd_bus_message_is_method_error(q->reply[0], NULL))
                return signed_in(q, q->reply[0]);
        if (reply_is(q->reply[0], VDESK_ERROR_TOO_MANY_ATTEMPTS))
                return signin_form(q, 429, throttled_text(), id);
        if (reply_is(q->reply[0], VDESK_ERROR_AUTHENTICATION_FAILED) ||
            reply_is(q->reply[0], VDESK_ERROR_ACCOUNT_LOCKED) ||
            reply_is(q->reply[0], VDESK_ERROR_NO_SUCH_ACCOUNT) ||
            reply_is(q->reply[0], SD_BUS_ERROR_INVALID_ARGS))
                /* one message: which part was wrong, or that the id exists, is nobody's business */
                return signin_form(q, 401, _("Sign-in failed: the staff id or the password is wrong, or the account "
                                             "is locked for a while after repeated failures."), id);
        return bus_failure_page(q, q->reply[0]);
}

static int activate_form(Request *q, unsigned status, const char *error, const char *detail, const char *id) {
        _cleanup_(freep) char *set = NULL;
        char pre[33], csrf[SHA256_HEX_SIZE];
        Html h;
        int r;

        r = pre_secret(q, pre, &set);
        if (r < 0)
                return r;
        csrf_token(q->portal, CSRF_PRE, pre, csrf);
        r = html_open(&h);
        if (r < 0)
                return r;
        page_begin(q, &h, _("Activate your account"), NULL, NULL);
        if (error)
                html_printf(&h, "<p class=\"error\" id=\"error\" role=\"alert\">%s%S%s</p>\n", error,
                            detail ? " " : "", detail ?: "");
        html_printf(&h, "<p>%s</p>\n", _("Enter the activation code your administrator gave you and choose a password."));
        policy_text(q, &h);
        html_printf(&h, "<form method=\"post\" action=\"/activate\" id=\"activate\">"
                    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                    "<label>%s <input name=\"id\" id=\"id\" autocomplete=\"username\" required value=\"%s\"></label>"
                    "<label>%s <input name=\"code\" id=\"code\" autocomplete=\"one-time-code\" required></label>"
                    "<label>%s <input name=\"password\" id=\"password\" type=\"password\" autocomplete=\"new-password\" required></label>"
                    "<label>%s <input name=\"password2\" id=\"password2\" type=\"password\" autocomplete=\"new-password\" required></label>"
                    "<button type=\"submit\">%s</button></form>\n",
                    csrf, _("Staff id"), id ?: "", _("Activation code"), _("New password"),
                    _("New password again"), _("Activate"));
        return page_send(q, &h, status, set ? (const char *const[]) { "Set-Cookie", set, NULL } : NULL);
}

static int page_activate(Request *q) {
        const char *id = request_field(q, "id"), *code = request_field(q, "code"),
                *pw = request_field(q, "password"), *pw2 = request_field(q, "password2");
        int r;

        if (is_get(q))
                return activate_form(q, 200, NULL, NULL, NULL);
        switch (q->step) {
        case 0:
                if (!csrf_check(q, CSRF_PRE, MHD_lookup_connection_value(q->conn, MHD_COOKIE_KIND, PORTAL_COOKIE_PRE)))
                        return forbidden_form(q);
                if (isempty(id) || isempty(code) || isempty(pw))
                        return activate_form(q, 400, _("Fill in every field."), NULL, id);
                if (!streq_ptr(pw, pw2))
                        return activate_form(q, 400, _("The two passwords differ."), NULL, id);
                r = request_call(q, 0, DIRECTORYD, "ActivateFrom", CALL_USEC, "ssss", id, code, pw, q->address);
                if (r < 0)
                        return r;
                q->step = 1;
                return 0;
        case 1:
                if (reply_is(q->reply[0], VDESK_ERROR_TOO_MANY_ATTEMPTS))
                        return activate_form(q, 429, throttled_text(), NULL, id);
                if (reply_is(q->reply[0], VDESK_ERROR_WEAK_PASSWORD))
                        return activate_form(q, 400, _("This password is too weak."), NULL, id);
                if (reply_is(q->reply[0], VDESK_ERROR_AUTHENTICATION_FAILED) ||
                    reply_is(q->reply[0], VDESK_ERROR_ACCOUNT_LOCKED) ||
                    reply_is(q->reply[0], VDESK_ERROR_NO_SUCH_ACCOUNT) ||
                    reply_is(q->reply[0], SD_BUS_ERROR_INVALID_ARGS))
                        return activate_form(q, 401, _("Activation failed: the staff id or the code is wrong, the code "
                                                       "has expired or was used already."), NULL, id);
                if (sd_bus_message_is_method_error(q->reply[0], NULL))
                        return bus_failure_page(q, q->reply[0]);
                r = request_call(q, 0, DIRECTORYD, "SignInFrom", CALL_USEC, "sss", id, pw, q->address);
                if (r < 0)
                        return r;
                q->step = 2;
                return 0;
        default:
                if (sd_bus_message_is_method_error(q->reply[0], NULL))
                        return respond_redirect(q, "/signin", NULL);
                return signed_in(q, q->reply[0]);
        }
}

/* ---- my desktops ---- */

static void action_form(Request *q, Html *h, const char *action, const char *name, const char *label,
                        const char *confirm) {
        char csrf[SHA256_HEX_SIZE];

        csrf_token(q->portal, CSRF_SESSION, q->token, csrf);
        html_printf(h, "<form method=\"post\" action=\"/%s\" class=\"inline\"%S%s%S>"
                    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                    "<input type=\"hidden\" name=\"name\" value=\"%s\">"
                    "<button type=\"submit\" id=\"%s-%s\">%s</button></form>",
                    action, confirm ? " data-confirm=\"" : "", confirm ?: "", confirm ? "\"" : "", csrf, name, action,
                    name, label);
}

static int page_desktops(Request *q) {
        const char *name, *account, *category, *template, *state, *host;
        int64_t since;
        uint16_t port;
        Html h;
        Me me;
        int r;

        r = session_step(q, "ListMyDesktopDetails", &me);
        if (r != 0)
                return r < 0 ? r : 0;

        r = html_open(&h);
        if (r < 0)
                return r;
        page_begin(q, &h, _("My desktops"), &me, NULL);
        html_printf(&h, "<table id=\"desktops\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
                    "<th></th></tr></thead><tbody>\n",
                    _("Desktop"), _("Category"), _("State"), _("Host"), _("Since"));
        r = sd_bus_message_enter_container(q->reply[1], 'a', STAFF_DESKTOP_SIGNATURE);
        while (r > 0) {
                char when[32];

                r = sd_bus_message_read(q->reply[1], STAFF_DESKTOP_SIGNATURE, &name, &account, &category, &template,
                                        &state, &since, &host, &port);
                if (r <= 0)
                        break;
                format_since(since, when);
                html_printf(&h, "<tr data-desktop=\"%s\"><td>%s</td><td>%s</td><td class=\"state %s\">%s</td>"
                            "<td>%s</td><td>%s</td><td>", name, name, category, state, state_text(state), host, when);
                action_form(q, &h, "open", name, _("Open"), NULL);
                if (streq(state, "running"))
                        action_form(q, &h, "restart", name, _("Restart"),
                                    _("Restarting switches the desktop off: what was not saved is lost. Restart?"));
                html_printf(&h, "</td></tr>\n");
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(q->reply[1]);
        if (r >= 0)
                r = sd_bus_message_enter_container(q->reply[1], 'a', "s");
        while (r > 0) {
                r = sd_bus_message_read(q->reply[1], "s", &category);
                if (r <= 0)
                        break;
                html_printf(&h, "<tr data-category=\"%s\"><td><em>%s</em></td><td>%s</td><td>–</td><td></td><td></td><td>",
                            category, _("none yet"), category);
                action_form(q, &h, "open", category, _("Open"), NULL);
                html_printf(&h, "</td></tr>\n");
        }
        if (r < 0) {
                html_discard(&h);
                return r;
        }
        html_printf(&h, "</tbody></table>\n<p class=\"hint\">%s</p>\n",
                    _("Open starts your desktop if it is not running and gives you a file for your Remote Desktop client. "
                      "Restart switches off a desktop that hangs and starts it again: what was not saved is lost."));
        return page_send(q, &h, 200, NULL);
}

/* POST /open and /restart: the broker is asked, the browser goes to the
 * open's page at once. */
static int page_open_post(Request *q) {
        bool restart = streq(q->url, "/restart");
        const char *name = request_field(q, "name");
        _cleanup_(freep) char *loc = NULL;
        OpenJob *j;
        Me me;
        int r;

        /* the session is the directory's to vouch for, before anything is
         * kept for it */
        r = session_step(q, NULL, &me);
        if (r != 0)
                return r < 0 ? r : 0;
        if (!csrf_check(q, CSRF_SESSION, q->token))
                return forbidden_form(q);
        if (isempty(name) || !name_is_valid(name))
                return message_page(q, 400, _("No such desktop"), _("This is not one of your desktops."),
                                    "/desktops", _("Back"));
        r = open_job_start(q->portal, q->token, me.id, name, restart, &j);
        if (r == -EUSERS || r == -EBUSY)
                return message_page(q, 429, _("Busy"),
                                    _("Your desktops are being opened already; wait until they answer."),
                                    "/desktops", _("Back"));
        if (r < 0)
                return r;
        if (asprintf(&loc, "/open/%s", name) < 0)
                return -ENOMEM;
        return respond_redirect(q, loc, NULL);
}

static const char *open_failure_text(const OpenJob *j, unsigned *ret_status) {
        *ret_status = 200;
        /* another's and none at all look the same: which names exist is
         * nobody's business */
        if (streq_ptr(j->error_name, VDESK_ERROR_NOT_YOUR_DESKTOP) ||
            streq_ptr(j->error_name, VDESK_ERROR_NO_SUCH_DESKTOP)) {
                *ret_status = 403;
                return _("This is not one of your desktops.");
        }
        if (streq_ptr(j->error_name, SD_BUS_ERROR_NO_REPLY) || streq_ptr(j->error_name, SD_BUS_ERROR_TIMEOUT))
                return _("The desktop did not answer in time. Try again, or restart it.");
        return _("The desktop could not be opened. Try again; if it lasts, tell your administrator.");
}

static int page_open_status(Request *q) {
        OpenJob *j;
        Html h;
        Me me;
        int r;

        r = session_step(q, NULL, &me);
        if (r != 0)
                return r < 0 ? r : 0;
        j = open_job_find(q->portal, q->token, q->arg);
        if (!j)
                return respond_redirect(q, "/desktops", NULL);
        if (j->state == OPEN_FAILED && streq_ptr(j->error_name, VDESK_ERROR_INVALID_TOKEN))
                return to_signin(q, "expired");

        r = html_open(&h);
        if (r < 0)
                return r;
        if (j->state == OPEN_PENDING) {
                _cleanup_(freep) char *attrs = NULL;

                if (asprintf(&attrs, " data-events=\"/open/%s/events\"", j->name) < 0) {
                        html_discard(&h);
                        return -ENOMEM;
                }
                page_begin(q, &h, j->name, &me, attrs);
                html_printf(&h, "<p class=\"state booting\" id=\"status\" data-state=\"booting\">%s</p>\n"
                            "<p class=\"hint\">%s</p>\n",
                            j->restart ? _("Restarting your desktop. It is booting…") : _("Starting your desktop. It is booting…"),
                            _("This page shows the desktop as soon as it answers."));
                return page_send(q, &h, 200, NULL);
        }
        if (j->state == OPEN_FAILED) {
                unsigned status;
                const char *text = open_failure_text(j, &status);

                page_begin(q, &h, j->name, &me, NULL);
                html_printf(&h, "<p class=\"error\" id=\"status\" data-state=\"failed\" role=\"alert\">%s</p>\n"
                            "<p><a href=\"/desktops\">%s</a></p>\n", text, _("Back to my desktops"));
                return page_send(q, &h, status, NULL);
        }
        page_begin(q, &h, j->desktop, &me, NULL);
        html_printf(&h, "<p class=\"state ready\" id=\"status\" data-state=\"ready\">%s</p>\n", _("Your desktop is ready."));
        html_printf(&h, "<p><a class=\"button\" id=\"rdp-file\" href=\"/open/%s/rdp\" download=\"%s.rdp\">%s</a></p>\n",
                    j->name, j->desktop, _("Download the connection file (.rdp)"));
        html_printf(&h, "<p>%s <code id=\"address\">%s:%q</code></p>\n", _("Address for a Remote Desktop client:"),
                    j->host, (unsigned) j->port);
        html_printf(&h, "<p>%s</p><pre id=\"freerdp\">%s</pre><button type=\"button\" class=\"copy\" "
                    "data-copy=\"freerdp\" hidden>%s</button>\n", _("Or, with FreeRDP:"), j->freerdp, _("Copy"));
        html_printf(&h, "<p><a href=\"/desktops\">%s</a></p>\n", _("Back to my desktops"));
        return page_send(q, &h, 200, NULL);
}

static int on_wait_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Request *q = userdata;

        open_job_unwait(q);
        request_wake(q);
        return 0;
}

/* GET /open/NAME/events: server-sent events for the open's page; answers
 * when the open ends, or after 25 s (the browser asks again). */
static int page_open_events(Request *q) {
        OpenJob *j = isempty(q->token) ? NULL : open_job_find(q->portal, q->token, q->arg);
        const char *text;
        int r;

        if (j && j->state == OPEN_PENDING && q->step == 0) {
                q->step = 1;
                r = sd_event_add_time_relative(q->portal->event, &q->wait_timer, CLOCK_MONOTONIC,
                                               25 * USEC_PER_SEC, USEC_PER_SEC, on_wait_timeout, q);
                if (r < 0)
                        return r;
                q->waiting = j;
                q->wait_next = j->waiters;
                j->waiters = q;
                return 0;
        }
        text = !j ? "event: gone\ndata: gone\n\n" :
                j->state == OPEN_PENDING ? "retry: 1000\nevent: booting\ndata: booting\n\n" :
                j->state == OPEN_READY ? "event: ready\ndata: ready\n\n" : "event: failed\ndata: failed\n\n";
        return respond(q, 200, "text/event-stream", strdup(text), strlen(text), NULL);
}

static int page_rdp(Request *q) {
        _cleanup_(freep) char *disposition = NULL;
        OpenJob *j;
        Me me;
        int r;

        r = session_step(q, NULL, &me);
        if (r != 0)
                return r < 0 ? r : 0;
        j = open_job_find(q->portal, q->token, q->arg);
        if (!j || j->state != OPEN_READY)
                return respond_redirect(q, "/desktops", NULL);
        if (asprintf(&disposition, "attachment; filename=\"%s.rdp\"", j->desktop) < 0)
                return -ENOMEM;
        return respond(q, 200, "application/x-rdp; charset=utf-8", strdup(j->rdp_file), strlen(j->rdp_file),
                       (const char *const[]) { "Content-Disposition", disposition, NULL });
}

/* ---- password, sign-out, language ---- */

static int password_form(Request *q, const Me *me, unsigned status, const char *error, const char *done) {
        char csrf[SHA256_HEX_SIZE];
        Html h;
        int r;

        csrf_token(q->portal, CSRF_SESSION, q->token, csrf);
        r = html_open(&h);
        if (r < 0)
                return r;
        page_begin(q, &h, _("Change password"), me, NULL);
        if (error)
                html_printf(&h, "<p class=\"error\" id=\"error\" role=\"alert\">%s</p>\n", error);
        if (done)
                html_printf(&h, "<p class=\"message\" id=\"message\">%s</p>\n", done);
        policy_text(q, &h);
        html_printf(&h, "<form method=\"post\" action=\"/password\" id=\"password-form\">"
                    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                    "<label>%s <input name=\"old\" id=\"old\" type=\"password\" autocomplete=\"current-password\" required></label>"
                    "<label>%s <input name=\"password\" id=\"password\" type=\"password\" autocomplete=\"new-password\" required></label>"
                    "<label>%s <input name=\"password2\" id=\"password2\" type=\"password\" autocomplete=\"new-password\" required></label>"
                    "<button type=\"submit\">%s</button></form>\n",
                    csrf, _("Current password"), _("New password"), _("New password again"), _("Change password"));
        return page_send(q, &h, status, NULL);
}

static int page_password(Request *q) {
        const char *old = request_field(q, "old"), *pw = request_field(q, "password"), *pw2 = request_field(q, "password2");
        Me me;
        int r;

        r = session_step(q, NULL, &me);
        if (r != 0)
                return r < 0 ? r : 0;
        if (q->step == 1) {
                if (is_get(q))
                        return password_form(q, &me, 200, NULL, NULL);
                if (!csrf_check(q, CSRF_SESSION, q->token))
                        return forbidden_form(q);
                if (isempty(old) || isempty(pw))
                        return password_form(q, &me, 400, _("Fill in every field."), NULL);
                if (!streq_ptr(pw, pw2))
                        return password_form(q, &me, 400, _("The two passwords differ."), NULL);
                r = request_call(q, 1, DIRECTORYD, "ChangePassword", CALL_USEC, "sss", q->token, old, pw);
                if (r < 0)
                        return r;
                q->step = 2;
                return 0;
        }
        if (reply_is(q->reply[1], VDESK_ERROR_INVALID_TOKEN))
                return to_signin(q, "expired");
        if (reply_is(q->reply[1], VDESK_ERROR_TOO_MANY_ATTEMPTS))
                return password_form(q, &me, 429, throttled_text(), NULL);
        if (reply_is(q->reply[1], VDESK_ERROR_AUTHENTICATION_FAILED) || reply_is(q->reply[1], VDESK_ERROR_ACCOUNT_LOCKED))
                return password_form(q, &me, 401, _("The current password is wrong."), NULL);
        if (reply_is(q->reply[1], VDESK_ERROR_WEAK_PASSWORD))
                return password_form(q, &me, 400, _("This password is too weak."), NULL);
        if (sd_bus_message_is_method_error(q->reply[1], NULL))
                return bus_failure_page(q, q->reply[1]);
        return password_form(q, &me, 200, NULL, _("Your password was changed. Your other sessions were signed out."));
}

static int page_signout(Request *q) {
        int r;

        if (q->step == 0) {
                if (isempty(q->token))
                        return to_signin(q, NULL);
                if (!csrf_check(q, CSRF_SESSION, q->token))
                        return forbidden_form(q);
                r = request_call(q, 0, DIRECTORYD, "SignOut", CALL_USEC, "s", q->token);
                if (r < 0)
                        return r;
                q->step = 1;
                return 0;
        }
        /* the cookie goes whatever the directory said: the browser is done with it */
        return to_signin(q, "bye");
}

static int page_lang(Request *q) {
        const Language *l = i18n_find(MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "l"));
        const char *next = MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "next");
        _cleanup_(freep) char *set = NULL;

        if (!l)
                return respond_redirect(q, "/", NULL);
        set = cookie(q, PORTAL_COOKIE_LANG, l->code, 366L * 24 * 3600);
        if (!set)
                return -ENOMEM;
        return respond_redirect(q, url_is_local_path(next) ? next : "/",
                                (const char *const[]) { "Set-Cookie", set, NULL });
}

/* ---- a manager's departments ---- */

static int page_manage(Request *q) {
        const char *dept, *account, *display, *desktop, *state;
        unsigned rows = 0;
        int64_t since;
        Html h;
        Me me;
        int r;

        r = session_step(q, "ListManagedDesktops", &me);
        if (r != 0)
                return r < 0 ? r : 0;
        r = html_open(&h);
        if (r < 0)
                return r;
        page_begin(q, &h, _("My departments"), &me, NULL);
        html_printf(&h, "<table id=\"managed\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
                    "</tr></thead><tbody>\n", _("Department"), _("Staff member"), _("Desktop"), _("State"), _("Since"));
        r = sd_bus_message_enter_container(q->reply[1], 'a', MANAGED_DESKTOP_SIGNATURE);
        while (r > 0) {
                char when[32];

                r = sd_bus_message_read(q->reply[1], MANAGED_DESKTOP_SIGNATURE, &dept, &account, &display, &desktop,
                                        &state, &since);
                if (r <= 0)
                        break;
                rows++;
                format_since(since, when);
                html_printf(&h, "<tr><td>%s</td><td>%s (%s)</td><td>%s</td><td class=\"state %s\">%s</td><td>%s</td></tr>\n",
                            dept, display, account, isempty(desktop) ? "–" : desktop, state,
                            isempty(state) ? _("no desktop") : state_text(state), when);
        }
        if (r < 0) {
                html_discard(&h);
                return r;
        }
        html_printf(&h, "</tbody></table>\n");
        if (rows == 0)
                html_printf(&h, "<p class=\"hint\" id=\"none\">%s</p>\n", _("You manage no department."));
        return page_send(q, &h, 200, NULL);
}

/* ---- the rest ---- */

static int page_static(Request *q) {
        Portal *p = q->portal;
        bool css = streq(q->url, "/static/portal.css");

        return respond(q, 200, css ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8",
                       strndup(css ? p->css : p->js, css ? p->css_size : p->js_size),
                       css ? p->css_size : p->js_size, NULL);
}

static int page_root(Request *q) {
        return respond_redirect(q, "/desktops", NULL);
}

static int page_not_found(Request *q) {
        return message_page(q, 404, _("Not found"), _("There is no such page."), "/desktops", _("My desktops"));
}

static int page_bad_method(Request *q) {
        const char *text = "Method not allowed\n";

        return respond(q, 405, "text/plain; charset=utf-8", strdup(text), strlen(text),
                       (const char *const[]) { "Allow", "GET, POST", NULL });
}

static int page_too_large(Request *q) {
        const char *text = "Request too large\n";

        return respond(q, 413, "text/plain; charset=utf-8", strdup(text), strlen(text), NULL);
}

PageFunc route(Request *q) {
        static const struct {
                const char *path;
                PageFunc get, post;
        } table[] = {
                { "/",                  page_root,      NULL },
                { "/signin",            page_signin,    page_signin },
                { "/activate",          page_activate,  page_activate },
                { "/desktops",          page_desktops,  NULL },
                { "/open",              NULL,           page_open_post },
                { "/restart",           NULL,           page_open_post },
                { "/password",          page_password,  page_password },
                { "/signout",           NULL,           page_signout },
                { "/manage",            page_manage,    NULL },
                { "/lang",              page_lang,      NULL },
                { "/static/portal.css", page_static,    NULL },
                { "/static/portal.js",  page_static,    NULL },
        };
        bool get = is_get(q), post = streq(q->method, "POST");
        const char *rest;

        if (q->body_refused)
                return page_too_large;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(q->url, table[i].path)) {
                        PageFunc f = get ? table[i].get : post ? table[i].post : NULL;

                        return f ?: page_bad_method;
                }
        /* /open/NAME, /open/NAME/events, /open/NAME/rdp */
        rest = startswith(q->url, "/open/");
        if (rest && get) {
                char *slash;

                q->arg = rest;
                slash = strchr(rest, '/');
                if (!slash)
                        return name_is_valid(rest) ? page_open_status : page_not_found;
                *slash = 0;     /* q->url is the request's own copy */
                if (!name_is_valid(rest))
                        return page_not_found;
                if (streq(slash + 1, "events"))
                        return page_open_events;
                if (streq(slash + 1, "rdp"))
                        return page_rdp;
        }
        return page_not_found;
}
