/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <endian.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "disk.h"
#include "disk-util.h"
#include "log.h"
#include "macro.h"
#include "process.h"
#include "util.h"

#define QEMU_IMG_TIMEOUT_USEC (60 * USEC_PER_SEC)

/* An existing file at path: fine if it is our overlay of template. */
static int check_existing(const char *path, const char *template) {
        _cleanup_(freep) char *backing = NULL;
        int r;

        r = qcow2_read_backing(path, &backing);
        if (r == -EMEDIUMTYPE || r == -EBADMSG || r == -ELOOP)
                return -EEXIST;
        if (r < 0)
                return r;
        return streq_ptr(backing, template) ? 0 : -EEXIST;
}

int disk_ensure_overlay(const VdeskConfig *c, const char *path, const char *template,
                        bool *ret_created, char **ret_error) {
        _cleanup_(spawn_result_done) SpawnResult res = {};
        _cleanup_(freep) char *tmp = NULL;
        DiskFormat fmt;
        const char *base;
        int r;

        if (disk_path_invalid_reason(c, path) || template_path_invalid_reason(c, template))
                return -EPERM;

        r = check_existing(path, template);
        if (r != -ENOENT) {
                if (r >= 0)
                        *ret_created = false;
                return r;
        }

        r = disk_probe_format(template, &fmt);
        if (r < 0)
                return r;

        /* Hidden, and unique per process and call, so that a crash leaves a
         * name no real disk can have. */
        static unsigned counter = 0;
        base = strrchr(path, '/') + 1;
        if (asprintf(&tmp, "%s/.%s.%d.%u.tmp", c->disk_dir, base, (int) getpid(), counter++) < 0)
                return -ENOMEM;

        {
                char *argv[] = {
                        (char *) "qemu-img", (char *) "create", (char *) "-q",
                        (char *) "-f", (char *) "qcow2",
                        (char *) "-F", (char *) disk_format_to_string(fmt),
                        (char *) "-b", (char *) template,
                        tmp, NULL,
                };
                r = spawn_run(argv, QEMU_IMG_TIMEOUT_USEC, &res);
        }
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        if (res.exit_status != 0) {
                (void) unlink(tmp);
                if (ret_error) {
                        char *nl = strchr(res.err, '\n');
                        if (nl)
                                *nl = 0;
                        *ret_error = strdup(res.err);
                }
                return -EIO;
        }

        /* RENAME_NOREPLACE: two callers racing for one disk cannot replace
         * an overlay a running domain already has open. */
        if (syscall(SYS_renameat2, AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) < 0) {
                r = -errno;
                (void) unlink(tmp);
                if (r == -EEXIST) {
                        r = check_existing(path, template);
                        if (r >= 0)
                                *ret_created = false;
                }
                return r;
        }

        {
                _cleanup_(closep) int dfd = open(c->disk_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd >= 0)
                        (void) fsync(dfd);
        }
        *ret_created = true;
        return 0;
}

int disk_delete(const VdeskConfig *c, const char *path) {
        if (disk_path_invalid_reason(c, path))
                return -EPERM;
        if (unlink(path) < 0)
                return -errno;
        return 0;
}
