#!/usr/bin/env python3
"""Differential testing of libmewe with random C programs from csmith.

For each csmith seed: generate a program, compile it to bitcode at an input -O level,
build the reference (clang links the same bitcode, no libmewe), then build multivariant
wasm with mewe at several settings (dispatch kind, granularity, variants, build seed,
diversifiers, RNG, overhead budget, inline limit, code generation level), validate it
with wasm-validate, run both under node and compare stdout and exit status; the
multivariant module also runs under wasmtime (tests/corpus/engines.py) unless it needs a
host import. A failure is
kept in OUT/failures/ with the program, the commands that reproduce it (repro.sh) and
the outputs; with --reduce, creduce shrinks the program while the failure stays the same.

    tests/csmith/csmith_run.py --ci                 # the fixed set CI runs (meson test csmith)
    tests/csmith/csmith_run.py --count 200 --start 1000 --jobs 2 --out /tmp/csmith
    tests/csmith/csmith_run.py --seeds 193 --configs 8 --keep --reduce

The last line is "N passed, N failed, N skipped" (one test per program and setting; a
program whose reference does not finish in time, or whose builds at different input
levels disagree, is skipped). Exit status 1 when anything failed.

Environment: MEWE (default build/tools/mewe), CLANG (clang-19), NODE (node), WASM_VALIDATE
(wasm-validate), CSMITH (csmith), CSMITH_INCLUDE (/usr/include/csmith), CREDUCE (creduce).
"""

import argparse
import concurrent.futures
import dataclasses
import json
import os
import pathlib
import random
import resource
import shlex
import shutil
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests" / "corpus"))
sys.path.insert(0, str(ROOT / "tests"))
import campaign  # noqa: E402  (tests/campaign.py: seeds and work directory)
import engines  # noqa: E402  (tests/corpus/engines.py: wasmtime, the second engine)
MEWE = os.environ.get("MEWE") or str(ROOT / "build" / "tools" / "mewe")
CLANG = os.environ.get("CLANG", "clang-19")
NODE = os.environ.get("NODE", "node")
WASM_VALIDATE = os.environ.get("WASM_VALIDATE", "wasm-validate")
CSMITH = os.environ.get("CSMITH", "csmith")
CSMITH_INCLUDE = os.environ.get("CSMITH_INCLUDE", "/usr/include/csmith")
CREDUCE = os.environ.get("CREDUCE", "creduce")
RUNNER = ROOT / "tests" / "wasm-run.mjs"
REPEAT = ROOT / "tests" / "wasm-repeat.mjs"
# node 20's WASI crashes now and then in processes with many instances without it.
NODE_FLAGS = ["--no-warnings", "--no-turbo-fast-api-calls"]
VALIDATE_FEATURES = ["--enable-threads", "--enable-tail-call", "--enable-exceptions"]

# The fixed set CI runs: (csmith seed, settings per program). Seeds whose programs finish
# quickly under node; each setting is drawn from the seed, so together they cover every
# dispatch kind, granularity, input and code generation level.
CI_SEEDS = [193, 1, 2, 3, 5, 8, 13, 21, 34, 55]
CI_CONFIGS = 3
# One multivariant build of the CI set also runs this many times in one node process,
# each run a fresh instance (node 20's WASI used to crash there).
CI_REPEAT_RUNS = 40

REF_TIMEOUT = 10      # seconds for the reference run; slower programs are skipped
BUILD_TIMEOUT = 600   # mewe on one program
MEMORY_LIMIT = 6 << 30

DIVERSIFIER_SETS = [
    [],                                        # libmewe's default set
    ["subst:rate=1,max=64"],
    ["swap:rate=1"],
    ["blocks:split=1"],
    ["subst:rate=1,max=16", "swap:rate=1", "blocks:split=1"],
    ["blocks:split=0.5,shuffle=1", "subst"],
]


