/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-api.h"
#include "forward-dbus.h"
#include "manager-dbus.h"
#include "segment-dbus.h"
#include "util.h"

static int property_get_port(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "q", streq(property, "PortMin") ? m->config.port_min : m->config.port_max);
}

/* Only root (the hook, admins) and the broker's user may call netd's
 * methods. The bus policy says so, and each method checks it again with
 * the sender's uid (bus_check_agent_caller), which bus_sender_uid()
 * remembers per sender: sd-bus's own check (methods without
 * SD_BUS_VTABLE_UNPRIVILEGED) would ask dbus-daemon on every call, a round
 * trip that was a third of a forward's cost.
 *
 * One vtable for the one interface, its members in the order of the
 * published dbus/org.vdesk.network1.Manager.xml; the handlers live with
 * what they change (forward-dbus.c, segment-dbus.c). */
static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("RulesetVersion", "u", NULL, offsetof(Manager, forwards.ruleset_version),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PortMin", "q", property_get_port, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PortMax", "q", property_get_port, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("AddForward",
                                SD_BUS_ARGS("q", port, "s", address, "q", guest_port, "s", desktop, "s", account),
                                SD_BUS_NO_RESULT,
                                bus_forward_method_add, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddForwards",
                                SD_BUS_ARGS("a(qsqss)", forwards),
                                SD_BUS_NO_RESULT,
                                bus_forward_method_add_many, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveForward",
                                SD_BUS_ARGS("q", port, "s", address),
                                SD_BUS_NO_RESULT,
                                bus_forward_method_remove, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("EnsureNetwork",
                                SD_BUS_ARGS("s", bridge, NETWORK_SPEC_ARGS),
                                SD_BUS_NO_RESULT,
                                bus_segment_method_ensure_or_remove, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CheckNetwork",
                                SD_BUS_ARGS(NETWORK_SPEC_ARGS),
                                SD_BUS_NO_RESULT,
                                bus_segment_method_check, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveNetwork",
                                SD_BUS_ARGS("s", bridge, NETWORK_SPEC_ARGS),
                                SD_BUS_NO_RESULT,
                                bus_segment_method_ensure_or_remove, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListForwards",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a" FORWARD_SIGNATURE, forwards),
                                bus_forward_method_list, 0),
        SD_BUS_METHOD_WITH_ARGS("ListForwardActivity",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a" FORWARD_ACTIVITY_SIGNATURE, forwards),
                                bus_forward_method_list_activity, 0),
        SD_BUS_VTABLE_END
};

int manager_add_bus_objects(Manager *m) {
        return sd_bus_add_object_vtable(m->bus, NULL, NETD_OBJECT_PATH, NETD_INTERFACE, manager_vtable, m);
}
