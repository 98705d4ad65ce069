/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "macro.h"

/* One record's fields, packed into one growing buffer. */
typedef struct Record {
        char *buf;
        size_t len, allocated;
        size_t *starts;         /* offsets of the fields in buf */
        size_t n_fields, allocated_fields;
        char **fields;
} Record;

static int record_putc(Record *r, char c) {
        if (r->len + 1 > r->allocated) {
                size_t a = MAX(r->allocated * 2, (size_t) 256);
                char *b = realloc(r->buf, a);

                if (!b)
                        return -ENOMEM;
                r->buf = b;
                r->allocated = a;
        }
        r->buf[r->len++] = c;
        return 0;
}

static int record_start_field(Record *r) {
        if (r->n_fields + 1 > r->allocated_fields) {
                size_t a = MAX(r->allocated_fields * 2, (size_t) 16);
                size_t *s = realloc(r->starts, a * sizeof *s);

                if (!s)
                        return -ENOMEM;
                r->starts = s;
                r->allocated_fields = a;
        }
        r->starts[r->n_fields++] = r->len;
        return 0;
}

/* Ends the current field and hands the record to the callback. */
static int record_emit(Record *r, unsigned line, CsvRecordFunc record, void *userdata) {
        int k;

        k = record_putc(r, '\0');
        if (k < 0)
                return k;
        if (r->n_fields > 0) {
                char **f = realloc(r->fields, r->n_fields * sizeof *f);

                if (!f)
                        return -ENOMEM;
                r->fields = f;
        }
        for (size_t i = 0; i < r->n_fields; i++)
                r->fields[i] = r->buf + r->starts[i];
        k = record(line, r->fields, r->n_fields, userdata);
        r->len = 0;
        r->n_fields = 0;
        return k;
}

static int fail(CsvError *error, unsigned line, size_t field, const char *reason) {
        if (error)
                *error = (CsvError) { .line = line, .field = (unsigned) field, .reason = reason };
        return -EBADMSG;
}

int csv_read(const char *data, size_t size, size_t max_field, CsvRecordFunc record, void *userdata,
             CsvError *error) {
        Record r = {};
        unsigned line = 1, record_line = 1;
        size_t i = 0, field_len = 0;
        enum { FIELD_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED, LINE_START } state = LINE_START;
        int k = 0;

        if (size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
                i = 3;

        for (; i < size && k >= 0; i++) {
                char c = data[i];
                bool eol = c == '\n' || (c == '\r' && i + 1 < size && data[i + 1] == '\n');

                if (c == '\0') {
                        k = fail(error, line, r.n_fields, "contains a NUL byte");
                        break;
                }
                if (eol && c == '\r')
                        i++;            /* CRLF is one line break */

                if (state == LINE_START) {
                        if (eol) {      /* an empty line: skipped */
                                line++;
                                continue;
                        }
                        record_line = line;
                        state = FIELD_START;
                }
                if (state == FIELD_START) {
                        k = record_start_field(&r);
                        if (k < 0)
                                break;
                        field_len = 0;
                        if (c == '"') {
                                state = QUOTED;
                                continue;
                        }
                        state = UNQUOTED;
                }
                /* Outside quotes a comma ends the field, a line break the
                 * record. */
                if ((state == UNQUOTED || state == QUOTE_IN_QUOTED) && (c == ',' || eol)) {
                        if (eol) {
                                k = record_emit(&r, record_line, record, userdata);
                                line++;
                                state = LINE_START;
                        } else {
                                k = record_putc(&r, '\0');
                                state = FIELD_START;
                        }
                        continue;
                }

                switch (state) {
                case UNQUOTED:
                        if (c == '"')
                                k = fail(error, record_line, r.n_fields, "has a quote inside an unquoted field");
                        break;
                case QUOTED:
                        if (c == '"') {
                                state = QUOTE_IN_QUOTED;
                                continue;
                        }
                        if (eol) {
                                line++;
                                if (c == '\r')  /* CRLF inside quotes stays in the field */
                                        k = record_putc(&r, '\r');
                        }
                        break;
                case QUOTE_IN_QUOTED:
                        if (c == '"')   /* "" is one quote */
                                state = QUOTED;
                        else
                                k = fail(error, record_line, r.n_fields, "has text after a closing quote");
                        break;
                default:
                        break;
                }
                if (k < 0)
                        break;
                if (++field_len > max_field)
                        k = fail(error, record_line, r.n_fields, "has a field that is too long");
                else
                        k = record_putc(&r, c == '\r' && eol ? '\n' : c);
        }

        if (k >= 0) {
                if (state == QUOTED)
                        k = fail(error, record_line, r.n_fields, "has a quoted field that is never closed");
                else if (state != LINE_START)   /* the last record, without a line break */
                        k = record_emit(&r, record_line, record, userdata);
        }

        free(r.buf);
        free(r.starts);
        free(r.fields);
        return k < 0 ? k : 0;
}
