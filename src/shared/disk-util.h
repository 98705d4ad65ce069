/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>

#include "conf.h"
#include "macro.h"

/* What vdesk checks of disk files without running anything: where they may
 * lie, and their format from their first bytes. Shared by imaged (which
 * makes disks) and brokerd (which registers templates). */

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

/* Reads a file's format from its first bytes. */
int disk_probe_format(const char *path, DiskFormat *ret);

/* Reads the backing file name recorded in a qcow2 header (NULL if none). */
int qcow2_read_backing(const char *path, char **ret);

