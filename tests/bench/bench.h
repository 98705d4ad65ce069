/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What vdesk's benchmark programs share: milliseconds between two
 * now_usec() readings, percentiles of a sample, samples that grow and
 * print their percentiles, dying on a bus error. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

static inline double ms(unsigned long long a, unsigned long long b) {
        return (double) (b - a) / 1000.0;
}

static inline int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

/* The p-th percentile (0..1) of v[0..n), sorting v. */
static inline double pct(double *v, size_t n, double p) {
        qsort(v, n, sizeof *v, cmp_double);
        return v[(size_t) ((double) (n - 1) * p + 0.5)];
}

static inline void die_bus(const char *what, int r, const sd_bus_error *e) {
        fprintf(stderr, "%s: %s\n", what, e && e->message ? e->message : strerror(-r));
        exit(1);
}

/* Timings in ms, grown one at a time. */
typedef struct Sample {
        double *v;
        size_t n;
} Sample;

static inline void sample_add(Sample *s, double v) {
        double *n = realloc(s->v, (s->n + 1) * sizeof *n);

        if (!n) {
                fprintf(stderr, "out of memory\n");
                exit(1);
        }
        n[s->n++] = v;
        s->v = n;
}

static inline void sample_done(Sample *s) {
        free(s->v);
        *s = (Sample) {};
}

static inline void samples_done(Sample s[], size_t n) {
        for (size_t i = 0; i < n; i++)
                sample_done(&s[i]);
}

/* p50, p90, p99 of s as "<key>_p50_ms ..." lines. */
static inline void sample_print(const char *key, Sample *s) {
        if (s->n == 0)
                return;
        printf("%s_p50_ms %.3f\n", key, pct(s->v, s->n, 0.5));
        printf("%s_p90_ms %.3f\n", key, pct(s->v, s->n, 0.9));
        printf("%s_p99_ms %.3f\n", key, pct(s->v, s->n, 0.99));
        printf("%s_n %zu\n", key, s->n);
}
