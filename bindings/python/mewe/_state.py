"""Ownership bookkeeping shared by :class:`Context` and :class:`Module`.

Each wrapper holds a small state object that its ``weakref.finalize`` also holds; the
state, not the wrapper, owns the C handle. Freeing is idempotent, so ``close()``, the
finalizer and a parent's close may run in any order without freeing twice:

- a context's state knows its modules' states; freeing the context (``mewe_context_free``
  frees its modules) first marks them freed;
- a module's state forgets its handle when the module is freed, consumed by a link, or
  freed with its context.

The context's state also carries the exception that a Python callback raised during a C
call, to be re-raised once the C call has returned.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from ._errors import ClosedError, MeweError
from ._native import ContextHandle, ModuleHandle, api

T = TypeVar("T")


class ContextState:
    """Owns a ``mewe_context *`` and tracks its modules."""

    __slots__ = ("handle", "children", "pending")

    def __init__(self, handle: ContextHandle) -> None:
        self.handle: ContextHandle | None = handle
        self.children: set[ModuleState] = set()
        self.pending: BaseException | None = None

    def live(self) -> ContextHandle:
        """The handle, or :class:`ClosedError` if the context is closed."""
        if self.handle is None:
            raise ClosedError("the context is closed")
        return self.handle

    def free(self) -> None:
        """Frees the context and, with it, its modules (idempotent)."""
        handle, self.handle = self.handle, None
        if handle is None:
            return
        for child in self.children:
            child.handle = None
        self.children.clear()
        api().mewe_context_free(handle)

    def stash(self, exc: BaseException) -> None:
        """Keeps the first exception raised by a callback during the current C call."""
        if self.pending is None:
            self.pending = exc

    def call(self, func: Callable[..., T], *args: Any) -> T:
        """Calls a C function; afterwards re-raises a callback's exception, if any.

        A callback's exception takes precedence over the :class:`MeweError` that its
        failure caused (usually ``MEWE_EUSER``), which is attached as a note.
        """
        outer, self.pending = self.pending, None
        failure: MeweError | None = None
        try:
            result = func(*args)
        except MeweError as err:
            failure, result = err, None
        finally:
            raised, self.pending = self.pending, outer
        if raised is not None:
            if failure is not None:
                raised.add_note(f"libmewe returned: {failure}")
            raise raised
        if failure is not None:
            raise failure
        return result  # type: ignore[return-value]


class ModuleState:
    """Owns a ``mewe_module *`` of a context."""

    __slots__ = ("handle", "parent")

    def __init__(self, handle: ModuleHandle, parent: ContextState) -> None:
        self.handle: ModuleHandle | None = handle
        self.parent = parent
        parent.children.add(self)

    def live(self) -> ModuleHandle:
        """The handle, or :class:`ClosedError` if the module is gone."""
        if self.handle is None:
            if self.parent.handle is None:
                raise ClosedError("the module's context is closed")
            raise ClosedError("the module is closed (or was consumed by a link)")
        return self.handle

    def forget(self) -> ModuleHandle | None:
        """Drops the handle without freeing it (a C call consumed it) and returns it."""
        handle, self.handle = self.handle, None
        self.parent.children.discard(self)
        return handle

    def free(self) -> None:
        """Frees the module (idempotent; nothing to do once its context freed it)."""
        handle = self.forget()
        if handle is not None:
            api().mewe_module_free(handle)
