/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-api.h"
#include "bus-error.h"
#include "bus-util.h"
#include "link.h"
#include "log.h"
#include "manager.h"
#include "message-id.h"
#include "nft.h"
#include "util.h"

/* Batches above this size are journaled as one summary entry: journald
 * caps the fields of an entry, and ten thousand entries for one
 * transaction would drown the audit trail. */
#define LOG_EACH_MAX 64

static int check_caller(sd_bus_message *msg, sd_bus_error *error) {
        return bus_check_agent_caller(msg, error, "change forwards and networks");
}

static int read_forward(sd_bus_message *msg, Forward *f, sd_bus_error *error) {
        const char *address, *desktop, *account;
        int r;

        r = sd_bus_message_read(msg, "qsqss", &f->port, &address, &f->guest_port, &desktop, &account);
        if (r <= 0)
                return r;
        if (ipv4_parse(address, &f->address) < 0)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                      "Invalid address '%s': not an IPv4 address", address);
        if (strlen(desktop) >= sizeof f->desktop || !name_is_valid(desktop))
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid desktop: %s",
                                      name_invalid_reason(desktop) ?: "is too long");
        if (!isempty(account) && (strlen(account) >= sizeof f->account || !name_is_valid(account)))
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid account: %s",
                                      name_invalid_reason(account) ?: "is too long");
        snprintf(f->desktop, sizeof f->desktop, "%s", desktop);
        snprintf(f->account, sizeof f->account, "%s", account);
        return 1;
}

void manager_log_forward(const Forward *f, bool added, uid_t actor) {
        char a[16];

        ipv4_format(f->address, a);
        log_event(LOG_INFO, added ? MID_FORWARD_ADDED : MID_FORWARD_REMOVED,
                  "VDESK_DESKTOP=%s", f->desktop,
                  "VDESK_ACCOUNT=%s", f->account,
                  "VDESK_PORT=%u", f->port,
                  "VDESK_GUEST_ADDRESS=%s", a,
                  "VDESK_GUEST_PORT=%u", f->guest_port,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=RDP forward %s: port %u -> %s:%u (desktop %s)",
                  added ? "added" : "removed", f->port, a, f->guest_port,
                  f->desktop[0] ? f->desktop : "?");
}

static void log_refused(const Forward *f, int error, const char *reason, uid_t actor) {
        char a[16];

        ipv4_format(f->address, a);
        if (error != -EPERM) {
                log_debug("Forward of %s to %s:%u is malformed: %s", f->desktop, a, f->guest_port, reason);
                return;
        }
        log_event(LOG_WARNING, MID_FORWARD_REFUSED,
                  "VDESK_DESKTOP=%s", f->desktop,
                  "VDESK_ACCOUNT=%s", f->account,
                  "VDESK_PORT=%u", f->port,
                  "VDESK_GUEST_ADDRESS=%s", a,
                  "VDESK_GUEST_PORT=%u", f->guest_port,
                  "VDESK_REASON=%s", reason,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=RDP forward refused: port %u -> %s:%u (desktop %s): %s",
                  f->port, a, f->guest_port, f->desktop, reason);
}

void manager_log_forward_refused(const Forward *f, int error, const char *reason) {
        log_refused(f, error, reason, 0);
}

static int add_forwards(Manager *m, sd_bus_message *msg, Forward *f, size_t n, sd_bus_error *error) {
        const char *reason = NULL;
        size_t idx = 0;
        uid_t uid = (uid_t) -1;
        char a[16];
        int r;

        r = forwards_add(&m->forwards, f, n, &idx, &reason);
        if (r == -ENOENT) {
                /* The table went away under us (someone flushed the ruleset):
                 * put it back once, then retry. */
                _cleanup_(freep) char *e = NULL;

                log_warning("Table inet vdesk is missing, loading it again.");
                if (forwards_ensure_ruleset(&m->forwards, &e) >= 0)
                        r = forwards_add(&m->forwards, f, n, &idx, &reason);
        }
        if (r == -EINVAL && reason)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid forward %zu (port %u): %s",
                                      idx, f[idx].port, reason);
        if (r == -EPERM && reason) {
                (void) bus_sender_uid(msg, &uid);
                log_refused(&f[idx], r, reason, uid);
                ipv4_format(f[idx].address, a);
                return bus_error_setf(error, VDESK_ERROR_FORWARD_REFUSED,
                                      "Forward %zu (port %u to %s:%u for %s) refused: %s; nothing was added",
                                      idx, f[idx].port, a, f[idx].guest_port, f[idx].desktop, reason);
        }
        if (r == -EEXIST) {
                ipv4_format(f[idx].address, a);
                return bus_error_setf(error, VDESK_ERROR_FORWARD_CONFLICT,
                                      "Port %u already forwards elsewhere (wanted %s:%u for %s); nothing was added",
                                      f[idx].port, a, f[idx].guest_port, f[idx].desktop);
        }
        if (r < 0)
                return bus_error_setf(error, VDESK_ERROR_NOT_READY, "Cannot add forwards: %s", strerror(-r));

        for (size_t i = 0; i < n; i++)
                manager_touch_port(m, f[i].port);
        (void) bus_sender_uid(msg, &uid);
        if (n <= LOG_EACH_MAX)
                for (size_t i = 0; i < n; i++)
                        manager_log_forward(&f[i], true, uid);
        else
                log_event(LOG_INFO, MID_FORWARD_ADDED,
                          "VDESK_FORWARD_COUNT=%zu", n,
                          "VDESK_PORT_FIRST=%u", f[0].port,
                          "VDESK_PORT_LAST=%u", f[n - 1].port,
                          "VDESK_ACTOR_UID=%u", (unsigned) uid,
                          "MESSAGE=%zu RDP forwards added in one transaction (ports %u ... %u)",
                          n, f[0].port, f[n - 1].port);
        return 0;
}

