#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# tcp-banner.py PORT TEXT [hold]: answers every TCP connection with one
# line, "TEXT peer=<client address>", then closes it; with "hold", keeps
# it open until the client closes it, as an RDP session open but quiet
# does. A stand-in for a desktop's RDP port in forwarding tests: the peer
# address shows what NAT did.
import socket
import sys
import threading

port, text = int(sys.argv[1]), sys.argv[2]
hold = len(sys.argv) > 3 and sys.argv[3] == "hold"


def serve(c, peer):
    try:
        c.sendall(f"{text} peer={peer[0]}\n".encode())
        while hold and c.recv(4096):
            pass
    finally:
        c.close()


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port))
s.listen(64)
while True:
    c, peer = s.accept()
    if hold:
        threading.Thread(target=serve, args=(c, peer), daemon=True).start()
    else:
        serve(c, peer)
