#!/bin/sh
# The C files that .clang-format governs: the library, its tools and tests, the examples.
# Test inputs (tests/fixtures, tests/corpus, bench/workloads) are data and keep their own
# layout: their line numbers appear in expected outputs and debug-info checks.
cd "$(dirname "$0")/.." && git ls-files '*.c' '*.h' |
    grep -v -e '^tests/fixtures/' -e '^tests/corpus/' -e '^bench/workloads/' -e '^tests/data/'
