/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdio.h>

/* HTML made safely: html_printf() escapes every %s argument, so that no
 * name, message or translation can break out of its place; %S is markup
 * the portal made itself. */

typedef struct Html {
        FILE *f;
        char *buf;
        size_t size;
} Html;

int html_open(Html *h);
/* Ends the document: its text (the caller frees it) and its length. */
int html_close(Html *h, char **ret, size_t *ret_size);
void html_discard(Html *h);

/* %s escaped text, %S markup, %d %u %q (uint16_t as unsigned), %%. */
void html_printf(Html *h, const char *fmt, ...);
void html_escape(FILE *f, const char *s);

/* Whether s is a path of this portal that a redirect may go back to: one
 * leading slash (not "//host"), and only letters, digits and "/-_.". */
bool url_is_local_path(const char *s);
