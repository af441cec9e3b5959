#!/usr/bin/env python3
"""The ABI promise: every MEWE_API declaration in the public headers is in the version script,
the version script names nothing else, and the shared library exports exactly that list."""
import pathlib
import re
import subprocess
import sys

root = pathlib.Path(sys.argv[1])
lib = sys.argv[2]

declared = set()
for h in sorted((root / "include" / "mewe").rglob("*.h")):
    text = re.sub(r"/\*.*?\*/", "", h.read_text(), flags=re.S)
    for m in re.finditer(r"MEWE_API\s[^;{]*?\b(mewe_\w+)\s*\(", text):
        declared.add(m.group(1))

script = (root / "lib" / "libmewe.map").read_text()
script = re.sub(r"/\*.*?\*/", "", script, flags=re.S)
listed = set(re.findall(r"^\s*(mewe_\w+);", script, flags=re.M))

out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True, capture_output=True,
                     text=True).stdout
exported = set()
for line in out.splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1] in "TDBRVWiu":
        exported.add(parts[2].split("@")[0])
exported.discard("MEWE_0.1")
exported = {e for e in exported if not re.fullmatch(r"MEWE_\d+\.\d+", e)}

problems = []
for name in sorted(declared - listed):
    problems.append(f"declared in a header but missing from libmewe.map: {name}")
for name in sorted(listed - declared):
    problems.append(f"in libmewe.map but declared in no public header: {name}")
for name in sorted(exported - listed):
    problems.append(f"exported by {lib} but not in libmewe.map: {name}")
for name in sorted(listed - exported):
    problems.append(f"in libmewe.map but not exported (not defined?): {name}")
if not declared:
    problems.append("no MEWE_API declarations found: the header scan is broken")
for p in problems:
    print(p)
print(f"{len(declared)} declared, {len(listed)} listed, {len(exported)} exported")
sys.exit(1 if problems else 0)
