"""The C mirror: versions, status codes, the function table and the struct layouts agree
with libmewe's headers and library."""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import mewe
from mewe import _native
from conftest import include_dir


def header_text() -> str:
    headers = sorted(include_dir().glob("mewe/*.h")) + sorted(include_dir().glob("mewe/sys/*.h"))
    assert headers, f"no headers under {include_dir()}"
    return "\n".join(h.read_text() for h in headers)


def prototypes() -> dict[str, tuple[str, int]]:
    """name → (return type, argument count) of every MEWE_API function in the headers."""
    found = {}
    for match in re.finditer(r"MEWE_API\s+([^;(]*?)\s*\b(mewe_\w+)\s*\(([^;]*?)\)\s*;",
                             header_text(), re.S):
        ret, name, params = match.groups()
        params = params.strip()
        count = 0 if params in ("", "void") else params.count(",") + 1
        found[name] = (" ".join(ret.split()), count)
    return found


C_RETURN = {"int": ctypes.c_int, "void": None, "size_t": ctypes.c_size_t,
            "const char *": ctypes.c_char_p, "unsigned int": ctypes.c_uint,
            "mewe_context *": _native.ContextHandle}


def test_versions() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", mewe.version())
    major, minor, patch = map(int, mewe.version().split("."))
    assert mewe.version_number() == major * 10000 + minor * 100 + patch
    assert int(mewe.llvm_version().split(".")[0]) >= 19
    assert "mewe" in mewe.library_path()


def test_status_text() -> None:
    assert mewe.status_str(mewe.Status.OK)
    assert mewe.status_str(mewe.Status.EIO) != mewe.status_str(mewe.Status.EPARSE)
    assert mewe.status_str(12345) == "unknown status"


def test_error_formatting() -> None:
    err = mewe.MeweError(-3, "cannot open 'x'")
    assert err.code is mewe.Status.EIO and err.message == "cannot open 'x'"
    assert str(err) == "cannot open 'x' [MEWE_EIO]"
    assert mewe.MeweError(-99, "").code == -99
    closed = mewe.ClosedError("gone")
    assert isinstance(closed, mewe.MeweError) and isinstance(closed, ValueError)
    assert closed.code is mewe.Status.ESTATE


def test_status_enum_matches_header() -> None:
    codes = dict(re.findall(r"\bMEWE_(OK|E[A-Z]+)\s*=\s*(-?\d+)", header_text()))
    assert {name: int(value) for name, value in codes.items()} == {
        s.name: s.value for s in mewe.Status}


@pytest.mark.parametrize("macro, value", [
    ("MEWE_EMIT_OPTIONS_VERSION", _native.EMIT_OPTIONS_VERSION),
    ("MEWE_GENERATE_OPTIONS_VERSION", _native.GENERATE_OPTIONS_VERSION),
    ("MEWE_LINK_OPTIONS_VERSION", _native.LINK_OPTIONS_VERSION),
])
def test_options_versions_match_header(macro: str, value: int) -> None:
    match = re.search(rf"#define\s+{macro}\s+(\d+)", header_text())
    assert match and int(match.group(1)) == value


def test_function_table_matches_headers() -> None:
    protos = prototypes()
    assert len(protos) > 30
    names = [name for name, _, _ in _native.FUNCTIONS]
    assert len(names) == len(set(names)), "a function is listed twice"
    for name, argtypes, restype in _native.FUNCTIONS:
        assert name in protos, f"{name} is not declared in the headers"
        ret, count = protos[name]
        assert len(argtypes) == count, f"{name}: {len(argtypes)} argtypes, header has {count}"
        assert C_RETURN[ret] is restype, f"{name}: restype {restype}, header returns {ret}"


def test_every_status_function_has_errcheck() -> None:
    lib = _native.api()
    for name, _, restype in _native.FUNCTIONS:
        func = getattr(lib, name)
        if restype is ctypes.c_int:
            assert func.errcheck is not None, name


