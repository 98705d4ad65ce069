/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* bench-images: one round of the overlay benchmark's vdesk side. N
 * desktop overlays of one template derived through vdesk-imaged's
 * EnsureDisk, one call after another (each waits for its reply, the disk
 * is on disk and fsynced when it returns); prints each call's time in ms,
 * one a line, for tests/bench/images to set against its shell loop.
 *
 *   bench-images N TEMPLATE FORMAT DISK_DIR ROUND
 *
 * FORMAT is the template's (raw or qcow2), as vdesk records it. */

#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-bus.h>

#include "bench.h"
#include "bus-api.h"
#include "macro.h"

int main(int argc, char *argv[]) {
        sd_bus *bus = NULL;
        unsigned n;
        int r;

        if (argc != 6) {
                fprintf(stderr, "usage: bench-images N TEMPLATE FORMAT DISK_DIR ROUND\n");
                return 2;
        }
        n = (unsigned) atoi(argv[1]);
        r = sd_bus_open_system(&bus);
        if (r < 0)
                die_bus("bus", r, NULL);
        for (unsigned i = 0; i < n; i++) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                sd_bus_message *reply = NULL;
                char desktop[64], path[4096];
                unsigned long long a;
                int created;

                snprintf(desktop, sizeof desktop, "r%s-d%u", argv[5], i);
                snprintf(path, sizeof path, "%s/%s.qcow2", argv[4], desktop);
                a = now_usec();
                r = sd_bus_call_method(bus, IMAGED, "EnsureDisk", &e, &reply, "ssss", desktop, path, argv[2],
                                       argv[3]);
                if (r < 0)
                        die_bus("EnsureDisk", r, &e);
                printf("%.3f\n", ms(a, now_usec()));
                /* a disk already there would be a round that measured nothing */
                r = sd_bus_message_read(reply, "b", &created);
                if (r < 0 || !created) {
                        fprintf(stderr, "EnsureDisk %s: no disk created\n", path);
                        return 1;
                }
                sd_bus_message_unref(reply);
        }
        sd_bus_flush_close_unref(bus);
        return 0;
}
