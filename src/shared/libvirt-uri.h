/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one rule for a libvirt URI vdesk connects to, wherever it comes from
 * ([Libvirt] URI=, AddHost, the hosts table, the broker's ListHosts as
 * vdesk-monitord reads it): a transport vdesk uses, a well-formed host,
 * the path /system, and only query parameters that tune how TLS or ssh
 * verify and authenticate — none that names a program, a socket or
 * another URI for libvirt to use. */

/* Where a URI's pkipath=, keyfile= and known_hosts= may point: the remote
 * hosts' client certificates and keys (README: "Remote hosts"). */
#define VDESK_URI_FILES_DIR "/etc/vdesk/pki/"

#define LIBVIRT_URI_REASON_MAX 320
#define LIBVIRT_URI_HOST_MAX 256

/* NULL if uri is a libvirt URI vdesk may connect to (qemu:///system,
 * qemu+tls://host/system and the other remote transports, test:///default
 * for trials), else why not: a phrase that follows the URI ("has no path
 * (/system)"), a constant or written into reason. If ret_host is not NULL
 * it gets the URI's host name ("" for a local URI; LIBVIRT_URI_HOST_MAX
 * bytes). */
const char *libvirt_uri_invalid_reason(const char *uri, char reason[static LIBVIRT_URI_REASON_MAX], char *ret_host);
