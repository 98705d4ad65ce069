/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "conf.h"
#include "network-spec.h"

/* The vdesk facts a desktop domain carries in its <metadata>, so that a host
 * needs nothing else to serve it. Schema version 1:
 *
 *   <vdesk:desktop xmlns:vdesk="https://vdesk.org/xmlns/desktop/1">
 *     <vdesk:account>alice</vdesk:account>
 *     <vdesk:disk path="DISKDIR/NAME.qcow2" template="TEMPLATEDIR/FILE" template-format="raw"/>
 *     <vdesk:network name="vdesk" bridge="vdeskbr0" address="10.20.0.15" mac="52:54:0a:14:00:0f"/>
 *     <vdesk:rdp port="50001" guest-port="3389"/>
 *   </vdesk:desktop>
 *
 * A desktop of a department network also carries the network, so that the
 * host brings its segment up before the desktop starts:
 *
 *     <vdesk:segment name="sales" type="vxlan" subnet="10.30.0.0/24"
 *         gateway="10.30.0.1" range="10.30.0.10-10.30.0.250" vlan="0"
 *         uplink="" vni="3001" local="" group="" port="4789" mtu="1450">
 *       <vdesk:peer address="192.0.2.1"/> ...
 *     </vdesk:segment>
 *
 * The desktop's name is the domain's <name>. template-format is the template
 * version's format as vdesk recorded it (raw or qcow2), never read from the
 * file, whose first bytes a guest wrote; it came after the first domains
 * were defined: absent, a desktop's disk is not made (the hook refuses to
 * prepare it) until the broker writes the metadata again. The domain's disk
 * names its backing store and that store's format likewise; when it does,
 * they must be the template and its format. */

#define VDESK_METADATA_NS "https://vdesk.org/xmlns/desktop/1"
#define VDESK_METADATA_PREFIX "vdesk"

typedef struct DesktopMeta {
        char *name;
        char *uuid;             /* the domain's, when it has one */
        char *account;
        char *disk_path;
        char *template_path;
        char *template_format;  /* "raw" or "qcow2"; NULL in metadata written before it was */
        char *network;
        char *bridge;
        char *mac;
        uint32_t address;       /* host byte order */
        uint16_t rdp_port;
        uint16_t guest_port;
        NetworkSpec *segment;   /* NULL: the host's desktop network */
} DesktopMeta;

/* Parses a whole domain XML. Returns -ENODATA if it has no vdesk metadata
 * (not a desktop), -EINVAL with *ret_error naming the bad element or
 * attribute if the metadata is malformed. Checks only form, not policy. */
int desktop_meta_parse_domain(const char *xml, DesktopMeta *ret, char **ret_error);

/* Checks the metadata against this host's configuration: disk inside
 * DiskDir, template inside TemplateDir, port in the forward range, names
 * well formed, MAC derived from the address. The template's format, if the
 * metadata names one, is raw or qcow2 (whoever needs it checks it is
 * there). */
int desktop_meta_validate(const DesktopMeta *m, const VdeskConfig *c, char **ret_error);

/* The <vdesk:desktop> element's XML, for virDomainSetMetadata or a domain
 * document. */
int desktop_meta_format(const DesktopMeta *m, char **ret);
/* The same in the default namespace (<desktop xmlns="...">), as
 * virDomainSetMetadata takes it: libvirt declares the prefix itself and
 * refuses an element that declares it already. */
int desktop_meta_format_unprefixed(const DesktopMeta *m, char **ret);

/* Cheap test for the namespace, so that other domains pass untouched
 * without an XML parse. */
int desktop_meta_present(const char *xml);

void desktop_meta_done(DesktopMeta *m);
