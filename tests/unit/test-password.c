/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Password policy, yescrypt hashing and verification, and the sign-in
 * lockout decision with a clock the test sets. */

#include "activation.h"
#include "macro.h"
#include "password.h"
#include "session.h"
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

static void test_lockout(void) {
        const uint64_t MIN = 60 * USEC_PER_SEC, t0 = 1700000000ULL * USEC_PER_SEC;
        SignInPolicy p = { .max_failed = 3, .lock_usec = 15 * MIN };
        unsigned failed = 0;
        uint64_t until = 0;

        CHECK_INT(signin_decide(false, 0, 0, t0, &p, &failed, &until), SIGNIN_WRONG_PASSWORD);
        CHECK_INT(failed, 1);
        CHECK_INT(until, 0);
        CHECK_INT(signin_decide(true, 1, 0, t0, &p, &failed, &until), SIGNIN_OK);
        CHECK_INT(failed, 0);                                   /* success clears the count */

        CHECK_INT(signin_decide(false, 1, 0, t0, &p, &failed, &until), SIGNIN_WRONG_PASSWORD);
        CHECK_INT(signin_decide(false, failed, until, t0 + 1, &p, &failed, &until), SIGNIN_WRONG_PASSWORD_NOW_LOCKED);
        CHECK_INT(failed, 3);
        CHECK_INT(until, t0 + 1 + 15 * MIN);

        /* locked: even the right password is refused, and nothing moves */
        CHECK_INT(signin_decide(true, failed, until, t0 + 14 * MIN, &p, &failed, &until), SIGNIN_LOCKED);
        CHECK_INT(failed, 3);
        CHECK_INT(until, t0 + 1 + 15 * MIN);
        CHECK_INT(signin_decide(false, failed, until, t0 + 15 * MIN, &p, &failed, &until), SIGNIN_LOCKED);

        /* once the lock ran out: the right password works ... */
        CHECK_INT(signin_decide(true, 3, t0 + 1 + 15 * MIN, t0 + 16 * MIN, &p, &failed, &until), SIGNIN_OK);
        CHECK_INT(failed, 0);
        CHECK_INT(until, 0);
        /* ... and a wrong one starts counting again, not locking at once */
        CHECK_INT(signin_decide(false, 3, t0 + 1 + 15 * MIN, t0 + 16 * MIN, &p, &failed, &until), SIGNIN_WRONG_PASSWORD);
        CHECK_INT(failed, 1);

        /* MaxFailedSignins=0: never locks */
        p.max_failed = 0;
        CHECK_INT(signin_decide(false, 1000, 0, t0, &p, &failed, &until), SIGNIN_WRONG_PASSWORD);
        CHECK_INT(until, 0);
}

static void test_activation_codes(void) {
        char codes[3][ACTIVATION_CODE_SIZE], digests[3][SHA256_HEX_SIZE], d[SHA256_HEX_SIZE], plain[32];
        size_t k = 0;

        CHECK_INT(activation_codes_new(3, codes, digests), 0);
        CHECK_INT(strlen(codes[0]), 23);
        CHECK(codes[0][5] == '-' && codes[0][11] == '-' && codes[0][17] == '-');
        CHECK(strcmp(codes[0], codes[1]) != 0 && strcmp(codes[1], codes[2]) != 0);
        /* the digest is the SHA-256 of the 20 characters without dashes */
        for (const char *p = codes[0]; *p; p++)
                if (*p != '-')
                        plain[k++] = *p;
        plain[k] = '\0';
        sha256_hex(plain, k, d);
        CHECK_STR(d, digests[0]);
        /* read back as typed: case, dashes and spaces do not matter */
        CHECK_INT(activation_code_digest(codes[0], d), 0);
        CHECK_STR(d, digests[0]);
        for (char *p = plain; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char) (*p - 'A' + 'a');
        CHECK_INT(activation_code_digest(plain, d), 0);
        CHECK_STR(d, digests[0]);
        /* look-alikes: O is 0, I and L are 1 */
        {
                char a[SHA256_HEX_SIZE], b[SHA256_HEX_SIZE];

                CHECK_INT(activation_code_digest("00000-11111-00000-11111", a), 0);
                CHECK_INT(activation_code_digest("oOooo-IiLl1-00000-11111", b), 0);
                CHECK_STR(a, b);
        }
        /* not codes */
        CHECK_INT(activation_code_digest("", d), -EINVAL);
        CHECK_INT(activation_code_digest("00000-11111-00000-1111", d), -EINVAL);    /* 19 */
        CHECK_INT(activation_code_digest("00000-11111-00000-111111", d), -EINVAL);  /* 21 */
        CHECK_INT(activation_code_digest("00000-11111-00000-1111U", d), -EINVAL);   /* U is not used */
        CHECK_INT(activation_code_digest("00000-11111-00000-1111!", d), -EINVAL);

        CHECK(digest_equal(digests[0], digests[0]));
        CHECK(!digest_equal(digests[0], digests[1]));
        CHECK(!digest_equal(digests[0], ""));
}

int main(void) {
        test_activation_codes();
        test_lockout();
        test_policy();
        test_hash();
        return test_summary();
}
