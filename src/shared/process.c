/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
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
                return errno == EINTR ? 1 : -errno;     /* -EAGAIN: nothing now */
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

/* Starts argv with stdin from /dev/null and stdout, stderr on the given
 * descriptors (-1: /dev/null). */
static int spawn_child(char *const argv[], int out_w, int err_w, pid_t *ret_pid) {
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, all;
        int r;

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        if (out_w >= 0)
                posix_spawn_file_actions_adddup2(&fa, out_w, STDOUT_FILENO);
        else
                posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        if (err_w >= 0)
                posix_spawn_file_actions_adddup2(&fa, err_w, STDERR_FILENO);
        else
                posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);

        /* Daemons block the signals they handle through sd-event; the child
         * must not inherit that mask. */
        posix_spawnattr_init(&attr);
        sigemptyset(&none);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        sigfillset(&all);
        posix_spawnattr_setsigdefault(&attr, &all);

        r = strchr(argv[0], '/') ? posix_spawn(ret_pid, argv[0], &fa, &attr, argv, environ)
                                 : posix_spawnp(ret_pid, argv[0], &fa, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        return -r;
}

/* Reads both captures until their write ends close, or until the deadline
 * (-ETIMEDOUT). */
static int capture_all(Capture cap[2], unsigned long long deadline) {
        while (cap[0].fd >= 0 || cap[1].fd >= 0) {
                struct pollfd p[2];
                unsigned long long now = now_usec();
                int k;

                if (now >= deadline)
                        return -ETIMEDOUT;
                for (size_t i = 0; i < 2; i++)
                        p[i] = (struct pollfd) { .fd = cap[i].fd, .events = POLLIN };
                k = poll(p, 2, (int) MIN((deadline - now) / 1000 + 1, 60000ULL));
                if (k < 0 && errno != EINTR)
                        return -errno;
                for (size_t i = 0; i < 2 && k > 0; i++) {
                        int n;

                        if (cap[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        n = capture_read(&cap[i]);
                        if (n < 0)
                                return n;
                        if (n == 0)
                                cap[i].fd = -1;
                }
        }
        return 0;
}

/* Waits for the child to end, killed first if capturing its output failed
 * (r < 0): no child is left behind. Returns r, or waitpid()'s error. */
static int reap_child(pid_t pid, int r, int *status) {
        if (r < 0)
                kill(pid, SIGKILL);
        while (waitpid(pid, status, 0) < 0)
                if (errno != EINTR) {
                        r = r ?: -errno;
                        break;
                }
        return r;
}

/* The exit status (128 + the signal that ended it) and the output
 * captured, whose buffers it takes. */
static int spawn_result_take(int status, Capture cap[2], SpawnResult *ret) {
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

int spawn_run(char *const argv[], uint64_t timeout_usec, SpawnResult *ret) {
        _cleanup_(closep) int out_r = -1, out_w = -1, err_r = -1, err_w = -1;
        Capture cap[2] = {};
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

        r = spawn_child(argv, out_w, err_w, &pid);
        if (r < 0)
                return r;
        /* The child holds the write ends now; ours must go for EOF to come. */
        close(TAKE_FD(out_w));
        close(TAKE_FD(err_w));

        cap[0].fd = out_r;
        cap[1].fd = err_r;
        r = capture_all(cap, now_usec() + timeout_usec);
        r = reap_child(pid, r, &status);
        if (r < 0) {
                free(cap[0].buf);
                free(cap[1].buf);
                return r;
        }
        return spawn_result_take(status, cap, ret);
}

/* ---- on an event loop ---------------------------------------------------- */

struct SpawnJob {
        sd_event_source *child, *io, *timer;
        Capture err;
        bool timed_out;
        SpawnDoneFunc done;
        void *userdata;
};

static void spawn_job_free(SpawnJob *j) {
        sd_event_source_disable_unref(j->child);
        sd_event_source_disable_unref(j->io);
        sd_event_source_disable_unref(j->timer);
        if (j->err.fd >= 0)
                close(j->err.fd);
        free(j->err.buf);
        free(j);
}

static int on_err_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        SpawnJob *j = userdata;
        int r = capture_read(&j->err);

        if (r == 0 || (r < 0 && r != -EAGAIN))  /* EOF, or nothing more to be had */
                j->io = sd_event_source_disable_unref(j->io);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        SpawnJob *j = userdata;

        j->timed_out = true;
        (void) sd_event_source_send_child_signal(j->child, SIGKILL, NULL, 0);
        return 0;
}

static int on_child_exited(sd_event_source *s, const siginfo_t *si, void *userdata) {
        SpawnJob *j = userdata;
        SpawnResult res = {};
        int error = 0;

        /* The child is gone: all it wrote is in the (non-blocking) pipe. */
        if (j->io)
                while (capture_read(&j->err) > 0)
                        ;
        if (j->timed_out)
                error = -ETIMEDOUT;
        else {
                res.exit_status = si->si_code == CLD_EXITED ? si->si_status : 128 + si->si_status;
                res.out = strdup("");
                res.err = j->err.buf ?: strdup("");
                j->err.buf = NULL;
                if (!res.out || !res.err)
                        error = -ENOMEM;
        }
        j->done(error < 0 ? NULL : &res, error, j->userdata);
        spawn_result_done(&res);
        spawn_job_free(j);
        return 0;
}

int spawn_async(sd_event *e, char *const argv[], uint64_t timeout_usec, SpawnDoneFunc done, void *userdata) {
        _cleanup_(closep) int err_w = -1;
        SpawnJob *j;
        sigset_t ss;
        pid_t pid;
        int pipefd[2], r;

        if (!argv || !argv[0] || !done)
                return -EINVAL;
        if (dry_run_func) {
                SpawnResult res = {};

                r = dry_run_func(argv, &res, dry_run_userdata);
                done(r < 0 ? NULL : &res, MIN(r, 0), userdata);
                spawn_result_done(&res);
                return 0;
        }

        /* sd-event learns of the exit through SIGCHLD, which must be
         * blocked for that (the child gets an empty mask). */
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return -errno;

        j = new0(SpawnJob, 1);
        if (!j)
                return -ENOMEM;
        j->err.fd = -1;
        j->done = done;
        j->userdata = userdata;
        if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0) {
                r = -errno;
                goto fail;
        }
        j->err.fd = pipefd[0];
        err_w = pipefd[1];
        r = sd_event_add_io(e, &j->io, j->err.fd, EPOLLIN, on_err_readable, j);
        if (r >= 0)
                r = sd_event_add_time_relative(e, &j->timer, CLOCK_MONOTONIC, timeout_usec, 0, on_timeout, j);
        if (r >= 0)
                r = spawn_child(argv, -1, err_w, &pid);
        if (r < 0)
                goto fail;
        r = sd_event_add_child(e, &j->child, pid, WEXITED, on_child_exited, j);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                goto fail;
        }
        return 0;

fail:
        spawn_job_free(j);
        return r;
}
