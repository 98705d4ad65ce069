/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "log.h"
#include "worker.h"

typedef struct WorkerJob WorkerJob;
struct WorkerJob {
        WorkerFunc work;
        WorkerDoneFunc done;
        void *userdata;
        int r;
        WorkerJob *next;
};

/* A singly linked FIFO: jobs waiting for a thread, or waiting for the loop. */
typedef struct JobList {
        WorkerJob *head, *tail;
        unsigned n;
} JobList;

struct WorkerPool {
        pthread_mutex_t lock;
        pthread_cond_t wake;            /* a job was queued, or the pool stops */
        JobList queued;                 /* under lock */
        JobList finished;               /* under lock: done not yet called */
        bool stopping;                  /* under lock */
        unsigned max_queued;
        int nice_delta;
        pthread_t *threads;
        unsigned n_threads;
        int wake_fd;                    /* eventfd: something finished */
        sd_event_source *wake_source;
};

static void list_push(JobList *l, WorkerJob *j) {
        j->next = NULL;
        if (l->tail)
                l->tail->next = j;
        else
                l->head = j;
        l->tail = j;
        l->n++;
}

static WorkerJob *list_pop(JobList *l) {
        WorkerJob *j = l->head;

        if (!j)
                return NULL;
        l->head = j->next;
        if (!l->head)
                l->tail = NULL;
        l->n--;
        return j;
}

/* Hands a finished job to the loop. */
static void job_finished(WorkerPool *p, WorkerJob *j) {
        pthread_mutex_lock(&p->lock);
        list_push(&p->finished, j);
        pthread_mutex_unlock(&p->lock);
        (void) eventfd_write(p->wake_fd, 1);
}

static void *worker_thread(void *userdata) {
        WorkerPool *p = userdata;

        /* Linux keeps a nice value per thread: this one's alone changes. */
        if (p->nice_delta != 0) {
                errno = 0;
                int n = getpriority(PRIO_PROCESS, (id_t) gettid());
                if (errno == 0)
                        (void) setpriority(PRIO_PROCESS, (id_t) gettid(), n + p->nice_delta);
        }
        for (;;) {
                WorkerJob *j;

                pthread_mutex_lock(&p->lock);
                while (!p->stopping && !p->queued.head)
                        pthread_cond_wait(&p->wake, &p->lock);
                if (p->stopping) {
                        pthread_mutex_unlock(&p->lock);
                        return NULL;
                }
                j = list_pop(&p->queued);
                pthread_mutex_unlock(&p->lock);

                j->r = j->work(j->userdata);
                job_finished(p, j);
        }
}

static int on_wake(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        WorkerPool *p = userdata;
        JobList done;
        WorkerJob *j;
        eventfd_t v;

        (void) eventfd_read(fd, &v);
        /* Taken all at once: a done may submit again, which must not be
         * seen in this round. */
        pthread_mutex_lock(&p->lock);
        done = p->finished;
        p->finished = (JobList) {};
        pthread_mutex_unlock(&p->lock);
        while ((j = list_pop(&done))) {
                j->done(j->r, j->userdata);
                free(j);
        }
        return 0;
}

unsigned worker_pool_threads(const WorkerPool *p) {
        return p->n_threads;
}

int worker_pool_new(sd_event *e, unsigned n_threads, unsigned max_queued, int nice_delta, WorkerPool **ret) {
        _cleanup_(worker_pool_freep) WorkerPool *p = NULL;
        sigset_t all, saved;
        int r;

        p = new0(WorkerPool, 1);
        if (!p)
                return -ENOMEM;
        p->wake_fd = -1;
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->wake, NULL);
        p->max_queued = max_queued;
        p->nice_delta = nice_delta;
        p->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (p->wake_fd < 0)
                return -errno;
        r = sd_event_add_io(e, &p->wake_source, p->wake_fd, EPOLLIN, on_wake, p);
        if (r < 0)
                return r;
        /* Results are handed back after the loop's other work pending at
         * the normal priority: a caller waiting for a quick answer (a read
         * on the bus) is not held up by a burst of finished jobs. */
        r = sd_event_source_set_priority(p->wake_source, SD_EVENT_PRIORITY_NORMAL + 1);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(p->wake_source, "worker-pool");

        p->threads = new0(pthread_t, n_threads);
        if (!p->threads)
                return -ENOMEM;
        /* Signals are the loop's (signalfd): no worker may take one. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &saved);
        for (; p->n_threads < n_threads; p->n_threads++) {
                r = -pthread_create(&p->threads[p->n_threads], NULL, worker_thread, p);
                if (r < 0)
                        break;
        }
        pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (r < 0)
                return log_debug_errno(r, "Cannot start worker thread %u: %m", p->n_threads);

        *ret = TAKE_PTR(p);
        return 0;
}

int worker_pool_submit(WorkerPool *p, WorkerFunc work, WorkerDoneFunc done, void *userdata) {
        WorkerJob *j;

        assert(p && work && done);

        j = new0(WorkerJob, 1);
        if (!j)
                return -ENOMEM;
        *j = (WorkerJob) { .work = work, .done = done, .userdata = userdata };

        if (p->n_threads == 0) {
                j->r = work(userdata);
                job_finished(p, j);
                return 0;
        }

        pthread_mutex_lock(&p->lock);
        if (p->queued.n >= p->max_queued) {
                pthread_mutex_unlock(&p->lock);
                free(j);
                return -EAGAIN;
        }
        list_push(&p->queued, j);
        pthread_cond_signal(&p->wake);
        pthread_mutex_unlock(&p->lock);
        return 0;
}

WorkerPool *worker_pool_free(WorkerPool *p) {
        WorkerJob *j;

        if (!p)
                return NULL;
        pthread_mutex_lock(&p->lock);
        p->stopping = true;
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
        for (unsigned i = 0; i < p->n_threads; i++)
                (void) pthread_join(p->threads[i], NULL);

        /* No thread is left: the lists are ours alone. What ran gets what
         * it returned (its done may have to record what the work did);
         * what never ran, -ECANCELED. */
        while ((j = list_pop(&p->finished))) {
                j->done(j->r, j->userdata);
                free(j);
        }
        while ((j = list_pop(&p->queued))) {
                j->done(-ECANCELED, j->userdata);
                free(j);
        }
        sd_event_source_disable_unref(p->wake_source);
        closep(&p->wake_fd);
        free(p->threads);
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
}
