"""Modules: loading (and its errors), listing, writing, linking, verifying, the report."""

from __future__ import annotations

from pathlib import Path

import pytest

import mewe
from conftest import DATA

SAMPLE_FUNCTIONS = ["mix", "scale", "tiny", "main"]


def test_load_text_ir_from_path(ctx: mewe.Context) -> None:
    module = ctx.load(DATA / "sample.ll")
    assert module.functions == SAMPLE_FUNCTIONS
    assert module.context is ctx
    module.verify()
    assert not module.closed


def test_load_from_str_path(ctx: mewe.Context) -> None:
    assert ctx.load(str(DATA / "sample.ll")).functions == SAMPLE_FUNCTIONS


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview])
def test_load_from_memory(ctx: mewe.Context, wrap: type) -> None:
    module = ctx.load(wrap((DATA / "sample.ll").read_bytes()), name="sample-in-memory")
    assert module.functions == SAMPLE_FUNCTIONS
    assert module.report()["module"] == "sample-in-memory"


def test_load_bitcode_from_path_and_bytes(ctx: mewe.Context, sample: mewe.Module,
                                          tmp_path: Path) -> None:
    bitcode = sample.write()
    assert isinstance(bitcode, bytes) and bitcode[:4] == b"BC\xc0\xde"
    assert ctx.load(bitcode).functions == SAMPLE_FUNCTIONS
    (tmp_path / "sample.bc").write_bytes(bitcode)
    assert ctx.load(tmp_path / "sample.bc").functions == SAMPLE_FUNCTIONS


def test_load_clang_bitcode(ctx: mewe.Context, fixture_bitcode: dict[str, Path]) -> None:
    module = ctx.load(fixture_bitcode["recursion"])
    assert {"main", "fib", "ackermann"} <= set(module.functions)


def test_load_missing_file_is_eio(ctx: mewe.Context, tmp_path: Path) -> None:
    with pytest.raises(mewe.MeweError) as info:
        ctx.load(tmp_path / "nope.bc")
    assert info.value.code is mewe.Status.EIO
    assert "nope.bc" in info.value.message


def test_load_empty_is_eparse(ctx: mewe.Context, tmp_path: Path) -> None:
    (tmp_path / "empty.bc").write_bytes(b"")
    with pytest.raises(mewe.MeweError) as info:
        ctx.load(tmp_path / "empty.bc")
    assert info.value.code is mewe.Status.EPARSE
    with pytest.raises(mewe.MeweError) as info:
        ctx.load(b"")
    assert info.value.code is mewe.Status.EPARSE


def test_load_syntax_error_is_eparse(ctx: mewe.Context, tmp_path: Path) -> None:
    broken = "define i32 @f( {\n  ret i32 0\n}\n"
    (tmp_path / "broken.ll").write_text(broken)
    with pytest.raises(mewe.MeweError) as info:
        ctx.load(tmp_path / "broken.ll")
    assert info.value.code is mewe.Status.EPARSE
    assert "broken.ll" in info.value.message
    with pytest.raises(mewe.MeweError) as info:
        ctx.load(broken.encode(), name="broken-in-memory")
    assert info.value.code is mewe.Status.EPARSE
    assert "broken-in-memory" in info.value.message


