/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

/* Listening sockets named by a setting, and the addresses of their peers. */

/* A listening TCP or Unix stream socket (non-blocking, close-on-exec) for
 * spec: IPV4:PORT, [IPV6]:PORT or an absolute path (a stale socket file
 * there is replaced). key names the setting in what is logged, e.g.
 * "[Monitor] MetricsListen". Returns the descriptor or a negative errno,
 * logged. */
int socket_listen_spec(const char *key, const char *spec, int backlog);

/* Whether fd is bound to a loopback address (127.0.0.0/8, ::1, an
 * IPv4-mapped loopback) or is a Unix socket: nobody but this host reaches it. */
bool socket_is_local(int fd);

/* sa's address as text, an IPv4-mapped IPv6 address as IPv4; "unix" for a
 * Unix socket. */
#define SOCKADDR_TEXT_MAX INET6_ADDRSTRLEN
void sockaddr_address_text(const struct sockaddr *sa, char ret[static SOCKADDR_TEXT_MAX]);
