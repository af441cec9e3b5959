#!/usr/bin/env python3
"""libmewe's benchmark: the measures of DESIGN.md ("Measures") on real code.

    python3 bench/run.py [--quick] [--out DIR]

For every benchmark workload of bench/workloads/workloads.json (kind "bench": fixed work
and a checksum), this:

1. builds the original the way a user would without libmewe: the clang driver compiles the
   sources at -O2 for wasm32-wasi and links them with wasm-ld and wasi-libc;
2. builds the multivariant binary with mewe at default settings (per-call dispatch, switch,
   wasi RNG) and again with --granularity=instance, measuring the pipeline's wall time and
   peak memory and reading its --report;
3. warm overhead: times the original and both multivariant binaries alternately in one
   node process, the module compiled once and a fresh instance per run, under V8's default
   tiering after warm-up runs (bench/timing.mjs); the ratio of medians;
4. cold overhead: a new node process per run, alternating, compilation counted the same
   way on both sides; V8's compile time of each module with Liftoff alone and with
   TurboFan alone (bench/compile.mjs); and the code section's size;
5. runs traced builds of both settings many times with the same input
   (tests/wasm-repeat.mjs --trace): unique-trace ratio and the traces' normalized entropy;
   and counts each dispatcher's choices over a few of those runs (bench/choices.mjs):
   choice points per run and the normalized entropy of the choices;
6. writes results.json, results.md and chart.svg to the output directory and prints the
   Markdown, with the median and the worst workload of every measure.

It is a benchmark, not a test: a missed target is reported, not an error. The exit status
is 1 only when something could not be measured (a build failed, a run exited non-zero, or a
binary printed something other than what the original prints), 2 for a usage error.

Builds and traced runs use --jobs processes (2); the measured mewe runs, the timing, the
cold runs and the compilations run alone, one at a time, so that nothing else competes for
the cores while they are measured.

--diagnose adds, for each workload, binaries that split the overhead: libmewe's code
generation alone (--stage=emit), each diversifier alone, and default settings without the
dispatchers called most often.

The recipes are read and turned into commands by tests/corpus/recipes.py, and the npm
packages fetched by tests/corpus/fetch.py: one description of every workload for the
corpus tests and the benchmark.
"""

import argparse
import collections
import concurrent.futures
import dataclasses
import datetime
import hashlib
import json
import math
import os
import pathlib
import platform
import statistics
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
CORPUS = REPO / "tests" / "corpus"
WORKLOADS_JSON = HERE / "workloads" / "workloads.json"

# tests/corpus belongs to the corpus tests: importing from it must not leave a
# __pycache__ there.
sys.dont_write_bytecode = True
sys.path.insert(0, str(CORPUS))
import fetch  # noqa: E402
import recipes  # noqa: E402

import chart  # noqa: E402
import measure  # noqa: E402
import render  # noqa: E402

# The two settings measured, default first. The default is what `mewe IN -o OUT` does.
SETTINGS = {
    "call": [],
    "instance": ["--granularity=instance"],
}

# Extra binaries built by --diagnose, each a list of mewe flags (None: --stage=emit).
# swap is free at run time, so swap/call costs only the dispatch (choosing, then calling a
# non-inlined variant) and swap/instance the dispatch without a fresh choice; subst/call
# and blocks/call over swap/call are each diversifier's own cost. They are per call, not
# per instance, on purpose: per call every run mixes all variants, while per instance a
# run's time depends on which variant it drew, too noisy to compare diversifiers.
DIAGNOSTICS = {
    "emit-only": None,
    "swap/call": ["--diversifier=swap"],
    "swap/instance": ["--diversifier=swap", "--granularity=instance"],
    "subst/call": ["--diversifier=subst"],
    "blocks/call": ["--diversifier=blocks"],
}
HOT_DENIED = 3  # --diagnose also builds default settings without the N most-called.

# Warm timing runs with V8's default tiering, as an edge platform's V8 does: Liftoff
# first, then TurboFan for each function once it has run enough, used from its next call
# (no on-stack replacement for wasm). The compiled module is shared by every instance of
# the run, so tier-up carries over from run to run, and the warm-up runs are there to let
# it happen: WARMUP rounds of every module before any is timed. The catch is main and the
# other functions called once per run: a multivariant main has 4 variants of which a run
# calls one, so a variant may first run (in Liftoff) during a timed run; the timed runs
# are many and the ratio is of medians, so such a run is one outlier, and its cost is real
# (each variant has to be tiered up on its own). timing.mjs reports the warm-up times, so
# that a figure still moving there shows. --v8-steady-state instead compiles every function
# with TurboFan from the start (--no-liftoff): the project's earlier default, kept for
# comparison; it flattered keccak64's ratio (0.43x).
V8_STEADY_STATE = ["--no-liftoff"]
WARMUP, WARMUP_QUICK = 5, 3

