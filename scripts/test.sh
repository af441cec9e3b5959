#!/bin/sh
# The whole test suite, as CI runs it: installs what is missing, builds from scratch with
# warnings as errors, runs every suite (C, CLI, Python, examples, corpus, docs; the C suites
# include the threads test under ThreadSanitizer), then builds the C suites again with
# AddressSanitizer and UndefinedBehaviorSanitizer and runs them, and runs each libFuzzer
# harness (tests/fuzz) for a few seconds from its seeds.
# Ends with the line "N passed, N failed, N skipped" over every suite; a skip is never a pass.
set -u
cd "$(dirname "$0")/.."

./scripts/install-deps.sh || exit 1

build=${MEWE_TEST_BUILD:-build-test}
asan=${build}-asan
fuzz=${build}-fuzz
rm -rf "$build" "$asan" "$fuzz"
status=0

# Debian's meson does not know the name llvm-config-19; the build finds it by itself.
meson setup "$build" -Dwerror=true -Dtests=enabled -Ddocs=enabled -Dpython=enabled \
    -Dexamples=enabled >"$build.log" 2>&1 || { cat "$build.log"; status=1; }
if [ $status = 0 ]; then
    ninja -C "$build" || status=1
fi
if [ $status = 0 ]; then
    meson test -C "$build" --num-processes 2 --print-errorlogs || status=1
fi

# Sanitizers: the C suites only (the Python and CLI suites run other processes).
meson setup "$asan" -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true \
    -Dtests=enabled -Ddocs=disabled -Dpython=disabled -Dexamples=disabled \
    >"$asan.log" 2>&1 || { cat "$asan.log"; status=1; }
if [ -f "$asan/build.ninja" ] && ninja -C "$asan"; then
    MEWE_TEST_QUICK=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    LSAN_OPTIONS=suppressions="$PWD/scripts/lsan.supp":print_suppressions=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        meson test -C "$asan" --suite c --num-processes 2 --print-errorlogs \
        --timeout-multiplier 3 || status=1
else
    status=1
fi

# Fuzzing: a short run of each harness (scripts/fuzz.sh SECONDS runs them for longer). A
# harness fails its test when it finds a crash, an abort, a leak or a hang.
if MEWE_FUZZ_BUILD="$fuzz" MEWE_FUZZ_SECONDS=${MEWE_FUZZ_SECONDS:-10} \
        ./scripts/fuzz.sh --build-only; then
    meson test -C "$fuzz" --suite fuzz --num-processes 2 --print-errorlogs || status=1
else
    status=1
fi

python3 scripts/count-tests.py "$build" "$asan" "$fuzz" || status=1
exit $status
