/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "tests.h"
#include "throttle.h"

static const uint64_t MIN = 60 * USEC_PER_SEC;
/* a monotonic clock some while after boot, on a slot's start */
static const uint64_t T0 = 100000 * 60 * USEC_PER_SEC;

/* n failures at t, each decided on the state the last one left */
static ThrottleVerdict fail_n(ThrottleState *s, unsigned n, uint64_t t, const ThrottlePolicy *p, unsigned *ret_failed) {
        ThrottleVerdict v = THROTTLE_OPEN;

        for (unsigned i = 0; i < n; i++)
                v = throttle_decide(s, true, t, p, s, ret_failed);
        return v;
}

static void test_decide(void) {
        /* 3 failures in 16 minutes (slots of a minute) block for 10 */
        ThrottlePolicy p = { .max_failed = 3, .window_usec = 16 * MIN, .block_usec = 10 * MIN };
        ThrottleState s = {}, n;
        unsigned failed = 99;

        CHECK_INT(throttle_decide(&s, false, T0, &p, &n, &failed), THROTTLE_OPEN);
        CHECK_INT(failed, 0);
        CHECK_INT(fail_n(&s, 2, T0, &p, &failed), THROTTLE_COUNTED);
        CHECK_INT(failed, 2);
        CHECK_INT(s.blocked_until, 0);

        /* the window slides: the two failures at T0 count until T0 + 16 min ... */
        n = s;
        CHECK_INT(throttle_decide(&n, true, T0 + 16 * MIN - 1, &p, &n, &failed), THROTTLE_NOW_BLOCKED);
        CHECK_INT(failed, 3);
        CHECK_INT(n.blocked_until, T0 + 26 * MIN - 1);
        /* ... and no longer then: a third failure is one of one */
        n = s;
        CHECK_INT(throttle_decide(&n, true, T0 + 16 * MIN, &p, &n, &failed), THROTTLE_COUNTED);
        CHECK_INT(failed, 1);
        /* failures some minutes apart: the older leaves the window first */
        s = (ThrottleState) {};
        CHECK_INT(fail_n(&s, 1, T0, &p, &failed), THROTTLE_COUNTED);
        CHECK_INT(fail_n(&s, 1, T0 + 8 * MIN, &p, &failed), THROTTLE_COUNTED);
        CHECK_INT(failed, 2);
        CHECK_INT(fail_n(&s, 1, T0 + 17 * MIN, &p, &failed), THROTTLE_COUNTED);    /* T0's is gone */
        CHECK_INT(failed, 2);
        CHECK_INT(throttle_decide(&s, false, T0 + 40 * MIN, &p, &n, &failed), THROTTLE_OPEN);
        CHECK_INT(failed, 0);                                   /* all gone, also after a long pause */

        /* blocked: refused, a failure not counted, a success changes nothing */
        s = (ThrottleState) {};
        CHECK_INT(fail_n(&s, 3, T0, &p, &failed), THROTTLE_NOW_BLOCKED);
        CHECK_INT(failed, 3);
        CHECK_INT(s.blocked_until, T0 + 10 * MIN);
        CHECK_INT(throttle_decide(&s, false, T0 + 10 * MIN - 1, &p, &n, &failed), THROTTLE_BLOCKED);
        CHECK_INT(throttle_decide(&s, true, T0 + 5 * MIN, &p, &n, &failed), THROTTLE_BLOCKED);
        CHECK_INT(n.blocked_until, T0 + 10 * MIN);              /* not prolonged */

        /* the block ends, and counting resumes from nothing */
        CHECK_INT(throttle_decide(&s, false, T0 + 10 * MIN, &p, &n, &failed), THROTTLE_OPEN);
        CHECK_INT(failed, 0);
        CHECK_INT(fail_n(&s, 2, T0 + 10 * MIN, &p, &failed), THROTTLE_COUNTED);
        CHECK_INT(s.blocked_until, 0);
        CHECK_INT(fail_n(&s, 1, T0 + 11 * MIN, &p, &failed), THROTTLE_NOW_BLOCKED);
        CHECK_INT(s.blocked_until, T0 + 21 * MIN);

        /* a clock that went back does not empty the window */
        s = (ThrottleState) {};
        CHECK_INT(fail_n(&s, 2, T0 + 5 * MIN, &p, &failed), THROTTLE_COUNTED);
        CHECK_INT(fail_n(&s, 1, T0 + 4 * MIN, &p, &failed), THROTTLE_NOW_BLOCKED);

        /* MaxFailedPerSource=0: nothing counts, nothing blocks */
        p.max_failed = 0;
        s = (ThrottleState) {};
        CHECK_INT(fail_n(&s, 1000, T0, &p, &failed), THROTTLE_OPEN);
        CHECK_INT(s.blocked_until, 0);
}

