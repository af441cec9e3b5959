#!/bin/sh
# An installed libmewe works from what was installed alone: `meson install` into a temporary
# prefix, which is then moved (nothing may point back at the build tree or the first place),
# and everything runs with a clean environment (env -i, PATH = the prefix's bin, /usr/bin,
# /bin; no LD_LIBRARY_PATH, MANPATH, PYTHONPATH or PKG_CONFIG_PATH unless the check is about
# it): mewe, man mewe, mewe-cc on C, C++ and Rust, cargo mewe build on a crate, the Python
# package of the prefix, pip install of bindings/python (offline, in a venv), and programs
# built from pkg-config's mewe.pc (no LLVM) and mewe-sys.pc (the hook API, with LLVM).
# Each wasm made is run under node and its output compared with the expected one.
# Usage: check-install.sh BUILD_DIR SOURCE_DIR
# Exit status: 0 all passed, 1 a check failed, 77 (a skip) when a tool that a part needs is
# missing (scripts/install-deps.sh installs them all), after running every other part.
set -eu
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
skipped=

fail() {
    echo "FAIL: $*"
    exit 1
}

skip() {
    echo "SKIP: $*"
    skipped="$skipped
  $*"
}

ok() {
    echo "ok: $*"
}

DESTDIR="$tmp/stage" meson install -C "$build" --quiet --no-rebuild >/dev/null
mewe_bin=$(find "$tmp/stage" -path '*/bin/mewe' -type f | head -n 1)
[ -n "$mewe_bin" ] || fail "no bin/mewe installed"
# The prefix as staged, moved: an install must not depend on where it was made.
mv "$tmp/stage" "$tmp/moved"
P=$(dirname "$(dirname "$tmp/moved${mewe_bin#"$tmp/stage"}")")
echo "installed prefix (moved): $P"
mkdir -p "$tmp/home" "$tmp/work"

# The clean environment.
clean() {
    env -i PATH="$P/bin:/usr/bin:/bin" HOME="$tmp/home" TMPDIR="$tmp/work" LANG=C.UTF-8 "$@"
}

NODE=${NODE:-node}
run_wasm() {
    "$NODE" --no-warnings --no-turbo-fast-api-calls "$src/tests/wasm-run.mjs" "$1"
}

expect_output() { # WASM EXPECTED-FILE WHAT
    run_wasm "$1" >"$tmp/out.txt" || fail "$3: the wasm does not run"
    cmp -s "$tmp/out.txt" "$2" || {
        diff "$2" "$tmp/out.txt" || true
        fail "$3: the wasm's output differs from $2"
    }
    ok "$3"
}

# ---------------------------------------------------------------- the mewe command
version=$(clean mewe --version) || fail "the installed mewe does not start"
echo "$version" | head -n 1 | grep -q '^mewe ' || fail "mewe --version says: $version"
lib=$(clean ldd "$P/bin/mewe" | sed -n 's/.*libmewe\.so\.[0-9]* => \([^ ]*\) .*/\1/p')
case $lib in
    "$P"/*) ok "mewe starts and loads the prefix's libmewe ($lib)" ;;
    *) fail "the installed mewe loads libmewe from '$lib', not from $P" ;;
esac
if command -v man >/dev/null 2>&1; then
    page=$(clean man -w mewe 2>&1) || fail "man does not find mewe's page: $page"
    case $page in
        "$P"/*) ok "man -w mewe: $page" ;;
        *) fail "man -w mewe gives $page, not the prefix's page" ;;
    esac
else
    skip "man is not installed (apt-get install man-db): the man page is not checked"
fi

# ---------------------------------------------------------------- mewe-cc: C
"${CLANG:-clang-19}" --version >/dev/null 2>&1 || fail "no clang (${CLANG:-clang-19})"
clean mewe-cc "$src/tests/fixtures/loops.c" -o "$tmp/loops.wasm" --seed 3 ||
    fail "mewe-cc on C"
expect_output "$tmp/loops.wasm" "$src/tests/fixtures/loops.expected" "mewe-cc on C"

# ---------------------------------------------------------------- mewe-cc: C++
if [ -f /usr/lib/wasm32-wasi/libc++.a ] && [ -f /usr/lib/wasm32-wasi/libc++abi.a ]; then
    clean mewe-cc "$src/examples/cpp/inventory.cpp" -o "$tmp/inventory.wasm" ||
        fail "mewe-cc on C++"
    expect_output "$tmp/inventory.wasm" "$src/examples/cpp/inventory.expected" \
        "mewe-cc on C++ (std::string, vector, map, sort, iostream)"
else
    skip "no libc++ for wasm32-wasi (apt-get install libc++-19-dev-wasm32 libc++abi-19-dev-wasm32): C++ is not checked"
fi

# ---------------------------------------------------------------- Rust
if [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/wasm32-wasi ]; then
    clean mewe-cc "$src/tests/fixtures/rust/hello.rs" --edition=2018 -o "$tmp/hello-rs.wasm" ||
        fail "mewe-cc on Rust"
    expect_output "$tmp/hello-rs.wasm" "$src/tests/fixtures/rust/hello.expected" \
        "mewe-cc on Rust"
    if [ -x /usr/bin/cargo ]; then
        cp -R "$src/examples/rust" "$tmp/crate"
        rm -rf "$tmp/crate/target"
        (cd "$tmp/crate" && clean cargo mewe build --release --offline -- --seed 5) ||
            fail "cargo mewe build"
        wasm=$(find "$tmp/crate/target" -path '*/release/main.wasm' | head -n 1)
        [ -n "$wasm" ] || fail "cargo mewe build wrote no main.wasm under the crate's target/"
        expect_output "$wasm" "$src/examples/rust/main.expected" \
            "cargo mewe build --release (a library and a binary)"
    else
        skip "no /usr/bin/cargo (apt-get install cargo): cargo mewe is not checked"
    fi
else
    skip "no Debian rustc with a wasm32 std (apt-get install rustc libstd-rust-dev-wasm32): Rust is not checked"
fi

# ---------------------------------------------------------------- Python
site=$(find "$P" -path '*/mewe/_install.py' | head -n 1)
if [ -n "$site" ]; then
    site=$(dirname "$(dirname "$site")")
    clang=${CLANG:-clang-19}
    "$clang" --target=wasm32-wasi -O2 -emit-llvm -c "$src/tests/fixtures/recursion.c" \
        -o "$tmp/recursion.bc"
    clean PYTHONPATH="$site" python3 - "$tmp/recursion.bc" "$tmp/py.wasm" "$P" <<'EOF' ||
import sys, mewe
bc, out, prefix = sys.argv[1:]
assert mewe.library_path().startswith(prefix + "/"), mewe.library_path()
with mewe.Context(seed=1) as ctx:
    m = ctx.load(bc)
    m.generate(variants=2)
    m.link_multivariant()
    m.emit(out)
    print("python: libmewe", mewe.version(), "from", mewe.library_path(), "-",
          m.report()["totals"]["diversified"], "functions diversified")
EOF
        fail "the installed Python package"
    expect_output "$tmp/py.wasm" "$src/tests/fixtures/recursion.expected" \
        "the prefix's Python package ($site) with its own libmewe"
else
    skip "no Python package installed (meson option python, or no python3 found by meson)"
fi
if clean python3 -m venv "$tmp/venv" >/dev/null 2>&1; then
    cp -R "$src/bindings/python" "$tmp/pysrc"
    rm -rf "$tmp/pysrc/build" "$tmp/pysrc/"*.egg-info
    clean PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 "$tmp/venv/bin/pip" install --quiet \
        "$tmp/pysrc" || fail "pip install bindings/python, offline, in a venv"
    lib=$(find "$P" -name 'libmewe.so.*' -type f | head -n 1)
    clean MEWE_LIBRARY="$lib" "$tmp/venv/bin/python" -c \
        'import mewe, sys; print("pip-installed mewe", mewe.version(), mewe.__file__)' ||
        fail "the pip-installed package does not import"
    ok "pip install ./bindings/python works offline"
else
    skip "python3 -m venv does not work (apt-get install python3-venv): pip install is not checked"
fi

# ---------------------------------------------------------------- pkg-config consumers
pcdir=$(dirname "$(find "$P" -name mewe.pc | head -n 1)")
[ -f "$pcdir/mewe.pc" ] || fail "no mewe.pc installed"
[ -f "$pcdir/mewe-sys.pc" ] || fail "no mewe-sys.pc installed"
[ -f "$P/include/mewe/version.h" ] || fail "version.h not installed"
grep -q '^prefix=${pcfiledir}' "$pcdir/mewe.pc" ||
    fail "mewe.pc names an absolute prefix: $build was configured before pkgconfig.relocatable=true became the default (meson configure $build -Dpkgconfig.relocatable=true)"
pc() { clean PKG_CONFIG_PATH="$pcdir" pkg-config "$@"; }
flags=$(pc --cflags --libs mewe)
echo "pkg-config --cflags --libs mewe: $flags"
case $flags in *LLVM*|*llvm*) fail "mewe.pc makes its users link LLVM: $flags" ;; esac
pc --static --libs mewe | grep -q LLVM || fail "mewe.pc's Libs.private lacks LLVM"
grep -q '^URL: .*example.invalid' "$pcdir/mewe.pc" && fail "mewe.pc has a placeholder URL"
libdir=$(pc --variable=libdir mewe)
# shellcheck disable=SC2086 # the flags are words
clean cc -std=c99 -pedantic -Werror -o "$tmp/minimal" "$src/examples/minimal/minimal.c" \
    $flags -Wl,-rpath,"$libdir" || fail "building minimal.c with pkg-config's mewe"
if readelf -d "$tmp/minimal" | grep NEEDED | grep -qi llvm; then
    fail "a program of the core API needs libLLVM"
fi
"${CLANG:-clang-19}" --target=wasm32-wasi -O2 -emit-llvm -c "$src/tests/fixtures/loops.c" \
    -o "$tmp/loops.bc"
clean "$tmp/minimal" "$tmp/loops.bc" "$tmp/min.wasm" >/dev/null ||
    fail "the pkg-config consumer fails"
expect_output "$tmp/min.wasm" "$src/tests/fixtures/loops.expected" \
    "a program built with pkg-config mewe (no LLVM linked)"
sysflags=$(pc --cflags --libs mewe-sys)
# shellcheck disable=SC2086
clean cc -std=c99 -o "$tmp/nop_padding" "$src/examples/custom-diversifier/nop_padding.c" \
    $sysflags -Wl,-rpath,"$libdir" || fail "building nop_padding.c with pkg-config's mewe-sys"
clean "$tmp/nop_padding" "$tmp/loops.bc" "$tmp/pad.wasm" >/dev/null ||
    fail "the mewe-sys consumer fails"
expect_output "$tmp/pad.wasm" "$src/tests/fixtures/loops.expected" \
    "a hook-API program built with pkg-config mewe-sys"

if [ -n "$skipped" ]; then
    echo "SKIP: the installed libmewe passed every check that could run; not run:$skipped"
    exit 77
fi
echo "the installed libmewe passed every check"
