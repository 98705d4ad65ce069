/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-api.h"
#include "bus-error.h"
#include "bus-util.h"
#include "forward-dbus.h"
#include "manager.h"
#include "util.h"

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

static int add_forwards(Manager *m, sd_bus_message *msg, Forward *f, size_t n, sd_bus_error *error) {
        const char *reason = NULL;
        size_t idx = 0;
        uid_t uid = (uid_t) -1;
        char a[16];
        int r;

        (void) bus_sender_uid(msg, &uid);
        r = forwards_add(&m->forwards, f, n, uid, &idx, &reason);
        if (r >= 0)
                return sd_bus_reply_method_return(msg, NULL);
        if (r == -EINVAL && reason)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid forward %zu (port %u): %s",
                                      idx, f[idx].port, reason);
        ipv4_format(f[idx].address, a);
        if (r == -EPERM && reason)
                return bus_error_setf(error, VDESK_ERROR_FORWARD_REFUSED,
                                      "Forward %zu (port %u to %s:%u for %s) refused: %s; nothing was added",
                                      idx, f[idx].port, a, f[idx].guest_port, f[idx].desktop, reason);
        if (r == -EEXIST)
                return bus_error_setf(error, VDESK_ERROR_FORWARD_CONFLICT,
                                      "Port %u already forwards elsewhere (wanted %s:%u for %s); nothing was added",
                                      f[idx].port, a, f[idx].guest_port, f[idx].desktop);
        return bus_error_setf(error, VDESK_ERROR_NOT_READY, "Cannot add forwards: %s", strerror(-r));
}

int bus_forward_method_add(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Forward f = {};
        int r;

        r = bus_check_agent_caller(msg, error, NETD_CALLERS_MAY);
        if (r >= 0)
                r = read_forward(msg, &f, error);
        if (r < 0)
                return r;
        return add_forwards(userdata, msg, &f, 1, error);
}

int bus_forward_method_add_many(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(freep) Forward *f = NULL;
        size_t n = 0, allocated = 0;
        int r;

        r = bus_check_agent_caller(msg, error, NETD_CALLERS_MAY);
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

        return add_forwards(userdata, msg, f, n, error);
}

int bus_forward_method_remove(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(freep) char *why = NULL;
        const char *address;
        uint32_t a = 0;
        uint16_t port;
        uid_t uid = (uid_t) -1;
        int r;

        r = bus_check_agent_caller(msg, error, NETD_CALLERS_MAY);
        if (r < 0)
                return r;

        r = sd_bus_message_read(msg, "qs", &port, &address);
        if (r < 0)
                return r;
        if (!isempty(address) && ipv4_parse(address, &a) < 0)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                      "Invalid address '%s': not an IPv4 address", address);
        if (config_rdp_port_check(&m->config, port, &why) < 0)
                return why ? bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid port: %s", why) : -ENOMEM;

        (void) bus_sender_uid(msg, &uid);
        r = forwards_remove(&m->forwards, port, a, uid);
        if (r == -ENOENT)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_FORWARD, "No forward on port %u", port);
        if (r == -EBUSY)
                return bus_error_setf(error, VDESK_ERROR_FORWARD_CONFLICT,
                                      "Port %u forwards to another address than %s; left in place", port, address);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

int bus_forward_method_list(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
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

int bus_forward_method_list_activity(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) Forward *f = NULL;
        _cleanup_(freep) unsigned *connections = NULL;
        size_t n = 0;
        int r;

        r = forwards_activity(&m->forwards, &f, &connections, &n);
        if (r < 0)
                return bus_error_setf(error, VDESK_ERROR_NOT_READY, "Cannot read the forwards' connections: %s",
                                      strerror(-r));
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', FORWARD_ACTIVITY_SIGNATURE);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, FORWARD_ACTIVITY_SIGNATURE, f[i].desktop, f[i].port,
                                          connections[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}
