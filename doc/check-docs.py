#!/usr/bin/env python3
"""The API reference builds without a single Doxygen warning.

Usage: check-docs.py DOXYGEN DOXYFILE

Runs Doxygen with the configured Doxyfile, its output sent to a temporary directory (so the
test never touches the docs the build made), and fails if Doxygen exits non-zero or writes
any warning or error. Every warning is printed as Doxygen gave it (file:line: text).
"""
import re
import subprocess
import sys
import tempfile

WARNING = re.compile(r"\b(warning|error)\b\s*:", re.IGNORECASE)


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    doxygen, doxyfile = argv[1], argv[2]
    with open(doxyfile, encoding="utf-8") as f:
        config = f.read()
    with tempfile.TemporaryDirectory(prefix="mewe-docs-") as out:
        # Later assignments win: keep every setting, only redirect the output. Warnings are
        # judged here, so Doxygen is told to list them all and exit 0 on them.
        config += '\nOUTPUT_DIRECTORY = "{}"\nWARN_LOGFILE =\nWARN_AS_ERROR = NO\n'.format(out)
        r = subprocess.run([doxygen, "-"], input=config, capture_output=True, text=True)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    warnings = [l for l in lines if WARNING.search(l)]
    for line in lines:
        print(line)
    if r.returncode != 0:
        print("FAIL: doxygen exited with status {}".format(r.returncode))
        return 1
    if warnings:
        print("FAIL: {} doxygen warning(s)".format(len(warnings)))
        return 1
    print("OK: the API reference builds without warnings")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
