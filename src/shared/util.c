/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "util.h"

int random_bytes(void *buf, size_t n) {
        for (size_t done = 0; done < n;) {
                ssize_t k = getrandom((char *) buf + done, n - done, 0);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                done += (size_t) k;
        }
        return 0;
}

int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_(closep) int fd = -1;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return read_full_fd(fd, max, ret, ret_size);
}

int read_secret_fd(int fd, char **ret) {
        char buf[SECRET_MAX + 2];       /* one more than allowed, to see a longer one */
        size_t n = 0;
        char *s;
        int r = 0;

        /* On the stack and wiped, not in a growing heap buffer whose
         * earlier copies realloc() would free with the secret in them. */
        while (n < sizeof buf - 1) {
                ssize_t k = read(fd, buf + n, sizeof buf - 1 - n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto out;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        if (n > SECRET_MAX) {
                r = -E2BIG;
                goto out;
        }
        if (memchr(buf, 0, n)) {
                r = -EBADMSG;
                goto out;
        }
        while (n > 0 && IN_SET_CHAR(buf[n - 1], '\n', '\r'))
                n--;
        if (n == 0) {
                r = -ENODATA;
                goto out;
        }
        buf[n] = 0;
        s = strdup(buf);
        if (!s) {
                r = -ENOMEM;
                goto out;
        }
        *ret = s;
out:
        explicit_bzero(buf, sizeof buf);
        return r;
}

char *erase_and_free(char *s) {
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
        return NULL;
}

int read_full_fd(int fd, size_t max, char **ret, size_t *ret_size) {
        _cleanup_(freep) char *buf = NULL;
        size_t n = 0, allocated = 0;

        for (;;) {
                ssize_t k;

                if (n + 1 >= allocated) {
                        char *t;

                        allocated = allocated ? allocated * 2 : 4096;
                        t = realloc(buf, allocated);
                        if (!t)
                                return -ENOMEM;
                        buf = t;
                }
                k = read(fd, buf + n, allocated - n - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n > max)
                        return -EFBIG;
        }
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = n;
        return 0;
}

bool utf8_is_valid(const char *str) {
        const unsigned char *s = (const unsigned char *) str;

        while (*s) {
                unsigned len;
                uint32_t cp;

                if (*s < 0x80) {
                        s++;
                        continue;
                } else if ((*s & 0xe0) == 0xc0) {
                        len = 2;
                        cp = *s & 0x1f;
                } else if ((*s & 0xf0) == 0xe0) {
                        len = 3;
                        cp = *s & 0x0f;
                } else if ((*s & 0xf8) == 0xf0) {
                        len = 4;
                        cp = *s & 0x07;
                } else
                        return false;

                for (unsigned i = 1; i < len; i++) {
                        if ((s[i] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (s[i] & 0x3f);
                }
                if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
                    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                s += len;
        }
        return true;
}

const char *name_invalid_reason(const char *s) {
        size_t l;

        if (isempty(s))
                return "is empty";
        if (!utf8_is_valid(s))
                return "is not valid UTF-8";
        l = strlen(s);
        if (l > NAME_MAX_LEN)
                return "is longer than 63 bytes";
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= '0' && s[0] <= '9')))
                return "must start with an ASCII letter or digit";
        for (size_t i = 1; i < l; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-'))
                        return "may hold only ASCII letters, digits, '.', '_' and '-'";
        }
        if (strstr(s, ".."))
                return "must not contain '..'";
        return NULL;
}

const char *ifname_invalid_reason(const char *s) {
        if (isempty(s))
                return "is empty";
        if (strlen(s) > 15)
                return "is longer than 15 bytes (the kernel's limit for interface names)";
        if (streq(s, ".") || streq(s, ".."))
                return "is '.' or '..'";
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p <= ' ' || *p >= 0x7f || *p == '/' || *p == ':')
                        return "may not hold '/', ':', white space or non-ASCII characters";
        return NULL;
}

bool string_has_control(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return true;
        return false;
}