static int method_add_forward(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        Forward f = {};
        int r;

        r = check_caller(msg, error);
        if (r < 0)
                return r;

        r = read_forward(msg, &f, error);
        if (r < 0)
                return r;
        r = add_forwards(m, msg, &f, 1, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_add_forwards(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(freep) Forward *f = NULL;
        size_t n = 0, allocated = 0;
        int r;

        r = check_caller(msg, error);
        if (r < 0)
                return r;

        r = sd_bus_message_enter_container(msg, 'a', "(qsqss)");
        if (r < 0)
                return r;
        for (;;) {
                if (n == allocated) {
                        Forward *t;
                        allocated = allocated ? allocated * 2 : 64;
                        t = realloc(f, allocated * sizeof *f);
                        if (!t)
                                return -ENOMEM;
                        f = t;
                }
                f[n] = (Forward) {};
                r = sd_bus_message_enter_container(msg, 'r', "qsqss");
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = read_forward(msg, &f[n], error);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        return r;
                n++;
        }
        r = sd_bus_message_exit_container(msg);
        if (r < 0)
                return r;
        if (n == 0)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid forwards: the list is empty");

        r = add_forwards(m, msg, f, n, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_remove_forward(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *address;
        uint32_t a = 0;
        uint16_t port;
        Forward removed;
        uid_t uid = (uid_t) -1;
        int r;

        r = check_caller(msg, error);
        if (r < 0)
                return r;

        r = sd_bus_message_read(msg, "qs", &port, &address);
        if (r < 0)
                return r;
        if (!isempty(address) && ipv4_parse(address, &a) < 0)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                      "Invalid address '%s': not an IPv4 address", address);
        if (port < m->config.port_min || port > m->config.port_max)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                      "Invalid port %u: outside the forward range %u-%u",
                                      port, m->config.port_min, m->config.port_max);

        r = forwards_remove(&m->forwards, port, a, &removed);
        if (r == -ENOENT)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_FORWARD, "No forward on port %u", port);
        if (r == -EBUSY)
                return bus_error_setf(error, VDESK_ERROR_FORWARD_CONFLICT,
                                      "Port %u forwards to another address than %s; left in place", port, address);
        if (r < 0)
                return r;

        manager_touch_port(m, port);
        (void) bus_sender_uid(msg, &uid);
        manager_log_forward(&removed, false, uid);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_list_forwards(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) Forward *f = NULL;
        size_t n = 0;
        int r;

        r = forwards_list(&m->forwards, &f, &n);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', FORWARD_SIGNATURE);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                char a[16];

                ipv4_format(f[i].address, a);
                r = sd_bus_message_append(reply, FORWARD_SIGNATURE, f[i].port, a, f[i].guest_port, f[i].desktop);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

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
 * trip that was a third of a forward's cost. */
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

static void log_network(const char *bridge, const NetworkSpec *s, bool up, uid_t actor) {
        char segment[16] = "", subnet[16];

        (void) network_segment_name(s, segment);
        ipv4_format(s->subnet, subnet);
        log_event(LOG_INFO, up ? MID_SEGMENT_UP : MID_SEGMENT_DOWN,
                  "VDESK_NETWORK=%s", s->name,
                  "VDESK_BRIDGE=%s", bridge,
                  "VDESK_LINK=%s", isempty(segment) ? "-" : segment,
                  "VDESK_SUBNET=%s/%u", subnet, s->prefix,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=Network %s %s on this host: %s%s%s, %s/%u", s->name, up ? "set up" : "taken down", bridge,
                  isempty(segment) ? "" : " with ", segment, subnet, s->prefix);
}

/* The network's elements of the vdesk tables (nft.h). */
static int network_elements(Manager *m, NftOp op, const char *bridge, const NetworkSpec *s) {
        char port[16] = "";

        (void) network_segment_name(s, port);
        return nft_network_change(m->forwards.nft, op, &(NftNetwork) {
                .subnet = s->subnet, .prefix = s->prefix, .gateway = s->gateway, .bridge = bridge,
                .segment_port = port,
        });
}

static ServedNetwork *served_find(Manager *m, const char *bridge) {
        for (size_t i = 0; i < m->n_served; i++)
                if (streq(m->served[i].bridge, bridge))
                        return &m->served[i];
        return NULL;
}

static void served_forget(Manager *m, const char *bridge) {
        ServedNetwork *n = served_find(m, bridge);

        if (n)
                *n = m->served[--m->n_served];
}

int manager_network_up(Manager *m, const char *bridge, const NetworkSpec *s, sd_bus_error *error) {
        ServedNetwork *n;
        int r;

        if (s->segment != SEGMENT_NONE)
                r = link_segment_ensure(bridge, s, error);
        else
                r = link_bridge_check(bridge, s, error);
        if (r < 0)
                return r;
        r = network_elements(m, NFT_OP_ADD, bridge, s);
        if (r < 0)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot add network %s to the vdesk tables: %s",
                                      s->name, strerror(-r));
        n = served_find(m, bridge);
        if (!n) {
                n = reallocarray(m->served, m->n_served + 1, sizeof *m->served);
                if (!n)
                        return 0;       /* served all the same; only its bridge's going is not noticed */
                m->served = n;
                n = &m->served[m->n_served++];
                snprintf(n->bridge, sizeof n->bridge, "%s", bridge);
        }
        n->spec = *s;
        return 0;
}

/* The segment's link, then the elements (an absent one is no error). */
static int network_down(Manager *m, const char *bridge, const NetworkSpec *s, sd_bus_error *error) {
        int r;

        r = link_segment_remove(s, error);
        if (r >= 0)
                r = network_elements(m, NFT_OP_DELETE, bridge, s);
        if (r == -ENOENT)
                r = 0;
        else if (r < 0 && !sd_bus_error_is_set(error))
                r = bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot remove network %s from the vdesk tables: %s",
                                   s->name, strerror(-r));
        if (r >= 0)
                served_forget(m, bridge);
        return r;
}

