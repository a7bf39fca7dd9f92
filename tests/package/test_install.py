#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""meson install into a temporary DESTDIR, then check what landed there.

usage: test_install.py BUILD_DIR layout   every file where it belongs
       test_install.py BUILD_DIR units    systemd-analyze verify and security
                                          on the installed units (77 without
                                          systemd-analyze), tmpfiles entry"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

BUILD, what = sys.argv[1], sys.argv[2]
failed = []


def check(cond, msg):
    print(("ok - " if cond else "not ok - ") + msg, flush=True)
    if not cond:
        failed.append(msg)


def done():
    print(f"{'FAILED' if failed else 'passed'}: {len(failed)} failed")
    sys.exit(1 if failed else 0)


if what == "units" and not shutil.which("systemd-analyze"):
    print("systemd-analyze not installed: skipped")
    sys.exit(77)

opts = {o["name"]: o["value"] for o in json.loads(subprocess.run(
    ["meson", "introspect", "--buildoptions", BUILD], capture_output=True, text=True, check=True).stdout)}
prefix = opts["prefix"]


def under(d):
    return d if os.path.isabs(d) else os.path.join(prefix, d)


stage = tempfile.mkdtemp(prefix="cpushield-stage-")
try:
    r = subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild", "--quiet", "--destdir", stage],
                       capture_output=True, text=True)
    check(r.returncode == 0, "meson install into a DESTDIR" + ("" if r.returncode == 0 else ": " + r.stderr[-800:]))
    if r.returncode:
        done()

    def find(pattern):
        return [p for p in glob.glob(os.path.join(stage, pattern.lstrip("/")), recursive=True)]

    sbin = os.path.join(under(opts["sbindir"]), "cpushield")
    unitdirs = find("**/systemd/system/cpushield-watch.service")
    unitdir = os.path.dirname(unitdirs[0])[len(stage):] if unitdirs else None

    if what == "layout":
        expect = {
            "program in sbin": sbin,
            "watcher unit": "**/systemd/system/cpushield-watch.service",
            "apply service": "**/systemd/system/cpushield-apply.service",
            "apply timer": "**/systemd/system/cpushield-apply.timer",
            "tmpfiles entry": "**/tmpfiles.d/cpushield.conf",
            "libvirt hook": "/etc/libvirt/hooks/qemu.d/cpushield",
            "JSON schema": os.path.join(under(opts["datadir"]), "cpushield", "cpushield.schema.json"),
            "examples in the doc dir": "**/share/doc/cpushield/examples/desktop-4790k.yaml",
            "drop-in example": "**/share/doc/cpushield/examples/conf.d/50-second-vm.yaml",
            "cpushield(8)": os.path.join(under(opts["mandir"]), "man8", "cpushield.8"),
            "cpushield.yaml(5)": os.path.join(under(opts["mandir"]), "man5", "cpushield.yaml.5"),
            "bash completion": "**/bash-completion/completions/cpushield",
        }
        # Man pages are built when scdoc is there (-Dman=auto) or required.
        if opts.get("man") == "disabled" or (opts.get("man") == "auto" and not shutil.which("scdoc")):
            print("man pages not built (no scdoc): not checked")
            del expect["cpushield(8)"], expect["cpushield.yaml(5)"]
        for name, pattern in expect.items():
            hits = find(pattern)
            check(len(hits) == 1, f"{name}: {hits[0][len(stage):] if hits else pattern + ' missing'}")
        check(os.access(stage + sbin, os.X_OK), "the program is executable")
        hook = stage + "/etc/libvirt/hooks/qemu.d/cpushield"
        check(os.path.exists(hook) and os.stat(hook).st_mode & 0o777 == 0o755, "the hook is mode 0755")
        check(os.path.exists(hook) and f"exec {sbin} hook qemu" in open(hook).read(),
              "the hook runs the installed program")
        for u in find("**/systemd/system/cpushield-*"):
            text = open(u).read()
            check("@" not in text.replace("@system-service", ""), f"{os.path.basename(u)}: every @var@ substituted")
            for exe in re.findall(r"^ExecStart=(\S+)", text, re.M):
                check(exe == sbin, f"{os.path.basename(u)}: ExecStart is {exe}")
        check(not os.path.exists(stage + "/etc/cpushield"), "no configuration in /etc/cpushield")
        etc = [p[len(stage):] for p in find("etc/**") if os.path.isfile(p)]
        check(etc == ["/etc/libvirt/hooks/qemu.d/cpushield"], f"the hook is the only file in /etc ({etc})")
        done()

    # units
    units = sorted(find("**/systemd/system/cpushield-*"))
    check(len(units) == 3, f"three units installed in {unitdir}")
    # verify needs the units those refer to (sysinit.target...): the host's.
    for d in ("/lib/systemd/system", "/usr/lib/systemd/system"):
        if os.path.isdir(d) and not os.path.islink(d):
            dst = stage + d
            os.makedirs(dst, exist_ok=True)
            subprocess.run(["cp", "-rn", d + "/.", dst + "/"], check=True)
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", f"--root={stage}", *units],
                       capture_output=True, text=True)
    out = (r.stdout + r.stderr).strip()
    check(r.returncode == 0 and not out, "systemd-analyze verify: clean" + ("" if not out else ":\n" + out))
    for u in units:
        text = re.sub(r"^#.*\n", "", open(u).read(), flags=re.M)
        for page, sec in re.findall(r"man:([\w.]+)\((\d)\)", text):
            p = os.path.join(stage + under(opts["mandir"]), "man" + sec, f"{page}.{sec}")
            check(os.path.exists(p) or not find("**/man8/cpushield.8"),
                  f"{os.path.basename(u)}: Documentation= man:{page}({sec}) is installed")
        if u.endswith(".service"):
            for key in ("ProtectSystem=strict", "PrivateTmp=yes", "NoNewPrivileges=yes", "ProtectHome=yes",
                        "RestrictAddressFamilies=AF_UNIX AF_NETLINK", "ReadWritePaths=/run/cpushield"):
                check(key in text, f"{os.path.basename(u)}: {key}")
            for key in ("ProtectKernelTunables=yes", "ProtectControlGroups=yes", "ProtectProc=invisible"):
                check(key not in text, f"{os.path.basename(u)}: no {key} (it would forbid the job)")
            r = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", u],
                               capture_output=True, text=True)
            m = re.search(r"Overall exposure level for \S+: ([\d.]+)", r.stdout)
            check(m and float(m.group(1)) <= 3.5,
                  f"{os.path.basename(u)}: systemd-analyze security exposure {m.group(1) if m else '?'}")
    check("ConditionPathExists=/etc/cpushield/cpushield.yaml" in open(
        [u for u in units if u.endswith("apply.service")][0]).read(), "apply service: skipped without config")
    if shutil.which("systemd-tmpfiles"):
        conf = find("**/tmpfiles.d/cpushield.conf")[0]
        r = subprocess.run(["systemd-tmpfiles", "--create", f"--root={stage}", conf], capture_output=True, text=True)
        st = os.stat(stage + "/run/cpushield") if os.path.isdir(stage + "/run/cpushield") else None
        check(r.returncode == 0 and st and st.st_mode & 0o7777 == 0o700 and st.st_uid == 0,
              "systemd-tmpfiles creates /run/cpushield 0700 root" + ("" if r.returncode == 0 else ": " + r.stderr))
    done()
finally:
    shutil.rmtree(stage, ignore_errors=True)
