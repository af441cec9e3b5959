#!/bin/sh
# Runs one libFuzzer harness for SECONDS from its committed seeds, with new inputs kept in
# WORKDIR (not the source tree) and any crashing input saved there as crash-*, leak-* or
# timeout-*. Exits non-zero when the harness found something.
# Usage: run-one.sh HARNESS SEEDS WORKDIR SECONDS [libFuzzer options...]
set -u
harness=$1 seeds=$2 work=$3 seconds=$4
shift 4
mkdir -p "$work/corpus" "$work/artifacts"
# Leaks inside LLVM's own registries are not libmewe's (scripts/lsan.supp).
supp="$(dirname "$0")/../../scripts/lsan.supp"
export LSAN_OPTIONS="suppressions=$supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
exec "$harness" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=4096 \
    -artifact_prefix="$work/artifacts/" "$@" "$work/corpus" "$seeds"