# Every node process that runs a WASI module: node 20 can crash in a fast API call made
# from WASI.
NODE_WASI_FLAGS = ["--no-turbo-fast-api-calls"]

# Compile time, one node process per tier: Liftoff alone (no tier-up) and TurboFan alone,
# both compiling every function up front (node 20 compiles lazily by default: a function at
# its first call). --single-threaded keeps V8 from spreading the compilation over
# background threads: the time is the compiler's work, not how busy the other core was.
COMPILE_TIERS = {
    "liftoff": ["--liftoff", "--no-wasm-tier-up"],
    "turbofan": ["--no-liftoff"],
}
COMPILE_FLAGS = ["--no-wasm-lazy-compilation", "--single-threaded"]

# Collects garbage before each instance that tests/wasm-repeat.mjs makes: works around a
# node 20 abort when a collection inside WASI's fd_write finalizes an earlier run's WASI.
GC_PRELOAD = HERE / "gc-between-instances.cjs"

# Traced runs that choices.mjs counts choices over (at most --trace-runs): enough for the
# entropy of per-instance choices, which a run makes once per dispatcher.
CHOICE_RUNS = 20

START = time.perf_counter()
LOAD_AT_START = os.getloadavg()


def log(message):
    """Progress on stderr, so that stdout carries only the figures."""
    print(f"[{time.perf_counter() - START:6.1f}s] {message}", file=sys.stderr, flush=True)


@dataclasses.dataclass
class Config:
    """Tools and options of one benchmark run."""
    mewe: str
    clang: str
    node: str
    out: pathlib.Path
    quick: bool
    repeats: int
    warmup: int
    cold_repeats: int
    compile_repeats: int
    trace_runs: int
    jobs: int
    diagnose: bool
    targets: dict
    v8_flags: list
    clock: str = "wall"  # what bench/timing.mjs times warm runs by
    fingerprint: str = ""  # of mewe and libmewe when the run started


@dataclasses.dataclass
class Job:
    """One workload's state through the phases. `error` (a build failed) skips the later
    phases; a failed measure is one of `problems` and the other measures still run."""
    w: object  # recipes.Workload
    entry: dict  # the workload's raw JSON object, for fields recipes.Workload lacks
    dir: pathlib.Path
    bitcode: list = dataclasses.field(default_factory=list)
    original: pathlib.Path = None
    trace_args: list = None
    trace_input: str = ""
    trace_expect: pathlib.Path = None
    builds: dict = dataclasses.field(default_factory=dict)  # setting -> wasm path
    reports: dict = dataclasses.field(default_factory=dict)  # setting -> report JSON
    result: dict = dataclasses.field(default_factory=dict)
    error: str = None  # a build failed: later phases have nothing to work on
    problems: list = dataclasses.field(default_factory=list)  # a measure failed


# ---------------------------------------------------------------- commands


def original_command(clang, w, output):
    """The fair baseline: what a user gets without libmewe. The clang driver compiles the
    sources (the recipe's flags, -O2) and links with wasm-ld and wasi-libc. Not
    `mewe --stage=emit`: that is libmewe's own code generation path, measured by
    --diagnose as "emit-only"."""
    cflags = list(w.cflags)
    if not any(f.startswith("-O") for f in cflags):
        cflags.append("-O2")
    return [clang, recipes.WASM_TARGET, *cflags,
            *[f"-I{d}" for d in w.include_dirs], *[f"-D{d}" for d in w.defines],
            *w.sources, *[f"-Wl,{a}" for a in w.link_args], "-o", output]


def mewe_command(cfg, job, output, flags, report=None, stage=None):
    """mewe on the workload's bitcode with its link arguments, plus flags; quiet."""
    return [*recipes.mewe_command(cfg.mewe, job.w, job.bitcode, output, report=report,
                                  stage=stage), *flags, "-q"]


def node_command(cfg, script, *args):
    return [cfg.node, "--no-warnings", *NODE_WASI_FLAGS, script, *args]


def wasm_run(cfg, module, args, trace=None):
    """One run of a module under tests/wasm-run.mjs; returns the CompletedProcess."""
    opts = ["--trace", trace] if trace else []
    return measure.run(node_command(cfg, REPO / "tests" / "wasm-run.mjs", *opts, module,
                                    *args), f"wasm-run {module}", check=False)


# ---------------------------------------------------------------- workloads


def trace_input(entry, w):
    """The input of the traced runs, and where it came from: the recipe's small trace
    input if it has one ("trace_args", or "trace": {"args"}), else the workload's own."""
    if "trace_args" in entry:
        return list(entry["trace_args"]), "recipe trace_args"
    trace = entry.get("trace")
    if isinstance(trace, dict) and "args" in trace:
        return list(trace["args"]), "recipe trace.args"
    return list(w.args), "workload args (the recipe has no trace input)"


