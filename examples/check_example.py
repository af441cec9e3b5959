#!/usr/bin/env python3
"""Runs one example the way a reader would, and checks what it really produces.

    check_example.py NAME [EXECUTABLE]

NAME is minimal, custom-diversifier, custom-rng, meson-project, meson-subproject, rust, cpp,
python or per-file. Used by examples/meson.build (suite 'examples'), which sets the
environment: MEWE_SOURCE_ROOT, MEWE_BUILD_ROOT, MEWE (the CLI), MEWE_CC, CARGO_MEWE,
MEWE_LIBRARY, CLANG, NODE, MESON, NINJA (empty when not found). Every check runs the emitted
wasm under node and compares its output
with the program's expected output. Exit status 77 (a skip, for meson) only when a tool the
example needs is missing.
"""

import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SKIP = 77
SRC = Path(os.environ.get("MEWE_SOURCE_ROOT", Path(__file__).resolve().parent.parent))
BUILD = Path(os.environ.get("MEWE_BUILD_ROOT", SRC / "build"))
EXAMPLES = SRC / "examples"
FIXTURES = SRC / "tests" / "fixtures"
RUSTC = "/usr/bin/rustc"  # Debian's 1.63: its LLVM 14 bitcode is old enough for LLVM 19
CARGO = "/usr/bin/cargo"


class Failure(Exception):
    pass


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(SKIP)


def tool(var, what):
    """The path in environment variable `var`; skips the test when the tool is missing."""
    path = os.environ.get(var, "")
    if not path or not os.access(path, os.X_OK):
        skip(f"{what} not found (set {var}, or install it)")
    return path


def run(cmd, env=None, cwd=None, expect=0):
    """Runs cmd, echoing it. Fails unless it exits with `expect`; returns its standard output,
    or its standard error when it is expected to fail."""
    cmd = [str(c) for c in cmd]
    print("$", " ".join(cmd), flush=True)
    full_env = dict(os.environ, **(env or {}))
    res = subprocess.run(cmd, env=full_env, cwd=cwd, capture_output=True, text=True)
    if res.returncode != expect:
        raise Failure(f"exit status {res.returncode}, expected {expect}\n"
                      f"--- stdout\n{res.stdout}--- stderr\n{res.stderr}")
    sys.stdout.write(res.stdout)
    return res.stdout if expect == 0 else res.stderr


def compile_c(src, out):
    run([tool("CLANG", "clang-19"), "--target=wasm32-wasi", "-O2", "-emit-llvm", "-c", src,
         "-o", out])
    return out


def run_wasm(wasm, *options):
    node = tool("NODE", "node")
    return run([node, "--no-warnings", "--no-turbo-fast-api-calls", SRC / "tests" / "wasm-run.mjs",
                *options, wasm])


def expect_same(actual, expected_file, what):
    expected = Path(expected_file).read_text()
    if actual != expected:
        diff = difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                    str(expected_file), what)
        raise Failure(f"{what} differs from {expected_file}:\n{''.join(diff)}")
    print(f"ok: {what} prints {expected_file.name}")


def expect(cond, message):
    if not cond:
        raise Failure(message)


def number_after(text, prefix):
    m = re.search(re.escape(prefix) + r"\s*([0-9.]+)", text)
    expect(m is not None, f"no '{prefix}' in the output")
    return float(m.group(1))


# ---------------------------------------------------------------- the examples

def check_minimal(tmp, exe):
    tool("NODE", "node")
    bc = compile_c(FIXTURES / "recursion.c", tmp / "recursion.bc")
    out = run([exe, bc, tmp / "a.wasm", "7"])
    totals = json.loads(out.split("totals: ", 1)[1])
    expect(totals["diversified"] == totals["eligible"] > 0, f"not all diversified: {totals}")
    expect(totals["variants"] >= totals["diversified"], f"too few variants: {totals}")
    expect_same(run_wasm(tmp / "a.wasm"), FIXTURES / "recursion.expected", "minimal's wasm")
    # The comment in minimal.c promises it: the same seed gives the same bytes.
    run([exe, bc, tmp / "b.wasm", "7"])
    expect((tmp / "a.wasm").read_bytes() == (tmp / "b.wasm").read_bytes(),
           "two builds with seed 7 differ")
    err = run([exe, tmp / "missing.bc", tmp / "c.wasm"], expect=1)
    expect("missing.bc" in err, f"the error does not name the file: {err}")


