"""Context: seed, tool paths, plugins, logging, closing."""

from __future__ import annotations

from pathlib import Path

import pytest

import mewe
from conftest import DATA


def test_seed_defaults_to_zero_and_round_trips() -> None:
    with mewe.Context() as ctx:
        assert ctx.seed == 0
        ctx.seed = 2**64 - 1
        assert ctx.seed == 2**64 - 1
        ctx.seed = 42
        assert ctx.seed == 42
    with mewe.Context(seed=7) as ctx:
        assert ctx.seed == 7


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (2**64, ValueError),
                                        ("1", TypeError), (1.5, TypeError)])
def test_bad_seed(ctx: mewe.Context, bad: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        ctx.seed = bad  # type: ignore[assignment]
    assert ctx.seed == 1


def test_tool_paths(ctx: mewe.Context, tmp_path: Path) -> None:
    assert ctx.tool_path("wasm_ld")  # configured at build time
    ctx.set_tool_path("wasm-ld", tmp_path / "my-wasm-ld")
    assert ctx.tool_path(mewe.Tool.WASM_LD) == str(tmp_path / "my-wasm-ld")
    ctx.set_tool_path(mewe.Tool.BUILTINS, "")
    assert ctx.tool_path("builtins") == ""
    assert ctx.tool_path("wasi_sdk") == ""


def test_bad_tool(ctx: mewe.Context, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="tool"):
        ctx.set_tool_path("linker", "/bin/true")
    with pytest.raises(mewe.MeweError) as info:
        ctx.set_tool_path("wasi_sdk", tmp_path)  # an empty directory is no wasi-sdk
    assert info.value.code in (mewe.Status.ENOTFOUND, mewe.Status.EINVAL)
    assert str(tmp_path) in info.value.message


def test_plugins_list_the_builtins(ctx: mewe.Context) -> None:
    diversifiers = {p.name: p.description for p in ctx.diversifiers}
    assert {"subst", "blocks"} <= diversifiers.keys()
    assert all(diversifiers.values())
    strategies = [p.name for p in ctx.rng_strategies]
    assert {"wasi", "host", "fixed"} <= set(strategies)
    assert all(isinstance(p, mewe.Plugin) for p in ctx.rng_strategies)


def test_close_is_idempotent_and_final() -> None:
    ctx = mewe.Context()
    assert not ctx.closed
    ctx.close()
    ctx.close()
    assert ctx.closed and "closed" in repr(ctx)
    with pytest.raises(mewe.ClosedError):
        ctx.seed
    with pytest.raises(mewe.ClosedError):
        ctx.load(DATA / "sample.ll")
    with pytest.raises(mewe.ClosedError):
        ctx.diversifiers


def test_with_block_closes() -> None:
    with mewe.Context() as ctx:
        pass
    assert ctx.closed


def test_log_callback_gets_errors(ctx: mewe.Context, tmp_path: Path) -> None:
    messages: list[tuple[mewe.LogLevel, str]] = []
    ctx.set_log_callback(lambda level, text: messages.append((level, text)))
    with pytest.raises(mewe.MeweError) as info:
        ctx.load(tmp_path / "missing.bc")
    assert messages == [(mewe.LogLevel.ERROR, info.value.message)]
    assert isinstance(messages[0][0], mewe.LogLevel)


def test_log_callback_gets_warnings_up_to_its_level(tmp_path: Path) -> None:
    source = (DATA / "sample.ll").read_text()
    no_triple = "\n".join(line for line in source.splitlines() if not line.startswith("target"))
    warnings: list[str] = []
    with mewe.Context(log=lambda level, text: warnings.append(text), log_level="warn") as ctx:
        module = ctx.load(no_triple.encode(), name="no-triple")
        module.emit(kind="object")
        assert any("no target triple" in text for text in warnings), warnings
        count = len(warnings)
        ctx.set_log_callback(lambda level, text: warnings.append(text), "error")
        module.emit(kind="object")
        assert len(warnings) == count  # a warning is above level "error"
        ctx.set_log_callback(None)
        with pytest.raises(mewe.MeweError):
            ctx.load(tmp_path / "missing.bc")
        assert len(warnings) == count


def test_log_callback_exception_is_reraised(ctx: mewe.Context, tmp_path: Path) -> None:
    class Boom(Exception):
        pass

    def log(level: mewe.LogLevel, text: str) -> None:
        raise Boom(text)

    ctx.set_log_callback(log)
    with pytest.raises(Boom) as info:
        ctx.load(tmp_path / "missing.bc")
    assert "missing.bc" in str(info.value)
    assert any("MEWE_EIO" in note for note in info.value.__notes__)
    ctx.set_log_callback(None)
    with pytest.raises(mewe.MeweError):  # the failure alone, once the callback is gone
        ctx.load(tmp_path / "missing.bc")


def test_log_callback_exception_after_a_successful_call() -> None:
    """A call that succeeds but logs still raises the callback's exception."""
    no_triple = "\n".join(line for line in (DATA / "sample.ll").read_text().splitlines()
                          if not line.startswith("target"))

    def log(level: mewe.LogLevel, text: str) -> None:
        raise KeyError(text)

    with mewe.Context(log=log, log_level=mewe.LogLevel.DEBUG) as ctx:
        module = ctx.load(no_triple.encode())
        with pytest.raises(KeyError):
            module.emit(kind="object")
        assert not module.closed


def test_log_callback_must_be_callable(ctx: mewe.Context) -> None:
    with pytest.raises(TypeError):
        ctx.set_log_callback("print")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="log level"):
        ctx.set_log_callback(print, "loud")