def choose(doc, names, kinds):
    """The raw workload entries selected by name, else by kind."""
    entries = doc["workloads"]
    if names:
        unknown = set(names) - {e["name"] for e in entries}
        if unknown:
            raise SystemExit(f"run.py: unknown workload(s): {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(e['name'] for e in entries)}")
        return [e for e in entries if e["name"] in names]
    return [e for e in entries if e["kind"] in kinds]


def select_jobs(cfg, names, kinds):
    """The workloads to measure, their packages fetched (only those they need, so that a
    run of the project's own programs needs no network), resolved, as Jobs."""
    doc = recipes.load(WORKLOADS_JSON)
    chosen = choose(doc, names, kinds)
    pins, cache = doc["packages"], fetch.cache_dir()
    roots = {name: fetch.ensure_package(name, pins[name], cache)
             for name in recipes.npm_packages(doc, chosen)}
    entries = {e["name"]: e for e in chosen}
    jobs = []
    for w in recipes.resolve({**doc, "workloads": chosen}, roots, REPO):
        job = Job(w=w, entry=entries[w.name], dir=cfg.out / "work" / w.name)
        job.dir.mkdir(parents=True, exist_ok=True)
        job.trace_args, job.trace_input = trace_input(job.entry, w)
        jobs.append(job)
    return jobs


def guarded(phase, builds):
    """Runs phase(cfg, job) unless a build of the job failed. A failure of a phase that
    builds marks the job failed; one of a phase that measures is recorded as a problem."""
    def wrapper(cfg, job):
        if job.error:
            return
        try:
            phase(cfg, job)
        except (measure.StepError, OSError, ValueError, KeyError) as e:
            message = f"{phase.__name__}: {e}"
            if builds:
                job.error = message
            else:
                job.problems.append(message)
            log(f"{job.w.name}: FAILED in {phase.__name__}: {str(e).splitlines()[0]}")
    wrapper.__name__ = phase.__name__
    return wrapper


def for_each(cfg, jobs, phase, parallel, builds=False):
    """Runs a phase over every job, on cfg.jobs threads when parallel is set. Phases that
    measure time run alone so that nothing else competes for the cores."""
    step = guarded(phase, builds)
    if not parallel or cfg.jobs <= 1:
        for job in jobs:
            step(cfg, job)
        return
    with concurrent.futures.ThreadPoolExecutor(cfg.jobs) as pool:
        list(pool.map(lambda job: step(cfg, job), jobs))


# ---------------------------------------------------------------- phase 1: builds


def prepare(cfg, job):
    """Bitcode, the original, the traced builds and the traced runs' expected output."""
    w = job.w
    for i, src in enumerate(w.sources):
        bc = job.dir / f"{i}-{pathlib.Path(src).stem}.bc"
        measure.run(recipes.bitcode_command(cfg.clang, w, src, bc), f"clang -emit-llvm {src}")
        job.bitcode.append(str(bc))
    job.original = job.dir / "original.wasm"
    measure.run(original_command(cfg.clang, w, job.original), "clang (original)")
    for setting, flags in SETTINGS.items():
        out = job.dir / f"traced-{setting}.wasm"
        measure.run(mewe_command(cfg, job, out, [*flags, "--trace"],
                                 report=out.with_suffix(".json")), f"mewe --trace ({setting})")
    job.trace_expect = job.dir / "trace-expected.out"
    p = wasm_run(cfg, job.original, job.trace_args)
    if p.returncode != 0:
        raise measure.StepError(f"the original exits {p.returncode} on the trace input "
                                f"{job.trace_args}: {p.stderr[-1000:]}")
    job.trace_expect.write_text(p.stdout)
    log(f"{w.name}: built original and traced binaries")


# ---------------------------------------------------------------- phase 2: pipeline


def code_section_bytes(path):
    """The size of a wasm module's code section (id 10): the function bodies, what the
    engine compiles, without the data, names and other sections that size growth counts."""
    data = pathlib.Path(path).read_bytes()
    if data[:4] != b"\0asm":
        raise ValueError(f"{path} is not a wasm module")
    pos = 8
    while pos < len(data):
        section_id = data[pos]
        pos += 1
        size = shift = 0
        while True:
            byte = data[pos]
            pos += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        if section_id == 10:
            return size
        pos += size
    return 0


def dispatch_policy(report):
    """How the binary's dispatchers choose, from the report's "link" object: dispatch kind,
    granularity, RNG strategy and whatever else the library reports there (policies such as
    re-randomization may add fields); absent fields are left out."""
    link = report.get("link") or {}
    return {k: v for k, v in link.items() if k not in ("dispatchers", "trace")}


