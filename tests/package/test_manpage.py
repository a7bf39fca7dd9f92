#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""cpushield --help and cpushield(8) agree: every command and long option of
one appears in the other. With the built pages given, man -l renders both.

usage: test_manpage.py CPUSHIELD SOURCE_ROOT [BUILT_PAGE]..."""
import os
import re
import shutil
import subprocess
import sys

BIN, SRC, pages = sys.argv[1], sys.argv[2], sys.argv[3:]
failed = []


def check(cond, msg):
    print(("ok - " if cond else "not ok - ") + msg, flush=True)
    if not cond:
        failed.append(msg)


def section(text, start, end=None):
    a = text.index(start)
    b = text.index(end, a) if end else len(text)
    return text[a:b]


help_text = subprocess.run([BIN, "--help"], capture_output=True, text=True, check=True).stdout
help_cmds = set()
for line in section(help_text, "Commands:", "Options:").splitlines()[1:]:
    m = re.match(r"  ([a-z]+)\b", line)
    if m:
        help_cmds.add(m.group(1))
help_opts = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", help_text))

scd = open(os.path.join(SRC, "doc", "cpushield.8.scd")).read()
# Entries are the unindented lines of a section that start with a bold word.
man_cmds = set(re.findall(r"^\*([a-z]+)[\* ]", section(scd, "# COMMANDS", "# OPTIONS"), re.M))
man_opt_heads = set(re.findall(r"^\*(--[a-z][a-z-]*)\*|^\*-[a-z]\*, \*(--[a-z-]+)\*",
                               section(scd, "# OPTIONS", "# EXIT STATUS"), re.M))
man_opts = {a or b for a, b in man_opt_heads}
# Options named in the text (literal blocks hold other programs' command lines).
man_all_opts = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", re.sub(r"```.*?```", "", scd, flags=re.S)))

check(len(help_cmds) >= 10, f"--help lists the commands ({sorted(help_cmds)})")
for c in sorted(help_cmds - man_cmds):
    check(False, f"command '{c}' of --help is missing from cpushield(8) COMMANDS")
for c in sorted(man_cmds - help_cmds):
    check(False, f"command '{c}' of cpushield(8) is not in --help")
check(help_cmds == man_cmds, "the same commands in --help and cpushield(8)")
for o in sorted(help_opts - man_opts):
    check(False, f"option '{o}' of --help has no entry in cpushield(8) OPTIONS")
for o in sorted(man_opts - help_opts):
    check(False, f"option '{o}' of cpushield(8) OPTIONS is not in --help")
for o in sorted(man_all_opts - help_opts):
    check(False, f"cpushield(8) mentions '{o}', which --help does not know")
check(help_opts == man_opts, f"the same long options in --help and cpushield(8) ({len(help_opts)})")

# Every option the man page documents is one the program accepts.
for o in sorted(man_opts):
    if o in ("--help", "--version"):
        continue
    arg = {"--output": ["text"], "--libvirt": ["no"], "--wait": ["1"], "--interval": ["1"], "--sample": ["1"],
           "--threshold": ["1"]}.get(o, ["x"])
    takes = re.search(re.escape(o) + r"\* _", scd) or o in ("--output", "--libvirt")
    r = subprocess.run([BIN, o, *(arg if takes else []), "nosuchcommand"], capture_output=True, text=True)
    check("unrecognized option" not in r.stderr and "unknown command" in r.stderr, f"the program accepts {o}")

if pages:
    if not shutil.which("man"):
        print("man is not installed: rendering not checked")
    for p in pages:
        r = subprocess.run(["man", "-l", p], capture_output=True, text=True,
                           env={**os.environ, "MANPAGER": "cat", "PAGER": "cat", "MANWIDTH": "80"})
        ok = r.returncode == 0 and "NAME" in r.stdout and len(r.stdout.splitlines()) > 40
        ok = ok and not re.search(r"warning|can't|cannot", r.stderr)
        check(ok, f"man -l renders {os.path.basename(p)}" + ("" if ok else f": {r.stderr.strip()[:300]}"))

print(f"{'FAILED' if failed else 'passed'}: {len(failed)} failed")
sys.exit(1 if failed else 0)
