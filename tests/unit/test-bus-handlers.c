/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* imaged's D-Bus handlers over a socketpair peer connection: no daemon, no
 * root. Checks the named errors and that a refused call changes nothing. */

#include <dirent.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "bus-error.h"
#include "disk.h"
#include "disk-dbus.h"
#include "manager.h"
#include "macro.h"
#include "tests.h"

static volatile int done;

static void *serve(void *p) {
        sd_bus *server = p;

        while (!done) {
                int r = sd_bus_process(server, NULL);
                if (r < 0)
                        break;
                if (r == 0)
                        (void) sd_bus_wait(server, 50 * 1000);
        }
        return NULL;
}

static size_t count_files(const char *dir) {
        size_t n = 0;
        DIR *d = opendir(dir);
        struct dirent *de;

        while (d && (de = readdir(d)))
                if (de->d_name[0] != '.' || (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")))
                        n++;
        if (d)
                closedir(d);
        return n;
}

static void expect_error(sd_bus *client, const char *name, const char *message_part, const char *method,
                         const char *types, ...) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        va_list ap;
        int r;

        sd_bus_message_new_method_call(client, &m, NULL, IMAGED_OBJECT_PATH, IMAGED_INTERFACE, method);
        va_start(ap, types);
        sd_bus_message_appendv(m, types, ap);
        va_end(ap);
        r = sd_bus_call(client, m, 0, &error, &reply);
        CHECK(r < 0);
        CHECK_STR(error.name, name);
        if (!error.message || !strstr(error.message, message_part)) {
                fprintf(stderr, "  message was: %s\n", error.message ? error.message : "(none)");
                CHECK(false);
        }
        sd_bus_error_free(&error);
        sd_bus_message_unref(m);
        sd_bus_message_unref(reply);
}

int main(void) {
        char dir[] = "/tmp/vdesk-test-handlers.XXXXXX";
        char tdir[256], ddir[256], tmpl[300], disk[300];
        _cleanup_(config_done) VdeskConfig c = {};
        sd_bus *server = NULL, *client = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        sd_id128_t id;
        pthread_t t;
        int fds[2], created = -1, fd;
        ImageManager m = { .config = &c };

        CHECK(mkdtemp(dir) != NULL);
        snprintf(tdir, sizeof tdir, "%s/templates", dir);
        snprintf(ddir, sizeof ddir, "%s/disks", dir);
        mkdir(tdir, 0755);
        mkdir(ddir, 0755);
        snprintf(tmpl, sizeof tmpl, "%s/demo.img", tdir);
        fd = open(tmpl, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        close(fd);
        snprintf(disk, sizeof disk, "%s/alice.qcow2", ddir);
        config_defaults(&c);
        free_and_strdup(&c.template_dir, tdir);
        free_and_strdup(&c.disk_dir, ddir);
        bus_error_register();

        CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        sd_id128_randomize(&id);
        CHECK_INT(sd_bus_new(&server), 0);
        sd_bus_set_fd(server, fds[0], fds[0]);
        sd_bus_set_server(server, 1, id);
        /* a peer connection has no bus daemon to vouch for capabilities */
        sd_bus_set_trusted(server, 1);
        m.bus = server;
        CHECK(image_manager_add_bus_objects(&m) >= 0);
        CHECK(sd_bus_start(server) >= 0);
        CHECK_INT(sd_bus_new(&client), 0);
        sd_bus_set_fd(client, fds[1], fds[1]);
        pthread_create(&t, NULL, serve, server);
        CHECK(sd_bus_start(client) >= 0);

        /* bad input: a named error, nothing created */
        expect_error(client, SD_BUS_ERROR_INVALID_ARGS, "Invalid desktop: is empty", "EnsureDisk", "ssss", "", disk, tmpl,
                     "raw");
        expect_error(client, SD_BUS_ERROR_INVALID_ARGS, "Invalid desktop: may hold only", "EnsureDisk", "ssss",
                     "a;reboot", disk, tmpl, "raw");
        /* Invalid UTF-8 never reaches a handler: D-Bus strings must be
         * UTF-8, and sd-bus refuses to build such a message at all. */
        {
                sd_bus_message *bad = NULL;
                sd_bus_message_new_method_call(client, &bad, NULL, IMAGED_OBJECT_PATH, IMAGED_INTERFACE, "EnsureDisk");
                CHECK_INT(sd_bus_message_append(bad, "ssss", "d\xc3", disk, tmpl, "raw"), -EINVAL);
                sd_bus_message_unref(bad);
        }
        expect_error(client, VDESK_ERROR_PATH_NOT_ALLOWED, "is not inside the disk directory", "EnsureDisk", "ssss",
                     "alice", "/etc/alice.qcow2", tmpl, "raw");
        expect_error(client, VDESK_ERROR_PATH_NOT_ALLOWED, "is not inside the template directory", "EnsureDisk",
                     "ssss", "alice", disk, "/etc/passwd", "raw");
        {
                char missing[320];
                snprintf(missing, sizeof missing, "%s/missing.img", tdir);
                expect_error(client, VDESK_ERROR_PATH_NOT_ALLOWED, "does not exist", "EnsureDisk", "ssss", "alice",
                             disk, missing, "raw");
        }
        /* the template's format is the caller's word, never read from the
         * file: one vdesk does not know is refused, and none is refused */
        expect_error(client, SD_BUS_ERROR_INVALID_ARGS, "Invalid template_format: 'vmdk' is neither qcow2 nor raw",
                     "EnsureDisk", "ssss", "alice", disk, tmpl, "vmdk");
        expect_error(client, SD_BUS_ERROR_INVALID_ARGS, "Invalid template_format: '' is neither qcow2 nor raw",
                     "EnsureDisk", "ssss", "alice", disk, tmpl, "");
        expect_error(client, SD_BUS_ERROR_INVALID_ARGS, "Invalid template_format: 'vmdk' is neither qcow2 nor raw",
                     "ReplaceDisk", "ssss", "alice", disk, tmpl, "vmdk");
        expect_error(client, SD_BUS_ERROR_INVALID_ARGS, "Invalid base_format: 'probe' is neither qcow2 nor raw",
                     "BeginTemplateEdit", "sss", "demo", tmpl, "probe");
        /* the signature without a format is not EnsureDisk's */
        expect_error(client, SD_BUS_ERROR_INVALID_ARGS, "", "EnsureDisk", "sss", "alice", disk, tmpl);
        CHECK_INT(count_files(ddir), 0);
        CHECK_INT(count_files(tdir), 1);

        /* a template registered: imaged reads its format, once; refusals
         * name the path */
        expect_error(client, VDESK_ERROR_PATH_NOT_ALLOWED, "Invalid path: '/etc/passwd' is not inside the template directory",
                     "InspectTemplate", "s", "/etc/passwd");
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *r2 = NULL;
                const char *fmt = NULL;

                CHECK(sd_bus_call_method(client, NULL, IMAGED_OBJECT_PATH, IMAGED_INTERFACE, "InspectTemplate",
                                         &error, &r2, "s", tmpl) >= 0);
                CHECK(r2 && sd_bus_message_read(r2, "s", &fmt) >= 0);
                CHECK_STR(fmt, "raw");
        }

        /* the happy path, then the same again */
        CHECK(sd_bus_call_method(client, NULL, IMAGED_OBJECT_PATH, IMAGED_INTERFACE, "EnsureDisk", &error, &reply,
                                 "ssss", "alice", disk, tmpl, "raw") >= 0);
        CHECK(sd_bus_message_read(reply, "b", &created) >= 0);
        CHECK_INT(created, 1);
        reply = sd_bus_message_unref(reply);
        CHECK(sd_bus_call_method(client, NULL, IMAGED_OBJECT_PATH, IMAGED_INTERFACE, "EnsureDisk", &error, &reply,
                                 "ssss", "alice", disk, tmpl, "raw") >= 0);
        CHECK(sd_bus_message_read(reply, "b", &created) >= 0);
        CHECK_INT(created, 0);
        reply = sd_bus_message_unref(reply);
        CHECK_INT(count_files(ddir), 1);

        expect_error(client, VDESK_ERROR_PATH_NOT_ALLOWED, "is not inside the disk directory", "DeleteDisk", "ss", "alice",
                     "/etc/passwd");
        CHECK(sd_bus_call_method(client, NULL, IMAGED_OBJECT_PATH, IMAGED_INTERFACE, "DeleteDisk", &error, NULL,
                                 "ss", "alice", disk) >= 0);
        expect_error(client, VDESK_ERROR_NO_SUCH_DISK, "No disk", "DeleteDisk", "ss", "alice", disk);
        CHECK_INT(count_files(ddir), 0);

        done = 1;
        pthread_join(t, NULL);
        sd_bus_flush_close_unref(client);
        sd_bus_flush_close_unref(server);
        unlink(tmpl);
        rmdir(tdir);
        rmdir(ddir);
        rmdir(dir);
        return test_summary();
}
