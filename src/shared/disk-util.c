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

#define QCOW2_HEAD_MAX 65536u                   /* where vdesk looks for the header's extensions */
#define QCOW2_EXT_END 0u
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau

/* The backing format extension among the header extensions in h[start, end)
 * (docs/interop/qcow2.txt: type, length, data padded to 8 bytes). */
static int qcow2_find_backing_format(const uint8_t *h, size_t start, size_t end, DiskFormat *ret) {
        *ret = _DISK_FORMAT_INVALID;
        for (size_t off = start; off + 8 <= end; ) {
                uint32_t type = be32_get(h + off), len = be32_get(h + off + 4);
                char name[16];

                if (type == QCOW2_EXT_END)
                        return 0;
                if (len > end - off - 8)
                        return -EBADMSG;
                if (type == QCOW2_EXT_BACKING_FORMAT && len < sizeof name) {
                        memcpy(name, h + off + 8, len);
                        name[len] = 0;
                        *ret = disk_format_from_string(name);
                }
                off += 8 + (((size_t) len + 7) & ~(size_t) 7);
        }
        return 0;
}

int qcow2_read_backing(const char *path, char **ret_backing, DiskFormat *ret_backing_format) {
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_(freep) uint8_t *h = NULL;
        _cleanup_(freep) char *name = NULL;
        DiskFormat fmt = _DISK_FORMAT_INVALID;
        uint64_t off;
        uint32_t size, version, header_length;
        ssize_t k;
        size_t end;
        int r;

        if (fd < 0)
                return -errno;
        h = malloc(QCOW2_HEAD_MAX);
        if (!h)
                return -ENOMEM;
        k = pread(fd, h, QCOW2_HEAD_MAX, 0);
        if (k < 0)
                return -errno;
        if (k < 4 || memcmp(h, "QFI\xfb", 4) != 0)
                return -EMEDIUMTYPE;
        if (k < 72)
                return -EBADMSG;
        version = be32_get(h + 4);
        off = be64_get(h + 8);
        size = be32_get(h + 16);
        if (version != 2 && version != 3)
                return -EBADMSG;
        header_length = version == 2 ? 72 : (k >= 104 ? be32_get(h + 100) : 0);
        if (header_length < 72 || header_length > (size_t) k)
                return -EBADMSG;
        /* qcow2 v3's external data file: the image's data in another file,
         * named inside it, as a backing file is (incompatible feature bit 2) */
        if (version == 3 && (be64_get(h + 72) & (UINT64_C(1) << 2)))
                return -EXDEV;
        if (off != 0) {
                if (size == 0 || size > 1023)  /* qemu's own limit */
                        return -EBADMSG;
                if (off < header_length || off > (uint64_t) k || size > (uint64_t) k - off)
                        return -EBADMSG;
                name = strndup((const char *) h + off, size);
                if (!name)
                        return -ENOMEM;
                if (strlen(name) != size)
                        return -EBADMSG;
        }
        /* The extensions lie between the header and the backing file's name. */
        end = off != 0 ? (size_t) off : (size_t) k;
        r = qcow2_find_backing_format(h, header_length, end, &fmt);
        if (r < 0)
                return r;
        if (ret_backing_format)
                *ret_backing_format = name ? fmt : _DISK_FORMAT_INVALID;
        *ret_backing = TAKE_PTR(name);
        return 0;
}
