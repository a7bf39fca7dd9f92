#!/usr/bin/python3
"""Check schema/cpushield.schema.json and the example configurations.

Usage: validate.py [SOURCE_ROOT]   (default: two directories above this file)

  1. the schema is a valid JSON Schema draft 2020-12 document;
  2. every examples/**/*.yaml starts with a yaml-language-server modeline
     pointing at the schema, and validates;
  3. complete examples (those with a host key) are self-consistent for the
     rules the schema cannot express, as far as they use CPU lists;
  4. inline documents that cpushield accepts are accepted (so the schema is
     not too strict) and deliberately broken ones are rejected (so the
     schema, and this test, can fail).

Exit 0 if every check passed, 1 otherwise, 77 (skip) if the jsonschema or
yaml Python module is missing.
"""

import glob
import json
import os
import re
import sys

try:
    import jsonschema
    import yaml
except ImportError as e:  # meson: exit status 77 = skipped
    print(f"SKIP: {e} (install python3-jsonschema and python3-yaml)")
    sys.exit(77)

SCHEMA_REL = os.path.join("schema", "cpushield.schema.json")
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)\s*$")
CPU_ITEM = re.compile(r"^\s*(\d+)(?:-(\d+))?\s*$")


def json_keys(node):
    """Turn a YAML-loaded tree into what the same document is in JSON.

    YAML 1.1 (PyYAML) loads `{1: 5-7}` with an int key; JSON keys are
    strings, and cpushield treats keys as text.
    """
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if isinstance(k, bool):
                k = "true" if k else "false"
            elif k is None:
                k = "null"
            out[str(k)] = json_keys(v)
        return out
    if isinstance(node, list):
        return [json_keys(v) for v in node]
    return node


def load_yaml(text):
    return json_keys(yaml.safe_load(text))


def schema_errors(validator, doc):
    return sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))


def describe(err):
    path = "/".join(str(p) for p in err.absolute_path) or "(top)"
    msg = err.message
    if len(msg) > 160:
        msg = msg[:157] + "..."
    return f"{path}: {msg}"


def cpu_set(value):
    """Expand a CPU list (int or kernel list string) into a set."""
    if isinstance(value, int):
        return {value}
    cpus = set()
    for item in str(value).split(","):
        m = CPU_ITEM.match(item)
        if not m:
            raise ValueError(f"bad CPU list {value!r}")
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) is not None else a
        if a > b:
            raise ValueError(f"range {a}-{b} is reversed in {value!r}")
        cpus.update(range(a, b + 1))
    return cpus


def consistency_problems(doc):
    """Rules cpushield enforces that a schema cannot (CPU-list forms only:
    core indexes need the machine's topology and are not expanded here)."""
    problems = []
    profiles = doc.get("power_profiles", {})
    host = doc["host"].get("cpus")
    host = cpu_set(host) if host is not None else None
    if host is not None and not host:
        problems.append("host CPUs are empty")
    seen = {}
    for name, vm in doc.get("vms", {}).items():
        if "power" in vm and vm["power"] not in profiles:
            problems.append(f"vm {name}: power profile {vm['power']!r} undefined")
        if "cpus" not in vm:
            continue
        cpus = cpu_set(vm["cpus"])
        if host is not None and cpus & host:
            problems.append(f"vm {name}: CPUs {sorted(cpus & host)} are the host's")
        for other, ocpus in seen.items():
            if cpus & ocpus:
                problems.append(f"vm {name}: CPUs {sorted(cpus & ocpus)} overlap vm {other}")
        seen[name] = cpus
        pins = [(f"vcpu_pins[{i}]", p) for i, p in enumerate(vm.get("vcpu_pins", []))]
        if "emulator_pin" in vm:
            pins.append(("emulator_pin", vm["emulator_pin"]))
        pins += [(f"iothread_pins[{k}]", p) for k, p in vm.get("iothread_pins", {}).items()]
        for what, pin in pins:
            outside = cpu_set(pin) - cpus
            if outside:
                problems.append(f"vm {name}: {what} CPUs {sorted(outside)} outside the VM")
    return problems


# Documents cpushield accepts: the schema must accept them too.
GOOD = [
    ("empty document (a drop-in may set nothing)", "{}"),
    ("drop-in with only a VM", "vms: {x: {cpus: 2}}"),
    ("integer CPU list", "host: {cpus: 3}"),
    ("quoted single CPU", "host: {cpus: '3'}"),
    ("spaces around list items", "host: {cpus: ' 0 , 4-5 '}"),
    ("host by cores, partition", "host: {cores: [0], partition: machine.slice/sub}"),
    ("iothread int key", "vms: {v: {cpus: 1-3, iothread_pins: {1: 2, 12: '3'}}}"),
    ("min_frequency in kHz, epp", "power_profiles: {p: {min_frequency: 800000,"
     " energy_performance_preference: balance_power}}"),
    ("all vm keys", """
vms:
  v.m_1-x:
    activation: manual
    libvirt: {uri: 'qemu:///session', domain: other}
    cores: [1, 2]
    vcpu_pins: [1, '2-3', '4,5']
    emulator_pin: 1
    iothread_pins: {1: 0-1}
    power: p
    devices: ['0000:01:00.0', '02:00.1']
    device_irqs: host
"""),
    ("device_irqs as a CPU list", "vms: {v: {cpus: 1-3, devices: ['0000:0a:1f.7'], device_irqs: 2-3}}"),
]

