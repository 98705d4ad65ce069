/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-error.h"
#include "link.h"
#include "log.h"
#include "message-id.h"
#include "segment.h"
#include "util.h"

void segments_init(Segments *segs, NftContext *nft) {
        *segs = (Segments) { .nft = nft };
}

void segments_done(Segments *segs) {
        segs->link_watch = sd_event_source_disable_unref(segs->link_watch);
        free(segs->served);
        segs->served = NULL;
        segs->n_served = 0;
}

void segment_log(const char *bridge, const NetworkSpec *s, bool up, uid_t actor) {
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

int segment_check(const NetworkSpec *s, sd_bus_error *error) {
        return link_segment_check(s, error);
}

/* The network's elements of the vdesk tables (nft.h). */
static int network_elements(Segments *segs, NftOp op, const char *bridge, const NetworkSpec *s) {
        char port[16] = "";

        (void) network_segment_name(s, port);
        return nft_network_change(segs->nft, op, &(NftNetwork) {
                .subnet = s->subnet, .prefix = s->prefix, .gateway = s->gateway, .bridge = bridge,
                .segment_port = port,
        });
}

static ServedNetwork *served_find(Segments *segs, const char *bridge) {
        for (size_t i = 0; i < segs->n_served; i++)
                if (streq(segs->served[i].bridge, bridge))
                        return &segs->served[i];
        return NULL;
}

static void served_forget(Segments *segs, const char *bridge) {
        ServedNetwork *n = served_find(segs, bridge);

        if (n)
                *n = segs->served[--segs->n_served];
}

int segments_ensure(Segments *segs, const char *bridge, const NetworkSpec *s, sd_bus_error *error) {
        ServedNetwork *n;
        int r;

        if (s->segment != SEGMENT_NONE)
                r = link_segment_ensure(bridge, s, error);
        else
                r = link_bridge_check(bridge, s, error);
        if (r < 0)
                return r;
        r = network_elements(segs, NFT_OP_ADD, bridge, s);
        if (r < 0)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot add network %s to the vdesk tables: %s",
                                      s->name, strerror(-r));
        n = served_find(segs, bridge);
        if (!n) {
                n = reallocarray(segs->served, segs->n_served + 1, sizeof *segs->served);
                if (!n)
                        return 0;       /* served all the same; only its bridge's going is not noticed */
                segs->served = n;
                n = &segs->served[segs->n_served++];
                snprintf(n->bridge, sizeof n->bridge, "%s", bridge);
        }
        n->spec = *s;
        return 0;
}

int segments_remove(Segments *segs, const char *bridge, const NetworkSpec *s, sd_bus_error *error) {
        int r;

        r = link_segment_remove(s, error);
        if (r >= 0)
                r = network_elements(segs, NFT_OP_DELETE, bridge, s);
        if (r == -ENOENT)
                r = 0;
        else if (r < 0 && !sd_bus_error_is_set(error))
                r = bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot remove network %s from the vdesk tables: %s",
                                   s->name, strerror(-r));
        if (r >= 0)
                served_forget(segs, bridge);
        return r;
}

static void on_link_gone(const char *name, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        Segments *segs = userdata;
        ServedNetwork *n = served_find(segs, name);
        NetworkSpec s;

        if (!n)
                return;
        s = n->spec;
        if (segments_remove(segs, name, &s, &e) < 0) {
                log_warning("Bridge %s of network %s went, but its segment stays: %s", name, s.name, e.message);
                return;
        }
        /* the actor: whoever removed the bridge (libvirt, for the broker) */
        segment_log(name, &s, false, 0);
}

int segments_watch_bridges(Segments *segs, sd_event *e) {
        return link_watch_deleted(e, on_link_gone, segs, &segs->link_watch);
}
