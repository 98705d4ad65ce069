/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Assertions for vdesk's unit tests: each failure names the expression and
 * the values, and the test goes on, so that one run shows every failure.
 * main() ends with `return test_summary();`, which prints the plain
 * "N passed, N failed" line. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static unsigned test_passed, test_failed;

#define CHECK(expr)                                                                      \
        do {                                                                             \
                if (expr)                                                                \
                        test_passed++;                                                   \
                else {                                                                   \
                        test_failed++;                                                   \
                        fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #expr); \
                }                                                                        \
        } while (0)

#define CHECK_INT(a, b)                                                                  \
        do {                                                                             \
                long long _a = (long long) (a), _b = (long long) (b);                    \
                if (_a == _b)                                                            \
                        test_passed++;                                                   \
                else {                                                                   \
                        test_failed++;                                                   \
                        fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n",        \
                                __FILE__, __LINE__, #a, #b, _a, _b);                     \
                }                                                                        \
        } while (0)

#define CHECK_STR(a, b)                                                                  \
        do {                                                                             \
                const char *_a = (a), *_b = (b);                                         \
                if (_a && _b && strcmp(_a, _b) == 0)                                     \
                        test_passed++;                                                   \
                else {                                                                   \
                        test_failed++;                                                   \
                        fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n",    \
                                __FILE__, __LINE__, #a, #b, _a ? _a : "(null)", _b ? _b : "(null)"); \
                }                                                                        \
        } while (0)

static inline int test_summary(void) {
        printf("%u passed, %u failed\n", test_passed, test_failed);
        return test_failed == 0 && test_passed > 0 ? 0 : 1;
}