@dataclasses.dataclass(frozen=True)
class Config:
    in_opt: str        # clang -O level of the bitcode: 0, 1, 2, 3, s
    cg_opt: int        # mewe -O
    dispatch: str
    granularity: str
    variants: int
    build_seed: int
    diversifiers: tuple
    rng: str
    max_overhead: str  # "" for the default
    inline_limit: int  # 0 for the default

    def mewe_args(self):
        args = [f"-O{self.cg_opt}", f"--dispatch={self.dispatch}",
                f"--granularity={self.granularity}", f"-n{self.variants}",
                f"--seed={self.build_seed}", f"--rng={self.rng}"]
        args += [f"--diversifier={d}" for d in self.diversifiers]
        if self.max_overhead:
            args.append(f"--max-overhead={self.max_overhead}")
        if self.inline_limit:
            args.append(f"--inline-limit={self.inline_limit}")
        return args

    def describe(self):
        return " ".join([f"in=-O{self.in_opt}", *self.mewe_args()])


def draw_config(seed, index):
    """Settings for one (program, index), the same on every machine."""
    r = random.Random(f"mewe-csmith-{seed}-{index}")
    # The index rotates the dimensions that matter most, so that a few settings per
    # program cover them all across a handful of programs.
    dispatch = ["switch", "table"][(seed + index) % 2]
    granularity = ["call", "instance", "every", "invocation"][(seed // 2 + index) % 4]
    return Config(
        in_opt=r.choice(["0", "1", "2", "2", "3", "s"]),
        cg_opt=(seed + 3 * index) % 4,
        dispatch=dispatch,
        granularity=granularity,
        variants=r.choice([1, 2, 3, 3, 5, 8]),
        build_seed=r.randrange(1 << 32),
        diversifiers=tuple(r.choice(DIVERSIFIER_SETS)),
        rng=r.choice(["wasi", "wasi", "wasi:gen=xorshift", "fixed:seed=7", "host"]),
        max_overhead=r.choice(["", "", "1e9", "1.5"]),
        inline_limit=r.choice([0, 0, 1, 2000]))


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run(cmd, timeout, limit_memory=True, cwd=None):
    """Runs a command; returns (status, stdout, stderr, seconds); status None on timeout."""
    start = time.monotonic()
    try:
        p = subprocess.run([str(c) for c in cmd], capture_output=True, timeout=timeout,
                           preexec_fn=_limit_memory if limit_memory else None, cwd=cwd)
        return p.returncode, p.stdout, p.stderr, time.monotonic() - start
    except subprocess.TimeoutExpired as e:
        return None, e.stdout or b"", e.stderr or b"", time.monotonic() - start


def shell_line(cmd):
    return " ".join(shlex.quote(str(c)) for c in cmd)


def run_wasm_cmd(wasm):
    return [NODE, *NODE_FLAGS, RUNNER, wasm]


class Program:
    """One csmith program and the builds every setting shares (bitcode, references)."""

    def __init__(self, seed, workdir):
        self.seed = seed
        self.dir = workdir / f"seed-{seed}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.source = self.dir / "prog.c"
        self.commands = []
        self._bitcode = {}
        self._reference = {}

    def _must(self, cmd, what, timeout=BUILD_TIMEOUT):
        self.commands.append(shell_line(cmd))
        # In the program's directory: csmith writes platform.info where it runs.
        rc, out, err, _ = run(cmd, timeout, cwd=self.dir)
        if rc != 0:
            raise SetupError(f"{what} failed ({rc}): {err.decode(errors='replace')[-800:]}")
        return out

    def generate(self):
        out = self._must([CSMITH, "--seed", self.seed, "--no-packed-struct"], "csmith", 120)
        self.source.write_bytes(out)
        self.commands = [f"{CSMITH} --seed {self.seed} --no-packed-struct > prog.c"]

    def bitcode(self, level):
        if level not in self._bitcode:
            bc = self.dir / f"in-O{level}.bc"
            self._must([CLANG, "--target=wasm32-wasi", f"-O{level}", "-w", f"-I{CSMITH_INCLUDE}",
                        "-emit-llvm", "-c", self.source, "-o", bc], "clang -emit-llvm")
            self._bitcode[level] = bc
        return self._bitcode[level]

    def reference(self, level):
        """(status, stdout) of clang's own build of the same bitcode, or a SkipProgram."""
        if level not in self._reference:
            wasm = self.dir / f"ref-O{level}.wasm"
            self._must([CLANG, "--target=wasm32-wasi", self.bitcode(level), "-o", wasm],
                       "clang link")
            self.commands.append(shell_line(run_wasm_cmd(wasm)))
            rc, out, err, secs = run(run_wasm_cmd(wasm), REF_TIMEOUT, limit_memory=False)
            if rc is None:
                raise SkipProgram(f"the reference runs longer than {REF_TIMEOUT} s")
            self._reference[level] = (rc, out, secs)
            others = [v for k, v in self._reference.items() if k != level]
            if others and (others[0][0], others[0][1]) != (rc, out):
                raise SkipProgram("clang's builds at different -O levels disagree "
                                  "(undefined behaviour in the program?)")
        return self._reference[level]


class SetupError(Exception):
    """A step before libmewe failed (csmith, clang): the program is skipped."""


class SkipProgram(Exception):
    pass


@dataclasses.dataclass
class Outcome:
    seed: int
    index: int
    config: Config
    status: str        # "pass", "fail", "skip"
    kind: str = ""     # for failures: mewe-crash, mewe-error, invalid, mismatch, timeout, trap
    detail: str = ""
    seconds: float = 0.0
    wasm: str = ""


# The second engine's binary, or None (set by main).
WASMTIME = None


def check_config(prog, index, config, keep):
    """Builds and runs one multivariant setting of a program."""
    started = time.monotonic()
    o = Outcome(prog.seed, index, config, "pass")
    try:
        ref_rc, ref_out, ref_secs = prog.reference(config.in_opt)
    except (SetupError, SkipProgram) as e:
        o.status, o.detail = "skip", str(e)
        return o
    wasm = prog.dir / f"mv-{index}.wasm"
    report = prog.dir / f"mv-{index}.json"
    build = [MEWE, prog.bitcode(config.in_opt), "-o", wasm, "--report", report,
             *config.mewe_args()]
    validate = [WASM_VALIDATE, *VALIDATE_FEATURES, "--", wasm]
    execute = run_wasm_cmd(wasm)
    steps = [build, validate, execute]
    rc, out, err, _ = run(build, BUILD_TIMEOUT)
    if rc is None:
        o.status, o.kind, o.detail = "fail", "timeout", f"mewe ran over {BUILD_TIMEOUT} s"
    elif rc < 0 or rc >= 128:
        o.status, o.kind, o.detail = "fail", "mewe-crash", f"mewe died ({rc}): " \
            f"{err.decode(errors='replace')[-1500:]}"
    elif rc != 0:
        o.status, o.kind, o.detail = "fail", "mewe-error", err.decode(errors="replace")[-1500:]
    if o.status == "pass":
        rc, out, err, _ = run(validate, 120)
        if rc != 0:
            o.status, o.kind = "fail", "invalid"
            o.detail = (out + err).decode(errors="replace")[-1500:]
    if o.status == "pass":
        limit = max(60, 30 * ref_secs)
        rc, out, err, _ = run(execute, limit, limit_memory=False)
        if rc is None:
            o.status, o.kind, o.detail = "fail", "timeout", f"the multivariant run took over " \
                f"{limit:.0f} s (the reference {ref_secs:.1f} s)"
        elif (rc, out) != (ref_rc, ref_out):
            o.status, o.kind = "fail", "mismatch" if b"trap" not in err else "trap"
            o.detail = (f"reference: status {ref_rc}, stdout {ref_out[-300:]!r}\n"
                        f"multivariant: status {rc}, stdout {out[-300:]!r}\n"
                        f"stderr: {err.decode(errors='replace')[-600:]}")
    # The same module under wasmtime, which provides WASI imports only.
    if o.status == "pass" and WASMTIME and not config.rng.startswith("host"):
        steps.append([WASMTIME, "--allow-wasi", "--inherit-stdio", "true", "--init-func",
                      "_start", "--wasm-reference-types", "true", "-o", "/dev/null", wasm])
        limit = max(60, 30 * ref_secs)
        rc, out, err = engines.run_wasmtime(WASMTIME, wasm, timeout=limit)
        if rc is None:
            o.status, o.kind, o.detail = "fail", "timeout", f"under wasmtime, over {limit:.0f} s"
        elif (rc, out) != (ref_rc, ref_out):
            o.status, o.kind = "fail", "wasmtime-mismatch"
            o.detail = (f"reference (node): status {ref_rc}, stdout {ref_out[-300:]!r}\n"
                        f"multivariant (wasmtime): status {rc}, stdout {out[-300:]!r}\n"
                        f"stderr: {err.decode(errors='replace')[-600:]}")
    o.seconds = time.monotonic() - started
    if o.status == "fail":
        keep_failure(prog, index, config, o, steps)
    elif not keep:
        for f in (wasm, report):
            f.unlink(missing_ok=True)
    o.wasm = str(wasm)
    return o


def keep_failure(prog, index, config, o, steps):
    fail_dir = prog.dir.parent / "failures" / f"seed-{prog.seed}-cfg{index}"
    fail_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(prog.source, fail_dir / "prog.c")
    for f in prog.dir.iterdir():
        if f.name.startswith(f"mv-{index}."):
            shutil.copy(f, fail_dir / f.name)
    lines = ["#!/bin/sh", f"# {o.kind}: seed {prog.seed}, setting {index}: {config.describe()}",
             "set -x", f"cd {shlex.quote(str(prog.dir))}", *prog.commands,
             *[shell_line(s) for s in steps]]
    (fail_dir / "repro.sh").write_text("\n".join(lines) + "\n")
    (fail_dir / "failure.txt").write_text(f"{o.kind}\n{config.describe()}\n\n{o.detail}\n")
    (fail_dir / "config.json").write_text(json.dumps(dataclasses.asdict(config)) + "\n")


INTERESTING = """#!/bin/sh
# creduce's test: 0 while prog.c still shows the failure ({kind}) and is free of undefined
# behaviour as far as UBSan and ASan can tell natively.
ulimit -t 300
gcc -w -O0 -fsanitize=undefined,address -fno-sanitize-recover=all -I{inc} prog.c -o native \\
  2>/dev/null || exit 1
timeout 10 ./native >native.out 2>/dev/null || exit 1
{clang} --target=wasm32-wasi -O{in_opt} -w -I{inc} -emit-llvm -c prog.c -o in.bc || exit 1
{clang} --target=wasm32-wasi in.bc -o ref.wasm || exit 1
timeout 10 {node} {flags} {runner} ref.wasm >ref.out 2>/dev/null
ref=$?
[ $ref -lt 124 ] || exit 1
timeout 300 {mewe} in.bc -o mv.wasm {args} >mewe.log 2>&1
built=$?
case {kind} in
  mewe-crash) [ $built -ge 124 ]; exit $? ;;
  mewe-error) [ $built -ne 0 ] && [ $built -lt 124 ] && grep -q {needle} mewe.log; exit $? ;;
esac
[ $built -eq 0 ] || exit 1
case {kind} in
  invalid) ! {validate} mv.wasm >/dev/null 2>&1; exit $? ;;
esac
timeout 60 {node} {flags} {runner} mv.wasm >mv.out 2>/dev/null
mv=$?
[ $mv -ne 124 ] || exit 1
[ $mv -ne $ref ] || ! cmp -s ref.out mv.out
"""


def reduce_failure(fail_dir, config, kind, detail, minutes):
    """Runs creduce on a kept failure; returns a line for the summary."""
    if shutil.which(CREDUCE) is None:
        return f"{fail_dir.name}: creduce not found, not reduced"
    work = fail_dir / "reduce"
    work.mkdir(exist_ok=True)
    shutil.copy(fail_dir / "prog.c", work / "prog.c")
    needle = "error"
    for line in detail.splitlines():
        if line.startswith("mewe: ") and ": " in line[6:]:
            needle = line[6:].split(": ")[0]
            break
    script = INTERESTING.format(
        kind=kind, inc=shlex.quote(CSMITH_INCLUDE), clang=shlex.quote(CLANG),
        in_opt=config.in_opt, node=shlex.quote(NODE), flags=" ".join(NODE_FLAGS),
        runner=shlex.quote(str(RUNNER)), mewe=shlex.quote(os.path.abspath(MEWE)),
        args=" ".join(shlex.quote(a) for a in config.mewe_args()),
        needle=shlex.quote(needle), validate=" ".join([shlex.quote(WASM_VALIDATE),
                                                        *VALIDATE_FEATURES]))
    test = work / "interesting.sh"
    test.write_text(script)
    test.chmod(0o755)
    rc, _, _, _ = run(["sh", test], 900, limit_memory=False, cwd=work)
    if rc != 0:
        return f"{fail_dir.name}: the failure does not reproduce in the reduction script " \
               f"(or the program is not UBSan-clean natively); not reduced"
    before = (work / "prog.c").stat().st_size
    rc, _, err, secs = run([CREDUCE, "--n", "2", "--timeout", "600", test, "prog.c"],
                           minutes * 60, limit_memory=False, cwd=work)
    after = (work / "prog.c").stat().st_size
    shutil.copy(work / "prog.c", fail_dir / "reduced.c")
    return f"{fail_dir.name}: reduced from {before} to {after} bytes in {secs:.0f} s" + \
        ("" if rc == 0 else " (creduce stopped before the end)")


def run_program(seed, configs, workdir, keep):
    prog = Program(seed, workdir)
    try:
        prog.generate()
    except SetupError as e:
        return [Outcome(seed, i, draw_config(seed, i), "skip", detail=str(e))
                for i in range(configs)]
    results = [check_config(prog, i, draw_config(seed, i), keep) for i in range(configs)]
    if not keep and all(r.status != "fail" for r in results):
        shutil.rmtree(prog.dir, ignore_errors=True)
    return results


def repeat_check(workdir, runs):
    """A large multivariant module run many times in one node process, each run a fresh
    instance: every run must print what the reference printed."""
    prog = Program(CI_SEEDS[0], workdir / "repeat")
    config = Config("2", 2, "switch", "call", 3, 1, (), "wasi", "", 0)
    o = Outcome(prog.seed, -1, config, "pass")
    try:
        prog.generate()
        ref_rc, ref_out, _ = prog.reference("2")
    except (SetupError, SkipProgram) as e:
        o.status, o.detail = "skip", str(e)
        return o
    wasm = prog.dir / "mv.wasm"
    rc, _, err, _ = run([MEWE, prog.bitcode("2"), "-o", wasm, *config.mewe_args()],
                        BUILD_TIMEOUT)
    if rc != 0:
        o.status, o.kind, o.detail = "fail", "mewe-error", err.decode(errors="replace")
        return o
    expect = prog.dir / "expected.out"
    expect.write_bytes(ref_out)
    rc, out, err, _ = run([NODE, *NODE_FLAGS, "--expose-gc", REPEAT, "--runs", runs,
                           "--expect", expect, wasm], 600, limit_memory=False)
    o.detail = f"{wasm.stat().st_size} bytes, {runs} instances: " + \
        (out.decode(errors="replace").strip().splitlines() or ["no summary"])[-1][:300]
    if rc != 0 or ref_rc != 0:
        o.status, o.kind = "fail", "mismatch"
        o.detail += f"\n{err.decode(errors='replace')[-800:]}"
    shutil.rmtree(prog.dir, ignore_errors=True)
    return o


def check_tools():
    missing = [t for t in (MEWE, CLANG, NODE, WASM_VALIDATE, CSMITH)
               if shutil.which(t) is None and not os.access(t, os.X_OK)]
    if not pathlib.Path(CSMITH_INCLUDE, "csmith.h").is_file():
        missing.append(f"{CSMITH_INCLUDE}/csmith.h (Debian: libcsmith-dev)")
    return missing


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    campaign.add_seed_options(ap, start=1000, configs=4)
    ap.add_argument("--reduce", action="store_true", help="creduce each failure")
    ap.add_argument("--reduce-minutes", type=int, default=60)
    ap.add_argument("--json", type=pathlib.Path, help="write every outcome here")
    ap.add_argument("--no-wasmtime", action="store_true", help="run under node only, not "
                    "also under wasmtime (tests/corpus/engines.py)")
    args = ap.parse_args()
    global WASMTIME
    if not args.no_wasmtime:
        try:
            WASMTIME = engines.wasmtime()
        except engines.EngineError as e:
            print(f"note: node only: {e}", flush=True)

    missing = check_tools()
    if missing:
        print(f"csmith: SKIP: missing {', '.join(missing)} (scripts/install-deps.sh installs "
              "them)")
        print("0 passed, 0 failed, 1 skipped")
        return 77 if args.ci else 1
    seeds, configs = campaign.seeds_and_configs(ap, args, CI_SEEDS, CI_CONFIGS)
    workdir, tmp = campaign.workdir(args, "mewe-csmith-")

    outcomes = []
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_program, s, configs, workdir, args.keep) for s in seeds]
        if args.ci:
            futures.append(pool.submit(lambda: [repeat_check(workdir, CI_REPEAT_RUNS)]))
        for f in concurrent.futures.as_completed(futures):
            for o in f.result():
                outcomes.append(o)
                where = f"seed {o.seed}" + (f" setting {o.index}" if o.index >= 0 else
                                             " repeated")
                line = f"{o.status.upper()}: {where}: {o.config.describe()}"
                if o.status == "fail":
                    line += f"\n  {o.kind}: " + o.detail.replace("\n", "\n  ")
                elif o.status == "skip" or o.index < 0:
                    line += f" ({o.detail})"
                print(line, flush=True)

    failures = [o for o in outcomes if o.status == "fail"]
    if failures:
        print(f"\nfailures kept in {workdir / 'failures'} (each with repro.sh):")
        for o in failures:
            print(f"  seed-{o.seed}-cfg{o.index}: {o.kind}")
    if args.reduce:
        for o in failures:
            if o.index >= 0:
                fail_dir = workdir / "failures" / f"seed-{o.seed}-cfg{o.index}"
                print(reduce_failure(fail_dir, o.config, o.kind, o.detail, args.reduce_minutes),
                      flush=True)
    if args.json:
        args.json.write_text(json.dumps([dict(dataclasses.asdict(o), config=o.config.describe())
                                         for o in outcomes], indent=1) + "\n")
    counts = {k: sum(o.status == k for o in outcomes) for k in ("pass", "fail", "skip")}
    programs = len(seeds)
    print(f"\n{programs} programs, {len(outcomes)} settings in {time.monotonic() - started:.0f} s")
    print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped")
    if tmp is not None and failures:
        print(f"note: the temporary work directory is removed; rerun with --out to keep "
              "failures", file=sys.stderr)
    if tmp is not None:
        tmp.cleanup()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
