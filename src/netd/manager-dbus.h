/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* Registers the Manager object on m->bus. */
int manager_add_bus_objects(Manager *m);
