#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""libvirt integration: a real libvirtd with a tiny type='qemu' domain (no
disk), cpushield with the host side on a fixture --root and libvirt on the
real daemon. Checks the QEMU threads' Cpus_allowed_list in /proc.
Touches only the daemon it starts and the domains it creates (by PID/name).

Usage: test_libvirt.py CPUSHIELD SOURCE_ROOT   (exit 77: cannot run here)"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from common import BIN, check, finish, fixture_copy, run, state_dir, tree_digest, tree_diff, FIX  # noqa: E402

URI = "qemu:///system"


def skip(why):
    print(f"skip: {why}")
    if os.environ.get("CI"):
        print("0 passed, 1 failed")
        sys.exit(1)
    sys.exit(77)


if os.geteuid() != 0:
    skip("needs root to run libvirtd")
for tool in ("libvirtd", "virtlogd", "virsh", "unshare", "qemu-system-x86_64"):
    if not shutil.which(tool):
        skip(f"{tool} is not installed")

work = tempfile.mkdtemp(prefix="cpushield-libvirt-")
daemon_pids = []


def virsh(*args, check_rc=True):
    p = subprocess.run(["virsh", "-c", URI, *args], capture_output=True, text=True, timeout=120)
    if check_rc and p.returncode != 0:
        raise RuntimeError(f"virsh {' '.join(args)}: {p.stderr.strip()}")
    return p


def start_daemon():
    """Our own libvirtd, in a private mount namespace: a qemu.conf that runs
    QEMU as root, the libvirt-qemu user libvirt 9 resolves before reading it,
    and logs, all bind-mounted there only; nothing of the machine changes."""
    if virsh("version", check_rc=False).returncode == 0:
        return  # a daemon runs already: use it, leave it alone
    etc = os.path.join(work, "etc")
    shutil.copytree("/etc/libvirt", etc, dirs_exist_ok=True)
    with open(os.path.join(etc, "qemu.conf"), "w") as f:
        f.write('user = "root"\ngroup = "root"\n')
    os.makedirs(os.path.join(work, "log", "libvirt"), exist_ok=True)
    for name, extra in (("passwd", "libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin\n"),
                        ("group", "libvirt-qemu:x:64055:\n")):
        with open(f"/etc/{name}") as src, open(os.path.join(work, name), "w") as dst:
            dst.write(src.read() + extra)
    script = (f"mount --make-rprivate / && mount --bind {etc} /etc/libvirt && "
              f"mount --bind {work}/log /var/log && mount --bind {work}/passwd /etc/passwd && "
              f"mount --bind {work}/group /etc/group && "
              f"virtlogd --daemon --pid-file {work}/virtlogd.pid && "
              f"exec libvirtd --daemon --pid-file {work}/libvirtd.pid")
    subprocess.run(["unshare", "-m", "sh", "-c", script], check=True, timeout=60)
    for _ in range(100):
        if os.path.exists(f"{work}/libvirtd.pid") and virsh("version", check_rc=False).returncode == 0:
            break
        time.sleep(0.1)
    for n in ("libvirtd", "virtlogd"):
        daemon_pids.append(int(open(f"{work}/{n}.pid").read()))


def stop_daemon():
    for pid in daemon_pids:
        try:
            os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


DOMAINS = []


def create_domain(name, cputune=""):
    xml = f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>2</vcpu>
  {cputune}
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices><emulator>{shutil.which('qemu-system-x86_64')}</emulator></devices>
</domain>"""
    path = os.path.join(work, name + ".xml")
    with open(path, "w") as f:
        f.write(xml)
    virsh("create", path)
    DOMAINS.append(name)


def destroy_domain(name):
    pidfile = f"/run/libvirt/qemu/{name}.pid"
    pid = int(open(pidfile).read()) if os.path.exists(pidfile) else None
    if virsh("destroy", name, check_rc=False).returncode != 0 and pid:
        try:  # no daemon to ask: end our QEMU by its PID
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if name in DOMAINS:
        DOMAINS.remove(name)


def threads(name):
    """{thread name: Cpus_allowed_list} of the domain's QEMU process."""
    pid = int(open(f"/run/libvirt/qemu/{name}.pid").read())
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        comm = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
        st = open(f"/proc/{pid}/task/{tid}/status").read()
        allowed = [l.split(":", 1)[1].strip() for l in st.splitlines() if l.startswith("Cpus_allowed_list:")][0]
        out[comm if int(tid) != pid else "emulator"] = allowed
    return out


