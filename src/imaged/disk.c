/* SPDX-License-Identifier: LGPL-2.1-or-later */

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
#include "qcow2.h"
#include "util.h"

#define EDIT_OVERLAY "edit.qcow2"

/* Whether a file's name is one path_temp_name() makes: ".<name>.<pid>.<n>.tmp". */
static bool is_temp_name(const char *name) {
        size_t l = strlen(name), digits;
        const char *p;

        if (name[0] != '.' || l < 10 || !streq(name + l - 4, ".tmp"))
                return false;
        p = name + l - 4;               /* at ".tmp" */
        for (int field = 0; field < 2; field++) {
                for (digits = 0; p > name && p[-1] >= '0' && p[-1] <= '9'; p--)
                        digits++;
                if (digits == 0 || p <= name + 1 || p[-1] != '.')
                        return false;
                p--;
        }
        return p > name + 1;            /* a name before ".<pid>" */
}

/* Removes the temporary files in dir that an earlier imaged left when it
 * stopped in the middle of making a disk or a version. */
static void remove_temps_in(int dirfd, const char *dir) {
        _cleanup_(closedirp) DIR *d = fdopendir(dirfd);

        if (!d) {
                close(dirfd);
                return;
        }
        for (struct dirent *de; (de = readdir(d)); ) {
                if (de->d_type != DT_REG || !is_temp_name(de->d_name))
                        continue;
                if (unlinkat(dirfd, de->d_name, 0) < 0)
                        log_warning_errno(-errno, "Cannot remove %s/%s: %m", dir, de->d_name);
                else
                        log_info("Removed %s/%s, left by an earlier imaged", dir, de->d_name);
        }
}

void disk_remove_stale_temps(const VdeskConfig *c) {
        _cleanup_(closedirp) DIR *t = NULL;
        int fd;

        fd = open(c->disk_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0)
                remove_temps_in(fd, c->disk_dir);
        t = opendir(c->template_dir);
        if (!t)
                return;
        for (struct dirent *de; (de = readdir(t)); ) {
                _cleanup_(freep) char *dir = NULL;

                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                fd = openat(dirfd(t), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        continue;
                if (asprintf(&dir, "%s/%s", c->template_dir, de->d_name) < 0) {
                        close(fd);
                        return;
                }
                remove_temps_in(fd, dir);
        }
}

/* Writes an empty qcow2 (an overlay of backing unless NULL) or a sparse raw
 * file of size to a temporary file and renames it to path: with
 * RENAME_NOREPLACE unless replace. */
static int make_disk(const char *path, DiskFormat format, uint64_t size, const char *backing,
                     DiskFormat backing_format, bool replace) {
        _cleanup_(freep) char *tmp = NULL, *dir = NULL;
        _cleanup_(closep) int fd = -1;
        int r;

        r = path_temp_name(path, &tmp);
        if (r < 0)
                return r;
        dir = path_dir_of(path);
        if (!dir)
                return -ENOMEM;
        /* An overlay (a desktop's disk, an edit) is private: libvirt hands
         * it to QEMU's user while its domain runs. A template's disk is
         * group-readable: while desktops run on it libvirt hands it to
         * QEMU's user too, and imaged (of QEMU's group) must still read it
         * for a commit. */
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, backing ? 0600 : 0640);
        if (fd < 0)
                return -errno;
        if (format == DISK_FORMAT_QCOW2)
                r = qcow2_write_empty(fd, size, backing, backing_format);
        else
                r = ftruncate(fd, (off_t) size) < 0 ? -errno : 0;
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && syscall(SYS_renameat2, AT_FDCWD, tmp, AT_FDCWD, path, replace ? 0 : RENAME_NOREPLACE) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        fsync_dir(dir);
        return 0;
}

/* An overlay of base, whose format is the one recorded for it: never read
 * from base, whose first bytes a guest may have written. A qcow2 base must
 * be whole by itself (no backing file of its own). */
static int make_overlay(const char *path, const char *base, DiskFormat format, bool replace) {
        uint64_t size;
        int r;

        if (!disk_format_to_string(format))
                return -EINVAL;
        if (format == DISK_FORMAT_QCOW2) {
                _cleanup_(freep) char *backing = NULL;

                r = qcow2_read_backing(base, &backing, NULL);
                if (r == -EMEDIUMTYPE)
                        return -EBADMSG;
                if (r < 0)
                        return r;
                if (backing)
                        return -EBADMSG;
        }
        r = disk_virtual_size(base, format, &size);
        if (r < 0)
                return r;
        return make_disk(path, DISK_FORMAT_QCOW2, size, base, format, replace);
}

