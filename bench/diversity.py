#!/usr/bin/env python3
"""The diversifiers' benchmark: for each built-in diversifier alone and for the default mix,
on the test fixtures and on the benchmark's own programs, what the whole pipeline makes and
what it costs.

    python3 bench/diversity.py [--quick] [--variants N] [--out DIR] [--workloads a,b]
                               [--specs s1;s2] [--no-timing]

Per program and spec (a diversifier spec, "default" for the default mix and settings, which
make all but one of a called function's variants in wasm, "no-wasm-derived" for the default
mix with none made so), mewe runs the whole pipeline (generate with its wasm check, link, emit) with --report, -n N
(8) and a fixed seed, and this reports:

- distinct: variants kept: distinct in the output for the dispatchers whose variants stay
  functions (the report's "wasm" section), distinct in the wasm that generation compiled
  (the report's distinct_in_wasm) for the other functions that the check compiled, and
  distinct in IR for the rest (see doc/guide.md, "Preservation"), but not those of
  dispatchers that the link dropped because nothing calls them ("in_output": false);
- per_s, per_cpu_s: distinct variants per second of the pipeline's wall time, and per
  second of its CPU time (user + system of mewe, its load-check helper and wasm-ld: per
  core); per_extra_cpu_s ("/extra cpu-s"): per second of the CPU time that the pipeline
  takes beyond `mewe --stage=emit` of the same bitcode (load, code generation of the
  original, wasm-ld, three process starts: about 0.25 s for a fixture), what
  the variants themselves cost;
- preservation: distinct in wasm over distinct in IR (what generation's wasm check kept of
  the variants that differed in IR), and the emitted module's own preservation for the
  dispatchers whose variants stay functions;
- difference: the report's mean and minimum wasm_difference (Jaccard distance of the
  bodies' 4-byte substrings, mean over every pair of a function's bodies);
- share8: of the eligible functions of 10 or more instructions, the share that carry N
  distinct variants (the target is 95% at N = 8);
- growth: the code section of the multivariant module over that of `mewe --stage=emit` of
  the same bitcode (libmewe's code generation without variants);
- overhead (bench workloads only, --no-timing skips it): warm run-time ratio of medians
  against the --stage=emit build, by bench/timing.mjs (one node process, module compiled
  once, fresh instance per run, alternating).

Every multivariant build is run once and must print what the original prints. Results go to
DIR/diversity.json and a Markdown table on stdout. A benchmark, not a test: nothing here
fails on a missed target; the exit status is 1 only when a build or run failed.
"""

import argparse
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests" / "corpus"))
import fetch  # noqa: E402
import recipes  # noqa: E402

NODE_FLAGS = ["--no-warnings", "--no-turbo-fast-api-calls"]
FIXTURES = ["loops", "recursion", "fnptr", "structs", "globals", "computed_goto", "costs"]
PROGRAMS = ["base64-bench", "aead-bench", "qr-bench", "keccak64-sha3-256"]
SPECS = ["default", "subst", "swap", "blocks", "layout", "blind", "opaque", "pad", "pipeline",
         "superopt", "no-wasm-derived"]
# Not a diversifier: the default mix with no variant made in wasm (doc/guide.md, "Variants
# made in wasm"); "default" makes all but one of a called function's variants so.
NO_DERIVED = "no-wasm-derived"


def run(cmd, what, **kw):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"{what} failed ({p.returncode}): {p.stderr[-2000:]}")
    return p


