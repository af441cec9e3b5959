"""Corpus tests: real C code through libmewe's whole pipeline, with default settings.

Every workload of bench/workloads/workloads.json (libsecp256k1's own test program and an
ECDSA workload from the npm package `secp256k1`, the Keccak code of the npm package
`keccak`, and the project's base64, ChaCha20-Poly1305 and QR-code programs) is built four
ways, so that a failure says whose bug it is:

- native: gcc on the host. Fails: the program or its recipe is wrong.
- original: clang's own wasm32-wasi build of the same bitcode. Fails: the corpus or the
  wasm toolchain, not libmewe.
- emit-only: `mewe --stage=emit` on that bitcode, no diversification. Fails while original
  passes: libmewe's code generation or linking.
- multivariant: `mewe` with default settings (plus the seed and dispatch kind under test),
  run several times in fresh instances; every run must print exactly what the original
  printed. Fails while emit-only passes: diversification or dispatch.

The npm packages are fetched (pinned versions, verified integrity) into the cache by
fetch.py; that is the only step that may use the network.

Environment (set by tests/corpus/meson.build): MEWE, CLANG, NODE, CC, MEWE_SOURCE_ROOT;
MEWE_CACHE_DIR optionally moves the package cache.
"""

import base64
import functools
import json
import os
import pathlib
import random
import resource
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import engines  # noqa: E402  (the modules beside this file)
import fetch  # noqa: E402
import recipes  # noqa: E402

SOURCE_ROOT = pathlib.Path(os.environ.get("MEWE_SOURCE_ROOT", HERE.parents[1]))
MEWE = os.environ.get("MEWE", "mewe")
CLANG = os.environ.get("CLANG", "clang-19")
NODE = os.environ.get("NODE", "node")
CC = os.environ.get("CC", "gcc")
RUNNER = SOURCE_ROOT / "tests" / "wasm-run.mjs"
REPEAT = SOURCE_ROOT / "tests" / "wasm-repeat.mjs"
# node 20's WASI crashes now and then in a process that runs many instances unless TurboFan's
# fast API calls are off: every node that runs wasm gets this flag.
NODE_FLAG = "--no-turbo-fast-api-calls"
# wabt's validator, with the proposals beyond its defaults that LLVM 19 can emit.
WASM_VALIDATE = os.environ.get("WASM_VALIDATE", "wasm-validate")
VALIDATE_FEATURES = ["--enable-threads", "--enable-tail-call", "--enable-exceptions"]
DATA = HERE / "data"
WORKLOADS_JSON = SOURCE_ROOT / "bench" / "workloads" / "workloads.json"

# A libmewe bug must fail a test, not the machine: every child has a time limit, and mewe
# and the compilers a memory limit (node is exempt: V8 reserves far more address space for
# wasm than it uses).
TIMEOUT = 900
MEMORY_LIMIT = 8 << 30

DOC = recipes.load(WORKLOADS_JSON)
# Workloads whose recipe says "corpus": {"default": false} (the benchmark's held-out
# programs, each a minute or more through mewe) are tested only when MEWE_CORPUS_ALL=1, so
# that the default suite keeps its time.
ALL = os.environ.get("MEWE_CORPUS_ALL") == "1"
SELECTED = [w for w in DOC["workloads"] if ALL or w.get("corpus", {}).get("default", True)]
NAMES = [w["name"] for w in SELECTED]


def _multivariant_cases():
    """Each seed with one dispatch kind in turn (seed 1 switch, seed 2 table, ...), not every
    pair: each build is a minute of the suite's CPU time on the larger programs, and a seed
    changes the variants, not how dispatch works. MEWE_CORPUS_ALL=1 builds every pair."""
    cases = []
    for w in SELECTED:
        corpus = w.get("corpus", {})
        seeds, kinds = corpus.get("seeds", [0]), corpus.get("dispatch", ["switch"])
        pairs = ([(s, d) for s in seeds for d in kinds] if ALL else
                 [(seeds[i % len(seeds)], kinds[i % len(kinds)])
                  for i in range(max(len(seeds), len(kinds)))])
        for seed, dispatch in pairs:
            cases.append(pytest.param(w["name"], seed, dispatch,
                                      id=f"{w['name']}-seed{seed}-{dispatch}"))
    return cases


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run(cmd, limit_memory=True, text=True, **kwargs):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=text,
                          timeout=TIMEOUT, preexec_fn=_limit_memory if limit_memory else None,
                          **kwargs)


