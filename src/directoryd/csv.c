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

static void record_done(Record *r) {
        free(r->buf);
        free(r->starts);
        free(r->fields);
}

/* Where the reader is: at the start of a line (and of a record, unless
 * the line is empty), of a field, inside one unquoted or quoted, or just
 * after a quote inside a quoted field (its end, or the first of ""). */
typedef enum CsvState {
        LINE_START,
        FIELD_START,
        UNQUOTED,
        QUOTED,
        QUOTE_IN_QUOTED,
} CsvState;

typedef struct Reader {
        Record record;
        CsvState state;
        unsigned line;          /* the line being read */
        unsigned record_line;   /* the line the record being read starts on */
        size_t field_len, max_field;
        CsvRecordFunc on_record;
        void *userdata;
        CsvError *error;
} Reader;

/* Outside quotes, a comma ends the field, a line break the record. */
static int reader_end_field(Reader *p, bool eol) {
        if (!eol) {
                p->state = FIELD_START;
                return record_putc(&p->record, '\0');
        }
        p->state = LINE_START;
        p->line++;
        return record_emit(&p->record, p->record_line, p->on_record, p->userdata);
}

/* A character of a field, checked against the field's quoting and kept. */
static int reader_field_char(Reader *p, char c, bool eol) {
        int k = 0;

        switch (p->state) {
        case UNQUOTED:
                if (c == '"')
                        return fail(p->error, p->record_line, p->record.n_fields,
                                    "has a quote inside an unquoted field");
                break;
        case QUOTED:
                if (c == '"') {
                        p->state = QUOTE_IN_QUOTED;
                        return 0;
                }
                if (eol) {
                        p->line++;
                        if (c == '\r')  /* CRLF inside quotes stays in the field */
                                k = record_putc(&p->record, '\r');
                }
                break;
        case QUOTE_IN_QUOTED:
                if (c != '"')   /* "" is one quote */
                        return fail(p->error, p->record_line, p->record.n_fields, "has text after a closing quote");
                p->state = QUOTED;
                break;
        default:
                break;
        }
        if (k < 0)
                return k;
        if (++p->field_len > p->max_field)
                return fail(p->error, p->record_line, p->record.n_fields, "has a field that is too long");
        return record_putc(&p->record, c == '\r' && eol ? '\n' : c);
}

/* The character at data[*i]; a CRLF is one line break, taken whole (*i
 * moves on to its LF). */
static int reader_feed(Reader *p, const char *data, size_t size, size_t *i) {
        char c = data[*i];
        bool eol = c == '\n' || (c == '\r' && *i + 1 < size && data[*i + 1] == '\n');
        int k;

        if (c == '\0')
                return fail(p->error, p->line, p->record.n_fields, "contains a NUL byte");
        if (eol && c == '\r')
                (*i)++;

        if (p->state == LINE_START) {
                if (eol) {      /* an empty line: skipped */
                        p->line++;
                        return 0;
                }
                p->record_line = p->line;
                p->state = FIELD_START;
        }
        if (p->state == FIELD_START) {
                k = record_start_field(&p->record);
                if (k < 0)
                        return k;
                p->field_len = 0;
                if (c == '"') {
                        p->state = QUOTED;
                        return 0;
                }
                p->state = UNQUOTED;
        }
        if ((p->state == UNQUOTED || p->state == QUOTE_IN_QUOTED) && (c == ',' || eol))
                return reader_end_field(p, eol);
        return reader_field_char(p, c, eol);
}

/* The end of the data: the last record may lack its line break, a quoted
 * field may not lack its closing quote. */
static int reader_finish(Reader *p) {
        if (p->state == QUOTED)
                return fail(p->error, p->record_line, p->record.n_fields, "has a quoted field that is never closed");
        if (p->state != LINE_START)
                return record_emit(&p->record, p->record_line, p->on_record, p->userdata);
        return 0;
}

int csv_read(const char *data, size_t size, size_t max_field, CsvRecordFunc record, void *userdata,
             CsvError *error) {
        Reader p = {
                .state = LINE_START,
                .line = 1,
                .record_line = 1,
                .max_field = max_field,
                .on_record = record,
                .userdata = userdata,
                .error = error,
        };
        size_t i = 0;
        int k = 0;

        if (size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
                i = 3;          /* a UTF-8 byte order mark */
        for (; i < size && k >= 0; i++)
                k = reader_feed(&p, data, size, &i);
        if (k >= 0)
                k = reader_finish(&p);
        record_done(&p.record);
        return k < 0 ? k : 0;
}