def report_metrics(report, wasm, original):
    """The report's measures for one multivariant binary (see include/mewe/report.h)."""
    totals, code = report.get("totals", {}), report.get("wasm") or {}
    size, base = os.path.getsize(wasm), os.path.getsize(original)
    code_size, code_base = code_section_bytes(wasm), code_section_bytes(original)
    return {
        "dispatchers": totals.get("dispatchers"),
        "eligible": totals.get("eligible"),
        "diversified": totals.get("diversified"),
        "coverage": totals.get("coverage"),
        "variants_generated": totals.get("variants"),
        "variants": code.get("variants"),
        "distinct_in_wasm": code.get("distinct_in_wasm"),
        "preservation": code.get("preservation"),
        # Dispatch machinery's share of the code section (call-layout dispatchers and
        # libmewe's helpers; see include/mewe/report.h).
        "dispatch_share": code.get("dispatch_share"),
        "log10_static_paths": totals.get("log10_static_paths"),
        "time_budget_hit": totals.get("time_budget_hit"),
        "wasm_bytes": size,
        "original_wasm_bytes": base,
        "code_bytes": code.get("code_bytes"),
        "size_growth": size / base,
        "code_section_bytes": code_size,
        "original_code_section_bytes": code_base,
        "code_section_ratio": code_size / code_base if code_base else None,
        "policy": dispatch_policy(report),
        # How many dispatchers got each re-randomization plan ("policy_every": 12, ...)
        # and how many carry their variants inline, when the library reports it.
        "plans": {k[len("policy_"):]: v for k, v in totals.items()
                  if k.startswith("policy_") and isinstance(v, int)},
        "inlined_dispatchers": totals.get("inlined_dispatchers"),
    }


def pipeline(cfg, job):
    """The measured mewe runs, one at a time: wall time, peak memory and the report."""
    for setting, flags in SETTINGS.items():
        out = job.dir / f"mv-{setting}.wasm"
        report = out.with_suffix(".json")
        cmd = mewe_command(cfg, job, out, flags, report=report)
        m = measure.must_measured(cmd, job.dir / f"mv-{setting}.log", f"mewe ({setting})")
        job.builds[setting] = out
        job.reports[setting] = json.loads(report.read_text())
        r = report_metrics(job.reports[setting], out, job.original)
        r.update(pipeline_s=m.wall_s, peak_mib=m.peak_mib, command=[str(c) for c in cmd])
        distinct, dispatchers = r["distinct_in_wasm"], r["dispatchers"]
        # Generation throughput (DESIGN.md): generated bodies that stayed distinct in the
        # wasm, the originals excluded, per second of the whole pipeline.
        if distinct is not None and dispatchers is not None and m.wall_s > 0:
            r["distinct_variants_per_s"] = (distinct - dispatchers) / m.wall_s
        job.result.setdefault("settings", {})[setting] = r
        log(f"{job.w.name}: mewe ({setting}) {m.wall_s:.1f} s, {m.peak_mib:.0f} MiB")


# ---------------------------------------------------------------- phase 3: traces


