/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "bus-error.h"
#include "daemon-util.h"
#include "iso.h"
#include "log.h"
#include "macro.h"
#include "util.h"

#define RESCAN_DELAY_USEC (200 * USEC_PER_MSEC)        /* a burst of events, one rescan */

/* ISO 9660 and ECMA-167 (UDF) both begin their volume recognition
 * sequence at sector 16 (2048-byte sectors): a type byte, then the
 * standard identifier. */
const char *iso_probe_format(int fd) {
        uint8_t d[2048 * 3];
        ssize_t k = pread(fd, d, sizeof d, 16 * 2048);

        if (k < 2048)
                return NULL;
        if (memcmp(d + 1, "CD001", 5) == 0)
                return "iso9660";
        if (memcmp(d + 1, "BEA01", 5) == 0 && k == (ssize_t) sizeof d &&
            (memcmp(d + 2048 + 1, "NSR02", 5) == 0 || memcmp(d + 2048 + 1, "NSR03", 5) == 0))
                return "udf";
        return NULL;
}

const char *iso_name_invalid_reason(const char *name) {
        size_t l;

        if (isempty(name))
                return "is empty";
        l = strlen(name);
        if (l > 255)
                return "is longer than 255 bytes";
        if (strpbrk(name, "/\\") || string_has_control(name))
                return "holds '/', '\\' or control characters";
        if (name[0] == '.')
                return "is a hidden file name";
        if (!utf8_is_valid(name))
                return "is not valid UTF-8";
        return NULL;
}

typedef struct IsoFile {
        char *name;
        const char *format;
        uint64_t size;
        bool seen;              /* found in the database */
} IsoFile;

/* The ISO files in dir; other files are left out. */
static int scan_dir(const char *dir, IsoFile **ret, size_t *ret_n) {
        _cleanup_(closep) int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        IsoFile *files = NULL;
        size_t n = 0;
        struct dirent *de;
        DIR *d;

        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (!d)
                return -errno;
        TAKE_FD(dfd);
        while ((de = readdir(d))) {
                _cleanup_(closep) int fd = -1;
                struct stat st;
                const char *fmt;
                IsoFile *t;

                if (iso_name_invalid_reason(de->d_name))
                        continue;
                fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
                if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                fmt = iso_probe_format(fd);
                if (!fmt) {
                        log_debug("%s/%s is no ISO image, left out of the catalog", dir, de->d_name);
                        continue;
                }
                t = realloc(files, (n + 1) * sizeof *files);
                if (!t)
                        goto oom;
                files = t;
                files[n] = (IsoFile) { .name = strdup(de->d_name), .format = fmt, .size = (uint64_t) st.st_size };
                if (!files[n].name)
                        goto oom;
                n++;
        }
        closedir(d);
        *ret = files;
        *ret_n = n;
        return 0;
oom:
        closedir(d);
        for (size_t i = 0; i < n; i++)
                free(files[i].name);
        free(files);
        return -ENOMEM;
}

static void iso_files_free(IsoFile *f, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(f[i].name);
        free(f);
}

static int iso_row(char *const *c, unsigned n, void *userdata) {
        Iso *i = db_rows_push(userdata);

        if (!i)
                return -ENOMEM;
        snprintf(i->name, sizeof i->name, "%s", c[0]);
        snprintf(i->format, sizeof i->format, "%s", c[1]);
        i->size = strtoull(c[2], NULL, 10);
        i->created_usec = strtoull(c[3], NULL, 10) * USEC_PER_SEC;
        i->registered = streq(c[4], "1");
        return 0;
}

static int list_rows(Manager *m, bool all, Iso **ret, size_t *ret_n) {
        DbRows rows = { .size = sizeof(Iso) };
        int r;

        r = db_exec(m->db, all ? "SELECT name, format, size, UNIX_TIMESTAMP(created_at), registered FROM isos ORDER BY name"
                               : "SELECT name, format, size, UNIX_TIMESTAMP(created_at), registered FROM isos "
                                 "WHERE registered ORDER BY name",
                    NULL, 0, iso_row, &rows, NULL);
        if (r < 0) {
                free(rows.items);
                return r;
        }
        *ret = rows.items;
        *ret_n = rows.n;
        return 0;
}

