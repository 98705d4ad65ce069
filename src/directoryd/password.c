/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <crypt.h>

#include "macro.h"
#include "password.h"
#include "util.h"

const char *password_weak_reason(const char *password, const PasswordPolicy *p) {
        static char reason[96];
        bool lower = false, upper = false, digit = false, other = false;
        unsigned chars = 0, classes;

        if (!utf8_is_valid(password))
                return "is not valid UTF-8";
        for (const unsigned char *s = (const unsigned char *) password; *s; s++) {
                if (*s < 0x20 || *s == 0x7f)
                        return "contains control characters";
                if ((*s & 0xc0) != 0x80)
                        chars++;                /* a code point starts here */
                if (*s >= 'a' && *s <= 'z')
                        lower = true;
                else if (*s >= 'A' && *s <= 'Z')
                        upper = true;
                else if (*s >= '0' && *s <= '9')
                        digit = true;
                else
                        other = true;
        }
        if (chars < p->min_length) {
                snprintf(reason, sizeof reason, "is shorter than %u characters", p->min_length);
                return reason;
        }
        classes = lower + upper + digit + other;
        if (classes < p->min_classes) {
                snprintf(reason, sizeof reason,
                         "must mix at least %u of: lower case, upper case, digits, other characters", p->min_classes);
                return reason;
        }
        return NULL;
}

int password_hash(const char *password, unsigned cost, char **ret) {
        char setting[CRYPT_GENSALT_OUTPUT_SIZE];
        struct crypt_data *cd;
        const char *h;
        int r = 0;

        /* NULL random bytes: libcrypt takes them from getrandom(). */
        if (!crypt_gensalt_rn("$y$", cost, NULL, 0, setting, sizeof setting))
                return -errno ?: -EINVAL;
        cd = calloc(1, sizeof *cd);
        if (!cd)
                return -ENOMEM;
        h = crypt_r(password, setting, cd);
        if (!h || h[0] != '$')
                r = -EINVAL;
        else if (!(*ret = strdup(h)))
                r = -ENOMEM;
        explicit_bzero(cd, sizeof *cd);
        free(cd);
        return r;
}

int password_verify(const char *password, const char *hash) {
        struct crypt_data *cd;
        const char *h;
        size_t l;
        int r;

        if (isempty(hash) || hash[0] != '$')
                return -EINVAL;
        cd = calloc(1, sizeof *cd);
        if (!cd)
                return -ENOMEM;
        h = crypt_r(password, hash, cd);
        if (!h || h[0] != '$')
                r = -EINVAL;
        else {
                unsigned char diff = 0;

                /* Constant time in the hash's length, whatever matches. */
                l = strlen(hash);
                if (strlen(h) != l)
                        diff = 1;
                for (size_t i = 0; i < l && h[i]; i++)
                        diff |= (unsigned char) (h[i] ^ hash[i]);
                r = diff == 0;
        }
        explicit_bzero(cd, sizeof *cd);
        free(cd);
        return r;
}

static void free_wiped(char **s) {
        if (*s)
                explicit_bzero(*s, strlen(*s));
        *s = mfree(*s);
}

int password_work_run(void *userdata) {
        PasswordWork *w = userdata;
        int r;

        w->verified = 0;
        if (w->password) {
                if (w->hash) {
                        r = password_verify(w->password, w->hash);
                        w->verified = r > 0;
                } else {
                        _cleanup_(freep) char *dummy = NULL;

                        (void) password_hash(w->password, w->cost, &dummy);
                }
        }
        if (w->new_password) {
                r = password_hash(w->new_password, w->cost, &w->new_hash);
                if (r < 0)
                        return r;
        }
        return 0;
}

void password_work_done(PasswordWork *w) {
        free_wiped(&w->password);
        free_wiped(&w->hash);
        free_wiped(&w->new_password);
        free_wiped(&w->new_hash);
}