def traces(cfg, job):
    """Each traced binary run trace_runs times with the same input, every run checked
    against the original's output."""
    for setting in SETTINGS:
        module = job.dir / f"traced-{setting}.wasm"
        start = time.perf_counter()
        cmd = [cfg.node, "--no-warnings", *NODE_WASI_FLAGS, "--expose-gc", "--require",
               GC_PRELOAD,
               REPO / "tests" / "wasm-repeat.mjs", "--trace", "--runs", cfg.trace_runs,
               "--expect", job.trace_expect, module, *job.trace_args]
        p = measure.run(cmd, f"wasm-repeat ({setting})", check=False)
        try:
            summary = json.loads(p.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise measure.StepError(f"wasm-repeat printed no summary (status {p.returncode})"
                                    f": {p.stderr[-1500:]}") from None
        summary["seconds"] = time.perf_counter() - start
        if summary["mismatches"]:
            raise measure.StepError(f"traced {setting}: {summary['mismatches']} runs differ "
                                    f"from the original: {summary['first_mismatch']}")
        summary.update(choice_stats(cfg, job, setting, module))
        job.result.setdefault("traces", {})[setting] = summary
        log(f"{job.w.name}: {cfg.trace_runs} traced runs ({setting}) in "
            f"{summary['seconds']:.0f} s: unique {summary['unique_trace_ratio']:.2f}, "
            f"trace entropy {summary['normalized_entropy']:.2f}, choice entropy "
            f"{render.fmt(summary['choice_entropy'], '.2f')}, "
            f"{summary['choices_per_run']:.3g} choices/run")


def variant_counts(report):
    """{dispatcher id: how many bodies it chooses among}, from the report: the wasm
    section's count when it has one for the function, else the generated variants plus the
    original."""
    in_wasm = {d["name"]: d.get("variants") for d in (report.get("wasm") or {}).get(
        "dispatchers", [])}
    out = {}
    for f in report.get("functions", []):
        if "dispatcher_id" in f:
            n = in_wasm.get(f["name"]) or (f.get("variants") or 0) + 1
            out[f["dispatcher_id"]] = n
    return out


def choice_entropy(counts, variants):
    """Normalized Shannon entropy of the dispatchers' choices: for each dispatcher reached,
    the entropy of how often it chose each of its k bodies over log2(k) (1: uniform), then
    the mean weighted by how many choices each made, so that a dispatcher called once
    weighs once. Dispatchers with one body cannot choose and are left out."""
    total = weighted = 0.0
    for f, row in counts.items():
        n = sum(row)
        k = max(variants.get(int(f), 0), len(row))
        if n == 0 or k < 2:
            continue
        h = -sum(c / n * math.log2(c / n) for c in row if c)
        weighted += n * h / math.log2(k)
        total += n
    return weighted / total if total else None


def choice_stats(cfg, job, setting, module):
    """Choice points per run (dispatches made in one run) and the choice entropy, counted
    over a few traced runs on the trace input (bench/choices.mjs)."""
    runs = min(cfg.trace_runs, CHOICE_RUNS)
    cmd = [cfg.node, "--no-warnings", *NODE_WASI_FLAGS, "--expose-gc", HERE / "choices.mjs",
           "--runs", runs, module, *job.trace_args]
    p = measure.run(cmd, f"choices ({setting})", check=False)
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        raise measure.StepError(f"choices.mjs printed no summary (status {p.returncode}): "
                                f"{p.stderr[-1500:]}") from None
    if p.returncode != 0:
        raise measure.StepError(f"choices.mjs: exit codes {doc['exit_codes']}: "
                                f"{p.stderr[-800:]}")
    # The traced build's own report: its dispatcher ids are the ones the trace names.
    variants = variant_counts(json.loads(module.with_suffix(".json").read_text()))
    per_run = doc["choices_per_run"]
    fresh = doc.get("fresh_per_run") or [0]
    return {"choices_per_run": statistics.median(per_run), "fresh_per_run": min(fresh),
            "choices_per_run_min": min(per_run), "choices_per_run_max": max(per_run),
            "choice_entropy": choice_entropy(doc["counts"], variants),
            "dispatchers_reached": len(doc["counts"]), "choice_runs": runs}


# ---------------------------------------------------------------- phase 4: timing


def time_modules(cfg, job, modules, repeats):
    """bench/timing.mjs over {label: wasm}, the original first; checks exit codes and that
    every module printed the same as the original, and that to the recipe's expectation."""
    capture = job.dir / "capture"
    capture.mkdir(exist_ok=True)
    cmd = [cfg.node, "--no-warnings", *NODE_WASI_FLAGS, "--expose-gc", *cfg.v8_flags,
           HERE / "timing.mjs", "--clock", cfg.clock,
           "--repeats",
           repeats, "--warmup", cfg.warmup, "--capture", capture,
           *[f"{label}={path}" for label, path in modules.items()], "--", *job.w.args]
    p = measure.run(cmd, "bench/timing.mjs", check=False)
    try:
        summary = json.loads(p.stdout)
    except ValueError:
        raise measure.StepError(f"timing.mjs printed no summary (status {p.returncode}): "
                                f"{p.stderr[-1500:]}") from None
    if summary["failures"] or not summary["identical_stdout"]:
        raise measure.StepError(f"timing: failures {summary['failures']}, identical stdout "
                                f"{summary['identical_stdout']}: {p.stderr[-1000:]}")
    stdout = (capture / "original.out").read_text()
    problems = recipes.check_output(job.w.expect, 0, stdout)
    if problems:
        raise measure.StepError(f"the output is not what the recipe expects: {problems}")
    return summary


def timing(cfg, job):
    """Run-time overhead of both settings against the original."""
    modules = {"original": job.original, **{s: job.builds[s] for s in SETTINGS}}
    summary = time_modules(cfg, job, modules, cfg.repeats)
    job.result["timing"] = summary
    for setting in SETTINGS:
        r = job.result["settings"][setting]
        r["overhead"] = summary["ratios"][setting]
        r["overhead_paired"] = summary["paired_ratios"][setting]
    medians = {m["label"]: m["median_s"] for m in summary["modules"]}
    log(f"{job.w.name}: medians " + ", ".join(f"{k} {v * 1000:.0f} ms"
                                              for k, v in medians.items()))


def cold(cfg, job):
    """Cold overhead: a new node process per run (start, read, compile with V8's defaults,
    instantiate, run, exit), the original and the multivariant binaries alternating, each
    round in an order rotated by one. Compilation is counted the same way on both sides:
    by node's defaults, in the process that runs the module. The ratio is of medians of
    wall times taken around the whole process."""
    modules = {"original": job.original, **{s: job.builds[s] for s in SETTINGS}}
    labels = list(modules)
    times = {label: [] for label in labels}
    for k in range(cfg.cold_repeats):
        for j in range(len(labels)):
            label = labels[(j + k) % len(labels)]
            cmd = node_command(cfg, REPO / "tests" / "wasm-run.mjs", modules[label],
                               *job.w.args)
            start = time.perf_counter()
            p = measure.run(cmd, f"cold run ({label})", check=False)
            elapsed = time.perf_counter() - start
            if p.returncode != 0:
                raise measure.StepError(f"cold run of {label} exits {p.returncode}: "
                                        f"{(p.stderr or '')[-800:]}")
            times[label].append(elapsed)
    medians = {label: statistics.median(t) for label, t in times.items()}
    job.result["cold"] = {"repeats": cfg.cold_repeats, "median_s": medians, "times_s": times}
    for setting in SETTINGS:
        job.result["settings"][setting]["cold_overhead"] = (
            medians[setting] / medians["original"])
    log(f"{job.w.name}: cold medians " + ", ".join(f"{k} {v * 1000:.0f} ms"
                                                   for k, v in medians.items()))


def compile_time(cfg, job):
    """V8's compile time of every module, Liftoff alone and TurboFan alone, each tier in
    its own node process (bench/compile.mjs), as ratios to the original's."""
    modules = {"original": job.original, **{s: job.builds[s] for s in SETTINGS}}
    out = {}
    for tier, flags in COMPILE_TIERS.items():
        cmd = [cfg.node, "--no-warnings", *NODE_WASI_FLAGS, "--expose-gc", *COMPILE_FLAGS,
               *flags, HERE / "compile.mjs", "--repeats", cfg.compile_repeats,
               *[f"{label}={path}" for label, path in modules.items()]]
        p = measure.run(cmd, f"compile ({tier})", check=False)
        try:
            summary = json.loads(p.stdout)
        except ValueError:
            raise measure.StepError(f"compile.mjs ({tier}) printed no summary (status "
                                    f"{p.returncode}): {p.stderr[-1500:]}") from None
        out[tier] = summary
        for setting in SETTINGS:
            job.result["settings"][setting][f"compile_{tier}"] = summary["ratios"][setting]
    job.result["compile"] = out
    log(f"{job.w.name}: compile " + ", ".join(
        f"{tier} original {s['modules'][0]['median_s'] * 1000:.0f} ms, call "
        f"{s['ratios']['call']:.2f}x" for tier, s in out.items()))


# ---------------------------------------------------------------- phase 5: diagnose


def call_counts(cfg, job):
    """Dispatches per function in one traced run (default settings) on the trace input,
    most called first, as [(name, calls)]."""
    trace = job.dir / "diagnose-trace.txt"
    p = wasm_run(cfg, job.dir / "traced-call.wasm", job.trace_args, trace=trace)
    if p.returncode != 0:
        raise measure.StepError(f"traced run exits {p.returncode}: {p.stderr[-800:]}")
    counts = collections.Counter()
    with open(trace, encoding="ascii") as f:
        for line in f:
            counts[line.split(" ", 1)[0]] += 1
    trace.unlink()
    report = json.loads((job.dir / "traced-call.json").read_text())
    names = {str(f["dispatcher_id"]): f["name"] for f in report["functions"]
             if "dispatcher_id" in f}
    return [(names[i], n) for i, n in counts.most_common()]


def diagnose(cfg, job):
    """Binaries that split the overhead, timed together with the original."""
    hot = call_counts(cfg, job)
    modules = {"original": job.original, "call": job.builds["call"],
               "instance": job.builds["instance"]}
    for label, flags in DIAGNOSTICS.items():
        out = job.dir / f"diag-{label.replace('/', '-')}.wasm"
        stage = "emit" if flags is None else None
        measure.run(mewe_command(cfg, job, out, flags or [], stage=stage), f"mewe ({label})")
        modules[label] = out
    denied = [name for name, _ in hot[:HOT_DENIED]]
    if denied:
        label = "call, hot denied"
        out = job.dir / "diag-deny-hot.wasm"
        measure.run(mewe_command(cfg, job, out, [f"--deny={n}" for n in denied]), label)
        modules[label] = out
    summary = time_modules(cfg, job, modules, cfg.repeats)
    total = sum(n for _, n in hot) or 1
    job.result["diagnose"] = {
        "ratios": summary["ratios"], "paired_ratios": summary["paired_ratios"],
        "hot": [{"name": n, "calls": c, "share": c / total} for n, c in hot[:8]],
        "denied": denied, "dispatches_on_trace_input": total,
        "trace_args": job.trace_args,
    }
    log(f"{job.w.name}: diagnose " + ", ".join(f"{k} {v:.2f}x"
                                               for k, v in summary["ratios"].items()))


# ---------------------------------------------------------------- results


def tool_version(cmd):
    try:
        p = measure.run(cmd, "version", timeout=30, check=False)
        return (p.stdout or p.stderr).strip().splitlines()[0]
    except (measure.StepError, IndexError, OSError):
        return "unknown"


def source_revision():
    """The commit measured, and whether the work tree differed from it (a mewe built from
    uncommitted changes)."""
    head = measure.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], "git",
                       check=False).stdout.strip()
    dirty = measure.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no",
                         "--", "lib", "include", "tools"], "git", check=False).stdout.strip()
    return f"{head or 'unknown'}{' + uncommitted changes to lib/include/tools' if dirty else ''}"


