/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "activation.h"
#include "manager.h"

/* Bulk import of staff from CSV (RFC 4180). The first record names the
 * columns: id and name are required; email, role (staff or manager;
 * default staff) and department are optional; any other is refused. Every
 * row is checked before anything is written (the columns' rules, ids
 * repeated in the file or taken in the directory, unknown departments), and
 * the rows go in in one transaction: all of them or none.
 *
 * Imported accounts have no password: each gets a one-time activation code
 * (ActivationDays= long) with which its owner sets one. Codes, not
 * passwords, because a password chosen by an admin is known to the admin
 * and sits in a file, and because hashing 10k passwords with yescrypt
 * would take minutes; the codes are random enough for SHA-256 and the one
 * yescrypt hash per account happens when its owner activates it. */

#define IMPORT_MAX_BYTES (16u << 20)
#define IMPORT_MAX_FIELD 1024u

typedef struct ImportProblem {
        unsigned line;
        char field[16];         /* a column's name, or "record" */
        const char *reason;     /* static */
} ImportProblem;

typedef struct ImportCode {
        char id[64];
        char code[ACTIVATION_CODE_SIZE];
} ImportCode;

typedef struct ImportResult {
        unsigned rows;                  /* data rows read */
        ImportProblem *problems;        /* every bad row, in line order */
        size_t n_problems;
        ImportCode *codes;              /* one per account imported */
        size_t n_codes;
} ImportResult;

void import_result_done(ImportResult *r);

/* Called every so many rows while checking, then while writing. */
typedef void (*ImportProgressFunc)(const char *phase, unsigned done, unsigned total, void *userdata);

/* A dry run checks and reports the problems; an import with any problem
 * fails with ImportRejected (naming the first) and writes nothing. */
int import_staff(Manager *m, const char *data, size_t size, bool dry_run, uid_t actor,
                 ImportProgressFunc progress, void *userdata, ImportResult *ret, sd_bus_error *error);
