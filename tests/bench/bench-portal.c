/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vdesk-portald against its baseline, side by side in one run:
 *   W1 a staff member signs in on the portal and gets "My desktops"
 *      (POST /signin, then GET /desktops over the browser's kept-alive TLS
 *      connection) vs the same through D-Bus alone (SignIn +
 *      ListMyDesktopDetails): what the portal adds, interleaved, p50/p99;
 *   W2 50 browsers signing in at once (each its own cookies and a new
 *      TLS connection), while one signed-in browser reloads its desktops page:
 *      all served?, the listing's p50/p99 during the burst against the same
 *      browser's while the portal is idle.
 * Accounts PREFIX000..PREFIXnnn must exist with password PASSWORD.
 * Prints "key value" lines; tests/bench/portal makes the table.
 *
 *   bench-portal URL CA-FILE PREFIX PASSWORD ROUNDS BURST */

#include <curl/curl.h>

#include "bench.h"
#include "bus-api.h"
#include "macro.h"

static const char *url, *ca, *prefix, *password;

typedef struct Browser {
        CURL *curl;
        char *body;
        size_t size;
        char csrf[65];
        char post[512];
        char path[256];
        long status;
} Browser;

static size_t on_body(char *data, size_t size, size_t n, void *userdata) {
        Browser *b = userdata;
        char *p = realloc(b->body, b->size + size * n + 1);

        if (!p)
                return 0;
        memcpy(p + b->size, data, size * n);
        b->size += size * n;
        p[b->size] = 0;
        b->body = p;
        return size * n;
}

/* A new browser: its own connection and cookie jar (in memory). */
static void browser_new(Browser *b) {
        *b = (Browser) {};
        b->curl = curl_easy_init();
        if (!b->curl)
                exit(1);
        curl_easy_setopt(b->curl, CURLOPT_CAINFO, ca);
        curl_easy_setopt(b->curl, CURLOPT_COOKIEFILE, "");
        curl_easy_setopt(b->curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(b->curl, CURLOPT_WRITEDATA, b);
        curl_easy_setopt(b->curl, CURLOPT_TIMEOUT, 120L);
}

static void browser_free(Browser *b) {
        curl_easy_cleanup(b->curl);
        free(b->body);
}

/* Sets up a GET (post NULL) or a form POST of path; curl_easy_perform()
 * or a multi handle runs it. */
static void browser_prepare(Browser *b, const char *path, const char *post) {
        free(b->body);
        b->body = NULL;
        b->size = 0;
        snprintf(b->path, sizeof b->path, "%s%s", url, path);
        curl_easy_setopt(b->curl, CURLOPT_URL, b->path);
        if (post) {
                snprintf(b->post, sizeof b->post, "%s", post);
                curl_easy_setopt(b->curl, CURLOPT_POSTFIELDS, b->post);
        } else
                curl_easy_setopt(b->curl, CURLOPT_HTTPGET, 1L);
}

static void browser_check(Browser *b, long want, const char *what) {
        curl_easy_getinfo(b->curl, CURLINFO_RESPONSE_CODE, &b->status);
        if (b->status != want) {
                fprintf(stderr, "%s: HTTP %ld, not %ld: %.300s\n", what, b->status, want, b->body ?: "");
                exit(1);
        }
}

static void browser_run(Browser *b, const char *path, const char *post, long want) {
        CURLcode c;

        browser_prepare(b, path, post);
        c = curl_easy_perform(b->curl);
        if (c != CURLE_OK) {
                fprintf(stderr, "%s: %s\n", path, curl_easy_strerror(c));
                exit(1);
        }
        browser_check(b, want, path);
}

/* The sign-in form: its CSRF token, and the connection open. */
static void browser_form(Browser *b) {
        const char *p;

        browser_run(b, "/signin", NULL, 200);
        p = strstr(b->body, "name=\"csrf\" value=\"");
        if (!p || sscanf(p + 19, "%64[0-9a-f]", b->csrf) != 1) {
                fprintf(stderr, "no CSRF token on the sign-in page\n");
                exit(1);
        }
}

static void signin_fields(Browser *b, unsigned i, char *buf, size_t n) {
        snprintf(buf, n, "csrf=%s&id=%s%03u&password=%s", b->csrf, prefix, i, password);
}

/* W1's portal side: submit → the desktops page, in ms. */
static double portal_signin(unsigned i) {
        unsigned long long t0;
        char post[256];
        Browser b;
        double t;

        browser_new(&b);
        browser_form(&b);
        signin_fields(&b, i, post, sizeof post);
        t0 = now_usec();
        browser_run(&b, "/signin", post, 303);
        browser_run(&b, "/desktops", NULL, 200);
        t = ms(t0, now_usec());
        if (!strstr(b.body, "id=\"desktops\"")) {
                fprintf(stderr, "no desktops table after sign-in\n");
                exit(1);
        }
        browser_free(&b);
        return t;
}

static double bus_signin(sd_bus *bus, unsigned i) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *list = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        unsigned long long t0;
        const char *token;
        char id[64];
        int64_t expires;
        int r;

        snprintf(id, sizeof id, "%s%03u", prefix, i);
        t0 = now_usec();
        r = sd_bus_call_method(bus, DIRECTORYD, "SignIn", &e, &reply, "ss", id, password);
        if (r < 0)
                die_bus("SignIn", r, &e);
        r = sd_bus_message_read(reply, "sx", &token, &expires);
        if (r < 0)
                die_bus("SignIn's reply", r, NULL);
        r = sd_bus_call_method(bus, BROKERD, "ListMyDesktopDetails", &e, &list, "s", token);
        if (r < 0)
                die_bus("ListMyDesktopDetails", r, &e);
        return ms(t0, now_usec());
}

