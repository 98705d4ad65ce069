/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the tests against a real MariaDB share. */

#include <stdlib.h>

#include "db.h"
#include "tests.h"

static inline int count_cb(char *const *cols, unsigned n, void *userdata) {
        *(unsigned *) userdata = (unsigned) strtoul(cols[0], NULL, 10);
        return 0;
}

/* The number sql (a SELECT COUNT(*) ...) answers; 9999 and a failed check
 * if it fails. */
static inline unsigned count(Db *db, const char *sql) {
        unsigned n = 9999;

        CHECK_INT(db_exec(db, sql, NULL, 0, count_cb, &n, NULL), 0);
        return n;
}
