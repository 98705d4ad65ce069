/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* imaged's disk model: overlays and templates' files written without
 * qemu-img, checked here field by field; the integration suite checks the
 * same files with the real qemu-img (info --backing-chain, check). */

#include <dirent.h>
#include <endian.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "disk.h"
#include "macro.h"
#include "qcow2.h"
#include "tests.h"

/* A big-endian field of n bytes (4 or 8) at off in a file; 0 if unreadable. */
static uint64_t be_at(const char *path, off_t off, size_t n) {
        uint8_t b[8] = {};
        uint64_t v = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd >= 0 && pread(fd, b, n, off) == (ssize_t) n)
                for (size_t i = 0; i < n; i++)
                        v = v << 8 | b[i];
        if (fd >= 0)
                close(fd);
        return v;
}

#define be32_at(path, off) be_at(path, off, 4)
#define be64_at(path, off) be_at(path, off, 8)

static off_t file_size(const char *path) {
        struct stat st;

        return stat(path, &st) < 0 ? -1 : st.st_size;
}

static void write_file(const char *path, const char *data, size_t n) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        CHECK(fd >= 0 && write(fd, data, n) == (ssize_t) n);
        if (fd >= 0)
                close(fd);
}

static unsigned count_entries(const char *dir) {
        unsigned n = 0;
        DIR *d = opendir(dir);
        struct dirent *de;

        if (!d)
                return 0;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

static void test_qcow2_layout(const char *dir) {
        char p[300];
        int fd;

        /* an overlay of a 64 MiB + 1 byte raw file: size rounded up to 512,
         * one L1 entry per 512 MiB, the backing name and format recorded */
        snprintf(p, sizeof p, "%s/layout.qcow2", dir);
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        CHECK(fd >= 0);
        CHECK_INT(qcow2_write_empty(fd, 64 * 1024 * 1024 + 1, "/t/base.img", DISK_FORMAT_RAW), 0);
        close(fd);
        CHECK_INT(be32_at(p, 0), 0x514649fb);
        CHECK_INT(be32_at(p, 4), 3);
        CHECK_INT(be64_at(p, 24), 64 * 1024 * 1024 + 512);
        CHECK_INT(be32_at(p, 36), 1);                           /* l1_size */
        CHECK_INT(be64_at(p, 40), 3 * 65536);                   /* L1 table */
        CHECK_INT(be64_at(p, 48), 65536);                       /* refcount table */
        CHECK_INT(be64_at(p, 65536), 2 * 65536);                /* -> refcount block */
        CHECK_INT(be64_at(p, 2 * 65536), 0x0001000100010001);   /* four clusters used once */
        CHECK_INT(be32_at(p, 112), 0xe2792aca);                 /* backing format extension */
        CHECK_INT(file_size(p), 3 * 65536 + 8);
        {
                _cleanup_(freep) char *b = NULL;
                DiskFormat bf;
                CHECK_INT(qcow2_read_backing(p, &b, &bf), 0);
                CHECK_STR(b, "/t/base.img");
                CHECK_INT(bf, DISK_FORMAT_RAW);
        }

        /* a 1 TiB image without backing: 2048 L1 entries, one cluster */
        fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
        CHECK_INT(qcow2_write_empty(fd, UINT64_C(1) << 40, NULL, 0), 0);
        close(fd);
        CHECK_INT(be64_at(p, 8), 0);                            /* no backing file */
        {
                _cleanup_(freep) char *b = NULL;
                DiskFormat bf;
                CHECK_INT(qcow2_read_backing(p, &b, &bf), 0);
                CHECK(b == NULL);
                CHECK_INT(bf, _DISK_FORMAT_INVALID);
        }
        {
                /* the same with qcow2 v3's external data file bit: refused,
                 * the image's data would be another file it names */
                _cleanup_(freep) char *b = NULL;
                uint8_t bit = 1 << 2;

                fd = open(p, O_WRONLY | O_CLOEXEC);
                CHECK(fd >= 0 && pwrite(fd, &bit, 1, 72 + 7) == 1);
                close(fd);
                CHECK_INT(qcow2_read_backing(p, &b, NULL), -EXDEV);
                bit = 0;
                fd = open(p, O_WRONLY | O_CLOEXEC);
                CHECK(fd >= 0 && pwrite(fd, &bit, 1, 72 + 7) == 1);
                close(fd);
                CHECK_INT(qcow2_read_backing(p, &b, NULL), 0);
        }
        CHECK_INT(be32_at(p, 36), 2048);
        CHECK_INT(file_size(p), 3 * 65536 + 2048 * 8);
        {
                uint64_t size;
                CHECK_INT(disk_virtual_size(p, DISK_FORMAT_QCOW2, &size), 0);
                CHECK_INT(size, UINT64_C(1) << 40);
        }

        /* qemu's limit on the backing name */
        {
                char longname[1100];
                memset(longname, 'a', sizeof longname - 1);
                longname[0] = '/';
                longname[sizeof longname - 1] = 0;
                fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
                CHECK_INT(qcow2_write_empty(fd, 4096, longname, DISK_FORMAT_RAW), -ENAMETOOLONG);
                close(fd);
        }
        unlink(p);
}

int main(void) {
        char dir[] = "/tmp/vdesk-test-disk.XXXXXX";
        char tdir[256], ddir[256], tmpl[300], tmpl2[300], broken[300], disk[300], link[300], outside[300], p[400];
        _cleanup_(config_done) VdeskConfig c = {};
        _cleanup_(freep) char *backing = NULL;
        bool created = false;
        DiskFormat fmt;
        uint64_t size;
        int fd;

        CHECK(mkdtemp(dir) != NULL);
        snprintf(tdir, sizeof tdir, "%s/templates", dir);
        snprintf(ddir, sizeof ddir, "%s/disks", dir);
        mkdir(tdir, 0755);
        mkdir(ddir, 0755);
        config_defaults(&c);
        free_and_strdup(&c.template_dir, tdir);
        free_and_strdup(&c.disk_dir, ddir);

        test_qcow2_layout(dir);

        snprintf(tmpl, sizeof tmpl, "%s/demo.img", tdir);
        write_file(tmpl, "rawdata", 7);
        snprintf(tmpl2, sizeof tmpl2, "%s/other.qcow2", tdir);
        fd = open(tmpl2, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        CHECK_INT(qcow2_write_empty(fd, 1 << 20, NULL, 0), 0);
        close(fd);
        snprintf(disk, sizeof disk, "%s/alice.qcow2", ddir);

        /* format probing and sizes */
        CHECK_INT(disk_probe_format(tmpl, &fmt), 0);
        CHECK_INT(fmt, DISK_FORMAT_RAW);
        CHECK_INT(disk_probe_format(tmpl2, &fmt), 0);
        CHECK_INT(fmt, DISK_FORMAT_QCOW2);
        CHECK_INT(disk_format_from_string("qcow2"), DISK_FORMAT_QCOW2);
        CHECK_INT(disk_format_from_string("vmdk"), _DISK_FORMAT_INVALID);
        CHECK_INT(disk_virtual_size(tmpl, DISK_FORMAT_RAW, &size), 0);
        CHECK_INT(size, 7);
        CHECK_INT(disk_virtual_size(tmpl2, DISK_FORMAT_QCOW2, &size), 0);
        CHECK_INT(size, 1 << 20);

        /* path rules */
        CHECK(disk_path_invalid_reason(&c, disk) == NULL);
        CHECK_STR(disk_path_invalid_reason(&c, "/etc/alice.qcow2"), "is not inside the disk directory");
        CHECK_STR(disk_path_invalid_reason(&c, "relative.qcow2"), "is not a normalized absolute path");
        snprintf(p, sizeof p, "%s/../x.qcow2", ddir);
        CHECK_STR(disk_path_invalid_reason(&c, p), "is not a normalized absolute path");
        snprintf(p, sizeof p, "%s/sub/x.qcow2", ddir);
        CHECK_STR(disk_path_invalid_reason(&c, p), "is not directly in the disk directory");
        snprintf(p, sizeof p, "%s/x.img", ddir);
        CHECK_STR(disk_path_invalid_reason(&c, p), "does not end in .qcow2");
        snprintf(p, sizeof p, "%s/.x.qcow2", ddir);
        CHECK_STR(disk_path_invalid_reason(&c, p), "is a hidden file name");
        snprintf(p, sizeof p, "%s/missing.img", tdir);
        CHECK_STR(template_path_invalid_reason(&c, p), "does not exist");
        CHECK(template_path_invalid_reason(&c, tmpl) == NULL);
        CHECK_STR(template_path_invalid_reason(&c, "/etc/passwd"), "is not inside the template directory");
        snprintf(p, sizeof p, "%s/.hidden.img", tdir);
        write_file(p, "x", 1);
        CHECK_STR(template_path_invalid_reason(&c, p), "is a hidden file name");
        unlink(p);
        /* a symlink in the template directory pointing outside it */
        snprintf(outside, sizeof outside, "%s/secret", dir);
        write_file(outside, "", 0);
        snprintf(link, sizeof link, "%s/evil.img", tdir);
        CHECK_INT(symlink(outside, link), 0);
        CHECK_STR(template_path_invalid_reason(&c, link), "resolves to a file outside the template directory");
        CHECK_INT(disk_ensure_overlay(&c, disk, link, DISK_FORMAT_RAW, &created), -EPERM);

        /* created, through a hidden temporary name */
        CHECK_INT(disk_ensure_overlay(&c, disk, tmpl, DISK_FORMAT_RAW, &created), 0);
        CHECK(created);
        CHECK_INT(qcow2_read_backing(disk, &backing, NULL), 0);
        CHECK_STR(backing, tmpl);
        CHECK_INT(be64_at(disk, 24), 512);                      /* 7 bytes, rounded up */
        CHECK_INT(count_entries(ddir), 1);

        /* idempotent: same template */
        CHECK_INT(disk_ensure_overlay(&c, disk, tmpl, DISK_FORMAT_RAW, &created), 0);
        CHECK(!created);

        /* another template: refused, disk untouched */
        CHECK_INT(disk_ensure_overlay(&c, disk, tmpl2, DISK_FORMAT_QCOW2, &created), -EEXIST);
        backing = mfree(backing);
        CHECK_INT(qcow2_read_backing(disk, &backing, NULL), 0);
        CHECK_STR(backing, tmpl);

        /* replaced: now on the other template, in one rename */
        CHECK_INT(disk_replace_overlay(&c, disk, tmpl2, DISK_FORMAT_QCOW2), 0);
        backing = mfree(backing);
        CHECK_INT(qcow2_read_backing(disk, &backing, NULL), 0);
        CHECK_STR(backing, tmpl2);
        CHECK_INT(be64_at(disk, 24), 1 << 20);                  /* the qcow2 template's size */
        CHECK_INT(count_entries(ddir), 1);

        /* a qcow2 template whose header makes no sense: nothing is made */
        snprintf(broken, sizeof broken, "%s/broken.qcow2", tdir);
        write_file(broken, "QFI\xfbgarbage", 11);
        snprintf(p, sizeof p, "%s/carol.qcow2", ddir);
        CHECK_INT(disk_ensure_overlay(&c, p, broken, DISK_FORMAT_QCOW2, &created), -EBADMSG);
        CHECK_INT(file_size(p), -1);
        CHECK_INT(count_entries(ddir), 1);

        /* a file that is not qcow2 at the disk's path is not adopted */
        snprintf(p, sizeof p, "%s/dave.qcow2", ddir);
        write_file(p, "not qcow2", 9);
        CHECK_INT(disk_ensure_overlay(&c, p, tmpl, DISK_FORMAT_RAW, &created), -EEXIST);
        unlink(p);

        /* A raw template whose first bytes its guest made a qcow2 header
         * naming /etc/shadow as backing file: the overlay is of the file as
         * the raw disk vdesk recorded, whatever its bytes say. */
        {
                char evil[300], q[300];
                DiskFormat bf;

                snprintf(evil, sizeof evil, "%s/guest.img", tdir);
                fd = open(evil, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                CHECK(fd >= 0);
                CHECK_INT(qcow2_write_empty(fd, UINT64_C(1) << 30, "/etc/shadow", DISK_FORMAT_RAW), 0);
                CHECK_INT(ftruncate(fd, 1 << 20), 0);
                close(fd);
                snprintf(p, sizeof p, "%s/erin.qcow2", ddir);
                snprintf(q, sizeof q, "%s/frank.qcow2", ddir);
                CHECK_INT(disk_ensure_overlay(&c, p, evil, DISK_FORMAT_RAW, &created), 0);
                CHECK(created);
                backing = mfree(backing);
                CHECK_INT(qcow2_read_backing(p, &backing, &bf), 0);
                CHECK_STR(backing, evil);
                CHECK_INT(bf, DISK_FORMAT_RAW);
                CHECK_INT(be64_at(p, 24), 1 << 20);             /* the file's size, not its header's */
                CHECK_INT(disk_ensure_overlay(&c, p, evil, DISK_FORMAT_RAW, &created), 0);
                CHECK(!created);

                /* an overlay of it that reads it as qcow2 (made by probing
                 * its first bytes) is not adopted, nor touched */
                unlink(p);
                fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                CHECK_INT(qcow2_write_empty(fd, UINT64_C(1) << 30, evil, DISK_FORMAT_QCOW2), 0);
                close(fd);
                CHECK_INT(disk_ensure_overlay(&c, p, evil, DISK_FORMAT_RAW, &created), -EEXIST);
                backing = mfree(backing);
                CHECK_INT(qcow2_read_backing(p, &backing, &bf), 0);
                CHECK_INT(bf, DISK_FORMAT_QCOW2);
                /* re-issued: on the raw file */
                CHECK_INT(disk_replace_overlay(&c, p, evil, DISK_FORMAT_RAW), 0);
                backing = mfree(backing);
                CHECK_INT(qcow2_read_backing(p, &backing, &bf), 0);
                CHECK_STR(backing, evil);
                CHECK_INT(bf, DISK_FORMAT_RAW);

                /* a qcow2 template must be whole by itself: one naming a
                 * backing file of its own is no template; nothing is made */
                CHECK_INT(disk_ensure_overlay(&c, q, evil, DISK_FORMAT_QCOW2, &created), -EBADMSG);
                CHECK_INT(file_size(q), -1);
                /* a format vdesk does not know: nothing is made */
                CHECK_INT(disk_ensure_overlay(&c, q, tmpl, _DISK_FORMAT_INVALID, &created), -EINVAL);
                CHECK_INT(disk_replace_overlay(&c, q, tmpl, _DISK_FORMAT_INVALID), -EINVAL);
                CHECK_INT(file_size(q), -1);
                unlink(p);
                unlink(evil);
        }

        CHECK_INT(disk_delete(&c, disk), 0);
        CHECK_INT(disk_delete(&c, disk), -ENOENT);
        CHECK_INT(disk_delete(&c, "/etc/passwd"), -EPERM);

        /* a template's own files */
        {
                _cleanup_(freep) char *v1 = NULL, *raw = NULL, *edit = NULL, *edit2 = NULL;
                _cleanup_(template_commit_done) TemplateCommit tc = {};
                char tdir_win[320], v2[340];

                snprintf(tdir_win, sizeof tdir_win, "%s/win", tdir);
                CHECK_INT(template_disk_create(&c, "win", DISK_FORMAT_QCOW2, UINT64_C(8) << 30, &v1), 0);
                snprintf(p, sizeof p, "%s/1.qcow2", tdir_win);
                CHECK_STR(v1, p);
                CHECK_INT(be64_at(v1, 8), 0);                           /* no backing */
                CHECK_INT(be64_at(v1, 24), UINT64_C(8) << 30);
                CHECK_INT(template_disk_create(&c, "win", DISK_FORMAT_QCOW2, 1 << 20, &raw), -EEXIST);
                CHECK_INT(template_disk_create(&c, "../x", DISK_FORMAT_QCOW2, 1 << 20, &raw), -EPERM);
                CHECK_INT(template_disk_create(&c, "lin", DISK_FORMAT_RAW, 1 << 20, &raw), 0);
                CHECK_INT(file_size(raw), 1 << 20);                     /* sparse raw */
                CHECK(template_path_invalid_reason(&c, raw) == NULL);

                /* no edit yet: nothing to commit */
                CHECK_INT(template_commit_prepare(&c, "win", 2, DISK_FORMAT_QCOW2, &tc), -ENOENT);
                CHECK_INT(template_edit_discard(&c, "win"), -ENOENT);
                /* an edit overlay whose header names no base format would
                 * have qemu-img probe the base: not committed */
                snprintf(p, sizeof p, "%s/edit.qcow2", tdir_win);
                fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                CHECK_INT(qcow2_write_empty(fd, 1 << 20, NULL, 0), 0);
                close(fd);
                CHECK_INT(template_commit_prepare(&c, "win", 2, DISK_FORMAT_QCOW2, &tc), -EBADMSG);
                CHECK(tc.argv[0] == NULL);
                CHECK_INT(template_edit_discard(&c, "win"), 0);

                CHECK_INT(template_edit_begin(&c, "win", v1, DISK_FORMAT_QCOW2, &edit, &created), 0);
                CHECK(created);
                backing = mfree(backing);
                CHECK_INT(qcow2_read_backing(edit, &backing, NULL), 0);
                CHECK_STR(backing, v1);
                CHECK_STR(template_path_invalid_reason(&c, edit), "is a template's edit overlay, not a version");
                CHECK_INT(template_edit_begin(&c, "win", v1, DISK_FORMAT_QCOW2, &edit2, &created), 0);
                CHECK(!created);
                edit2 = mfree(edit2);
                CHECK_INT(template_edit_begin(&c, "win", raw, DISK_FORMAT_RAW, &edit2, &created), -EEXIST);
                CHECK_INT(template_edit_begin(&c, "win", edit, DISK_FORMAT_QCOW2, &edit2, &created), -EPERM);

                /* the flattening qemu-img run, then the rename */
                CHECK_INT(template_commit_prepare(&c, "win", 1, DISK_FORMAT_QCOW2, &tc), -EINVAL);
                CHECK_INT(template_commit_prepare(&c, "win", 2, DISK_FORMAT_QCOW2, &tc), 0);
                snprintf(v2, sizeof v2, "%s/2.qcow2", tdir_win);
                CHECK_STR(tc.path, v2);
                CHECK_STR(tc.argv[0], "qemu-img");
                CHECK_STR(tc.argv[1], "convert");
                CHECK_STR(tc.argv[6], "qcow2");
                CHECK_STR(tc.argv[7], edit);
                CHECK_STR(tc.argv[8], tc.tmp);
                CHECK(tc.argv[9] == NULL);
                CHECK(strstr(tc.tmp, "/win/.2.qcow2.") != NULL);
                write_file(tc.tmp, "flattened", 9);                     /* what qemu-img would write */
                CHECK_INT(template_commit_finish(&tc), 0);
                CHECK_INT(file_size(v2), 9);
                CHECK_INT(file_size(edit), -1);                         /* the edit is gone */
                CHECK_INT(count_entries(tdir_win), 2);                  /* 1.qcow2 2.qcow2 */
                template_commit_done(&tc);
                /* asked again, a commit made is answered with its version,
                 * also with the edit overlay left (cut short after the
                 * rename), which goes; a version is never replaced */
                CHECK_INT(template_commit_prepare(&c, "win", 2, DISK_FORMAT_QCOW2, &tc), 1);
                CHECK_STR(tc.path, v2);
                CHECK(tc.argv[0] == NULL);                              /* nothing to run */
                template_commit_done(&tc);
                edit2 = mfree(edit2);
                CHECK_INT(template_edit_begin(&c, "win", v1, DISK_FORMAT_QCOW2, &edit2, &created), 0);
                CHECK_INT(template_commit_prepare(&c, "win", 2, DISK_FORMAT_QCOW2, &tc), 1);
                CHECK_INT(file_size(edit2), -1);
                CHECK_INT(file_size(v2), 9);
                template_commit_done(&tc);
                /* an edit of version 2 itself is a later one: kept */
                edit2 = mfree(edit2);
                {
                        static const char zeros[65536];

                        write_file(v2, zeros, sizeof zeros);            /* a raw disk an edit can be made on */
                }
                CHECK_INT(template_edit_begin(&c, "win", v2, DISK_FORMAT_RAW, &edit2, &created), 0);
                CHECK_INT(template_commit_prepare(&c, "win", 2, DISK_FORMAT_QCOW2, &tc), -EEXIST);
                CHECK(file_size(edit2) > 0);
                CHECK_INT(template_commit_prepare(&c, "win", 3, DISK_FORMAT_QCOW2, &tc), 0);
                write_file(tc.tmp, "half", 4);
                template_commit_abort(&tc);
                CHECK_INT(file_size(tc.tmp), -1);
                CHECK_INT(template_edit_discard(&c, "win"), 0);
                CHECK_INT(file_size(edit2), -1);

                /* removing files: only a version's, only in its directory */
                CHECK_INT(template_file_remove(&c, "win", tmpl), -EPERM);
                CHECK_INT(template_file_remove(&c, "lin", v1), -EPERM);
                CHECK_INT(template_file_remove(&c, "win", edit), -EPERM);
                CHECK_INT(template_file_remove(&c, "win", v1), 0);
                CHECK_INT(template_file_remove(&c, "win", v1), -ENOENT);
                CHECK_INT(template_file_remove(&c, "win", v2), 0);
                CHECK_INT(access(tdir_win, F_OK), -1);                  /* its directory went with it */
                CHECK_INT(template_file_remove(&c, "lin", raw), 0);
        }

        unlink(link);
        unlink(outside);
        unlink(tmpl);
        unlink(tmpl2);
        unlink(broken);
        rmdir(tdir);
        rmdir(ddir);
        CHECK_INT(rmdir(dir), 0);       /* nothing else was left behind */
        return test_summary();
}