def test_load_truncated_bitcode_is_eparse(ctx: mewe.Context, sample: mewe.Module) -> None:
    bitcode = sample.write()
    with pytest.raises(mewe.MeweError) as info:
        ctx.load(bitcode[: len(bitcode) // 2])
    assert info.value.code is mewe.Status.EPARSE


def test_load_bad_arguments(ctx: mewe.Context) -> None:
    with pytest.raises(TypeError):
        ctx.load(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="name"):
        ctx.load(DATA / "sample.ll", name="x")


def test_write_text(sample: mewe.Module, tmp_path: Path) -> None:
    text = sample.write(format="ll")
    assert isinstance(text, str) and "define i32 @mix" in text
    assert sample.write(tmp_path / "out.ll", format=mewe.Format.TEXT) is None
    assert (tmp_path / "out.ll").read_text() == text
    with pytest.raises(ValueError, match="format"):
        sample.write(format="asm")


def test_write_bitcode_file_round_trips(ctx: mewe.Context, sample: mewe.Module,
                                        tmp_path: Path) -> None:
    sample.write(tmp_path / "out.bc")
    assert (tmp_path / "out.bc").read_bytes() == sample.write(format="bc")
    assert ctx.load(tmp_path / "out.bc").functions == SAMPLE_FUNCTIONS


def test_write_to_missing_directory_is_eio(sample: mewe.Module, tmp_path: Path) -> None:
    with pytest.raises(mewe.MeweError) as info:
        sample.write(tmp_path / "no" / "such" / "dir.bc")
    assert info.value.code is mewe.Status.EIO


def test_link_module_consumes_it(ctx: mewe.Context) -> None:
    main = ctx.load(DATA / "main.ll")
    helpers = ctx.load(DATA / "helpers.ll")
    main.link(helpers)
    assert helpers.closed
    assert sorted(main.functions) == sorted(SAMPLE_FUNCTIONS)
    main.verify()
    with pytest.raises(mewe.ClosedError):
        helpers.functions
    helpers.close()  # already consumed: nothing to free


def test_link_path_and_bytes(ctx: mewe.Context) -> None:
    main = ctx.load(DATA / "main.ll")
    main.link(DATA / "helpers.ll")
    assert sorted(main.functions) == sorted(SAMPLE_FUNCTIONS)
    other = ctx.load(DATA / "main.ll")
    other.link((DATA / "helpers.ll").read_bytes())
    assert sorted(other.functions) == sorted(SAMPLE_FUNCTIONS)


def test_link_files_in_one_step(ctx: mewe.Context) -> None:
    main = ctx.load(DATA / "main.ll")
    main.link_files([DATA / "helpers.ll"])
    assert sorted(main.functions) == sorted(SAMPLE_FUNCTIONS)
    main.link_files([])
    dst = ctx.load(DATA / "sample.ll")
    before = dst.write()
    with pytest.raises(mewe.MeweError) as info:
        dst.link_files([DATA / "helpers.ll"])  # defines mix, scale, tiny again
    assert info.value.code is mewe.Status.ELINK and "helpers.ll" in str(info.value)
    with pytest.raises(mewe.MeweError) as info:
        dst.link_files([DATA / "missing.ll"])
    assert info.value.code is mewe.Status.EIO
    assert dst.write() == before


def test_link_failure_leaves_destination_unchanged(ctx: mewe.Context) -> None:
    dst = ctx.load(DATA / "sample.ll")
    before = dst.write()
    twin = ctx.load(DATA / "helpers.ll")  # defines mix, scale, tiny again
    with pytest.raises(mewe.MeweError) as info:
        dst.link(twin)
    assert info.value.code is mewe.Status.ELINK
    assert twin.closed  # consumed on failure too
    assert dst.write() == before
    with pytest.raises(mewe.MeweError) as info:
        dst.link(DATA / "missing.ll")
    assert info.value.code is mewe.Status.EIO


def test_link_into_itself_is_refused(sample: mewe.Module) -> None:
    with pytest.raises(mewe.MeweError) as info:
        sample.link(sample)
    assert info.value.code is mewe.Status.EINVAL
    assert not sample.closed
    assert sample.functions == SAMPLE_FUNCTIONS


def test_link_across_contexts_is_refused(sample: mewe.Module) -> None:
    with mewe.Context() as other_ctx:
        stranger = other_ctx.load(DATA / "helpers.ll")
        with pytest.raises(mewe.MeweError) as info:
            sample.link(stranger)
        assert info.value.code is mewe.Status.EINVAL
        assert stranger.closed
    assert sample.functions == SAMPLE_FUNCTIONS


def test_report_before_generation(sample: mewe.Module) -> None:
    report = sample.report()
    assert isinstance(report, dict)
    assert report["seed"] == 1
    assert [f["name"] for f in report["functions"]] == SAMPLE_FUNCTIONS
    totals = report["totals"]
    for key in ("functions", "eligible", "diversified", "dispatchers", "variants",
                "coverage", "log10_static_paths", "instructions_before",
                "instructions_after", "bitcode_bytes_before", "bitcode_bytes_after"):
        assert key in totals, key
    assert totals["functions"] == 4 and totals["variants"] == 0


def test_write_report(sample: mewe.Module, tmp_path: Path) -> None:
    import json

    sample.write_report(tmp_path / "report.json")
    assert json.loads((tmp_path / "report.json").read_text()) == sample.report()


def test_module_cannot_be_constructed_directly() -> None:
    with pytest.raises(TypeError):
        mewe.Module()


# LLVM names may hold any byte: quotes, backslashes, control characters, UTF-8 and bytes that
# are not UTF-8 (quoted names in textual IR, \XX escapes).
ODD_NAMES = {
    r'q\22uote': 'q"uote',
    r'back\5Cslash': 'back\\slash',
    r'new\0Aline\09tab\01ctl\7Fdel': 'new\nline\ttab\x01ctl\x7fdel',
    r'utf8-\C3\A9\E2\82\AC': 'utf8-\u00e9\u20ac',
    # Not UTF-8 (a lone continuation byte, an overlong '/', a surrogate): each byte becomes
    # the code point of the same value.
    r'bad-\FF\80\C0\AF\ED\A0\80': 'bad-\u00ff\u0080\u00c0\u00af\u00ed\u00a0\u0080',
}


def _odd_module_ir(names: list[str], linkage: str = "") -> bytes:
    body = ("(i32 %a) {\n  %b = add i32 %a, 7\n  %c = xor i32 %b, %a\n  %d = mul i32 %c, 3\n"
            "  %e = sub i32 %d, %b\n  ret i32 %e\n}\n")
    ir = 'target triple = "wasm32-unknown-wasi"\n'
    calls = ""
    for i, raw in enumerate(names):
        ir += f'define {linkage} i32 @"{raw}"{body}'
        calls += f'  %r{i} = call i32 @"{raw}"(i32 %x{i})\n  %x{i + 1} = add i32 %r{i}, 1\n'
    ir += (f"define i32 @entry(i32 %x0) {{\n{calls}"
           f"  ret i32 %x{len(names)}\n}}\n")
    return ir.encode()


def _multivariant_odd(ctx: mewe.Context, names: list[str], name: str,
                      linkage: str = "") -> mewe.Module:
    module = ctx.load(_odd_module_ir(names, linkage), name=name)
    module.generate(variants=2, min_instructions=1)
    module.link_multivariant(inline_limit=1)
    return module


def test_report_is_json_whatever_the_names(ctx: mewe.Context) -> None:
    name = 'odd "module"\\\n\x01\xe9'
    expected = [*ODD_NAMES.values(), "entry"]
    module = ctx.load(_odd_module_ir(list(ODD_NAMES)), name=name)
    report = module.report()  # json.loads: raises on anything that is not JSON
    assert report["module"] == name
    assert [f["name"] for f in report["functions"]] == expected
    module = _multivariant_odd(ctx, list(ODD_NAMES), name)
    report = module.report()
    assert [f["name"] for f in report["functions"]] == expected
    assert report["totals"]["dispatchers"] == len(expected)
    # A wasm name must be UTF-8, and an external function keeps its name (other code links
    # against it): emitting refuses, naming the function with \xNN for the odd bytes.
    with pytest.raises(mewe.MeweError) as info:
        module.emit(kind="reactor", exports=["entry"])
    assert info.value.code == mewe.Status.ETARGET
    assert "'bad-\\xFF\\x80\\xC0\\xAF\\xED\\xA0\\x80'" in info.value.message
    assert "not valid UTF-8" in info.value.message
    # Internal ones are renamed in the wasm, each odd byte as the character of its value:
    # the variants are found there under the names the report gives.
    module = _multivariant_odd(ctx, list(ODD_NAMES), "internal", linkage="internal")
    module.emit(kind="reactor", exports=["entry"])
    families = {d["name"] for d in module.report()["wasm"]["dispatchers"]}
    assert families == set(ODD_NAMES.values()) | {"entry"}
