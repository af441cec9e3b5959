#!/bin/sh
# build.sh: a Rust program to multivariant WebAssembly.
#
#   examples/rust/build.sh [--cargo] OUT_DIR
#
# Writes OUT_DIR/main.bc (the whole program as LLVM bitcode), OUT_DIR/main.wasm (a
# multivariant WASI command) and OUT_DIR/main.json (libmewe's report). Environment: RUSTC
# (default /usr/bin/rustc), CARGO (default /usr/bin/cargo), MEWE (default: mewe on PATH).
#
# Why these rustc flags:
#   --target wasm32-wasi  libmewe emits wasm32 modules only: the front end has already fixed
#                         pointer sizes and layouts for its target.
#   -C lto=fat            one bitcode file holding the program and the parts of std it uses,
#                         so that mewe sees, and diversifies, the whole program.
#   -C panic=abort        no unwinding: functions with landing pads cannot get variants.
#   /usr/bin/rustc        Debian's rustc 1.63 writes LLVM 14 bitcode, which libmewe's LLVM 19
#                         reads; a newer rustc writes bitcode too new for it.
set -eu

cargo=no
if [ "${1:-}" = --cargo ]; then
    cargo=yes
    shift
fi
[ $# -eq 1 ] || { echo "usage: $0 [--cargo] OUT_DIR" >&2; exit 2; }
here=$(cd -- "$(dirname -- "$0")" && pwd)
out=$(mkdir -p -- "$1" && cd -- "$1" && pwd)
RUSTC=${RUSTC:-/usr/bin/rustc}
MEWE=${MEWE:-mewe}

if [ $cargo = yes ]; then
    # Cargo.toml sets panic and lto for the release profile; the bitcode is asked of the
    # final rustc call only. --target-dir keeps the source tree clean.
    RUSTC=$RUSTC "${CARGO:-/usr/bin/cargo}" rustc --offline --locked --release --quiet \
        --manifest-path "$here/Cargo.toml" --target wasm32-wasi \
        --target-dir "$out/target" -- --emit=llvm-bc="$out/main.bc"
else
    "$RUSTC" --edition=2018 --target wasm32-wasi -O -C lto=fat -C panic=abort \
        --emit=llvm-bc "$here/src/main.rs" -o "$out/main.bc"
fi
"$MEWE" --quiet "$out/main.bc" -o "$out/main.wasm" --report "$out/main.json"
echo "wrote $out/main.wasm"