LAYOUT_PROGRAM = r"""
#include <stddef.h>
#include <stdio.h>
#include <mewe/mewe.h>
#define FIELD(T, f) printf(#T " " #f " %zu %zu\n", offsetof(T, f), sizeof(((T *)0)->f));
#define SIZE(T) printf(#T " sizeof %zu 0\n", sizeof(T));
int main(void)
{
    SIZE(mewe_emit_options)
    FIELD(mewe_emit_options, version) FIELD(mewe_emit_options, kind)
    FIELD(mewe_emit_options, opt_level) FIELD(mewe_emit_options, exports)
    FIELD(mewe_emit_options, export_count) FIELD(mewe_emit_options, link_args)
    FIELD(mewe_emit_options, link_arg_count) FIELD(mewe_emit_options, threads)
    SIZE(mewe_generate_options)
    FIELD(mewe_generate_options, version) FIELD(mewe_generate_options, variants)
    FIELD(mewe_generate_options, diversifiers) FIELD(mewe_generate_options, diversifier_count)
    FIELD(mewe_generate_options, allow) FIELD(mewe_generate_options, allow_count)
    FIELD(mewe_generate_options, deny) FIELD(mewe_generate_options, deny_count)
    FIELD(mewe_generate_options, min_instructions) FIELD(mewe_generate_options, attempts)
    FIELD(mewe_generate_options, time_budget) FIELD(mewe_generate_options, size_budget)
    FIELD(mewe_generate_options, select) FIELD(mewe_generate_options, select_data)
    FIELD(mewe_generate_options, wasm_rounds) FIELD(mewe_generate_options, outline_loops)
    FIELD(mewe_generate_options, threads) FIELD(mewe_generate_options, wasm_derived)
    SIZE(mewe_link_options)
    FIELD(mewe_link_options, version) FIELD(mewe_link_options, dispatch)
    FIELD(mewe_link_options, granularity) FIELD(mewe_link_options, rng)
    FIELD(mewe_link_options, trace) FIELD(mewe_link_options, max_overhead)
    FIELD(mewe_link_options, period) FIELD(mewe_link_options, inline_limit)
    FIELD(mewe_link_options, profile)
    SIZE(mewe_function_info)
    FIELD(mewe_function_info, name) FIELD(mewe_function_info, instructions)
    FIELD(mewe_function_info, call_sites) FIELD(mewe_function_info, address_taken)
    return 0;
}
"""

STRUCTS = {"mewe_emit_options": _native.EmitOptions,
           "mewe_generate_options": _native.GenerateOptions,
           "mewe_link_options": _native.LinkOptions,
           "mewe_function_info": _native.FunctionInfo}


def native_compiler(clang: str) -> str:
    """A compiler for this machine: $CC, cc, or clang-19 (which may target wasm only, when it
    is a wasi-sdk's, hence last)."""
    return os.environ.get("CC") or shutil.which("cc") or clang


def test_struct_layouts_match_c(clang: str, tmp_path: Path) -> None:
    """Compiles the headers natively and compares every offset and size with ctypes."""
    (tmp_path / "mewe").mkdir()
    (tmp_path / "mewe" / "version.h").write_text(  # generated by meson in a build tree
        "#define MEWE_VERSION_MAJOR 0\n#define MEWE_VERSION_MINOR 1\n"
        "#define MEWE_VERSION_PATCH 0\n#define MEWE_VERSION_STRING \"0.1.0\"\n")
    (tmp_path / "layout.c").write_text(LAYOUT_PROGRAM)
    exe = tmp_path / "layout"
    subprocess.run([native_compiler(clang), "-std=c11", f"-I{tmp_path}", f"-I{include_dir()}",
                    str(tmp_path / "layout.c"), "-o", str(exe)], check=True)
    lines = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    seen = 0
    for line in lines.splitlines():
        struct, field, offset, size = line.split()
        cls = STRUCTS[struct]
        if field == "sizeof":
            assert ctypes.sizeof(cls) == int(offset), struct
        else:
            descriptor = getattr(cls, field)
            assert (descriptor.offset, descriptor.size) == (int(offset), int(size)), \
                f"{struct}.{field}"
            seen += 1
    assert seen == sum(len(cls._fields_) for cls in STRUCTS.values())
