/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Password policy, yescrypt hashing and verification. */

#include "macro.h"
#include "password.h"
#include "tests.h"

static void test_policy(void) {
        PasswordPolicy p = { .min_length = 10, .min_classes = 3 };

        CHECK(password_weak_reason("Correct-Horse-7", &p) == NULL);
        CHECK_STR(password_weak_reason("Short-7", &p), "is shorter than 10 characters");
        CHECK_STR(password_weak_reason("alllowercaseletters", &p),
                  "must mix at least 3 of: lower case, upper case, digits, other characters");
        CHECK_STR(password_weak_reason("tab\there-Pass-1", &p), "contains control characters");
        CHECK_STR(password_weak_reason("bad\xff-utf8-Pass1", &p), "is not valid UTF-8");
        /* length counts characters: 10 two-byte letters and 2 classes */
        p.min_classes = 2;
        CHECK(password_weak_reason("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9" "1", &p) == NULL);
        CHECK_STR(password_weak_reason("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9" "1", &p), "is shorter than 10 characters");
        p.min_length = 0;
        p.min_classes = 0;
        CHECK(password_weak_reason("", &p) == NULL);
}

static void test_hash(void) {
        _cleanup_(freep) char *h1 = NULL, *h2 = NULL;

        CHECK_INT(password_hash("Correct-Horse-7", 5, &h1), 0);
        CHECK(h1 && strncmp(h1, "$y$", 3) == 0);                /* yescrypt */
        CHECK_INT(password_hash("Correct-Horse-7", 5, &h2), 0);
        CHECK(h1 && h2 && strcmp(h1, h2) != 0);                  /* random salts */
        if (!h1)
                return;
        CHECK(!strstr(h1, "Correct"));
        CHECK_INT(password_verify("Correct-Horse-7", h1), 1);
        CHECK_INT(password_verify("Correct-Horse-8", h1), 0);
        CHECK_INT(password_verify("", h1), 0);
        CHECK_INT(password_verify("Correct-Horse-7", "not a hash"), -EINVAL);
        CHECK_INT(password_verify("Correct-Horse-7", ""), -EINVAL);
}

int main(void) {
        test_policy();
        test_hash();
        return test_summary();
}
