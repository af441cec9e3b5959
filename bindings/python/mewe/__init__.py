"""Python bindings of libmewe: LLVM bitcode to multivariant WebAssembly.

A minimal pipeline::

    import mewe

    with mewe.Context(seed=42) as ctx:
        module = ctx.load("program.bc")
        module.generate(variants=3)
        module.link_multivariant(dispatch="switch", rng="wasi")  # the defaults: mewe.options()
        module.emit("program.wasm")
        print(module.report()["totals"])

The bindings use ctypes only; the shared library is found as described in
:mod:`mewe._loader` (``MEWE_LIBRARY`` first).
"""

from __future__ import annotations

from ._enums import Dispatch, EmitKind, Format, Granularity, LogLevel, Tool
from ._errors import ClosedError, LibraryNotFoundError, MeweError, Status
from ._native import api as _api
from ._native import decode as _decode
from .context import Context, Plugin, Profile
from .module import FunctionInfo, Module
from .options import Option, option, option_names, options

__version__ = "0.3.0"

__all__ = [
    "ClosedError",
    "Context",
    "Dispatch",
    "EmitKind",
    "Format",
    "FunctionInfo",
    "Granularity",
    "LibraryNotFoundError",
    "LogLevel",
    "MeweError",
    "Module",
    "Option",
    "Plugin",
    "Profile",
    "Status",
    "Tool",
    "library_path",
    "llvm_version",
    "option",
    "option_names",
    "options",
    "status_str",
    "version",
    "version_number",
]


def version() -> str:
    """The run-time version of libmewe, ``"MAJOR.MINOR.PATCH"``."""
    return _decode(_api().mewe_version())


def version_number() -> int:
    """The run-time version as ``MAJOR * 10000 + MINOR * 100 + PATCH``."""
    return int(_api().mewe_version_number())


def llvm_version() -> str:
    """The version of the LLVM that libmewe was built with, e.g. ``"19.1.7"``."""
    return _decode(_api().mewe_llvm_version())


def status_str(code: int) -> str:
    """libmewe's static text for a status code."""
    return _decode(_api().mewe_status_str(int(code)))


def library_path() -> str:
    """The path or name under which the shared library was opened."""
    return str(_api()._name)
