/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* Puts the broker on the bus: the Manager at /org/vdesk/broker1 with its
 * methods. */
int manager_add_bus_objects(Manager *m);
