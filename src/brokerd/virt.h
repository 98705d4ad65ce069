/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

/* brokerd's libvirt connection: the one module that includes libvirt.
 * libvirt's event loop runs on sd-event (virEventRegisterImpl), so domain
 * lifecycle events, keepalive and the close callback are served by the
 * daemon's one loop. A lost connection is reopened with backoff. */

typedef enum VirtDomainState {
        VIRT_DOMAIN_STOPPED,
        VIRT_DOMAIN_RUNNING,
        _VIRT_DOMAIN_STATE_MAX,
        _VIRT_DOMAIN_STATE_INVALID = -EINVAL,
} VirtDomainState;

const char *virt_domain_state_to_string(VirtDomainState s);
VirtDomainState virt_domain_state_from_string(const char *s);

typedef struct Virt Virt;

typedef struct VirtCallbacks {
        /* A domain started or stopped (by anyone: brokerd, virsh, a crash). */
        void (*lifecycle)(const char *name, VirtDomainState state, void *userdata);
        /* The connection is (again) open: a chance to resynchronise. */
        void (*connected)(void *userdata);
        /* A graphics (SPICE) client of a domain got past authentication. */
        void (*graphics_authenticated)(const char *name, const char *client_address, void *userdata);
} VirtCallbacks;

/* Puts libvirt's event loop on e; once per process, before any connection. */
int virt_event_register(sd_event *e);
/* Takes it off again, after the last connection was closed. */
void virt_event_unregister(void);

/* Opens uri now and, on failure or loss, again with backoff. */
int virt_new(sd_event *e, const char *uri, const VirtCallbacks *cb, void *userdata, Virt **ret);
Virt *virt_free(Virt *v);

bool virt_is_connected(Virt *v);

/* Each returns -ENOTCONN when not connected, -ENOENT for an unknown domain
 * or network, -EIO with libvirt's message in *ret_error otherwise. */
int virt_domain_define(Virt *v, const char *xml, char **ret_error);
int virt_domain_undefine(Virt *v, const char *name, char **ret_error);
int virt_domain_start(Virt *v, const char *name, char **ret_error);
int virt_domain_stop(Virt *v, const char *name, bool force, char **ret_error);
int virt_domain_get_state(Virt *v, const char *name, VirtDomainState *ret);
int virt_domain_exists(Virt *v, const char *name);

/* The domain's XML, live or (inactive) as defined; never with secrets. */
int virt_domain_get_xml(Virt *v, const char *name, bool inactive, char **ret, char **ret_error);
/* Changes a device of the running domain (virDomainUpdateDeviceFlags, live
 * only): a graphics password, for one. */
int virt_domain_update_device(Virt *v, const char *name, const char *device_xml, char **ret_error);

/* Defines the network if absent, starts it if inactive, marks it
 * autostart. Returns 1 if it did anything. */
int virt_network_ensure(Virt *v, const char *name, const char *xml, char **ret_error);
/* 1 if the network runs, 0 if it is defined but stopped, -ENOENT if there
 * is none. */
int virt_network_is_active(Virt *v, const char *name);
/* Stops and undefines the network; -ENOENT if there is none. */
int virt_network_remove(Virt *v, const char *name, char **ret_error);

/* Adds (or deletes) a DHCP host entry, live and in the persistent
 * definition. Adding an entry that is there, or deleting one that is not,
 * succeeds. */
int virt_network_dhcp_host(Virt *v, const char *network, const char *host_xml, bool add, char **ret_error);
