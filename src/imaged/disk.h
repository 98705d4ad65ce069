/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>

#include "conf.h"
#include "disk-util.h"

/* Desktop disks: qcow2 overlays in DiskDir backed by templates in
 * TemplateDir. The one module of imaged that runs qemu-img. */

/* Makes sure path is a qcow2 overlay backed by template: created through a
 * temporary file and a no-replace rename, so that nobody ever sees a half
 * made disk. An existing overlay on the same template is fine (*ret_created
 * false); one on another is -EEXIST. Paths must be valid (checked by the
 * caller with disk-util.h: -EPERM here if not). On a qemu-img
 * failure, -EIO with its message in *ret_error. */
int disk_ensure_overlay(const VdeskConfig *c, const char *path, const char *template,
                        bool *ret_created, char **ret_error);

/* Removes a desktop disk; -ENOENT if absent. */
int disk_delete(const VdeskConfig *c, const char *path);
