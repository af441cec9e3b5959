"""A second WebAssembly engine besides node's V8, for the corpus and csmith tests: wasmtime
(Cranelift), as embedded in Wizer, the WebAssembly pre-initializer.

Debian ships no WASI runtime (wabt's wasm-interp is built without WASI), and the npm
packages `wasmtime`, `wasmer` and the like download binaries when installed, which fails
without the internet at large. The npm package @bytecodealliance/wizer-linux-x64 carries
its binary inside: Wizer instantiates a module in wasmtime (with WASI when asked), runs an
initialization function and snapshots the instance. Told to run `_start` with WASI and the
caller's standard streams, it runs a WASI command to its end under wasmtime: the program's
output is the command's, a `proc_exit(N)` ends it with "Exited with i32 exit status N", a
trap with a wasmtime backtrace. It passes no arguments (the program sees argc 0): a program
that needs them is linked with args_shim(), a `__original_main` that calls `main` with fixed
ones. It provides no imports but WASI's: only modules with the wasi or fixed RNG strategy,
untraced, run there.

    path = engines.wasmtime()            # fetched once (pinned, integrity-checked) into the
                                         # cache of fetch.py, or None with the reason logged
    status, out, err = engines.run_wasmtime(path, "prog.wasm", stdin=b"")
    shim = engines.args_shim(clang, ["prog", "bench", "16"], workdir)   # for --link-arg
"""

import os
import pathlib
import platform
import re
import subprocess
import tempfile

import fetch

WIZER = "@bytecodealliance/wizer-linux-x64"
# 10.0.0 embeds wasmtime 36. Later releases' lock files are refused by npm here.
WIZER_PIN = {"version": "10.0.0",
             "integrity": "sha512-fJtM1sy43FBMnp+xpapFX6U1YdTBKA/1T4CYfG/qeE8jn0SXk2EuiYoY/"
                          "EnC2uyNy9hjTrvfdYO5n4MXW0EIdQ=="}
EXIT = re.compile(rb"Exited with i32 exit status (\d+)")
# What the wasm runner (tests/wasm-run.mjs) returns for a trap.
TRAP_STATUS = 134


class EngineError(Exception):
    pass


def wasmtime():
    """The wizer binary (x86-64 Linux only), fetched on first use."""
    if os.environ.get("MEWE_WIZER"):
        return pathlib.Path(os.environ["MEWE_WIZER"])
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise EngineError(f"{WIZER} exists for x86-64 Linux only")
    try:
        root = fetch.ensure_package(WIZER, WIZER_PIN, fetch.cache_dir())
    except fetch.FetchError as e:
        raise EngineError(f"cannot fetch {WIZER}@{WIZER_PIN['version']}: {e}") from e
    binary = root / "wizer"
    if not binary.is_file():
        raise EngineError(f"{binary} is missing from the package")
    binary.chmod(0o755)  # the cache unpacks files without their modes
    return binary


SHIM = """/* Made by tests/corpus/engines.py: main's arguments for an engine that passes none.
 * wasi-libc's crt1 calls __original_main, which is weak in libc. */
int __main_argc_argv(int argc, char **argv);
static char *args[] = {%s, 0};
int __original_main(void) { return __main_argc_argv(%d, args); }
"""


def args_shim(clang, argv, workdir):
    """An object that makes main see argv (argv[0] included) under any engine."""
    quoted = ", ".join('"' + a.replace("\\", "\\\\").replace('"', '\\"') + '"' for a in argv)
    src = pathlib.Path(workdir) / "args-shim.c"
    obj = src.with_suffix(".o")
    src.write_text(SHIM % (quoted, len(argv)))
    p = subprocess.run([str(clang), "--target=wasm32-wasi", "-O2", "-c", str(src), "-o",
                        str(obj)], capture_output=True, text=True)
    if p.returncode != 0:
        raise EngineError(f"cannot compile the arguments shim: {p.stderr}")
    return obj


def run_wasmtime(binary, module, stdin=b"", timeout=300):
    """Runs a WASI command under wasmtime; returns (status, stdout, stderr) where status is
    the exit status, TRAP_STATUS for a trap, None on timeout."""
    with tempfile.TemporaryDirectory(prefix="mewe-wasmtime-") as tmp:
        cmd = [str(binary), "--allow-wasi", "--inherit-stdio", "true", "--init-func", "_start",
               "--wasm-reference-types", "true", "--wasm-bulk-memory", "true",
               "--wasm-simd", "true", "-o", os.path.join(tmp, "snapshot.wasm"), str(module)]
        try:
            p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, b"", b""
    if p.returncode == 0:
        return 0, p.stdout, p.stderr
    m = EXIT.search(p.stderr)
    if m:
        return int(m.group(1)), p.stdout, p.stderr
    return TRAP_STATUS, p.stdout, p.stderr
