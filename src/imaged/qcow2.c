/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <endian.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "macro.h"
#include "qcow2.h"
#include "util.h"

/* The qcow2 format: docs/interop/qcow2.txt in QEMU's sources. All fields
 * are big-endian. */
#define QCOW2_MAGIC             0x514649fbu     /* "QFI\xfb" */
#define QCOW2_CLUSTER_BITS      16u
#define QCOW2_CLUSTER_SIZE      (UINT64_C(1) << QCOW2_CLUSTER_BITS)
#define QCOW2_HEADER_LENGTH     112u            /* version 3 with the compression type */
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_BACKING_NAME_MAX  1023u
/* One L1 entry maps an L2 table: cluster_size / 8 clusters of data. */
#define QCOW2_L1_ENTRY_SPAN     (QCOW2_CLUSTER_SIZE * (QCOW2_CLUSTER_SIZE / 8))

static void put_be16(uint8_t *p, uint16_t v) {
        v = htobe16(v);
        memcpy(p, &v, sizeof v);
}

static void put_be32(uint8_t *p, uint32_t v) {
        v = htobe32(v);
        memcpy(p, &v, sizeof v);
}

static void put_be64(uint8_t *p, uint64_t v) {
        v = htobe64(v);
        memcpy(p, &v, sizeof v);
}

static int pwrite_all(int fd, const void *buf, size_t n, off_t offset) {
        const uint8_t *p = buf;

        while (n > 0) {
                ssize_t k = pwrite(fd, p, n, offset);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t) k;
                offset += k;
        }
        return 0;
}

int disk_virtual_size(const char *path, DiskFormat format, uint64_t *ret) {
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC);
        uint8_t h[32];
        struct stat st;
        ssize_t k;

        if (fd < 0)
                return -errno;
        if (format == DISK_FORMAT_RAW) {
                if (fstat(fd, &st) < 0)
                        return -errno;
                *ret = (uint64_t) st.st_size;
                return 0;
        }
        k = pread(fd, h, sizeof h, 0);
        if (k < 0)
                return -errno;
        if ((size_t) k < sizeof h || be32_get(h) != QCOW2_MAGIC)
                return -EBADMSG;
        if (be32_get(h + 4) != 2 && be32_get(h + 4) != 3)
                return -EBADMSG;
        if (be32_get(h + 20) < 9 || be32_get(h + 20) > 21)       /* qemu's cluster size limits */
                return -EBADMSG;
        *ret = be64_get(h + 24);
        return 0;
}

/* A backing file qcow2 can name: a format it knows, a name of 1 to 1023
 * bytes. */
static int backing_check(const char *backing, DiskFormat backing_format, const char **ret_format) {
        const char *fmt;
        size_t name_len;

        fmt = disk_format_to_string(backing_format);
        if (!fmt)
                return -EINVAL;
        name_len = strlen(backing);
        if (name_len == 0)
                return -EINVAL;
        if (name_len > QCOW2_BACKING_NAME_MAX)
                return -ENAMETOOLONG;
        *ret_format = fmt;
        return 0;
}

/* Where an empty image's metadata go, and how much of it there is. */
typedef struct Qcow2Layout {
        uint64_t size;          /* the virtual size, in whole sectors */
        uint64_t l1_size;       /* L1 entries */
        uint64_t n_clusters;    /* header, refcount table, refcount block, L1 */
} Qcow2Layout;

static int qcow2_layout(uint64_t virtual_size, Qcow2Layout *ret) {
        uint64_t size, l1_size, l1_clusters, n_clusters;

        /* Block devices count in 512-byte sectors: qemu rounds up too. */
        if (virtual_size > UINT64_MAX - 511)
                return -EFBIG;
        size = (virtual_size + 511) & ~UINT64_C(511);
        l1_size = size / QCOW2_L1_ENTRY_SPAN + (size % QCOW2_L1_ENTRY_SPAN != 0);
        if (l1_size > UINT32_MAX / 8)
                return -EFBIG;
        l1_clusters = MAX((l1_size * 8 + QCOW2_CLUSTER_SIZE - 1) / QCOW2_CLUSTER_SIZE, UINT64_C(1));
        /* header, refcount table, refcount block, L1: all counted by the
         * one refcount block (16-bit entries: 32768 clusters). */
        n_clusters = 3 + l1_clusters;
        if (n_clusters > QCOW2_CLUSTER_SIZE / 2)
                return -EFBIG;
        *ret = (Qcow2Layout) { .size = size, .l1_size = l1_size, .n_clusters = n_clusters };
        return 0;
}

