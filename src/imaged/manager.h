/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "conf.h"

#define IMAGED_BUS_NAME "org.vdesk.images1"
#define IMAGED_OBJECT_PATH "/org/vdesk/images1"
#define IMAGED_INTERFACE "org.vdesk.images1.Manager"

typedef struct CommitJob CommitJob;

/* The image agent: its configuration, its bus and the commits in flight. */
typedef struct ImageManager {
        const VdeskConfig *config;
        sd_bus *bus;
        CommitJob *commits;             /* template commits in flight */
} ImageManager;