static void test_sources(void) {
        ThrottleSource s;

        CHECK_INT(throttle_source_from_address("192.0.2.7", &s), 0);
        CHECK_STR(s.name, "192.0.2.7");
        CHECK_STR(s.key, "192.0.2.7");
        CHECK_INT(throttle_source_from_address("::ffff:192.0.2.7", &s), 0);
        CHECK_STR(s.key, "192.0.2.7");                          /* IPv4-mapped: its IPv4 address */
        CHECK_INT(throttle_source_from_address("2001:DB8:1:2:aaaa:bbbb:cccc:dddd", &s), 0);
        CHECK_STR(s.name, "2001:db8:1:2:aaaa:bbbb:cccc:dddd");
        CHECK_STR(s.key, "2001:db8:1:2::/64");
        CHECK_INT(throttle_source_from_address("2001:db8:1:2::1", &s), 0);
        CHECK_STR(s.key, "2001:db8:1:2::/64");                  /* one host's /64 is one source */
        CHECK_INT(throttle_source_from_address("::1", &s), 0);
        CHECK_STR(s.key, "::/64");
        for (const char *const *b = (const char *const[]) { "", "192.0.2", "192.0.2.256", "192.0.2.7/32",
                                                            " 192.0.2.7", "192.0.2.7 ", "fe80::1%eth0", "2001:db8:::1",
                                                            "localhost", "uid 0", NULL }; *b; b++)
                CHECK_INT(throttle_source_from_address(*b, &s), -EINVAL);
        throttle_source_from_uid(1000, &s);
        CHECK_STR(s.name, "uid 1000");
        CHECK_STR(s.key, "uid 1000");
}

