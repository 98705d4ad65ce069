/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <sys/stat.h>

#include "macro.h"
#include "util.h"
#include "tests.h"

static void test_names(void) {
        char long_name[301];

        memset(long_name, 'a', 300);
        long_name[300] = 0;

        CHECK(name_is_valid("alice-desk"));
        CHECK(name_is_valid("A.b_c-9"));
        CHECK(name_is_valid("x"));
        CHECK_STR(name_invalid_reason(""), "is empty");
        CHECK_STR(name_invalid_reason(NULL), "is empty");
        CHECK_STR(name_invalid_reason(long_name), "is longer than 63 bytes");
        long_name[63] = 0;
        CHECK(name_is_valid(long_name));
        long_name[64] = 0;
        long_name[63] = 'a';
        CHECK(!name_is_valid(long_name));
        CHECK_STR(name_invalid_reason("../etc"), "must start with an ASCII letter or digit");
        CHECK_STR(name_invalid_reason("a/../b"), "may hold only ASCII letters, digits, '.', '_' and '-'");
        CHECK_STR(name_invalid_reason("a..b"), "must not contain '..'");
        CHECK(!name_is_valid("desk;rm -rf /"));
        CHECK(!name_is_valid("desk$(id)"));
        CHECK(!name_is_valid("desk`id`"));
        CHECK(!name_is_valid("desk name"));
        CHECK(!name_is_valid("-desk"));
        CHECK_STR(name_invalid_reason("bad\xff\xfe"), "is not valid UTF-8");
        CHECK(!name_is_valid("caf\xc3\xa9"));   /* valid UTF-8, but not ASCII */
}

static void test_utf8(void) {
        CHECK(utf8_is_valid("plain"));
        CHECK(utf8_is_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
        CHECK(!utf8_is_valid("\xc0\xaf"));              /* overlong '/' */
        CHECK(!utf8_is_valid("\xed\xa0\x80"));          /* surrogate */
        CHECK(!utf8_is_valid("\xf4\x90\x80\x80"));      /* above U+10FFFF */
        CHECK(!utf8_is_valid("\xe2\x82"));              /* truncated */
}

static void test_paths(void) {
        CHECK(path_is_normalized_absolute("/var/lib/vdesk/disks/a.qcow2"));
        CHECK(path_is_normalized_absolute("/"));
        CHECK(!path_is_normalized_absolute("relative/x"));
        CHECK(!path_is_normalized_absolute("/var/../etc/passwd"));
        CHECK(!path_is_normalized_absolute("/var/./x"));
        CHECK(!path_is_normalized_absolute("/var//x"));
        CHECK(!path_is_normalized_absolute("/var/x\n"));
        CHECK(!path_is_normalized_absolute(""));
        CHECK(path_startswith_dir("/d/x.qcow2", "/d"));
        CHECK(path_startswith_dir("/d/x.qcow2", "/d/"));
        CHECK(!path_startswith_dir("/dx/y", "/d"));
        CHECK(!path_startswith_dir("/d", "/d"));
        CHECK(!path_startswith_dir("/d/", "/d"));
}

static void test_ipv4_mac(void) {
        uint32_t a = 0;
        char buf[18];

        CHECK_INT(ipv4_parse("10.20.0.15", &a), 0);
        CHECK_INT(a, 0x0a14000f);
        ipv4_format(a, buf);
        CHECK_STR(buf, "10.20.0.15");
        mac_from_ipv4(a, buf);
        CHECK_STR(buf, "52:54:0a:14:00:0f");
        mac_from_ipv4(0xc0a896fe, buf);
        CHECK_STR(buf, "52:54:c0:a8:96:fe");
        CHECK(ipv4_parse("10.20.0", &a) < 0);
        CHECK(ipv4_parse("10.20.0.256", &a) < 0);
        CHECK(ipv4_parse("", &a) < 0);
        CHECK(ipv4_parse("::1", &a) < 0);
}

static void test_mkdir_parents(void) {
        char tmpl[] = "/tmp/vdesk-test-mkdir.XXXXXX";
        char *top = mkdtemp(tmpl), path[128], file[160];
        struct stat st;

        CHECK(top != NULL);
        if (!top)
                return;
        snprintf(path, sizeof path, "%s/a/b/c", top);
        CHECK_INT(mkdir_parents(path, 0750), 0);
        CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
        CHECK_INT(mkdir_parents(path, 0750), 0);                /* exists: fine */
        snprintf(file, sizeof file, "%s/a/f", top);
        close(open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
        snprintf(path, sizeof path, "%s/a/f/x", top);
        CHECK_INT(mkdir_parents(path, 0750), -ENOTDIR);          /* a file in the way */
        unlink(file);
        snprintf(path, sizeof path, "%s/a/b/c", top);
        rmdir(path);
        snprintf(path, sizeof path, "%s/a/b", top);
        rmdir(path);
        snprintf(path, sizeof path, "%s/a", top);
        rmdir(path);
        rmdir(top);
}

int main(void) {
        test_mkdir_parents();
        test_names();
        test_utf8();
        test_paths();
        test_ipv4_mac();
        return test_summary();
}
