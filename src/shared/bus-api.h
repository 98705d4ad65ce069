/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* vdesk's services as their callers (the other services, the hook, vdeskctl,
 * the benchmarks) address them, and the records their replies carry: one
 * definition for every side, so that a caller cannot read a reply another
 * way than the service writes it. dbus/ publishes the same. */

/* destination, object, interface: for sd_bus_call_method() and friends */
#define BROKERD    "org.vdesk.broker1", "/org/vdesk/broker1", "org.vdesk.broker1.Manager"
#define DIRECTORYD "org.vdesk.directory1", "/org/vdesk/directory1", "org.vdesk.directory1.Manager"
#define IMAGED     "org.vdesk.images1", "/org/vdesk/images1", "org.vdesk.images1.Manager"
#define NETD       "org.vdesk.network1", "/org/vdesk/network1", "org.vdesk.network1.Manager"
#define MONITORD   "org.vdesk.monitor1", "/org/vdesk/monitor1", "org.vdesk.monitor1.Manager"

/* a desktop: name, uuid, account, template, address, MAC, RDP port, state,
 * host */
#define DESKTOP_SIGNATURE  "(ssssssqss)"
/* a desktop as its staff member sees it: name, account, category ("" if
 * none), template, state, state changed (µs), host, RDP port */
#define STAFF_DESKTOP_SIGNATURE "(sssssxsq)"
/* a staff member of a department a manager manages: department, account
 * id, name */
#define MANAGED_STAFF_SIGNATURE "(sss)"
/* a desktop of a manager's staff: department, account id, name, desktop,
 * state, state changed (µs); "", "" and 0 for a member without one */
#define MANAGED_DESKTOP_SIGNATURE "(sssssx)"
/* an RDP forward: host port, guest address, guest port, desktop */
#define FORWARD_SIGNATURE  "(qsqs)"
/* an account: id, name, role, e-mail, state, created, updated (µs) */
#define ACCOUNT_SIGNATURE  "(sssssxx)"
/* an ISO: name, format, size, catalogued (µs) */
#define ISO_SIGNATURE      "(sstt)"
/* a template: name, state, format, newest version, size, memory MiB, vCPUs,
 * OS type, description, ISO, newest version's file */
#define TEMPLATE_SIGNATURE "(sssutuussss)"
/* a template version: version, file, committed (µs), its desktops */
#define TEMPLATE_VERSION_FIELDS    "ustas"
#define TEMPLATE_VERSION_SIGNATURE "(" TEMPLATE_VERSION_FIELDS ")"
/* a console: spice:// URI, host, port, ticket, valid until (µs), .vv file */
#define CONSOLE_SIGNATURE  "(ssqsts)"
/* a department network: name, subnet, gateway, range, segment, bridge, VLAN,
 * uplink, VNI, local, group, peers, port, MTU, addresses taken, in all */
#define NETWORK_FIELDS     "ssssssusussasquuu"
#define NETWORK_SIGNATURE  "(" NETWORK_FIELDS ")"
/* a cluster: name, capacity, hosts, desktops */
#define CLUSTER_SIGNATURE  "(suuu)"
/* a category's pool: category, PoolSize=, PoolStarted=, desktops made
 * (nobody's yet), of which running */
#define POOL_SIGNATURE     "(suuuu)"
/* a host: name, URI, cluster, address, state (up, down, maintenance), why
 * it is down, desktops defined, running, memory, free, committed to
 * running desktops (KiB), the desktops' CPU use (0..1), load score */
#define HOST_FIELDS        "ssssssuutttdd"
#define HOST_SIGNATURE     "(" HOST_FIELDS ")"
/* a host's figures (vdesk-monitord): name, URI, state (up, down), host
 * name, CPU model, CPUs, sockets, cores, threads, MHz, max vCPUs of a
 * domain, memory and free (KiB), CPU utilisation (0..1), desktops running */
#define HOST_STATS_SIGNATURE    "(sssssuuuuuuttdu)"
/* a desktop's figures: host, name, state (running, stopped), vCPUs, memory
 * current and maximum (KiB), CPU (share of its vCPUs, 0..1), disk read and
 * write bytes/s and requests/s, network receive and transmit bytes/s,
 * uptime (s; 0 when stopped) */
#define DESKTOP_STATS_SIGNATURE "(sssuttdddddddt)"
