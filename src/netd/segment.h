/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "network-spec.h"
#include "nft.h"

/* The department networks this host serves: for each, its segment's link
 * (link.h) enslaved to its bridge, and its elements of the vdesk tables
 * (nft.h). Errors go to an sd_bus_error, named as link.h says, so that
 * EnsureNetwork's caller reads what is wrong on this host. */

/* A department network this host serves: its bridge and what EnsureNetwork
 * (or reconcile) was given, so that the segment goes with the bridge. */
typedef struct ServedNetwork {
        char bridge[16];
        NetworkSpec spec;
} ServedNetwork;

typedef struct Segments {
        NftContext *nft;                /* the forwards' context, borrowed */
        ServedNetwork *served;
        size_t n_served;
        sd_event_source *link_watch;    /* bridges going away */
} Segments;

void segments_init(Segments *segs, NftContext *nft);
void segments_done(Segments *segs);

/* Whether this host could carry the segment (link_segment_check()).
 * Changes nothing. */
int segment_check(const NetworkSpec *s, sd_bus_error *error);

/* Brings a department network up on this host: its segment's link (or, for
 * one without a segment, a check of its bridge), then its elements; the
 * network is served from then on. Idempotent. */
int segments_ensure(Segments *segs, const char *bridge, const NetworkSpec *s, sd_bus_error *error);

/* Takes it down: the segment's link first, then the elements; what is not
 * there is no error. */
int segments_remove(Segments *segs, const char *bridge, const NetworkSpec *s, sd_bus_error *error);

/* Watches for bridges going away: when libvirt removes a department
 * network's bridge (the network deleted, on any host), its segment link and
 * elements go too. */
int segments_watch_bridges(Segments *segs, sd_event *e);

/* Journals a network set up or taken down on this host. */
void segment_log(const char *bridge, const NetworkSpec *s, bool up, uid_t actor);
