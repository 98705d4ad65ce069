/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-util.h"

int bus_open_from_config(const VdeskConfig *c, sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        if (isempty(c->bus_address))
                r = sd_bus_open_system(&bus);
        else {
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, c->bus_address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(bus, 1);
                if (r >= 0)
                        r = sd_bus_start(bus);
        }
        if (r < 0) {
                sd_bus_unref(bus);
                return r;
        }
        *ret = bus;
        return bus_set_timeout_from_config(bus, c);
}

int bus_set_timeout_from_config(sd_bus *bus, const VdeskConfig *c) {
        return sd_bus_set_method_call_timeout(bus, (uint64_t) c->bus_timeout_ms * 1000);
}

int bus_sender_uid(sd_bus_message *m, uid_t *ret) {
        sd_bus_creds *creds = NULL;
        int r;

        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, ret);
        sd_bus_creds_unref(creds);
        return r;
}
