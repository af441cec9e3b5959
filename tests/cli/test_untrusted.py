"""The mewe command and corrupt or hostile inputs: each input under
tests/fuzz/corpus/load/regress-* ends an in-process load of LLVM's bitcode reader or IR
parser (a segfault, LLVM's fatal error, an abort on a huge allocation). mewe loads inputs
through the helper mewe-load-check by default, so each must end in exit status 1, one clear
message and no output file.

Environment (set by tests/cli/meson.build): MEWE, MEWE_TEST_SRCDIR (tests/).
"""

import os
import pathlib
import resource
import subprocess

import pytest

MEWE = os.environ.get("MEWE", "mewe")
SRCDIR = pathlib.Path(os.environ.get("MEWE_TEST_SRCDIR", pathlib.Path(__file__).parents[1]))
CORPUS = SRCDIR / "fuzz" / "corpus" / "load"
HOSTILE = sorted(CORPUS.glob("regress-*"))
GOOD = CORPUS / "calc.bc"


def _limit():
    # Without the helper, the oom inputs would take the machine's memory.
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def mewe(*args):
    return subprocess.run([MEWE, *map(str, args)], capture_output=True, text=True,
                          timeout=180, preexec_fn=_limit)


def test_there_are_hostile_inputs():
    assert len(HOSTILE) >= 5


@pytest.mark.parametrize("path", HOSTILE, ids=lambda p: p.name)
def test_hostile_bitcode_is_a_clean_error(path, tmp_path):
    before = path.read_bytes()
    out = tmp_path / "out.wasm"
    for args in ([path, "--stage", "report"], [path, "-o", out]):
        p = mewe(*args)
        assert p.returncode == 1, (p.returncode, p.stderr)
        if "roundtrip" in path.name:
            # Loads, but LLVM writes textual IR of it that LLVM cannot parse.
            assert p.stderr.startswith(f"mewe: loading: '{path}': LLVM cannot read back "
                                       "the module it loaded from this input ("), p.stderr
            assert p.stderr.endswith("): it is corrupt\n"), p.stderr
        else:
            reader = "LLVM's IR parser" if path.suffix == ".ll" else "the bitcode reader"
            assert p.stderr.startswith(f"mewe: loading: '{path}': {reader} "), p.stderr
            assert "it is corrupt or hostile" in p.stderr
        assert p.stderr.count("\n") == 1, p.stderr  # one line: nothing of LLVM's leaks out
        assert p.stdout == ""
        assert not out.exists()
        assert list(tmp_path.iterdir()) == []
    assert path.read_bytes() == before


def test_hostile_bitcode_as_a_second_input_or_variants(tmp_path):
    out = tmp_path / "out.bc"
    p = mewe(GOOD, HOSTILE[0], "--stage", "generate", "-o", out)
    assert p.returncode == 1 and "mewe: linking inputs: " in p.stderr, p.stderr
    assert HOSTILE[0].name in p.stderr
    p = mewe(GOOD, "--variants-from", HOSTILE[0], "--stage", "generate", "-o", out)
    assert p.returncode == 1 and "mewe: --variants-from: " in p.stderr, p.stderr
    assert not out.exists()


def test_trusted_input_gives_the_same_result(tmp_path):
    a, b = tmp_path / "a.bc", tmp_path / "b.bc"
    p = mewe(GOOD, "--stage", "generate", "--seed", "3", "-o", a)
    assert p.returncode == 0, p.stderr
    p = mewe(GOOD, "--trusted-input", "--stage", "generate", "--seed", "3", "-o", b)
    assert p.returncode == 0, p.stderr
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("name", ["regress-fatal-1.bc", "regress-fatal-text-1.ll"])
def test_trusted_input_ends_a_fatal_error_with_status_1(name, tmp_path):
    # In-process, LLVM's fatal error still ends mewe, but through mewe's own handler: its
    # message and exit status 1, not LLVM's abort, and no output left behind.
    out = tmp_path / "out.wasm"
    p = mewe("--trusted-input", CORPUS / name, "-o", out)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert p.stderr.endswith("mewe: LLVM fatal error: Broken module found, compilation "
                             "aborted!\n"), p.stderr
    assert not out.exists()
