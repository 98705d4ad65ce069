#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Tries a SPICE password the way a SPICE client does: links the main
# channel (spice-protocol's SpiceLinkMess, no capabilities: the plain
# SPICE ticket authentication), encrypts the password with the server's
# RSA key (OAEP, SHA-1) and prints the server's verdict: "ok", or
# "denied <code>" (7: permission denied). Exits 0 either way, 1 if the
# server could not be talked to.
#
#   spice-link.py HOST PORT PASSWORD
import hashlib
import os
import socket
import struct
import sys

host, port, password = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode() + b'\0'


def recv_exact(s, n):
    b = b''
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            sys.exit('the server closed the connection')
        b += c
    return b


def der(buf, i):
    """One DER element at i: (tag, content start, content end)."""
    tag, n = buf[i], buf[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7f
        n = int.from_bytes(buf[i:i + k], 'big')
        i += k
    return tag, i, i + n


def rsa_key(spki):
    # SubjectPublicKeyInfo: SEQ { SEQ { alg }, BIT STRING { SEQ { n, e } } }
    _, s, _ = der(spki, 0)
    _, _, alg_end = der(spki, s)
    _, b, _ = der(spki, alg_end)
    _, s, _ = der(spki, b + 1)          # skip the unused-bits byte
    _, ns, ne = der(spki, s)
    _, es, ee = der(spki, ne)
    return int.from_bytes(spki[ns:ne], 'big'), int.from_bytes(spki[es:ee], 'big')


def mgf1(seed, n):
    out, c = b'', 0
    while len(out) < n:
        out += hashlib.sha1(seed + struct.pack('>I', c)).digest()
        c += 1
    return out[:n]


def oaep_encrypt(n, e, msg):
    k, h = (n.bit_length() + 7) // 8, 20
    db = hashlib.sha1(b'').digest() + b'\0' * (k - len(msg) - 2 * h - 2) + b'\1' + msg
    seed = os.urandom(h)
    masked_db = bytes(a ^ b for a, b in zip(db, mgf1(seed, k - h - 1)))
    masked_seed = bytes(a ^ b for a, b in zip(seed, mgf1(masked_db, h)))
    em = int.from_bytes(b'\0' + masked_seed + masked_db, 'big')
    return pow(em, e, n).to_bytes(k, 'big')


with socket.create_connection((host, port), timeout=10) as s:
    mess = struct.pack('<IBBIII', 0, 1, 0, 0, 0, 18)   # main channel, no caps
    s.sendall(struct.pack('<4sIII', b'REDQ', 2, 2, len(mess)) + mess)
    magic, major, minor, size = struct.unpack('<4sIII', recv_exact(s, 16))
    if magic != b'REDQ':
        sys.exit('not a SPICE server')
    reply = recv_exact(s, size)
    error = struct.unpack('<I', reply[:4])[0]
    if error:
        print(f'denied {error}')
        sys.exit(0)
    n, e = rsa_key(reply[4:4 + 162])
    s.sendall(oaep_encrypt(n, e, password))
    result = struct.unpack('<I', recv_exact(s, 4))[0]
    print('ok' if result == 0 else f'denied {result}')