def check_custom_diversifier(tmp, exe):
    tool("NODE", "node")
    bc = compile_c(FIXTURES / "recursion.c", tmp / "recursion.bc")
    out = run([exe, bc, tmp / "pad.wasm", "0.3"])
    expect(number_after(out, "inserted") > 0, "no padding inserted")
    expect(number_after(out, "stores, made") > 0, "no variant made")
    expect(number_after(out, "distinct in the wasm:") > 0.5, "the padding did not survive")
    expect_same(run_wasm(tmp / "pad.wasm"), FIXTURES / "recursion.expected",
                "the padded wasm")
    err = run([exe, bc, tmp / "bad.wasm", "1.5"], expect=1)
    expect("rate" in err and not (tmp / "bad.wasm").exists(),
           "a bad rate is not reported, or left a file")


def check_custom_rng(tmp, exe):
    tool("NODE", "node")
    bc = compile_c(FIXTURES / "fnptr.c", tmp / "fnptr.bc")
    run([exe, bc, tmp / "rr.wasm", tmp / "rr.json"])
    trace = tmp / "rr.trace"
    expect_same(run_wasm(tmp / "rr.wasm", "--trace", trace), FIXTURES / "fnptr.expected",
                "the round-robin wasm")
    report = json.loads((tmp / "rr.json").read_text())
    n = {f["dispatcher_id"]: f["variants"] + 1 for f in report["functions"]
         if "dispatcher_id" in f}
    seqs = {}
    for line in trace.read_text().split("\n"):
        if line:
            fid, variant = map(int, line.split())
            seqs.setdefault(fid, []).append(variant)
    for fid, seq in sorted(seqs.items()):
        expect(seq == [k % n[fid] for k in range(len(seq))],
               f"dispatcher {fid} (of {n[fid]} variants) does not cycle: {seq[:12]}...")
        print(f"ok: dispatcher {fid}: {len(seq)} calls cycle over {n[fid]} variants")
    expect(any(len(s) > n[f] for f, s in seqs.items()), "no dispatcher wrapped around")


def meson_project(tmp, extra_setup, env):
    tool("CLANG", "clang-19")
    tool("NODE", "node")
    meson, ninja = tool("MESON", "meson"), tool("NINJA", "ninja")
    out = run([meson, "setup", *extra_setup, tmp / "build", tmp / "src"], env=env)
    run([ninja, "-C", tmp / "build"], env=env)
    expect_same(run_wasm(tmp / "build" / "hello-mewe.wasm"),
                EXAMPLES / "meson-project" / "expected.txt", "hello-mewe.wasm")
    return out


def check_meson_project(tmp, _exe):
    """libmewe found by pkg-config, as if installed: the uninstalled .pc file of this build
    tree stands in for the installed one, and a native file says where `mewe` is."""
    pc_dir = BUILD / "meson-uninstalled"
    expect((pc_dir / "mewe-uninstalled.pc").is_file(), f"no mewe-uninstalled.pc in {pc_dir}")
    shutil.copytree(EXAMPLES / "meson-project", tmp / "src")
    native = tmp / "native.ini"
    native.write_text(f"[binaries]\nmewe = '{tool('MEWE', 'mewe')}'\n")
    out = meson_project(tmp, ["--native-file", native], {"PKG_CONFIG_PATH": str(pc_dir)})
    expect("Run-time dependency mewe found: YES" in out, "mewe not found by pkg-config")


