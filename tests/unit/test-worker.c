/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The worker pool: jobs run on threads other than the loop's, their done
 * comes back on the loop's thread, a full queue refuses, and a pool freed
 * with jobs queued runs none of them and hands every one back cancelled
 * (the ASan build checks that nothing leaks). */

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include "tests.h"
#include "util.h"
#include "worker.h"

typedef struct Job {
        unsigned index;
        pthread_t ran_on;
        bool ran;
        int *order;             /* where done writes its index, in order */
        unsigned *n_done;
        int result;
        bool done_on_loop;
        unsigned sleep_ms;
        sd_event *stop_after;   /* exits this loop once all are done */
        unsigned n_total;
} Job;

static pthread_t loop_thread;

static int work(void *userdata) {
        Job *j = userdata;

        if (j->sleep_ms)
                usleep(j->sleep_ms * 1000);
        j->ran_on = pthread_self();
        j->ran = true;
        return (int) j->index * 2;
}

static void done(int r, void *userdata) {
        Job *j = userdata;

        j->result = r;
        j->done_on_loop = pthread_equal(pthread_self(), loop_thread);
        j->order[(*j->n_done)++] = (int) j->index;
        if (*j->n_done == j->n_total && j->stop_after)
                sd_event_exit(j->stop_after, 0);
}

static void test_jobs_complete(unsigned threads) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        WorkerPool *p = NULL;
        Job jobs[40] = {};
        int order[40];
        unsigned n_done = 0, on_workers = 0, on_loop = 0, results_ok = 0;

        CHECK_INT(sd_event_new(&e), 0);
        CHECK_INT(worker_pool_new(e, threads, 64, 0, &p), 0);
        CHECK_INT(worker_pool_threads(p), threads);
        for (unsigned i = 0; i < ELEMENTSOF(jobs); i++) {
                jobs[i] = (Job) { .index = i, .order = order, .n_done = &n_done, .result = -1,
                                  .stop_after = e, .n_total = ELEMENTSOF(jobs), .sleep_ms = i % 3 };
                CHECK_INT(worker_pool_submit(p, work, done, &jobs[i]), 0);
        }
        /* With threads, nothing is handed back before the loop runs;
         * without, the work is done already but done still waits. */
        CHECK_INT(n_done, 0);
        CHECK_INT(sd_event_loop(e), 0);
        CHECK_INT(n_done, ELEMENTSOF(jobs));
        for (unsigned i = 0; i < ELEMENTSOF(jobs); i++) {
                on_workers += jobs[i].ran && !pthread_equal(jobs[i].ran_on, loop_thread);
                on_loop += jobs[i].done_on_loop;
                results_ok += jobs[i].result == (int) i * 2;
        }
        CHECK_INT(on_workers, threads > 0 ? ELEMENTSOF(jobs) : 0);
        CHECK_INT(on_loop, ELEMENTSOF(jobs));
        CHECK_INT(results_ok, ELEMENTSOF(jobs));
        if (threads <= 1) {
                /* one thread (or none): handed back in submission order */
                bool in_order = true;
                for (unsigned i = 0; i < ELEMENTSOF(jobs); i++)
                        in_order = in_order && order[i] == (int) i;
                CHECK(in_order);
        }
        CHECK(worker_pool_free(p) == NULL);
}

/* A done that submits again: the new job is handed back in a later round. */
typedef struct Chain {
        WorkerPool *p;
        sd_event *e;
        unsigned left;
} Chain;

static int chain_work(void *userdata) {
        return 7;
}

static void chain_done(int r, void *userdata) {
        Chain *c = userdata;

        if (r != 7 || c->left == 0 || --c->left == 0 || worker_pool_submit(c->p, chain_work, chain_done, c) < 0)
                sd_event_exit(c->e, 0);
}

static void test_resubmit_from_done(void) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        Chain c = { .left = 10 };

        CHECK_INT(sd_event_new(&e), 0);
        CHECK_INT(worker_pool_new(e, 2, 4, 0, &c.p), 0);
        c.e = e;
        CHECK_INT(worker_pool_submit(c.p, chain_work, chain_done, &c), 0);
        CHECK_INT(sd_event_loop(e), 0);
        CHECK_INT(c.left, 0);
        worker_pool_free(c.p);
}

