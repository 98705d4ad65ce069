/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "virt-loop.h"

/* libvirt's event loop on the daemon's sd-event loop.
 *
 * libvirt adds, changes and removes watches and timers from whichever
 * thread calls it: the loop's own, and the threads that open connections
 * to hosts that may take long to answer. sd-event is not thread-safe, so
 * those calls only record what libvirt wants (under a lock) and wake the
 * loop, which brings its sources in line (apply). Callbacks into libvirt
 * run on the loop, without the lock held: they may add or remove watches
 * themselves. */

typedef struct LoopEntry {
        int id;
        bool is_timer;
        bool removed;
        bool dirty;                     /* wanted state not yet applied */
        int fd;
        int events;                     /* VIR_EVENT_HANDLE_* */
        int timeout_ms;                 /* -1: disarmed */
        sd_event_source *source;
        virEventHandleCallback handle_cb;
        virEventTimeoutCallback timeout_cb;
        void *opaque;
        virFreeCallback ff;
        struct LoopEntry *next;
} LoopEntry;

static pthread_mutex_t loop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t loop_thread;
static sd_event *loop_event;
static LoopEntry *loop_entries;
static int loop_next_id = 1;
static int loop_wake_fd = -1;
static sd_event_source *loop_wake_source;       /* woken from other threads */
static sd_event_source *loop_apply_source;      /* scheduled from the loop's */

static uint32_t events_to_epoll(int events) {
        return (events & VIR_EVENT_HANDLE_READABLE ? EPOLLIN : 0) |
               (events & VIR_EVENT_HANDLE_WRITABLE ? EPOLLOUT : 0);
}

static int epoll_to_events(uint32_t revents) {
        return (revents & EPOLLIN ? VIR_EVENT_HANDLE_READABLE : 0) |
               (revents & EPOLLOUT ? VIR_EVENT_HANDLE_WRITABLE : 0) |
               (revents & EPOLLERR ? VIR_EVENT_HANDLE_ERROR : 0) |
               (revents & EPOLLHUP ? VIR_EVENT_HANDLE_HANGUP : 0);
}

bool virt_loop_on_loop_thread(void) {
        return loop_event && pthread_equal(pthread_self(), loop_thread);
}

/* Called with the lock held, after an entry changed. */
static void loop_schedule_apply(void) {
        if (virt_loop_on_loop_thread())
                (void) sd_event_source_set_enabled(loop_apply_source, SD_EVENT_ONESHOT);
        else
                (void) eventfd_write(loop_wake_fd, 1);
}

static LoopEntry *loop_find(int id, bool is_timer) {
        for (LoopEntry *e = loop_entries; e; e = e->next)
                if (e->id == id && e->is_timer == is_timer && !e->removed)
                        return e;
        return NULL;
}

static int loop_add(LoopEntry *e) {
        int id;

        pthread_mutex_lock(&loop_lock);
        id = e->id = loop_next_id++;
        e->dirty = true;
        e->next = loop_entries;
        loop_entries = e;
        loop_schedule_apply();
        pthread_mutex_unlock(&loop_lock);
        return id;
}

static void loop_change(int id, bool is_timer, int value) {
        LoopEntry *e;

        pthread_mutex_lock(&loop_lock);
        e = loop_find(id, is_timer);
        if (e) {
                if (is_timer)
                        e->timeout_ms = value;
                else
                        e->events = value;
                e->dirty = true;
                loop_schedule_apply();
        }
        pthread_mutex_unlock(&loop_lock);
}

static int loop_remove(int id, bool is_timer) {
        LoopEntry *e;

        pthread_mutex_lock(&loop_lock);
        e = loop_find(id, is_timer);
        if (e) {
                e->removed = e->dirty = true;
                loop_schedule_apply();
        }
        pthread_mutex_unlock(&loop_lock);
        return e ? 0 : -1;
}

/* Reads what an entry's callback needs; false if it went meanwhile. */
static bool loop_entry_get(LoopEntry *e, LoopEntry *ret) {
        bool live;

        pthread_mutex_lock(&loop_lock);
        live = !e->removed;
        if (live)
                *ret = *e;
        pthread_mutex_unlock(&loop_lock);
        return live;
}

static int on_loop_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        LoopEntry copy;

        if (loop_entry_get(userdata, &copy))
                copy.handle_cb(copy.id, fd, epoll_to_events(revents), copy.opaque);
        return 0;
}

static void timer_arm(LoopEntry *e) {
        uint64_t now = 0;

        if (e->timeout_ms < 0) {
                (void) sd_event_source_set_enabled(e->source, SD_EVENT_OFF);
                return;
        }
        (void) sd_event_now(loop_event, CLOCK_MONOTONIC, &now);
        (void) sd_event_source_set_time(e->source, now + (uint64_t) e->timeout_ms * USEC_PER_MSEC);
        (void) sd_event_source_set_enabled(e->source, SD_EVENT_ONESHOT);
}

static int on_loop_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        LoopEntry *e = userdata, copy;

        /* Re-arm first: the callback may change or remove this timer. */
        pthread_mutex_lock(&loop_lock);
        if (!e->removed)
                timer_arm(e);
        pthread_mutex_unlock(&loop_lock);
        if (loop_entry_get(e, &copy))
                copy.timeout_cb(copy.id, copy.opaque);
        return 0;
}

