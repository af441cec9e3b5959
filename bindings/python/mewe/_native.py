"""The C side: handle types, mirrored structs, callback types and the function table.

Everything here mirrors the public headers in ``include/mewe/``; check any change against
them. The table :data:`FUNCTIONS` lists every C function the bindings call. Each function
whose C return type is ``int`` returns a ``mewe_status`` and gets :func:`check_status` as
its ``errcheck``.
"""

from __future__ import annotations

import ctypes
import functools
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_int, c_size_t,
                    c_uint, c_uint64, c_ulonglong, c_void_p)
from typing import Any

from ._errors import LibraryNotFoundError, MeweError, Status
from ._loader import open_library

# Versions of the options structs: MEWE_*_OPTIONS_VERSION in the headers.
EMIT_OPTIONS_VERSION = 2  # emit.h
GENERATE_OPTIONS_VERSION = 4  # variants.h
LINK_OPTIONS_VERSION = 2  # multivariant.h

# The major version whose ABI these bindings mirror (libmewe.so.0).
ABI_MAJOR = 0


class ContextHandle(c_void_p):
    """A ``mewe_context *``."""


class ModuleHandle(c_void_p):
    """A ``mewe_module *``."""


class ProfileHandle(c_void_p):
    """A ``mewe_profile *``."""


class FunctionInfo(Structure):
    """``mewe_function_info`` (variants.h)."""

    _fields_ = [
        ("name", c_char_p),
        ("instructions", c_size_t),
        ("call_sites", c_size_t),
        ("address_taken", c_int),
    ]


#: ``mewe_log_fn``: void (*)(mewe_log_level, const char *, void *).
LogFn = CFUNCTYPE(None, c_int, c_char_p, c_void_p)

#: ``mewe_progress_fn``: void (*)(const char *stage, size_t done, size_t total, void *).
ProgressFn = CFUNCTYPE(None, c_char_p, c_size_t, c_size_t, c_void_p)

#: ``mewe_select_fn``: int (*)(const mewe_function_info *, unsigned int *, void *).
SelectFn = CFUNCTYPE(c_int, POINTER(FunctionInfo), POINTER(c_uint), c_void_p)

StringArray = POINTER(c_char_p)  # const char *const *


class EmitOptions(Structure):
    """``mewe_emit_options`` (emit.h), version :data:`EMIT_OPTIONS_VERSION`."""

    _fields_ = [
        ("version", c_uint),
        ("kind", c_int),  # mewe_emit_kind
        ("opt_level", c_int),
        ("exports", StringArray),
        ("export_count", c_size_t),
        ("link_args", StringArray),
        ("link_arg_count", c_size_t),
        ("threads", c_uint),  # version 2
    ]


class GenerateOptions(Structure):
    """``mewe_generate_options`` (variants.h), version :data:`GENERATE_OPTIONS_VERSION`."""

    _fields_ = [
        ("version", c_uint),
        ("variants", c_uint),
        ("diversifiers", StringArray),
        ("diversifier_count", c_size_t),
        ("allow", StringArray),
        ("allow_count", c_size_t),
        ("deny", StringArray),
        ("deny_count", c_size_t),
        ("min_instructions", c_uint),
        ("attempts", c_uint),
        ("time_budget", c_double),
        ("size_budget", c_double),
        ("select", SelectFn),
        ("select_data", c_void_p),
        ("wasm_rounds", c_uint),  # version 2
        ("outline_loops", c_uint),  # version 2
        ("threads", c_uint),  # version 3
        ("wasm_derived", c_uint),  # version 4
    ]


class LinkOptions(Structure):
    """``mewe_link_options`` (multivariant.h), version :data:`LINK_OPTIONS_VERSION`."""

    _fields_ = [
        ("version", c_uint),
        ("dispatch", c_int),  # mewe_dispatch_kind
        ("granularity", c_int),  # mewe_granularity
        ("rng", c_char_p),
        ("trace", c_int),
        ("max_overhead", c_double),
        ("period", c_uint),
        ("inline_limit", c_uint),
        ("profile", ProfileHandle),
    ]


_out_str = POINTER(c_char_p)  # const char **: a borrowed string written by the callee
_out_ptr = POINTER(c_void_p)  # void ** / char **: an owned buffer, freed with mewe_free
_out_size = POINTER(c_size_t)
_ctx = ContextHandle
_mod = ModuleHandle

