/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "network-spec.h"

/* A department network's segment on this host, through rtnetlink (libmnl):
 * the VLAN sub-interface <uplink>.<id> or the VXLAN device vdvx<VNI>, up,
 * with the network's MTU, enslaved to the network's bridge (made with the
 * network's gateway by libvirt, or by whoever brings the bridge). No
 * process is run.
 *
 * Ensuring is idempotent: a link of the segment's name that is what it
 * should be is adopted (enslaved, set up, its peers added); one that is
 * something else is LinkConflict, an uplink that is not there NoSuchUplink,
 * a bridge that is not there NotReady, and then nothing was changed. */

int link_segment_ensure(const char *bridge, const NetworkSpec *s, sd_bus_error *error);

/* Whether bridge is the network's on this host: a bridge (LinkConflict
 * otherwise; NotReady if there is none) that holds the network's gateway
 * address, as libvirt makes it (LinkConflict otherwise). Changes nothing;
 * link_segment_ensure() checks it too. */
int link_bridge_check(const char *bridge, const NetworkSpec *s, sd_bus_error *error);

/* Whether this host could carry the segment: its uplink, if it names one,
 * is here (NoSuchUplink otherwise). Changes nothing. */
int link_segment_check(const NetworkSpec *s, sd_bus_error *error);

/* Removes the segment's link; one that is not there is no error. A link of
 * that name that is not the segment's is LinkConflict and stays. */
int link_segment_remove(const NetworkSpec *s, sd_bus_error *error);

/* Calls gone(name) for each link deleted on this host from now on (an
 * rtnetlink RTMGRP_LINK listener on the loop). */
typedef void (*LinkGoneFunc)(const char *name, void *userdata);
int link_watch_deleted(sd_event *e, LinkGoneFunc gone, void *userdata, sd_event_source **ret);
