/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-error.h"
#include "bus-util.h"
#include "disk.h"
#include "disk-dbus.h"
#include "manager.h"
#include "log.h"
#include "macro.h"
#include "process.h"
#include "util.h"

/* imaged's callers are the hook (root) and the broker (its own user): the
 * bus policy admits nobody else, and each method checks the caller again
 * (bus_check_agent_caller); sd-bus's own check (methods without
 * SD_BUS_VTABLE_UNPRIVILEGED) would refuse the broker, which is neither
 * imaged's user nor holds CAP_SYS_ADMIN. Every argument is still checked,
 * and a refusal changes no file. */

static int check_disk_path(ImageManager *m, sd_bus_error *error, const char *path) {
        const char *why = disk_path_invalid_reason(m->config, path);

        if (why)
                return bus_error_setf(error, VDESK_ERROR_PATH_NOT_ALLOWED, "Disk path '%s' %s (%s)",
                                      path, why, m->config->disk_dir);
        return 0;
}

static int check_template_path(ImageManager *m, sd_bus_error *error, const char *path) {
        const char *why = template_path_invalid_reason(m->config, path);

        if (why)
                return bus_error_setf(error, VDESK_ERROR_PATH_NOT_ALLOWED, "Template '%s' %s (%s)",
                                      path, why, m->config->template_dir);
        return 0;
}

/* An errno from disk.c as the error a caller can act on. */
static int disk_error(sd_bus_error *error, int r, const char *what, const char *path) {
        if (r == -EBADMSG)
                return bus_error_setf(error, VDESK_ERROR_BAD_IMAGE, "%s: '%s' is not a disk image qemu can use",
                                      what, path);
        return bus_error_setf(error, SD_BUS_ERROR_FAILED, "%s '%s': %s", what, path, strerror(-r));
}

/* A disk format a caller names (field: the argument's name). */
static int check_format(sd_bus_error *error, const char *field, const char *format, DiskFormat *ret) {
        DiskFormat f = disk_format_from_string(format);

        if (f < 0)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid %s: '%s' is neither qcow2 nor raw",
                                      field, format);
        *ret = f;
        return 0;
}

/* EnsureDisk's and ReplaceDisk's arguments: a desktop, its disk, the
 * template version the disk is an overlay of and that version's format, as
 * vdesk recorded it (a template's own first bytes are its guest's). */
static int read_disk_args(ImageManager *m, sd_bus_message *msg, const char **desktop, const char **path,
                          const char **template, DiskFormat *format, sd_bus_error *error) {
        const char *fmt;
        int r;

        r = sd_bus_message_read(msg, "ssss", desktop, path, template, &fmt);
        if (r < 0)
                return r;
        r = bus_error_check_name(error, "desktop", *desktop);
        if (r >= 0)
                r = check_disk_path(m, error, *path);
        if (r >= 0)
                r = check_template_path(m, error, *template);
        if (r >= 0)
                r = check_format(error, "template_format", fmt, format);
        return r;
}

static void log_disk_made(sd_bus_message *msg, const char *desktop, const char *path, const char *template,
                          DiskFormat format, bool replaced) {
        uid_t uid = (uid_t) -1;

        (void) bus_sender_uid(msg, &uid);
        log_event(LOG_INFO, MID_DISK_CREATED,
                  "VDESK_DESKTOP=%s", desktop,
                  "VDESK_DISK=%s", path,
                  "VDESK_TEMPLATE=%s", template,
                  "VDESK_TEMPLATE_FORMAT=%s", disk_format_to_string(format),
                  "VDESK_ACTOR_UID=%u", (unsigned) uid,
                  "MESSAGE=Disk %s of desktop %s %s template %s (%s)", path, desktop,
                  replaced ? "replaced by a new one on" : "created on", template, disk_format_to_string(format));
}