static void on_link_gone(const char *name, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        Manager *m = userdata;
        ServedNetwork *n = served_find(m, name);
        NetworkSpec s;

        if (!n)
                return;
        s = n->spec;
        if (network_down(m, name, &s, &e) < 0) {
                log_warning("Bridge %s of network %s went, but its segment stays: %s", name, s.name, e.message);
                return;
        }
        /* the actor: whoever removed the bridge (libvirt, for the broker) */
        log_network(name, &s, false, 0);
}

int manager_watch_bridges(Manager *m) {
        return link_watch_deleted(m->event, on_link_gone, m, &m->link_watch);
}

/* EnsureNetwork (up) and RemoveNetwork: the segment's link, then the
 * elements; taking down, the link first too (an absent one is no error). */
static int method_network(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        bool up = streq(sd_bus_message_get_member(msg), "EnsureNetwork");
        const char *bridge;
        NetworkSpec s = {};
        uid_t uid = 0;
        int r;

        r = check_caller(msg, error);
        if (r >= 0)
                r = read_network(m, msg, &bridge, &s, error);
        if (r < 0)
                return r;
        if (up)
                r = manager_network_up(m, bridge, &s, error);
        else
                r = network_down(m, bridge, &s, error);
        if (r < 0)
                return r;
        (void) bus_sender_uid(msg, &uid);
        log_network(bridge, &s, up, uid);
        return sd_bus_reply_method_return(msg, NULL);
}

/* CheckNetwork: whether this host could carry the network (its checks and
 * its uplink), before the catalog takes it; changes nothing. */
static int method_check_network(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        NetworkSpec s = {};
        int r;

        r = check_caller(msg, error);
        if (r >= 0)
                r = network_spec_read(msg, &s, error);
        if (r >= 0)
                r = network_spec_check(&s, error);
        if (r >= 0)
                r = link_segment_check(&s, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("RulesetVersion", "u", NULL, offsetof(Manager, forwards.ruleset_version),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PortMin", "q", property_get_port, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PortMax", "q", property_get_port, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("AddForward",
                                SD_BUS_ARGS("q", port, "s", address, "q", guest_port, "s", desktop, "s", account),
                                SD_BUS_NO_RESULT,
                                method_add_forward, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddForwards",
                                SD_BUS_ARGS("a(qsqss)", forwards),
                                SD_BUS_NO_RESULT,
                                method_add_forwards, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveForward",
                                SD_BUS_ARGS("q", port, "s", address),
                                SD_BUS_NO_RESULT,
                                method_remove_forward, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("EnsureNetwork",
                                SD_BUS_ARGS("s", bridge, NETWORK_SPEC_ARGS),
                                SD_BUS_NO_RESULT,
                                method_network, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CheckNetwork",
                                SD_BUS_ARGS(NETWORK_SPEC_ARGS),
                                SD_BUS_NO_RESULT,
                                method_check_network, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveNetwork",
                                SD_BUS_ARGS("s", bridge, NETWORK_SPEC_ARGS),
                                SD_BUS_NO_RESULT,
                                method_network, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListForwards",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a" FORWARD_SIGNATURE, forwards),
                                method_list_forwards, 0),
        SD_BUS_VTABLE_END
};

int manager_add_bus_objects(Manager *m) {
        return sd_bus_add_object_vtable(m->bus, NULL, NETD_OBJECT_PATH, NETD_INTERFACE, manager_vtable, m);
}
