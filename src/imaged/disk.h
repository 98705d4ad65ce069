/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "disk-util.h"

/* Disk files, made without running anything but for a commit's flattening:
 * desktop disks (qcow2 overlays in DiskDir backed by a template version)
 * and templates' own files in TemplateDir/<template>/: one file per version
 * (<version>.<format>) and, while the template is edited, edit.qcow2 on the
 * version being edited. Every file is made under a hidden temporary name and
 * renamed into place, so that nobody ever sees a half-made disk. Paths must
 * be valid (disk-util.h: -EPERM here if not). */

/* Makes sure path is a qcow2 overlay backed by template, whose format is
 * the one vdesk recorded for it (never read from the file: a guest wrote
 * its first bytes); the overlay's header names it as the backing format. An
 * existing overlay on the same template in the same format is fine
 * (*ret_created false); one on another template or format is -EEXIST; two
 * callers racing for one path cannot replace an overlay a running domain
 * has open. -EBADMSG if the template is qcow2 but its header makes no sense
 * or names a backing file of its own; -EINVAL for a format vdesk does not
 * know. */
int disk_ensure_overlay(const VdeskConfig *c, const char *path, const char *template, DiskFormat format,
                        bool *ret_created);

/* Replaces path, whatever it is, with a new empty overlay of template (of
 * format) in one rename: a desktop given a fresh disk (it must not be
 * running). */
int disk_replace_overlay(const VdeskConfig *c, const char *path, const char *template, DiskFormat format);

/* Removes a desktop disk; -ENOENT if absent. */
int disk_delete(const VdeskConfig *c, const char *path);

/* The new, empty disk of a template being built: version 1, of size bytes.
 * -EEXIST if the template has files already. */
int template_disk_create(const VdeskConfig *c, const char *template, DiskFormat format, uint64_t size,
                         char **ret_path);

/* The overlay an edit writes to, on base (a file of the template, whose
 * recorded format is base_format). An existing edit overlay on base in that
 * format is adopted (*ret_created false); one on another base is -EEXIST. */
int template_edit_begin(const VdeskConfig *c, const char *template, const char *base, DiskFormat base_format,
                        char **ret_path, bool *ret_created);

/* At start: removes the temporary files (hidden, ".<file>.<pid>.<n>.tmp")
 * that an imaged stopped in the middle of making a disk or a version left
 * in DiskDir and in TemplateDir's template directories. */
void disk_remove_stale_temps(const VdeskConfig *c);

/* A commit: the edit overlay's chain is flattened by
 *   qemu-img convert -O <format> <edit> <tmp>
 * (run by the caller with tc.argv), then
 * template_commit_finish() renames tmp to the version's file (never over an
 * existing one) and removes the edit overlay. Until then nothing a domain
 * uses has changed; on failure template_commit_abort() removes tmp.
 * template_commit_prepare() returns 1 (tc.path set, nothing to run) if the
 * version's file is there already: the same commit, made by an earlier call
 * whose caller went away; an edit overlay left from it is removed. An edit
 * overlay on that very version is -EEXIST; no edit and no version -ENOENT;
 * an edit overlay whose header names no base, or no base format vdesk
 * knows, -EBADMSG (qemu-img would probe the base). */
typedef struct TemplateCommit {
        char *edit;             /* TemplateDir/<template>/edit.qcow2 */
        char *tmp;              /* hidden, in the same directory */
        char *path;             /* TemplateDir/<template>/<version>.<format> */
        DiskFormat format;
        char *argv[10];         /* qemu-img's, pointing into the above */
} TemplateCommit;

int template_commit_prepare(const VdeskConfig *c, const char *template, unsigned version, DiskFormat format,
                            TemplateCommit *ret);
int template_commit_finish(TemplateCommit *tc);
void template_commit_abort(TemplateCommit *tc);
void template_commit_done(TemplateCommit *tc);

/* Drops the edit overlay; -ENOENT if there is none. */
int template_edit_discard(const VdeskConfig *c, const char *template);

/* Removes one file of a template (a version vdesk made). Files outside
 * TemplateDir/<template>/, and its edit overlay, are -EPERM: a template
 * registered from a file the admin put elsewhere keeps that file. The
 * template's directory goes with its last file. */
int template_file_remove(const VdeskConfig *c, const char *template, const char *path);
