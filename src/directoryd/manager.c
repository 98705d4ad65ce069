/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-error.h"
#include "manager.h"
#include "password.h"

int manager_new(Manager **ret) {
        Manager *m = calloc(1, sizeof *m);

        if (!m)
                return -ENOMEM;
        *ret = m;
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        /* First: a job handed back cancelled still replies on the bus. */
        worker_pool_free(m->workers);
        sd_event_source_disable_unref(m->purge_timer);
        throttle_free(m->throttle);
        throttle_free(m->account_throttle);
        db_close(m->db);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        config_done(&m->config);
        free(m);
        return NULL;
}

int manager_submit_password_work(Manager *m, void *job, WorkerDoneFunc done, sd_bus_error *error) {
        int r;

        r = worker_pool_submit(m->workers, password_work_run, done, job);
        if (r == -EAGAIN)
                return bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                      "Too many passwords being checked at once; try again shortly");
        if (r < 0)
                return bus_error_setf(error, SD_BUS_ERROR_NO_MEMORY, "Cannot queue the password's hash");
        return 0;
}
