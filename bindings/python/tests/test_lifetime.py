"""Ownership: objects freed in any order, never twice, and never used after free."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from pathlib import Path

import pytest

import mewe
from conftest import DATA


def test_context_closed_before_its_modules() -> None:
    ctx = mewe.Context()
    first, second = ctx.load(DATA / "sample.ll"), ctx.load(DATA / "helpers.ll")
    ctx.close()
    assert first.closed and second.closed
    with pytest.raises(mewe.ClosedError, match="context is closed"):
        first.functions
    for use in (second.report, second.write, second.verify, second.emit,
                second.generate, second.link_multivariant):
        with pytest.raises(mewe.ClosedError):
            use()
    first.close()  # freed with the context: must not be freed again
    second.close()


def test_module_closed_twice() -> None:
    with mewe.Context() as ctx:
        module = ctx.load(DATA / "sample.ll")
        module.close()
        module.close()
        assert module.closed and "closed" in repr(module)
        with pytest.raises(mewe.ClosedError, match="module is closed"):
            module.functions
        assert ctx.load(DATA / "sample.ll").functions  # the context is fine


def test_module_with_block(ctx: mewe.Context) -> None:
    with ctx.load(DATA / "sample.ll") as module:
        assert module.functions
    assert module.closed and not ctx.closed


def test_closed_module_cannot_be_linked_or_link(ctx: mewe.Context) -> None:
    live, dead = ctx.load(DATA / "main.ll"), ctx.load(DATA / "helpers.ll")
    dead.close()
    with pytest.raises(mewe.ClosedError):
        live.link(dead)
    with pytest.raises(mewe.ClosedError):
        dead.link(live)
    assert not live.closed  # not consumed by a call that never happened
    live.link(DATA / "helpers.ll")


def test_module_keeps_its_context_alive() -> None:
    module = mewe.Context(seed=3).load(DATA / "sample.ll")
    gc.collect()
    assert not module.context.closed
    assert module.functions and module.report()["seed"] == 3
    module.generate()


def test_unclosed_objects_are_collected() -> None:
    ctx = mewe.Context(log=lambda level, text: None)
    module = ctx.load(DATA / "sample.ll")
    consumed = ctx.load(DATA / "helpers.ll")
    main = ctx.load(DATA / "main.ll")
    main.link(consumed)
    refs = [weakref.ref(obj) for obj in (ctx, module, consumed, main)]
    finalizers = [ctx._finalizer, module._finalizer, main._finalizer]
    del ctx, module, consumed, main
    gc.collect()
    assert all(ref() is None for ref in refs)
    assert not any(f.alive for f in finalizers)


def test_collected_module_then_context_close() -> None:
    ctx = mewe.Context()
    module = ctx.load(DATA / "sample.ll")
    finalizer = module._finalizer
    del module
    gc.collect()
    assert not finalizer.alive
    ctx.close()


def test_cycle_through_a_log_callback_is_collected() -> None:
    ctx = mewe.Context()
    holder = [ctx]
    ctx.set_log_callback(lambda level, text, held=holder: held[0].seed)  # holds the context
    finalizer = ctx._finalizer
    del ctx, holder
    gc.collect()
    assert not finalizer.alive


def test_callbacks_are_kept_alive_by_their_owner() -> None:
    messages: list[str] = []
    ctx = mewe.Context(log=lambda level, text: messages.append(text))
    gc.collect()
    with pytest.raises(mewe.MeweError):
        ctx.load(DATA / "does-not-exist.ll")
    assert messages
    ctx.close()


SCRIPT = """
import mewe, sys
ctx = mewe.Context(seed=1, log=lambda level, text: None)
kept = [ctx.load(sys.argv[1]) for _ in range(3)]
kept[0].generate()
other = mewe.Context()
orphan = other.load(sys.argv[1])
other.close()
cycle = mewe.Context()
cycle.set_log_callback(lambda level, text: cycle)
print("ok")
"""


def test_interpreter_exit_with_live_objects(tmp_path: Path) -> None:
    """Finalizers at exit free what is left, in whatever order, without crashing."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(mewe.__file__).resolve().parents[1]), env.get("PYTHONPATH", "")])
    env["MEWE_LIBRARY"] = mewe.library_path()
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(DATA / "sample.ll")], env=env,
                            capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout, result.stderr) == (0, "ok\n", "")
