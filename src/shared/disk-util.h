/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "conf.h"
#include "macro.h"

/* What vdesk checks of disk files without running anything: where they may
 * lie, and what a qcow2 header says. Shared by imaged (which makes disks)
 * and brokerd (which registers templates).
 *
 * A disk's format is never read from a file a guest has written: a raw
 * disk's first bytes are the guest's, and a qcow2 header written there
 * would make QEMU read the file it names. Each template version's format
 * is recorded when it is registered or made, and passed along from there:
 * to imaged (the backing format of every overlay it writes), into the
 * domain XML and the metadata, to qemu-img. */

typedef enum DiskFormat {
        DISK_FORMAT_RAW,
        DISK_FORMAT_QCOW2,
        _DISK_FORMAT_MAX,
        _DISK_FORMAT_INVALID = -EINVAL,
} DiskFormat;

/* How long flattening a template's edit into a new version may take
 * (imaged's qemu-img convert); who waits for a commit waits a little
 * longer, so that imaged's own timeout is what they hear of. */
#define TEMPLATE_COMMIT_TIMEOUT_USEC (6 * 3600 * USEC_PER_SEC)
#define TEMPLATE_COMMIT_WAIT_USEC (TEMPLATE_COMMIT_TIMEOUT_USEC + 120 * USEC_PER_SEC)

/* A big-endian field of a disk header (qcow2's are all big-endian) at p,
 * aligned or not. */
static inline uint32_t be32_get(const void *p) {
        uint32_t v;

        memcpy(&v, p, sizeof v);
        return be32toh(v);
}

static inline uint64_t be64_get(const void *p) {
        uint64_t v;

        memcpy(&v, p, sizeof v);
        return be64toh(v);
}

const char *disk_format_to_string(DiskFormat f);
DiskFormat disk_format_from_string(const char *s);

/* Checks that path names a file directly in DiskDir ending in .qcow2.
 * Returns NULL or a reason. */
const char *disk_path_invalid_reason(const VdeskConfig *c, const char *path);

/* Checks that template is an existing regular file inside TemplateDir, also
 * after resolving symlinks, and neither hidden (a file being made) nor a
 * template's edit overlay (TemplateDir/<name>/edit.qcow2). Returns NULL or
 * a reason. */
const char *template_path_invalid_reason(const VdeskConfig *c, const char *template);

/* Reads a file's format from its first bytes. Only for a file no guest has
 * written yet: one an admin registers as a template, whose format is then
 * recorded once. */
int disk_probe_format(const char *path, DiskFormat *ret);

/* Reads the backing file name recorded in a qcow2 header (NULL if none)
 * and, if ret_backing_format is not NULL, the backing format its header
 * extension names (_DISK_FORMAT_INVALID if none, or not one vdesk knows).
 * -EMEDIUMTYPE if the file is no qcow2, -EBADMSG if its header makes no
 * sense, -EXDEV if its data lives in an external data file (another file
 * it names, as a backing file is named). */
int qcow2_read_backing(const char *path, char **ret_backing, DiskFormat *ret_backing_format);

