/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "monitor.h"

/* Puts the monitor on the bus: the Manager at /org/vdesk/monitor1. */
int monitor_add_bus_objects(Monitor *m);
