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

/* HMAC-SHA-256 (RFC 2104): what proves that a value was made here, such as
 * a form's CSRF token. */
void hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                 uint8_t ret[static SHA256_DIGEST_SIZE]);

/* len bytes as 2 * len lower-case hex digits and a NUL. */
void hex_encode(const uint8_t *data, size_t len, char *ret);