/* An existing file at path: 0 if it is an overlay of base recorded with
 * base's format, -EEXIST if it is something else (also an overlay of base
 * whose header names another format: made by probing base, it would have
 * QEMU read base as what its first bytes say), -ENOENT if there is none. */
static int check_existing(const char *path, const char *base, DiskFormat format) {
        _cleanup_(freep) char *backing = NULL;
        DiskFormat backing_format;
        int r;

        r = qcow2_read_backing(path, &backing, &backing_format);
        if (r == -EMEDIUMTYPE || r == -EBADMSG || r == -ELOOP)
                return -EEXIST;
        if (r < 0)
                return r;
        return streq_ptr(backing, base) && backing_format == format ? 0 : -EEXIST;
}

/* Makes an overlay at path unless the same is there (*ret_created false). */
static int ensure_overlay(const char *path, const char *base, DiskFormat format, bool *ret_created) {
        int r;

        if (!disk_format_to_string(format))
                return -EINVAL;
        r = check_existing(path, base, format);
        if (r != -ENOENT) {
                if (r >= 0)
                        *ret_created = false;
                return r;
        }
        r = make_overlay(path, base, format, false);
        if (r == -EEXIST) {
                /* another caller was quicker: fine if it made the same */
                r = check_existing(path, base, format);
                if (r >= 0)
                        *ret_created = false;
                return r;
        }
        if (r < 0)
                return r;
        *ret_created = true;
        return 0;
}

int disk_ensure_overlay(const VdeskConfig *c, const char *path, const char *template, DiskFormat format,
                        bool *ret_created) {
        if (disk_path_invalid_reason(c, path) || template_path_invalid_reason(c, template))
                return -EPERM;
        return ensure_overlay(path, template, format, ret_created);
}

int disk_replace_overlay(const VdeskConfig *c, const char *path, const char *template, DiskFormat format) {
        if (disk_path_invalid_reason(c, path) || template_path_invalid_reason(c, template))
                return -EPERM;
        return make_overlay(path, template, format, true);
}

int disk_delete(const VdeskConfig *c, const char *path) {
        if (disk_path_invalid_reason(c, path))
                return -EPERM;
        if (unlink(path) < 0)
                return -errno;
        return 0;
}

/* ---- templates' own files ------------------------------------------------ */

static int template_dir(const VdeskConfig *c, const char *template, char **ret) {
        if (name_invalid_reason(template))
                return -EPERM;
        if (asprintf(ret, "%s/%s", c->template_dir, template) < 0)
                return -ENOMEM;
        return 0;
}

int template_disk_create(const VdeskConfig *c, const char *template, DiskFormat format, uint64_t size,
                         char **ret_path) {
        _cleanup_(freep) char *dir = NULL, *path = NULL;
        int r;

        if (!disk_format_to_string(format) || size == 0)
                return -EINVAL;
        r = template_dir(c, template, &dir);
        if (r < 0)
                return r;
        /* A fresh directory: a template's files are never mixed with an
         * older template's of the same name. */
        if (mkdir(dir, 0750) < 0)
                return -errno;
        fsync_dir(c->template_dir);
        if (asprintf(&path, "%s/1.%s", dir, disk_format_to_string(format)) < 0)
                r = -ENOMEM;
        else
                r = make_disk(path, format, size, NULL, 0, false);
        if (r < 0) {
                (void) rmdir(dir);
                return r;
        }
        *ret_path = TAKE_PTR(path);
        return 0;
}

static int edit_path(const VdeskConfig *c, const char *template, char **ret) {
        _cleanup_(freep) char *dir = NULL;
        int r;

        r = template_dir(c, template, &dir);
        if (r < 0)
                return r;
        if (asprintf(ret, "%s/" EDIT_OVERLAY, dir) < 0)
                return -ENOMEM;
        return 0;
}

int template_edit_begin(const VdeskConfig *c, const char *template, const char *base, DiskFormat base_format,
                        char **ret_path, bool *ret_created) {
        _cleanup_(freep) char *path = NULL;
        int r;

        if (template_path_invalid_reason(c, base))
                return -EPERM;
        r = edit_path(c, template, &path);
        if (r < 0)
                return r;
        r = ensure_overlay(path, base, base_format, ret_created);
        if (r < 0)
                return r;
        *ret_path = TAKE_PTR(path);
        return 0;
}

