/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

/* Runs a program with posix_spawn and an argv array: never a shell. */

typedef struct SpawnResult {
        int exit_status;        /* exit code, or 128 + signal number */
        char *out;              /* captured stdout, NUL-terminated */
        char *err;              /* captured stderr, NUL-terminated */
} SpawnResult;

/* Called instead of running anything while set (tests capture the argv and
 * give the result they want to test against). */
typedef int (*SpawnDryRunFunc)(char *const argv[], SpawnResult *ret, void *userdata);

void spawn_set_dry_run(SpawnDryRunFunc func, void *userdata);

/* Runs argv[0] (looked up in $PATH when it has no '/'), stdin from /dev/null,
 * capturing up to 1 MiB of stdout and stderr each. After timeout_usec the
 * child is killed and -ETIMEDOUT returned. On success fills *ret (the caller
 * calls spawn_result_done()) whatever the exit status. */
int spawn_run(char *const argv[], uint64_t timeout_usec, SpawnResult *ret);

void spawn_result_done(SpawnResult *r);

typedef struct SpawnJob SpawnJob;

/* Called once when the program ended: with its result and error 0, or with
 * NULL and -ETIMEDOUT (killed after the timeout) or another errno. The
 * result is freed after the call. */
typedef void (*SpawnDoneFunc)(SpawnResult *result, int error, void *userdata);

/* Runs argv like spawn_run() but on the event loop e: returns at once and
 * calls done later (stdout goes to /dev/null; stderr is captured). Blocks
 * SIGCHLD in the calling thread, as sd-event needs. */
int spawn_async(sd_event *e, char *const argv[], uint64_t timeout_usec, SpawnDoneFunc done, void *userdata);
