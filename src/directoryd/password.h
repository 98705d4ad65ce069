/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Passwords: checked against a policy, stored only as yescrypt hashes
 * (libcrypt), compared in constant time. The one module that includes
 * <crypt.h>. */

typedef struct PasswordPolicy {
        unsigned min_length;    /* characters (code points), not bytes */
        unsigned min_classes;   /* of: lower case, upper case, digits, others */
} PasswordPolicy;

/* NULL if password meets the policy, else why not ("is shorter than 10
 * characters", ...). */
const char *password_weak_reason(const char *password, const PasswordPolicy *p);

/* A new yescrypt hash ("$y$...") of password with a random salt; cost is
 * yescrypt's (1-11; 5 is libcrypt's default). */
int password_hash(const char *password, unsigned cost, char **ret);

/* 1 if password matches hash, 0 if not, negative if hash is malformed. */
int password_verify(const char *password, const char *hash);
