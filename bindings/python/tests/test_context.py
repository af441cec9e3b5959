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


def test_progress_callback_follows_each_stage() -> None:
    steps: list[tuple[str, int, int]] = []
    info: list[str] = []
    with mewe.Context(progress=lambda stage, done, total: steps.append((stage, done, total)),
                      log=lambda level, text: info.append(text), log_level="info") as ctx:
        module = ctx.load(DATA / "sample.ll")
        functions = len(module.functions)
        module.generate(variants=2)
        module.link_multivariant()
        module.emit(kind="object")
        stages = [stage for stage, _, _ in steps]
        assert stages[0] == "generating variants" and "making dispatchers" in stages
        generated = [(done, total) for stage, done, total in steps
                     if stage == "generating variants"]
        assert generated == [(i, functions) for i in range(functions + 1)]
        assert ("compiling to wasm", 1, 1) in steps
        assert f"generating variants: {functions}/{functions}" in info
        # Removed, it hears nothing more.
        count = len(steps)
        ctx.set_progress_callback(None)
        module.emit(kind="object")
        assert len(steps) == count


def test_progress_callback_exception_is_reraised(ctx: mewe.Context) -> None:
    def progress(stage: str, done: int, total: int) -> None:
        raise KeyboardInterrupt(stage)

    ctx.set_progress_callback(progress)
    with pytest.raises(KeyboardInterrupt) as info:
        ctx.load(DATA / "sample.ll").generate()
    assert str(info.value) == "generating variants"
    with pytest.raises(TypeError):
        ctx.set_progress_callback(42)  # type: ignore[arg-type]


def test_check_target_before_any_work(ctx: mewe.Context) -> None:
    ctx.load(DATA / "sample.ll").check_target()
    text = (DATA / "sample.ll").read_text().replace("wasm32-unknown-wasi", "x86_64-pc-linux-gnu")
    text = text.replace("e-m:e-p:32:32-p10:8:8-p20:8:8-i64:64-n32:64-S128-ni:1:10:20",
                        "e-m:e-i64:64-f80:128-n8:16:32:64-S128")
    with pytest.raises(mewe.MeweError) as info:
        ctx.load(text.encode(), name="x86.ll").check_target()
    assert info.value.code is mewe.Status.ETARGET
    assert "x86.ll" in info.value.message and "x86_64-pc-linux-gnu" in info.value.message
