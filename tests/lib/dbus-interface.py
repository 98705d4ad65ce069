#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# dbus-interface.py NAME < introspection.xml: prints the <interface> NAME
# from a node's introspection data in a canonical form (the form the files
# in dbus/ are kept in), so that the daemon's interface and the published
# file can be compared as text.
import sys
import xml.etree.ElementTree as ET

name = sys.argv[1]
root = ET.fromstring(sys.stdin.read())
iface = next((i for i in root.findall("interface") if i.get("name") == name), None)
if iface is None:
    sys.exit(f"no interface {name}")


def emit(el, depth):
    attrs = "".join(f' {k}="{v}"' for k, v in el.attrib.items())
    pad = "  " * depth
    kids = list(el)
    if not kids:
        print(f"{pad}<{el.tag}{attrs}/>")
        return
    print(f"{pad}<{el.tag}{attrs}>")
    for k in kids:
        emit(k, depth + 1)
    print(f"{pad}</{el.tag}>")


print('<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"')
print(' "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">')
print(f"<!-- SPDX-License-Identifier: LGPL-2.1-or-later -->")
print("<node>")
emit(iface, 1)
print("</node>")
