/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* An RFC 4180 reader: fields separated by commas, records by CRLF or LF;
 * a field in double quotes may hold commas, line breaks and "" for one
 * quote. A UTF-8 byte order mark at the start is skipped, and so are empty
 * lines. Fields are returned as they are: checking their contents (UTF-8,
 * lengths of each column) is the caller's. */

typedef struct CsvError {
        unsigned line;          /* where the bad record starts, from 1 */
        unsigned field;         /* its field, from 1 */
        const char *reason;
} CsvError;

/* Called for each record with its fields (NUL-terminated, in one buffer
 * that lives until the callback returns) and the line it starts on. A
 * negative return stops the reading and is returned. */
typedef int (*CsvRecordFunc)(unsigned line, char **fields, size_t n_fields, void *userdata);

/* Reads data[0..size). A field longer than max_field bytes, a stray quote,
 * an unterminated quoted field or a NUL byte stop the reading: -EBADMSG
 * with *error saying where and why. */
int csv_read(const char *data, size_t size, size_t max_field, CsvRecordFunc record, void *userdata,
             CsvError *error);
