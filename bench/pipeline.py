#!/usr/bin/env python3
"""The pipeline's own cost: mewe's wall time and peak memory at 1, 2 and all threads, next
to clang -O2 compiling the same bitcode to a wasm object, measured in the same run.

    python3 bench/pipeline.py [--workloads libxml2-catalog,...] [--repeats N] [--out DIR]
                              [--baseline OTHER_MEWE]

For each workload of bench/workloads/workloads.json (default: libxml2-catalog, the largest
program, 173,000 lines), this compiles its sources to bitcode, joins them with llvm-link
into one module, and then, REPEATS times, alternately runs

    clang-19 --target=wasm32-wasi -O2 ALL.bc -o clang.wasm       (with the workload's link
                                                                  arguments)
    mewe -j N ALL.bc -o mewe.wasm        (default settings: the whole pipeline, load check
                                          included, to the WASI command)

for every N asked (--threads, default 1,2,all). Both commands start from the same bitcode
and end at the program the workload runs, linked with wasi-libc by wasm-ld: the ratio is
the price of multivariance in build time. Medians of the wall times and peaks (of the
process and what it waited for: wasm-ld) are printed as a Markdown table, with the ratio to
clang's median and the speed-up over one thread; the commands of every N must be the same
bytes (checked). The build at the most threads writes the report: the distinct variants
that survived in the linked wasm (those of functions wasm-ld keeps), per second of its
pipeline and per core.

With --baseline, another mewe (an earlier build) runs right after each of this one's runs,
with the same arguments, and its rows ("baseline -j N") and ratio to this one's are printed
too: a change's effect on the pipeline, measured side by side.

The machine may be shared: the ratios are measured side by side, run after run, so that a
busy neighbour slows both; the load average at the start and the end is printed. Exit
status 0, also when a target is missed (a benchmark reports), 1 when a step fails.
"""

import argparse
import concurrent.futures
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
sys.dont_write_bytecode = True
sys.path.insert(0, str(REPO / "tests" / "corpus"))
import fetch  # noqa: E402
import recipes  # noqa: E402

import measure  # noqa: E402


def find_mewe():
    if os.environ.get("MEWE"):
        return os.environ["MEWE"]
    for cand in (REPO / "build" / "tools" / "mewe",):
        if cand.exists():
            return str(cand)
    return "mewe"


def bitcode(cfg, w, work):
    """The workload's sources to bitcode (in parallel), joined into one module."""
    cmds, bcs = [], []
    for i, src in enumerate(w.sources):
        bc = work / f"{i:03d}-{pathlib.Path(src).stem}.bc"
        bcs.append(bc)
        cmds.append(recipes.bitcode_command(cfg.clang, w, src, str(bc)))
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as ex:
        for cmd, p in zip(cmds, ex.map(lambda c: subprocess.run(c, capture_output=True,
                                                                 text=True), cmds)):
            if p.returncode != 0:
                raise measure.StepError(f"{' '.join(cmd)}: {p.stderr[-2000:]}")
    joined = work / "all.bc"
    p = subprocess.run([cfg.llvm_link, *map(str, bcs), "-o", str(joined)], capture_output=True,
                       text=True)
    if p.returncode != 0:
        raise measure.StepError(f"llvm-link: {p.stderr[-2000:]}")
    return joined


def lines_of(w):
    n = 0
    for src in w.sources:
        with open(src, "rb") as f:
            n += f.read().count(b"\n")
    return n


