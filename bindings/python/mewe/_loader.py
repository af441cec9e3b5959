"""Finds and opens libmewe's shared library.

Lookup order:

1. ``MEWE_LIBRARY``: the full path of the library; when set, nothing else is tried.
2. The libmewe of the package's own prefix, when ``meson install`` installed the package
   (it generates ``mewe/_install.py``): found relative to the package's directory, so that a
   prefix that was moved or staged with ``DESTDIR`` still finds its own library, then at the
   absolute path it was installed to.
3. The installed library: ``libmewe.so.0`` through the dynamic loader's search path
   (``LD_LIBRARY_PATH``, the ldconfig cache), then ``ctypes.util.find_library('mewe')``.
4. A build tree: ``$MEWE_BUILD_DIR/lib/libmewe.so`` (or ``$MEWE_BUILD_DIR/libmewe.so``),
   then ``build/lib/libmewe.so`` in the package's directory or any directory above it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Iterator
from pathlib import Path

from ._errors import LibraryNotFoundError

ENV_LIBRARY = "MEWE_LIBRARY"
ENV_BUILD_DIR = "MEWE_BUILD_DIR"
SONAME = "libmewe.so.0"


def _own_prefix() -> Iterator[str]:
    """The libmewe that was installed with this package by ``meson install``."""
    try:
        from . import _install  # generated at install time; absent in a source tree or wheel
    except ImportError:
        return
    here = Path(__file__).resolve().parent.parent  # the site-packages directory
    relative = os.path.relpath(_install.LIBDIR, _install.SITEDIR)
    yield str(Path(os.path.normpath(here / relative)) / _install.SONAME)
    yield str(Path(_install.LIBDIR) / _install.SONAME)


def _installed() -> Iterator[str]:
    """Names under which the dynamic loader may find an installed libmewe."""
    yield SONAME
    found = ctypes.util.find_library("mewe")
    if found and found != SONAME:
        yield found


def _build_tree() -> Iterator[str]:
    """Paths of libmewe in a meson build tree."""
    build_dir = os.environ.get(ENV_BUILD_DIR)
    if build_dir:
        yield str(Path(build_dir) / "lib" / "libmewe.so")
        yield str(Path(build_dir) / "libmewe.so")
    for parent in Path(__file__).resolve().parents:
        yield str(parent / "build" / "lib" / "libmewe.so")


def candidates() -> Iterator[str]:
    """Library paths or names to try, in lookup order."""
    explicit = os.environ.get(ENV_LIBRARY)
    if explicit:
        yield explicit
        return
    yield from _own_prefix()
    yield from _installed()
    yield from _build_tree()


def _is_path(candidate: str) -> bool:
    return os.sep in candidate


def open_library() -> ctypes.CDLL:
    """Opens the first libmewe found.

    Raises:
        LibraryNotFoundError: when no candidate loads; the message lists what was tried.
    """
    tried: list[str] = []
    for candidate in candidates():
        if _is_path(candidate) and not os.path.exists(candidate):
            tried.append(f"{candidate}: no such file")
            continue
        try:
            return ctypes.CDLL(candidate)
        except OSError as err:
            tried.append(f"{candidate}: {err}")
    hint = (f"set {ENV_LIBRARY} to the library's path, or {ENV_BUILD_DIR} to a meson "
            "build directory")
    raise LibraryNotFoundError("cannot load libmewe (" + "; ".join(tried) + "); " + hint)
