/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "metadata.h"

/* The libvirt XML documents brokerd defines: pure builders (libxml2 does
 * the escaping), so that tests compare them with what they expect. */

typedef struct DomainSpec {
        const DesktopMeta *meta;        /* name, uuid and the vdesk facts */
        unsigned memory_mib;
        unsigned vcpus;
        bool kvm;                       /* else QEMU's software emulation */
        const char *console_log;        /* the serial console's log file, or NULL */
} DomainSpec;

/* A desktop domain: boots from its qcow2 overlay, whose backing store (the
 * metadata's template, in the metadata's template format, whole by itself)
 * the disk names, one virtio NIC on the desktop network with the MAC
 * derived from its address, and the vdesk metadata the hook provisions it
 * from. -EINVAL if the metadata names no template format. */
int domain_xml_build(const DomainSpec *s, char **ret);

/* A domain an admin works in over SPICE: a template's build (its empty
 * disk, booting the ISO when the disk does not boot) or edit (the edit
 * overlay, an ISO optional). */
typedef struct ConsoleDomainSpec {
        const char *name;
        const char *title;
        const char *disk_path;
        const char *disk_format;        /* "raw" or "qcow2" */
        const char *backing_path;       /* the edit overlay's base, or NULL */
        const char *backing_format;     /* its recorded format */
        const char *iso_path;           /* or NULL */
        const char *network;
        unsigned memory_mib;
        unsigned vcpus;
        bool kvm;
        const char *listen;             /* the address SPICE listens on */
        const char *password;           /* unknown to anybody, already expired */
        const char *console_log;        /* the serial console's log file, or NULL */
} ConsoleDomainSpec;

int console_domain_xml_build(const ConsoleDomainSpec *s, char **ret);

/* From a running domain's live XML: its SPICE port and listen address, and
 * the <graphics> element with password and validity set to the given ones
 * (valid_to: seconds since the epoch), for virDomainUpdateDeviceFlags.
 * -ENOENT if the domain has no SPICE graphics with a port. */
int spice_ticket_xml_build(const char *domain_xml, const char *password, uint64_t valid_to, char **ret_xml,
                           unsigned *ret_port, char **ret_listen);

/* A domain's XML with its vdesk metadata element replaced by meta's, and
 * the backing store of meta's disk set to meta's template and format. */
int domain_xml_set_meta(const char *domain_xml, const DesktopMeta *meta, char **ret);

/* A desktop network as libvirt keeps it: the host's ([Network]) or a
 * department network's. Forward mode 'open' (libvirt adds no firewall
 * rules; vdesk's own tables do NAT and filtering), the gateway on the
 * bridge, DHCP only for the desktops' static host entries. */
typedef struct DhcpHost {
        char mac[18];
        uint32_t address;
} DhcpHost;

typedef struct LibvirtNetwork {
        const char *name;
        const char *bridge;
        const char *gateway;
        unsigned prefix;
        unsigned mtu;                   /* 0: libvirt's default */
        const DhcpHost *hosts;          /* its static DHCP entries when defined */
        size_t n_hosts;
} LibvirtNetwork;

int network_xml_build(const LibvirtNetwork *n, char **ret);

/* One <host mac= ip=/> entry for virNetworkUpdate. */
int dhcp_host_xml_build(const char *mac, const char *address, char **ret);
