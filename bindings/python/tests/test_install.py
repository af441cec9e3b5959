"""`pip install ./bindings/python` works offline and installs a package that finds libmewe."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]


def test_pip_install_offline(tmp_path: Path) -> None:
    """Installs into a scratch directory with no index and imports the installed copy."""
    if subprocess.run([sys.executable, "-m", "pip", "--version"],
                      capture_output=True).returncode != 0:
        pytest.skip(f"no pip for {sys.executable}")
    # A copy, so that the build's scratch files never land in the source tree.
    src = tmp_path / "src"
    shutil.copytree(PACKAGE, src, ignore=shutil.ignore_patterns("build", "*.egg-info",
                                                                "__pycache__"))
    target = tmp_path / "site"
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-index", "--no-build-isolation",
         "--target", str(target), str(src)],
        capture_output=True, text=True, env=env, cwd=tmp_path)
    assert install.returncode == 0, install.stdout + install.stderr
    env["PYTHONPATH"] = str(target)
    check = subprocess.run(
        [sys.executable, "-c",
         "import mewe, pathlib; print(mewe.version()); print(pathlib.Path(mewe.__file__))"],
        capture_output=True, text=True, env=env, cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    version, where = check.stdout.split()
    assert version.count(".") == 2
    assert Path(where).is_relative_to(target)
