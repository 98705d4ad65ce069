/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* Puts the image agent on the bus: the Manager at /org/vdesk/images1. */
int image_manager_add_bus_objects(ImageManager *m);
