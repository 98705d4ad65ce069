/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "sha256.h"
#include "util.h"
#include "tests.h"

static void test_strv(void) {
        _cleanup_(strv_freep) char **l = NULL;

        CHECK(!strv_contains(l, "a"));
        strv_remove(l, "a");                    /* the empty list: nothing to do */
        CHECK_INT(strv_extend(&l, "a"), 0);
        CHECK_INT(strv_extend(&l, "b"), 0);
        CHECK_INT(strv_extend(&l, "a"), 0);
        CHECK_INT(strv_length(l), 3);
        CHECK(strv_contains(l, "b"));
        strv_remove(l, "a");
        CHECK_INT(strv_length(l), 1);
        CHECK_STR(l[0], "b");
        CHECK(!strv_contains(l, "a"));
        strv_remove(l, "b");
        CHECK_INT(strv_length(l), 0);

        {
                _cleanup_(freep) char *none = strv_join(NULL, ", "), *empty = strv_join(l, ", "), *two = NULL;

                CHECK_STR(none, "");
                CHECK_STR(empty, "");
                CHECK_INT(strv_extend(&l, "sales"), 0);
                CHECK_INT(strv_extend(&l, "eng"), 0);
                two = strv_join(l, ", ");
                CHECK_STR(two, "sales, eng");
        }
}

static void test_parse_uint_max(void) {
        unsigned long v = 7;

        CHECK_INT(parse_uint_max("0", 10, &v), 0);
        CHECK_INT(v, 0);
        CHECK_INT(parse_uint_max("4294967295", UINT32_MAX, &v), 0);
        CHECK(v == UINT32_MAX);
        CHECK_INT(parse_uint_max("11", 10, &v), -ERANGE);
        CHECK_INT(parse_uint_max("99999999999999999999999", ULONG_MAX, &v), -ERANGE);
        CHECK_INT(parse_uint_max("", 10, &v), -EINVAL);
        CHECK_INT(parse_uint_max("-1", 10, &v), -EINVAL);
        CHECK_INT(parse_uint_max(" 1", 10, &v), -EINVAL);
        CHECK_INT(parse_uint_max("+1", 10, &v), -EINVAL);
        CHECK_INT(parse_uint_max("1x", 10, &v), -EINVAL);
        CHECK(v == UINT32_MAX);                 /* left as it was on failure */
}

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

/* The file's contents, or "" if it cannot be read. */
static const char *contents(const char *path) {
        static char buf[256];
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        ssize_t k = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;

        buf[k > 0 ? k : 0] = 0;
        return buf;
}

static unsigned entries(const char *dir) {
        DIR *d = opendir(dir);
        unsigned n = 0;

        for (struct dirent *de; d && (de = readdir(d));)
                n += !streq(de->d_name, ".") && !streq(de->d_name, "..");
        if (d)
                closedir(d);
        return n;
}

