#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# tcp-banner.py PORT TEXT: answers every TCP connection with one line,
# "TEXT peer=<client address>", then closes it. A stand-in for a desktop's
# RDP port in forwarding tests: the peer address shows what NAT did.
import socket
import sys

port, text = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port))
s.listen(64)
while True:
    c, peer = s.accept()
    try:
        c.sendall(f"{text} peer={peer[0]}\n".encode())
    finally:
        c.close()