def measure_workload(cfg, w, work):
    bc = bitcode(cfg, w, work)
    threads = list(dict.fromkeys((os.cpu_count() or 1) if t == "all" else int(t)
                                 for t in cfg.threads))
    runs = {"clang": []}
    runs.update({n: [] for n in threads})
    if cfg.baseline:
        runs.update({f"base{n}": [] for n in threads})
    objects = {}
    for r in range(cfg.repeats):
        m = measure.must_measured(recipes.link_command(cfg.clang, w, [bc], work / "clang.wasm"),
                                  work / "clang.log", "clang -O2")
        runs["clang"].append(m)
        print(f"  {w.name} #{r + 1}: clang -O2 {m.wall_s:.1f} s {m.peak_mib:.0f} MiB",
              file=sys.stderr, flush=True)
        for n in threads:
            out = work / f"mewe-j{n}.wasm"
            report = ["--report", work / "report.json"] if n == max(threads) else []
            m = measure.must_measured([cfg.mewe, f"-j{n}", bc, "-o", out, *report,
                                       *[f"--link-arg={a}" for a in w.link_args]],
                                      work / f"mewe-j{n}.log", f"mewe -j {n}")
            runs[n].append(m)
            objects[n] = out.read_bytes()
            print(f"  {w.name} #{r + 1}: mewe -j {n} {m.wall_s:.1f} s {m.peak_mib:.0f} MiB",
                  file=sys.stderr, flush=True)
            if cfg.baseline:
                m = measure.must_measured([cfg.baseline, f"-j{n}", bc, "-o", work / "base.wasm",
                                           *[f"--link-arg={a}" for a in w.link_args]],
                                          work / f"base-j{n}.log", f"baseline -j {n}")
                runs[f"base{n}"].append(m)
                print(f"  {w.name} #{r + 1}: baseline -j {n} {m.wall_s:.1f} s",
                      file=sys.stderr, flush=True)
    same = len({objects[n] for n in threads}) == 1
    doc = json.loads((work / "report.json").read_text())
    wasm = doc.get("wasm", {})
    distinct = wasm.get("distinct_in_wasm")
    dispatchers = doc["totals"]["dispatchers"]
    med = {k: (statistics.median(m.wall_s for m in v), statistics.median(m.peak_mib for m in v))
           for k, v in runs.items()}
    most = max(threads)
    per_core = None
    if distinct is not None:
        # Survivors: the variants of the dispatchers that wasm-ld kept (it drops those
        # nothing calls: most of a library's API in a command), less the duplicates among
        # the variants that are functions of their own (distinct_in_wasm counts those; the
        # ones carried inside their dispatcher count as generation kept them: distinct in
        # wasm where its check compiled them, else in IR).
        survived = wasm["variants_in_output"] - (wasm.get("variants", 0) - distinct)
        per_core = survived / med[most][0] / most
    return {"workload": w.name, "lines": lines_of(w), "threads": threads, "median": med,
            "same_bytes": same, "variants_per_s_per_core": per_core,
            "instructions": [doc["totals"]["instructions_before"],
                             doc["totals"]["instructions_after"]],
            "runs": {str(k): [[m.wall_s, m.peak_mib] for m in v] for k, v in runs.items()}}


def table(results):
    out = ["| workload | lines | LLVM instructions before / after | build | wall s | peak MiB "
           "| / clang -O2 | speed-up |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        cw, cp = r["median"]["clang"]
        one = r["median"][r["threads"][0]][0]
        ib, ia = r["instructions"]
        out.append(f"| {r['workload']} | {r['lines']} | {ib} / {ia} | clang -O2 | {cw:.1f} "
                   f"| {cp:.0f} | 1.00x | |")
        for n in r["threads"]:
            w, p = r["median"][n]
            out.append(f"| | | | mewe -j {n} | {w:.1f} | {p:.0f} | {w / cw:.2f}x "
                       f"| {one / w:.2f}x |")
            if f"base{n}" in r["median"]:
                bw, bp = r["median"][f"base{n}"]
                out.append(f"| | | | baseline -j {n} | {bw:.1f} | {bp:.0f} | {bw / cw:.2f}x "
                           f"| this / baseline: {w / bw:.2f}x |")
        same = "yes" if r["same_bytes"] else "NO"
        vps = r["variants_per_s_per_core"]
        out.append(f"| | | | same bytes for every -j: {same}; distinct variants per s per "
                   f"core: {vps:.1f} | | | | |" if vps is not None else
                   f"| | | | same bytes for every -j: {same} | | | | |")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workloads", default="libxml2-catalog",
                    help="comma-separated workload names (default: libxml2-catalog)")
    ap.add_argument("--threads", default="1,2,all",
                    help="comma-separated -j values, 'all' for every core (default 1,2,all)")
    ap.add_argument("--repeats", type=int, default=1, help="alternating rounds (default 1)")
    ap.add_argument("--out", type=pathlib.Path, help="also write results.json and .md here")
    ap.add_argument("--baseline", help="another mewe to time right after each run of this one")
    cfg = ap.parse_args(argv)
    cfg.threads = list(dict.fromkeys(cfg.threads.split(",")))
    cfg.mewe = find_mewe()
    cfg.clang = os.environ.get("CLANG", "clang-19")
    cfg.llvm_link = os.environ.get("LLVM_LINK", "llvm-link-19")
    doc = recipes.load()
    names = [n for n in cfg.workloads.split(",") if n]
    known = {w["name"] for w in doc["workloads"]}
    for n in names:
        if n not in known:
            ap.error(f"--workloads: no workload named {n!r}")
    roots = fetch.ensure_packages()
    chosen = [w for w in recipes.resolve(doc, roots) if w.name in names]
    load0 = os.getloadavg()
    results = []
    try:
        for w in chosen:
            with tempfile.TemporaryDirectory(prefix="mewe-pipeline-") as d:
                results.append(measure_workload(cfg, w, pathlib.Path(d)))
    except measure.StepError as e:
        print(f"pipeline: {e}", file=sys.stderr)
        return 1
    md = table(results)
    load1 = os.getloadavg()
    md += (f"\n\n{os.cpu_count()} cores; load average {load0[0]:.1f} at the start, "
           f"{load1[0]:.1f} at the end; medians of {cfg.repeats} alternating round(s).")
    print(md)
    if cfg.out:
        cfg.out.mkdir(parents=True, exist_ok=True)
        (cfg.out / "pipeline.md").write_text(md + "\n")
        (cfg.out / "pipeline.json").write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
