# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared helpers of the fixture-host tests: run the binary, copy fixture
trees, digest whole trees, report checks with a closing "N passed, N failed"."""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import traceback

BIN = os.path.abspath(sys.argv[1])
SRC = os.path.abspath(sys.argv[2])
FIX = os.path.join(SRC, "tests", "fixtures")
EX = os.path.join(SRC, "examples")

results = []


def check(name):
    def wrap(fn):
        try:
            fn()
            results.append((name, None))
            print(f"ok - {name}", flush=True)
        except Exception as e:  # noqa: BLE001 - report every failure and go on
            results.append((name, e))
            print(f"not ok - {name}: {e}", flush=True)
            traceback.print_exc(file=sys.stdout)
        return fn
    return wrap


def xml_check(name):
    """check(), for what reads domain XML: skipped when the binary was built
    without libxml2 (cpushield --version: -libxml2)."""
    if "+libxml2" in subprocess.run([BIN, "--version"], capture_output=True, text=True).stdout:
        return check(name)
    print(f"ok - {name} # SKIP built without libxml2", flush=True)
    return lambda fn: fn


def finish():
    for d in _made:
        shutil.rmtree(d, ignore_errors=True)
    failed = sum(1 for _, e in results if e)
    print(f"{len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


# State directories live on tmpfs, like /run/cpushield does.
TMPFS = "/dev/shm" if os.path.isdir("/dev/shm") else None


_made = []


def _mkdtemp(prefix):
    d = tempfile.mkdtemp(prefix=prefix, dir=TMPFS)
    _made.append(d)
    return d


def state_dir():
    return _mkdtemp("cpushield-state-")


def run(*args, state=None, env=None, timeout=120):
    state = state or state_dir()
    return subprocess.run([BIN, "--state-dir", state, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def tree_digest(root, exclude=()):
    """Content, mode and link target of every file and directory below root."""
    h = hashlib.sha256()
    for d, dirs, files in os.walk(root):
        dirs.sort()
        rel = os.path.relpath(d, root)
        if any(rel == e or rel.startswith(e + "/") for e in exclude):
            continue
        h.update(("D " + rel + "\n").encode())
        for n in sorted(files + [x for x in dirs if os.path.islink(os.path.join(d, x))]):
            p = os.path.join(d, n)
            st = os.lstat(p)
            h.update(f"F {os.path.relpath(p, root)} {oct(st.st_mode)}\n".encode())
            if os.path.islink(p):
                h.update(os.readlink(p).encode())
            else:
                with open(p, "rb") as f:
                    h.update(f.read())
    return h.hexdigest()


def tree_diff(a, b):
    """Files that differ between two trees, for failure messages."""
    out = []
    for d, dirs, files in os.walk(a):
        for n in files:
            pa = os.path.join(d, n)
            pb = os.path.join(b, os.path.relpath(pa, a))
            if not os.path.lexists(pb):
                out.append(f"only in first: {os.path.relpath(pa, a)}")
            elif not os.path.islink(pa) and open(pa, "rb").read() != open(pb, "rb").read():
                out.append(f"differs: {os.path.relpath(pa, a)}")
    for d, dirs, files in os.walk(b):
        for n in files + dirs:
            pb = os.path.join(d, n)
            if not os.path.lexists(os.path.join(a, os.path.relpath(pb, b))):
                out.append(f"only in second: {os.path.relpath(pb, b)}")
    return out[:15]


def fixture_copy(name):
    dst = _mkdtemp(f"cpushield-{name}-")
    shutil.copytree(os.path.join(FIX, name), dst, symlinks=True, dirs_exist_ok=True)
    return dst


def read(root, path):
    with open(os.path.join(root, path.lstrip("/"))) as f:
        return f.read().strip()


def write(root, path, value):
    with open(os.path.join(root, path.lstrip("/")), "w") as f:
        f.write(value + "\n")


def cpulist(s):
    out = set()
    for part in filter(None, s.split(",")):
        a, _, b = part.partition("-")
        out.update(range(int(a), int(b or a) + 1))
    return out
