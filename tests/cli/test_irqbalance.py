#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""irqbalance coordination on a fixture host: an irqbalance process in the
copy's /proc and a small server on its socket below the copy's /run that
speaks irqbalance's protocol (one command per connection with the sender's
credentials, root only; `setup` answers "SLEEP s BANNED <mask>"; "settings
cpus LIST|NULL" is taken at the next rescan). activate bans the VM's CPUs,
a converged host is left alone, a restarted irqbalance is banned again,
revert gives the original list back; no irqbalance: nothing; no socket: a
warning that names IRQBALANCE_BANNED_CPULIST."""
import json
import os
import shutil
import socket
import struct
import threading
import time

from common import EX, check, finish, fixture_copy, run, state_dir, cpulist

CFG = os.path.join(EX, "desktop-4790k.yaml")  # host 0,4; win10 1-3,5-7
ARGS = ("--config", CFG, "--libvirt", "no")
TEMPLATE = "1470"  # an ordinary process of the i7-4790k fixture
UCRED = struct.Struct("iII")


def mask(cpus):
    """irqbalance's cpumask_scnprintf: 32-bit groups, leading zero groups left out."""
    v = sum(1 << c for c in cpus)
    groups = []
    while True:
        groups.append(f"{v & 0xffffffff:08x}")
        v >>= 32
        if not v:
            break
    return ",".join(reversed(groups))


def add_process(root, pid):
    """/proc/PID of an irqbalance, made from an ordinary process of the fixture."""
    src, dst = os.path.join(root, "proc", TEMPLATE), os.path.join(root, "proc", str(pid))
    shutil.copytree(src, dst)
    with open(os.path.join(dst, "comm"), "w") as f:
        f.write("irqbalance\n")
    with open(os.path.join(dst, "stat")) as f:
        stat = f.read()
    rest = stat[stat.rindex(")") + 2:].split(" ")
    rest[1] = "1"  # ppid: systemd
    with open(os.path.join(dst, "stat"), "w") as f:
        f.write(f"{pid} (irqbalance) " + " ".join(rest))
    with open(os.path.join(dst, "status")) as f:
        lines = f.read().splitlines()
    out = []
    for line in lines:
        key = line.split(":", 1)[0]
        if key == "Name":
            line = "Name:\tirqbalance"
        elif key in ("Tgid", "Pid"):
            line = f"{key}:\t{pid}"
        elif key == "PPid":
            line = "PPid:\t1"
        elif key in ("Uid", "Gid"):
            line = f"{key}:\t0\t0\t0\t0"
        out.append(line)
    with open(os.path.join(dst, "status"), "w") as f:
        f.write("\n".join(out) + "\n")
    with open(os.path.join(dst, "cgroup"), "w") as f:
        f.write("0::/system.slice/irqbalance.service\n")
    # and in its unit's cgroup, where systemd hosts run it
    unit = os.path.join(root, "sys", "fs", "cgroup", "system.slice", "irqbalance.service")
    if os.path.isdir(os.path.dirname(unit)):
        os.makedirs(unit, exist_ok=True)
        with open(os.path.join(unit, "cgroup.procs"), "a") as f:
            f.write(f"{pid}\n")


