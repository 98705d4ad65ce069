/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The RFC 4180 reader: quoting, embedded commas, quotes and line breaks,
 * BOM, CRLF, empty lines, oversize fields and the errors' line numbers. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "csv.h"
#include "macro.h"
#include "tests.h"

/* The records read, flattened to "line:field|field;" for comparison. */
typedef struct Out {
        char text[4096];
        unsigned records;
} Out;

static int collect(unsigned line, char **fields, size_t n, void *userdata) {
        Out *o = userdata;
        size_t len = strlen(o->text);

        len += snprintf(o->text + len, sizeof o->text - len, "%u:", line);
        for (size_t i = 0; i < n && len < sizeof o->text; i++)
                len += snprintf(o->text + len, sizeof o->text - len, "%s%s", i ? "|" : "", fields[i]);
        if (len >= sizeof o->text - 1)
                return -ENOBUFS;        /* the test's buffer, not the reader */
        snprintf(o->text + len, sizeof o->text - len, ";");
        o->records++;
        return 0;
}

static int read_str(const char *s, size_t max, Out *o, CsvError *e) {
        *o = (Out) {};
        return csv_read(s, strlen(s), max, collect, o, e);
}

static void test_plain(void) {
        Out o;
        CsvError e;

        CHECK_INT(read_str("id,name\n1,Ann\n2,Bob\n", 100, &o, &e), 0);
        CHECK_STR(o.text, "1:id|name;2:1|Ann;3:2|Bob;");
        /* no line break after the last record */
        CHECK_INT(read_str("id,name\n1,Ann", 100, &o, &e), 0);
        CHECK_STR(o.text, "1:id|name;2:1|Ann;");
        /* CRLF, empty fields, empty lines skipped but counted */
        CHECK_INT(read_str("a,b,c\r\n\r\n,,\r\n\n x ,y,\r\n", 100, &o, &e), 0);
        CHECK_STR(o.text, "1:a|b|c;3:||;5: x |y|;");
        CHECK_INT(o.records, 3);
        /* a byte order mark is not part of the first field */
        CHECK_INT(read_str("\xef\xbb\xbfid,name\n", 100, &o, &e), 0);
        CHECK_STR(o.text, "1:id|name;");
        /* nothing at all */
        CHECK_INT(read_str("", 100, &o, &e), 0);
        CHECK_INT(o.records, 0);
        CHECK_INT(read_str("\xef\xbb\xbf\r\n\n", 100, &o, &e), 0);
        CHECK_INT(o.records, 0);
}

static void test_quoted(void) {
        Out o;
        CsvError e;

        /* embedded commas, "" and line breaks; the record keeps its first line */
        CHECK_INT(read_str("\"Smith, Ann\",\"say \"\"hi\"\"\"\n\"two\nlines\",x\r\nnext,\"\"\n", 100, &o, &e), 0);
        CHECK_STR(o.text, "1:Smith, Ann|say \"hi\";2:two\nlines|x;4:next|;");
        /* UTF-8 passes through untouched */
        CHECK_INT(read_str("\"Jos\xc3\xa9 M\xc3\xbcller\",\xe5\xbc\xa0\xe4\xbc\x9f\n", 100, &o, &e), 0);
        CHECK_STR(o.text, "1:Jos\xc3\xa9 M\xc3\xbcller|\xe5\xbc\xa0\xe4\xbc\x9f;");
        /* CRLF inside quotes stays in the field */
        CHECK_INT(read_str("\"a\r\nb\",c", 100, &o, &e), 0);
        CHECK_STR(o.text, "1:a\r\nb|c;");
        /* ... and counts as a line for the records after it */
        CHECK_INT(read_str("\"x\r\ny\",1\r\nz,2\r\n", 100, &o, &e), 0);
        CHECK_STR(o.text, "1:x\r\ny|1;3:z|2;");
        /* a CR alone is no line break: it stays in the field */
        CHECK_INT(read_str("a\rb,c\n", 100, &o, &e), 0);
        CHECK_STR(o.text, "1:a\rb|c;");
}

static void test_errors(void) {
        Out o;
        CsvError e;

        CHECK_INT(read_str("id,name\n1,An\"n\n", 100, &o, &e), -EBADMSG);
        CHECK_INT(e.line, 2);
        CHECK_INT(e.field, 2);
        CHECK_STR(e.reason, "has a quote inside an unquoted field");
        CHECK_STR(o.text, "1:id|name;");            /* records before the error were read */

        CHECK_INT(read_str("id,name\n\n\"1\"x,Ann\n", 100, &o, &e), -EBADMSG);
        CHECK_INT(e.line, 3);
        CHECK_INT(e.field, 1);
        CHECK_STR(e.reason, "has text after a closing quote");

        CHECK_INT(read_str("id,name\n2,\"never\nclosed\n", 100, &o, &e), -EBADMSG);
        CHECK_INT(e.line, 2);
        CHECK_INT(e.field, 2);
        CHECK_STR(e.reason, "has a quoted field that is never closed");

        /* max_field bytes fit, one more does not, quoted or not */
        CHECK_INT(read_str("12345,\"abcde\"\n", 5, &o, &e), 0);
        CHECK_INT(read_str("1,2\n3,123456\n", 5, &o, &e), -EBADMSG);
        CHECK_INT(e.line, 2);
        CHECK_INT(e.field, 2);
        CHECK_STR(e.reason, "has a field that is too long");
        CHECK_INT(read_str("\"ab\"\"cd\"\"\"\n", 5, &o, &e), -EBADMSG);
        CHECK_INT(read_str("\"ab\"\"cd\"\n", 5, &o, &e), 0);

        {
                const char nul[] = "a,b\nc,d\0e\n";
                o = (Out) {};
                CHECK_INT(csv_read(nul, sizeof nul - 1, 100, collect, &o, &e), -EBADMSG);
                CHECK_INT(e.line, 2);
                CHECK_STR(e.reason, "contains a NUL byte");
        }
}

static int count(unsigned line, char **fields, size_t n, void *userdata) {
        unsigned *c = userdata;

        /* every record of the big file has its three fields */
        if (n != 3 || fields[1][0] != 'N')
                return -EINVAL;
        (*c)++;
        return 0;
}

static int stop_at_two(unsigned line, char **fields, size_t n, void *userdata) {
        return line == 2 ? -ECANCELED : 0;
}

static void test_large(void) {
        size_t rows = 20000, size = 0;
        _cleanup_(freep) char *buf = malloc(rows * 64);
        unsigned records = 0;
        CsvError e;

        if (!buf) {
                CHECK(buf);
                return;
        }
        for (size_t i = 0; i < rows; i++)
                size += sprintf(buf + size, "s%05zu,\"Name, %zu\",staff\r\n", i, i);
        CHECK_INT(csv_read(buf, size, 1024, stop_at_two, NULL, &e), -ECANCELED);
        CHECK_INT(csv_read(buf, size, 1024, count, &records, &e), 0);
        CHECK_INT(records, rows);
}

int main(void) {
        test_plain();
        test_quoted();
        test_errors();
        test_large();
        return test_summary();
}
