#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# udp-banner.py PORT TEXT: answers every UDP datagram with one line,
# "TEXT peer=<client address>". A stand-in for a host's DHCP or DNS server
# in filtering tests.
import socket
import sys

port, text = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port))
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(f"{text} peer={peer[0]}\n".encode(), peer)