#: Every C function used: (name, argtypes, restype).
FUNCTIONS: tuple[tuple[str, tuple[Any, ...], Any], ...] = (
    # common.h
    ("mewe_status_str", (c_int,), c_char_p),
    ("mewe_free", (c_void_p,), None),
    ("mewe_version", (), c_char_p),
    ("mewe_version_number", (), c_uint),
    ("mewe_llvm_version", (), c_char_p),
    # context.h
    ("mewe_context_new", (POINTER(ContextHandle),), c_int),
    ("mewe_context_free", (_ctx,), None),
    ("mewe_context_errmsg", (_ctx,), c_char_p),
    ("mewe_context_set_log_callback", (_ctx, LogFn, c_int, c_void_p), c_int),
    ("mewe_context_set_progress_callback", (_ctx, ProgressFn, c_void_p), c_int),
    ("mewe_context_set_seed", (_ctx, c_uint64), c_int),
    ("mewe_context_get_seed", (POINTER(c_uint64), _ctx), c_int),
    ("mewe_context_set_tool_path", (_ctx, c_int, c_char_p), c_int),
    ("mewe_context_get_tool_path", (_out_str, _ctx, c_int), c_int),
    ("mewe_context_set_untrusted_input", (_ctx, c_int), c_int),
    ("mewe_context_get_untrusted_input", (POINTER(c_int), _ctx), c_int),
    # sys/diversifier.h, sys/rng.h (listing only: registration needs LLVM-C)
    ("mewe_diversifier_count", (_ctx,), c_size_t),
    ("mewe_diversifier_at", (_out_str, _out_str, _ctx, c_size_t), c_int),
    ("mewe_rng_strategy_count", (_ctx,), c_size_t),
    ("mewe_rng_strategy_at", (_out_str, _out_str, _ctx, c_size_t), c_int),
    # options.h
    ("mewe_option_count", (), c_size_t),
    ("mewe_option_at", (_out_str, c_size_t), c_int),
    ("mewe_option_describe",
     (_out_str, POINTER(c_double), POINTER(c_double), POINTER(c_double), c_char_p), c_int),
    ("mewe_diversifier_spec_check", (_ctx, c_char_p), c_int),
    ("mewe_rng_strategy_spec_check", (_ctx, c_char_p), c_int),
    # module.h
    ("mewe_module_load", (POINTER(ModuleHandle), _ctx, c_char_p), c_int),
    ("mewe_module_load_memory",
     (POINTER(ModuleHandle), _ctx, c_void_p, c_size_t, c_char_p), c_int),
    ("mewe_module_link", (_mod, _mod), c_int),
    ("mewe_module_link_file", (_mod, c_char_p), c_int),
    ("mewe_module_link_files", (_mod, POINTER(c_char_p), c_size_t), c_int),
    ("mewe_module_verify", (_mod,), c_int),
    ("mewe_module_function_count", (_mod,), c_size_t),
    ("mewe_module_function_at", (_out_str, _mod, c_size_t), c_int),
    ("mewe_module_write", (_mod, c_char_p, c_int), c_int),
    ("mewe_module_write_memory", (_out_ptr, _out_size, _mod, c_int), c_int),
    ("mewe_module_context", (_mod,), ContextHandle),
    ("mewe_module_free", (_mod,), None),
    # emit.h
    ("mewe_emit_options_init", (POINTER(EmitOptions), c_uint), c_int),
    ("mewe_emit_wasm", (_mod, POINTER(EmitOptions), c_char_p), c_int),
    ("mewe_module_check_target", (_mod,), c_int),
    ("mewe_module_exclude_unlinked", (_mod, POINTER(EmitOptions), POINTER(c_size_t)), c_int),
    ("mewe_emit_wasm_memory", (_out_ptr, _out_size, _mod, POINTER(EmitOptions)), c_int),
    # variants.h
    ("mewe_generate_options_init", (POINTER(GenerateOptions), c_uint), c_int),
    ("mewe_generate_variants", (_mod, POINTER(GenerateOptions)), c_int),
    # multivariant.h
    ("mewe_link_options_init", (POINTER(LinkOptions), c_uint), c_int),
    ("mewe_link_multivariant", (_mod, POINTER(LinkOptions)), c_int),
    ("mewe_module_add_variants", (_out_size, _mod, _mod), c_int),
    # profile.h
    ("mewe_module_instrument_profile", (_mod,), c_int),
    ("mewe_profile_load", (POINTER(ProfileHandle), _ctx, c_char_p), c_int),
    ("mewe_profile_function_count", (ProfileHandle,), c_size_t),
    ("mewe_profile_calls", (POINTER(c_ulonglong), ProfileHandle, c_char_p), c_int),
    ("mewe_profile_free", (ProfileHandle,), None),
    # report.h
    ("mewe_report_json", (_out_ptr, _out_size, _mod), c_int),
    ("mewe_report_write", (_mod, c_char_p), c_int),
    ("mewe_report_json_wasm", (_out_ptr, _out_size, _mod, c_char_p, c_size_t), c_int),
    ("mewe_report_write_wasm", (_mod, c_char_p, c_size_t, c_char_p), c_int),
)


