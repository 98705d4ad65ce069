/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "macro.h"
#include "process.h"
#include "tests.h"

static void test_real(void) {
        _cleanup_(spawn_result_done) SpawnResult r = {};
        char *echo[] = { (char *) "echo", (char *) "a b", (char *) "$(id)", NULL };
        char *fail[] = { (char *) "sh", (char *) "-c", (char *) "echo oops >&2; exit 3", NULL };
        char *missing[] = { (char *) "/nonexistent/program", NULL };
        char *slow[] = { (char *) "sleep", (char *) "5", NULL };
        unsigned long long t0;

        /* argv goes through untouched: no shell expands "$(id)" */
        CHECK_INT(spawn_run(echo, USEC_PER_SEC * 5, &r), 0);
        CHECK_INT(r.exit_status, 0);
        CHECK_STR(r.out, "a b $(id)\n");
        CHECK_STR(r.err, "");
        spawn_result_done(&r);

        /* (the test runs a shell on purpose, to produce stderr and a code) */
        CHECK_INT(spawn_run(fail, USEC_PER_SEC * 5, &r), 0);
        CHECK_INT(r.exit_status, 3);
        CHECK_STR(r.err, "oops\n");
        spawn_result_done(&r);

        CHECK_INT(spawn_run(missing, USEC_PER_SEC, &r), -ENOENT);

        t0 = now_usec();
        CHECK_INT(spawn_run(slow, USEC_PER_SEC / 5, &r), -ETIMEDOUT);
        CHECK(now_usec() - t0 < 2 * USEC_PER_SEC);
}

static int dry_run(char *const argv[], SpawnResult *ret, void *userdata) {
        char *buf = userdata;

        buf[0] = 0;
        for (size_t i = 0; argv[i]; i++) {
                strcat(buf, argv[i]);
                strcat(buf, "|");
        }
        *ret = (SpawnResult) { .exit_status = 0, .out = strdup(""), .err = strdup("") };
        return 0;
}

static void test_dry_run(void) {
        _cleanup_(spawn_result_done) SpawnResult r = {};
        char captured[256];
        char *argv[] = { (char *) "qemu-img", (char *) "info", (char *) "x y", NULL };

        spawn_set_dry_run(dry_run, captured);
        CHECK_INT(spawn_run(argv, USEC_PER_SEC, &r), 0);
        CHECK_STR(captured, "qemu-img|info|x y|");
        spawn_set_dry_run(NULL, NULL);
}

typedef struct AsyncOutcome {
        int calls, error, exit_status;
        char err[64];
} AsyncOutcome;

static void async_done(SpawnResult *res, int error, void *userdata) {
        AsyncOutcome *o = userdata;

        o->calls++;
        o->error = error;
        if (res) {
                o->exit_status = res->exit_status;
                snprintf(o->err, sizeof o->err, "%s", res->err);
        }
}

/* Runs e until both outcomes are in (or 10 s passed). */
static void run_until(sd_event *e, AsyncOutcome *a, AsyncOutcome *b) {
        unsigned long long deadline = now_usec() + 10 * USEC_PER_SEC;

        while ((a->calls == 0 || b->calls == 0) && now_usec() < deadline)
                CHECK(sd_event_run(e, 100 * 1000) >= 0);
}

static void test_async(void) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        char *fail[] = { (char *) "sh", (char *) "-c", (char *) "echo oops >&2; exit 4", NULL };
        char *slow[] = { (char *) "sleep", (char *) "5", NULL };
        char *missing[] = { (char *) "/nonexistent/program", NULL };
        AsyncOutcome a = {}, b = {};
        unsigned long long t0;

        CHECK(sd_event_new(&e) >= 0);
        t0 = now_usec();
        /* two at once: the loop serves both while they run */
        CHECK_INT(spawn_async(e, fail, 5 * USEC_PER_SEC, async_done, &a), 0);
        CHECK_INT(spawn_async(e, slow, USEC_PER_SEC / 5, async_done, &b), 0);
        run_until(e, &a, &b);
        CHECK_INT(a.calls, 1);
        CHECK_INT(a.error, 0);
        CHECK_INT(a.exit_status, 4);
        CHECK_STR(a.err, "oops\n");
        CHECK_INT(b.calls, 1);
        CHECK_INT(b.error, -ETIMEDOUT);
        CHECK(now_usec() - t0 < 2 * USEC_PER_SEC);
        CHECK_INT(spawn_async(e, missing, USEC_PER_SEC, async_done, &a), -ENOENT);
        CHECK_INT(a.calls, 1);                  /* a refused start calls nobody */
}

int main(void) {
        test_real();
        test_dry_run();
        test_async();
        return test_summary();
}
