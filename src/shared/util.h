/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IN_SET_CHAR(c, ...) (memchr((const char[]) { __VA_ARGS__ }, (c), sizeof((const char[]) { __VA_ARGS__ })) != NULL)

#define NAME_MAX_LEN 63

/* Fills buf completely from the kernel's random generator. */
int random_bytes(void *buf, size_t n);

/* Reads a whole file of at most max bytes, NUL-terminated. */
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size);
/* The same from an open file descriptor (a pipe, standard input), to its end. */
int read_full_fd(int fd, size_t max, char **ret, size_t *ret_size);

/* A secret (a password) from an open file: at most SECRET_MAX bytes, no NUL,
 * one trailing newline (or several) dropped, never left in freed memory.
 * -E2BIG if longer, -EBADMSG for a NUL, -ENODATA if empty. */
#define SECRET_MAX 4095
int read_secret_fd(int fd, char **ret);

/* Wipes the string (explicit_bzero) and frees it; returns NULL. */
char *erase_and_free(char *s);
static inline void erase_and_freep(char **p) {
        erase_and_free(*p);
}

/* True if s is valid UTF-8 (no overlongs, no surrogates). */
bool utf8_is_valid(const char *s);

/* Checks an object name (desktop, template, account, network): 1-63 bytes,
 * first an ASCII letter or digit, then letters, digits, '.', '_' or '-',
 * never "..". Returns NULL if valid, else a reason ("is empty", ...). */
const char *name_invalid_reason(const char *s);
static inline bool name_is_valid(const char *s) {
        return !name_invalid_reason(s);
}

/* Whether s holds an ASCII control character (tab and newline too). */
bool string_has_control(const char *s);

/* NULL-terminated string arrays (NULL is the empty one). */
bool strv_contains(char *const *l, const char *s);
/* Appends a copy of s. */
int strv_extend(char ***l, const char *s);
/* Removes (and frees) the entries equal to s. */
void strv_remove(char **l, const char *s);
/* The entries with sep between them ("" for none); NULL on OOM. */
char *strv_join(char *const *l, const char *sep);

/* True if path is absolute, has no "." or ".." component and no "//". */
bool path_is_normalized_absolute(const char *path);

/* True if path lies strictly below dir (both normalized, absolute). */
bool path_startswith_dir(const char *path, const char *dir);

/* Creates dir and its missing parents (mode for each created); an existing
 * directory is fine. */
int mkdir_parents(const char *dir, mode_t mode);

/* Checks a network interface name as the kernel takes it: 1-15 bytes, no
 * '/', ':' or white space, not "." or "..". Returns NULL or a reason. */
const char *ifname_invalid_reason(const char *s);

/* IPv4 in host byte order. */
int ipv4_parse(const char *s, uint32_t *ret);
void ipv4_format(uint32_t a, char buf[static 16]);
/* "a.b.c.d/len": the address and the prefix length (0-32). */
int ipv4_cidr_parse(const char *s, uint32_t *ret_address, unsigned *ret_prefix);
/* The netmask of a prefix length (0-32). */
static inline uint32_t ipv4_netmask(unsigned prefix) {
        return prefix == 0 ? 0 : ~(uint32_t) 0 << (32 - prefix);
}

static inline bool ipv4_is_multicast(uint32_t a) {
        return (a >> 28) == 0xe;
}
/* An address one host can have on a network: not 0, loopback, multicast,
 * reserved or broadcast. */
static inline bool ipv4_is_unicast(uint32_t a) {
        return a != 0 && !ipv4_is_multicast(a) && (a >> 24) != 127 && a != UINT32_MAX && (a >> 28) != 0xf;
}

/* The MAC vdesk gives the desktop with address a: 52:54 then the four octets. */
void mac_from_ipv4(uint32_t a, char buf[static 18]);