def mewe_fingerprint(mewe):
    """A digest of the mewe executable and the libmewe it loads: taken at the start and at
    the end, it tells whether libmewe was rebuilt while the benchmark ran (then binaries
    of two libmewe versions were compared)."""
    files = [mewe]
    p = measure.run(["ldd", mewe], "ldd", check=False)
    for line in p.stdout.splitlines():
        if "libmewe" in line and "=>" in line:
            files.append(line.split("=>")[1].split("(")[0].strip())
    digest = hashlib.sha256()
    for f in files:
        try:
            digest.update(pathlib.Path(f).read_bytes())
        except OSError:
            digest.update(f.encode())
    return digest.hexdigest()[:16]


def meta(cfg):
    """What the figures were measured on and how."""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.platform(), "cpus": os.cpu_count(),
        "mewe": tool_version([cfg.mewe, "--version"]), "revision": source_revision(),
        "mewe_fingerprint_start": cfg.fingerprint,
        "mewe_fingerprint_end": mewe_fingerprint(cfg.mewe),
        "clang": tool_version([cfg.clang, "--version"]),
        "node": tool_version([cfg.node, "--version"]),
        "quick": cfg.quick, "repeats": cfg.repeats, "warmup": cfg.warmup,
        "cold_repeats": cfg.cold_repeats, "compile_repeats": cfg.compile_repeats,
        "trace_runs": cfg.trace_runs, "choice_runs": min(cfg.trace_runs, CHOICE_RUNS),
        "jobs": cfg.jobs, "v8_flags": cfg.v8_flags, "node_wasi_flags": NODE_WASI_FLAGS,
        "warm_clock": cfg.clock,
        "compile_flags": {tier: COMPILE_FLAGS + flags for tier, flags in COMPILE_TIERS.items()},
        # The figures are only as good as the machine was quiet: a load above the core
        # count means something else ran alongside.
        "load_average_start": LOAD_AT_START, "load_average_end": os.getloadavg(),
        "baseline": "clang driver, sources at -O2 for wasm32-wasi, wasm-ld + wasi-libc",
        "settings": {s: ["mewe", *f] for s, f in SETTINGS.items()},
        "targets": cfg.targets,
    }


