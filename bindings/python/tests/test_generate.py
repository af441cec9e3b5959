"""Variant generation: options, the selection policy, and their errors."""

from __future__ import annotations

import pytest

import mewe
from conftest import DATA


def functions_by_name(module: mewe.Module) -> dict[str, dict]:
    return {f["name"]: f for f in module.report()["functions"]}


def test_generate_defaults(sample: mewe.Module) -> None:
    sample.generate()
    totals = sample.report()["totals"]
    assert totals["diversified"] >= 2 and totals["variants"] >= 2
    assert totals["instructions_after"] > totals["instructions_before"]
    assert len(sample.functions) > 4  # the variants are functions of the module too
    sample.verify()
    rows = functions_by_name(sample)
    assert rows["tiny"]["status"] == "skipped" and rows["tiny"]["reason"] == "too small"
    assert rows["mix"]["status"] == "diversified" and 1 <= rows["mix"]["variants"] <= 3


def test_generate_allow_deny(sample: mewe.Module) -> None:
    sample.generate(variants=2, allow=["m*"], deny=["main"], min_instructions=1)
    rows = functions_by_name(sample)
    assert rows["mix"]["status"] == "diversified"
    assert rows["scale"]["reason"] == "not in the allow list"
    assert rows["main"]["reason"] == "in the deny list"


def test_exclude_unlinked(sample: mewe.Module) -> None:
    assert sample.exclude_unlinked(kind="object") == 0  # an object keeps every function
    assert sample.exclude_unlinked() == 0  # main calls every function of the command
    # A reactor that exports only scale: mix and tiny go (main is always kept).
    assert sample.exclude_unlinked(kind="reactor", exports=["scale"]) == 2
    sample.generate(min_instructions=1)
    rows = functions_by_name(sample)
    assert rows["mix"]["reason"] == rows["tiny"]["reason"] == "dropped by the link"
    assert rows["scale"]["status"] == "diversified"
    with pytest.raises(mewe.MeweError):
        sample.exclude_unlinked(exports=["nothere"])


def test_exclude_unlinked_threads(sample: mewe.Module) -> None:
    # The skeleton's code generation takes the emit options' threads: any count finds the
    # same functions, and a count over the library's maximum is refused by libmewe itself
    # (so the value reaches the C options), before anything is marked.
    max_threads = 1024  # MEWE_EMIT_MAX_THREADS (emit.h)
    with pytest.raises(mewe.MeweError) as err:
        sample.exclude_unlinked(kind="reactor", exports=["scale"], threads=max_threads + 1)
    assert err.value.code == mewe.Status.EINVAL and "threads" in err.value.message
    with pytest.raises(ValueError):
        sample.exclude_unlinked(threads=-1)
    with pytest.raises(TypeError):
        sample.exclude_unlinked(threads=True)
    assert sample.exclude_unlinked(kind="reactor", exports=["scale"], threads=1) == 2
    assert sample.exclude_unlinked(kind="reactor", exports=["scale"], threads=2) == 0
    rows = functions_by_name(sample)
    assert rows["mix"]["reason"] == rows["tiny"]["reason"] == "dropped by the link"
    assert rows["scale"]["reason"] != "dropped by the link"


def test_generate_outline_loops(ctx: mewe.Context, fixture_bitcode) -> None:
    outlined = ctx.load(fixture_bitcode["loops"])
    outlined.generate(outline_loops=30, wasm_rounds=0)
    bodies = [n for n in functions_by_name(outlined) if n.endswith(".loop.body")]
    assert bodies and functions_by_name(outlined)[bodies[0]]["status"] == "diversified"
    kept = ctx.load(fixture_bitcode["loops"])
    kept.generate(outline_loops=0)
    assert not [n for n in functions_by_name(kept) if n.endswith(".loop.body")]
    chunked = ctx.load(fixture_bitcode["chunks"])
    chunked.generate(outline_loops=200, wasm_rounds=0)
    chunks = [n for n in functions_by_name(chunked) if n.endswith(".loop.chunk")]
    assert chunks and functions_by_name(chunked)[chunks[0]]["status"] == "diversified"
    whole = ctx.load(fixture_bitcode["chunks"])
    whole.generate(outline_loops=0)
    assert not [n for n in functions_by_name(whole) if ".loop." in n]


def test_generate_wasm_derived(ctx: mewe.Context, fixture_bitcode) -> None:
    """The loops fixture's main (673 instructions) gets variants made in wasm: as many as
    asked, none with 0."""
    main = "__main_argc_argv"
    derived = ctx.load(fixture_bitcode["loops"])
    derived.generate(variants=5, wasm_derived=4)
    assert functions_by_name(derived)[main]["wasm_derived"] == 4
    assert derived.report()["totals"]["wasm_derived"] == 4
    none = ctx.load(fixture_bitcode["loops"])
    none.generate(variants=5, wasm_derived=0)
    assert "wasm_derived" not in functions_by_name(none)[main]
    assert functions_by_name(none)[main]["variants"] == 5
    assert none.report()["totals"]["wasm_derived"] == 0