void template_commit_done(TemplateCommit *tc) {
        free(tc->edit);
        free(tc->tmp);
        free(tc->path);
        *tc = (TemplateCommit) {};
}

int template_commit_prepare(const VdeskConfig *c, const char *template, unsigned version, DiskFormat format,
                            TemplateCommit *ret) {
        _cleanup_(template_commit_done) TemplateCommit tc = { .format = format };
        struct stat st;
        int r;

        if (!disk_format_to_string(format) || version < 2)
                return -EINVAL;
        r = edit_path(c, template, &tc.edit);
        if (r < 0)
                return r;
        if (asprintf(&tc.path, "%s/%s/%u.%s", c->template_dir, template, version, disk_format_to_string(format)) < 0)
                return -ENOMEM;
        if (access(tc.path, F_OK) == 0) {
                /* This commit was made already, by a call whose caller went
                 * away (the version is renamed into place only once complete
                 * and synced); the edit overlay is left if that call was cut
                 * short right after the rename. An edit of this very version
                 * is a later one: not ours to drop. */
                _cleanup_(freep) char *backing = NULL;

                r = qcow2_read_backing(tc.edit, &backing, NULL);
                if (r >= 0 && streq_ptr(backing, tc.path))
                        return -EEXIST;
                if (r >= 0) {
                        if (unlink(tc.edit) < 0)
                                return -errno;
                        fsync_dir_of(tc.edit);
                } else if (r != -ENOENT)
                        return r;
                *ret = tc;
                tc = (TemplateCommit) {};
                return 1;
        }
        if (lstat(tc.edit, &st) < 0)
                return -errno;
        /* qemu-img reads the base in the format the edit overlay's header
         * names (imaged wrote it): without one it would probe the base,
         * whose first bytes are a guest's. */
        {
                _cleanup_(freep) char *base = NULL;
                DiskFormat base_format;

                r = qcow2_read_backing(tc.edit, &base, &base_format);
                if (r == -EMEDIUMTYPE || (r >= 0 && (!base || base_format < 0)))
                        return -EBADMSG;
                if (r < 0)
                        return r;
        }
        r = path_temp_name(tc.path, &tc.tmp);
        if (r < 0)
                return r;
        {
                char *argv[] = {
                        (char *) "qemu-img", (char *) "convert", (char *) "-q",
                        (char *) "-f", (char *) "qcow2",
                        (char *) "-O", (char *) disk_format_to_string(format),
                        tc.edit, tc.tmp, NULL,
                };
                memcpy(tc.argv, argv, sizeof argv);
        }
        *ret = tc;
        tc = (TemplateCommit) {};
        return 0;
}

int template_commit_finish(TemplateCommit *tc) {
        _cleanup_(closep) int fd = -1;

        /* The new version is on disk before its name is. */
        fd = open(tc->tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || fsync(fd) < 0)
                return -errno;
        if (syscall(SYS_renameat2, AT_FDCWD, tc->tmp, AT_FDCWD, tc->path, RENAME_NOREPLACE) < 0)
                return -errno;
        (void) unlink(tc->edit);
        fsync_dir_of(tc->path);
        return 0;
}

void template_commit_abort(TemplateCommit *tc) {
        if (tc->tmp)
                (void) unlink(tc->tmp);
}

int template_edit_discard(const VdeskConfig *c, const char *template) {
        _cleanup_(freep) char *path = NULL;
        int r;

        r = edit_path(c, template, &path);
        if (r < 0)
                return r;
        if (unlink(path) < 0)
                return -errno;
        return 0;
}

int template_file_remove(const VdeskConfig *c, const char *template, const char *path) {
        _cleanup_(freep) char *dir = NULL;
        const char *base;
        int r;

        r = template_dir(c, template, &dir);
        if (r < 0)
                return r;
        if (!path_is_normalized_absolute(path) || !path_startswith_dir(path, dir))
                return -EPERM;
        base = path + strlen(dir);
        if (*base != '/' || strchr(base + 1, '/') || base[1] == '.' || streq(base + 1, EDIT_OVERLAY))
                return -EPERM;
        if (unlink(path) < 0)
                return -errno;
        /* The directory goes with the template's last file. */
        if (rmdir(dir) >= 0)
                fsync_dir(c->template_dir);
        else
                fsync_dir(dir);
        return 0;
}
