"""The context: owns modules, the error message, logging, the build seed and tool paths."""

from __future__ import annotations

import os
import weakref
from ctypes import byref, c_char_p, c_int, c_uint64, c_ulonglong
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ._enums import LogLevel, Tool, parse
from ._errors import MeweError, Status
from ._native import (ContextHandle, LogFn, ModuleHandle, ProfileHandle, ProgressFn, api,
                      decode)
from ._state import ContextState

if TYPE_CHECKING:
    from .module import Module

#: A log callback: ``log(level, message)``.
LogCallback = Callable[[LogLevel, str], Any]

#: A progress callback: ``progress(stage, done, total)``.
ProgressCallback = Callable[[str, int, int], Any]

#: What :meth:`Context.load` accepts.
Source = str | os.PathLike[str] | bytes | bytearray | memoryview

_UINT64_MAX = 2**64 - 1


@dataclass(frozen=True)
class Plugin:
    """A registered diversifier or RNG strategy."""

    name: str
    description: str


def fspath_bytes(path: str | os.PathLike[str]) -> bytes:
    """A path as the bytes C expects (the file system's encoding)."""
    return os.fsencode(path)


class Context:
    """A libmewe context: owns every module loaded into it.

    Use one context per thread. Close it with :meth:`close` or a ``with`` block; closing
    frees its modules, which then raise :class:`ClosedError` when used.

    Args:
        seed: the build seed (default 0): same inputs, options and seed give
            byte-identical output.
        log: a log callback, see :meth:`set_log_callback`.
        log_level: the most verbose level passed to ``log``.
        progress: a progress callback, see :meth:`set_progress_callback`.
        untrusted_input: load inputs through the helper first, see
            :attr:`untrusted_input` (default off).
    """

    def __init__(self, seed: int | None = None, log: LogCallback | None = None,
                 log_level: LogLevel | str | int = LogLevel.INFO,
                 progress: ProgressCallback | None = None,
                 untrusted_input: bool | None = None) -> None:
        handle = ContextHandle()
        api().mewe_context_new(byref(handle))
        self._state = ContextState(handle)
        self._finalizer = weakref.finalize(self, self._state.free)
        self._log_fn: Any = None  # the CFUNCTYPE object, alive while C may call it
        self._progress_fn: Any = None
        if seed is not None:
            self.seed = seed
        if log is not None:
            self.set_log_callback(log, log_level)
        if progress is not None:
            self.set_progress_callback(progress)
        if untrusted_input is not None:
            self.untrusted_input = untrusted_input

    # -- lifetime -------------------------------------------------------------------

    def close(self) -> None:
        """Frees the context and every module still open in it. Idempotent."""
        self._finalizer()
        self._log_fn = None
        self._progress_fn = None

    @property
    def closed(self) -> bool:
        """True once the context is closed."""
        return self._state.handle is None

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<mewe.Context {'closed' if self.closed else hex(self._state.handle.value)}>"

    @property
    def _handle(self) -> ContextHandle:
        return self._state.live()

    def _call(self, name: str, *args: Any) -> Any:
        return self._state.call(getattr(api(), name), *args)

    # -- settings -------------------------------------------------------------------

    @property
    def seed(self) -> int:
        """The build seed, an unsigned 64-bit integer."""
        out = c_uint64()
        self._call("mewe_context_get_seed", byref(out), self._handle)
        return out.value

    @seed.setter
    def seed(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"seed must be an int, not {type(value).__name__}")
        if not 0 <= value <= _UINT64_MAX:
            raise ValueError(f"seed {value} is outside 0..2**64-1")
        self._call("mewe_context_set_seed", self._handle, value)

    @property
    def untrusted_input(self) -> bool:
        """Whether the modules this context loads may be corrupt or hostile (libmewe 0.2).

        LLVM's bitcode reader and IR parser are not hardened against such input: they can
        crash, abort or run for minutes inside this process. When True, :meth:`load` and
        :meth:`Module.link` first load each input (bitcode or textual IR) in a child
        process, the helper ``mewe-load-check`` (:attr:`Tool.LOAD_CHECK`), under memory
        and CPU limits: a crash, an abort or a limit there raises :class:`MeweError`
        ``EPARSE`` naming the input, and a helper that cannot run raises ``ETOOL``. Each
        load then costs a process start and a second parse. Off by default (the ``mewe``
        command turns it on).
        """
        out = c_int()
        self._call("mewe_context_get_untrusted_input", byref(out), self._handle)
        return bool(out.value)

    @untrusted_input.setter
    def untrusted_input(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"untrusted_input must be a bool, not {type(value).__name__}")
        self._call("mewe_context_set_untrusted_input", self._handle, int(value))

    def set_tool_path(self, tool: Tool | str | int, path: str | os.PathLike[str]) -> None:
        """Sets the path of an external tool used by :meth:`Module.emit`, or of the helper
        that loads untrusted input.

        Args:
            tool: ``"wasm_ld"``, ``"wasi_sysroot"``, ``"builtins"`` or ``"wasi_sdk"`` (a
                wasi-sdk directory, which sets the other three), ``"load_check"`` (the
                helper ``mewe-load-check``; ``""`` finds the one installed with libmewe),
                or a :class:`Tool`.
            path: the file or directory; ``""`` for builtins links without them.
        """
        which = parse(Tool, tool, "tool")
        self._call("mewe_context_set_tool_path", self._handle, which, fspath_bytes(path))

    def tool_path(self, tool: Tool | str | int) -> str:
        """The path of an external tool (``""`` for a wasi-sdk that was never set)."""
        out = c_char_p()
        self._call("mewe_context_get_tool_path", byref(out), self._handle,
                   parse(Tool, tool, "tool"))
        return os.fsdecode(out.value or b"")

    def set_log_callback(self, log: LogCallback | None,
                         level: LogLevel | str | int = LogLevel.INFO) -> None:
        """Sets (or, with ``None``, removes) the log callback.

        ``log(level, message)`` receives a :class:`LogLevel` and the message text. An
        exception it raises is re-raised once the libmewe call that logged returns (the
        call's own effect stands, since C cannot be told to stop). The callback should not
        hold a reference to this context.
        """
        max_level = parse(LogLevel, level, "log level")
        if log is None:
            null = LogFn()  # ctypes refuses None for a CFUNCTYPE argument
            self._call("mewe_context_set_log_callback", self._handle, null, max_level, None)
            self._log_fn = None
            return
        if not callable(log):
            raise TypeError("log must be callable")
        trampoline = LogFn(_log_trampoline(log, self._state))
        self._call("mewe_context_set_log_callback", self._handle, trampoline, max_level, None)
        self._log_fn = trampoline

    def set_progress_callback(self, progress: ProgressCallback | None) -> None:
        """Sets (or, with ``None``, removes) the progress callback (libmewe 0.3).

        ``progress(stage, done, total)`` is called as long stages advance: ``"generating
        variants"`` after each function of the module, ``"making dispatchers"`` after each
        dispatcher, ``"compiling to wasm"`` and ``"linking wasm"`` before (0 of 1) and after
        (1 of 1). The same progress reaches the log callback at :attr:`LogLevel.INFO` at each
        tenth of a stage. An exception it raises is re-raised once the libmewe call returns.
        """
        if progress is None:
            self._call("mewe_context_set_progress_callback", self._handle, ProgressFn(), None)
            self._progress_fn = None
            return
        if not callable(progress):
            raise TypeError("progress must be callable")
        trampoline = ProgressFn(_progress_trampoline(progress, self._state))
        self._call("mewe_context_set_progress_callback", self._handle, trampoline, None)
        self._progress_fn = trampoline

    # -- plugins --------------------------------------------------------------------

    @property
    def diversifiers(self) -> list[Plugin]:
        """Registered diversifiers (the built-ins included), in registration order."""
        return self._plugins("mewe_diversifier_count", "mewe_diversifier_at")

    @property
    def rng_strategies(self) -> list[Plugin]:
        """Registered RNG strategies (the built-ins included), in registration order."""
        return self._plugins("mewe_rng_strategy_count", "mewe_rng_strategy_at")

    def check_diversifier_spec(self, spec: str) -> None:
        """Checks a diversifier spec (``"subst:rate=0.8"``) against the registered
        diversifiers, without running anything.

        Raises:
            MeweError: ``ENOTFOUND`` (unknown name), ``EINVAL`` (a parameter it does not
                take, or not ``KEY=VALUE``); the message names the spec.
        """
        self._call("mewe_diversifier_spec_check", self._handle, _spec(spec))

    def check_rng_strategy_spec(self, spec: str) -> None:
        """Checks an RNG strategy spec (``"fixed:seed=3"``) as
        :meth:`check_diversifier_spec` does."""
        self._call("mewe_rng_strategy_spec_check", self._handle, _spec(spec))

    def _plugins(self, count_fn: str, at_fn: str) -> list[Plugin]:
        handle = self._handle
        plugins = []
        for index in range(getattr(api(), count_fn)(handle)):
            name, description = c_char_p(), c_char_p()
            self._call(at_fn, byref(name), byref(description), handle, index)
            plugins.append(Plugin(decode(name.value), decode(description.value)))
        return plugins

    # -- modules --------------------------------------------------------------------

    def load_profile(self, path: str | os.PathLike[str]) -> Profile:
        """Reads the profile that a run of an instrumented module wrote (its standard error;
        see :meth:`Module.instrument_profile`).

        Raises:
            MeweError: ``EIO`` (unreadable file), ``EPARSE`` (no profile, a malformed line,
                an unknown format version, a profile cut short).
        """
        handle = ProfileHandle()
        self._call("mewe_profile_load", byref(handle), self._handle, fspath_bytes(path))
        return Profile(handle)

    def load(self, source: Source, name: str | None = None) -> Module:
        """Loads a module of LLVM bitcode or textual IR (told apart by content).

        Args:
            source: a file path, or the module's bytes.
            name: for bytes, the module's name in messages and reports (default
                ``"<memory>"``). A file's module is named by its path.

        Raises:
            MeweError: ``EIO`` (unreadable file), ``EPARSE`` (empty, corrupt or too-new
                input, IR syntax error), ``EVERIFY``.
        """
        from .module import Module

        handle = ModuleHandle()
        try:
            if isinstance(source, (bytes, bytearray, memoryview)):
                self._load_memory(handle, bytes(source), name)
            elif isinstance(source, (str, os.PathLike)):
                if name is not None:
                    raise ValueError("name applies to modules loaded from bytes only")
                self._call("mewe_module_load", byref(handle), self._handle,
                           fspath_bytes(source))
            else:
                raise TypeError(f"cannot load a module from {type(source).__name__}")
        except BaseException:
            if handle.value:  # loaded, then a log callback raised: do not leak it
                api().mewe_module_free(handle)
            raise
        return Module._adopt(self, handle)

    def _load_memory(self, handle: ModuleHandle, data: bytes, name: str | None) -> None:
        raw_name = name.encode() if name is not None else None
        self._call("mewe_module_load_memory", byref(handle), self._handle, data, len(data),
                   raw_name)