/* Jobs that own heap memory, freed by done whatever r is. */
typedef struct Owned {
        char *secret;
        unsigned *n_cancelled, *n_done;
        pthread_mutex_t *gate;          /* the job waits here until released */
        unsigned *n_started;            /* atomic */
} Owned;

static int owned_work(void *userdata) {
        Owned *o = userdata;

        __atomic_add_fetch(o->n_started, 1, __ATOMIC_SEQ_CST);
        if (o->gate) {
                pthread_mutex_lock(o->gate);
                pthread_mutex_unlock(o->gate);
        }
        return 0;
}

static void owned_done(int r, void *userdata) {
        Owned *o = userdata;

        if (r == -ECANCELED)
                (*o->n_cancelled)++;
        (*o->n_done)++;
        free(o->secret);
        free(o);
}

static void test_full_queue_and_shutdown(void) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
        unsigned n_cancelled = 0, n_done = 0, n_started = 0, accepted = 0, refused = 0;
        WorkerPool *p = NULL;

        CHECK_INT(sd_event_new(&e), 0);
        CHECK_INT(worker_pool_new(e, 2, 5, 0, &p), 0);
        /* The two threads take a job each and wait at the gate; 5 more
         * wait in the queue; the rest are refused. */
        pthread_mutex_lock(&gate);
        for (unsigned i = 0; i < 10; i++) {
                Owned *o = new0(Owned, 1);

                o->secret = strdup("a secret");
                o->n_cancelled = &n_cancelled;
                o->n_done = &n_done;
                o->gate = &gate;
                o->n_started = &n_started;
                if (worker_pool_submit(p, owned_work, owned_done, o) == 0)
                        accepted++;
                else {
                        refused++;
                        free(o->secret);
                        free(o);
                }
                /* the threads take the first two before the queue fills */
                for (unsigned t = 0; i == 1 && t < 1000 && __atomic_load_n(&n_started, __ATOMIC_SEQ_CST) < 2; t++)
                        usleep(10 * 1000);
        }
        CHECK_INT(accepted, 7);
        CHECK_INT(refused, 3);
        CHECK_INT(n_done, 0);
        pthread_mutex_unlock(&gate);
        /* The two running finish (and the threads may take more before
         * they see the pool stop); the rest never run. Every done is
         * called, once, and frees its job: with what its work returned if
         * it ran, else -ECANCELED. */
        CHECK(worker_pool_free(p) == NULL);
        CHECK_INT(n_done, 7);
        CHECK(n_started >= 2);
        CHECK_INT(n_cancelled, 7 - n_started);
        CHECK(worker_pool_free(NULL) == NULL);
}

/* A pool niced by 5: its threads run at the loop's nice value plus 5. */
static int nice_work(void *userdata) {
        errno = 0;
        return getpriority(PRIO_PROCESS, (id_t) gettid());
}

static void nice_done(int r, void *userdata) {
        *(int *) userdata = r;
}

static void test_nice(void) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        WorkerPool *p = NULL;
        int seen = -100, own;

        errno = 0;
        own = getpriority(PRIO_PROCESS, (id_t) gettid());
        CHECK_INT(sd_event_new(&e), 0);
        CHECK_INT(worker_pool_new(e, 1, 4, 5, &p), 0);
        CHECK_INT(worker_pool_submit(p, nice_work, nice_done, &seen), 0);
        for (unsigned i = 0; i < 200 && seen == -100; i++)
                CHECK(sd_event_run(e, 50 * 1000) >= 0);
        CHECK_INT(seen, own + 5);
        CHECK_INT(getpriority(PRIO_PROCESS, (id_t) gettid()), own);
        worker_pool_free(p);
}

int main(void) {
        loop_thread = pthread_self();
        test_jobs_complete(0);
        test_jobs_complete(1);
        test_jobs_complete(3);
        test_resubmit_from_done();
        test_full_queue_and_shutdown();
        test_nice();
        return test_summary();
}
