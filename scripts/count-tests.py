#!/usr/bin/env python3
"""Counts the individual tests of one or more meson test runs from their testlog.json, and
prints one line per run and the closing line `N passed, N failed, N skipped`. Exits 1 when
anything failed.

What a test program ran is read from its output:
- Check suites: "NN%: Checks: T, Failures: F, Errors: E", and a line "SKIP: N tests: why"
  for each group of tests that the suite did not register because a tool is missing
  (tests/test-skip.h); such a suite exits 77, which meson calls SKIP.
- pytest: its closing summary ("3 passed, 1 skipped in 2.0s").
- unittest: "Ran N tests" and "OK (skipped=K)" or "FAILED (failures=F, errors=E, ...)".
- anything else is one test: passed (exit 0), skipped (exit 77) or failed.
A skip is never counted as a pass."""
import json
import pathlib
import re
import sys

CHECK = re.compile(r"\d+%: Checks: (\d+), Failures: (\d+), Errors: (\d+)")
CHECK_SKIP = re.compile(r"^SKIP: (\d+) tests?: ", re.M)
PYTEST = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)")
UNITTEST_RAN = re.compile(r"^Ran (\d+) tests? in ", re.M)
UNITTEST_END = re.compile(r"^(OK|FAILED)(?: \(([^)]*)\))?\s*$", re.M)


def _pytest_counts(out):
    """(passed, failed, skipped) from pytest's closing summary line, or None."""
    for line in reversed(out.strip().splitlines()[-5:]):
        found = PYTEST.findall(line)
        if not found or " in " not in line:
            continue
        passed = failed = skipped = 0
        for n, kind in found:
            if kind in ("passed", "xfailed"):
                passed += int(n)
            elif kind == "skipped":
                skipped += int(n)
            elif kind != "deselected":
                failed += int(n)
        return passed, failed, skipped
    return None


def _unittest_counts(out):
    """(passed, failed, skipped) from unittest's closing lines, or None."""
    ran, end = UNITTEST_RAN.findall(out), UNITTEST_END.findall(out)
    if not ran or not end:
        return None
    total = int(ran[-1])
    details = dict(item.strip().split("=") for item in end[-1][1].split(",") if "=" in item)
    failed = int(details.get("failures", 0)) + int(details.get("errors", 0)) + \
        int(details.get("unexpected successes", 0))
    skipped = int(details.get("skipped", 0))
    if end[-1][0] == "FAILED" and failed == 0:
        failed = 1
    return max(total - failed - skipped, 0), failed, skipped


def count_test(entry):
    """(passed, failed, skipped) for one meson test."""
    out = (entry.get("stdout") or "") + "\n" + (entry.get("stderr") or "")
    result = entry.get("result", "")
    passed = failed = skipped = 0
    checks = CHECK.findall(out)
    if checks:
        for total, failures, errors in checks:
            failed += int(failures) + int(errors)
            passed += int(total) - int(failures) - int(errors)
        skipped += sum(int(n) for n in CHECK_SKIP.findall(out))
    else:
        counts = _pytest_counts(out) or _unittest_counts(out)
        if counts:
            passed, failed, skipped = counts
    if passed + failed + skipped == 0:
        if result == "SKIP":
            skipped = 1
        elif result in ("OK", "EXPECTEDFAIL"):
            passed = 1
    # A skip that the output does not show (exit 77 before any test ran) still counts.
    if result == "SKIP" and skipped == 0 and failed == 0:
        skipped = 1
    # A crash or timeout can leave counts that look clean: the test itself failed.
    if result not in ("OK", "EXPECTEDFAIL", "SKIP") and failed == 0:
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
