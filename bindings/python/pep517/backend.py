"""PEP 517 build backend: setuptools' own, found without a download when possible.

pip builds in an isolated environment that starts empty, so a plain ``pip install`` would
fetch setuptools (and, before setuptools 70.1, wheel) from the network. This backend asks for
nothing when the interpreter's base installation already has them (Debian's python3 ships
setuptools and python3-wheel), and borrows them from there; otherwise it asks pip for them
as usual. Every hook is setuptools' (``setuptools.build_meta``).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import site
import sys
from typing import Any

_NEEDED = ["setuptools>=61", "wheel"]


def _usable() -> bool:
    """Whether setuptools can build a wheel from what is importable now."""
    if importlib.util.find_spec("setuptools") is None:
        return False
    return (importlib.util.find_spec("wheel") is not None
            or importlib.util.find_spec("setuptools.command.bdist_wheel") is not None)


def _borrow_base_packages() -> bool:
    """Makes the base installation's site-packages importable, if that makes setuptools
    usable; returns whether setuptools is usable."""
    if _usable():
        return True
    for path in site.getsitepackages([sys.base_prefix]):
        if os.path.isdir(path) and path not in sys.path:
            sys.path.append(path)
    importlib.invalidate_caches()
    return _usable()


AVAILABLE = _borrow_base_packages()


def _meta() -> Any:
    if not AVAILABLE:
        raise ImportError("building mewe needs setuptools>=61 and wheel: install them "
                          "(Debian: apt-get install python3-setuptools python3-wheel)")
    from setuptools import build_meta

    return build_meta


def _requires(found: list[str]) -> list[str]:
    """What pip must still install: nothing that is already importable."""
    if not AVAILABLE:
        return list(_NEEDED)
    return [req for req in found if not req.startswith(("wheel", "setuptools"))]


def get_requires_for_build_wheel(config_settings: Any = None) -> list[str]:
    """PEP 517 hook."""
    if not AVAILABLE:
        return list(_NEEDED)
    return _requires(_meta().get_requires_for_build_wheel(config_settings))


def get_requires_for_build_sdist(config_settings: Any = None) -> list[str]:
    """PEP 517 hook."""
    if not AVAILABLE:
        return list(_NEEDED)
    return _requires(_meta().get_requires_for_build_sdist(config_settings))


def get_requires_for_build_editable(config_settings: Any = None) -> list[str]:
    """PEP 660 hook."""
    if not AVAILABLE:
        return list(_NEEDED)
    return _requires(_meta().get_requires_for_build_editable(config_settings))


def prepare_metadata_for_build_wheel(metadata_directory: str,
                                     config_settings: Any = None) -> str:
    """PEP 517 hook."""
    return _meta().prepare_metadata_for_build_wheel(metadata_directory, config_settings)


def build_wheel(wheel_directory: str, config_settings: Any = None,
                metadata_directory: str | None = None) -> str:
    """PEP 517 hook."""
    return _meta().build_wheel(wheel_directory, config_settings, metadata_directory)


def build_sdist(sdist_directory: str, config_settings: Any = None) -> str:
    """PEP 517 hook."""
    return _meta().build_sdist(sdist_directory, config_settings)


def prepare_metadata_for_build_editable(metadata_directory: str,
                                        config_settings: Any = None) -> str:
    """PEP 660 hook."""
    return _meta().prepare_metadata_for_build_editable(metadata_directory, config_settings)


def build_editable(wheel_directory: str, config_settings: Any = None,
                   metadata_directory: str | None = None) -> str:
    """PEP 660 hook."""
    return _meta().build_editable(wheel_directory, config_settings, metadata_directory)
