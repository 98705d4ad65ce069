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

/* The part of a password operation that runs on a worker thread (a
 * WorkerFunc's data; a larger job may begin with it): checks password
 * against hash (with no hash, computes a throwaway hash of password, so
 * that an unknown account costs the same time as a known one), and hashes
 * new_password. The inputs are the job's copies; password_work_done()
 * wipes and frees them and the results. */
typedef struct PasswordWork {
        char *password;         /* to check, or NULL */
        char *hash;             /* to check it against, or NULL */
        char *new_password;     /* to hash, or NULL */
        unsigned cost;
        int verified;           /* result: 1 if password matches hash */
        char *new_hash;         /* result */
} PasswordWork;

/* A WorkerFunc: userdata is (or begins with) a PasswordWork. */
int password_work_run(void *userdata);
void password_work_done(PasswordWork *w);