def collect(cfg, jobs, seconds):
    """The results document."""
    workloads = []
    for job in jobs:
        entry = {"name": job.w.name, "args": list(job.w.args), "about": job.w.about,
                 "trace_args": job.trace_args, "trace_input": job.trace_input,
                 "sources": [os.path.relpath(s, REPO) if s.startswith(str(REPO)) else s
                             for s in job.w.sources]}
        if job.original and job.original.exists():
            entry["original_wasm_bytes"] = os.path.getsize(job.original)
        entry.update(job.result)
        if job.error:
            entry["error"] = job.error
        if job.problems:
            entry["problems"] = job.problems
        workloads.append(entry)
    doc = {"meta": meta(cfg), "workloads": workloads}
    doc["meta"]["seconds"] = seconds
    doc["summary"] = render.summary(doc)
    return doc


def write_outputs(cfg, doc):
    """results.json, results.md and chart.svg in the output directory; returns the
    Markdown."""
    cfg.out.mkdir(parents=True, exist_ok=True)
    (cfg.out / "results.json").write_text(json.dumps(doc, indent=1, default=str) + "\n")
    text = render.markdown(doc)
    (cfg.out / "results.md").write_text(text)
    (cfg.out / "chart.svg").write_text(chart.svg(doc))
    return text


# ---------------------------------------------------------------- command line


DEFAULT_TARGETS = {
    "overhead_median": 1.10,  # at default settings, median over workloads
    "overhead_worst": 1.5,  # at default settings, worst workload
    "unique_trace_ratio": 0.99,  # every workload, default settings
    "entropy": 0.95,  # every workload, default settings
    "secp256k1_pipeline_s": 60.0,  # every secp256k1 workload, default settings
}


def parse_targets(specs):
    """--target KEY=VALUE overrides of DEFAULT_TARGETS."""
    targets = dict(DEFAULT_TARGETS)
    for spec in specs:
        key, _, value = spec.partition("=")
        if key not in targets:
            raise SystemExit(f"run.py: unknown target {key!r}; known: {', '.join(targets)}")
        targets[key] = float(value)
    return targets