def timed(cmd, what):
    """Runs cmd; returns (wall seconds, CPU seconds of it and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    run(cmd, what)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def code_bytes(path):
    """Size of the code section (id 10) of a wasm module."""
    data = pathlib.Path(path).read_bytes()
    i = 8
    while i < len(data):
        sid = data[i]
        i += 1
        size = shift = 0
        while True:
            b = data[i]
            i += 1
            size |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        if sid == 10:
            return size
        i += size
    return 0


def node_run(node, wasm, args):
    p = subprocess.run([node, *NODE_FLAGS, REPO / "tests" / "wasm-run.mjs", wasm, *args],
                       capture_output=True, text=True)
    return p.returncode, p.stdout


class Program:
    """A program to diversify: its bitcode files, link arguments, arguments and output."""

    def __init__(self, name, bitcode, link_args, args, expect_out, bench):
        self.name, self.bitcode, self.link_args = name, bitcode, link_args
        self.args, self.expect_out, self.bench = args, expect_out, bench
        self.base_cpu_s = None  # CPU time of `mewe --stage=emit`: the pipeline without variants


def fixture_programs(cfg, work):
    out = []
    for f in FIXTURES:
        bc = work / f"{f}.bc"
        run([cfg.clang, recipes.WASM_TARGET, "-O2", "-emit-llvm", "-c",
             REPO / "tests" / "fixtures" / f"{f}.c", "-o", bc], f"clang {f}")
        expect = (REPO / "tests" / "fixtures" / f"{f}.expected").read_text()
        out.append(Program(f, [bc], [], [], expect, False))
    return out


def workload_programs(cfg, work, names):
    doc = recipes.load()
    chosen = [e for e in doc["workloads"] if e["name"] in names]
    pins, cache = doc["packages"], fetch.cache_dir()
    roots = {n: fetch.ensure_package(n, pins[n], cache)
             for n in recipes.npm_packages(doc, chosen)}
    out = []
    for w in recipes.resolve({**doc, "workloads": chosen}, roots, REPO):
        d = work / w.name
        d.mkdir(parents=True, exist_ok=True)
        bcs = []
        for i, src in enumerate(w.sources):
            bc = d / f"{i}-{pathlib.Path(src).stem}.bc"
            run(recipes.bitcode_command(cfg.clang, w, src, bc), f"clang {src}")
            bcs.append(bc)
        out.append(Program(w.name, bcs, list(w.link_args), list(w.args), None, True))
    return out


def mewe_cmd(cfg, prog, out, extra):
    return [cfg.mewe, *prog.bitcode, "-o", out, *[f"--link-arg={a}" for a in prog.link_args],
            "-q", *extra]


def measure(cfg, prog, spec, work):
    base = work / f"{prog.name}-emit.wasm"
    if prog.base_cpu_s is None:
        _, prog.base_cpu_s = timed(mewe_cmd(cfg, prog, base, ["--stage=emit"]),
                                   f"mewe --stage=emit {prog.name}")
        rc, out = node_run(cfg.node, base, prog.args)
        if rc != 0:
            raise RuntimeError(f"{prog.name}: the original exits {rc}")
        if prog.expect_out is None:
            prog.expect_out = out
    tag = spec.replace(":", "_").replace(",", "_").replace("=", "")
    wasm = work / f"{prog.name}-{tag}.wasm"
    report = wasm.with_suffix(".json")
    extra = [f"--seed={cfg.seed}", f"-n{cfg.variants}", f"--report={report}"]
    if spec == NO_DERIVED:
        extra.append("--wasm-derived=0")
    elif spec != "default":  # the diversifier alone: no variant made in wasm
        extra += [f"--diversifier={spec}", "--wasm-derived=0"]
    wall, cpu = timed(mewe_cmd(cfg, prog, wasm, extra), f"mewe {prog.name} {spec}")
    rc, out = node_run(cfg.node, wasm, prog.args)
    if rc != 0 or out != prog.expect_out:
        raise RuntimeError(f"{prog.name} with {spec}: exit {rc}, output differs")
    r = json.loads(report.read_text())
    t = r["totals"]
    # Dispatchers whose variants stay functions count what the output holds distinct (its
    # "wasm" section, the original's body aside: variants made in wasm are counted there);
    # the others what the check kept distinct, or, not checked, distinct in IR; those of a
    # dispatcher that wasm-ld dropped (nothing calls it) do not count.
    in_output = {d["name"]: d["distinct_in_wasm"] - 1 for d in r["wasm"]["dispatchers"]}

    def kept(f):
        return in_output.get(f["name"], f.get("distinct_in_wasm", f.get("variants", 0)))

    distinct = sum(kept(f) for f in r["functions"] if f.get("in_output", True))
    # share8 counts variants the same way: a variant made in wasm that came out like
    # another of its family is not one more.
    big = [f for f in r["functions"] if f["eligible"] and f["instructions"] >= 10]
    full = [f for f in big if kept(f) >= cfg.variants]
    res = {
        "program": prog.name, "spec": spec, "distinct": distinct,
        "wall_s": wall, "cpu_s": cpu, "base_cpu_s": prog.base_cpu_s,
        "per_s": distinct / wall if wall else 0.0,
        "per_cpu_s": distinct / cpu if cpu else 0.0,
        "per_extra_cpu_s": distinct / (cpu - prog.base_cpu_s) if cpu > prog.base_cpu_s else None,
        "distinct_in_ir": t.get("distinct_in_ir"),
        "generation_preservation": t.get("generation_preservation"),
        "emitted_preservation": r["wasm"]["preservation"] if r["wasm"]["variants"] else None,
        "difference_mean": t.get("wasm_difference_mean"),
        "difference_min": t.get("wasm_difference_min"),
        "functions_10plus": len(big), "with_all_variants": len(full),
        "share_full": len(full) / len(big) if big else None,
        "growth": code_bytes(wasm) / max(1, code_bytes(base)),
        "overhead": None,
    }
    if prog.bench and cfg.timing:
        p = subprocess.run([cfg.node, *NODE_FLAGS, "--expose-gc", HERE / "timing.mjs",
                            "--repeats", str(cfg.repeats), "--warmup", "1",
                            f"original={base}", f"mv={wasm}", "--", *prog.args],
                           capture_output=True, text=True)
        if p.returncode == 0:
            res["overhead"] = json.loads(p.stdout)["ratios"]["mv"]
    return res


def fmt(v, spec="{:.2f}"):
    return "–" if v is None else spec.format(v)


def table(rows):
    lines = ["| program | spec | distinct | /s | /cpu-s | /extra cpu-s | pres. (gen) | diff mean "
             "| diff min | share N | growth | overhead |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(
            f"| {r['program']} | {r['spec']} | {r['distinct']} | {fmt(r['per_s'], '{:.0f}')} "
            f"| {fmt(r['per_cpu_s'], '{:.0f}')} | {fmt(r.get('per_extra_cpu_s'), '{:.0f}')} "
            f"| {fmt(r['generation_preservation'])} "
            f"| {fmt(r['difference_mean'])} | {fmt(r['difference_min'])} "
            f"| {r['with_all_variants']}/{r['functions_10plus']} | {fmt(r['growth'])}x "
            f"| {fmt(r['overhead'], '{:.3f}x')} |")
    return "\n".join(lines)


def summary(rows, specs):
    """Per spec, over every program: totals and the medians that the targets speak of."""
    lines = ["| spec | distinct | /cpu-s (all programs) | /extra cpu-s (all) | share N (all) "
             "| diff mean (median) | growth (median) | overhead (median, bench) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for spec in specs:
        rs = [r for r in rows if r["spec"] == spec]
        if not rs:
            continue
        distinct = sum(r["distinct"] for r in rs)
        cpu = sum(r["cpu_s"] for r in rs)
        extra = cpu - sum(r["base_cpu_s"] for r in rs)
        big = sum(r["functions_10plus"] for r in rs)
        full = sum(r["with_all_variants"] for r in rs)
        diffs = [r["difference_mean"] for r in rs if r["difference_mean"] is not None]
        over = [r["overhead"] for r in rs if r["overhead"] is not None]
        lines.append(
            f"| {spec} | {distinct} | {distinct / cpu:.0f} "
            f"| {fmt(distinct / extra if extra > 0 else None, '{:.0f}')} | {full}/{big} "
            f"({100 * full / big if big else 0:.0f}%) "
            f"| {fmt(statistics.median(diffs) if diffs else None)} "
            f"| {statistics.median(r['growth'] for r in rs):.2f}x "
            f"| {fmt(statistics.median(over) if over else None, '{:.3f}x')} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=pathlib.Path, default=REPO / "build" / "bench" / "diversity")
    ap.add_argument("--variants", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="fixtures only, no timing")
    ap.add_argument("--workloads", default=",".join(PROGRAMS))
    ap.add_argument("--specs", default=";".join(SPECS), help="';'-separated specs")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--no-timing", dest="timing", action="store_false")
    cfg = ap.parse_args(argv)
    cfg.mewe = os.environ.get("MEWE") or str(REPO / "build" / "tools" / "mewe")
    cfg.clang = os.environ.get("CLANG", "clang-19")
    cfg.node = os.environ.get("NODE", "node")
    if cfg.quick:
        cfg.timing = False
    work = cfg.out / "work"
    work.mkdir(parents=True, exist_ok=True)
    progs = fixture_programs(cfg, work)
    if not cfg.quick and cfg.workloads:
        progs += workload_programs(cfg, work, [w for w in cfg.workloads.split(",") if w])
    specs = [s for s in cfg.specs.split(";") if s]
    rows, failed = [], 0
    for prog in progs:
        for spec in specs:
            try:
                r = measure(cfg, prog, spec, work)
                rows.append(r)
                print(f"{prog.name:20} {spec:10} {r['distinct']:4} distinct "
                      f"{r['per_cpu_s']:6.0f}/cpu-s share {r['with_all_variants']}/"
                      f"{r['functions_10plus']} overhead {fmt(r['overhead'], '{:.3f}')}",
                      file=sys.stderr, flush=True)
            except (RuntimeError, OSError, ValueError, KeyError) as e:
                failed += 1
                print(f"{prog.name} {spec}: FAILED: {e}", file=sys.stderr, flush=True)
    (cfg.out / "diversity.json").write_text(json.dumps(rows, indent=1))
    print(f"## Diversifiers, -n {cfg.variants}, seed {cfg.seed}\n")
    print(summary(rows, specs))
    print()
    print(table(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
