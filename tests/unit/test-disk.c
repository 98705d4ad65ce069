/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* imaged's disk model with qemu-img replaced by a dry run that writes a
 * minimal qcow2 header naming the backing file, as qemu-img would. The real
 * qemu-img is exercised by the integration suite. */

#include <endian.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "disk.h"
#include "macro.h"
#include "process.h"
#include "tests.h"

static char captured[1024];
static int fake_exit;

static int write_qcow2(const char *path, const char *backing) {
        uint8_t h[512 + 1024] = { 'Q', 'F', 'I', 0xfb };
        uint32_t v = htobe32(3), bs = htobe32((uint32_t) strlen(backing));
        uint64_t off = htobe64(512);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        if (fd < 0)
                return -errno;
        memcpy(h + 4, &v, 4);
        memcpy(h + 8, &off, 8);
        memcpy(h + 16, &bs, 4);
        memcpy(h + 512, backing, strlen(backing));
        if (write(fd, h, 512 + strlen(backing)) < 0) {
                close(fd);
                return -errno;
        }
        close(fd);
        return 0;
}

static int fake_qemu_img(char *const argv[], SpawnResult *ret, void *userdata) {
        size_t n = 0;

        captured[0] = 0;
        for (; argv[n]; n++) {
                strncat(captured, argv[n], sizeof captured - strlen(captured) - 2);
                strcat(captured, "|");
        }
        *ret = (SpawnResult) { .exit_status = fake_exit, .out = strdup(""),
                               .err = strdup(fake_exit ? "qemu-img: Could not create: No space\nmore\n" : "") };
        if (fake_exit == 0)
                write_qcow2(argv[n - 1], argv[8]);
        return 0;
}

int main(void) {
        char dir[] = "/tmp/vdesk-test-disk.XXXXXX";
        char tdir[256], ddir[256], tmpl[300], tmpl2[300], disk[300], link[300], outside[300];
        _cleanup_(config_done) VdeskConfig c = {};
        _cleanup_(freep) char *backing = NULL, *err = NULL;
        bool created = false;
        DiskFormat fmt;
        int fd;

        CHECK(mkdtemp(dir) != NULL);
        snprintf(tdir, sizeof tdir, "%s/templates", dir);
        snprintf(ddir, sizeof ddir, "%s/disks", dir);
        mkdir(tdir, 0755);
        mkdir(ddir, 0755);
        config_defaults(&c);
        free_and_strdup(&c.template_dir, tdir);
        free_and_strdup(&c.disk_dir, ddir);

        snprintf(tmpl, sizeof tmpl, "%s/demo.img", tdir);
        fd = open(tmpl, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        CHECK(fd >= 0 && write(fd, "rawdata", 7) == 7);
        close(fd);
        snprintf(tmpl2, sizeof tmpl2, "%s/other.qcow2", tdir);
        CHECK_INT(write_qcow2(tmpl2, ""), 0);
        snprintf(disk, sizeof disk, "%s/alice.qcow2", ddir);

        /* format probing */
        CHECK_INT(disk_probe_format(tmpl, &fmt), 0);
        CHECK_INT(fmt, DISK_FORMAT_RAW);
        CHECK_INT(disk_probe_format(tmpl2, &fmt), 0);
        CHECK_INT(fmt, DISK_FORMAT_QCOW2);

        /* path rules */
        CHECK(disk_path_invalid_reason(&c, disk) == NULL);
        CHECK_STR(disk_path_invalid_reason(&c, "/etc/alice.qcow2"), "is not inside the disk directory");
        CHECK_STR(disk_path_invalid_reason(&c, "relative.qcow2"), "is not a normalized absolute path");
        {
                char p[400];
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
        }
        CHECK(template_path_invalid_reason(&c, tmpl) == NULL);
        CHECK_STR(template_path_invalid_reason(&c, "/etc/passwd"), "is not inside the template directory");
        /* a symlink in the template directory pointing outside it */
        snprintf(outside, sizeof outside, "%s/secret", dir);
        fd = open(outside, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        close(fd);
        snprintf(link, sizeof link, "%s/evil.img", tdir);
        CHECK_INT(symlink(outside, link), 0);
        CHECK_STR(template_path_invalid_reason(&c, link), "resolves to a file outside the template directory");
        CHECK_INT(disk_ensure_overlay(&c, disk, link, &created, NULL), -EPERM);

        spawn_set_dry_run(fake_qemu_img, NULL);

        /* created: the argv is exactly this, the temp file is renamed */
        CHECK_INT(disk_ensure_overlay(&c, disk, tmpl, &created, &err), 0);
        CHECK(created);
        CHECK(strncmp(captured, "qemu-img|create|-q|-f|qcow2|-F|raw|-b|", 38) == 0);
        CHECK(strstr(captured, "/disks/.alice.qcow2.") != NULL);
        CHECK_INT(qcow2_read_backing(disk, &backing), 0);
        CHECK_STR(backing, tmpl);

        /* idempotent: same template, nothing run */
        captured[0] = 0;
        CHECK_INT(disk_ensure_overlay(&c, disk, tmpl, &created, &err), 0);
        CHECK(!created);
        CHECK_STR(captured, "");

        /* another template: refused, disk untouched */
        CHECK_INT(disk_ensure_overlay(&c, disk, tmpl2, &created, &err), -EEXIST);
        free(backing);
        CHECK_INT(qcow2_read_backing(disk, &backing), 0);
        CHECK_STR(backing, tmpl);

        /* a qcow2 template gets -F qcow2 */
        {
                char d2[300];
                snprintf(d2, sizeof d2, "%s/bob.qcow2", ddir);
                CHECK_INT(disk_ensure_overlay(&c, d2, tmpl2, &created, &err), 0);
                CHECK(strstr(captured, "|-F|qcow2|") != NULL);
                CHECK_INT(disk_delete(&c, d2), 0);
                CHECK_INT(disk_delete(&c, d2), -ENOENT);
        }

        /* qemu-img failing: its first line is the error, no file is left */
        {
                char d3[300];
                struct stat st;
                snprintf(d3, sizeof d3, "%s/carol.qcow2", ddir);
                fake_exit = 1;
                CHECK_INT(disk_ensure_overlay(&c, d3, tmpl, &created, &err), -EIO);
                CHECK_STR(err, "qemu-img: Could not create: No space");
                CHECK(stat(d3, &st) < 0 && errno == ENOENT);
                fake_exit = 0;
        }

        /* a file that is not qcow2 at the disk's path is not adopted */
        {
                char d4[300];
                snprintf(d4, sizeof d4, "%s/dave.qcow2", ddir);
                fd = open(d4, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                CHECK(fd >= 0 && write(fd, "not qcow2", 9) == 9);
                close(fd);
                CHECK_INT(disk_ensure_overlay(&c, d4, tmpl, &created, &err), -EEXIST);
                unlink(d4);
        }
        spawn_set_dry_run(NULL, NULL);

        CHECK_INT(disk_delete(&c, "/etc/passwd"), -EPERM);
        unlink(disk);
        unlink(link);
        unlink(outside);
        unlink(tmpl);
        unlink(tmpl2);
        rmdir(tdir);
        rmdir(ddir);
        CHECK_INT(rmdir(dir), 0);       /* nothing else was left behind */
        return test_summary();
}
