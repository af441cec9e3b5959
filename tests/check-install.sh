#!/bin/sh
# After `meson install`, a program finds libmewe with pkg-config alone and runs the pipeline.
# Usage: check-install.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

DESTDIR="$tmp/root" meson install -C "$build" --quiet --no-rebuild --tags devel,runtime >/dev/null
pc=$(find "$tmp/root" -name mewe.pc | head -n 1)
[ -n "$pc" ] || { echo "FAIL: no mewe.pc installed"; exit 1; }
prefix=$(sed -n 's/^prefix=//p' "$pc")
export PKG_CONFIG_PATH="$(dirname "$pc")"
# The .pc names the final prefix; DESTDIR moved everything under $tmp/root.
export PKG_CONFIG_SYSROOT_DIR="$tmp/root"
cflags=$(pkg-config --cflags mewe)
libs=$(pkg-config --libs mewe)
echo "pkg-config --cflags --libs mewe: $cflags $libs"
[ -f "$tmp/root$prefix/include/mewe/version.h" ] || { echo "FAIL: version.h not installed"; exit 1; }
# shellcheck disable=SC2086 # the flags are words
cc -std=c99 -pedantic -Werror -o "$tmp/minimal" "$src/examples/minimal/minimal.c" $cflags $libs \
    -Wl,-rpath,"$(dirname "$(dirname "$pc")")"
"${CLANG:-clang-19}" --target=wasm32-wasi -O2 -emit-llvm -c "$src/tests/fixtures/loops.c" \
    -o "$tmp/loops.bc"
"$tmp/minimal" "$tmp/loops.bc" "$tmp/loops.wasm" >/dev/null
node --no-warnings --no-turbo-fast-api-calls "$src/tests/wasm-run.mjs" "$tmp/loops.wasm" >"$tmp/out.txt"
cmp "$tmp/out.txt" "$src/tests/fixtures/loops.expected"
echo "installed libmewe built and ran the minimal example"
