/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libintl.h>

/* The portal's languages: GNU gettext catalogs (po/), one per language,
 * chosen per request. */

#define GETTEXT_PACKAGE "vdesk-portal"
#define _(s) dgettext(GETTEXT_PACKAGE, s)
#define N_(s) s

typedef struct Language {
        const char *code;       /* the catalog's: "en", "zh_CN" */
        const char *tag;        /* BCP 47, for <html lang> */
        const char *native;     /* its name in itself, for the switch */
} Language;

extern const Language languages[];
extern const size_t n_languages;

/* Binds the catalogs: DATA_DIR/locale where it exists (a build tree), else
 * the system's. */
void i18n_setup(const char *data_dir);

/* The language of a request: the cookie's choice if it names one, else
 * the best of Accept-Language (RFC 9110 q-values), else English. */
const Language *i18n_choose(const char *cookie, const char *accept_language);
const Language *i18n_find(const char *code);

/* Makes gettext answer in lang from now on (until the next call). */
void i18n_use(const Language *lang);
