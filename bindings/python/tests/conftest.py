"""Shared fixtures of the binding tests.

Environment:
    MEWE_LIBRARY      the libmewe to test (meson sets it; otherwise the usual lookup).
    MEWE_TEST_SRCDIR  libmewe's tests/ directory (fixtures, wasm-run.mjs); by default the
                      one of the source tree holding these bindings.
    MEWE_NODE, MEWE_CLANG  node and clang-19 (default: looked up in PATH).

Tests that need node or clang-19 skip, saying so, when the tool is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the package, when run without PYTHONPATH

import mewe  # noqa: E402

DATA = HERE / "data"
SAMPLE_OUTPUT = "mix=40 scale=122\n"
FIXTURES = ("chunks", "fnptr", "globals", "loops", "recursion", "structs")


def tests_srcdir() -> Path:
    """libmewe's tests/ directory."""
    env = os.environ.get("MEWE_TEST_SRCDIR")
    return Path(env) if env else HERE.parents[2] / "tests"


def include_dir() -> Path:
    """libmewe's public headers (include/ beside tests/)."""
    return tests_srcdir().parent / "include"


@pytest.fixture(scope="session")
def node() -> str:
    """The node executable, or a skip."""
    path = os.environ.get("MEWE_NODE") or shutil.which("node") or shutil.which("nodejs")
    if path is None:
        pytest.skip("node is not installed: cannot run the emitted wasm")
    return path


@pytest.fixture(scope="session")
def clang() -> str:
    """clang-19, or a skip."""
    path = os.environ.get("MEWE_CLANG") or shutil.which("clang-19")
    if path is None:
        pytest.skip("clang-19 is not installed: cannot compile the C fixtures")
    return path


@pytest.fixture(scope="session")
def fixture_bitcode(clang: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The C fixtures of tests/fixtures compiled to wasm32 bitcode: name → .bc path."""
    out = tmp_path_factory.mktemp("fixtures")
    compiled = {}
    for name in FIXTURES:
        source = tests_srcdir() / "fixtures" / f"{name}.c"
        target = out / f"{name}.bc"
        subprocess.run([clang, "--target=wasm32-wasi", "-O2", "-emit-llvm", "-c",
                        str(source), "-o", str(target)], check=True)
        compiled[name] = target
    return compiled


def expected_output(name: str) -> str:
    """What fixture ``name`` prints."""
    return (tests_srcdir() / "fixtures" / f"{name}.expected").read_text()


@pytest.fixture(scope="session")
def run_wasm(node: str):
    """``run_wasm(wasm, *runner_options, argv=()) -> CompletedProcess``: runs a module
    (a path or bytes) under tests/wasm-run.mjs; ``argv`` follows the module."""
    runner = tests_srcdir() / "wasm-run.mjs"

    def run(wasm: Path | bytes, *options: str,
            argv: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        if isinstance(wasm, bytes):
            fd, name = tempfile.mkstemp(suffix=".wasm", prefix="mewe-py-")
            with os.fdopen(fd, "wb") as out:
                out.write(wasm)
            path = Path(name)
        else:
            path = Path(wasm)
        try:
            # Every module the tests run must be valid, not only accepted by V8.
            valid = subprocess.run(
                [os.environ.get("WASM_VALIDATE", "wasm-validate"), "--enable-threads",
                 "--enable-tail-call", "--enable-exceptions", "--", str(path)],
                capture_output=True, text=True, timeout=120)
            assert valid.returncode == 0, \
                f"{path} is not valid WebAssembly:\n{valid.stdout}{valid.stderr}"
            # --no-turbo-fast-api-calls: node 20's WASI crashes now and then without it.
            return subprocess.run([node, "--no-warnings", "--no-turbo-fast-api-calls",
                                   str(runner), *options, str(path), *argv],
                                  capture_output=True, text=True, timeout=120,
                                  stdin=subprocess.DEVNULL)
        finally:
            if isinstance(wasm, bytes):
                path.unlink()

    return run


@pytest.fixture
def ctx() -> Iterator[mewe.Context]:
    """A fresh context with seed 1, closed afterwards."""
    with mewe.Context(seed=1) as context:
        yield context


@pytest.fixture
def sample(ctx: mewe.Context) -> mewe.Module:
    """tests/data/sample.ll loaded into ``ctx``."""
    return ctx.load(DATA / "sample.ll")