# Documents cpushield rejects: the schema must reject them.
BROKEN = [
    ("unknown top-level key", "version: 1\nhots: {cpus: 0}"),
    ("unknown vm key", "vms: {v: {cpus: 1, vcpus_pins: [1]}}"),
    ("unknown power profile key", "power_profiles: {p: {gouvernor: performance}}"),
    ("unknown libvirt key", "vms: {v: {cpus: 1, libvirt: {url: 'qemu:///system'}}}"),
    ("wrong type: vms is a list", "vms: [win10]"),
    ("wrong type: version is a string", "version: '1'"),
    ("wrong type: cores is not a list", "host: {cores: 0}"),
    ("wrong type: negative core", "host: {cores: [-1]}"),
    ("wrong type: max_wakeup_latency_us string", "power_profiles: {p: {max_wakeup_latency_us: 20us}}"),
    ("bad activation value", "vms: {v: {cpus: 1, activation: boot}}"),
    ("bad defaults value", "defaults: {irqs: moved}"),
    ("bad epp value", "power_profiles: {p: {energy_performance_preference: fast}}"),
    ("bad min_frequency", "power_profiles: {p: {min_frequency: min}}"),
    ("zero min_frequency", "power_profiles: {p: {min_frequency: 0}}"),
    ("empty power profile", "power_profiles: {p: {}}"),
    ("bad cpu list '1-'", "host: {cpus: 1-}"),
    ("bad cpu list trailing comma", "host: {cpus: '1-3,'}"),
    ("bad cpu list empty", "host: {cpus: ''}"),
    ("bad cpu list letters", "vms: {v: {cpus: all}}"),
    ("bad cpu list negative int", "host: {cpus: -1}"),
    ("bad cpu list in vcpu_pins", "vms: {v: {cpus: 1-3, vcpu_pins: [1, '2-']}}"),
    ("version 2", "version: 2"),
    ("host with both cpus and cores", "host: {cpus: 0, cores: [0]}"),
    ("host with neither cpus nor cores", "host: {partition: machine.slice}"),
    ("vm with neither cpus nor cores", "vms: {v: {activation: manual}}"),
    ("vm with both cpus and cores", "vms: {v: {cpus: 1, cores: [1]}}"),
    ("bad vm name", "vms: {-v: {cpus: 1}}"),
    ("bad profile name", "power_profiles: {'a b': {governor: performance}}"),
    ("iothread id 0", "vms: {v: {cpus: 1, iothread_pins: {0: 1}}}"),
    ("iothread id not a number", "vms: {v: {cpus: 1, iothread_pins: {io1: 1}}}"),
    ("top level is a list", "- version: 1"),
    ("device is not a PCI address", "vms: {v: {cpus: 1, devices: ['01:00']}}"),
    ("device function 8", "vms: {v: {cpus: 1, devices: ['0000:01:00.8']}}"),
    ("devices is not a list", "vms: {v: {cpus: 1, devices: '0000:01:00.0'}}"),
    ("bad device_irqs word", "vms: {v: {cpus: 1, device_irqs: guest}}"),
]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1
                           else os.path.join(here, "..", ".."))
    schema_path = os.path.join(root, SCHEMA_REL)
    passed = failed = 0

    def result(ok, what, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"ok   {what}")
        else:
            failed += 1
            print(f"FAIL {what}{': ' + detail if detail else ''}")

    try:
        with open(schema_path, encoding="utf-8") as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
    except (OSError, ValueError, jsonschema.SchemaError) as e:
        result(False, SCHEMA_REL, str(e).splitlines()[0])
        print(f"{passed} passed, {failed} failed")
        return 1
    result(True, f"{SCHEMA_REL} (draft 2020-12 meta-schema)")
    validator = jsonschema.Draft202012Validator(schema)

    files = sorted(glob.glob(os.path.join(root, "examples", "**", "*.yaml"),
                             recursive=True))
    if not files:
        result(False, "examples/**/*.yaml", "no example found")
    for path in files:
        rel = os.path.relpath(path, root)
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            doc = load_yaml(text)
        except (OSError, yaml.YAMLError) as e:
            result(False, rel, str(e).replace("\n", " "))
            continue
        problems = []
        m = MODELINE.match(text.split("\n", 1)[0])
        if not m:
            problems.append("first line is not a yaml-language-server $schema modeline")
        elif os.path.normpath(os.path.join(os.path.dirname(path), m.group(1))) \
                != os.path.normpath(schema_path):
            problems.append(f"modeline points at {m.group(1)}, not the schema")
        problems += [describe(e) for e in schema_errors(validator, doc)]
        if not problems and isinstance(doc, dict) and "host" in doc:
            try:
                problems += consistency_problems(doc)
            except ValueError as e:
                problems.append(str(e))
        result(not problems, rel, "; ".join(problems))

    for name, text in GOOD:
        errors = schema_errors(validator, load_yaml(text))
        result(not errors, f"accepted: {name}", "; ".join(describe(e) for e in errors))
    for name, text in BROKEN:
        errors = schema_errors(validator, load_yaml(text))
        result(bool(errors), f"rejected: {name}", "the schema accepted it")

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
