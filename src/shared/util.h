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

/* s as a decimal number up to max: digits only (no sign, no space, no
 * empty string); -EINVAL otherwise, -ERANGE above max. */
int parse_uint_max(const char *s, unsigned long max, unsigned long *ret);

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

/* The directory part of path: "." if it has none, "/" for "/x"; NULL on OOM. */
char *path_dir_of(const char *path);

/* Syncs a directory, or the directory path is in, so that a name made or
 * removed there lasts; best effort. */
void fsync_dir(const char *dir);
void fsync_dir_of(const char *path);

/* A hidden name in path's directory for a temporary file that becomes path
 * by rename(): ".<name>.<pid>.<n>.tmp", unique per process and call, so
 * that a crash leaves a name no real file has. */
int path_temp_name(const char *path, char **ret);

/* Writes size bytes of data to path so that path never holds anything
 * else, nor anyone else reads them before they are complete: into a new
 * file in path's directory (path_temp_name(), created O_EXCL|O_NOFOLLOW
 * with mode: never an existing file, never through a symlink), written,
 * synced, then renamed over path. Whatever was at path (a file of a looser
 * mode, a symlink planted there) is replaced, never written through, and
 * the file has mode (less the umask) however path existed before; on
 * failure path is left as it was and no temporary file remains. For files
 * holding a secret (mode 0600). */
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode);

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
