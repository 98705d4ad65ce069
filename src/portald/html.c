/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"

int html_open(Html *h) {
        *h = (Html) {};
        h->f = open_memstream(&h->buf, &h->size);
        return h->f ? 0 : -ENOMEM;
}

int html_close(Html *h, char **ret, size_t *ret_size) {
        if (fclose(h->f) != 0) {
                h->f = NULL;
                html_discard(h);
                return -ENOMEM;
        }
        h->f = NULL;
        *ret = h->buf;
        *ret_size = h->size;
        h->buf = NULL;
        return 0;
}

void html_discard(Html *h) {
        if (h->f)
                fclose(h->f);
        free(h->buf);
        *h = (Html) {};
}

void html_escape(FILE *f, const char *s) {
        for (; s && *s; s++)
                switch (*s) {
                case '&': fputs("&amp;", f); break;
                case '<': fputs("&lt;", f); break;
                case '>': fputs("&gt;", f); break;
                case '"': fputs("&quot;", f); break;
                case '\'': fputs("&#39;", f); break;
                default: fputc(*s, f);
                }
}

void html_printf(Html *h, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        for (const char *p = fmt; *p; p++) {
                if (*p != '%' || !p[1]) {
                        fputc(*p, h->f);
                        continue;
                }
                switch (*++p) {
                case 's':
                        html_escape(h->f, va_arg(ap, const char *));
                        break;
                case 'S':
                        fputs(va_arg(ap, const char *), h->f);
                        break;
                case 'd':
                        fprintf(h->f, "%d", va_arg(ap, int));
                        break;
                case 'u':
                case 'q':
                        fprintf(h->f, "%u", va_arg(ap, unsigned));
                        break;
                default:
                        fputc(*p, h->f);
                }
        }
        va_end(ap);
}

bool url_is_local_path(const char *s) {
        if (!s || s[0] != '/' || s[1] == '/' || s[1] == '\\')
                return false;
        for (; *s; s++)
                if (!strchr("/-_.", *s) && !(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
                    !(*s >= '0' && *s <= '9'))
                        return false;
        return true;
}