static int method_ensure_disk(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ImageManager *m = userdata;
        const char *desktop, *path, *template;
        DiskFormat format = _DISK_FORMAT_INVALID;
        bool created = false;
        int r;

        r = bus_check_agent_caller(msg, error, "use vdesk's disks");
        if (r < 0)
                return r;

        r = read_disk_args(m, msg, &desktop, &path, &template, &format, error);
        if (r < 0)
                return r;
        r = disk_ensure_overlay(m->config, path, template, format, &created);
        if (r == -EEXIST)
                return bus_error_setf(error, VDESK_ERROR_BACKING_MISMATCH,
                                      "Disk '%s' exists and is not an overlay of '%s' (%s); left as it is", path,
                                      template, disk_format_to_string(format));
        if (r < 0)
                return disk_error(error, r, "Cannot make disk", path);
        if (created)
                log_disk_made(msg, desktop, path, template, format, false);
        return sd_bus_reply_method_return(msg, "b", created);
}

static int method_replace_disk(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ImageManager *m = userdata;
        const char *desktop, *path, *template;
        DiskFormat format = _DISK_FORMAT_INVALID;
        int r;

        r = bus_check_agent_caller(msg, error, "use vdesk's disks");
        if (r < 0)
                return r;

        r = read_disk_args(m, msg, &desktop, &path, &template, &format, error);
        if (r < 0)
                return r;
        r = disk_replace_overlay(m->config, path, template, format);
        if (r < 0)
                return disk_error(error, r, "Cannot make disk", path);
        log_disk_made(msg, desktop, path, template, format, true);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_delete_disk(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ImageManager *m = userdata;
        const char *desktop, *path;
        uid_t uid = (uid_t) -1;
        int r;

        r = bus_check_agent_caller(msg, error, "use vdesk's disks");
        if (r < 0)
                return r;

        r = sd_bus_message_read(msg, "ss", &desktop, &path);
        if (r < 0)
                return r;
        r = bus_error_check_name(error, "desktop", desktop);
        if (r >= 0)
                r = check_disk_path(m, error, path);
        if (r < 0)
                return r;
        r = disk_delete(m->config, path);
        if (r == -ENOENT)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_DISK, "No disk '%s'", path);
        if (r < 0)
                return disk_error(error, r, "Cannot delete", path);

        (void) bus_sender_uid(msg, &uid);
        log_event(LOG_INFO, MID_DISK_DELETED,
                  "VDESK_DESKTOP=%s", desktop,
                  "VDESK_DISK=%s", path,
                  "VDESK_ACTOR_UID=%u", (unsigned) uid,
                  "MESSAGE=Disk %s of desktop %s deleted", path, desktop);
        return sd_bus_reply_method_return(msg, NULL);
}

/* ---- templates ----------------------------------------------------------- */

/* A template's name and the format of a file to make for it. */
static int check_template_format(sd_bus_error *error, const char *template, const char *format, DiskFormat *ret) {
        int r;

        r = bus_error_check_name(error, "template", template);
        if (r < 0)
                return r;
        return check_format(error, "format", format, ret);
}

static int method_create_template_disk(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ImageManager *m = userdata;
        _cleanup_(freep) char *path = NULL;
        const char *template, *format;
        DiskFormat fmt = _DISK_FORMAT_INVALID;
        uint64_t size;
        int r;

        r = bus_check_agent_caller(msg, error, "use vdesk's disks");
        if (r < 0)
                return r;

        r = sd_bus_message_read(msg, "sst", &template, &format, &size);
        if (r < 0)
                return r;
        r = check_template_format(error, template, format, &fmt);
        if (r < 0)
                return r;
        if (size == 0 || size % 512 != 0)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                      "Invalid size: %" PRIu64 " is not a positive multiple of 512 bytes", size);
        r = template_disk_create(m->config, template, fmt, size, &path);
        if (r == -EFBIG)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                      "Invalid size: %" PRIu64 " bytes is more than a %s file can hold here", size, format);
        if (r == -EEXIST)
                return bus_error_setf(error, VDESK_ERROR_TEMPLATE_EXISTS,
                                      "Template %s has files in %s already", template, m->config->template_dir);
        if (r < 0)
                return disk_error(error, r, "Cannot make the disk of template", template);
        log_info("Disk %s of template %s created (%s, %" PRIu64 " bytes)", path, template, format, size);
        return sd_bus_reply_method_return(msg, "s", path);
}

