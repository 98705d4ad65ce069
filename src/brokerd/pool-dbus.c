/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-api.h"
#include "bus-error.h"
#include "manager.h"
#include "polkit.h"
#include "pool.h"
#include "pool-dbus.h"
#include "util.h"

POLKIT_METHOD_EXPORTED(list_pools, Manager, BROKERD_ACTION_READ) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) PoolInfo *p = NULL;
        size_t n = 0;
        int r;

        r = pool_list(m, &p, &n);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', POOL_SIGNATURE);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, POOL_SIGNATURE, p[i].category, p[i].size, p[i].started, p[i].made,
                                          p[i].running);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}