static void test_table(void) {
        ThrottlePolicy p = { .max_failed = 2, .window_usec = 16 * MIN, .block_usec = 32 * MIN };
        _cleanup_(throttle_freep) Throttle *t = NULL;
        ThrottleVerdict v;
        unsigned failed, counted = 0, blocked = 0;
        char key[THROTTLE_SOURCE_MAX];

        CHECK_INT(throttle_new(&p, 3, &t), 0);
        CHECK_INT(throttle_check(t, "192.0.2.1", T0), 0);
        CHECK_INT(throttle_size(t), 0);                         /* asking keeps nothing */

        /* a blocks; b counts; both remembered */
        CHECK_INT(throttle_fail(t, "192.0.2.1", T0, &v, &failed), 0);
        CHECK_INT(v, THROTTLE_COUNTED);
        CHECK_INT(throttle_fail(t, "192.0.2.1", T0 + 1, &v, &failed), 0);
        CHECK_INT(v, THROTTLE_NOW_BLOCKED);
        CHECK_INT(failed, 2);
        CHECK_INT(throttle_check(t, "192.0.2.1", T0 + 2), 32 * MIN - 1);
        CHECK_INT(throttle_fail(t, "192.0.2.1", T0 + 2, &v, &failed), 0);
        CHECK_INT(v, THROTTLE_BLOCKED);
        CHECK_INT(throttle_check(t, "192.0.2.2", T0 + 2), 0);   /* another source is not blocked */
        CHECK_INT(throttle_fail(t, "192.0.2.2", T0 + 1 * MIN, &v, &failed), 0);
        CHECK_INT(v, THROTTLE_COUNTED);
        CHECK_INT(throttle_size(t), 2);

        /* full: a new source evicts the oldest counting one (b, then c), never the block */
        CHECK_INT(throttle_fail(t, "192.0.2.3", T0 + 2 * MIN, &v, &failed), 0);
        CHECK_INT(throttle_size(t), 3);
        CHECK_INT(throttle_fail(t, "192.0.2.4", T0 + 3 * MIN, &v, &failed), 0);
        CHECK_INT(throttle_size(t), 3);
        CHECK_INT(throttle_fail(t, "192.0.2.2", T0 + 3 * MIN, &v, &failed), 0);
        CHECK_INT(v, THROTTLE_COUNTED);                         /* b's first failure was forgotten */
        CHECK_INT(failed, 1);
        CHECK_INT(throttle_size(t), 3);
        CHECK_INT(throttle_check(t, "192.0.2.1", T0 + 3 * MIN), 29 * MIN + 1);

        /* only blocked sources: the oldest block goes */
        CHECK_INT(throttle_fail(t, "192.0.2.4", T0 + 4 * MIN, &v, &failed), 0);
        CHECK_INT(v, THROTTLE_NOW_BLOCKED);
        CHECK_INT(throttle_fail(t, "192.0.2.2", T0 + 4 * MIN, &v, &failed), 0);
        CHECK_INT(v, THROTTLE_NOW_BLOCKED);
        CHECK_INT(throttle_fail(t, "192.0.2.5", T0 + 5 * MIN, &v, &failed), 0);
        CHECK_INT(throttle_size(t), 3);
        CHECK_INT(throttle_check(t, "192.0.2.1", T0 + 5 * MIN), 0);
        CHECK(throttle_check(t, "192.0.2.4", T0 + 5 * MIN) > 0);
        CHECK(throttle_check(t, "192.0.2.2", T0 + 5 * MIN) > 0);

        /* expired entries go by themselves: counts after the window, blocks when they end */
        CHECK_INT(throttle_check(t, "192.0.2.9", T0 + 5 * MIN + 16 * MIN), 0);
        CHECK_INT(throttle_size(t), 2);                         /* 192.0.2.5's count is gone */
        CHECK_INT(throttle_check(t, "192.0.2.9", T0 + 4 * MIN + 32 * MIN), 0);
        CHECK_INT(throttle_size(t), 0);

        /* the bound holds with many sources, and each is still found */
        t = throttle_free(t);
        CHECK_INT(throttle_new(&p, 1000, &t), 0);
        for (unsigned i = 0; i < 5000; i++) {
                snprintf(key, sizeof key, "2001:db8:%x::/64", i);
                if (throttle_fail(t, key, T0 + i, &v, &failed) == 0 && v == THROTTLE_COUNTED)
                        counted++;
        }
        CHECK_INT(counted, 5000);
        CHECK_INT(throttle_size(t), 1000);
        /* the newest 1000 kept their first failure: a second blocks each */
        for (unsigned i = 4000; i < 5000; i++) {
                snprintf(key, sizeof key, "2001:db8:%x::/64", i);
                if (throttle_fail(t, key, T0 + 5000, &v, &failed) == 0 && v == THROTTLE_NOW_BLOCKED)
                        blocked++;
        }
        CHECK_INT(blocked, 1000);
        CHECK_INT(throttle_size(t), 1000);
        CHECK(throttle_check(t, "2001:db8:fa0::/64", T0 + 5001) > 0);   /* 4000 */
        CHECK(throttle_fail(t, "a source far too long to be an address or a uid, which no caller makes", T0, &v,
                            &failed) == -EINVAL);

        /* MaxFailedPerSource=0: nothing is kept */
        t = throttle_free(t);
        p.max_failed = 0;
        CHECK_INT(throttle_new(&p, 3, &t), 0);
        CHECK_INT(throttle_fail(t, "192.0.2.1", T0, &v, &failed), 0);
        CHECK_INT(v, THROTTLE_OPEN);
        CHECK_INT(throttle_size(t), 0);
        CHECK_INT(throttle_check(t, "192.0.2.1", T0), 0);
}

int main(void) {
        test_decide();
        test_sources();
        test_table();
        return test_summary();
}