/* Makes an entry's source what libvirt last asked for. Lock held. */
static int entry_apply(LoopEntry *e) {
        int r;

        if (!e->source) {
                r = e->is_timer
                    ? sd_event_add_time(loop_event, &e->source, CLOCK_MONOTONIC, 0, 0, on_loop_timer, e)
                    : sd_event_add_io(loop_event, &e->source, e->fd, events_to_epoll(e->events), on_loop_io, e);
                if (r < 0)
                        return log_error_errno(r, "Cannot watch libvirt's %s: %m", e->is_timer ? "timer" : "socket");
        }
        if (e->is_timer)
                timer_arm(e);
        else if (e->events == 0)
                /* An io source with no events still reports errors and
                 * hangups; libvirt asks for nothing when it wants nothing. */
                (void) sd_event_source_set_enabled(e->source, SD_EVENT_OFF);
        else {
                (void) sd_event_source_set_io_events(e->source, events_to_epoll(e->events));
                (void) sd_event_source_set_enabled(e->source, SD_EVENT_ON);
        }
        return 0;
}

static void loop_apply(void) {
        LoopEntry *gone = NULL;

        pthread_mutex_lock(&loop_lock);
        for (LoopEntry **p = &loop_entries; *p;) {
                LoopEntry *e = *p;

                if (e->removed) {
                        *p = e->next;
                        e->source = sd_event_source_disable_unref(e->source);
                        e->next = gone;
                        gone = e;
                        continue;
                }
                if (e->dirty) {
                        e->dirty = false;
                        (void) entry_apply(e);
                }
                p = &e->next;
        }
        pthread_mutex_unlock(&loop_lock);

        /* libvirt's free callbacks may take its locks: never under ours,
         * never inside the call that removed the watch. */
        while (gone) {
                LoopEntry *e = gone;
                gone = e->next;
                if (e->ff)
                        e->ff(e->opaque);
                free(e);
        }
}

static int on_loop_apply(sd_event_source *s, void *userdata) {
        loop_apply();
        return 0;
}

static int on_loop_wake(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        eventfd_t v;

        (void) eventfd_read(fd, &v);
        loop_apply();
        return 0;
}

static int loop_add_handle(int fd, int events, virEventHandleCallback cb, void *opaque, virFreeCallback ff) {
        LoopEntry *e = calloc(1, sizeof *e);

        if (!e)
                return -1;
        *e = (LoopEntry) { .fd = fd, .events = events, .handle_cb = cb, .opaque = opaque, .ff = ff };
        return loop_add(e);
}

static void loop_update_handle(int id, int events) {
        loop_change(id, false, events);
}

static int loop_remove_handle(int id) {
        return loop_remove(id, false);
}

static int loop_add_timeout(int timeout, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff) {
        LoopEntry *e = calloc(1, sizeof *e);

        if (!e)
                return -1;
        *e = (LoopEntry) { .is_timer = true, .fd = -1, .timeout_ms = timeout, .timeout_cb = cb, .opaque = opaque,
                           .ff = ff };
        return loop_add(e);
}

static void loop_update_timeout(int id, int timeout) {
        loop_change(id, true, timeout);
}

static int loop_remove_timeout(int id) {
        return loop_remove(id, true);
}

static void silence(void *userdata, virErrorPtr error) {
        /* libvirt prints every error to stderr by default; callers log once. */
}

int virt_loop_register(sd_event *e) {
        int r;

        if (loop_event)
                return -EALREADY;
        loop_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (loop_wake_fd < 0)
                return -errno;
        r = sd_event_add_io(e, &loop_wake_source, loop_wake_fd, EPOLLIN, on_loop_wake, NULL);
        if (r >= 0)
                r = sd_event_add_defer(e, &loop_apply_source, on_loop_apply, NULL);
        if (r < 0) {
                loop_wake_source = sd_event_source_disable_unref(loop_wake_source);
                closep(&loop_wake_fd);
                loop_wake_fd = -1;
                return r;
        }
        (void) sd_event_source_set_enabled(loop_apply_source, SD_EVENT_OFF);
        loop_thread = pthread_self();
        loop_event = sd_event_ref(e);
        virSetErrorFunc(NULL, silence);
        virEventRegisterImpl(loop_add_handle, loop_update_handle, loop_remove_handle,
                             loop_add_timeout, loop_update_timeout, loop_remove_timeout);
        return 0;
}

void virt_loop_unregister(void) {
        /* After the last connection was closed (and every thread opening
         * one is gone): what libvirt removed is freed with its callbacks;
         * what it still holds is only released. */
        if (!loop_event)
                return;
        loop_apply();
        while (loop_entries) {
                LoopEntry *e = loop_entries;
                loop_entries = e->next;
                sd_event_source_disable_unref(e->source);
                free(e);
        }
        loop_apply_source = sd_event_source_disable_unref(loop_apply_source);
        loop_wake_source = sd_event_source_disable_unref(loop_wake_source);
        closep(&loop_wake_fd);
        loop_wake_fd = -1;
        loop_event = sd_event_unref(loop_event);
}
