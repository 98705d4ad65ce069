/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "sha256.h"

static const uint32_t k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror(uint32_t x, unsigned n) {
        return (x >> n) | (x << (32 - n));
}

static void block(uint32_t h[8], const uint8_t p[64]) {
        uint32_t w[64], a, b, c, d, e, f, g, hh;

        for (unsigned i = 0; i < 16; i++)
                w[i] = (uint32_t) p[4 * i] << 24 | (uint32_t) p[4 * i + 1] << 16 |
                       (uint32_t) p[4 * i + 2] << 8 | p[4 * i + 3];
        for (unsigned i = 16; i < 64; i++) {
                uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
                uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
        for (unsigned i = 0; i < 64; i++) {
                uint32_t t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
                uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
                hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
        }
        h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

void sha256(const void *data, size_t len, uint8_t ret[static SHA256_DIGEST_SIZE]) {
        uint32_t h[8] = {
                0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
        };
        const uint8_t *p = data;
        uint8_t tail[128] = {};
        size_t rest = len % 64, n_tail;
        uint64_t bits = (uint64_t) len * 8;

        for (size_t i = 0; i + 64 <= len; i += 64)
                block(h, p + i);

        /* The last bytes, a 1 bit, zeros, and the length in bits. */
        memcpy(tail, p + len - rest, rest);
        tail[rest] = 0x80;
        n_tail = rest + 9 <= 64 ? 64 : 128;
        for (unsigned i = 0; i < 8; i++)
                tail[n_tail - 1 - i] = (uint8_t) (bits >> (8 * i));
        for (size_t i = 0; i < n_tail; i += 64)
                block(h, tail + i);

        for (unsigned i = 0; i < 8; i++) {
                ret[4 * i] = (uint8_t) (h[i] >> 24);
                ret[4 * i + 1] = (uint8_t) (h[i] >> 16);
                ret[4 * i + 2] = (uint8_t) (h[i] >> 8);
                ret[4 * i + 3] = (uint8_t) h[i];
        }
}

void sha256_hex(const void *data, size_t len, char ret[static SHA256_HEX_SIZE]) {
        uint8_t d[SHA256_DIGEST_SIZE];

        sha256(data, len, d);
        hex_encode(d, sizeof d, ret);
}

void hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                 uint8_t ret[static SHA256_DIGEST_SIZE]) {
        uint8_t kpad[64] = {}, inner[SHA256_DIGEST_SIZE];
        _cleanup_(freep) uint8_t *buf = NULL;

        /* RFC 2104: a key longer than a block is hashed first. */
        if (key_len > sizeof kpad)
                sha256(key, key_len, kpad);
        else
                memcpy(kpad, key, key_len);
        buf = malloc(64 + MAX(len, (size_t) SHA256_DIGEST_SIZE));
        if (!buf)
                abort();        /* a few bytes; nothing sensible to answer instead */
        for (size_t i = 0; i < 64; i++)
                buf[i] = kpad[i] ^ 0x36;
        memcpy(buf + 64, data, len);
        sha256(buf, 64 + len, inner);
        for (size_t i = 0; i < 64; i++)
                buf[i] = kpad[i] ^ 0x5c;
        memcpy(buf + 64, inner, sizeof inner);
        sha256(buf, 64 + sizeof inner, ret);
        explicit_bzero(kpad, sizeof kpad);
        explicit_bzero(buf, 64);
}

void hex_encode(const uint8_t *data, size_t len, char *ret) {
        static const char hex[] = "0123456789abcdef";

        for (size_t i = 0; i < len; i++) {
                ret[2 * i] = hex[data[i] >> 4];
                ret[2 * i + 1] = hex[data[i] & 15];
        }
        ret[2 * len] = '\0';
}
