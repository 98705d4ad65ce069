/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* conf-check FILE: loads FILE as vdesk.conf (with its drop-ins) and says
 * why not if it cannot. */

#include "conf.h"
#include "macro.h"

int main(int argc, char *argv[]) {
        _cleanup_(config_done) VdeskConfig c = {};
        _cleanup_(freep) char *error = NULL;

        if (argc != 2)
                return 2;
        if (config_load(argv[1], &c, &error) < 0) {
                fprintf(stderr, "%s\n", error ?: "cannot load");
                return 1;
        }
        return 0;
}
