/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

#include "manager.h"

/* The ISO catalog: the ISO images in [Images] IsoDir=, in the database.
 * Files that appear there are catalogued, and files that vanish leave it,
 * by themselves (inotify, then a rescan of the directory) or on request.
 * An admin may unregister an ISO (it stays on disk but cannot be built
 * from) and register it again. */

typedef struct Iso {
        char name[256];
        char format[16];        /* "iso9660" or "udf" */
        uint64_t size;
        uint64_t created_usec;  /* when vdesk first saw it */
        bool registered;
} Iso;

/* The format of an ISO image from its volume descriptors, or NULL. */
const char *iso_probe_format(int fd);

/* NULL or why name cannot be an ISO's (a file name in IsoDir). */
const char *iso_name_invalid_reason(const char *name);

/* Creates IsoDir, watches it and catalogues what is there. */
int iso_catalog_start(Manager *m);

/* Brings the catalog in line with IsoDir; counts what came and went. */
int iso_rescan(Manager *m, unsigned *ret_added, unsigned *ret_removed);

int iso_list(Manager *m, Iso **ret, size_t *ret_n);
int iso_register(Manager *m, const char *name, uid_t actor, sd_bus_error *error);
int iso_unregister(Manager *m, const char *name, uid_t actor, sd_bus_error *error);

/* A registered ISO to build from: its path and id; NoSuchIso otherwise. */
int iso_lookup(Manager *m, const char *name, char **ret_path, uint64_t *ret_id, sd_bus_error *error);
