#!/usr/bin/env python3
"""Counts the individual tests of one or more meson test runs (Check cases, pytest cases, and
one for each other test program) from their testlog.json, and prints one line per run and the
closing line `N passed, N failed, N skipped`. Exits 1 when anything failed."""
import json
import pathlib
import re
import sys

CHECK = re.compile(r"\d+%: Checks: (\d+), Failures: (\d+), Errors: (\d+)")
PYTEST = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)")


def count_test(entry):
    """(passed, failed, skipped) for one meson test."""
    out = (entry.get("stdout") or "") + "\n" + (entry.get("stderr") or "")
    result = entry.get("result", "")
    if result == "SKIP":
        return 0, 0, 1
    passed = failed = skipped = 0
    checks = CHECK.findall(out)
    if checks:
        for total, failures, errors in checks:
            failed += int(failures) + int(errors)
            passed += int(total) - int(failures) - int(errors)
    else:
        tail = out.strip().splitlines()[-3:] if out.strip() else []
        for line in tail:
            if "passed" in line or "failed" in line or "skipped" in line:
                for n, kind in PYTEST.findall(line):
                    if kind in ("passed", "xfailed"):
                        passed += int(n)
                    elif kind == "skipped":
                        skipped += int(n)
                    else:
                        failed += int(n)
        if passed + failed + skipped == 0:
            passed = 1 if result == "OK" else 0
    # A crash or timeout can leave counts that look clean: the test itself failed.
    if result not in ("OK", "EXPECTEDFAIL") and failed == 0:
        failed = 1
    return passed, failed, skipped


def main():
    totals = [0, 0, 0]
    for build in sys.argv[1:]:
        log = pathlib.Path(build) / "meson-logs" / "testlog.json"
        if not log.exists():
            print(f"{build}: no test log (the build or the test run did not happen)")
            totals[1] += 1
            continue
        run = [0, 0, 0]
        for line in log.read_text().splitlines():
            if line.strip():
                for i, n in enumerate(count_test(json.loads(line))):
                    run[i] += n
        print(f"{build}: {run[0]} passed, {run[1]} failed, {run[2]} skipped")
        totals = [a + b for a, b in zip(totals, run)]
    print(f"{totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    return 1 if totals[1] else 0


if __name__ == "__main__":
    sys.exit(main())
