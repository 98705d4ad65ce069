/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "macro.h"
#include "process.h"

extern char **environ;

#define CAPTURE_MAX (1u << 20)

static SpawnDryRunFunc dry_run_func;
static void *dry_run_userdata;

void spawn_set_dry_run(SpawnDryRunFunc func, void *userdata) {
        dry_run_func = func;
        dry_run_userdata = userdata;
}

void spawn_result_done(SpawnResult *r) {
        free(r->out);
        free(r->err);
        *r = (SpawnResult) {};
}

typedef struct Capture {
        int fd;
        char *buf;
        size_t n;
} Capture;

static int capture_read(Capture *c) {
        char tmp[16384];
        ssize_t k;

        k = read(c->fd, tmp, sizeof tmp);
        if (k < 0)
                return errno == EINTR || errno == EAGAIN ? 1 : -errno;
        if (k == 0)
                return 0;
        if (c->n < CAPTURE_MAX) {
                size_t take = MIN((size_t) k, CAPTURE_MAX - c->n);
                char *t = realloc(c->buf, c->n + take + 1);
                if (!t)
                        return -ENOMEM;
                c->buf = t;
                memcpy(c->buf + c->n, tmp, take);
                c->n += take;
                c->buf[c->n] = 0;
        }
        return 1;
}

int spawn_run(char *const argv[], uint64_t timeout_usec, SpawnResult *ret) {
        _cleanup_(closep) int out_r = -1, out_w = -1, err_r = -1, err_w = -1;
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        Capture cap[2] = {};
        unsigned long long deadline;
        sigset_t none;
        pid_t pid;
        int pipefd[2], status, r;

        if (!argv || !argv[0])
                return -EINVAL;
        if (dry_run_func)
                return dry_run_func(argv, ret, dry_run_userdata);

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        out_r = pipefd[0], out_w = pipefd[1];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        err_r = pipefd[0], err_w = pipefd[1];

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, out_w, STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, err_w, STDERR_FILENO);

        /* Daemons block the signals they handle through sd-event; the child
         * must not inherit that mask. */
        posix_spawnattr_init(&attr);
        sigemptyset(&none);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        {
                sigset_t all;
                sigfillset(&all);
                posix_spawnattr_setsigdefault(&attr, &all);
        }

        r = strchr(argv[0], '/') ? posix_spawn(&pid, argv[0], &fa, &attr, argv, environ)
                                 : posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        if (r != 0)
                return -r;
        /* The child holds the write ends now; ours must go for EOF to come. */
        close(TAKE_FD(out_w));
        close(TAKE_FD(err_w));
        r = 0;

        cap[0].fd = out_r;
        cap[1].fd = err_r;
        deadline = now_usec() + timeout_usec;

        while (cap[0].fd >= 0 || cap[1].fd >= 0) {
                struct pollfd p[2];
                unsigned long long now = now_usec();
                int n = 0, k;

                if (now >= deadline) {
                        r = -ETIMEDOUT;
                        break;
                }
                for (size_t i = 0; i < 2; i++)
                        p[i] = (struct pollfd) { .fd = cap[i].fd, .events = POLLIN };
                k = poll(p, 2, (int) MIN((deadline - now) / 1000 + 1, 60000ULL));
                if (k < 0 && errno != EINTR) {
                        r = -errno;
                        break;
                }
                for (size_t i = 0; i < 2 && k > 0; i++) {
                        if (cap[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        n = capture_read(&cap[i]);
                        if (n < 0) {
                                r = n;
                                break;
                        }
                        if (n == 0)
                                cap[i].fd = -1;
                }
                if (r < 0)
                        break;
        }

        if (r < 0)
                kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        r = r ?: -errno;
                        break;
                }
        if (r < 0) {
                free(cap[0].buf);
                free(cap[1].buf);
                return r;
        }

        *ret = (SpawnResult) {
                .exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
                .out = cap[0].buf ?: strdup(""),
                .err = cap[1].buf ?: strdup(""),
        };
        if (!ret->out || !ret->err) {
                spawn_result_done(ret);
                return -ENOMEM;
        }
        return 0;
}
