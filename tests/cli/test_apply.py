#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixture-host tier for apply/revert: idempotence, byte-identical revert,
crash safety at every write, drift, two VMs, concurrency, exit codes."""
import concurrent.futures
import json
import os
import random
import shutil
import subprocess
import tempfile

from common import BIN, EX, state_dir, check, finish, fixture_copy, read, run, tree_diff, tree_digest, write, cpulist, FIX

CLOUD_CFG = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
CLOUD_CFG.write("host: {cpus: 0}\npower_profiles:\n  ll: {governor: performance, max_wakeup_latency_us: 10}\n"
                "vms:\n  guest: {cpus: 1, activation: manual, power: ll}\n")
CLOUD_CFG.close()

CASES = [
    ("i7-4790k", os.path.join(EX, "desktop-4790k.yaml"), "win10"),
    ("ryzen-5950x", os.path.join(EX, "ryzen-5950x-l3.yaml"), "gaming"),
    ("xeon-2s", os.path.join(EX, "numa-2vm.yaml"), "nfv"),
    ("cloud-vm-2cpu", CLOUD_CFG.name, "guest"),
]


def cs(root, cfg, *args, state, env=None):
    return run(*args, "--root", root, "--config", cfg, state=state, env=env)


def changes(root, cfg, state):
    p = cs(root, cfg, "apply", "--check", "--output", "json", state=state)
    assert p.returncode == 0, p.stderr
    # pins of a domain libvirt was not asked about are shown, not pending work
    return [c for c in json.loads(p.stdout)["changes"] if not (c["kind"] == "libvirt" and c["from"] is None)]


for fixture, cfg, vm in CASES:
    @check(f"{fixture}: activate, apply again (0 changes), revert to the identical tree")
    def _(fixture=fixture, cfg=cfg, vm=vm):
        root, state = fixture_copy(fixture), state_dir()
        orig = fixture_copy(fixture)
        before = tree_digest(root)
        p = cs(root, cfg, "activate", vm, "--detailed-exitcodes", state=state)
        assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
        assert tree_digest(root) != before
        p = cs(root, cfg, "apply", "--detailed-exitcodes", "--output", "json", state=state)
        assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
        assert changes(root, cfg, state) == []
        journal = open(os.path.join(state, "journal")).read()
        assert journal.startswith("cpushield-journal 1\nboot\t"), journal[:100]
        p = cs(root, cfg, "revert", "--detailed-exitcodes", state=state)
        assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
        assert tree_digest(root) == before, tree_diff(orig, root)
        assert not os.path.exists(os.path.join(state, "journal"))
        assert sorted(os.listdir(state)) == ["lock"], os.listdir(state)
        shutil.rmtree(root)
        shutil.rmtree(orig)


@check("4790K: the kernel files say what the plan said")
def _():
    root, state = fixture_copy("i7-4790k"), state_dir()
    cfg = os.path.join(EX, "desktop-4790k.yaml")
    p = cs(root, cfg, "activate", "win10", state=state)
    assert p.returncode == 0, p.stderr
    assert read(root, "/sys/devices/virtual/workqueue/cpumask") == "11"
    assert read(root, "/proc/irq/16/smp_affinity_list") == "0,4"
    assert read(root, "/proc/irq/16/smp_affinity") == "11"
    assert read(root, "/proc/irq/default_smp_affinity") == "11"
    # the emulator floats over 5-7: a load-balanced exclusive partition
    assert read(root, "/sys/fs/cgroup/machine.slice/cpuset.cpus.partition") == "root"
    status = read(root, "/proc/2/status")
    assert "Cpus_allowed_list:\t0,4" in status and "Cpus_allowed:\t11" in status, status
    assert "AllowedCPUs=0,4" in read(root, "/run/systemd/system.control/system.slice.d/50-AllowedCPUs.conf")
    assert read(root, "/sys/devices/system/cpu/cpu1/cpuidle/state4/disable") == "1"  # C6, 133 us > 20 us
    assert read(root, "/sys/devices/system/cpu/cpu1/cpuidle/state2/disable") == "0"  # C1E, 10 us
    assert read(root, "/sys/devices/system/cpu/cpu0/cpuidle/state4/disable") == "0"  # host CPU untouched
    assert read(root, "/sys/devices/system/cpu/cpufreq/policy1/scaling_governor") == "performance"
    assert read(root, "/sys/devices/system/cpu/cpufreq/policy0/scaling_governor") == "powersave"


@check("verify: noise before activate; no IRQ, kthread or workqueue noise after")
def _():
    root, state = fixture_copy("i7-4790k"), state_dir()
    cfg = os.path.join(EX, "desktop-4790k.yaml")
    p = cs(root, cfg, "verify", "--activate", "win10", state=state)
    assert p.returncode == 1, (p.returncode, p.stdout)
    assert "noise: IRQ 16 " in p.stdout and "noise: kernel thread 2 (kthreadd)" in p.stdout, p.stdout
    assert cs(root, cfg, "activate", "win10", state=state).returncode == 0
    p = cs(root, cfg, "verify", state=state)
    # Below a fixture root no kernel narrows the host tasks' masks for the
    # partition, so only tasks may remain; the real-kernel tier checks 0.
    left = [l for l in p.stdout.splitlines() if l.startswith("noise:") and not l.startswith("noise: task ")]
    assert left == [], left


@check("drift: a hand-changed IRQ is reported and kept; revert --force restores it")
def _():
    root, state = fixture_copy("i7-4790k"), state_dir()
    cfg = os.path.join(EX, "desktop-4790k.yaml")
    before = tree_digest(root)
    assert cs(root, cfg, "activate", "win10", state=state).returncode == 0
    write(root, "/proc/irq/16/smp_affinity_list", "0")
    write(root, "/proc/irq/16/smp_affinity", "01")
    p = cs(root, cfg, "revert", state=state)
    assert p.returncode == 0, p.stderr
    assert "/proc/irq/16/smp_affinity_list is 0 now" in p.stdout, p.stdout
    assert read(root, "/proc/irq/16/smp_affinity_list") == "0"
    assert read(root, "/proc/irq/17/smp_affinity_list" if os.path.exists(os.path.join(root, "proc/irq/17")) else
                "/proc/irq/23/smp_affinity_list") == "0-7"
    assert "/proc/irq/16/smp_affinity_list" in open(os.path.join(state, "journal")).read()
    p = cs(root, cfg, "revert", "--force", state=state)
    assert p.returncode == 0, p.stderr
    assert read(root, "/proc/irq/16/smp_affinity_list") == "0-7"
    assert tree_digest(root) == before


@check("two VMs: deactivating one gives back exactly what only it needed")
def _():
    cfg = os.path.join(EX, "numa-2vm.yaml")  # db: always, nfv: libvirt
    both, state = fixture_copy("xeon-2s"), state_dir()
    only_db, state2 = fixture_copy("xeon-2s"), state_dir()
    before = tree_digest(both)
    assert cs(both, cfg, "activate", "nfv", state=state).returncode == 0
    assert read(both, "/proc/irq/default_smp_affinity") == "01010101"
    assert cs(both, cfg, "deactivate", "nfv", state=state).returncode == 0
    assert cs(only_db, cfg, "apply", state=state2).returncode == 0
    assert read(only_db, "/proc/irq/default_smp_affinity") == "ff01ff01"
    assert tree_digest(both) == tree_digest(only_db), tree_diff(only_db, both)
    assert cs(both, cfg, "revert", state=state).returncode == 0
    assert tree_digest(both) == before


@check("crash safety: SIGKILL after every write; revert restores, apply converges")
def _():
    cfg = os.path.join(EX, "desktop-4790k.yaml")
    ref, st = fixture_copy("i7-4790k"), state_dir()
    before = tree_digest(ref)
    # an upper bound on the number of writes: every planned change
    n = len(json.loads(cs(ref, cfg, "plan", "--activate", "win10", "--output", "json", state=st).stdout)["changes"])
    assert cs(ref, cfg, "activate", "win10", state=st).returncode == 0
    converged = tree_digest(ref)
    for k in range(0, n + 1):
        root, state = fixture_copy("i7-4790k"), state_dir()
        p = cs(root, cfg, "activate", "win10", state=state, env={"CPUSHIELD_TEST_CRASH_AFTER_WRITES": str(k)})
        assert p.returncode in (-9, 0), (k, p.returncode, p.stderr)
        # the same crashed host twice: once reverted, once converged
        root2, state2 = state_dir(), state_dir()
        shutil.copytree(root, root2, symlinks=True, dirs_exist_ok=True)
        shutil.copytree(state, state2, dirs_exist_ok=True)
        r = cs(root, cfg, "revert", state=state)
        assert r.returncode == 0, (k, r.stdout, r.stderr)
        assert tree_digest(root) == before, (k, tree_diff(os.path.join(FIX, "i7-4790k"), root))
        r = cs(root2, cfg, "apply", state=state2)
        assert r.returncode == 0, (k, r.stdout, r.stderr)
        assert tree_digest(root2) == converged, (k, tree_diff(ref, root2))
        for d in (root, state, root2, state2):
            shutil.rmtree(d)


@check("concurrency: 20 parallel apply/revert/activate/deactivate end consistent")
def _():
    cfg = os.path.join(EX, "desktop-4790k.yaml")
    root, state = fixture_copy("i7-4790k"), state_dir()
    before = tree_digest(root)
    rng = random.Random(7)
    cmds = [rng.choice([["apply"], ["revert"], ["activate", "win10"], ["deactivate", "win10"]]) for _ in range(20)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as ex:
        procs = list(ex.map(lambda c: cs(root, cfg, *c, state=state), cmds))
    for c, p in zip(cmds, procs):
        assert p.returncode == 0, (c, p.returncode, p.stderr)
    # whatever order they ran in, the journal is intact and the state converged
    p = cs(root, cfg, "apply", "--detailed-exitcodes", state=state)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    assert cs(root, cfg, "revert", state=state).returncode == 0
    assert tree_digest(root) == before


@check("a failing item: exit 1 naming path and errno text; the rest applies and reverts")
def _():
    if os.geteuid() != 0 or not shutil.which("unshare"):
        print("skip: needs root and unshare for a read-only bind mount")
        return
    cfg = os.path.join(EX, "desktop-4790k.yaml")
    root, state = fixture_copy("i7-4790k"), state_dir()
    target = os.path.join(root, "proc/irq/16/smp_affinity_list")
    before = tree_digest(root)
    # one file read-only, in a private mount namespace: writing it fails with EROFS
    script = ('mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && shift && exec "$@"')
    p = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", target, BIN, "--state-dir", state,
                        "activate", "win10", "--root", root, "--config", cfg],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "/proc/irq/16/smp_affinity_list: cannot change: Read-only file system" in p.stderr, p.stderr
    assert read(root, "/proc/irq/23/smp_affinity_list") == "0,4"  # independent items went on
    assert read(root, "/proc/irq/16/smp_affinity_list") == "0-7"
    p = cs(root, cfg, "revert", state=state)
    assert p.returncode == 0, p.stderr
    assert tree_digest(root) == before, tree_diff(os.path.join(FIX, "i7-4790k"), root)


@check("revert on a busy v1 host: a child forked into the host set while its tasks move goes back too")
def _():
    cfg = os.path.join(EX, "numa-2vm.yaml")
    root, state = fixture_copy("xeon-2s"), state_dir()
    before = tree_digest(root)
    assert cs(root, cfg, "activate", "nfv", state=state).returncode == 0
    host_set = "/sys/fs/cgroup/cpuset/cpushield.host"
    assert os.path.isdir(root + host_set)
    # a task of the host set forks after revert read the set's task list,
    # and its child does the same in the next pass, and that one's
    p = cs(root, cfg, "revert", state=state, env={"CPUSHIELD_TEST_FORK_DURING_MOVE": f"{host_set}:4194000"})
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    assert not os.path.exists(root + host_set), "the set is removed once its last task is out"
    assert not os.path.exists(os.path.join(state, "journal"))
    children = {"4194000", "4194001", "4194002"}  # each forked while the one before moved
    for f in ("tasks", "cgroup.procs"):
        ids = read(root, f"/sys/fs/cgroup/cpuset/{f}").split()
        assert children <= set(ids), f"the children are back in the root set's {f}"
        write(root, f"/sys/fs/cgroup/cpuset/{f}", "\n".join(i for i in ids if i not in children))
    assert tree_digest(root) == before, tree_diff(os.path.join(FIX, "xeon-2s"), root)


def newborn(root, tid, kthread=False):
    """/proc/TID of a task born while activate runs: a copy of sshd's, or a
    kernel thread (PF_KTHREAD in its stat flags, a child of kthreadd)."""
    src, dst = os.path.join(root, "proc/1000"), os.path.join(root, f"proc/{tid}")
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("task"))
    f = open(os.path.join(dst, "stat")).read().split(" ")
    f[0], f[1], f[3] = str(tid), "(kworker/u64:9)" if kthread else "(sshd)", "2" if kthread else "1000"
    f[8] = str(int(f[8]) | 0x00200000) if kthread else f[8]
    with open(os.path.join(dst, "stat"), "w") as out:
        out.write(" ".join(f))
    if kthread:  # kthreadd's child, as every kernel thread
        with open(os.path.join(root, "proc/2/task/2/children"), "a") as out:
            out.write(f"{tid} ")


@check("activate on a busy v1 host: a child forked into the root set while its tasks move follows them")
def _():
    cfg = os.path.join(EX, "numa-2vm.yaml")
    root_set, host_set = "/sys/fs/cgroup/cpuset", "/sys/fs/cgroup/cpuset/cpushield.host"
    children = ["4194000", "4194001", "4194002"]  # each forked while the one before moved
    hook = {"CPUSHIELD_TEST_FORK_DURING_MOVE": f"{root_set}:4194000"}
    for kthread_at in (None, 1):
        root, state = fixture_copy("xeon-2s"), state_dir()
        for i, tid in enumerate(children):
            newborn(root, int(tid), kthread=i == kthread_at)
        p = cs(root, cfg, "activate", "nfv", state=state, env=hook)
        assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
        root_tasks = read(root, f"{root_set}/tasks").split()
        host_tasks = read(root, f"{host_set}/tasks").split()
        if kthread_at is None:
            assert set(children) <= set(host_tasks) and not set(children) & set(root_tasks), (root_tasks, host_tasks)
        else:
            # the user child follows; a new kernel thread stays (v1 cannot
            # attach the per-CPU ones), so it forks nothing more that moves
            assert "4194000" in host_tasks and "4194001" in root_tasks and "4194002" not in root_tasks + host_tasks
        # nothing left for the next run to move
        p = cs(root, cfg, "--output", "json", "plan", state=state)
        targets = [c["target"] for c in json.loads(p.stdout)["changes"] if not c["target"].startswith("libvirt:")]
        assert not [t for t in targets if t.startswith("/sys/fs/cgroup/")], (kthread_at, targets)


@check("power: a lowered maximum is raised before the minimum, and both come back")
def _():
    cfg = os.path.join(EX, "desktop-4790k.yaml")
    root, state = fixture_copy("i7-4790k"), state_dir()
    write(root, "/sys/devices/system/cpu/cpufreq/policy1/scaling_max_freq", "3000000")
    before = tree_digest(root)
    p = cs(root, cfg, "--output", "json", "plan", "--activate", "win10", state=state)
    order = [c["target"].rsplit("/", 1)[1] for c in json.loads(p.stdout)["changes"] if "/policy1/" in c["target"]]
    assert order == ["scaling_governor", "scaling_max_freq", "scaling_min_freq"], order
    assert cs(root, cfg, "activate", "win10", state=state).returncode == 0
    assert read(root, "/sys/devices/system/cpu/cpufreq/policy1/scaling_max_freq") == "4400000"
    assert read(root, "/sys/devices/system/cpu/cpufreq/policy1/scaling_min_freq") == "4400000"
    assert cs(root, cfg, "revert", state=state).returncode == 0
    assert tree_digest(root) == before


@check("a journal from another boot is set aside, never applied")
def _():
    cfg = os.path.join(EX, "desktop-4790k.yaml")
    root, state = fixture_copy("i7-4790k"), state_dir()
    assert cs(root, cfg, "activate", "win10", state=state).returncode == 0
    shutil.rmtree(root)
    root = fixture_copy("i7-4790k")  # a fresh boot: original values again
    write(root, "/proc/sys/kernel/random/boot_id", "00000000-1111-2222-3333-444444444444")
    before = tree_digest(root)
    p = cs(root, cfg, "revert", state=state)
    assert p.returncode == 0, p.stderr
    assert "another boot" in p.stderr, p.stderr
    assert tree_digest(root) == before
    assert any(n.startswith("journal.") and n.endswith(".stale") for n in os.listdir(state)), os.listdir(state)


@check("a second run waits for the lock, then gives up with a clear message")
def _():
    import fcntl
    cfg = os.path.join(EX, "desktop-4790k.yaml")
    root, state = fixture_copy("i7-4790k"), state_dir()
    fd = os.open(os.path.join(state, "lock"), os.O_RDWR | os.O_CREAT)
    os.write(fd, b"4242\n")
    fcntl.flock(fd, fcntl.LOCK_EX)
    p = cs(root, cfg, "apply", "--wait", "1", state=state)
    os.close(fd)
    assert p.returncode == 1 and "another cpushield run (pid 4242)" in p.stderr, p.stderr


finish()
