#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Turns an X window dump (xwd -root, 24/32-bit TrueColor) into a PNG and
# prints what a test needs to judge it: "WIDTHxHEIGHT COLORS LIT", where
# COLORS is the number of distinct colours and LIT the share (per mille)
# of pixels brighter than mid-grey: text on a console's black screen.
#
#   screenshot.py IN.xwd OUT.png
import struct
import sys
import zlib

data = open(sys.argv[1], 'rb').read()
h = struct.unpack('>25I', data[:100])
header_size, width, height = h[0], h[4], h[5]
byte_order, bpp, bytes_per_line, ncolors = h[7], h[11], h[12], h[19]
masks = h[14:17]
if bpp not in (24, 32):
    sys.exit(f'{sys.argv[1]}: {bpp} bits per pixel, not a TrueColor dump')
start = header_size + 12 * ncolors
step = bpp // 8


def shift(mask):
    return (mask & -mask).bit_length() - 1


shifts = [shift(m) for m in masks]
order = 'little' if byte_order == 0 else 'big'
rows, colors, lit = [], set(), 0
for y in range(height):
    line = data[start + y * bytes_per_line:start + y * bytes_per_line + width * step]
    row = bytearray(b'\0')
    for x in range(0, width * step, step):
        p = int.from_bytes(line[x:x + step], order)
        rgb = tuple((p & m) >> s for m, s in zip(masks, shifts))
        row += bytes(rgb)
        colors.add(rgb)
        if sum(rgb) > 384:
            lit += 1
    rows.append(bytes(row))


def chunk(kind, body):
    return struct.pack('>I', len(body)) + kind + body + struct.pack('>I', zlib.crc32(kind + body))


with open(sys.argv[2], 'wb') as f:
    f.write(b'\x89PNG\r\n\x1a\n')
    f.write(chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)))
    f.write(chunk(b'IDAT', zlib.compress(b''.join(rows), 6)))
    f.write(chunk(b'IEND', b''))
print(f'{width}x{height} {len(colors)} {lit * 1000 // (width * height)}')