def decode(raw: bytes | None) -> str:
    """Text from a C string (libmewe speaks UTF-8; a bad byte must not hide an error)."""
    return raw.decode("utf-8", "replace") if raw is not None else ""


def _message_for(lib: ctypes.CDLL, status: int, args: tuple[Any, ...]) -> str:
    """The error message of the context that the failed call's arguments belong to."""
    for arg in args:
        if isinstance(arg, ContextHandle):
            return decode(lib.mewe_context_errmsg(arg))
    for arg in args:
        if isinstance(arg, ModuleHandle):
            ctx = lib.mewe_module_context(arg)
            if ctx:
                return decode(lib.mewe_context_errmsg(ctx))
    return decode(lib.mewe_status_str(status))


def _make_errcheck(lib: ctypes.CDLL):
    """``errcheck`` for status-returning functions: raises :class:`MeweError` on failure."""

    def check_status(result: int, func: Any, args: tuple[Any, ...]) -> int:
        if result < Status.OK:
            raise MeweError(result, _message_for(lib, result, args))
        return result

    return check_status


def _bind(lib: ctypes.CDLL) -> ctypes.CDLL:
    """Declares every function of :data:`FUNCTIONS` on ``lib``."""
    check_status = _make_errcheck(lib)
    for name, argtypes, restype in FUNCTIONS:
        try:
            func = getattr(lib, name)
        except AttributeError:
            if name in REQUIRED:
                raise LibraryNotFoundError(f"{lib._name} lacks {name}: not libmewe?") from None
            setattr(lib, name, _missing(lib, name))
            continue
        func.argtypes = argtypes
        func.restype = restype
        if restype is c_int:
            func.errcheck = check_status
    return lib


# Functions without which nothing works; others, if an older library lacks them, fail
# only when called.
REQUIRED = frozenset({"mewe_status_str", "mewe_free", "mewe_version", "mewe_version_number",
                      "mewe_context_new", "mewe_context_free", "mewe_context_errmsg",
                      "mewe_module_context", "mewe_module_free"})


def _missing(lib: ctypes.CDLL, name: str) -> Any:
    """A stand-in for a function that this (older) library does not export."""

    def missing(*_args: Any) -> Any:
        raise LibraryNotFoundError(
            f"{lib._name} (libmewe {decode(lib.mewe_version())}) lacks {name}")

    missing.__name__ = name
    return missing


def _check_abi(lib: ctypes.CDLL) -> None:
    number = lib.mewe_version_number()
    if number // 10000 != ABI_MAJOR:
        raise LibraryNotFoundError(
            f"{lib._name} is libmewe {decode(lib.mewe_version())}; these bindings need "
            f"{ABI_MAJOR}.x")


@functools.cache
def api() -> ctypes.CDLL:
    """The opened and declared library (opened on first use)."""
    lib = _bind(open_library())
    _check_abi(lib)
    return lib


class OwnedBuffer:
    """An owned buffer that a C function writes through ``void **`` and ``size_t *``.

    Use as a context manager: the bytes are copied out with :meth:`take` and the C memory
    is released with ``mewe_free`` on exit, whatever happened.
    """

    def __init__(self) -> None:
        self.pointer = c_void_p()
        self.size = c_size_t()

    def __enter__(self) -> OwnedBuffer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pointer.value:
            api().mewe_free(self.pointer)
            self.pointer = c_void_p()

    def take(self) -> bytes:
        """A copy of the buffer's bytes."""
        if not self.pointer.value:
            return b""
        return ctypes.string_at(self.pointer, self.size.value)


def string_array(items: list[bytes]) -> tuple[Any, int]:
    """A ``const char *const *`` over ``items`` (NULL when empty) and its length.

    The caller keeps the returned pointer referenced for as long as C may read it.
    """
    if not items:
        return None, 0
    array = (c_char_p * len(items))(*items)
    return ctypes.cast(array, StringArray), len(items)
