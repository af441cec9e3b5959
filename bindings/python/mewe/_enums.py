"""The C enums of the public headers, and parsing of their Python spellings."""

from __future__ import annotations

import enum
from typing import TypeVar


class LogLevel(enum.IntEnum):
    """``mewe_log_level`` (context.h)."""

    ERROR = 0
    WARN = 1
    INFO = 2
    DEBUG = 3


class Tool(enum.IntEnum):
    """``mewe_tool`` (context.h): external tools and files used by emit, and the helper
    that loads untrusted input (:attr:`Context.untrusted_input`)."""

    WASM_LD = 0
    WASI_SYSROOT = 1
    BUILTINS = 2
    WASI_SDK = 3
    LOAD_CHECK = 4


class EmitKind(enum.IntEnum):
    """``mewe_emit_kind`` (emit.h)."""

    COMMAND = 0
    REACTOR = 1
    OBJECT = 2


class Format(enum.IntEnum):
    """``mewe_format`` (module.h)."""

    BITCODE = 0
    TEXT = 1


class Dispatch(enum.IntEnum):
    """``mewe_dispatch_kind`` (multivariant.h)."""

    SWITCH = 0
    TABLE = 1


class Granularity(enum.IntEnum):
    """``mewe_granularity`` (multivariant.h)."""

    CALL = 0
    INSTANCE = 1
    EVERY = 2
    INVOCATION = 3


E = TypeVar("E", bound=enum.IntEnum)

# Short spellings accepted besides the members' own names.
_ALIASES: dict[type[enum.IntEnum], dict[str, str]] = {
    Format: {"bc": "BITCODE", "ll": "TEXT"},
    LogLevel: {"warning": "WARN"},
    Tool: {"wasm-ld": "WASM_LD", "sysroot": "WASI_SYSROOT", "wasi-sysroot": "WASI_SYSROOT",
           "wasi-sdk": "WASI_SDK", "mewe-load-check": "LOAD_CHECK"},
}


def parse(cls: type[E], value: E | str | int, what: str) -> E:
    """``value`` as a member of ``cls``: a member, its value, or its name in any case.

    Raises:
        ValueError: when ``value`` names no member; the message lists the accepted names.
    """
    if isinstance(value, str):
        key = value.strip()
        key = _ALIASES.get(cls, {}).get(key.lower(), key).upper().replace("-", "_")
        if key in cls.__members__:
            return cls[key]
    elif isinstance(value, int) and not isinstance(value, bool):
        try:
            return cls(value)
        except ValueError:
            pass
    names = sorted({n.lower() for n in cls.__members__} | set(_ALIASES.get(cls, {})))
    raise ValueError(f"{what}: {value!r} is not one of {', '.join(names)}")
