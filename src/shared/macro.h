/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The small set of helpers every vdesk source file leans on: scoped cleanup,
 * ownership hand-over and a few comparisons. Modelled on systemd's macro.h,
 * written for vdesk because systemd keeps its own internal. */

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _sentinel_ __attribute__((sentinel))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _pure_ __attribute__((pure))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

/* n zeroed objects of type t (at least one, so that NULL means no memory). */
#define new0(t, n) ((t *) calloc((n) ?: 1, sizeof(t)))

/* Hands ownership of *p to the caller and leaves NULL behind, so that a
 * _cleanup_ on the original variable does nothing. */
#define TAKE_PTR(p)                             \
        ({                                      \
                __typeof__(p) _ptr_ = (p);      \
                (p) = NULL;                     \
                _ptr_;                          \
        })

#define TAKE_FD(fd)                             \
        ({                                      \
                int _fd_ = (fd);                \
                (fd) = -1;                      \
                _fd_;                           \
        })

/* Defines name##p(type **) for a destructor that takes NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)         \
        static inline void func##p(type *p) {           \
                if (*p)                                 \
                        func(*p);                       \
        }

static inline void freep(void *p) {
        free(*(void **) p);
}

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

DEFINE_TRIVIAL_CLEANUP_FUNC(FILE *, fclose);
DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

/* A NULL-terminated array of strings owned by the array. */
static inline char **strv_free(char **l) {
        if (l) {
                for (char **i = l; *i; i++)
                        free(*i);
                free(l);
        }
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);

static inline size_t strv_length(char *const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}

/* name##_to_string() and name##_from_string() for an enum whose values
 * index name##_table (NULL or (type) -EINVAL where there is none). */
#define DEFINE_STRING_TABLE_LOOKUP(name, type)                                          \
        const char *name##_to_string(type i) {                                          \
                return i >= 0 && (size_t) i < ELEMENTSOF(name##_table) ? name##_table[i] : NULL; \
        }                                                                               \
        type name##_from_string(const char *s) {                                        \
                for (size_t i = 0; i < ELEMENTSOF(name##_table); i++)                   \
                        if (name##_table[i] && streq_ptr(s, name##_table[i]))           \
                                return (type) i;                                        \
                return (type) -EINVAL;                                                  \
        }

static inline bool isempty(const char *s) {
        return !s || !*s;
}

static inline const char *strempty(const char *s) {
        return s ?: "";
}

static inline const char *startswith(const char *s, const char *prefix) {
        size_t l = strlen(prefix);
        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

/* Frees *p and replaces it with a copy of s (or NULL); -ENOMEM on failure. */
static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

static inline int free_and_strdup(char **p, const char *s) {
        char *t = NULL;

        if (s) {
                t = strdup(s);
                if (!t)
                        return -ENOMEM;
        }
        free(*p);
        *p = t;
        return 0;
}

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define _fallthrough_ __attribute__((__fallthrough__))

#define USEC_PER_SEC  1000000ULL
#define USEC_PER_MSEC 1000ULL
#define NSEC_PER_USEC 1000ULL

/* Monotonic microseconds. */
unsigned long long now_usec(void);
/* Microseconds since the epoch. */
unsigned long long now_realtime_usec(void);
/* "YYYY-MM-DD HH:MM:SS UTC" */
void format_timestamp_utc(unsigned long long usec, char *buf, size_t size);
