/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-event.h>

#include "macro.h"

/* A small pool of threads for CPU-bound or blocking work (password hashes,
 * later directory binds and storage calls) that must not hold up a
 * daemon's event loop. A job's work runs on a worker thread; its done runs
 * afterwards on the loop's thread, woken through an eventfd, so that
 * done may use what only the loop may touch (sd-bus objects, the
 * database connection), after the loop's other work of normal priority.
 * Jobs start in the order they were submitted. */

typedef struct WorkerPool WorkerPool;

/* Runs on a worker thread: may touch only what userdata holds, never the
 * loop, the bus or the database. Returns what done gets as r. */
typedef int (*WorkerFunc)(void *userdata);

/* Runs on the loop's thread, exactly once for every job submitted: with
 * work's return value, or -ECANCELED if the pool was freed before the job
 * was handed back (done then only frees userdata). */
typedef void (*WorkerDoneFunc)(int r, void *userdata);

/* A pool of n_threads threads on the loop e, at most max_queued jobs
 * waiting for a thread. The threads' nice value is the daemon's plus
 * nice_delta (> 0 for CPU-bound work: the loop, whose work is short, then
 * wins the CPU over them). With n_threads 0 there are no threads: work
 * runs at once inside worker_pool_submit(), on the caller's thread (a
 * switch to compare with), and done still comes later from the loop. */
int worker_pool_new(sd_event *e, unsigned n_threads, unsigned max_queued, int nice_delta, WorkerPool **ret);

/* Queues a job. -EAGAIN if max_queued jobs are waiting already (done is
 * then not called: the caller still owns userdata). */
int worker_pool_submit(WorkerPool *p, WorkerFunc work, WorkerDoneFunc done, void *userdata);

/* The pool's threads (0: work runs on the loop). */
unsigned worker_pool_threads(const WorkerPool *p);

/* Waits for the jobs running now to end (nothing can interrupt them),
 * runs none of those still queued, and calls done for every job not yet
 * handed back: with what work returned for those that ran (their done
 * may have to record what the work did), with -ECANCELED for the others.
 * Accepts NULL; returns NULL. */
WorkerPool *worker_pool_free(WorkerPool *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(WorkerPool *, worker_pool_free);
