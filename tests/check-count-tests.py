#!/usr/bin/env python3
"""scripts/count-tests.py counts what each kind of test program ran, and never counts a skip
as a pass: Check suites (with skipped groups), pytest, unittest, and plain programs."""
import importlib.util
import pathlib
import sys

root = pathlib.Path(sys.argv[1])
spec = importlib.util.spec_from_file_location("count_tests", root / "scripts" / "count-tests.py")
count_tests = importlib.util.module_from_spec(spec)
spec.loader.exec_module(count_tests)

CHECK_OK = "Running suite(s): clone\n100%: Checks: 20, Failures: 0, Errors: 0\n"
CASES = [
    # (what, meson result, stdout, stderr, expected (passed, failed, skipped))
    ("Check, all ran", "OK", CHECK_OK, "", (20, 0, 0)),
    ("Check, failures", "FAIL", "Running suite(s): x\n90%: Checks: 10, Failures: 1, Errors: 0\n",
     "", (9, 1, 0)),
    ("Check, groups skipped", "SKIP",
     "SKIP: 3 tests: clang-19 not found\nSKIP: 1 test: rustc not found\n" + CHECK_OK, "",
     (20, 0, 4)),
    ("Check suite skipped whole", "SKIP", "SKIP: node with node:wasi not found\n", "",
     (0, 0, 1)),
    ("Check, crashed", "FAIL", "Running suite(s): x\n", "", (0, 1, 0)),
    ("pytest", "OK", "..s.\n=== 3 passed, 1 skipped in 0.52s ===\n", "", (3, 0, 1)),
    ("pytest -q with failures", "FAIL", "F..\n1 failed, 2 passed, 1 error in 1.00s\n", "",
     (2, 2, 0)),
    ("pytest, all skipped", "OK", "ss\n2 skipped in 0.10s\n", "", (0, 0, 2)),
    ("unittest", "OK", "", "....\n----\nRan 6 tests in 0.003s\n\nOK (skipped=2)\n", (4, 0, 2)),
    ("unittest, failures", "FAIL", "",
     "Ran 5 tests in 0.1s\n\nFAILED (failures=1, errors=1, skipped=1)\n", (2, 2, 1)),
    ("plain program", "OK", "42 header compilations, 0 failed\n", "", (1, 0, 0)),
    ("plain program skipped", "SKIP", "SKIP: ThreadSanitizer is not available\n", "",
     (0, 0, 1)),
    ("plain program failed", "FAIL", "", "boom\n", (0, 1, 0)),
    ("timeout", "TIMEOUT", CHECK_OK, "", (20, 1, 0)),
]

failed = 0
for what, result, out, err, expected in CASES:
    got = count_tests.count_test({"result": result, "stdout": out, "stderr": err})
    if got != expected:
        failed += 1
        print(f"FAIL {what}: counted {got}, expected {expected}")
print(f"{len(CASES)} cases, {failed} failed")
sys.exit(1 if failed else 0)
