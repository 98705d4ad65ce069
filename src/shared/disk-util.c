/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <endian.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "disk-util.h"
#include "macro.h"
#include "util.h"

static const char *const disk_format_table[_DISK_FORMAT_MAX] = {
        [DISK_FORMAT_RAW] = "raw",
        [DISK_FORMAT_QCOW2] = "qcow2",
};

DEFINE_STRING_TABLE_LOOKUP(disk_format, DiskFormat);

const char *disk_path_invalid_reason(const VdeskConfig *c, const char *path) {
        const char *base;
        size_t l;

        if (!path_is_normalized_absolute(path))
                return "is not a normalized absolute path";
        if (!path_startswith_dir(path, c->disk_dir))
                return "is not inside the disk directory";
        base = path + strlen(c->disk_dir);
        while (*base == '/')
                base++;
        if (strchr(base, '/'))
                return "is not directly in the disk directory";
        l = strlen(base);
        if (l <= 6 || !streq(base + l - 6, ".qcow2"))
                return "does not end in .qcow2";
        if (base[0] == '.')
                return "is a hidden file name";
        return NULL;
}

const char *template_path_invalid_reason(const VdeskConfig *c, const char *template) {
        char real_dir[PATH_MAX], real[PATH_MAX];
        const char *base;
        struct stat st;

        if (!path_is_normalized_absolute(template))
                return "is not a normalized absolute path";
        if (!path_startswith_dir(template, c->template_dir))
                return "is not inside the template directory";
        if (!realpath(c->template_dir, real_dir) || !realpath(template, real))
                return "does not exist";
        if (!path_startswith_dir(real, real_dir))
                return "resolves to a file outside the template directory";
        if (stat(real, &st) < 0 || !S_ISREG(st.st_mode))
                return "is not a regular file";
        base = strrchr(template, '/') + 1;
        if (base[0] == '.')
                return "is a hidden file name";
        /* TemplateDir/<template>/edit.qcow2 changes while it is edited. */
        if (streq(base, "edit.qcow2") && base - 1 > template + strlen(c->template_dir))
                return "is a template's edit overlay, not a version";
        return NULL;
}

static int read_at(int fd, void *buf, size_t n, off_t offset) {
        ssize_t k = pread(fd, buf, n, offset);

        if (k < 0)
                return -errno;
        return (size_t) k == n ? 0 : -EBADMSG;
}

int disk_probe_format(const char *path, DiskFormat *ret) {
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC);
        uint8_t magic[4];
        int r;

        if (fd < 0)
                return -errno;
        r = read_at(fd, magic, sizeof magic, 0);
        if (r < 0 && r != -EBADMSG)
                return r;
        *ret = r == 0 && memcmp(magic, "QFI\xfb", 4) == 0 ? DISK_FORMAT_QCOW2 : DISK_FORMAT_RAW;
        return 0;
}

int qcow2_read_backing(const char *path, char **ret) {
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_(freep) char *name = NULL;
        struct {
                uint8_t magic[4];
                uint32_t version;
                uint64_t backing_file_offset;
                uint32_t backing_file_size;
        } __attribute__((packed)) h;
        uint64_t off;
        uint32_t size;
        int r;

        if (fd < 0)
                return -errno;
        r = read_at(fd, &h, sizeof h, 0);
        if (r < 0)
                return r;
        if (memcmp(h.magic, "QFI\xfb", 4) != 0)
                return -EMEDIUMTYPE;
        off = be64toh(h.backing_file_offset);
        size = be32toh(h.backing_file_size);
        if (off == 0) {
                *ret = NULL;
                return 0;
        }
        if (size == 0 || size > 1023)  /* qemu's own limit */
                return -EBADMSG;
        name = malloc(size + 1);
        if (!name)
                return -ENOMEM;
        r = read_at(fd, name, size, (off_t) off);
        if (r < 0)
                return r;
        name[size] = 0;
        *ret = TAKE_PTR(name);
        return 0;
}

