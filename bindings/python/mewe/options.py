"""The options' defaults and limits, as the libmewe that runs applies them (``mewe/options.h``).

The keyword defaults of :meth:`Module.generate`, :meth:`Module.link_multivariant` and
:meth:`Module.emit` are the library's: an argument left at ``None`` keeps the value that the
options' ``_init`` function set. :func:`option` tells what that value is::

    >>> mewe.option("generate.variants")
    Option(name='generate.variants', default_text='3', default=3.0, minimum=0.0, maximum=64.0)
"""

from __future__ import annotations

import math
from ctypes import byref, c_char_p, c_double
from dataclasses import dataclass

from ._native import api, decode


@dataclass(frozen=True)
class Option:
    """One option of the library's options structs, named ``"STRUCT.FIELD"``."""

    name: str
    #: The default as a tool prints it ("3", "1.05", "switch", "subst, swap, blocks, layout").
    default_text: str
    #: The default as a number; NaN for options whose value is a name or a list, and for
    #: ``generate.wasm_derived``, whose default ("all but one") depends on each function.
    default: float
    #: The smallest and largest accepted numbers (NaN for names and lists).
    minimum: float
    maximum: float

    @property
    def numeric(self) -> bool:
        """Whether the option takes a number."""
        return not math.isnan(self.minimum)


def option_names() -> list[str]:
    """Every option the library describes, in the order of the structs' fields."""
    names = []
    for index in range(api().mewe_option_count()):
        name = c_char_p()
        api().mewe_option_at(byref(name), index)
        names.append(decode(name.value))
    return names


def option(name: str) -> Option:
    """The default and range of one option.

    Raises:
        KeyError: for a name the library does not describe; the message lists the others.
    """
    if not isinstance(name, str):
        raise TypeError(f"option name must be a str, not {type(name).__name__}")
    names = option_names()
    if name not in names:
        raise KeyError(f"no option {name!r}; libmewe describes {', '.join(names)}")
    text = c_char_p()
    default, low, high = c_double(), c_double(), c_double()
    api().mewe_option_describe(byref(text), byref(default), byref(low), byref(high),
                               name.encode())
    return Option(name, decode(text.value), default.value, low.value, high.value)


def options() -> list[Option]:
    """Every option with its default and range."""
    return [option(name) for name in option_names()]
