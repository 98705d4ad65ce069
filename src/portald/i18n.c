/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "i18n.h"
#include "log.h"
#include "macro.h"
#include "util.h"

#ifndef LOCALEDIR
#define LOCALEDIR "/usr/share/locale"
#endif

const Language languages[] = {
        { "en",    "en",    "English" },
        { "zh_CN", "zh-CN", "简体中文" },
};
const size_t n_languages = ELEMENTSOF(languages);

/* glibc's counter of loaded catalogs: bumping it makes gettext look at
 * $LANGUAGE again (the GNU gettext manual's way of switching languages in
 * a running program). */
extern int _nl_msg_cat_cntr;

void i18n_setup(const char *data_dir) {
        _cleanup_(freep) char *dir = NULL;
        struct stat st;

        /* gettext ignores $LANGUAGE in the "C" locale; C.UTF-8 is always
         * there and lets it choose. */
        if (!setlocale(LC_ALL, "C.UTF-8"))
                log_warning("No C.UTF-8 locale: the portal answers in English only.");
        if (asprintf(&dir, "%s/locale", data_dir) < 0)
                dir = NULL;
        (void) bindtextdomain(GETTEXT_PACKAGE, dir && stat(dir, &st) >= 0 ? dir : LOCALEDIR);
        (void) bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
}

const Language *i18n_find(const char *code) {
        if (!code)
                return NULL;
        for (size_t i = 0; i < n_languages; i++)
                if (streq(languages[i].code, code))
                        return &languages[i];
        return NULL;
}

/* Which language a range of Accept-Language means: "zh", "zh-CN",
 * "zh-Hans-CN" are Simplified Chinese ("zh-TW" and "zh-HK" are not); "en-*"
 * and "*" are English. */
static const Language *language_of_range(const char *range, size_t n) {
        if ((n == 2 && strncasecmp(range, "zh", 2) == 0) ||
            (n >= 3 && strncasecmp(range, "zh-", 3) == 0 &&
             !(n >= 5 && (strncasecmp(range + 3, "TW", 2) == 0 || strncasecmp(range + 3, "HK", 2) == 0 ||
                          strncasecmp(range + 3, "Hant", 4) == 0))))
                return &languages[1];
        if ((n >= 2 && strncasecmp(range, "en", 2) == 0 && (n == 2 || range[2] == '-')) || (n == 1 && range[0] == '*'))
                return &languages[0];
        return NULL;
}

const Language *i18n_choose(const char *cookie, const char *accept) {
        const Language *best = &languages[0], *l;
        double best_q = -1;

        l = i18n_find(cookie);
        if (l)
                return l;
        /* ranges separated by commas, each "range;q=0.8" */
        for (const char *p = accept ?: ""; *p;) {
                const char *end = p + strcspn(p, ","), *semi;
                size_t n;
                double q = 1;

                p += strspn(p, " \t");
                semi = memchr(p, ';', (size_t) (end - p));
                n = (size_t) ((semi ?: end) - p);
                while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
                        n--;
                if (semi) {
                        const char *qs = strstr(semi, "q=");

                        if (qs && qs < end)
                                q = strtod(qs + 2, NULL);
                }
                l = language_of_range(p, n);
                /* the first of equal weights wins */
                if (l && q > 0 && q > best_q) {
                        best = l;
                        best_q = q;
                }
                p = *end ? end + 1 : end;
        }
        return best;
}

void i18n_use(const Language *lang) {
        static const Language *current;

        if (lang == current)
                return;
        (void) setenv("LANGUAGE", lang->code, 1);
        ++_nl_msg_cat_cntr;
        current = lang;
}
