/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>

#include "bus-error.h"
#include "desktop-queue.h"
#include "log.h"
#include "util.h"
#include "worker.h"

/* Work submitted but not yet started may wait this many in the pool:
 * enough for a batch job's items and every caller at once. */
#define DESKTOP_QUEUE_MAX 4096

struct DesktopOp {
        Manager *manager;
        char name[64];
        const DesktopOpType *type;
        void *data;
        DesktopDoneFunc done;
        void *userdata;
        bool running;                   /* its turn came: begun, maybe at work */
        bool working;                   /* submitted to the pool */
        sd_event_source *turn;          /* begins it */
        sd_bus_slot *call;              /* end's call waiting for its reply */
        DesktopOp *next;                /* all operations, in the order they arrived */
};

static DesktopOp *desktop_op_free(DesktopOp *op) {
        if (!op)
                return NULL;
        sd_event_source_disable_unref(op->turn);
        sd_bus_slot_unref(op->call);
        if (op->type->free)
                op->type->free(op->data);
        free(op);
        return NULL;
}

static void desktop_op_unlink(Manager *m, DesktopOp *op) {
        for (DesktopOp **p = &m->desktop_ops; *p; p = &(*p)->next)
                if (*p == op) {
                        *p = op->next;
                        return;
                }
}

/* The operation on name that runs, or is next. */
static DesktopOp *desktop_op_first(Manager *m, const char *name) {
        for (DesktopOp *op = m->desktop_ops; op; op = op->next)
                if (streq(op->name, name))
                        return op;
        return NULL;
}

/* The first operation on name still queued, if no operation on name
 * runs. */
static DesktopOp *desktop_op_next(Manager *m, const char *name) {
        DesktopOp *op = desktop_op_first(m, name);

        return op && !op->running ? op : NULL;
}

static void desktop_op_run(DesktopOp *op);

/* Ends op with r and error, and starts the next one on its desktop. */
static void desktop_op_finish(DesktopOp *op, int r, sd_bus_error *error) {
        Manager *m = op->manager;
        char name[64];
        DesktopOp *next;

        /* a failure has a name, whatever failed */
        if (r < 0 && !sd_bus_error_is_set(error))
                (void) sd_bus_error_set_errno(error, r);
        snprintf(name, sizeof name, "%s", op->name);
        desktop_op_unlink(m, op);
        if (op->done)
                op->done(m, name, r, r < 0 ? error : NULL, op->userdata);
        desktop_op_free(op);
        if (m->desktop_queue_stopping)
                return;
        next = desktop_op_next(m, name);
        if (next)
                desktop_op_run(next);
}

static int desktop_op_work(void *userdata) {
        DesktopOp *op = userdata;

        return op->type->work(op->data);
}

static void desktop_op_submit(DesktopOp *op, sd_bus_error *error);

/* What end said: work again, wait for its call, or the end. */
static void desktop_op_ended(DesktopOp *op, int r, sd_bus_error *e) {
        if (r == DESKTOP_OP_AGAIN)
                desktop_op_submit(op, e);
        else if (r != DESKTOP_OP_WAIT)
                desktop_op_finish(op, r, e);
}

static void desktop_op_worked(int r, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        DesktopOp *op = userdata;

        op->working = false;
        if (r == -ECANCELED && op->manager->desktop_queue_stopping) {
                desktop_op_finish(op, bus_error_setf(&e, VDESK_ERROR_NOT_READY, "vdesk-brokerd is stopping"), &e);
                return;
        }
        desktop_op_ended(op, op->type->end(op->manager, op->data, r, &e), &e);
}

static int on_call_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        DesktopOp *op = userdata;
        int r = 0;

        op->call = sd_bus_slot_unref(op->call);
        if (sd_bus_message_is_method_error(reply, NULL)) {
                r = -(sd_bus_message_get_errno(reply) ?: EIO);
                (void) sd_bus_error_copy(&e, sd_bus_message_get_error(reply));
        }
        desktop_op_ended(op, op->type->end(op->manager, op->data, r, &e), &e);
        return 0;
}

int desktop_queue_call(Manager *m, const char *name, sd_bus_message *call) {
        DesktopOp *op = desktop_op_first(m, name);
        int r;

        assert(op && op->running && !op->call);
        r = sd_bus_call_async(m->bus, &op->call, call, on_call_reply, op, 0);
        return r < 0 ? r : DESKTOP_OP_WAIT;
}

static void desktop_op_submit(DesktopOp *op, sd_bus_error *error) {
        int r;

        r = worker_pool_submit(op->manager->workers, desktop_op_work, desktop_op_worked, op);
        if (r < 0) {
                desktop_op_finish(op, bus_error_setf(error, VDESK_ERROR_NOT_READY,
                                                     "Too many desktop operations waiting; try again later"),
                                  error);
                return;
        }
        op->working = true;
}

/* From the loop, on its own turn: a done never runs inside the call that
 * queued its operation. */
static int on_op_turn(sd_event_source *s, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        DesktopOp *op = userdata;
        int r;

        op->turn = sd_event_source_disable_unref(op->turn);
        r = op->type->begin(op->manager, op->data, &e);
        if (r <= 0)
                desktop_op_finish(op, r, &e);
        else
                desktop_op_submit(op, &e);
        return 0;
}

static void desktop_op_run(DesktopOp *op) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

        op->running = true;
        if (sd_event_add_defer(op->manager->event, &op->turn, on_op_turn, op) < 0)
                desktop_op_finish(op, bus_error_setf(&e, SD_BUS_ERROR_NO_MEMORY, "Out of memory"), &e);
}

int desktop_queue_start(Manager *m) {
        return worker_pool_new(m->event, m->config.broker_workers, DESKTOP_QUEUE_MAX, 0, &m->workers);
}

int desktop_queue_push(Manager *m, const char *name, const DesktopOpType *type, void *data, DesktopDoneFunc done,
                       void *userdata) {
        DesktopOp *op, **tail;

        op = new0(DesktopOp, 1);
        if (!op) {
                if (type->free)
                        type->free(data);
                return -ENOMEM;
        }
        *op = (DesktopOp) { .manager = m, .type = type, .data = data, .done = done, .userdata = userdata };
        snprintf(op->name, sizeof op->name, "%s", name);
        for (tail = &m->desktop_ops; *tail; tail = &(*tail)->next)
                ;
        *tail = op;
        /* by the name as kept: one too long (cut) still finds its op,
         * whose begin refuses it */
        if (desktop_op_next(m, op->name) == op)
                desktop_op_run(op);
        return 0;
}

unsigned desktop_queue_pending(Manager *m, const char *name) {
        unsigned n = 0;

        for (DesktopOp *op = m->desktop_ops; op; op = op->next)
                n += streq(op->name, name);
        return n;
}

void desktop_queue_free(Manager *m) {
        m->desktop_queue_stopping = true;
        /* the work in flight ends (done: NotReady) */
        m->workers = worker_pool_free(m->workers);
        while (m->desktop_ops) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                desktop_op_finish(m->desktop_ops,
                                  bus_error_setf(&e, VDESK_ERROR_NOT_READY, "vdesk-brokerd is stopping"), &e);
        }
}