def must(cmd, what, limit_memory=True):
    """Runs a build step; a failure ends the test with the command and its messages."""
    p = run(cmd, limit_memory=limit_memory)
    if p.returncode != 0:
        pytest.fail(f"{what} failed with status {p.returncode}:\n  {' '.join(map(str, cmd))}\n"
                    f"{p.stderr[-4000:]}{p.stdout[-2000:]}", pytrace=False)
    return p


def validate(module):
    """Every module the tests build must pass wabt's validator, not only V8."""
    p = run([WASM_VALIDATE, *VALIDATE_FEATURES, "--", module])
    if p.returncode != 0:
        pytest.fail(f"{module} is not valid WebAssembly:\n{p.stdout}{p.stderr}", pytrace=False)
    return module


def run_wasm(module, args, stdin=None):
    return run([NODE, "--no-warnings", NODE_FLAG, RUNNER, module, *args], limit_memory=False, input=stdin)


def describe(p):
    return f"status {p.returncode}\nstdout (end): {p.stdout[-1500:]}\nstderr: {p.stderr[-1500:]}"


class Builds:
    """Everything the tests build, made on first use and kept for the session: several
    workloads share one binary (a self-test and a benchmark of the same program), and the
    original's output is the expected output of every other build."""

    def __init__(self, workdir, workloads):
        self.workdir = pathlib.Path(workdir)
        self.workloads = workloads
        self._keys = {}

    def _dir(self, w):
        # One directory per distinct build, named after the first workload that needs it.
        key = w.build_key
        if key not in self._keys:
            self._keys[key] = self.workdir / w.name
            self._keys[key].mkdir(parents=True, exist_ok=True)
        return self._keys[key]

    @functools.lru_cache(maxsize=None)
    def _bitcode(self, key):
        w = next(w for w in self.workloads.values() if w.build_key == key)
        out = []
        for i, src in enumerate(w.sources):
            bc = self._dir(w) / f"{i}-{pathlib.Path(src).stem}.bc"
            must(recipes.bitcode_command(CLANG, w, src, bc), f"clang -emit-llvm {src}")
            out.append(bc)
        return tuple(out)

    def bitcode(self, w):
        return self._bitcode(w.build_key)

    @functools.lru_cache(maxsize=None)
    def _native(self, key):
        w = next(w for w in self.workloads.values() if w.build_key == key)
        exe = self._dir(w) / "native"
        must(recipes.native_command(CC, w, exe), f"native build with {CC}")
        return exe

    def native(self, w):
        return self._native(w.build_key)

    @functools.lru_cache(maxsize=None)
    def _original(self, key):
        w = next(w for w in self.workloads.values() if w.build_key == key)
        wasm = self._dir(w) / "original.wasm"
        must(recipes.link_command(CLANG, w, self._bitcode(key), wasm), "clang link")
        return validate(wasm)

    def original(self, w):
        return self._original(w.build_key)

    @functools.lru_cache(maxsize=None)
    def original_output(self, name):
        """The original build's stdout for this workload, once it is known to be right."""
        w = self.workloads[name]
        p = run_wasm(self.original(w), w.args)
        problems = recipes.check_output(w.expect, p.returncode, p.stdout)
        if problems:
            pytest.fail(f"{name}: the original (non-multivariant) build fails, a problem of "
                        f"the corpus or the toolchain, not of libmewe: {problems}\n{describe(p)}",
                        pytrace=False)
        return p.stdout

    @functools.lru_cache(maxsize=None)
    def _emit_only(self, key):
        w = next(w for w in self.workloads.values() if w.build_key == key)
        wasm = self._dir(w) / "emit-only.wasm"
        must(recipes.mewe_command(MEWE, w, self._bitcode(key), wasm, stage="emit"),
             "mewe --stage=emit")
        return validate(wasm)

    def emit_only(self, w):
        return self._emit_only(w.build_key)

    @functools.lru_cache(maxsize=None)
    def _multivariant(self, key, seed, dispatch):
        w = next(w for w in self.workloads.values() if w.build_key == key)
        wasm = self._dir(w) / f"mv-seed{seed}-{dispatch}.wasm"
        report = wasm.with_suffix(".json")
        must(recipes.mewe_command(MEWE, w, self._bitcode(key), wasm, seed=seed,
                                  dispatch=dispatch, report=report), "mewe")
        return validate(wasm), json.loads(report.read_text())

    def multivariant(self, w, seed, dispatch):
        return self._multivariant(w.build_key, seed, dispatch)


