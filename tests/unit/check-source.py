#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The shape of vdesk's C sources, read crudely but well enough for this
tree's systemd style (a definition starts at column 0, its body ends with
"}" at column 0):

- a function reads as the sequence of its steps: none is longer than
  MAX_LINES lines unless the comment just above it says why, with
  LONG_MARKER ("Long because ...");
- inside each folder of src/ (a daemon, vdeskctl, shared), the modules
  (x.c and x.h one node; x -> y when x.c or x.h includes "y.h" of the same
  folder) form no cycle, so that the calls of a folder go one way;
- the calls go from the bus face down to the models: no module but a
  "-dbus" one and the daemon's main file (the folder's name) includes a
  "-dbus" module's header;
- a function lives where its name's header says: one declared in x.h is
  defined in x.c, when there is an x.c.

Usage: check-source.py SRCDIR [FOLDER ...]
(FOLDER: only these folders of SRCDIR; all of them by default.)
Prints every problem with its file and line, and exits 1 if there is one."""

import os
import re
import sys
import tempfile

MAX_LINES = 80
LONG_MARKER = re.compile(r'\bLong because\s+\w+', re.IGNORECASE)

# A line that may start a definition: an identifier at column 0, a "(" after
# it and no "=" before that "(" (an initialiser is not a function); the name
# is the identifier just before the first "(".
START = re.compile(r'^[A-Za-z_][^=;#(]*?\b([A-Za-z_]\w*)\s*\(|^([A-Za-z_]\w*)\s*\(')
ONE_LINE = re.compile(r'\)\s*\{.*\}$')


def comment_above(lines, i):
    """The comment that ends on the line just above lines[i], or ''."""
    j = i - 1
    if j < 0 or not lines[j].rstrip().endswith('*/'):
        return ''
    while j > 0 and '/*' not in lines[j]:
        j -= 1
    return ' '.join(lines[j:i])


def name_of(match, line):
    """f, or MACRO(f) for a definition a macro writes the head of."""
    name = match.group(1) or match.group(2)
    if name.isupper():
        args = re.match(r'\s*(\w+)', line[match.end():])
        if args:
            return f'{name}({args.group(1)})'
    return name


def functions(path):
    """(name, first line, last line, comment above) of each definition;
    lines counted from 1."""
    with open(path, encoding='utf-8', errors='replace') as f:
        lines = f.read().split('\n')
    found = []
    i = 0
    while i < len(lines):
        m = START.match(lines[i])
        if not m:
            i += 1
            continue
        if ONE_LINE.search(lines[i]):
            found.append((name_of(m, lines[i]), i + 1, i + 1, comment_above(lines, i)))
            i += 1
            continue
        # The signature goes on over indented lines until "{" ends one
        # ("{" alone at column 0 is the other style); ";" makes it a
        # declaration or a macro's use.
        j = i
        body = None
        while j < len(lines) and j - i <= 12:
            s = lines[j].split('//')[0].rstrip()
            if j > i and s != '{' and not lines[j][:1].isspace():
                break
            if s.endswith(';'):
                break
            if s.endswith('{'):
                body = j
                break
            j += 1
        if body is None:
            i += 1
            continue
        end = body
        while end < len(lines) and not lines[end].startswith('}'):
            end += 1
        if end == len(lines):
            raise SystemExit(f'{path}:{i + 1}: {name_of(m, lines[i])}() has no "}}" at column 0 to end it')
        found.append((name_of(m, lines[i]), i + 1, end + 1, comment_above(lines, i)))
        i = end + 1
    return found


def long_functions(path, found):
    """The problems of the definitions found in path."""
    problems = []
    for func, first, last, comment in found:
        n = last - first + 1
        if n > MAX_LINES and not LONG_MARKER.search(comment):
            problems.append(f'{path}:{first}: {func}() is {n} lines (more than {MAX_LINES}): '
                            f'split it into named steps, or say above it "Long because ..."')
    return problems


def module_graph(folder):
    """{module: set of modules of the same folder it includes}"""
    files = [n for n in os.listdir(folder) if n.endswith(('.c', '.h'))]
    modules = {os.path.splitext(n)[0] for n in files}
    edges = {m: set() for m in modules}
    include = re.compile(r'^\s*#\s*include\s+"([^"/]+)\.h"', re.M)
    for n in files:
        x = os.path.splitext(n)[0]
        with open(os.path.join(folder, n), encoding='utf-8', errors='replace') as f:
            for y in include.findall(f.read()):
                if y in modules and y != x:
                    edges[x].add(y)
    return edges


def cycles(edges):
    """One cycle (a list of modules, the first repeated at the end) for
    each strongly connected component of more than one module."""
    index, low, stack, on_stack, sccs = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                scc.add(w)
                if w == v:
                    break
            if len(scc) > 1:
                sccs.append(scc)

    for v in sorted(edges):
        if v not in index:
            visit(v)

    found = []
    for scc in sccs:
        # a shortest way back to the start, inside the component
        start = min(scc)
        paths = {start: [start]}
        queue = [start]
        cycle = None
        while queue and not cycle:
            v = queue.pop(0)
            for w in sorted(edges[v] & scc):
                if w == start:
                    cycle = paths[v] + [start]
                    break
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    queue.append(w)
        found.append(cycle)
    return found


def upward_includes(folder, edges):
    """A model (or shared code) that includes a -dbus module's header."""
    main = os.path.basename(os.path.normpath(folder))
    return [f'{folder}: {x} includes {y}.h: a model calls no -dbus file (the calls go one way)'
            for x in sorted(edges) for y in sorted(edges[x])
            if y.endswith('-dbus') and not x.endswith('-dbus') and x != main]