/* Cluster 0: the header, one extension naming the backing format, the end
 * of extensions, then the backing file's name. cluster: a cluster of
 * zeroes. */
static int write_header(int fd, uint8_t *cluster, const Qcow2Layout *l, const char *backing, const char *fmt) {
        size_t name_len = backing ? strlen(backing) : 0, fmt_len = 0, fmt_padded, ext_end;
        uint64_t backing_offset = 0;
        uint8_t *p = cluster;

        if (fmt) {
                fmt_len = strlen(fmt);
                fmt_padded = (fmt_len + 7) & ~(size_t) 7;
                ext_end = QCOW2_HEADER_LENGTH + 8 + fmt_padded + 8;
                backing_offset = ext_end;
        } else
                ext_end = QCOW2_HEADER_LENGTH + 8;
        put_be32(p + 0, QCOW2_MAGIC);
        put_be32(p + 4, 3);
        put_be64(p + 8, backing_offset);
        put_be32(p + 16, (uint32_t) name_len);
        put_be32(p + 20, QCOW2_CLUSTER_BITS);
        put_be64(p + 24, l->size);
        put_be32(p + 32, 0);                                    /* no encryption */
        put_be32(p + 36, (uint32_t) l->l1_size);
        put_be64(p + 40, 3 * QCOW2_CLUSTER_SIZE);               /* L1 table */
        put_be64(p + 48, 1 * QCOW2_CLUSTER_SIZE);               /* refcount table */
        put_be32(p + 56, 1);                                    /* its length in clusters */
        /* no snapshots, no feature bits: 60..95 stay zero */
        put_be32(p + 96, 4);                                    /* refcount_order: 16 bits */
        put_be32(p + 100, QCOW2_HEADER_LENGTH);
        /* 104: compression type zlib (0), then padding */
        if (fmt) {
                put_be32(p + QCOW2_HEADER_LENGTH, QCOW2_EXT_BACKING_FORMAT);
                put_be32(p + QCOW2_HEADER_LENGTH + 4, (uint32_t) fmt_len);
                memcpy(p + QCOW2_HEADER_LENGTH + 8, fmt, fmt_len);
                memcpy(p + backing_offset, backing, name_len);
        }
        /* the end-of-extensions record is 8 zero bytes, already there */
        return pwrite_all(fd, cluster, ext_end + name_len, 0);
}

/* Cluster 1: the refcount table, pointing at cluster 2; cluster 2: the
 * refcount block, every metadata cluster used once. */
static int write_refcounts(int fd, uint8_t *cluster, const Qcow2Layout *l) {
        int r;

        memset(cluster, 0, QCOW2_CLUSTER_SIZE);
        put_be64(cluster, 2 * QCOW2_CLUSTER_SIZE);
        r = pwrite_all(fd, cluster, 8, 1 * QCOW2_CLUSTER_SIZE);
        if (r < 0)
                return r;

        memset(cluster, 0, 8);
        for (uint64_t i = 0; i < l->n_clusters; i++)
                put_be16(cluster + 2 * i, 1);
        return pwrite_all(fd, cluster, 2 * l->n_clusters, 2 * QCOW2_CLUSTER_SIZE);
}

int qcow2_write_empty(int fd, uint64_t virtual_size, const char *backing, DiskFormat backing_format) {
        _cleanup_(freep) uint8_t *cluster = NULL;
        const char *fmt = NULL;
        Qcow2Layout l;
        int r;

        if (backing) {
                r = backing_check(backing, backing_format, &fmt);
                if (r < 0)
                        return r;
        }
        r = qcow2_layout(virtual_size, &l);
        if (r < 0)
                return r;

        cluster = calloc(1, QCOW2_CLUSTER_SIZE);
        if (!cluster)
                return -ENOMEM;
        r = write_header(fd, cluster, &l, backing, fmt);
        if (r < 0)
                return r;
        r = write_refcounts(fd, cluster, &l);
        if (r < 0)
                return r;

        /* Clusters 3...: the L1 table, all zero (nothing allocated: every
         * read goes to the backing file). Like qemu-img, the file ends
         * where the table does. */
        if (ftruncate(fd, (off_t) (3 * QCOW2_CLUSTER_SIZE + MAX(l.l1_size * 8, UINT64_C(8)))) < 0)
                return -errno;
        return 0;
}