@pytest.fixture(scope="session")
def workloads():
    try:
        # Only the packages of the selected workloads: the default suite does not download
        # the held-out programs.
        pins, cache = DOC["packages"], fetch.cache_dir()
        roots = {name: fetch.ensure_package(name, pins[name], cache)
                 for name in recipes.npm_packages(DOC, SELECTED)}
    except fetch.FetchError as e:
        pytest.fail(f"cannot fetch the corpus packages: {e}", pytrace=False)
    return {w.name: w for w in recipes.resolve({**DOC, "workloads": SELECTED}, roots,
                                               SOURCE_ROOT)}


@pytest.fixture(scope="session")
def builds(workloads, tmp_path_factory):
    return Builds(tmp_path_factory.mktemp("corpus"), workloads)


# ---------------------------------------------------------------- the four builds


@pytest.mark.parametrize("name", NAMES)
def test_native(name, workloads, builds):
    w = workloads[name]
    p = run([builds.native(w), *w.args], limit_memory=False)
    assert not recipes.check_output(w.expect, p.returncode, p.stdout), describe(p)


@pytest.mark.parametrize("name", NAMES)
def test_original(name, workloads, builds):
    builds.original_output(name)


@pytest.mark.parametrize("name", NAMES)
def test_emit_only(name, workloads, builds):
    w = workloads[name]
    expected = builds.original_output(name)
    p = run_wasm(builds.emit_only(w), w.args)
    assert p.returncode == 0 and p.stdout == expected, describe(p)


@pytest.mark.parametrize("name, seed, dispatch", _multivariant_cases())
def test_multivariant(name, seed, dispatch, workloads, builds, tmp_path):
    w = workloads[name]
    expected = builds.original_output(name)
    wasm, report = builds.multivariant(w, seed, dispatch)
    # The module must really be multivariant, or this test would prove nothing.
    assert report["link"]["dispatch"] == dispatch
    assert report["totals"]["dispatchers"] > 0, report["totals"]
    expect_file = tmp_path / "expected.out"
    expect_file.write_text(expected)
    runs = w.corpus.get("runs", 1)
    p = run([NODE, "--no-warnings", NODE_FLAG, "--expose-gc", REPEAT, "--runs", runs, "--expect",
             expect_file, wasm,
             *w.args], limit_memory=False)
    try:
        summary = json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        pytest.fail(f"wasm-repeat printed no summary: {describe(p)}", pytrace=False)
    assert p.returncode == 0 and summary["mismatches"] == 0, (
        f"{summary['mismatches']} of {runs} runs differ from the original; first: "
        f"{json.dumps(summary['first_mismatch'], indent=1)}\nstderr: {p.stderr[-1500:]}")


# ---------------------------------------------------------------- per-file builds


@pytest.mark.parametrize("name", NAMES)
def test_per_file(name, workloads, builds, tmp_path):
    """Each source a multivariant object of its own (mewe -o FILE.o), then the objects
    linked (mewe A.o B.o -o app.wasm), as a build system would: it prints what the
    original prints, and the merged report covers every object."""
    w = workloads[name]
    expected = builds.original_output(name)
    objects = []
    for bc in builds.bitcode(w):
        obj = tmp_path / (pathlib.Path(bc).stem + ".o")
        must(recipes.mewe_command(MEWE, w, [bc], obj, seed=1), f"mewe {bc} -o {obj.name}")
        objects.append(obj)
    wasm, report = tmp_path / "per-file.wasm", tmp_path / "per-file.json"
    must(recipes.mewe_command(MEWE, w, objects, wasm, report=report), "mewe (link objects)")
    doc = json.loads(report.read_text())
    assert [o["object"] for o in doc["objects"]] == [str(o) for o in objects]
    assert doc["totals"]["dispatchers"] > 0, doc["totals"]
    p = run_wasm(validate(wasm), w.args)
    assert p.returncode == 0 and p.stdout == expected, describe(p)


# ---------------------------------------------------------------- a second engine


@pytest.fixture(scope="session")
def wasmtime():
    try:
        return engines.wasmtime()
    except engines.EngineError as e:
        pytest.skip(f"no second engine: {e}")