static int method_begin_template_edit(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ImageManager *m = userdata;
        _cleanup_(freep) char *path = NULL;
        const char *template, *base, *format;
        DiskFormat fmt = _DISK_FORMAT_INVALID;
        bool created;
        int r;

        r = bus_check_agent_caller(msg, error, "use vdesk's disks");
        if (r < 0)
                return r;

        r = sd_bus_message_read(msg, "sss", &template, &base, &format);
        if (r < 0)
                return r;
        r = bus_error_check_name(error, "template", template);
        if (r >= 0)
                r = check_template_path(m, error, base);
        if (r >= 0)
                r = check_format(error, "base_format", format, &fmt);
        if (r < 0)
                return r;
        r = template_edit_begin(m->config, template, base, fmt, &path, &created);
        if (r == -EEXIST)
                return bus_error_setf(error, VDESK_ERROR_BACKING_MISMATCH,
                                      "Template %s has an edit overlay on another version; left as it is", template);
        if (r < 0)
                return disk_error(error, r, "Cannot make the edit overlay of template", template);
        if (created)
                log_info("Edit overlay %s of template %s created on %s", path, template, base);
        return sd_bus_reply_method_return(msg, "s", path);
}

/* The one time a template's format is read from its file: an admin's file
 * being registered, which no desktop or edit has written to yet. imaged
 * does it, since the template directory is its own (the broker may not
 * enter it). */
static int method_inspect_template(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ImageManager *m = userdata;
        _cleanup_(freep) char *backing = NULL;
        const char *path, *why;
        DiskFormat fmt;
        int r;

        r = bus_check_agent_caller(msg, error, "use vdesk's disks");
        if (r < 0)
                return r;

        r = sd_bus_message_read(msg, "s", &path);
        if (r < 0)
                return r;
        why = template_path_invalid_reason(m->config, path);
        if (why)
                return bus_error_setf(error, VDESK_ERROR_PATH_NOT_ALLOWED, "Invalid path: '%s' %s (%s)",
                                      path, why, m->config->template_dir);
        r = disk_probe_format(path, &fmt);
        if (r < 0)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid path: cannot read '%s': %s",
                                      path, strerror(-r));
        if (fmt == DISK_FORMAT_QCOW2) {
                r = qcow2_read_backing(path, &backing, NULL);
                if (r == -EXDEV)
                        return bus_error_setf(error, VDESK_ERROR_BAD_IMAGE,
                                              "Invalid path: '%s' keeps its data in another file (a qcow2 external "
                                              "data file); a template must be whole by itself (qemu-img convert it)",
                                              path);
                if (r < 0)
                        return bus_error_setf(error, VDESK_ERROR_BAD_IMAGE,
                                              "Invalid path: '%s' is not a disk image qemu can use", path);
                if (backing)
                        return bus_error_setf(error, VDESK_ERROR_BAD_IMAGE,
                                              "Invalid path: '%s' is a qcow2 overlay of '%s'; a template must be "
                                              "whole by itself (qemu-img convert it)", path, backing);
        }
        return sd_bus_reply_method_return(msg, "s", disk_format_to_string(fmt));
}

/* A commit in flight. A caller that asks for the same one meanwhile (the
 * broker, restarted, resuming it) is answered with the first. */
typedef struct CommitJob {
        ImageManager *manager;
        char *template;
        unsigned version;
        sd_bus_message **msgs;
        size_t n_msgs;
        TemplateCommit tc;
        struct CommitJob *next;
} CommitJob;

static void commit_job_free(CommitJob *j) {
        CommitJob **p;

        for (p = &j->manager->commits; *p && *p != j; p = &(*p)->next)
                ;
        if (*p)
                *p = j->next;
        for (size_t i = 0; i < j->n_msgs; i++)
                sd_bus_message_unref(j->msgs[i]);
        free(j->msgs);
        free(j->template);
        template_commit_done(&j->tc);
        free(j);
}

