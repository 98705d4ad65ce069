/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What vdesk's benchmark programs share: milliseconds between two
 * now_usec() readings, percentiles of a sample, dying on a bus error. */

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