int iso_list(Manager *m, Iso **ret, size_t *ret_n) {
        return list_rows(m, false, ret, ret_n);
}

int iso_rescan(Manager *m, unsigned *ret_added, unsigned *ret_removed) {
        IsoFile *files = NULL;
        Iso *rows = NULL;
        size_t n_files = 0, n_rows = 0;
        unsigned added = 0, removed = 0;
        int r;

        r = scan_dir(m->config.iso_dir, &files, &n_files);
        if (r < 0)
                return r;
        r = db_begin(m->db);
        if (r >= 0)
                r = list_rows(m, true, &rows, &n_rows);
        for (size_t i = 0; r >= 0 && i < n_rows; i++) {
                IsoFile *f = NULL;

                for (size_t j = 0; j < n_files && !f; j++)
                        if (streq(files[j].name, rows[i].name))
                                f = &files[j];
                if (f) {
                        f->seen = true;
                        if (f->size != rows[i].size || !streq(f->format, rows[i].format))
                                r = db_exec(m->db, "UPDATE isos SET size = ?, format = ? WHERE name = ?",
                                            (DbValue[]) { DBV_UINT(f->size), DBV_STR(f->format), DBV_STR(f->name) },
                                            3, NULL, NULL, NULL);
                        continue;
                }
                r = db_exec(m->db, "DELETE FROM isos WHERE name = ?", (DbValue[]) { DBV_STR(rows[i].name) }, 1,
                            NULL, NULL, NULL);
                if (r >= 0) {
                        removed++;
                        log_event(LOG_INFO, MID_ISO_REMOVED,
                                  "VDESK_ISO=%s", rows[i].name,
                                  "MESSAGE=ISO %s left the catalog: it is no longer in %s", rows[i].name,
                                  m->config.iso_dir);
                }
        }
        for (size_t j = 0; r >= 0 && j < n_files; j++) {
                if (files[j].seen)
                        continue;
                r = db_exec(m->db, "INSERT INTO isos (name, format, size) VALUES (?, ?, ?)",
                            (DbValue[]) { DBV_STR(files[j].name), DBV_STR(files[j].format), DBV_UINT(files[j].size) },
                            3, NULL, NULL, NULL);
                if (r >= 0) {
                        added++;
                        log_event(LOG_INFO, MID_ISO_ADDED,
                                  "VDESK_ISO=%s", files[j].name,
                                  "VDESK_ISO_FORMAT=%s", files[j].format,
                                  "VDESK_ISO_SIZE=%" PRIu64, files[j].size,
                                  "MESSAGE=ISO %s catalogued (%s, %" PRIu64 " bytes)", files[j].name,
                                  files[j].format, files[j].size);
                }
        }
        if (r >= 0)
                r = db_commit(m->db);
        if (r < 0)
                db_rollback(m->db);
        free(rows);
        iso_files_free(files, n_files);
        if (r < 0)
                return r;
        if (ret_added)
                *ret_added = added;
        if (ret_removed)
                *ret_removed = removed;
        return 0;
}

static int on_rescan_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        int r;

        r = iso_rescan(m, NULL, NULL);
        if (r < 0)
                log_warning("Cannot rescan %s: %s", m->config.iso_dir, r == -EIO ? db_error(m->db) : strerror(-r));
        return 0;
}

static int on_iso_dir_changed(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        Manager *m = userdata;

        /* Files being copied in change many times: rescan once they rest. */
        if (sd_event_source_set_time_relative(m->iso_rescan, RESCAN_DELAY_USEC) >= 0)
                (void) sd_event_source_set_enabled(m->iso_rescan, SD_EVENT_ONESHOT);
        return 0;
}