static int commit_job_add_caller(CommitJob *j, sd_bus_message *msg) {
        sd_bus_message **l = reallocarray(j->msgs, j->n_msgs + 1, sizeof *l);

        if (!l)
                return -ENOMEM;
        j->msgs = l;
        j->msgs[j->n_msgs++] = sd_bus_message_ref(msg);
        return 0;
}

static void commit_done(SpawnResult *res, int error, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        CommitJob *j = userdata;
        int r = error;

        if (r >= 0 && res->exit_status != 0) {
                char *nl = strchr(res->err, '\n');

                if (nl)
                        *nl = 0;
                (void) bus_error_setf(&e, SD_BUS_ERROR_FAILED, "qemu-img could not flatten %s: %s", j->tc.edit,
                                      res->err);
        } else if (r < 0)
                (void) bus_error_setf(&e, SD_BUS_ERROR_FAILED, "Cannot flatten %s: %s", j->tc.edit, strerror(-r));
        else {
                r = template_commit_finish(&j->tc);
                if (r < 0)
                        (void) disk_error(&e, r, "Cannot put the new version in place:", j->tc.path);
        }

        if (sd_bus_error_is_set(&e)) {
                template_commit_abort(&j->tc);
                log_warning("%s", e.message);
        } else
                log_info("Edit %s flattened into %s", j->tc.edit, j->tc.path);
        for (size_t i = 0; i < j->n_msgs; i++)
                if (sd_bus_error_is_set(&e))
                        (void) sd_bus_reply_method_error(j->msgs[i], &e);
                else
                        (void) sd_bus_reply_method_return(j->msgs[i], "s", j->tc.path);
        commit_job_free(j);
}

static int method_commit_template_edit(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ImageManager *m = userdata;
        const char *template, *format;
        CommitJob *j;
        DiskFormat fmt = _DISK_FORMAT_INVALID;
        uint32_t version;
        int r;

        r = bus_check_agent_caller(msg, error, "use vdesk's disks");
        if (r < 0)
                return r;

        r = sd_bus_message_read(msg, "sus", &template, &version, &format);
        if (r < 0)
                return r;
        r = check_template_format(error, template, format, &fmt);
        if (r < 0)
                return r;
        if (version < 2)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid version: %u is below 2", version);

        for (j = m->commits; j; j = j->next)
                if (streq(j->template, template)) {
                        if (j->version != version)
                                return bus_error_setf(error, VDESK_ERROR_TEMPLATE_BUSY,
                                                      "Template %s is being committed as version %u", template,
                                                      j->version);
                        r = commit_job_add_caller(j, msg);
                        return r < 0 ? r : 1;
                }

        _cleanup_(template_commit_done) TemplateCommit tc = {};
        r = template_commit_prepare(m->config, template, version, fmt, &tc);
        if (r == -ENOENT)
                return bus_error_setf(error, VDESK_ERROR_NO_EDIT, "Template %s has no edit to commit", template);
        if (r == -EEXIST)
                return bus_error_setf(error, VDESK_ERROR_TEMPLATE_EXISTS,
                                      "Version %u of template %s exists already, and the edit is on it", version,
                                      template);
        if (r < 0)
                return disk_error(error, r, "Cannot commit template", template);
        if (r > 0) {
                log_info("Version %u of template %s was made already: %s", version, template, tc.path);
                return sd_bus_reply_method_return(msg, "s", tc.path);
        }

        j = new0(CommitJob, 1);
        if (!j)
                return -ENOMEM;
        j->manager = m;
        j->version = version;
        j->tc = tc;
        tc = (TemplateCommit) {};
        j->template = strdup(template);
        if (!j->template || commit_job_add_caller(j, msg) < 0) {
                commit_job_free(j);
                return -ENOMEM;
        }
        /* Flattening copies the whole template: off the loop, so that the
         * hook's calls for starting desktops go on meanwhile. */
        r = spawn_async(sd_bus_get_event(m->bus), j->tc.argv, TEMPLATE_COMMIT_TIMEOUT_USEC, commit_done, j);
        if (r < 0) {
                commit_job_free(j);
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot run qemu-img: %s", strerror(-r));
        }
        j->next = m->commits;
        m->commits = j;
        return 1;
}

