/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

/* Waits, without blocking the loop, until a TCP port accepts a connection:
 * non-blocking connects retried until one succeeds or the deadline passes. */

typedef struct TcpProbe TcpProbe;

/* result: 0 when a connection was accepted, -ETIMEDOUT at the deadline. */
typedef void (*TcpProbeFunc)(TcpProbe *p, int result, void *userdata);

int tcp_probe_start(sd_event *e, uint32_t address, uint16_t port, uint64_t timeout_usec,
                    TcpProbeFunc done, void *userdata, TcpProbe **ret);
TcpProbe *tcp_probe_free(TcpProbe *p);