def config(name):
    path = os.path.join(work, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(f"host: {{cpus: 0}}\nvms:\n  guest:\n    libvirt: {{uri: \"{URI}\", domain: {name}}}\n"
                f"    cpus: 1\n    vcpu_pins: [1, 1]\n    emulator_pin: 1\n")
    return path


try:
    start_daemon()
    online = open("/sys/devices/system/cpu/online").read().strip()
    name = f"cpushield-it-{os.getpid()}"
    create_domain(name)
    cfg = config(name)

    @check("apply pins vCPU and emulator threads live; revert restores them and the host side")
    def _():
        root, state = fixture_copy("cloud-vm-2cpu"), state_dir()
        before_tree = tree_digest(root)
        before = threads(name)
        assert before["CPU 0/TCG"] == online and before["CPU 1/TCG"] == online, before
        p = run("--root", root, "--config", cfg, "--libvirt", "yes", "apply", "--verbose", state=state)
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert "active VM: guest" in p.stdout, p.stdout  # active because the domain runs
        now = threads(name)
        assert now["CPU 0/TCG"] == "1" and now["CPU 1/TCG"] == "1" and now["emulator"] == "1", now
        p = run("--root", root, "--config", cfg, "--libvirt", "yes", "apply", "--detailed-exitcodes", state=state)
        assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
        p = run("--root", root, "--config", cfg, "--libvirt", "yes", "revert", state=state)
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert threads(name) == before, threads(name)
        assert tree_digest(root) == before_tree, tree_diff(os.path.join(FIX, "cloud-vm-2cpu"), root)

    @check("xml NAME put into a domain gives the pins apply sets live")
    def _():
        p = run("--root", os.path.join(FIX, "cloud-vm-2cpu"), "--config", cfg, "xml", "guest")
        assert p.returncode == 0, p.stderr
        tune = "\n".join(l for l in p.stdout.splitlines() if not l.startswith(("<!--", "<vcpu")))
        other = name + "-xml"
        create_domain(other, tune)
        try:
            t = threads(other)
            assert t["CPU 0/TCG"] == "1" and t["CPU 1/TCG"] == "1" and t["emulator"] == "1", t
        finally:
            destroy_domain(other)

    @check("a stopped domain's pins are forgotten cleanly; its host side goes back")
    def _():
        root, state = fixture_copy("cloud-vm-2cpu"), state_dir()
        before_tree = tree_digest(root)
        other = name + "-stop"
        create_domain(other)
        cfg2 = config(other)
        assert run("--root", root, "--config", cfg2, "--libvirt", "yes", "apply", state=state).returncode == 0
        assert threads(other)["CPU 0/TCG"] == "1"
        destroy_domain(other)
        p = run("--root", root, "--config", cfg2, "--libvirt", "yes", "apply", state=state)
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert tree_digest(root) == before_tree
        assert not os.path.exists(os.path.join(state, "journal"))

    @check("hook finishes promptly while libvirtd is stopped (SIGSTOP), and never asks it")
    def _():
        if not daemon_pids:
            print("skip: the libvirtd running here is not ours to stop")
            return
        root, state = fixture_copy("cloud-vm-2cpu"), state_dir()
        before_tree = tree_digest(root)
        os.kill(daemon_pids[0], signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            p = subprocess.run([BIN, "--state-dir", state, "--root", root, "--config", cfg, "hook", "qemu", name,
                                "prepare", "begin", "-"], capture_output=True, text=True, timeout=30,
                               stdin=subprocess.DEVNULL)
            took = time.monotonic() - t0
            assert p.returncode == 0 and took < 5, (p.returncode, took, p.stderr)
            print(f"  hook prepare begin took {took:.2f} s with libvirtd stopped")
            assert tree_digest(root) != before_tree  # the host side is shielded before QEMU starts
            p = subprocess.run([BIN, "--state-dir", state, "--root", root, "--config", cfg, "hook", "qemu", name,
                                "release", "end", "-"], capture_output=True, text=True, timeout=30,
                               stdin=subprocess.DEVNULL)
            assert p.returncode == 0, p.stderr
            assert tree_digest(root) == before_tree
            # other domains and other operations are none of cpushield's business
            p = subprocess.run([BIN, "--state-dir", state, "--root", root, "--config", cfg, "hook", "qemu",
                                "someone-else", "prepare", "begin", "-"], capture_output=True, text=True, timeout=30)
            assert p.returncode == 0 and tree_digest(root) == before_tree
        finally:
            os.kill(daemon_pids[0], signal.SIGCONT)
    @check("watch: start and destroy reconcile by themselves; survives a libvirtd restart; SIGTERM stops it")
    def _():
        root, state = fixture_copy("cloud-vm-2cpu"), state_dir()
        before_tree = tree_digest(root)
        other = name + "-watch"
        cfgw = config(other)
        log = open(os.path.join(work, "watch.log"), "w+")
        w = subprocess.Popen([BIN, "--state-dir", state, "--root", root, "--config", cfgw, "watch", "--interval", "30"],
                             stdout=log, stderr=subprocess.STDOUT)
        try:
            def wait_for(cond, limit=20.0):
                t0 = time.monotonic()
                while time.monotonic() - t0 < limit:
                    try:
                        if cond():
                            return time.monotonic() - t0
                    except OSError:
                        pass  # the watcher is changing the tree under our walk

                    time.sleep(0.02)
                log.seek(0)
                raise AssertionError("timed out; watch log:\n" + log.read()[-2000:])

            def pinned():
                try:
                    return threads(other)["CPU 0/TCG"] == "1" and tree_digest(root) != before_tree
                except KeyError:
                    return False

            wait_for(lambda: "watch: ready" in open(log.name).read())
            create_domain(other)
            took = wait_for(pinned)
            print(f"  virsh create returned -> pinned and shielded in {took:.2f} s")
            destroy_domain(other)
            took = wait_for(lambda: tree_digest(root) == before_tree)
            print(f"  virsh destroy returned -> host side restored in {took:.2f} s")
            if daemon_pids:
                stop_daemon()
                for pid in daemon_pids:
                    wait_for(lambda pid=pid: not os.path.exists(f"/proc/{pid}") or
                             open(f"/proc/{pid}/stat").read().split()[2] == "Z")
                daemon_pids.clear()
                start_daemon()
                create_domain(other)
                took = wait_for(pinned, 30)
                print(f"  after a libvirtd restart: pinned in {took:.2f} s")
                destroy_domain(other)
                wait_for(lambda: tree_digest(root) == before_tree)
            w.send_signal(signal.SIGTERM)
            assert w.wait(timeout=5) == 0
        finally:
            if w.poll() is None:
                w.kill()
                w.wait()
            log.close()

finally:
    for d in list(DOMAINS):
        destroy_domain(d)
    stop_daemon()
    shutil.rmtree(work, ignore_errors=True)

finish()