DECLARATION = re.compile(r'^(?!static\b|typedef\b|extern\b|#)[A-Za-z_][^=;#(]*?\b([A-Za-z_]\w*)\s*\(')


def declarations(path):
    """(name, line) of each function declared at column 0 of a header."""
    with open(path, encoding='utf-8', errors='replace') as f:
        lines = f.read().split('\n')
    found = []
    for i, line in enumerate(lines):
        m = DECLARATION.match(line)
        if not m:
            continue
        # its end: ";" on this line or an indented one after it
        j = i
        while j + 1 < len(lines) and not lines[j].rstrip().endswith((';', '{', '\\')) and \
                lines[j + 1][:1].isspace():
            j += 1
        if lines[j].rstrip().endswith(';') and '{' not in ''.join(lines[i:j + 1]):
            found.append((m.group(1), i + 1))
    return found


def misplaced(folder, defined):
    """Functions declared in x.h but defined in another file than x.c."""
    problems = []
    for name in sorted(os.listdir(folder)):
        x, ext = os.path.splitext(name)
        if ext != '.h' or not os.path.exists(os.path.join(folder, x + '.c')):
            continue
        for func, line in declarations(os.path.join(folder, name)):
            where = defined.get(func, set())
            if where and x + '.c' not in where:
                problems.append(f'{folder}/{name}:{line}: {func}() is declared in {name} but defined in '
                                f'{", ".join(sorted(where))}: a function lives where its header says')
    return problems


def check_folder(folder):
    """(functions found, problems) of one folder."""
    n, problems, defined = 0, [], {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(('.c', '.h')):
            path = os.path.join(folder, name)
            found = functions(path)
            n += len(found)
            problems += long_functions(path, found)
            if name.endswith('.c'):
                for func, *_ in found:
                    defined.setdefault(func, set()).add(name)
    edges = module_graph(folder)
    for cycle in cycles(edges):
        problems.append(f'{folder}: modules include each other: {" -> ".join(cycle)}')
    problems += upward_includes(folder, edges)
    problems += misplaced(folder, defined)
    return n, problems


def self_test():
    """The checks run on a folder made to break each of them, and on the
    same folder mended: a checker that saw nothing would pass any tree."""
    body = ''.join(f'        x += {i};\n' for i in range(MAX_LINES))
    long_function = 'int too_long(void) {\n        int x = 0;\n' + body + '        return x;\n}\n'
    files = {
        'a.h': '#pragma once\n#include "b.h"\nint a(void);\n',
        'a.c': '#include "a.h"\n\nint a(void) {\n        return b();\n}\n',
        'b.h': '#pragma once\nint b(void);\n',
        'b.c': '#include "b.h"\n#include "c.h"\n\nint b(void) { return c(); }\n',
        'c.h': '#pragma once\nint c(void);\nint c_elsewhere(int x,\n                int y);\n',
        'c.c': '#include "c.h"\n#include "a.h"\n\n' + long_function +
               '\nstatic int\nsplit_head(int x,\n           int y) {\n        return x + y;\n}\n',
        # a model calling up into a -dbus file, which defines what c.h declares
        'd.h': '#pragma once\nint d(void);\n',
        'd.c': '#include "d.h"\n#include "d-dbus.h"\n\nint d(void) { return 0; }\n',
        'd-dbus.h': '#pragma once\nint d_reply(void);\n',
        'd-dbus.c': '#include "d-dbus.h"\n#include "c.h"\n\nint d_reply(void) { return 1; }\n'
                    'int c_elsewhere(int x, int y) { return x; }\n',
    }
    with tempfile.TemporaryDirectory() as d:
        for name, text in files.items():
            with open(os.path.join(d, name), 'w') as f:
                f.write(text)
        names = sorted(f[0] for name in files for f in functions(os.path.join(d, name)))
        n, problems = check_folder(d)
        expected = [f'{d}/c.c:4: too_long() is {MAX_LINES + 4} lines', 'a -> b -> c -> a',
                    'd includes d-dbus.h', f'{d}/c.h:3: c_elsewhere() is declared in c.h but defined in d-dbus.c']
        missed = [e for e in expected if not any(e in p for p in problems)]
        if names != ['a', 'b', 'c_elsewhere', 'd', 'd_reply', 'split_head', 'too_long'] or \
                len(problems) != 4 or missed:
            return [f'check-source: the self-test found the functions {names} and the problems '
                    f'{problems}, missing {missed}']
        # mended: the reason said, the cycle broken, the calls one way, the
        # function where its header says
        with open(os.path.join(d, 'c.c'), 'w') as f:
            f.write('#include "c.h"\n\n/* Long because a flat list reads best as one. */\n' +
                    long_function + '\nint c_elsewhere(int x, int y) { return y; }\n')
        with open(os.path.join(d, 'd.c'), 'w') as f:
            f.write('#include "d.h"\n\nint d(void) { return 0; }\n')
        with open(os.path.join(d, 'd-dbus.c'), 'w') as f:
            f.write('#include "d-dbus.h"\n#include "d.h"\n\nint d_reply(void) { return d(); }\n')
        n, problems = check_folder(d)
        if problems:
            return [f'check-source: the self-test\'s mended folder still has {problems}']
    return []


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    src = sys.argv[1]
    folders = sys.argv[2:] or sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
    problems = self_test()
    n_functions = 0
    for d in folders:
        folder = os.path.join(src, d)
        if not os.path.isdir(folder):
            raise SystemExit(f'check-source: no folder {folder}')
        n, found = check_folder(folder)
        n_functions += n
        problems += found
    # A parser that found nothing would pass everything.
    if n_functions == 0:
        problems.append(f'{src}: no function definition found')
    for p in problems:
        print(p)
    print(f'{len(folders)} folders, {n_functions} functions, {len(problems)} problem(s)')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