def check_meson_subproject(tmp, _exe):
    """libmewe built as a subproject of the example (forced, even if one is installed)."""
    shutil.copytree(EXAMPLES / "meson-project", tmp / "src")
    (tmp / "src" / "subprojects").mkdir()
    (tmp / "src" / "subprojects" / "libmewe").symlink_to(SRC, target_is_directory=True)
    out = meson_project(tmp, ["--force-fallback-for=mewe"], {})
    expect("Executing subproject libmewe" in out, "libmewe was not built as a subproject")


def check_rust(tmp, _exe):
    """The crate (a library and a binary) with `cargo mewe build --release`, with the rustc
    and cargo that cargo-mewe picks itself: the library's functions must be diversified too."""
    if not os.access(RUSTC, os.X_OK) or not os.access(CARGO, os.X_OK):
        skip(f"{RUSTC} or {CARGO} not found (Debian's: apt-get install rustc cargo "
             "libstd-rust-dev-wasm32)")
    tool("NODE", "node")
    cargo_mewe = tool("CARGO_MEWE", "cargo-mewe")
    env = {"MEWE": tool("MEWE", "mewe"), "MEWE_CC": tool("MEWE_CC", "mewe-cc"),
           "CARGO_HOME": str(tmp / "cargo-home")}
    target = tmp / "target"
    report = tmp / "main.json"
    run([cargo_mewe, "mewe", "build", "--release", "--offline",
         "--manifest-path", EXAMPLES / "rust" / "Cargo.toml", "--target-dir", target,
         "--", "--report", report, "--seed", "5"], env=env)
    wasm = [p for p in target.glob("wasm32-wasi*/release/main.wasm")]
    expect(len(wasm) == 1, f"no main.wasm next to cargo's output in {target}")
    functions = json.loads(report.read_text())["functions"]
    lib = [f["name"] for f in functions
           if "textkit" in f["name"] and f["status"] == "diversified"]
    expect(len(lib) >= 2, f"the library's functions were not diversified: {lib}")
    print(f"ok: {len(lib)} functions of the library crate diversified")
    expect_same(run_wasm(wasm[0]), EXAMPLES / "rust" / "main.expected", "the Rust wasm")


def check_cpp(tmp, _exe):
    """C++ in one command: mewe-cc compiles against libc++ for wasm32-wasi and links it; code
    that needs exceptions fails with the construct and its place named, and no output."""
    tool("CLANG", "clang-19")
    tool("NODE", "node")
    mewe_cc = tool("MEWE_CC", "mewe-cc")
    env = {"MEWE": tool("MEWE", "mewe")}
    wasm, report = tmp / "inventory.wasm", tmp / "inventory.json"
    run([mewe_cc, EXAMPLES / "cpp" / "inventory.cpp", "-o", wasm, "--report", report],
        env=env)
    totals = json.loads(report.read_text())["totals"]
    expect(totals["diversified"] > 10, f"too little diversified: {totals}")
    expect_same(run_wasm(wasm), EXAMPLES / "cpp" / "inventory.expected", "the C++ wasm")
    throwing = tmp / "throwing.cc"
    throwing.write_text("#include <stdexcept>\nint f(int x)\n{\n"
                        "    if (x < 0)\n        throw std::invalid_argument(\"x\");\n"
                        "    return x;\n}\nint main() { return f(1) - 1; }\n")
    err = run([mewe_cc, throwing, "-o", tmp / "throwing.wasm"], env=env, expect=1)
    expect("uses C++ exceptions" in err and f"{throwing}:5:9: 'throw'" in err,
           f"the error does not name the construct and its place: {err}")
    expect(not (tmp / "throwing.wasm").exists(), "a failed build left its output")


