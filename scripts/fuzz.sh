#!/bin/sh
# Builds the libFuzzer harnesses of tests/fuzz (clang-19, AddressSanitizer and
# UndefinedBehaviorSanitizer, libmewe instrumented for coverage) in build-fuzz and runs each
# for SECONDS (default 60), one after the other, at the lowest priority. New inputs are kept
# in build-fuzz/tests/fuzz/work/NAME/corpus between runs; a crashing input is saved in
# build-fuzz/tests/fuzz/work/NAME/artifacts. Ends with a line per harness and exits 1 when
# any found something.
# Usage: scripts/fuzz.sh [SECONDS] [HARNESS...]   (harnesses: load spec wasm pipeline)
#        scripts/fuzz.sh --build-only               (what scripts/test.sh uses)
# MEWE_FUZZ_BUILD names the build directory (default build-fuzz).
set -u
cd "$(dirname "$0")/.."
build_only=false
if [ "${1:-}" = --build-only ]; then
    build_only=true
    shift
fi
seconds=${1:-60}
[ $# -gt 0 ] && shift
harnesses=${*:-load spec wasm pipeline}
build=${MEWE_FUZZ_BUILD:-build-fuzz}

if [ ! -f "$build/build.ninja" ]; then
    CC=${CC_FUZZ:-clang-19} meson setup "$build" -Dfuzz=enabled -Dwerror=true \
        -Db_sanitize=address,undefined -Db_lundef=false -Ddefault_library=static \
        -Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=all' \
        -Ddocs=disabled -Dpython=disabled -Dexamples=disabled >"$build.log" 2>&1 ||
        { cat "$build.log"; exit 1; }
fi
ninja -C "$build" >"$build.ninja.log" 2>&1 || { tail -n 30 "$build.ninja.log"; exit 1; }
$build_only && exit 0

status=0
summary=""
for h in $harnesses; do
    work="$build/tests/fuzz/work/$h"
    log="$work/last.log"
    mkdir -p "$work"
    echo "fuzz-$h: $seconds s"
    case $h in
        load) opts="-timeout=90 -max_len=65536" ;;
        spec) opts="-timeout=30 -max_len=256" ;;
        wasm) opts="-timeout=10 -max_len=65536" ;;
        pipeline) opts="-timeout=60 -max_len=8192" ;;
        *) echo "unknown harness '$h'"; exit 2 ;;
    esac
    # CPU time of the harness and of every helper it started (children's times include
    # the descendants they waited for), from the shell's `times`.
    # shellcheck disable=SC2086 # the options are words
    cpu=$( (nice -n 19 sh tests/fuzz/run-one.sh "$build/tests/fuzz/fuzz-$h" \
                "tests/fuzz/corpus/$h" "$work" "$seconds" $opts >"$log" 2>&1
            echo $? >"$work/rc"
            times) | tail -n 1 |
          awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); s += a[1] * 60 + a[2] }
                 printf "%.0f", s }')
    rc=$(cat "$work/rc")
    echo "$h $seconds ${cpu:-0}" >>"$build/fuzz-cpu.log"
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ "$rc" = 0 ]; then
        summary="$summary
fuzz-$h: ${runs:-?} runs in $seconds s (${cpu:-?} s of CPU), nothing found"
    else
        status=1
        summary="$summary
fuzz-$h: FOUND something after ${runs:-?} runs, ${cpu:-?} s of CPU (see $log and $work/artifacts)"
        grep -E "ERROR|SUMMARY|fuzz:|LLVM ERROR" "$log" | head -n 5
    fi
done
echo "$summary"
exit $status