def find_mewe():
    """$MEWE, else the build tree's mewe (ninja -C build)."""
    path = os.environ.get("MEWE") or str(REPO / "build" / "tools" / "mewe")
    if not os.access(path, os.X_OK):
        raise SystemExit(f"run.py: no mewe at {path}: build it (ninja -C build) or set MEWE")
    return path


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="Exit status: 0 when every workload was measured, "
                                        "targets met or not; 1 when one could not be; "
                                        "2 for usage errors.")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="what warm runs are timed by: the wall clock (default), or the node "
                         "process's CPU time, which does not count waiting for a core on a "
                         "machine where other work runs alongside")
    ap.add_argument("--quick", action="store_true",
                    help="fewer repeats: 5 warm, 3 cold, 3 compilations and 30 traced runs "
                         "instead of 15, 7, 5 and 100")
    ap.add_argument("--out", type=pathlib.Path, default=HERE / "results",
                    help="output directory (default: bench/results)")
    ap.add_argument("--workloads", default="",
                    help="comma-separated workload names (default: every kind 'bench')")
    ap.add_argument("--kind", default="bench", choices=["bench", "test", "all"],
                    help="which workloads when --workloads is not given (default: bench)")
    ap.add_argument("--repeats", type=int, help="timed runs per module (15; --quick: 5)")
    ap.add_argument("--warmup", type=int,
                    help=f"warm-up runs per module ({WARMUP}; --quick: {WARMUP_QUICK})")
    ap.add_argument("--cold-repeats", type=int,
                    help="node processes per module for the cold overhead (7; --quick: 3)")
    ap.add_argument("--compile-repeats", type=int,
                    help="compilations per module and tier (5; --quick: 3)")
    ap.add_argument("--trace-runs", type=int, help="traced runs (100; --quick: 30)")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                    help="parallel build and trace jobs; timing and the measured pipeline "
                         "always run alone (default: %(default)s)")
    ap.add_argument("--diagnose", action="store_true",
                    help="also build and time binaries that split the overhead")
    ap.add_argument("--v8-steady-state", action="store_true",
                    help="warm timing with TurboFan code from the first call (--no-liftoff) "
                         "instead of V8's default tiering")
    ap.add_argument("--v8-tiering", action="store_true",
                    help="V8's default tiering: the default now; accepted for old scripts")
    ap.add_argument("--target", action="append", default=[], metavar="KEY=VALUE",
                    help="override a target: " + ", ".join(
                        f"{k}={v}" for k, v in DEFAULT_TARGETS.items()))
    return ap.parse_args(argv)


def config(args):
    return Config(
        mewe=find_mewe(), clang=os.environ.get("CLANG", "clang-19"),
        node=os.environ.get("NODE", "node"), out=args.out.resolve(), quick=args.quick,
        repeats=args.repeats or (5 if args.quick else 15),
        warmup=args.warmup or (WARMUP_QUICK if args.quick else WARMUP),
        cold_repeats=args.cold_repeats or (3 if args.quick else 7),
        compile_repeats=args.compile_repeats or (3 if args.quick else 5),
        trace_runs=args.trace_runs or (30 if args.quick else 100),
        jobs=max(1, args.jobs), diagnose=args.diagnose, targets=parse_targets(args.target),
        v8_flags=list(V8_STEADY_STATE) if args.v8_steady_state else [], clock=args.clock)


def main(argv=None):
    args = parse_args(argv)
    cfg = config(args)
    cfg.fingerprint = mewe_fingerprint(cfg.mewe)
    names = [n for n in args.workloads.split(",") if n]
    kinds = {"bench", "test"} if args.kind == "all" else {args.kind}
    try:
        jobs = select_jobs(cfg, names, kinds)
    except fetch.FetchError as e:
        print(f"run.py: cannot fetch the workloads' packages: {e}", file=sys.stderr)
        return 1
    log(f"{len(jobs)} workloads: {', '.join(j.w.name for j in jobs)}")
    for_each(cfg, jobs, prepare, parallel=True, builds=True)
    for_each(cfg, jobs, pipeline, parallel=False, builds=True)
    for_each(cfg, jobs, traces, parallel=True)
    for_each(cfg, jobs, timing, parallel=False)
    for_each(cfg, jobs, cold, parallel=False)
    for_each(cfg, jobs, compile_time, parallel=False)
    if cfg.diagnose:
        for_each(cfg, jobs, diagnose, parallel=False)
    doc = collect(cfg, jobs, time.perf_counter() - START)
    print(write_outputs(cfg, doc))
    log(f"wrote {cfg.out / 'results.json'}, results.md, chart.svg")
    return 1 if any(job.error or job.problems for job in jobs) else 0


if __name__ == "__main__":
    sys.exit(main())
