/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vdesk's libvirt qemu hook, installed as a qemu.d/ drop-in. libvirtd runs it
 * as "hook DOMAIN OPERATION SUBOPERATION EXTRA" with the domain XML on
 * stdin. For a vdesk desktop it asks this host's agents to provision it:
 *
 *   prepare begin  -> vdesk-imaged EnsureDisk    (failure aborts the start;
 *                     the template's format from the metadata, never
 *                     from the template's file)
 *                     and, for a desktop of a department network,
 *                     vdesk-netd EnsureNetwork (its segment on this host)
 *   started begin  -> vdesk-netd AddForward
 *   release end    -> vdesk-netd RemoveForward
 *
 * It never calls libvirt (libvirtd waits for it, holding the domain), every
 * bus call has a timeout, and anything it passes on has been validated
 * against this host's configuration first. Domains without vdesk metadata
 * pass untouched. What it prints to stderr is what `virsh start` shows. */

#include <systemd/sd-bus.h>

#include "bus-api.h"
#include "bus-error.h"
#include "bus-util.h"
#include "conf.h"
#include "log.h"
#include "metadata.h"
#include "util.h"

#define XML_MAX (16u << 20)

typedef enum HookAction {
        HOOK_NONE,
        HOOK_PREPARE,
        HOOK_STARTED,
        HOOK_RELEASE,
} HookAction;

static HookAction action_from_args(const char *op, const char *sub) {
        if (streq(op, "prepare") && streq(sub, "begin"))
                return HOOK_PREPARE;
        if (streq(op, "started") && streq(sub, "begin"))
                return HOOK_STARTED;
        if (streq(op, "release") && streq(sub, "end"))
                return HOOK_RELEASE;
        return HOOK_NONE;
}

/* One line for whoever started the domain, one journal entry for the admin. */
static int refuse(const char *domain, const char *op, const char *reason) {
        fprintf(stderr, "vdesk: %s\n", reason);
        log_event(LOG_ERR, MID_HOOK_REFUSED,
                  "VDESK_DESKTOP=%s", domain,
                  "VDESK_HOOK_OPERATION=%s", op,
                  "VDESK_REASON=%s", reason,
                  "MESSAGE=vdesk hook refused %s of %s: %s", op, domain, reason);
        return EXIT_FAILURE;
}

static int call(sd_bus *bus, const char *dest, const char *path, const char *iface, const char *method,
                sd_bus_error *error, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        va_start(ap, types);
        r = bus_message_new_callv(bus, &m, dest, path, iface, method, types, ap);
        va_end(ap);
        if (r < 0)
                return r;
        return sd_bus_call(bus, m, 0, error, NULL);
}

/* A department network's segment on this host, before its desktop starts:
 * a host that never served the network gets it on first use. */
static int ensure_network(sd_bus *bus, const DesktopMeta *meta, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, NETD, "EnsureNetwork");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", meta->bridge);
        if (r >= 0)
                r = network_spec_append(m, meta->segment);
        if (r < 0)
                return r;
        return sd_bus_call(bus, m, 0, error, NULL);
}

/* The calls an action makes, with the metadata validated. */
static int hook_call(sd_bus *bus, HookAction action, const DesktopMeta *meta, sd_bus_error *error) {
        char addr[16];
        int r;

        ipv4_format(meta->address, addr);
        switch (action) {
        case HOOK_PREPARE:
                r = call(bus, IMAGED, "EnsureDisk", error, "ssss", meta->name, meta->disk_path,
                         meta->template_path, meta->template_format);
                if (r >= 0 && meta->segment)
                        r = ensure_network(bus, meta, error);
                return r;
        case HOOK_STARTED:
                return call(bus, NETD, "AddForward", error, "qsqss",
                            meta->rdp_port, addr, meta->guest_port, meta->name, strempty(meta->account));
        case HOOK_RELEASE:
                r = call(bus, NETD, "RemoveForward", error, "qs", meta->rdp_port, addr);
                /* Already gone (netd restarted and reconciled, or an admin
                 * removed it): the release has nothing left to do. */
                if (r < 0 && sd_bus_error_has_name(error, VDESK_ERROR_NO_SUCH_FORWARD))
                        r = 0;
                return r;
        default:
                return 0;
        }
}

int main(int argc, char *argv[]) {
        _cleanup_(freep) char *xml = NULL, *error_text = NULL;
        _cleanup_(config_done) VdeskConfig config = {};
        _cleanup_(desktop_meta_done) DesktopMeta meta = {};
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        HookAction action;
        int r;

        log_setup();
        /* stderr is what libvirt shows whoever started the domain: exactly
         * the one line refuse() writes, nothing echoed from the journal. */
        log_set_echo_stderr(false);
        if (argc < 4) {
                fprintf(stderr, "usage: %s DOMAIN OPERATION SUBOPERATION [EXTRA] < domain.xml\n",
                        program_invocation_short_name);
                return EXIT_FAILURE;
        }
        action = action_from_args(argv[2], argv[3]);

        /* Always drain stdin: libvirtd writes the whole XML and must not
         * see EPIPE. */
        r = read_full_fd(STDIN_FILENO, XML_MAX, &xml, NULL);
        if (r < 0)
                return refuse(argv[1], argv[2], "cannot read the domain XML from stdin");
        if (action == HOOK_NONE || !desktop_meta_present(xml))
                return EXIT_SUCCESS;

        r = config_load(config_path(), &config, &error_text);
        if (r < 0)
                return refuse(argv[1], argv[2], error_text ?: "cannot load the vdesk configuration");

        r = desktop_meta_parse_domain(xml, &meta, &error_text);
        if (r == -ENODATA)
                return EXIT_SUCCESS;
        if (r >= 0)
                r = desktop_meta_validate(&meta, &config, &error_text);
        if (r < 0)
                return refuse(argv[1], argv[2], error_text ?: "invalid vdesk metadata");
        if (!streq(meta.name, argv[1]))
                return refuse(argv[1], argv[2], "the domain XML names another domain than the hook's argument");
        if (action == HOOK_PREPARE && !meta.template_format)
                return refuse(argv[1], argv[2],
                              "metadata: <vdesk:disk template-format=> missing: the template's format is not "
                              "known (brokerd writes it when it connects to this host)");

        (void) bus_error_register();
        r = bus_open_from_config(&config, &bus);
        if (r < 0)
                return refuse(argv[1], argv[2], "cannot connect to the system bus");

        r = hook_call(bus, action, &meta, &error);
        if (r < 0) {
                _cleanup_(freep) char *msg = NULL;

                if (asprintf(&msg, "%s failed: %s", argv[2],
                             sd_bus_error_is_set(&error) ? error.message : strerror(-r)) < 0)
                        msg = NULL;
                return refuse(argv[1], argv[2], msg ?: "call failed");
        }
        return EXIT_SUCCESS;
}
