/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "macro.h"
#include "util.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* The code's 20 characters, without dashes, upper case; -EINVAL if it has
 * anything else. */
static int normalize(const char *code, char ret[static ACTIVATION_CODE_CHARS + 1]) {
        size_t n = 0;

        for (const char *p = code; *p; p++) {
                char c = *p;

                if (c == '-' || c == ' ')
                        continue;
                if (c >= 'a' && c <= 'z')
                        c = (char) (c - 'a' + 'A');
                if (c == 'O')
                        c = '0';
                else if (c == 'I' || c == 'L')
                        c = '1';
                if (!strchr(alphabet, c) || c == '\0' || n == ACTIVATION_CODE_CHARS)
                        return -EINVAL;
                ret[n++] = c;
        }
        if (n != ACTIVATION_CODE_CHARS)
                return -EINVAL;
        ret[n] = '\0';
        return 0;
}

int activation_code_digest(const char *code, char ret[static SHA256_HEX_SIZE]) {
        char plain[ACTIVATION_CODE_CHARS + 1];
        int r;

        r = normalize(code, plain);
        if (r < 0)
                return r;
        sha256_hex(plain, ACTIVATION_CODE_CHARS, ret);
        explicit_bzero(plain, sizeof plain);
        return 0;
}

int activation_codes_new(size_t n, char (*codes)[ACTIVATION_CODE_SIZE], char (*digests)[SHA256_HEX_SIZE]) {
        _cleanup_(freep) uint8_t *raw = NULL;
        int r;

        if (n == 0)
                return 0;
        /* One byte per character, of which 5 bits are used: simple, and
         * getrandom() is cheap enough for 10k codes at once. */
        raw = malloc(n * ACTIVATION_CODE_CHARS);
        if (!raw)
                return -ENOMEM;
        r = random_bytes(raw, n * ACTIVATION_CODE_CHARS);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                char plain[ACTIVATION_CODE_CHARS + 1];
                char *out = codes[i];

                for (size_t j = 0; j < ACTIVATION_CODE_CHARS; j++) {
                        plain[j] = alphabet[raw[i * ACTIVATION_CODE_CHARS + j] & 31];
                        if (j > 0 && j % 5 == 0)
                                *out++ = '-';
                        *out++ = plain[j];
                }
                *out = '\0';
                sha256_hex(plain, ACTIVATION_CODE_CHARS, digests[i]);
                explicit_bzero(plain, sizeof plain);
        }
        explicit_bzero(raw, n * ACTIVATION_CODE_CHARS);
        return 0;
}

int digest_equal(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        unsigned char d = la != lb;

        for (size_t i = 0; i < MIN(la, lb); i++)
                d |= (unsigned char) (a[i] ^ b[i]);
        return d == 0;
}
