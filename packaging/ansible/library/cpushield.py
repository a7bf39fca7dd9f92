#!/usr/bin/python
# SPDX-License-Identifier: GPL-2.0-or-later
"""Ansible module for cpushield: converge or revert a hypervisor, with a
real check mode (cpushield's own plan) and diff mode (every item's value
before and after)."""

DOCUMENTATION = r"""
module: cpushield
short_description: Exclusive CPUs for VMs while they run (cpushield)
description:
  - Runs cpushield(8) on the target host. C(state=applied) converges the host
    towards its configuration (cpushield apply); C(state=reverted) gives every
    journaled item back (cpushield revert).
  - Check mode asks cpushield for its plan (C(plan --output json), or
    C(revert --check)) and reports C(changed) from it without writing
    anything. Diff mode shows every item's value before and after.
  - The configuration itself (/etc/cpushield/cpushield.yaml) is deployed with
    the usual modules (template, copy); this module acts on it.
options:
  state:
    description: applied (converge) or reverted (restore every journaled item).
    type: str
    choices: [applied, reverted]
    default: applied
  activate:
    description:
      - VMs to mark active by hand, as C(cpushield activate NAME) does (their
        activation may be C(manual)). Check mode plans them as running.
      - VMs activated earlier stay active until deactivated or reverted.
    type: list
    elements: str
    default: []
  config:
    description: Configuration files (C(--config), in order). Default /etc/cpushield.
    type: list
    elements: path
  root:
    description: Host root (C(--root)); a copy of a host's /sys and /proc for tests.
    type: path
  state_dir:
    description: Journal and lock directory (C(--state-dir)), default /run/cpushield.
    type: path
  force:
    description: With state=reverted, also restore items that drifted.
    type: bool
    default: false
  binary:
    description: Path of the cpushield program. Default found in PATH and sbin.
    type: path
author: cpushield authors
"""

EXAMPLES = r"""
- name: Shield the CPUs of running VMs
  cpushield:
    state: applied

- name: A VM with activation manual, marked running
  cpushield:
    activate: [nfv]

- name: Give everything back
  cpushield:
    state: reverted
"""

RETURN = r"""
changes:
  description: The items changed (or, in check mode, to be changed).
  type: list
  elements: dict
  returned: always
  sample: [{"kind": "irq", "target": "/proc/irq/24/smp_affinity_list", "from": "0-7", "to": "0,4", "vm": "win10"}]
pending:
  description: libvirt pins of domains that are not running (applied when they run).
  type: list
  returned: always
active:
  description: VMs active after the run (as planned in check mode).
  type: list
  returned: always
warnings_cpushield:
  description: cpushield's warnings.
  type: list
  returned: always
errors:
  description: cpushield's error lines, on failure.
  type: list
  returned: on failure
"""

import json

from ansible.module_utils.basic import AnsibleModule


def is_pending(c):
    return c.get("kind") == "libvirt" and c.get("from") is None


def item_line(c, value):
    name = f"  # {c['name']}" if c.get("name") else ""
    shown = "(absent)" if value is None else value
    return f"{c.get('kind')} {c.get('target')} = {shown}{name}\n"


class Runner:
    def __init__(self, module):
        self.module = module
        p = module.params
        binary = p["binary"] or module.get_bin_path("cpushield", required=True, opt_dirs=["/usr/sbin", "/usr/local/sbin"])
        self.base = [binary]
        for c in p["config"] or []:
            self.base += ["--config", c]
        if p["root"]:
            self.base += ["--root", p["root"]]
        if p["state_dir"]:
            self.base += ["--state-dir", p["state_dir"]]
        self.changes, self.pending, self.active, self.warnings = [], [], [], []

    def run(self, *args):
        """Runs cpushield with JSON output; returns (rc, document)."""
        cmd = self.base + ["--output", "json", "--detailed-exitcodes", *args]
        rc, out, err = self.module.run_command(cmd)
        try:
            doc = json.loads(out) if out.strip() else {}
        except ValueError:
            doc = {}
        if rc not in (0, 2):
            errors = list(doc.get("errors") or [])
            errors += [line for line in err.splitlines() if line.strip() and line not in errors]
            self.module.fail_json(msg=f"cpushield {args[0]} failed: " + ("; ".join(errors) or f"exit {rc}"),
                                  rc=rc, cmd=cmd, errors=errors, stdout=out, stderr=err,
                                  changes=self.changes)
        for c in doc.get("changes") or []:
            (self.pending if is_pending(c) else self.changes).append(c)
        self.active = doc.get("active", self.active)
        self.warnings += [w for w in doc.get("warnings") or [] if w not in self.warnings]
        return rc

    def diff(self):
        before = "".join(item_line(c, c.get("from")) for c in self.changes)
        after = "".join(item_line(c, c.get("to")) for c in self.changes)
        return {"before": before, "after": after,
                "before_header": "cpushield: before", "after_header": "cpushield: after"}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["applied", "reverted"], default="applied"),
            activate=dict(type="list", elements="str", default=[]),
            config=dict(type="list", elements="path"),
            root=dict(type="path"),
            state_dir=dict(type="path"),
            force=dict(type="bool", default=False),
            binary=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    r = Runner(module)
    changed = False
    if p["state"] == "reverted":
        if p["activate"]:
            module.fail_json(msg="activate is only for state=applied")
        args = ["revert"] + (["--force"] if p["force"] else []) + (["--check"] if module.check_mode else [])
        changed = r.run(*args) == 2
    elif module.check_mode:
        args = ["plan"]
        for name in p["activate"]:
            args += ["--activate", name]
        changed = r.run(*args) == 2
    elif p["activate"]:
        # Each activate reconciles the whole host; later ones see the earlier.
        for name in p["activate"]:
            changed |= r.run("activate", name) == 2
    else:
        changed = r.run("apply") == 2

    for w in r.warnings:
        module.warn("cpushield: " + w)
    result = dict(changed=changed, changes=r.changes, pending=r.pending, active=r.active,
                  warnings_cpushield=r.warnings)
    if module._diff:
        result["diff"] = r.diff()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
