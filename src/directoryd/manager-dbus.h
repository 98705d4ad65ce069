/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* Puts the directory on the bus: the Manager at /org/vdesk/directory1. */
int manager_add_bus_objects(Manager *m);
