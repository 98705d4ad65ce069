/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* SHA-256 (FIPS 180-4), for what must be looked up by a digest: session
 * tokens are stored only as their SHA-256. Not for passwords (yescrypt). */

#define SHA256_DIGEST_SIZE 32

void sha256(const void *data, size_t len, uint8_t ret[static SHA256_DIGEST_SIZE]);

/* The digest in lower-case hex, as the database keeps it. */
#define SHA256_HEX_SIZE (2 * SHA256_DIGEST_SIZE + 1)
void sha256_hex(const void *data, size_t len, char ret[static SHA256_HEX_SIZE]);