static void w1(unsigned rounds) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        double *p = calloc(rounds, sizeof *p), *d = calloc(rounds, sizeof *d);
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0 || !p || !d)
                die_bus("the system bus", r, NULL);
        for (unsigned i = 0; i < rounds; i++) {
                /* interleaved, and alternately first */
                if (i % 2) {
                        p[i] = portal_signin(i % 50);
                        d[i] = bus_signin(bus, i % 50);
                } else {
                        d[i] = bus_signin(bus, i % 50);
                        p[i] = portal_signin(i % 50);
                }
        }
        printf("w1_portal_p50 %.2f\nw1_portal_p99 %.2f\n", pct(p, rounds, 0.5), pct(p, rounds, 0.99));
        printf("w1_bus_p50 %.2f\nw1_bus_p99 %.2f\n", pct(d, rounds, 0.5), pct(d, rounds, 0.99));
        free(p);
        free(d);
}

/* The signed-in browser's desktops page, once, in ms. */
static double listing(Browser *b) {
        unsigned long long t0 = now_usec();

        browser_run(b, "/desktops", NULL, 200);
        return ms(t0, now_usec());
}

static void w2(unsigned burst) {
        Browser reader, *bs = calloc(burst, sizeof *bs);
        double idle[200], busy[2000], sign[burst];
        size_t n_idle = 0, n_busy = 0, served = 0;
        unsigned long long t0;
        CURLM *multi = curl_multi_init();
        char post[256];
        int running = 0;

        if (!bs || !multi)
                exit(1);
        browser_new(&reader);
        browser_form(&reader);
        signin_fields(&reader, burst, post, sizeof post);
        browser_run(&reader, "/signin", post, 303);
        for (n_idle = 0; n_idle < ELEMENTSOF(idle); n_idle++)
                idle[n_idle] = listing(&reader);

        /* every browser has its form first, then all submit at once, each
         * on a connection of its own made then (a multi handle keeps
         * connections apart from an easy handle's: the form's is closed,
         * not left open beside it) */
        for (unsigned i = 0; i < burst; i++) {
                browser_new(&bs[i]);
                curl_easy_setopt(bs[i].curl, CURLOPT_FORBID_REUSE, 1L);
                browser_form(&bs[i]);
                curl_easy_setopt(bs[i].curl, CURLOPT_FORBID_REUSE, 0L);
                signin_fields(&bs[i], i, post, sizeof post);
                browser_prepare(&bs[i], "/signin", post);
                curl_easy_setopt(bs[i].curl, CURLOPT_PRIVATE, &bs[i]);
                curl_multi_add_handle(multi, bs[i].curl);
        }
        t0 = now_usec();
        curl_multi_perform(multi, &running);
        while (running > 0) {
                CURLMsg *m;
                int left;

                /* the reader reloads while the burst is in flight */
                if (n_busy < ELEMENTSOF(busy))
                        busy[n_busy++] = listing(&reader);
                curl_multi_poll(multi, NULL, 0, 10, NULL);
                curl_multi_perform(multi, &running);
                while ((m = curl_multi_info_read(multi, &left)))
                        if (m->msg == CURLMSG_DONE) {
                                Browser *b;
                                long status = 0;

                                curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &b);
                                curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
                                if (m->data.result == CURLE_OK && status == 303)
                                        sign[served++] = ms(t0, now_usec());
                                else
                                        fprintf(stderr, "a sign-in of the burst: %s, HTTP %ld\n",
                                                curl_easy_strerror(m->data.result), status);
                        }
        }
        printf("w2_served %zu\nw2_burst %u\n", served, burst);
        printf("w2_signin_p50 %.2f\nw2_signin_p99 %.2f\n", served ? pct(sign, served, 0.5) : 0,
               served ? pct(sign, served, 0.99) : 0);
        printf("w2_list_idle_p50 %.2f\nw2_list_idle_p99 %.2f\n", pct(idle, n_idle, 0.5), pct(idle, n_idle, 0.99));
        printf("w2_list_busy_n %zu\n", n_busy);
        if (n_busy)
                printf("w2_list_busy_p50 %.2f\nw2_list_busy_p99 %.2f\n", pct(busy, n_busy, 0.5), pct(busy, n_busy, 0.99));
        for (unsigned i = 0; i < burst; i++) {
                curl_multi_remove_handle(multi, bs[i].curl);
                browser_free(&bs[i]);
        }
        curl_multi_cleanup(multi);
        browser_free(&reader);
        free(bs);
}

int main(int argc, char *argv[]) {
        if (argc != 7) {
                fprintf(stderr, "usage: bench-portal URL CA-FILE PREFIX PASSWORD ROUNDS BURST\n");
                return 2;
        }
        url = argv[1];
        ca = argv[2];
        prefix = argv[3];
        password = argv[4];
        curl_global_init(CURL_GLOBAL_DEFAULT);
        w1((unsigned) atoi(argv[5]));
        w2((unsigned) atoi(argv[6]));
        curl_global_cleanup();
        return 0;
}
