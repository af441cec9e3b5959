#!/bin/sh
# Installs what libmewe needs to build, test and document itself on Debian bookworm, and
# nothing when it is all there already. Run as root (or with sudo available).
set -eu

PACKAGES="
  meson ninja-build pkg-config gcc g++ libc6-dev libtsan2
  llvm-19-dev clang-19 lld-19 libclang-rt-19-dev libclang-rt-19-dev-wasm32 wasi-libc
  libc++-19-dev-wasm32 libc++abi-19-dev-wasm32 man-db
  check libz3-dev doxygen wabt llvm-19 csmith libcsmith-dev creduce clang-format-19
  nodejs python3 python3-pytest python3-setuptools python3-wheel python3-pip python3-venv
  rustc cargo libstd-rust-dev-wasm32
"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done
# npm ships inside some nodejs builds (NodeSource's) and as its own package in Debian's.
command -v npm >/dev/null 2>&1 || missing="$missing npm"

if [ -z "$missing" ]; then
    echo "install-deps: everything is installed"
    exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "install-deps: missing:$missing; run as root or install sudo" >&2
        exit 1
    }
    SUDO=sudo
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the list is intended
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-deps: done"
