"""Build recipes of bench/workloads/workloads.json, turned into commands.

One module reads the recipes for the corpus tests and for the benchmark, so that a
workload is described once. Paths in the JSON are either "npm:PACKAGE/PATH", inside the
unpacked package (see fetch.py), or relative to the repository root.

    doc = recipes.load()
    roots = fetch.ensure_packages()
    for w in recipes.resolve(doc, roots):
        for src in w.sources: run(recipes.bitcode_command(clang, w, src, out))
        run(recipes.mewe_command(mewe, w, bitcode_files, "w.wasm"))
"""

import dataclasses
import json
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[2]
WORKLOADS_JSON = REPO / "bench" / "workloads" / "workloads.json"
WASM_TARGET = "--target=wasm32-wasi"


@dataclasses.dataclass(frozen=True)
class Workload:
    name: str
    kind: str  # "test" (a program that checks itself) or "bench" (fixed work, a checksum)
    sources: tuple
    include_dirs: tuple
    defines: tuple
    cflags: tuple
    link_args: tuple  # wasm-ld arguments
    args: tuple
    expect: dict
    corpus: dict
    about: str = ""
    native_link_args: tuple = ()  # the native link's own arguments, e.g. -lm

    @property
    def build_key(self):
        """Workloads with the same key build the same binaries (only their arguments
        differ), so a test run builds each once."""
        return (self.sources, self.include_dirs, self.defines, self.cflags, self.link_args,
                self.native_link_args)


def load(path=WORKLOADS_JSON):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def resolve_path(spec, roots, repo=REPO):
    if spec.startswith("npm:"):
        package, _, rest = spec[len("npm:"):].partition("/")
        if package not in roots:
            raise KeyError(f"{spec}: package {package!r} is not pinned in workloads.json")
        return pathlib.Path(roots[package]) / rest
    return pathlib.Path(repo) / spec


def resolve(doc, roots, repo=REPO):
    """The workloads with their libraries merged in and every path made absolute.
    Library sources come after the workload's own, and library flags before them."""
    out = []
    for w in doc["workloads"]:
        libs = [doc["libraries"][name] for name in w.get("libraries", [])]

        def merged(key, own_first=False, w=w, libs=libs):
            lib_items = [item for lib in libs for item in lib.get(key, [])]
            own = list(w.get(key, []))
            return own + lib_items if own_first else lib_items + own

        paths = lambda specs: tuple(str(resolve_path(s, roots, repo)) for s in specs)
        out.append(Workload(
            name=w["name"], kind=w["kind"], about=w.get("about", ""),
            sources=paths(merged("sources", own_first=True)),
            include_dirs=paths(merged("include_dirs")),
            defines=tuple(merged("defines")),
            cflags=tuple(doc.get("cflags", [])) + tuple(merged("cflags")),
            link_args=tuple(merged("link_args")),
            args=tuple(w.get("args", [])),
            expect=dict(w.get("expect", {})),
            corpus=dict(w.get("corpus", {})),
            native_link_args=tuple(merged("native_link_args"))))
    return out


def npm_packages(doc, entries):
    """The npm packages that these raw workload entries (and their libraries) name, so that
    a caller fetches only what it builds."""
    found = set()

    def scan(value):
        if isinstance(value, str) and value.startswith("npm:"):
            found.add(value[len("npm:"):].partition("/")[0])
        elif isinstance(value, (list, tuple)):
            for item in value:
                scan(item)

    for e in entries:
        for lib in e.get("libraries", []):
            scan(list(doc["libraries"][lib].values()))
        scan(list(e.values()))
    return sorted(found)


def _preprocessor_flags(w):
    return [f"-I{d}" for d in w.include_dirs] + [f"-D{d}" for d in w.defines]


def bitcode_command(clang, w, source, output):
    """One source file to LLVM bitcode for wasm32-wasi, as mewe takes it."""
    return [clang, WASM_TARGET, *w.cflags, *_preprocessor_flags(w), "-emit-llvm", "-c",
            source, "-o", output]


def link_command(clang, w, bitcode, output):
    """The original, non-multivariant program: clang compiles the same bitcode and links it
    with wasm-ld and wasi-libc, no libmewe involved."""
    return [clang, WASM_TARGET, *w.cflags, *bitcode, *[f"-Wl,{a}" for a in w.link_args],
            "-o", output]


def native_command(cc, w, output):
    """The program built for the host (gcc by default), to tell a bug of the program from
    one of the wasm toolchain. wasm-ld's arguments do not apply; the native link's own
    (glibc keeps libm apart, wasi-libc does not) come after the sources."""
    return [cc, *w.cflags, *_preprocessor_flags(w), *w.sources, *w.native_link_args,
            "-o", output]


def mewe_command(mewe, w, bitcode, output, seed=None, dispatch=None, stage=None, report=None):
    """mewe with its default settings except the options given (None: mewe's default)."""
    cmd = [mewe, *bitcode, "-o", output]
    if stage is not None:
        cmd.append(f"--stage={stage}")
    if seed is not None:
        cmd.append(f"--seed={seed}")
    if dispatch is not None:
        cmd.append(f"--dispatch={dispatch}")
    if report is not None:
        cmd.append(f"--report={report}")
    cmd += [f"--link-arg={a}" for a in w.link_args]
    return cmd


def check_output(expect, returncode, stdout):
    """What is wrong with one run against the recipe's "expect"; an empty list when
    nothing is. The exit status must be 0 (or expect["exit"])."""
    problems = []
    want_rc = expect.get("exit", 0)
    if returncode != want_rc:
        problems.append(f"exit status {returncode}, expected {want_rc}")
    if "stdout" in expect and stdout != expect["stdout"]:
        problems.append(f"stdout {stdout[-300:]!r}, expected {expect['stdout']!r}")
    if "stdout_endswith" in expect and not stdout.endswith(expect["stdout_endswith"]):
        problems.append(f"stdout ends {stdout[-300:]!r}, expected it to end with "
                        f"{expect['stdout_endswith']!r}")
    return problems
