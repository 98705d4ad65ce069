/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <limits.h>
#include <systemd/sd-bus.h>

#include "manager.h"

/* The queue of desktop operations. An operation's libvirt calls run on a
 * worker thread ([Broker] Workers=), so that a slow or hung host holds up
 * no other caller, and what it changes in the database is done on the
 * loop, before and after. Operations on one desktop run one after the
 * other in the order they arrived (a Delete waits for the Start before
 * it); on different desktops up to Workers= at once. */

#define DESKTOP_OP_AGAIN INT_MAX
#define DESKTOP_OP_WAIT (INT_MAX - 1)

typedef struct DesktopOpType {
        /* On the loop, when the operation's turn comes: reads and checks
         * what it needs (the database), and copies it into the
         * operation's data for work (names, XML, borrowed connections:
         * virt_borrow()). < 0: fails with *error; 0: ends here (r 0); > 0:
         * work runs. */
        int (*begin)(Manager *m, void *data, sd_bus_error *error);
        /* On a worker thread: touches only data, never the manager, the
         * database or the bus. Its return value is end's r. */
        int (*work)(void *data);
        /* On the loop, with work's r (or a call's reply: desktop_queue_call()):
         * records what happened. < 0: fails with *error; DESKTOP_OP_AGAIN:
         * work runs again (a next step, or undoing); DESKTOP_OP_WAIT: a
         * call was sent; else the operation succeeded with that value. */
        int (*end)(Manager *m, void *data, int r, sd_bus_error *error);
        void (*free)(void *data);
} DesktopOpType;

/* How a desktop operation ended: r >= 0 (and error unset), or r < 0 with
 * the named error. Called once, on the loop, never from inside the call
 * that queued the operation. */
typedef void (*DesktopDoneFunc)(Manager *m, const char *name, int r, const sd_bus_error *error, void *userdata);

/* Starts the worker threads. */
int desktop_queue_start(Manager *m);

/* Queues an operation on desktop name: type's steps with data (owned by
 * the queue from now on, also on failure), then done. */
int desktop_queue_push(Manager *m, const char *name, const DesktopOpType *type, void *data, DesktopDoneFunc done,
                       void *userdata);

/* For end: sends call (a method call on the bus) and has end run again
 * with its reply, r >= 0, or r < 0 with the reply's error in end's *error
 * (which end may free and replace). DESKTOP_OP_WAIT (for end to return),
 * or a negative errno if it could not be sent. */
int desktop_queue_call(Manager *m, const char *name, sd_bus_message *call);

/* The operations queued or running on name. */
unsigned desktop_queue_pending(Manager *m, const char *name);

/* Waits for the work running now, and ends every operation (done with
 * NotReady: the broker is stopping). */
void desktop_queue_free(Manager *m);
