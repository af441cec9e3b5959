"""The whole pipeline: generate, link the multivariant program, emit wasm and run it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mewe
from conftest import DATA, FIXTURES, SAMPLE_OUTPUT, expected_output

WASM_MAGIC = b"\0asm\x01\0\0\0"


def multivariant(ctx: mewe.Context, source: Path | bytes, **link: object) -> mewe.Module:
    module = ctx.load(source)
    module.generate(variants=3)
    module.link_multivariant(**link)  # type: ignore[arg-type]
    return module


def test_emit_bytes_and_file(ctx: mewe.Context, tmp_path: Path, run_wasm) -> None:
    module = multivariant(ctx, DATA / "sample.ll")
    wasm = module.emit()
    assert isinstance(wasm, bytes) and wasm.startswith(WASM_MAGIC)
    assert module.emit(tmp_path / "sample.wasm") is None
    assert (tmp_path / "sample.wasm").read_bytes() == wasm
    assert run_wasm(tmp_path / "sample.wasm").stdout == SAMPLE_OUTPUT
    report = module.report()
    assert report["totals"]["dispatchers"] >= 2
    assert report["link"]["dispatch"] == "switch" and report["link"]["rng"] == "wasi"


def test_emit_original_module(sample: mewe.Module, run_wasm) -> None:
    result = run_wasm(sample.emit(opt_level=0))
    assert (result.returncode, result.stdout) == (0, SAMPLE_OUTPUT)


@pytest.mark.parametrize("link", [
    {"dispatch": "table"},
    {"granularity": "instance"},
    {"granularity": "every", "period": 2},
    {"granularity": mewe.Granularity.INVOCATION, "inline_limit": 1},
    {"max_overhead": float("inf")},
    {"rng": "fixed:seed=7", "dispatch": mewe.Dispatch.TABLE},
    {"rng": None},
])
def test_link_options_run(ctx: mewe.Context, run_wasm, link: dict) -> None:
    result = run_wasm(multivariant(ctx, DATA / "sample.ll", **link).emit())
    assert (result.returncode, result.stdout) == (0, SAMPLE_OUTPUT), result.stderr


def test_link_host_rng_imports_discriminate(ctx: mewe.Context, run_wasm) -> None:
    wasm = multivariant(ctx, DATA / "sample.ll", rng="host").emit()
    assert b"discriminate" in wasm
    assert run_wasm(wasm, "--discriminate", "env.discriminate").stdout == SAMPLE_OUTPUT


def test_trace_records_dispatches(ctx: mewe.Context, run_wasm, tmp_path: Path) -> None:
    wasm = multivariant(ctx, DATA / "sample.ll", trace=True).emit()
    result = run_wasm(wasm, "--trace", str(tmp_path / "trace"))
    assert result.stdout == SAMPLE_OUTPUT
    lines = (tmp_path / "trace").read_text().split("\n")
    assert len([line for line in lines if line]) >= 2


def test_link_bad_options(sample: mewe.Module) -> None:
    sample.generate()
    with pytest.raises(ValueError, match="dispatch"):
        sample.link_multivariant(dispatch="jump")
    with pytest.raises(ValueError, match="granularity"):
        sample.link_multivariant(granularity="daily")
    with pytest.raises(mewe.MeweError, match="max_overhead: 0.5"):
        sample.link_multivariant(max_overhead=0.5)
    with pytest.raises(mewe.MeweError) as info:
        sample.link_multivariant(rng="dice")
    assert info.value.code is mewe.Status.ENOTFOUND
    sample.link_multivariant()
    with pytest.raises(mewe.MeweError) as info:
        sample.link_multivariant()
    assert info.value.code is mewe.Status.ESTATE


def test_emit_reactor_and_object(ctx: mewe.Context, run_wasm) -> None:
    module = multivariant(ctx, DATA / "helpers.ll")
    reactor = module.emit(kind="reactor", exports=["mix", "scale"])
    assert reactor.startswith(WASM_MAGIC) and b"mix" in reactor
    result = run_wasm(reactor, "--reactor", "--invoke", "mix", argv=("12", "30"))
    assert result.stdout.strip() == "40", result.stderr
    obj = module.emit(kind=mewe.EmitKind.OBJECT)
    assert obj.startswith(WASM_MAGIC) and b"linking" in obj


def test_emit_errors(ctx: mewe.Context, tmp_path: Path) -> None:
    module = ctx.load(DATA / "helpers.ll")  # no main: a command does not link
    with pytest.raises(mewe.MeweError) as info:
        module.emit(tmp_path / "helpers.wasm")
    assert info.value.code is mewe.Status.ELINK
    assert not (tmp_path / "helpers.wasm").exists()
    with pytest.raises(mewe.MeweError) as info:
        module.emit(kind="object", opt_level=9)
    assert info.value.code is mewe.Status.EINVAL
    with pytest.raises(ValueError, match="kind"):
        module.emit(kind="library")
    ctx.set_tool_path("wasm_ld", tmp_path / "no-wasm-ld")
    with pytest.raises(mewe.MeweError) as info:
        ctx.load(DATA / "sample.ll").emit(link_args=["-z", "stack-size=65536"])
    assert info.value.code is mewe.Status.ETOOL


def test_emit_x86_module_is_etarget(ctx: mewe.Context) -> None:
    text = (DATA / "sample.ll").read_text().replace("wasm32-unknown-wasi", "x86_64-pc-linux-gnu")
    text = text.replace("e-m:e-p:32:32-p10:8:8-p20:8:8-i64:64-n32:64-S128-ni:1:10:20",
                        "e-m:e-i64:64-f80:128-n8:16:32:64-S128")
    with pytest.raises(mewe.MeweError) as info:
        ctx.load(text.encode()).emit()
    assert info.value.code is mewe.Status.ETARGET


def emit_with_seed(seed: int, source: Path) -> bytes:
    with mewe.Context(seed=seed) as ctx:
        return multivariant(ctx, source).emit()


def test_same_seed_same_wasm() -> None:
    assert emit_with_seed(5, DATA / "sample.ll") == emit_with_seed(5, DATA / "sample.ll")


def test_different_seeds_different_wasm() -> None:
    assert emit_with_seed(5, DATA / "sample.ll") != emit_with_seed(6, DATA / "sample.ll")


def test_add_variants_from_another_tool(ctx: mewe.Context, run_wasm) -> None:
    module = ctx.load(DATA / "sample.ll")
    rewritten = ctx.load(DATA / "sample-alt.ll")  # scale(x) computes x*3 as x+x+x
    assert module.add_variants(rewritten) == 1
    assert rewritten.closed
    rows = {f["name"]: f for f in module.report()["functions"]}
    assert rows["scale"]["variants"] == 1
    module.link_multivariant()
    assert run_wasm(module.emit()).stdout == SAMPLE_OUTPUT


def test_add_variants_path_and_errors(ctx: mewe.Context) -> None:
    module = ctx.load(DATA / "sample.ll")
    assert module.add_variants(DATA / "sample.ll") == 0  # same bodies: nothing new
    with pytest.raises(mewe.MeweError) as info:
        module.add_variants(module)
    assert info.value.code is mewe.Status.EINVAL and not module.closed
    module.generate()
    module.link_multivariant()
    late = ctx.load(DATA / "sample-alt.ll")
    with pytest.raises(mewe.MeweError) as info:
        module.add_variants(late)
    assert info.value.code is mewe.Status.ESTATE
    assert late.closed


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_runs_as_expected(name: str, fixture_bitcode: dict[str, Path], run_wasm,
                                  tmp_path: Path) -> None:
    with mewe.Context(seed=2024) as ctx:
        module = multivariant(ctx, fixture_bitcode[name])
        module.emit(tmp_path / f"{name}.wasm")
        assert module.report()["totals"]["diversified"] >= 1
    result = run_wasm(tmp_path / f"{name}.wasm")
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected_output(name)


def test_profile_guided_link(ctx: mewe.Context, run_wasm, tmp_path: Path) -> None:
    instrumented = ctx.load(DATA / "sample.ll")
    instrumented.instrument_profile()
    result = run_wasm(instrumented.emit())
    assert (result.returncode, result.stdout) == (0, SAMPLE_OUTPUT), result.stderr
    (tmp_path / "p.txt").write_text(result.stderr)
    with ctx.load_profile(tmp_path / "p.txt") as profile:
        assert len(profile) >= 2 and profile.calls("main") == 1
        assert profile.calls("no_such_function") is None
        module = multivariant(ctx, DATA / "sample.ll", profile=profile)
    assert run_wasm(module.emit()).stdout == SAMPLE_OUTPUT
    assert module.report()["link"]["profile"]["unmatched"] == 0
    (tmp_path / "bad.txt").write_text("mewe-profile 1\n")
    with pytest.raises(mewe.MeweError, match="cut short"):
        ctx.load_profile(tmp_path / "bad.txt")


def test_report_wasm_section_follows_the_last_emit(ctx: mewe.Context, tmp_path: Path) -> None:
    module = multivariant(ctx, DATA / "sample.ll", inline_limit=1)
    assert "wasm" not in module.report()
    wasm = module.emit()
    report = module.report()
    assert report["wasm"]["bytes"] == len(wasm)
    assert report["wasm"]["dispatchers"] and 0 < report["wasm"]["preservation"] <= 1
    module.write_report(tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text()) == report
    # An object's variants are final only once linked: it is not kept for the report.
    module.emit(tmp_path / "sample.o", kind="object")
    assert module.report() == report
    module.emit(tmp_path / "sample.wasm", opt_level=1)
    assert module.report()["wasm"]["bytes"] == (tmp_path / "sample.wasm").stat().st_size
    # A module that changes no longer matches the wasm: the section goes.
    other = ctx.load(DATA / "sample.ll")
    other.emit()
    assert "wasm" in other.report()
    other.generate(variants=1)
    assert "wasm" not in other.report()