def _log_trampoline(log: LogCallback, state: ContextState) -> Callable[[int, bytes, Any], None]:
    """The C-callable body of a log callback; it never lets an exception reach C."""

    def trampoline(level: int, message: bytes | None, _user_data: Any) -> None:
        try:
            log(LogLevel(level) if level in LogLevel._value2member_map_ else level,
                decode(message))
        except BaseException as exc:  # re-raised by ContextState.call
            state.stash(exc)

    return trampoline


def _progress_trampoline(progress: ProgressCallback,
                         state: ContextState) -> Callable[[bytes, int, int, Any], None]:
    """The C-callable body of a progress callback; it never lets an exception reach C."""

    def trampoline(stage: bytes | None, done: int, total: int, _user_data: Any) -> None:
        try:
            progress(decode(stage), done, total)
        except BaseException as exc:  # re-raised by ContextState.call
            state.stash(exc)

    return trampoline


class Profile:
    """Call counts of a profile run, for :meth:`Module.link_multivariant`'s cost model.

    Independent of any context once read; close it with :meth:`close` or a ``with`` block.
    """

    def __init__(self, handle: ProfileHandle) -> None:
        self._handle: ProfileHandle | None = handle
        self._finalizer = weakref.finalize(self, api().mewe_profile_free, handle)

    def close(self) -> None:
        """Frees the profile (idempotent)."""
        self._finalizer()
        self._handle = None

    def __enter__(self) -> Profile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def handle(self) -> ProfileHandle:
        if self._handle is None:
            from ._errors import ClosedError

            raise ClosedError("the profile is closed")
        return self._handle

    def __len__(self) -> int:
        return int(api().mewe_profile_function_count(self.handle))

    def calls(self, function: str) -> int | None:
        """Calls counted for ``function``, or None when the profile does not name it."""
        out = c_ulonglong()
        try:
            api().mewe_profile_calls(byref(out), self.handle, function.encode())
        except MeweError as err:
            if err.code == Status.ENOTFOUND:
                return None
            raise
        return out.value


def _spec(spec: str) -> bytes:
    if not isinstance(spec, str):
        raise TypeError(f"spec must be a str, not {type(spec).__name__}")
    return spec.encode()
