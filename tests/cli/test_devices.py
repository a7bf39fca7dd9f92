#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Passed-through devices on the two-socket Xeon fixture: 0000:02:00.0 on
node 0, bound to vfio-pci, MSI-X vectors 72-75 (vfio-msix[0-3]) on CPUs
0,16,0,16. Their vectors go where the VM's device_irqs policy says, are
journaled like any IRQ and restored; vectors that appear later are placed
by the next apply; doctor warns about a device on the wrong NUMA node."""
import json
import os
import re
import shutil
import subprocess
import tempfile

from common import BIN, EX, FIX, check, cpulist, finish, fixture_copy, read, run, state_dir, tree_digest, \
    xml_check

XEON = os.path.join(FIX, "xeon-2s")
EXAMPLE = os.path.join(EX, "vfio-nic.yaml")
DEV = "0000:02:00.0"
VECTORS = [72, 73, 74, 75]

ROUTER = """version: 1
host: {{cpus: "0,16"}}
vms:
  router:
    activation: manual
    cpus: 1-7,17-23
    vcpu_pins: [2, 3, 4, 5]
    devices: ["{dev}"]
{extra}"""


CONFIGS = []


def config(text):
    f = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    f.write(text)
    f.close()
    CONFIGS.append(f.name)
    return f.name


def router(extra="", dev=DEV):
    return config(ROUTER.format(dev=dev, extra=extra))


def plan_changes(root, cfg, vm):
    p = run("plan", "--root", root, "--config", cfg, "--activate", vm, "--output", "json")
    assert p.returncode == 0, p.stderr
    return {c["target"]: c for c in json.loads(p.stdout)["changes"]}


def target(n):
    return f"/proc/irq/{n}/smp_affinity_list"


def add_vector(root, num, k, cpus="0-31", mask="ffffffff"):
    """A vector vfio-pci registers when the guest enables one more MSI-X entry."""
    dev = os.path.join(root, "sys/bus/pci/devices", DEV, "msi_irqs")
    with open(os.path.join(dev, str(num)), "w") as f:
        f.write("msix\n")
    d = os.path.join(root, "proc/irq", str(num))
    os.makedirs(d)
    for name, value in (("smp_affinity_list", cpus), ("smp_affinity", mask), ("effective_affinity_list", "0"),
                        ("effective_affinity", "00000001"), ("node", "0")):
        with open(os.path.join(d, name), "w") as f:
            f.write(value + "\n")
    with open(os.path.join(root, "proc/interrupts")) as f:
        lines = f.read().splitlines(True)
    last = max(i for i, ln in enumerate(lines) if ln.split(":")[0].strip().isdigit())
    row = "%4d: " % num + "%10u " % 5 + "%10u " % 0 * 31 + " IR-PCI-MSI 104858%d-edge      vfio-msix[%d](%s)\n" % (
        k, k, DEV)
    lines.insert(last + 1, row)
    with open(os.path.join(root, "proc/interrupts"), "w") as f:
        f.write("".join(lines))


@check("plan --activate: the device's vectors go to the VM's vCPU pins, one pin each, not to the host")
def _():
    ch = plan_changes(XEON, EXAMPLE, "router")
    for k, n in enumerate(VECTORS):
        c = ch.get(target(n))
        assert c, f"IRQ {n} not planned: {sorted(ch)[:10]}"
        assert (c["from"], c["to"], c["vm"]) == (["0", "16"][k % 2], str(2 + k), "router"), c
        assert f"vfio-msix[{k}]({DEV})" in c["name"], c


@check("device_irqs: a CPU list spreads the vectors over those CPUs")
def _():
    ch = plan_changes(XEON, router("    device_irqs: 6-7\n"), "router")
    assert [ch[target(n)]["to"] for n in VECTORS] == ["6", "7", "6", "7"], [ch.get(target(n)) for n in VECTORS]


@check("device_irqs: host keeps the vectors on the host like any other IRQ")
def _():
    cfg = router("    device_irqs: host\n")
    ch = plan_changes(XEON, cfg, "router")
    assert not any(target(n) in ch for n in VECTORS), "vectors already on host CPUs 0,16 were planned"
    root = fixture_copy("xeon-2s")
    add_vector(root, 76, 4)          # a fresh vector: all CPUs, as the kernel registers it
    ch = plan_changes(root, cfg, "router")
    c = ch[target(76)]
    assert not cpulist(c["to"]) & cpulist("1-7,17-23"), c
    assert cpulist(c["to"]) <= cpulist("0,8-16,24-31"), c


@check("without devices in the configuration, the vectors are host IRQs (policy vm needs the device listed)")
def _():
    root = fixture_copy("xeon-2s")
    add_vector(root, 76, 4)
    ch = plan_changes(root, os.path.join(EX, "numa-2vm.yaml"), "db")
    assert cpulist(ch[target(76)]["to"]) == cpulist("0,8-15,16,24-31"), ch[target(76)]


@check("doctor: a device on another NUMA node than the VM's CPUs is a warning naming both nodes")
def _():
    cfg = config(ROUTER.format(dev=DEV, extra="").replace("1-7,17-23", "9-15,25-31")
                 .replace("[2, 3, 4, 5]", "[10, 11, 12, 13]"))
    p = run("doctor", "--root", XEON, "--config", cfg)
    warn = [ln for ln in p.stdout.splitlines() if DEV in ln]
    assert len(warn) == 1, p.stdout
    assert "NUMA node 0" in warn[0] and "node 1" in warn[0] and "9-15,25-31" in warn[0], warn
    p = run("doctor", "--root", XEON, "--config", EXAMPLE)
    assert DEV not in p.stdout, p.stdout


@check("doctor: irqbalance runs on the Xeon: it is told which vectors to leave alone")
def _():
    p = run("doctor", "--root", XEON, "--config", EXAMPLE)
    assert 'IRQBALANCE_ARGS="--banirq=72 --banirq=73 --banirq=74 --banirq=75"' in p.stdout, p.stdout
    p = run("doctor", "--root", XEON, "--config", router("    device_irqs: host\n"))
    assert "banirq" not in p.stdout, p.stdout


@check("a device not bound to vfio-pci, or absent: its interrupts stay the host's, plan and doctor warn")
def _():
    root = fixture_copy("xeon-2s")
    link = os.path.join(root, "sys/bus/pci/devices", DEV, "driver")
    os.unlink(link)
    os.makedirs(os.path.join(root, "sys/bus/pci/drivers/igb"))
    os.symlink("../../../../bus/pci/drivers/igb", link)
    p = run("doctor", "--root", root, "--config", EXAMPLE)
    assert f"{DEV} is bound to igb, not vfio-pci" in p.stdout, p.stdout
    add_vector(root, 76, 4)       # the host's igb driver has a vector on every CPU: it goes to the host
    p = run("plan", "--root", root, "--config", EXAMPLE, "--activate", "router", "--output", "json")
    doc = json.loads(p.stdout)
    ch = {c["target"]: c for c in doc["changes"]}
    assert not cpulist(ch[target(76)]["to"]) & cpulist("1-7,17-23"), ch[target(76)]
    assert not any(target(n) in ch for n in VECTORS), "an igb device's vectors were steered to the VM"
    assert any(f"{DEV} is not bound to vfio-pci" in w for w in doc["warnings"]), doc["warnings"]
    p = run("doctor", "--root", XEON, "--config", router(dev="0000:05:00.0"))
    assert "0000:05:00.0 does not exist" in p.stdout, p.stdout


@check("a vector appearing between two applies is placed by the second and restored by revert")
def _():
    root = fixture_copy("xeon-2s")
    expected = fixture_copy("xeon-2s")
    add_vector(expected, 76, 4)
    cfg, state = router(), state_dir()
    p = run("activate", "router", "--root", root, "--config", cfg, state=state)
    assert p.returncode == 0, p.stderr
    assert [read(root, target(n)) for n in VECTORS] == ["2", "3", "4", "5"]
    add_vector(root, 76, 4)
    p = run("apply", "--detailed-exitcodes", "--root", root, "--config", cfg, state=state)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert read(root, target(76)) == "2"                 # vector 4 -> vcpu_pins[0]
    assert read(root, "/proc/irq/76/smp_affinity") == "00000004"
    p = run("apply", "--detailed-exitcodes", "--root", root, "--config", cfg, state=state)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    with open(os.path.join(state, "journal")) as f:
        assert target(76) in f.read()
    p = run("deactivate", "router", "--root", root, "--config", cfg, state=state)
    assert p.returncode == 0, p.stderr
    p = run("revert", "--root", root, "--config", cfg, state=state)
    assert p.returncode == 0, p.stderr
    assert tree_digest(root) == tree_digest(expected)


@check("verify: the VM's own device vectors on its CPUs are not noise")
def _():
    root, cfg, state = fixture_copy("xeon-2s"), router(), state_dir()
    assert run("activate", "router", "--root", root, "--config", cfg, state=state).returncode == 0
    p = run("verify", "--root", root, "--config", cfg, state=state)
    assert "vfio-msix" not in p.stdout, p.stdout


HOSTDEV = ("<domain type='kvm'><name>router</name><devices><hostdev mode='subsystem' type='pci' managed='yes'>"
           "<source><address domain='0x0000' bus='0x02' slot='0x00' function='0x0'/></source></hostdev>"
           "</devices></domain>\n")


@xml_check("the hook learns <hostdev> devices from the domain XML, keeps them while the VM runs, forgets them after")
def _():
    cfg = config(ROUTER.format(dev=DEV, extra="").replace(f"    devices: [\"{DEV}\"]\n", "")
                 .replace("activation: manual", "activation: libvirt"))
    root, state = fixture_copy("xeon-2s"), state_dir()
    before = tree_digest(root)

    def hook(op, sub, stdin=""):
        p = subprocess.run([BIN, "--state-dir", state, "--root", root, "--config", cfg, "hook", "qemu", "router", op,
                            sub], input=stdin, capture_output=True, text=True, timeout=60)
        assert (p.returncode, p.stdout) == (0, ""), (p.returncode, p.stdout, p.stderr)
    hook("prepare", "begin", HOSTDEV)
    assert [read(root, target(n)) for n in VECTORS] == ["2", "3", "4", "5"]
    with open(os.path.join(state, "devices")) as f:
        assert f.read() == f"router {DEV}\n"
    add_vector(root, 76, 4)                 # the guest enables one more: the timer's apply places it
    p = run("apply", "--root", root, "--config", cfg, state=state)
    assert p.returncode == 0, p.stderr
    assert read(root, target(76)) == "2"
    hook("release", "end")
    assert not os.path.exists(os.path.join(state, "devices"))
    assert [read(root, target(n)) for n in VECTORS] == ["0", "16", "0", "16"]
    assert read(root, target(76)) == "0-31"
    p = run("revert", "--root", root, "--config", cfg, state=state)
    assert p.returncode == 0, p.stderr
    assert tree_digest(root) != before      # vector 76 is new, the rest is as it was
    shutil.rmtree(os.path.join(root, "proc/irq/76"))
    os.unlink(os.path.join(root, "sys/bus/pci/devices", DEV, "msi_irqs/76"))
    with open(os.path.join(root, "proc/interrupts")) as f:
        lines = [ln for ln in f if not ln.lstrip().startswith("76:")]
    with open(os.path.join(root, "proc/interrupts"), "w") as f:
        f.write("".join(lines))
    assert tree_digest(root) == before


def libraries_loaded(*args, stdin=""):
    """Every shared object the dynamic loader opened for this run (LD_DEBUG)."""
    p = subprocess.run([BIN, *args], input=stdin, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "LD_DEBUG": "files"})
    return p, {lib for lib in re.findall(r"file=(\S+) \[", p.stderr)}


@xml_check("libxml2 is loaded by the hook reading a domain's XML, not by plan or apply")
def _():
    root = fixture_copy("xeon-2s")
    args = ["--state-dir", state_dir(), "--root", root, "--config", EXAMPLE, "--libvirt", "no"]
    p, libs = libraries_loaded(*args, "plan", "--activate", "router")
    assert p.returncode == 0 and any("libyaml" in lib for lib in libs), (p.returncode, sorted(libs))
    assert not [lib for lib in libs if "libxml2" in lib], sorted(libs)
    p, libs = libraries_loaded(*args[:-2], "hook", "qemu", "router", "prepare", "begin", stdin=HOSTDEV)
    assert p.returncode == 0, p.stderr[-2000:]
    assert [lib for lib in libs if "libxml2" in lib], sorted(libs)
    assert not [lib for lib in libs if "libvirt.so" in lib], sorted(libs)


BAD = [
    ("    devices: [\"0000:02:00\"]\n", "8:15", "is not a PCI address"),
    ("    devices: [\"0000:02:00.0\", \"02:00.0\"]\n", "8:31", "listed twice"),
    ("    devices: 0000:02:00.0\n", "8:14", "must be a list"),
    ("    device_irqs: 9\n", "9:18", "outside the VM's CPUs"),
    ("    device_irqs: guest\n", "9:18", "device_irqs must be"),
]

for body, where, msg in BAD:
    @check(f"bad device configuration ({msg}): file:line:col, exit 1, nothing changed")
    def _(body=body, where=where, msg=msg):
        text = ROUTER.format(dev=DEV, extra="")
        text = text.replace(f"    devices: [\"{DEV}\"]\n", body) if "devices" in body else text + body
        cfg = config(text)
        root = fixture_copy("xeon-2s")
        before = tree_digest(root)
        p = run("activate", "router", "--root", root, "--config", cfg)
        assert p.returncode == 1, (p.returncode, p.stdout)
        assert f"{cfg}:{where}: " in p.stderr and msg in p.stderr, (where, p.stderr)
        assert tree_digest(root) == before


for name in CONFIGS:
    os.unlink(name)
finish()
