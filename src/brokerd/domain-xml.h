/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

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

/* A desktop domain: boots from its qcow2 overlay, one virtio NIC on the
 * desktop network with the MAC derived from its address, and the vdesk
 * metadata the hook provisions it from. */
int domain_xml_build(const DomainSpec *s, char **ret);

/* The desktop network from [Network]: forward mode 'open' (libvirt adds no
 * firewall rules; vdesk's own table does NAT and filtering), DHCP only for
 * the desktops' static host entries. */
int network_xml_build(const VdeskConfig *c, char **ret);

/* One <host mac= ip=/> entry for virNetworkUpdate. */
int dhcp_host_xml_build(const char *mac, const char *address, char **ret);
