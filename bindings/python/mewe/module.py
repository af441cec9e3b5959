"""Modules: load, link, generate variants, link the multivariant program, emit wasm."""

from __future__ import annotations

import json
import os
import warnings
import weakref
from collections.abc import Callable, Iterable
from ctypes import byref, c_char_p, c_size_t
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._enums import Dispatch, EmitKind, Format, Granularity, parse
from ._errors import MeweError, Status
from ._native import (EMIT_OPTIONS_VERSION, GENERATE_OPTIONS_VERSION, LINK_OPTIONS_VERSION,
                      EmitOptions, GenerateOptions,
                      LinkOptions, ModuleHandle, OwnedBuffer, SelectFn, api, decode,
                      string_array)
from ._state import ModuleState
from .context import Context, Source, fspath_bytes

if TYPE_CHECKING:
    from .context import Profile

_UINT_MAX = 2**32 - 1


@dataclass(frozen=True)
class FunctionInfo:
    """What a selection policy is told about a candidate function.

    Attributes:
        name: the function's name.
        instructions: its size in LLVM instructions.
        call_sites: direct calls to it in the module.
        address_taken: whether it is used other than by direct calls.
        variants: the number of variants it gets unless the policy says otherwise.
    """

    name: str
    instructions: int
    call_sites: int
    address_taken: bool
    variants: int


#: A selection policy: the number of variants, ``0``/``False`` to skip the function,
#: ``None``/``True`` to keep the default.
SelectPolicy = Callable[[FunctionInfo], "int | bool | None"]


def _strings(values: Iterable[str] | str | None, what: str) -> list[bytes]:
    """A list of C strings from an iterable of str (a lone str counts as one item)."""
    if values is None:
        return []
    if isinstance(values, (str, bytes)):
        values = [values]  # type: ignore[list-item]
    items = []
    for value in values:
        if isinstance(value, bytes):
            items.append(value)
        elif isinstance(value, (str, os.PathLike)):
            items.append(os.fsencode(value))
        else:
            raise TypeError(f"{what}: expected strings, got {type(value).__name__}")
    return items


def _uint(value: int, what: str) -> int:
    """``value`` checked to fit an ``unsigned int`` (ctypes would wrap it silently)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if not 0 <= value <= _UINT_MAX:
        raise ValueError(f"{what}: {value} is outside 0..{_UINT_MAX}")
    return value


def _policy_answer(answer: int | bool | None, default: int) -> int:
    """The variant count a selection policy's answer stands for."""
    if answer is None or answer is True:
        return default
    if answer is False:
        return 0
    if isinstance(answer, int):
        return _uint(answer, "select() result")
    raise TypeError(f"select() must return int, bool or None, not {type(answer).__name__}")


