/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>

#include "conf.h"

/* Desktop disks: qcow2 overlays in DiskDir backed by templates in
 * TemplateDir. The one module of imaged that runs qemu-img. */

typedef enum DiskFormat {
        DISK_FORMAT_RAW,
        DISK_FORMAT_QCOW2,
        _DISK_FORMAT_MAX,
        _DISK_FORMAT_INVALID = -EINVAL,
} DiskFormat;

const char *disk_format_to_string(DiskFormat f);

/* Checks that path names a file directly in DiskDir ending in .qcow2.
 * Returns NULL or a reason. */
const char *disk_path_invalid_reason(const VdeskConfig *c, const char *path);

/* Checks that template is an existing regular file inside TemplateDir, also
 * after resolving symlinks. Returns NULL or a reason. */
const char *template_path_invalid_reason(const VdeskConfig *c, const char *template);

/* Reads a file's format from its first bytes. */
int disk_probe_format(const char *path, DiskFormat *ret);

/* Reads the backing file name recorded in a qcow2 header (NULL if none). */
int qcow2_read_backing(const char *path, char **ret);

/* Makes sure path is a qcow2 overlay backed by template: created through a
 * temporary file and a no-replace rename, so that nobody ever sees a half
 * made disk. An existing overlay on the same template is fine (*ret_created
 * false); one on another is -EEXIST. Paths must be valid (checked by the
 * caller with the functions above: -EPERM here if not). On a qemu-img
 * failure, -EIO with its message in *ret_error. */
int disk_ensure_overlay(const VdeskConfig *c, const char *path, const char *template,
                        bool *ret_created, char **ret_error);

/* Removes a desktop disk; -ENOENT if absent. */
int disk_delete(const VdeskConfig *c, const char *path);
