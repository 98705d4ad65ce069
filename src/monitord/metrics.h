/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "monitor.h"

/* The Prometheus text format of the last sample. */
int metrics_render(Monitor *m, char **ret);
/* Serves it on [Monitor] MetricsListen=. */
int metrics_listen(Monitor *m);
/* Closes the listening socket and every scraper's connection. */
void metrics_close(Monitor *m);
