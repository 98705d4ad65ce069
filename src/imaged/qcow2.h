/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "disk-util.h"

/* Writes a new, empty qcow2 (version 3) image to fd without running
 * qemu-img: the layout qemu-img create makes for an image with no data
 * (header, with the backing file and its format if backing is not NULL;
 * one refcount table cluster; one refcount block; an all-zero L1 table),
 * 64 KiB clusters. virtual_size is rounded up to 512 bytes; an overlay's
 * is its backing file's. fd must be an empty regular file open for
 * writing. -ENAMETOOLONG if backing is over qemu's 1023 bytes, -EFBIG for
 * a size whose L1 table one refcount block cannot cover. */
int qcow2_write_empty(int fd, uint64_t virtual_size, const char *backing, DiskFormat backing_format);

/* The virtual size of a disk file: its length if raw, its header's size if
 * qcow2 (version 2 or 3); -EBADMSG for a qcow2 header that makes no sense. */
int disk_virtual_size(const char *path, DiskFormat format, uint64_t *ret);