class Module:
    """A program's LLVM IR in a :class:`Context`. Create with :meth:`Context.load`.

    The module keeps its context alive. Close it with :meth:`close` or a ``with`` block;
    it is also closed when consumed (by :meth:`link` or :meth:`add_variants` of another
    module) and when its context closes. A closed module raises :class:`ClosedError`.
    """

    def __init__(self) -> None:
        raise TypeError("modules are made by Context.load()")

    @classmethod
    def _adopt(cls, context: Context, handle: ModuleHandle) -> Module:
        """Wraps a freshly loaded, owned handle."""
        self = object.__new__(cls)
        self._context = context
        self._state = ModuleState(handle, context._state)
        self._finalizer = weakref.finalize(self, self._state.free)
        self._select_fn = None  # the CFUNCTYPE of a running generate()
        # The linked wasm last emitted from the module as it is now, for the report's
        # "wasm" section; None when there is none or the module changed since.
        self._wasm: bytes | None = None
        return self

    # -- lifetime -------------------------------------------------------------------

    def close(self) -> None:
        """Frees the module. Idempotent; a no-op once its context is closed."""
        self._finalizer()

    @property
    def closed(self) -> bool:
        """True once the module is freed, consumed or its context closed."""
        return self._state.handle is None

    @property
    def context(self) -> Context:
        """The context that owns the module."""
        return self._context

    def __enter__(self) -> Module:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<mewe.Module {'closed' if self.closed else hex(self._state.handle.value)}>"

    @property
    def _handle(self) -> ModuleHandle:
        return self._state.live()

    def _call(self, name: str, *args: Any) -> Any:
        return self._state.parent.call(getattr(api(), name), *args)

    def _as_module(self, other: Module | Source) -> Module:
        """``other`` as a module of this context whose handle C may take."""
        if isinstance(other, Module):
            return other
        return self._context.load(other)

    # -- inspection -----------------------------------------------------------------

    @property
    def functions(self) -> list[str]:
        """Names of the functions defined in the module, in module order."""
        handle = self._handle
        names = []
        for index in range(api().mewe_module_function_count(handle)):
            out = c_char_p()
            self._call("mewe_module_function_at", byref(out), handle, index)
            names.append(decode(out.value))
        return names

    def verify(self) -> None:
        """Runs LLVM's verifier; raises :class:`MeweError` (``EVERIFY``) on a complaint."""
        self._call("mewe_module_verify", self._handle)

    def report(self) -> dict[str, Any]:
        """The JSON report (see ``mewe/report.h``) as a dict.

        After :meth:`emit` of a command or reactor, and until the module changes, it has a
        ``"wasm"`` section on what stayed distinct in that wasm.
        """
        with OwnedBuffer() as buf:
            out = (byref(buf.pointer), byref(buf.size))
            if self._wasm is None or not self._with_wasm(
                    "mewe_report_json_wasm", *out, self._handle, self._wasm, len(self._wasm)):
                self._call("mewe_report_json", *out, self._handle)
            return json.loads(buf.take().decode("utf-8"))

    def write_report(self, path: str | os.PathLike[str]) -> None:
        """Writes the JSON report (as :meth:`report` gives it) to a file."""
        dest = fspath_bytes(path)
        if self._wasm is None or not self._with_wasm(
                "mewe_report_write_wasm", self._handle, self._wasm, len(self._wasm), dest):
            self._call("mewe_report_write", self._handle, dest)

    def _with_wasm(self, name: str, *args: Any) -> bool:
        """Calls a report function that reads the kept wasm. False when the wasm's names
        cannot be read (LLVM keeps names that are not UTF-8 as they are, which makes the
        wasm's name section malformed): the report then goes without its ``"wasm"``
        section, with a warning."""
        try:
            self._call(name, *args)
        except MeweError as err:
            if err.code != Status.EPARSE:
                raise
            warnings.warn(f"{err.message}; the report has no \"wasm\" section", stacklevel=3)
            return False
        return True

    def write(self, path: str | os.PathLike[str] | None = None,
              format: Format | str = "bc") -> bytes | str | None:
        """Writes the module as bitcode (``"bc"``) or textual IR (``"ll"``).

        Returns:
            With no ``path``, the bitcode as bytes or the IR as str; else None.
        """
        fmt = parse(Format, format, "format")
        if path is not None:
            self._call("mewe_module_write", self._handle, fspath_bytes(path), fmt)
            return None
        with OwnedBuffer() as buf:
            self._call("mewe_module_write_memory", byref(buf.pointer), byref(buf.size),
                       self._handle, fmt)
            data = buf.take()
        return data.decode("utf-8") if fmt is Format.TEXT else data

    # -- pipeline -------------------------------------------------------------------

    def link(self, other: Module | Source) -> None:
        """Links another module (or a file, or bytes) into this one.

        A :class:`Module` passed here is consumed, on success and failure alike: it is
        closed afterwards. On failure (``ELINK``) this module is unchanged.
        """
        self._wasm = None
        if isinstance(other, (str, os.PathLike)):
            self._call("mewe_module_link_file", self._handle, fspath_bytes(other))
            return
        src = self._as_module(other)
        dst_handle, src_handle = self._handle, src._handle
        try:
            self._call("mewe_module_link", dst_handle, src_handle)
        finally:
            if src is not self:  # C refuses, and keeps, a module linked into itself
                src._state.forget()

    def link_files(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Links files into this one, in order, in one step (linking many files one by one
        copies the growing module each time). On failure this module is unchanged and the
        error names the file."""
        names = [fspath_bytes(p) for p in paths]
        self._wasm = None
        self._call("mewe_module_link_files", self._handle, (c_char_p * max(1, len(names)))(*names),
                   len(names))

    def add_variants(self, other: Module | Source) -> int:
        """Adds variants made by another tool: ``other`` is the same program with some
        functions' bodies changed (a module, file or bytes; a module is consumed, as by
        :meth:`link`).

        Returns:
            The number of variants added.
        """
        self._wasm = None
        src = self._as_module(other)
        added = c_size_t()
        dst_handle, src_handle = self._handle, src._handle
        try:
            self._call("mewe_module_add_variants", byref(added), dst_handle, src_handle)
        finally:
            if src is not self:
                src._state.forget()
        return added.value

    def generate(self, variants: int | None = None, diversifiers: Iterable[str] = (),
                 allow: Iterable[str] = (), deny: Iterable[str] = (),
                 min_instructions: int | None = None, attempts: int | None = None,
                 time_budget: float | None = None, size_budget: float | None = None,
                 select: SelectPolicy | None = None, wasm_rounds: int | None = None,
                 outline_loops: int | None = None, threads: int | None = None,
                 wasm_derived: int | None = None) -> None:
        """Generates variants of the module's eligible functions.

        An argument left at ``None`` takes the library's default; :func:`mewe.option` gives
        each default and accepted range (``mewe.option("generate.variants")``).

        Args:
            variants: variants per function besides the original.
            diversifiers: diversifier specs such as ``"subst:rate=0.8"``; empty means the
                library's default set (``mewe.option("generate.diversifiers")``).
            allow: names or globs to diversify (empty: all).
            deny: names or globs never to diversify.
            min_instructions: skip functions with fewer instructions.
            attempts: tries per variant before giving up on a distinct one (0: the default).
            time_budget: seconds for the whole call; 0 means no limit.
            size_budget: most instructions the variants may add, as a multiple of the
                module's instruction count; 0 means no limit.
            select: a policy ``select(info) -> int | bool | None`` called with a
                :class:`FunctionInfo` for each candidate: an int is the number of
                variants (0 skips), ``False`` skips, ``None``/``True`` keeps ``variants``.
                An exception it raises stops generation, leaves the module unchanged
                and propagates from this call.
            wasm_rounds: times the variants are compiled to wasm to drop those whose body
                equals another's (0: no check).
            outline_loops: estimated cycles per iteration from which a function's costliest
                loop body becomes a function of its own, chosen per iteration; cheaper
                innermost loops run in chunks of about as many cycles, chosen per chunk
                (0: neither).
            threads: threads of the wasm check's code generation (0 or None: one per
                processor); the variants kept do not depend on it.
            wasm_derived: of the variants of a function of 50 instructions or more, how
                many are made in wasm, as rewritten copies of the compiled original and
                variants, instead of with LLVM (0: none; None: the library's default, all
                but one).
        """
        opts = GenerateOptions()
        api().mewe_generate_options_init(byref(opts), GENERATE_OPTIONS_VERSION)
        if variants is not None:
            opts.variants = _uint(variants, "variants")
        if min_instructions is not None:
            opts.min_instructions = _uint(min_instructions, "min_instructions")
        if attempts is not None:
            opts.attempts = _uint(attempts, "attempts")
        if time_budget is not None:
            opts.time_budget = float(time_budget)
        if size_budget is not None:
            opts.size_budget = float(size_budget)
        # 0 means "off" here, as on the command line; the struct's 0 is the default.
        if wasm_rounds is not None:
            opts.wasm_rounds = _uint(wasm_rounds, "wasm_rounds") or 0xFFFFFFFF
        if outline_loops is not None:
            opts.outline_loops = _uint(outline_loops, "outline_loops") or 0xFFFFFFFF
        if threads is not None:
            opts.threads = _uint(threads, "threads")
        if wasm_derived is not None:
            opts.wasm_derived = _uint(wasm_derived, "wasm_derived") or 0xFFFFFFFF
        opts.diversifiers, opts.diversifier_count = string_array(
            _strings(diversifiers, "diversifiers"))
        opts.allow, opts.allow_count = string_array(_strings(allow, "allow"))
        opts.deny, opts.deny_count = string_array(_strings(deny, "deny"))
        if select is not None:
            if not callable(select):
                raise TypeError("select must be callable")
            self._select_fn = SelectFn(_select_trampoline(select, self._state.parent))
            opts.select = self._select_fn
        self._wasm = None
        try:
            self._call("mewe_generate_variants", self._handle, byref(opts))
        finally:
            self._select_fn = None

    def link_multivariant(self, dispatch: Dispatch | str | None = None,
                          granularity: Granularity | str | None = None, rng: str | None = None,
                          trace: bool = False, max_overhead: float | None = None,
                          period: int | None = None, inline_limit: int | None = None,
                          profile: Profile | None = None) -> None:
        """Turns every function that has variants into a dispatcher.

        An argument left at ``None`` takes the library's default (:func:`mewe.option`, e.g.
        ``mewe.option("link.max_overhead")``).

        Args:
            dispatch: ``"switch"`` (a ``br_table``) or ``"table"`` (``call_indirect``).
            granularity: ``"call"`` (as often as the overhead budget allows),
                ``"instance"``, ``"every"`` (every ``period`` calls) or ``"invocation"``
                (whenever a direct caller starts).
            max_overhead: the cost model's budget, a factor >= 1 (``math.inf``: a fresh
                choice at every call).
            period: mean calls per choice with ``"every"``.
            inline_limit: largest function, in IR instructions, whose variants live inside
                its dispatcher (1: none).
            profile: call counts of a profile run (:meth:`Context.load_profile`): the
                cost model spends the budget over the whole run.
            rng: an RNG strategy spec: ``"wasi"``, ``"host:module=env,name=f"``,
                ``"fixed:seed=42"``, ...
            trace: dispatchers call the import ``mewe_trace.record(id, variant)``.
        """
        opts = LinkOptions()
        api().mewe_link_options_init(byref(opts), LINK_OPTIONS_VERSION)
        if dispatch is not None:
            opts.dispatch = parse(Dispatch, dispatch, "dispatch")
        if granularity is not None:
            opts.granularity = parse(Granularity, granularity, "granularity")
        opts.rng = rng.encode() if rng is not None else None
        opts.trace = 1 if trace else 0
        if max_overhead is not None:
            opts.max_overhead = max_overhead
        if period is not None:
            opts.period = _uint(period, "period")
        if inline_limit is not None:
            opts.inline_limit = _uint(inline_limit, "inline_limit")
        if profile is not None:
            opts.profile = profile.handle
        self._wasm = None
        self._call("mewe_link_multivariant", self._handle, byref(opts))

    def instrument_profile(self) -> None:
        """Instruments the module (as loaded, without variants): emitted and run, it counts
        every function's calls and writes them to standard error when ``main`` returns or
        the program exits, for :meth:`Context.load_profile`.

        Raises:
            MeweError: ``ESTATE`` (variants, or already instrumented), ``ENOTFOUND`` (no
                ``main``).
        """
        self._wasm = None
        self._call("mewe_module_instrument_profile", self._handle)

    def check_target(self) -> None:
        """Checks, before any work, that :meth:`emit` will accept the module's target
        triple and data layout (wasm32, or none) (libmewe 0.3).

        Raises:
            MeweError: ``ETARGET``, naming the module and its triple.
        """
        self._call("mewe_module_check_target", self._handle)

    def exclude_unlinked(self, kind: EmitKind | str | None = None,
                         exports: Iterable[str] = (), link_args: Iterable[str] = (),
                         threads: int | None = None) -> int:
        """Leaves out of diversification the functions that the link of the output would
        drop (a library's functions that the program never reaches): call it before
        :meth:`generate` with the ``kind``, ``exports`` and ``link_args`` that
        :meth:`emit` will get. They keep no variants; the report gives the reason
        ``"dropped by the link"``. Nothing is left out of an ``"object"``.

        Args:
            threads: code generation threads of the link's skeleton (0 or None: one per
                processor), as :meth:`emit`'s; the result is the same for any number.

        Returns:
            How many functions were left out.
        """
        opts = EmitOptions()
        api().mewe_emit_options_init(byref(opts), EMIT_OPTIONS_VERSION)
        if kind is not None:
            opts.kind = parse(EmitKind, kind, "kind")
        opts.exports, opts.export_count = string_array(_strings(exports, "exports"))
        opts.link_args, opts.link_arg_count = string_array(_strings(link_args, "link_args"))
        if threads is not None:
            opts.threads = _uint(threads, "threads")
        count = c_size_t(0)
        self._call("mewe_module_exclude_unlinked", self._handle, byref(opts), byref(count))
        return count.value

    def emit(self, path: str | os.PathLike[str] | None = None,
             kind: EmitKind | str | None = None, opt_level: int | None = None,
             exports: Iterable[str] = (), link_args: Iterable[str] = (),
             threads: int | None = None) -> bytes | None:
        """Emits the module as WebAssembly (the module itself is not changed).

        An argument left at ``None`` takes the library's default (:func:`mewe.option`, e.g.
        ``mewe.option("emit.opt_level")``).

        Args:
            path: the file to write; None returns the bytes instead.
            kind: ``"command"`` (WASI command), ``"reactor"`` or ``"object"``.
            opt_level: code generation level.
            exports: functions to export.
            link_args: extra wasm-ld arguments (ignored for objects).
            threads: code generation threads (0 or None: one per processor); the output
                is the same bytes for any number.

        Returns:
            The wasm bytes when ``path`` is None, else None.

        A command or reactor is kept for :meth:`report`'s ``"wasm"`` section.
        """
        opts = EmitOptions()
        api().mewe_emit_options_init(byref(opts), EMIT_OPTIONS_VERSION)
        if kind is not None:
            opts.kind = parse(EmitKind, kind, "kind")
        linked = opts.kind != EmitKind.OBJECT
        if opt_level is not None:
            if isinstance(opt_level, bool) or not isinstance(opt_level, int):
                raise TypeError(f"opt_level must be an int, not {type(opt_level).__name__}")
            opts.opt_level = opt_level
        opts.exports, opts.export_count = string_array(_strings(exports, "exports"))
        opts.link_args, opts.link_arg_count = string_array(_strings(link_args, "link_args"))
        if threads is not None:
            opts.threads = _uint(threads, "threads")
        if path is not None:
            self._call("mewe_emit_wasm", self._handle, byref(opts), fspath_bytes(path))
            if linked:
                with open(fspath_bytes(path), "rb") as f:
                    self._wasm = f.read()
            return None
        with OwnedBuffer() as buf:
            self._call("mewe_emit_wasm_memory", byref(buf.pointer), byref(buf.size),
                       self._handle, byref(opts))
            data = buf.take()
        if linked:
            self._wasm = data
        return data


def _select_trampoline(policy: SelectPolicy, state: Any) -> Callable[..., int]:
    """The C-callable body of a selection policy; it never lets an exception reach C."""

    def trampoline(info_p: Any, variants_p: Any, _user_data: Any) -> int:
        try:
            info = info_p.contents
            default = variants_p[0]
            answer = policy(FunctionInfo(name=decode(info.name),
                                         instructions=info.instructions,
                                         call_sites=info.call_sites,
                                         address_taken=bool(info.address_taken),
                                         variants=default))
            variants_p[0] = _policy_answer(answer, default)
            return int(Status.OK)
        except BaseException as exc:  # re-raised by ContextState.call
            state.stash(exc)
            return int(Status.EUSER)

    return trampoline
