#!/usr/bin/env python3
"""Fetch the npm packages that the corpus tests and the benchmark build from.

The packages and their exact versions and sha512 integrity are pinned in
bench/workloads/workloads.json ("packages"). Each is fetched once with `npm pack` (which
downloads the registry's tarball and runs no install script), checked against its pinned
integrity, and unpacked into the cache:

    ${MEWE_CACHE_DIR:-$HOME/.cache/libmewe}/npm/NAME-VERSION/package/...

Nothing is written into the repository. A package already unpacked and stamped with its
integrity is not fetched again, so once cached this runs offline; --offline makes a
missing package an error instead of a download.

Usage: fetch.py [--offline] [--json] [--workloads FILE]
Prints one line per package, "NAME VERSION DIRECTORY" (or a JSON object with --json).
Exit status: 0 when every package is in the cache, 1 otherwise.

The corpus tests import this module (ensure_packages) rather than run it.
"""

import argparse
import base64
import contextlib
import fcntl
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[2]
WORKLOADS_JSON = REPO / "bench" / "workloads" / "workloads.json"
STAMP = ".mewe-integrity"


class FetchError(Exception):
    pass


def cache_dir():
    root = os.environ.get("MEWE_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "libmewe")
    return pathlib.Path(root) / "npm"


def integrity_of(path):
    """The npm form of a file's digest: "sha512-" and the base64 of its SHA-512."""
    digest = hashlib.sha512(pathlib.Path(path).read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


@contextlib.contextmanager
def cache_lock(cache):
    """Several test processes may start at once on a cold cache; one fetches, the others
    wait and then find the package there."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def npm_pack(name, version, dest):
    """Downloads NAME@VERSION's tarball into dest; returns its path."""
    npm = os.environ.get("NPM", "npm")
    cmd = [npm, "pack", f"{name}@{version}", "--pack-destination", str(dest),
           "--ignore-scripts", "--json", "--loglevel=error"]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    except FileNotFoundError as e:
        raise FetchError(f"cannot run npm ({e}); install npm or set NPM") from e
    if p.returncode != 0:
        raise FetchError(f"{' '.join(cmd)} failed:\n{p.stderr.strip()}")
    try:
        filename = json.loads(p.stdout)[0]["filename"]
    except (ValueError, LookupError, TypeError):
        filename = f"{name}-{version}.tgz"
    path = pathlib.Path(dest) / filename
    if not path.is_file():
        raise FetchError(f"npm pack {name}@{version} left no {path}")
    return path


def safe_extract(tarball, dest):
    """Unpacks regular files and directories only, and nothing outside dest: a tarball
    from the network is not trusted with links or absolute paths."""
    dest = pathlib.Path(dest).resolve()
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar.getmembers():
            target = (dest / member.name).resolve()
            if dest not in target.parents and target != dest:
                raise FetchError(f"{tarball}: entry {member.name!r} leaves the directory")
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif member.isfile():
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
            # Links, devices and the like are skipped: the sources need none.


def ensure_package(name, pin, cache, offline=False):
    """Returns the unpacked package root (the tarball's package/ directory), fetching and
    unpacking it first if needed."""
    version, integrity = pin["version"], pin["integrity"]
    # A scoped name ("@scope/name") is one directory level in the cache, not two.
    name_in_cache = name.replace("/", "+")
    dest = cache / f"{name_in_cache}-{version}"
    stamp = dest / STAMP
    if stamp.is_file() and stamp.read_text().strip() == integrity:
        return dest / "package"
    with cache_lock(cache):
        if stamp.is_file() and stamp.read_text().strip() == integrity:
            return dest / "package"
        tarball = cache / f"{name_in_cache}-{version}.tgz"
        if not tarball.is_file() or integrity_of(tarball) != integrity:
            if offline:
                raise FetchError(f"{name}@{version} is not in {cache} and --offline was given")
            with tempfile.TemporaryDirectory(dir=cache) as tmp:
                got = npm_pack(name, version, tmp)
                actual = integrity_of(got)
                if actual != integrity:
                    raise FetchError(f"{name}@{version}: integrity {actual} is not the pinned "
                                     f"{integrity}")
                os.replace(got, tarball)
        # Unpack beside the destination and rename, so that an interrupted run never
        # leaves a half-unpacked package that looks complete.
        tmp = pathlib.Path(tempfile.mkdtemp(dir=cache, prefix=f".{name_in_cache}-"))
        try:
            safe_extract(tarball, tmp)
            if not (tmp / "package").is_dir():
                raise FetchError(f"{tarball} has no package/ directory")
            (tmp / STAMP).write_text(integrity + "\n")
            tmp.chmod(0o755)  # mkdtemp's 0700 would hide the sources from other users
            if dest.exists():
                shutil.rmtree(dest)
            os.replace(tmp, dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return dest / "package"


def load_pins(workloads=WORKLOADS_JSON):
    with open(workloads, encoding="utf-8") as f:
        return json.load(f)["packages"]


def ensure_packages(workloads=WORKLOADS_JSON, offline=False):
    """Every pinned package, as {name: unpacked package root}."""
    cache = cache_dir()
    return {name: ensure_package(name, pin, cache, offline)
            for name, pin in load_pins(workloads).items()}


def main():
    ap = argparse.ArgumentParser(description="Fetch the pinned npm packages into the cache.")
    ap.add_argument("--offline", action="store_true",
                    help="fail instead of downloading a package that is not cached")
    ap.add_argument("--json", action="store_true", help="print {name: directory} as JSON")
    ap.add_argument("--workloads", default=str(WORKLOADS_JSON),
                    help="the workloads.json with the pins (default: %(default)s)")
    args = ap.parse_args()
    try:
        roots = ensure_packages(args.workloads, args.offline)
    except FetchError as e:
        print(f"fetch.py: {e}", file=sys.stderr)
        return 1
    pins = load_pins(args.workloads)
    if args.json:
        print(json.dumps({name: str(root) for name, root in roots.items()}, indent=2))
    else:
        for name, root in roots.items():
            print(f"{name} {pins[name]['version']} {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