# test_multivariant's cases (both dispatch kinds) of every workload but libsecp256k1's
# (whose builds take minutes).
SECOND_ENGINE = [c for c in _multivariant_cases() if not c.values[0].startswith("secp256k1")]


@pytest.mark.parametrize("name, seed, dispatch", SECOND_ENGINE)
def test_multivariant_under_wasmtime(name, seed, dispatch, workloads, builds, wasmtime,
                                     tmp_path):
    """The multivariant build under wasmtime (tests/corpus/engines.py) prints what the
    original printed under node: libmewe's output must not depend on V8's reading of it.
    Linked with a shim that gives main the workload's arguments, as wasmtime passes none
    here; otherwise built as test_multivariant's build."""
    w = workloads[name]
    expected = builds.original_output(name)
    shim = engines.args_shim(CLANG, ["prog", *w.args], tmp_path)
    wasm = tmp_path / "mv.wasm"
    must([*recipes.mewe_command(MEWE, w, builds.bitcode(w), wasm, seed=seed, dispatch=dispatch),
          f"--link-arg={shim}"], "mewe")
    validate(wasm)
    status, out, err = engines.run_wasmtime(wasmtime, wasm, timeout=TIMEOUT)
    assert status == 0 and out.decode() == expected, (
        f"wasmtime: status {status}\nstdout (end): {out[-1500:]!r}\nstderr: {err[-1500:]!r}")


# ---------------------------------------------------------------- program-specific checks


def _mv_program(workloads, builds, name):
    """The first multivariant build of a workload (its first seed, switch dispatch)."""
    w = workloads[name]
    seed = w.corpus.get("seeds", [0])[0]
    return builds.multivariant(w, seed, "switch")[0]


def test_base64_stdin(workloads, builds):
    """The stdin mode, as a service would use it: 100 KB of random bytes, encoded and
    decoded by the multivariant module, against Python's base64."""
    wasm = _mv_program(workloads, builds, "base64-selftest")
    data = random.Random(8439).randbytes(100_000)
    text = base64.b64encode(data)
    cmd = [NODE, "--no-warnings", NODE_FLAG, RUNNER, wasm]
    enc = run([*cmd, "-e"], limit_memory=False, text=False, input=data)
    assert enc.returncode == 0 and enc.stdout == text + b"\n", enc.stderr
    wrapped = b"\n".join(text[i:i + 76] for i in range(0, len(text), 76)) + b"\n"
    dec = run([*cmd, "-d"], limit_memory=False, text=False, input=wrapped)
    assert dec.returncode == 0 and dec.stdout == data, dec.stderr
    bad = run_wasm(wasm, ["-d"], stdin="Zm9v!A==\n")
    assert bad.returncode == 1 and "malformed" in bad.stderr, describe(bad)


@pytest.mark.parametrize("level, text, reference", [
    ("M", "HELLO WORLD", "qr-hello-world-M.txt"),
    ("L", "MEWE: Multi-Variant Execution at the Edge. libmewe turns LLVM bitcode into "
          "multivariant WebAssembly, one dispatcher per function, a fresh variant per call.",
     "qr-mewe-L.txt"),
])
def test_qr_symbol(level, text, reference, workloads, builds):
    """Whole symbols, module by module, against segno's (tests/corpus/data, made by
    programs/qr_reference.py --symbols)."""
    wasm = _mv_program(workloads, builds, "qr-selftest")
    p = run_wasm(wasm, ["encode", level, text])
    assert p.returncode == 0, describe(p)
    assert p.stdout == (DATA / reference).read_text()


def test_mewe_deterministic(workloads, builds, tmp_path):
    """Principle 3 on real code: the same inputs and seed give byte-identical output, and
    another seed gives another module."""
    w = workloads["aead-selftest"]
    first, _ = builds.multivariant(w, 1, "switch")
    again = tmp_path / "again.wasm"
    other = tmp_path / "other.wasm"
    must(recipes.mewe_command(MEWE, w, builds.bitcode(w), again, seed=1, dispatch="switch"),
         "mewe")
    must(recipes.mewe_command(MEWE, w, builds.bitcode(w), other, seed=2, dispatch="switch"),
         "mewe")
    validate(again)
    validate(other)
    assert first.read_bytes() == again.read_bytes()
    assert first.read_bytes() != other.read_bytes()
