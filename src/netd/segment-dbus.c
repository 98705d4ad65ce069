/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-error.h"
#include "bus-util.h"
#include "manager.h"
#include "segment-dbus.h"
#include "util.h"

/* EnsureNetwork and RemoveNetwork: a department network's segment on this
 * host and its subnet in the masquerade set. */
static int read_network(Manager *m, sd_bus_message *msg, const char **ret_bridge, NetworkSpec *s,
                        sd_bus_error *error) {
        const char *why;
        int r;

        r = sd_bus_message_read(msg, "s", ret_bridge);
        if (r < 0)
                return r;
        why = ifname_invalid_reason(*ret_bridge);
        if (why)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid bridge: '%s' %s", *ret_bridge, why);
        /* its elements are the host network's, which a department's
         * removal must not take */
        if (streq(*ret_bridge, m->config.bridge))
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                      "Invalid bridge: '%s' is the host's desktop network's ([Network] Bridge=)",
                                      *ret_bridge);
        r = network_spec_read(msg, s, error);
        if (r >= 0)
                r = network_spec_check(s, error);
        return r;
}

/* EnsureNetwork (up) and RemoveNetwork: the segment's link, then the
 * elements; taking down, the link first too (an absent one is no error). */
int bus_segment_method_ensure_or_remove(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        bool up = streq(sd_bus_message_get_member(msg), "EnsureNetwork");
        const char *bridge;
        NetworkSpec s = {};
        uid_t uid = 0;
        int r;

        r = bus_check_agent_caller(msg, error, NETD_CALLERS_MAY);
        if (r >= 0)
                r = read_network(m, msg, &bridge, &s, error);
        if (r < 0)
                return r;
        if (up)
                r = segments_ensure(&m->segments, bridge, &s, error);
        else
                r = segments_remove(&m->segments, bridge, &s, error);
        if (r < 0)
                return r;
        (void) bus_sender_uid(msg, &uid);
        segment_log(bridge, &s, up, uid);
        return sd_bus_reply_method_return(msg, NULL);
}

/* CheckNetwork: whether this host could carry the network (its checks and
 * its uplink), before the catalog takes it; changes nothing. */
int bus_segment_method_check(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        NetworkSpec s = {};
        int r;

        r = bus_check_agent_caller(msg, error, NETD_CALLERS_MAY);
        if (r >= 0)
                r = network_spec_read(msg, &s, error);
        if (r >= 0)
                r = network_spec_check(&s, error);
        if (r >= 0)
                r = segment_check(&s, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}