class FakeIrqbalance:
    """irqbalance's socket, as irqbalance serves it (irqbalance.c, sock_handle)."""

    def __init__(self, root, pid, banned=(), sleep=1, rescan_after=0.3):
        self.config = set(banned)  # what its own configuration bans
        self.banned = set(banned)  # what it bans now (what setup shows)
        self.sleep, self.rescan_after = sleep, rescan_after
        self.commands, self.denied = [], 0
        self.path = os.path.join(root, "run", "irqbalance", f"irqbalance{pid}.sock")
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.listen(1)
        self.sock.settimeout(0.1)
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _rescan(self, wanted):
        # settings take effect at irqbalance's next rescan, not at once
        time.sleep(self.rescan_after)
        with self.lock:
            self.banned = set(self.config if wanted is None else wanted)

    def _handle(self, conn):
        data, anc, _, _ = conn.recvmsg(16384, socket.CMSG_SPACE(UCRED.size))
        uid = None
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                _, uid, _ = UCRED.unpack(payload[:UCRED.size])
        # irqbalance answers uid 0 only; a test run by another user is its own root
        if uid not in (0, os.getuid()):
            self.denied += 1
            return
        cmd = data.decode()
        self.commands.append(cmd)
        if cmd.startswith("settings cpus "):
            arg = cmd[len("settings cpus "):].split(" ")[0]
            wanted = None if arg.startswith("NULL") or not arg else cpulist(arg)
            threading.Thread(target=self._rescan, args=(wanted,), daemon=True).start()
        elif cmd.startswith("setup"):
            with self.lock:
                reply = f"SLEEP {self.sleep} BANNED {mask(self.banned)}"
            conn.sendall(reply.encode())

    def _serve(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            with conn:
                try:
                    self._handle(conn)
                except OSError:
                    pass

    def settings(self):
        return [c for c in self.commands if c.startswith("settings")]

    def stop(self):
        self.stopping = True
        self.thread.join()
        self.sock.close()
        os.unlink(self.path)


def changes(p, kind="irqbalance"):
    return [c for c in json.loads(p.stdout)["changes"] if c["kind"] == kind]


def host_with_irqbalance(pid=4242, banned=()):
    root = fixture_copy("i7-4790k")
    add_process(root, pid)
    return root, FakeIrqbalance(root, pid, banned)


@check("plan shows the ban; activate bans the VM's CPUs; apply again changes nothing; revert restores")
def _():
    root, srv = host_with_irqbalance(banned={6})
    state = state_dir()
    try:
        p = run("--root", root, *ARGS, "plan", "--activate", "win10", "--output", "json")
        assert p.returncode == 0, p.stderr
        assert [(c["target"], c["from"], c["to"]) for c in changes(p)] == \
            [("irqbalance:banned_cpus", "6", "1-3,5-7")], changes(p)
        assert srv.settings() == [], srv.commands  # plan writes nothing
        p = run("--root", root, *ARGS, "activate", "win10", state=state)
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert srv.banned == {1, 2, 3, 5, 6, 7}, srv.banned
        assert srv.settings() == ["settings cpus 1-3,5-7"], srv.commands
        with open(os.path.join(state, "journal")) as f:
            assert "irqbalance/irqbalance\tirqbalance:banned_cpus\t6\t" in f.read()
        p = run("--root", root, *ARGS, "apply", "--detailed-exitcodes", state=state)
        assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
        assert len(srv.settings()) == 1, srv.commands
        p = run("--root", root, *ARGS, "deactivate", "win10", state=state)
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert srv.banned == {6}, srv.banned
        assert srv.settings()[-1] == "settings cpus 6", srv.commands
        assert srv.denied == 0
    finally:
        srv.stop()


@check("nothing banned before: revert gives the list back to irqbalance's configuration (NULL)")
def _():
    root, srv = host_with_irqbalance()
    state = state_dir()
    try:
        assert run("--root", root, *ARGS, "activate", "win10", state=state).returncode == 0
        assert srv.banned == {1, 2, 3, 5, 6, 7}, srv.banned
        p = run("--root", root, *ARGS, "revert", state=state)
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert srv.banned == set() and srv.settings()[-1] == "settings cpus NULL", srv.commands
    finally:
        srv.stop()


@check("irqbalance restarted while shielded (new PID, its own list again): the next apply bans again")
def _():
    root, srv = host_with_irqbalance(pid=4242)
    state = state_dir()
    try:
        assert run("--root", root, *ARGS, "activate", "win10", state=state).returncode == 0
        assert srv.banned == {1, 2, 3, 5, 6, 7}
    finally:
        srv.stop()
    shutil.rmtree(os.path.join(root, "proc", "4242"))
    add_process(root, 5353)
    srv = FakeIrqbalance(root, 5353)
    try:
        p = run("--root", root, *ARGS, "apply", "--detailed-exitcodes", state=state)
        assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
        assert srv.banned == {1, 2, 3, 5, 6, 7}, srv.banned
        p = run("--root", root, *ARGS, "revert", state=state)
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert srv.banned == set(), srv.banned
    finally:
        srv.stop()


@check("someone else changed the banned CPUs meanwhile: revert reports it and leaves it")
def _():
    root, srv = host_with_irqbalance()
    state = state_dir()
    try:
        assert run("--root", root, *ARGS, "activate", "win10", state=state).returncode == 0
        srv.banned = {3}
        p = run("--root", root, *ARGS, "revert", state=state)
        assert "irqbalance:banned_cpus is 3 now" in p.stdout + p.stderr, (p.stdout, p.stderr)
        assert srv.banned == {3}
    finally:
        srv.stop()


@check("irqbalance gone before revert: nothing to give back, the item is forgotten")
def _():
    root, srv = host_with_irqbalance()
    state = state_dir()
    try:
        assert run("--root", root, *ARGS, "activate", "win10", state=state).returncode == 0
        with open(os.path.join(state, "journal")) as f:
            assert "irqbalance:banned_cpus" in f.read()
    finally:
        srv.stop()
    shutil.rmtree(os.path.join(root, "proc", "4242"))
    p = run("--root", root, *ARGS, "revert", state=state)
    assert p.returncode == 0, (p.stdout, p.stderr)
    journal = os.path.join(state, "journal")  # gone once every item is back
    assert not os.path.exists(journal) or "irqbalance:banned_cpus" not in open(journal).read()


@check("no irqbalance process: nothing planned, no warning")
def _():
    root = fixture_copy("i7-4790k")
    p = run("--root", root, *ARGS, "plan", "--activate", "win10", "--output", "json")
    assert p.returncode == 0, p.stderr
    assert changes(p) == [] and not any("irqbalance" in w for w in json.loads(p.stdout)["warnings"])
    # a socket left behind by a dead irqbalance is not a running one
    srv = FakeIrqbalance(root, 4242)
    try:
        p = run("--root", root, *ARGS, "plan", "--activate", "win10", "--output", "json")
        assert changes(p) == [] and srv.commands == [], srv.commands
    finally:
        srv.stop()


@check("irqbalance without a socket: plan warns, doctor names IRQBALANCE_BANNED_CPULIST")
def _():
    root = fixture_copy("i7-4790k")
    add_process(root, 4242)
    p = run("--root", root, *ARGS, "plan", "--activate", "win10", "--output", "json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert changes(p) == [], doc["changes"]
    assert any("IRQBALANCE_BANNED_CPULIST=1-3,5-7" in w for w in doc["warnings"]), doc["warnings"]
    p = run("--root", root, *ARGS, "doctor")
    assert "IRQBALANCE_BANNED_CPULIST=1-3,5-7 in /etc/default/irqbalance" in p.stdout, p.stdout
    assert "irqbalance4242.sock" in p.stdout, p.stdout


@check("doctor with a socket: a note, no warning")
def _():
    root, srv = host_with_irqbalance()
    try:
        p = run("--root", root, *ARGS, "doctor")
        assert "irqbalance is running (banned CPUs now: none)" in p.stdout, p.stdout
        assert "IRQBALANCE_BANNED_CPULIST" not in p.stdout, p.stdout
    finally:
        srv.stop()


@check("a socket that never answers costs a bounded time and a warning, not the run")
def _():
    root = fixture_copy("i7-4790k")
    add_process(root, 4242)
    path = os.path.join(root, "run", "irqbalance", "irqbalance4242.sock")
    os.makedirs(os.path.dirname(path))
    hung = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    hung.bind(path)
    hung.listen(8)  # accepted by the kernel, never read
    try:
        t = time.monotonic()
        p = run("--root", root, *ARGS, "plan", "--activate", "win10", "--output", "json")
        assert time.monotonic() - t < 10, time.monotonic() - t
        assert p.returncode == 0, p.stderr
        doc = json.loads(p.stdout)
        assert changes(p) == [] and doc["changes"], doc
        assert any("socket did not answer" in w for w in doc["warnings"]), doc["warnings"]
    finally:
        hung.close()


finish()