int iso_catalog_start(Manager *m) {
        int r;

        daemon_require_dir("[Images] IsoDir", m->config.iso_dir, 0755, false);
        r = sd_event_add_time_relative(m->event, &m->iso_rescan, CLOCK_MONOTONIC, 0, 0, on_rescan_timer, m);
        if (r >= 0)
                r = sd_event_add_inotify(m->event, &m->iso_watch, m->config.iso_dir,
                                         IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE |
                                         IN_ONLYDIR, on_iso_dir_changed, m);
        if (r < 0)
                return log_error_errno(r, "Cannot watch %s: %m", m->config.iso_dir);
        return 0;
}

static int check_iso_name(sd_bus_error *error, const char *field, const char *name) {
        const char *why = iso_name_invalid_reason(name);

        if (why)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid %s: '%s' %s", field, name, why);
        return 0;
}

int iso_register(Manager *m, const char *name, uid_t actor, sd_bus_error *error) {
        _cleanup_(closep) int dfd = -1, fd = -1;
        struct stat st;
        const char *fmt;
        int r;

        r = check_iso_name(error, "name", name);
        if (r < 0)
                return r;
        dfd = open(m->config.iso_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_ISO, "Invalid name: no file '%s' in %s", name,
                                      m->config.iso_dir);
        fmt = iso_probe_format(fd);
        if (!fmt)
                return bus_error_setf(error, VDESK_ERROR_NOT_AN_ISO,
                                      "Invalid name: %s/%s is no ISO 9660 or UDF image", m->config.iso_dir, name);
        r = db_exec(m->db,
                    "INSERT INTO isos (name, format, size) VALUES (?, ?, ?) "
                    "ON DUPLICATE KEY UPDATE registered = TRUE, format = VALUES(format), size = VALUES(size)",
                    (DbValue[]) { DBV_STR(name), DBV_STR(fmt), DBV_UINT(st.st_size) }, 3, NULL, NULL, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        log_event(LOG_INFO, MID_ISO_ADDED,
                  "VDESK_ISO=%s", name,
                  "VDESK_ISO_FORMAT=%s", fmt,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=ISO %s registered (%s, %" PRIu64 " bytes)", name, fmt, (uint64_t) st.st_size);
        return 0;
}

int iso_unregister(Manager *m, const char *name, uid_t actor, sd_bus_error *error) {
        uint64_t affected = 0;
        int r;

        r = check_iso_name(error, "name", name);
        if (r < 0)
                return r;
        r = db_exec(m->db, "UPDATE isos SET registered = FALSE WHERE name = ? AND registered",
                    (DbValue[]) { DBV_STR(name) }, 1, NULL, NULL, &affected);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (affected == 0)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_ISO, "Invalid name: no registered ISO '%s'", name);
        log_event(LOG_INFO, MID_ISO_REMOVED,
                  "VDESK_ISO=%s", name,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=ISO %s unregistered (the file stays in %s)", name, m->config.iso_dir);
        return 0;
}

int iso_lookup(Manager *m, const char *name, char **ret_path, uint64_t *ret_id, sd_bus_error *error) {
        uint64_t id = 0;
        int r;

        r = check_iso_name(error, "iso", name);
        if (r < 0)
                return r;
        r = db_exec(m->db, "SELECT id FROM isos WHERE name = ? AND registered", (DbValue[]) { DBV_STR(name) }, 1,
                    db_row_u64, &id, NULL);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (id == 0)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_ISO, "Invalid iso: no registered ISO '%s'", name);
        if (asprintf(ret_path, "%s/%s", m->config.iso_dir, name) < 0)
                return -ENOMEM;
        if (access(*ret_path, R_OK) < 0) {
                free(*ret_path);
                *ret_path = NULL;
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_ISO, "Invalid iso: %s is gone from %s", name,
                                      m->config.iso_dir);
        }
        *ret_id = id;
        return 0;
}