static int method_discard_template_edit(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ImageManager *m = userdata;
        const char *template;
        int r;

        r = bus_check_agent_caller(msg, error, "use vdesk's disks");
        if (r < 0)
                return r;

        r = sd_bus_message_read(msg, "s", &template);
        if (r < 0)
                return r;
        r = bus_error_check_name(error, "template", template);
        if (r < 0)
                return r;
        r = template_edit_discard(m->config, template);
        if (r == -ENOENT)
                return bus_error_setf(error, VDESK_ERROR_NO_EDIT, "Template %s has no edit to discard", template);
        if (r < 0)
                return disk_error(error, r, "Cannot discard the edit of template", template);
        log_info("Edit overlay of template %s discarded", template);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_remove_template_file(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ImageManager *m = userdata;
        const char *template, *path;
        int r;

        r = bus_check_agent_caller(msg, error, "use vdesk's disks");
        if (r < 0)
                return r;

        r = sd_bus_message_read(msg, "ss", &template, &path);
        if (r < 0)
                return r;
        r = bus_error_check_name(error, "template", template);
        if (r < 0)
                return r;
        r = template_file_remove(m->config, template, path);
        if (r == -EPERM)
                return bus_error_setf(error, VDESK_ERROR_PATH_NOT_ALLOWED,
                                      "'%s' is not a version file vdesk made for template %s", path, template);
        if (r == -ENOENT)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_DISK, "No file '%s'", path);
        if (r < 0)
                return disk_error(error, r, "Cannot remove", path);
        log_info("File %s of template %s removed", path, template);
        return sd_bus_reply_method_return(msg, NULL);
}

static int property_get_dir(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        ImageManager *m = userdata;

        return sd_bus_message_append(reply, "s",
                                     streq(property, "TemplateDirectory") ? m->config->template_dir
                                                                          : m->config->disk_dir);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("TemplateDirectory", "s", property_get_dir, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DiskDirectory", "s", property_get_dir, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("EnsureDisk",
                                SD_BUS_ARGS("s", desktop, "s", path, "s", template, "s", template_format),
                                SD_BUS_RESULT("b", created),
                                method_ensure_disk, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ReplaceDisk",
                                SD_BUS_ARGS("s", desktop, "s", path, "s", template, "s", template_format),
                                SD_BUS_NO_RESULT,
                                method_replace_disk, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteDisk",
                                SD_BUS_ARGS("s", desktop, "s", path),
                                SD_BUS_NO_RESULT,
                                method_delete_disk, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateTemplateDisk",
                                SD_BUS_ARGS("s", template, "s", format, "t", size),
                                SD_BUS_RESULT("s", path),
                                method_create_template_disk, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("InspectTemplate",
                                SD_BUS_ARGS("s", path),
                                SD_BUS_RESULT("s", format),
                                method_inspect_template, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("BeginTemplateEdit",
                                SD_BUS_ARGS("s", template, "s", base, "s", base_format),
                                SD_BUS_RESULT("s", path),
                                method_begin_template_edit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CommitTemplateEdit",
                                SD_BUS_ARGS("s", template, "u", version, "s", format),
                                SD_BUS_RESULT("s", path),
                                method_commit_template_edit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DiscardTemplateEdit",
                                SD_BUS_ARGS("s", template),
                                SD_BUS_NO_RESULT,
                                method_discard_template_edit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveTemplateFile",
                                SD_BUS_ARGS("s", template, "s", path),
                                SD_BUS_NO_RESULT,
                                method_remove_template_file, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int image_manager_add_bus_objects(ImageManager *m) {
        return sd_bus_add_object_vtable(m->bus, NULL, IMAGED_OBJECT_PATH, IMAGED_INTERFACE, manager_vtable, m);
}