static void test_write_file_atomic(void) {
        char tmpl[] = "/tmp/vdesk-test-atomic.XXXXXX";
        char *top = mkdtemp(tmpl), path[128], keep[128], victim[128], sub[128];
        _cleanup_(freep) char *d1 = path_dir_of("x.vv"), *d2 = path_dir_of("/x.vv"), *d3 = path_dir_of("/a/b/x.vv");
        _cleanup_(freep) char *t = NULL;
        struct rlimit old_limit, small = { .rlim_cur = 4, .rlim_max = RLIM_INFINITY };
        struct stat st;
        mode_t old_umask = umask(022);

        CHECK_STR(d1, ".");
        CHECK_STR(d2, "/");
        CHECK_STR(d3, "/a/b");
        CHECK_INT(path_temp_name("/a/b/x.vv", &t), 0);
        CHECK(t && startswith(t, "/a/b/.x.vv.") && strlen(t) > 4 && streq(t + strlen(t) - 4, ".tmp"));
        CHECK(top != NULL);
        if (!top)
                return;
        snprintf(path, sizeof path, "%s/console.vv", top);
        snprintf(keep, sizeof keep, "%s/old-link", top);
        snprintf(victim, sizeof victim, "%s/victim", top);

        /* a new file: the mode asked for */
        CHECK_INT(write_file_atomic(path, "first", 5, 0600), 0);
        CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600);
        CHECK_STR(contents(path), "first");

        /* an existing 0644 file: replaced by a 0600 one, the old inode (still
         * reachable by a hard link made before) never holds the secret */
        CHECK(unlink(path) == 0);
        close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
        CHECK(chmod(path, 0644) == 0);
        CHECK(link(path, keep) == 0);
        CHECK_INT(write_file_atomic(path, "password=secret\n", 16, 0600), 0);
        CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600);
        CHECK_STR(contents(path), "password=secret\n");
        CHECK_STR(contents(keep), "");
        CHECK(stat(keep, &st) == 0 && (st.st_mode & 07777) == 0644);

        /* a symlink planted at the path: replaced, not followed */
        CHECK(unlink(path) == 0);
        close(open(victim, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
        CHECK(symlink(victim, path) == 0);
        CHECK_INT(write_file_atomic(path, "ticket", 6, 0600), 0);
        CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600);
        CHECK_STR(contents(path), "ticket");
        CHECK_STR(contents(victim), "");

        /* a write that fails (beyond RLIMIT_FSIZE): the old file as it was,
         * no temporary file left */
        CHECK_INT(entries(top), 3);
        signal(SIGXFSZ, SIG_IGN);
        CHECK(getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
        small.rlim_max = old_limit.rlim_max;
        CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
        CHECK_INT(write_file_atomic(path, "a longer secret", 15, 0600), -EFBIG);
        CHECK(setrlimit(RLIMIT_FSIZE, &old_limit) == 0);
        signal(SIGXFSZ, SIG_DFL);
        CHECK_STR(contents(path), "ticket");
        CHECK_INT(entries(top), 3);

        /* a rename that fails (a directory at the path): nothing left either */
        snprintf(sub, sizeof sub, "%s/dir.vv", top);
        CHECK(mkdir(sub, 0755) == 0);
        CHECK(write_file_atomic(sub, "x", 1, 0600) < 0);
        CHECK(lstat(sub, &st) == 0 && S_ISDIR(st.st_mode));
        CHECK_INT(entries(top), 4);

        rmdir(sub);
        unlink(path);
        unlink(keep);
        unlink(victim);
        rmdir(top);
        umask(old_umask);
}

static void check_sha256(const char *input, size_t len, const char *want) {
        char hex[SHA256_HEX_SIZE];

        sha256_hex(input, len, hex);
        CHECK_STR(hex, want);
}

static void test_sha256(void) {
        static char million[1000000];

        /* FIPS 180-4 examples and the edges of the padding */
        check_sha256("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        check_sha256("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        check_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
                     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        check_sha256("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                     112, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
        memset(million, 'a', sizeof million);
        check_sha256(million, sizeof million, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
        check_sha256(million, 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
        check_sha256(million, 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

/* RFC 4231's test cases 1, 2 and 6 (a key longer than a block). */
static void test_hmac_sha256(void) {
        uint8_t key[131], d[SHA256_DIGEST_SIZE];
        char hex[SHA256_HEX_SIZE];

        memset(key, 0x0b, 20);
        hmac_sha256(key, 20, "Hi There", 8, d);
        hex_encode(d, sizeof d, hex);
        CHECK_STR(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
        hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, d);
        hex_encode(d, sizeof d, hex);
        CHECK_STR(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        memset(key, 0xaa, sizeof key);
        hmac_sha256(key, sizeof key, "Test Using Larger Than Block-Size Key - Hash Key First", 54, d);
        hex_encode(d, sizeof d, hex);
        CHECK_STR(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

int main(void) {
        test_sha256();
        test_hmac_sha256();
        test_mkdir_parents();
        test_write_file_atomic();
        test_names();
        test_strv();
        test_parse_uint_max();
        test_utf8();
        test_paths();
        test_ipv4_mac();
        return test_summary();
}
