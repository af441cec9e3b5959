"""Finding the shared library: MEWE_LIBRARY, then installed, then a build tree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import mewe
from mewe import _loader


def test_explicit_library_is_the_only_candidate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEWE_LIBRARY", "/opt/x/libmewe.so")
    assert list(_loader.candidates()) == ["/opt/x/libmewe.so"]


def test_lookup_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MEWE_LIBRARY", raising=False)
    monkeypatch.setenv("MEWE_BUILD_DIR", str(tmp_path))
    found = list(_loader.candidates())
    assert found[0] == "libmewe.so.0"
    build = found.index(str(tmp_path / "lib" / "libmewe.so"))
    assert all("/" not in name for name in found[:build])  # installed names come first
    package = Path(_loader.__file__).resolve().parent
    assert str(package.parent / "build" / "lib" / "libmewe.so") in found[build:]


def test_missing_explicit_library(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MEWE_LIBRARY", str(tmp_path / "libmewe.so"))
    with pytest.raises(mewe.LibraryNotFoundError, match="MEWE_LIBRARY") as info:
        _loader.open_library()
    assert str(tmp_path / "libmewe.so") in str(info.value)


def installed() -> bool:
    """Whether the dynamic loader finds an installed libmewe (asked of a fresh process,
    since this one has already loaded the library under test)."""
    probe = f"import ctypes; ctypes.CDLL({_loader.SONAME!r})"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode == 0


def test_build_dir_is_found(tmp_path: Path) -> None:
    """With only MEWE_BUILD_DIR set, a fresh interpreter loads the library from there."""
    library = Path(mewe.library_path())
    if not library.is_absolute():
        pytest.skip(f"the library under test was found by name ({library}), not in a build tree")
    env = {k: v for k, v in os.environ.items() if k != "MEWE_LIBRARY"}
    env["MEWE_BUILD_DIR"] = str(library.resolve().parents[1])
    env["PYTHONPATH"] = str(Path(mewe.__file__).resolve().parents[1])
    result = subprocess.run([sys.executable, "-c", "import mewe; print(mewe.library_path())"],
                            env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    if installed():
        assert result.stdout.strip() == _loader.SONAME
    else:
        assert Path(result.stdout.strip()).resolve() == library.resolve()
