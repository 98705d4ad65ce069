/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "sha256.h"

/* One-time activation codes for accounts imported in bulk: 20 characters
 * of Crockford's base32 (100 random bits), shown as XXXXX-XXXXX-XXXXX-XXXXX.
 * Only a code's SHA-256 is stored: with 100 bits of entropy a fast hash
 * cannot be searched, unlike a password's. Reading a code forgives case,
 * dashes, spaces and the look-alikes O/0 and I/L/1. */

#define ACTIVATION_CODE_CHARS 20
#define ACTIVATION_CODE_SIZE (ACTIVATION_CODE_CHARS + 3 + 1)   /* with the dashes and NUL */

/* n new codes into codes[i][ACTIVATION_CODE_SIZE] with their digests. */
int activation_codes_new(size_t n, char (*codes)[ACTIVATION_CODE_SIZE], char (*digests)[SHA256_HEX_SIZE]);

/* The digest of a code as typed; -EINVAL if it cannot be one. */
int activation_code_digest(const char *code, char ret[static SHA256_HEX_SIZE]);

/* Compares two digests in time that does not depend on where they differ. */
int digest_equal(const char *a, const char *b);
