/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <systemd/sd-bus.h>

#include "manager.h"

/* The broker's things as objects on the bus, as systemd-machined serves
 * its machines: each kind under a prefix (/org/vdesk/broker1/desktop/NAME,
 * NAME escaped as sd_bus_path_encode() does), served from one fallback
 * vtable with node enumeration, not one vtable per row;
 * org.freedesktop.DBus.ObjectManager on /org/vdesk/broker1; the models'
 * news (ManagerEvents) sent as InterfacesAdded, InterfacesRemoved and
 * PropertiesChanged.
 *
 * Reading an object is reading the catalog: it takes what the Manager's
 * read methods take. The bus cannot wait for polkit while it answers a
 * Get, so an object is shown to root, to the broker's own user, to the
 * members of vdesk-admin (whom the shipped polkit rule allows everything)
 * and to a caller polkit allowed org.vdesk.broker1.read (or .manage) in
 * the last five minutes (call a Manager method first, e.g.
 * GetDesktopObject, on the same connection); to anyone else it does not
 * exist. Its methods are for everybody to call: they ask polkit first, as
 * the Manager's do. The signals go to the listeners the bus policy lets
 * receive them (dbus/org.vdesk.broker1.conf: root, vdesk-admin, the
 * monitor). */

typedef struct BusObjectType {
        ObjectKind kind;
        const char *prefix;             /* "/org/vdesk/broker1/desktop" */
        const char *interface;          /* "org.vdesk.broker1.Desktop" */
        const sd_bus_vtable *vtable;
        /* Reads the object called name for the getters and methods that
         * follow at once: > 0 and the slot they get as userdata (it starts
         * with the Manager pointer: a method's userdata is a Manager **,
         * also for a thing that is not there, which the method names), 0
         * if there is none. */
        int (*load)(Manager *m, const char *name, void **ret_slot);
        /* The names of all of them. */
        int (*list)(Manager *m, char ***ret);
        /* Signals of its own besides PropertiesChanged (HostStateChanged);
         * properties is NULL for an object just added. */
        void (*changed)(Manager *m, const char *name, char **properties);
} BusObjectType;

/* Registers the types' fallback vtables and enumerators, the object
 * manager, and the events that send the signals. */
int bus_objects_register(Manager *m, const BusObjectType *const *types, size_t n);
void bus_objects_free(Manager *m);

/* For a method that serves both the Manager (NAME its first argument) and
 * an object (NAME in its path): the name it is about. */
int bus_object_name(sd_bus_message *msg, const char *prefix, char **ret);

/* The path of the object of kind called name. */
int bus_object_path(ObjectKind kind, const char *name, char **ret);

/* Property getters for what sd-bus has none for: a char array, a bool. */
int bus_property_get_chars(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error);
int bus_property_get_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *error);
