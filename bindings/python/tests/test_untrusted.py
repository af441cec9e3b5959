"""Untrusted input: loading through the helper mewe-load-check (Context.untrusted_input).

The hostile inputs under tests/fuzz/corpus/load/regress-* end an in-process load of LLVM's
reader (a segfault, a fatal error, an abort on a huge allocation): they are only ever loaded
here with untrusted input on, where each must raise EPARSE and leave this process alive.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import mewe
from conftest import DATA
from conftest import tests_srcdir as _tests_srcdir

CORPUS = _tests_srcdir() / "fuzz" / "corpus" / "load"
HOSTILE = sorted(CORPUS.glob("regress-*"))


def test_off_by_default_and_round_trips() -> None:
    with mewe.Context() as ctx:
        assert ctx.untrusted_input is False
        ctx.untrusted_input = True
        assert ctx.untrusted_input is True
        ctx.untrusted_input = False
        assert ctx.untrusted_input is False
    with mewe.Context(untrusted_input=True) as ctx:
        assert ctx.untrusted_input is True
        assert ctx.tool_path("load_check") == ""  # "": the helper installed with libmewe


@pytest.mark.parametrize("bad", [1, "yes", None])
def test_only_a_bool(ctx: mewe.Context, bad: object) -> None:
    with pytest.raises(TypeError, match="untrusted_input"):
        ctx.untrusted_input = bad  # type: ignore[assignment]
    assert ctx.untrusted_input is False


def test_closed_context() -> None:
    ctx = mewe.Context()
    ctx.close()
    with pytest.raises(mewe.ClosedError):
        ctx.untrusted_input
    with pytest.raises(mewe.ClosedError):
        ctx.untrusted_input = True


@pytest.mark.parametrize("name", ["calc.bc", "calc.ll"])
def test_good_input_loads_the_same(name: str) -> None:
    path = CORPUS / name
    with mewe.Context() as plain, mewe.Context(untrusted_input=True) as checked:
        a = plain.load(path)
        b = checked.load(path)
        c = checked.load(path.read_bytes(), name="upload")
        assert a.functions == b.functions == c.functions
        assert a.functions  # the same program: the same report (name, measures, functions)
        assert a.report() == b.report()


def test_there_are_hostile_inputs() -> None:
    assert len(HOSTILE) >= 5


@pytest.mark.parametrize("path", HOSTILE, ids=lambda p: p.name)
def test_hostile_input_is_a_parse_error(path: Path) -> None:
    with mewe.Context(untrusted_input=True) as ctx:
        with pytest.raises(mewe.MeweError) as info:
            ctx.load(path)
        assert info.value.code == mewe.Status.EPARSE
        assert str(path) in info.value.message
        with pytest.raises(mewe.MeweError) as info:
            ctx.load(path.read_bytes(), name="upload-17")
        assert info.value.code == mewe.Status.EPARSE
        assert "'upload-17'" in info.value.message
        # Linking one into a good module fails the same way and leaves the module usable.
        module = ctx.load(DATA / "sample.ll")
        before = module.functions
        with pytest.raises(mewe.MeweError) as info:
            module.link(path)
        assert info.value.code == mewe.Status.EPARSE
        assert module.functions == before
        module.verify()


def test_no_helper_no_load(ctx: mewe.Context, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-helper"
    ctx.set_tool_path("load-check", missing)
    assert ctx.tool_path(mewe.Tool.LOAD_CHECK) == str(missing)
    ctx.untrusted_input = True
    with pytest.raises(mewe.MeweError) as info:
        ctx.load(CORPUS / "calc.bc")
    assert info.value.code == mewe.Status.ETOOL
    assert str(missing) in info.value.message
    ctx.untrusted_input = False  # trusted input needs no helper
    assert ctx.load(CORPUS / "calc.bc").functions
