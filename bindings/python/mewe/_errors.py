"""Status codes and the exceptions raised by the bindings."""

from __future__ import annotations

import enum


class Status(enum.IntEnum):
    """libmewe's status codes (``mewe_status`` in ``mewe/common.h``).

    The values are pinned by the C library: new codes are only appended.
    """

    OK = 0
    EINVAL = -1
    ENOMEM = -2
    EIO = -3
    EPARSE = -4
    EVERIFY = -5
    EVERSION = -6
    ETARGET = -7
    ELINK = -8
    ETOOL = -9
    ENOTFOUND = -10
    EEXIST = -11
    EUSER = -12
    ESTATE = -13


def as_status(code: int) -> Status | int:
    """Returns ``code`` as a :class:`Status` when it is one, else the plain int."""
    try:
        return Status(code)
    except ValueError:
        return code


class MeweError(Exception):
    """A libmewe call failed.

    Attributes:
        code: the status the C function returned, a :class:`Status` when known.
        message: the context's error message (``mewe_context_errmsg``), which names the
            file, function, option or value at fault.
    """

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code: Status | int = as_status(code)
        self.message = message

    def __str__(self) -> str:
        name = self.code.name if isinstance(self.code, Status) else str(self.code)
        return f"{self.message} [MEWE_{name}]" if self.message else f"MEWE_{name}"


class ClosedError(MeweError, ValueError):
    """An object was used after it was closed, consumed, or after its context closed.

    Its code is :attr:`Status.ESTATE`. It is also a :class:`ValueError`, like the error of
    an operation on a closed Python file.
    """

    def __init__(self, message: str) -> None:
        super().__init__(Status.ESTATE, message)
        self.args = (message,)


class LibraryNotFoundError(OSError):
    """libmewe's shared library could not be found or loaded."""
