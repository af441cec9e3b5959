"""Defaults and limits come from the library: mewe.option(), the keyword defaults that
follow it, and the spec checks."""

from __future__ import annotations

import math

import pytest

import mewe
from conftest import DATA


def test_every_option_is_described() -> None:
    names = mewe.option_names()
    assert "generate.variants" in names and "emit.opt_level" in names
    for opt in mewe.options():
        assert opt.default_text
        if opt.numeric and math.isnan(opt.default):  # a rule, not a number
            assert opt.name == "generate.wasm_derived" and opt.default_text == "all but one"
        elif opt.numeric:
            assert float(opt.default_text) == opt.default
            assert opt.minimum <= opt.default <= opt.maximum
        else:
            assert math.isnan(opt.minimum) and math.isnan(opt.maximum)
    assert mewe.option("link.max_overhead").maximum == math.inf
    assert mewe.option("link.rng").default_text == "wasi"
    with pytest.raises(KeyError, match="generate.variants"):
        mewe.option("variants")


def test_generate_defaults_are_the_librarys(ctx: mewe.Context) -> None:
    """A module generated without arguments has the library's default variant count."""
    module = ctx.load(DATA / "sample.ll")
    module.generate()
    per_function = [f["variants"] for f in module.report()["functions"]
                    if f["status"] == "diversified"]
    assert per_function and max(per_function) == mewe.option("generate.variants").default


def test_limits_are_the_librarys(ctx: mewe.Context) -> None:
    top = int(mewe.option("generate.variants").maximum)
    module = ctx.load(DATA / "sample.ll")
    with pytest.raises(mewe.MeweError, match="variants"):
        module.generate(variants=top + 1)
    period = int(mewe.option("link.period").maximum)
    with pytest.raises(mewe.MeweError, match="period"):
        module.link_multivariant(granularity="every", period=period + 1)


def test_spec_checks(ctx: mewe.Context) -> None:
    ctx.check_diversifier_spec("subst:rate=0.8")
    ctx.check_rng_strategy_spec("fixed:seed=3")
    with pytest.raises(mewe.MeweError, match="unknown diversifier 'dice'") as err:
        ctx.check_diversifier_spec("dice")
    assert err.value.code == mewe.Status.ENOTFOUND
    with pytest.raises(mewe.MeweError, match="no parameter 'speed'"):
        ctx.check_rng_strategy_spec("wasi:speed=1")
    with pytest.raises(TypeError):
        ctx.check_diversifier_spec(3)  # type: ignore[arg-type]