def check_per_file(tmp, _exe):
    """examples/per-file: objects made one source at a time, by make and by meson, link
    into a program that prints what the whole-program build prints; the reports merge;
    objects of other settings are refused by name."""
    tool("NODE", "node")
    mewe_cc = tool("MEWE_CC", "mewe-cc")
    src = EXAMPLES / "per-file"
    expected = src / "expected.txt"
    whole = tmp / "whole"
    whole.mkdir()
    run([mewe_cc, "--seed", "7", *(src / f for f in ("main.c", "stats.c", "text.c")), "-o",
         whole / "app.wasm"])
    expect_same(run_wasm(whole / "app.wasm"), expected, "the whole-program build")
    flows = 0
    make = shutil.which("make")
    if make:
        shutil.copytree(src, tmp / "make")
        run([make, "-j2", f"MEWE_CC={mewe_cc}"], cwd=tmp / "make")
        expect_same(run_wasm(tmp / "make" / "app.wasm"), expected, "the make build")
        report = json.loads((tmp / "make" / "report.json").read_text())
        expect([o["object"] for o in report["objects"]] == ["main.o", "stats.o", "text.o"],
               f"objects in the report: {report['objects']}")
        names = {f["name"] for f in report["functions"]}
        expect({"main", "stats_add", "stats_mean", "text_hash", "text_words"} <= names,
               f"functions: {names}")
        expect(report["totals"]["diversified"] >= 4, f"totals: {report['totals']}")
        # An object made with other settings is refused, by name.
        run([mewe_cc, "--seed", "7", "--granularity=instance", "-c", src / "text.c", "-o",
             tmp / "make" / "text.o"])
        out = run([mewe_cc, *(tmp / "make" / f for f in ("main.o", "stats.o", "text.o")),
                   "-o", tmp / "bad.wasm"], expect=1)
        expect("text.o' was made with other settings" in out, f"no refusal: {out}")
        expect(not (tmp / "bad.wasm").exists(), "a refused link left its output")
        flows += 1
    else:
        print("note: make not found, the Makefile is not checked")
    if os.environ.get("MESON") and os.environ.get("NINJA"):
        build = tmp / "meson-build"
        run([os.environ["MESON"], "setup", build, src, f"-Dmewe_cc={mewe_cc}"])
        run([os.environ["NINJA"], "-C", build])
        expect_same(run_wasm(build / "app.wasm"), expected, "the meson build")
        flows += 1
    if not flows:
        skip("neither make nor meson and ninja found")


def check_python(tmp, _exe):
    if sys.version_info < (3, 11):
        skip(f"the bindings need Python >= 3.11, this is {sys.version.split()[0]}")
    tool("NODE", "node")
    bc = compile_c(FIXTURES / "recursion.c", tmp / "recursion.bc")
    env = {"PYTHONPATH": str(SRC / "bindings" / "python"), "PYTHONDONTWRITEBYTECODE": "1"}
    out = run([sys.executable, EXAMPLES / "python" / "multivariant.py", bc, tmp / "py.wasm"],
              env=env)
    for line in ["fib: 5 variants", "parse_expr: 2 variants",
                 "hof_male: skipped by the selection policy"]:
        expect(line in out.splitlines(), f"no line '{line}'")
    # The policy asks 5 for ackermann too; what the wasm check keeps of a function this
    # small depends on the seed (free rewrites often compile alike): more than the 2 that
    # the others get shows the policy at work.
    expect(any(f"ackermann: {n} variants" in out.splitlines() for n in (3, 4, 5)),
           "ackermann did not get more variants than the default")
    expect_same(run_wasm(tmp / "py.wasm"), FIXTURES / "recursion.expected", "the wasm")


CHECKS = {
    "minimal": check_minimal,
    "custom-diversifier": check_custom_diversifier,
    "custom-rng": check_custom_rng,
    "meson-project": check_meson_project,
    "meson-subproject": check_meson_subproject,
    "rust": check_rust,
    "cpp": check_cpp,
    "python": check_python,
    "per-file": check_per_file,
}


def main():
    if len(sys.argv) not in (2, 3) or sys.argv[1] not in CHECKS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(CHECKS)}}} [EXECUTABLE]")
    exe = sys.argv[2] if len(sys.argv) == 3 else None
    with tempfile.TemporaryDirectory(prefix=f"mewe-example-{sys.argv[1]}-") as tmp:
        try:
            CHECKS[sys.argv[1]](Path(tmp), exe)
        except Failure as err:
            print(f"FAIL: {err}")
            sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