int parse_uint_max(const char *s, unsigned long max, unsigned long *ret) {
        unsigned long v;
        char *end;

        if (!isdigit((unsigned char) *s))
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (*end)
                return -EINVAL;
        if (errno != 0 || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

bool strv_contains(char *const *l, const char *s) {
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

int strv_extend(char ***l, const char *s) {
        size_t n = strv_length(*l);
        char **t, *c;

        c = strdup(s);
        if (!c)
                return -ENOMEM;
        t = realloc(*l, (n + 2) * sizeof(char *));
        if (!t) {
                free(c);
                return -ENOMEM;
        }
        t[n] = c;
        t[n + 1] = NULL;
        *l = t;
        return 0;
}

void strv_remove(char **l, const char *s) {
        char **w = l;

        for (char **r = l; r && *r; r++)
                if (streq(*r, s))
                        free(*r);
                else
                        *w++ = *r;
        if (w)
                *w = NULL;
}

char *strv_join(char *const *l, const char *sep) {
        size_t n = 1, k = strlen(sep);
        char *s, *p;

        for (char *const *i = l; i && *i; i++)
                n += strlen(*i) + k;
        s = p = malloc(n);
        if (!s)
                return NULL;
        *p = 0;
        for (char *const *i = l; i && *i; i++)
                p = stpcpy(stpcpy(p, i == l ? "" : sep), *i);
        return s;
}

bool path_is_normalized_absolute(const char *path) {
        const char *p;

        if (isempty(path) || path[0] != '/' || strlen(path) >= 4096 || !utf8_is_valid(path) ||
            strstr(path, "//"))
                return false;
        for (p = path; *p; ) {
                const char *e;
                size_t l;

                p++;    /* past the '/' */
                e = strchrnul(p, '/');
                l = (size_t) (e - p);
                if ((l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                for (const char *q = p; q < e; q++)
                        if ((unsigned char) *q < 0x20 || *q == 0x7f)
                                return false;
                p = e;
        }
        return true;
}

bool path_startswith_dir(const char *path, const char *dir) {
        size_t l = strlen(dir);

        while (l > 1 && dir[l - 1] == '/')
                l--;
        return strncmp(path, dir, l) == 0 && path[l] == '/' && path[l + 1] != 0;
}

int ipv4_parse(const char *s, uint32_t *ret) {
        struct in_addr a;

        if (isempty(s) || inet_pton(AF_INET, s, &a) != 1)
                return -EINVAL;
        *ret = ntohl(a.s_addr);
        return 0;
}

int ipv4_cidr_parse(const char *s, uint32_t *ret_address, unsigned *ret_prefix) {
        char buf[INET_ADDRSTRLEN];
        const char *slash;
        unsigned long p;
        char *end;
        size_t l;

        slash = s ? strchr(s, '/') : NULL;
        if (!slash || !isdigit((unsigned char) slash[1]))
                return -EINVAL;
        l = (size_t) (slash - s);
        if (l >= sizeof buf)
                return -EINVAL;
        memcpy(buf, s, l);
        buf[l] = 0;
        errno = 0;
        p = strtoul(slash + 1, &end, 10);
        if (errno || *end || p > 32 || end - (slash + 1) > 2)
                return -EINVAL;
        if (ipv4_parse(buf, ret_address) < 0)
                return -EINVAL;
        *ret_prefix = (unsigned) p;
        return 0;
}

void ipv4_format(uint32_t a, char buf[static 16]) {
        snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

void mac_from_ipv4(uint32_t a, char buf[static 18]) {
        snprintf(buf, 18, "52:54:%02x:%02x:%02x:%02x", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

char *path_dir_of(const char *path) {
        const char *slash = strrchr(path, '/');

        if (!slash)
                return strdup(".");
        if (slash == path)
                return strdup("/");
        return strndup(path, (size_t) (slash - path));
}

void fsync_dir(const char *dir) {
        _cleanup_(closep) int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd >= 0)
                (void) fsync(fd);
}

void fsync_dir_of(const char *path) {
        _cleanup_(freep) char *dir = path_dir_of(path);

        if (dir)
                fsync_dir(dir);
}

int path_temp_name(const char *path, char **ret) {
        static unsigned counter = 0;
        const char *slash = strrchr(path, '/');
        _cleanup_(freep) char *dir = path_dir_of(path);

        if (!dir)
                return -ENOMEM;
        if (asprintf(ret, "%s/.%s.%d.%u.tmp", streq(dir, "/") ? "" : dir, slash ? slash + 1 : path, (int) getpid(),
                     counter++) < 0)
                return -ENOMEM;
        return 0;
}

int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode) {
        _cleanup_(freep) char *tmp = NULL;
        _cleanup_(closep) int fd = -1;
        int r = 0;

        /* A name left by a process of the same pid that died: take the next. */
        for (unsigned i = 0; fd < 0 && i < 16; i++) {
                tmp = mfree(tmp);
                r = path_temp_name(path, &tmp);
                if (r < 0)
                        return r;
                fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
                if (fd < 0 && errno != EEXIST)
                        return -errno;
        }
        if (fd < 0)
                return -EEXIST;
        for (size_t done = 0; r >= 0 && done < size;) {
                ssize_t k = write(fd, (const char *) data + done, size - done);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        r = -errno;
                else
                        done += (size_t) k;
        }
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && close(TAKE_FD(fd)) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        fsync_dir_of(path);
        return 0;
}

int mkdir_parents(const char *dir, mode_t mode) {
        _cleanup_(freep) char *p = strdup(dir);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; ; s++) {
                if (*s != '/' && *s != 0)
                        continue;
                char c = *s;
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = c;
                if (c == 0)
                        break;
        }
        return 0;
}
