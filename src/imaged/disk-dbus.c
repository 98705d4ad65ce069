/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-error.h"
#include "bus-util.h"
#include "disk.h"
#include "imaged.h"
#include "log.h"
#include "util.h"

static int check_desktop(const char *desktop, sd_bus_error *error) {
        const char *why = name_invalid_reason(desktop);

        if (why)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid desktop: %s", why);
        return 0;
}

static int method_ensure_disk(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ImageManager *m = userdata;
        _cleanup_(freep) char *qemu_error = NULL;
        const char *desktop, *path, *template, *why;
        bool created = false;
        uid_t uid = (uid_t) -1;
        int r;

        r = sd_bus_message_read(msg, "sss", &desktop, &path, &template);
        if (r < 0)
                return r;
        r = check_desktop(desktop, error);
        if (r < 0)
                return r;
        if ((why = disk_path_invalid_reason(m->config, path)))
                return bus_error_setf(error, VDESK_ERROR_PATH_NOT_ALLOWED, "Disk path '%s' %s (%s)",
                                      path, why, m->config->disk_dir);
        if ((why = template_path_invalid_reason(m->config, template)))
                return bus_error_setf(error, VDESK_ERROR_PATH_NOT_ALLOWED, "Template '%s' %s (%s)",
                                      template, why, m->config->template_dir);

        r = disk_ensure_overlay(m->config, path, template, &created, &qemu_error);
        if (r == -EEXIST)
                return bus_error_setf(error, VDESK_ERROR_BACKING_MISMATCH,
                                      "Disk '%s' exists and is not an overlay of '%s'; left as it is", path, template);
        if (r == -EIO)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "qemu-img failed for '%s': %s", path,
                                      strempty(qemu_error));
        if (r < 0)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot make disk '%s': %s", path, strerror(-r));

        if (created) {
                (void) bus_sender_uid(msg, &uid);
                log_event(LOG_INFO, MID_DISK_CREATED,
                          "VDESK_DESKTOP=%s", desktop,
                          "VDESK_DISK=%s", path,
                          "VDESK_TEMPLATE=%s", template,
                          "VDESK_ACTOR_UID=%u", (unsigned) uid,
                          "MESSAGE=Disk %s of desktop %s created on template %s", path, desktop, template);
        }
        return sd_bus_reply_method_return(msg, "b", created);
}

static int method_delete_disk(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ImageManager *m = userdata;
        const char *desktop, *path, *why;
        uid_t uid = (uid_t) -1;
        int r;

        r = sd_bus_message_read(msg, "ss", &desktop, &path);
        if (r < 0)
                return r;
        r = check_desktop(desktop, error);
        if (r < 0)
                return r;
        if ((why = disk_path_invalid_reason(m->config, path)))
                return bus_error_setf(error, VDESK_ERROR_PATH_NOT_ALLOWED, "Disk path '%s' %s (%s)",
                                      path, why, m->config->disk_dir);
        r = disk_delete(m->config, path);
        if (r == -ENOENT)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_DISK, "No disk '%s'", path);
        if (r < 0)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot delete '%s': %s", path, strerror(-r));

        (void) bus_sender_uid(msg, &uid);
        log_event(LOG_INFO, MID_DISK_DELETED,
                  "VDESK_DESKTOP=%s", desktop,
                  "VDESK_DISK=%s", path,
                  "VDESK_ACTOR_UID=%u", (unsigned) uid,
                  "MESSAGE=Disk %s of desktop %s deleted", path, desktop);
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
                                SD_BUS_ARGS("s", desktop, "s", path, "s", template),
                                SD_BUS_RESULT("b", created),
                                method_ensure_disk, 0),
        SD_BUS_METHOD_WITH_ARGS("DeleteDisk",
                                SD_BUS_ARGS("s", desktop, "s", path),
                                SD_BUS_NO_RESULT,
                                method_delete_disk, 0),
        SD_BUS_VTABLE_END
};

int image_manager_add_bus_objects(ImageManager *m) {
        return sd_bus_add_object_vtable(m->bus, NULL, IMAGED_OBJECT_PATH, IMAGED_INTERFACE, manager_vtable, m);
}