def test_generate_with_diversifier_specs(sample: mewe.Module) -> None:
    sample.generate(diversifiers=["subst:rate=1.0", "blocks:split=1,shuffle=1"], attempts=8)
    assert sample.report()["totals"]["diversified"] >= 1


def test_generate_single_string_is_one_spec(sample: mewe.Module) -> None:
    sample.generate(diversifiers="subst")
    assert sample.report()["totals"]["diversified"] >= 1


@pytest.mark.parametrize("kwargs, code", [
    ({"diversifiers": ["nonesuch"]}, mewe.Status.ENOTFOUND),
    ({"diversifiers": ["subst:rate=7"]}, mewe.Status.EINVAL),
    ({"diversifiers": ["subst:colour=red"]}, mewe.Status.EINVAL),
    ({"variants": 65}, mewe.Status.EINVAL),
    ({"attempts": 101}, mewe.Status.EINVAL),
    ({"wasm_derived": 65}, mewe.Status.EINVAL),
    ({"time_budget": -1.0}, mewe.Status.EINVAL),
    ({"size_budget": float("inf")}, mewe.Status.EINVAL),
])
def test_generate_bad_options(sample: mewe.Module, kwargs: dict, code: mewe.Status) -> None:
    before = sample.write()
    with pytest.raises(mewe.MeweError) as info:
        sample.generate(**kwargs)
    assert info.value.code is code
    assert info.value.message
    assert sample.write() == before


@pytest.mark.parametrize("kwargs, error", [
    ({"variants": -1}, ValueError), ({"min_instructions": 2**32}, ValueError),
    ({"variants": "3"}, TypeError), ({"allow": [3]}, TypeError),
    ({"select": "everything"}, TypeError),
])
def test_generate_bad_python_arguments(sample: mewe.Module, kwargs: dict,
                                       error: type[Exception]) -> None:
    with pytest.raises(error):
        sample.generate(**kwargs)


def test_generate_after_link_is_estate(sample: mewe.Module) -> None:
    sample.generate()
    sample.link_multivariant()
    with pytest.raises(mewe.MeweError) as info:
        sample.generate()
    assert info.value.code is mewe.Status.ESTATE


def test_select_sees_every_candidate(sample: mewe.Module) -> None:
    seen: list[mewe.FunctionInfo] = []
    sample.generate(variants=2, select=lambda info: seen.append(info))  # None: the default
    by_name = {info.name: info for info in seen}
    assert set(by_name) == {"mix", "scale", "main"}  # tiny is too small to be asked
    assert by_name["mix"].call_sites == 1 and not by_name["mix"].address_taken
    assert by_name["mix"].instructions == 6 and by_name["mix"].variants == 2
    assert all(isinstance(info.address_taken, bool) for info in seen)
    assert functions_by_name(sample)["mix"]["status"] == "diversified"


def test_select_skips_and_caps(sample: mewe.Module) -> None:
    def policy(info: mewe.FunctionInfo) -> int | bool | None:
        if info.name == "main":
            return False
        if info.name == "scale":
            return 0
        return min(info.variants, 1)

    sample.generate(variants=4, select=policy)
    rows = functions_by_name(sample)
    assert rows["main"]["reason"] == "skipped by the selection policy"
    assert rows["scale"]["reason"] == "skipped by the selection policy"
    assert rows["mix"]["variants"] == 1


def test_select_true_keeps_the_default(ctx: mewe.Context) -> None:
    plain, chosen = ctx.load(DATA / "sample.ll"), ctx.load(DATA / "sample.ll")
    plain.generate(variants=2)
    chosen.generate(variants=2, select=lambda info: True)
    assert plain.write() == chosen.write()


def test_select_exception_propagates_and_module_is_unchanged(sample: mewe.Module) -> None:
    before, report_before = sample.write(), sample.report()
    calls: list[str] = []

    def policy(info: mewe.FunctionInfo) -> int:
        calls.append(info.name)
        if info.name == "scale":
            raise ValueError("no variants of scale, please")
        return 2

    with pytest.raises(ValueError, match="no variants of scale") as info:
        sample.generate(select=policy)
    assert calls == ["mix", "scale"]  # generation stopped at the failure
    assert any("MEWE_EUSER" in note for note in info.value.__notes__)
    assert sample.write() == before
    assert sample.report() == report_before
    sample.generate(select=lambda info: 1)  # still usable
    assert sample.report()["totals"]["diversified"] >= 1


def test_select_bad_answers(sample: mewe.Module) -> None:
    before = sample.write()
    with pytest.raises(TypeError, match="select"):
        sample.generate(select=lambda info: "many")
    with pytest.raises(ValueError, match="select"):
        sample.generate(select=lambda info: -2)
    with pytest.raises(mewe.MeweError) as info:  # the library's own limit
        sample.generate(select=lambda info: 65)
    assert info.value.code is mewe.Status.EINVAL
    assert sample.write() == before


def test_same_seed_same_variants() -> None:
    outputs = []
    for _ in range(2):
        with mewe.Context(seed=99) as ctx:
            module = ctx.load(DATA / "sample.ll")
            module.generate(variants=3)
            outputs.append(module.write())
    assert outputs[0] == outputs[1]
