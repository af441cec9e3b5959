#!/usr/bin/env python3
"""Figures of the multivariant core on the test fixtures (tests/fixtures): per fixture, the
diversified and eligible functions, variants, log10 static paths, the unique-trace ratio over
100 traced runs with the same input, and the run time of the multivariant binary over the
original's (median of alternating runs in one node process).

Usage: python3 bench/fixtures.py [--build DIR] [--runs N] [--granularity call|instance]
Prints a Markdown table; exits 0 (a benchmark reports, it does not judge)."""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ["loops.c", "recursion.c", "fnptr.c", "structs.c", "globals.c", "rust/hello.rs"]
CLANG = os.environ.get("CLANG", "clang-19")
RUSTC = os.environ.get("RUSTC", "/usr/bin/rustc")
NODE = os.environ.get("NODE", "node")

TIMING_JS = r"""
process.removeAllListeners('warning');
const { WASI } = await import('node:wasi');
const fs = await import('node:fs');
const [runs, ...files] = process.argv.slice(2);
const mods = files.map((f) => new WebAssembly.Module(fs.readFileSync(f)));
const devnull = fs.openSync('/dev/null', 'w');
const times = files.map(() => []);
function once(m) {
  const wasi = new WASI({ version: 'preview1', args: ['x'], env: {}, stdout: devnull,
                          returnOnExit: true });
  const inst = new WebAssembly.Instance(m, wasi.getImportObject());
  const t0 = process.hrtime.bigint();
  const code = wasi.start(inst);
  if (code !== 0) throw new Error('exit ' + code);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
for (let w = 0; w < 3; w++) mods.forEach(once);            // warm-up: let the engine tier up
for (let r = 0; r < Number(runs); r++) mods.forEach((m, i) => times[i].push(once(m)));
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(JSON.stringify(times.map(med)));
"""


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def compile_fixture(src: Path, out: Path, wasm: bool) -> None:
    if src.suffix == ".rs":
        emit = ["-o", str(out)] if wasm else ["--emit=llvm-bc", "-o", str(out)]
        run([RUSTC, "--target", "wasm32-wasi", "-O", "-C", "lto=fat", "-C", "panic=abort",
             "--edition=2018", str(src), *emit])
    else:
        run([CLANG, "--target=wasm32-wasi", "-O2", str(src), "-o", str(out),
             *([] if wasm else ["-emit-llvm", "-c"])])


def measure(fixture: str, mewe: Path, tmp: Path, runs: int, granularity: str) -> dict:
    src = ROOT / "tests" / "fixtures" / fixture
    stem = fixture.replace("/", "_")
    orig, bc = tmp / f"{stem}.orig.wasm", tmp / f"{stem}.bc"
    mv, traced, report = tmp / f"{stem}.mv.wasm", tmp / f"{stem}.tr.wasm", tmp / f"{stem}.json"
    compile_fixture(src, orig, wasm=True)
    compile_fixture(src, bc, wasm=False)
    gran = ["--granularity", granularity]
    run([str(mewe), str(bc), "-o", str(mv), "--report", str(report), *gran])
    run([str(mewe), str(bc), "-o", str(traced), "--trace", *gran])
    totals = json.loads(report.read_text())["totals"]
    js = tmp / "timing.mjs"
    js.write_text(TIMING_JS)
    t_orig, t_mv = json.loads(run([NODE, "--no-turbo-fast-api-calls", str(js), str(runs), str(orig),
                                   str(mv)]).stdout)
    rep = json.loads(subprocess.run(
        [NODE, "--no-warnings", "--no-turbo-fast-api-calls", "--expose-gc",
         str(ROOT / "tests" / "wasm-repeat.mjs"),
         "--runs", "100",
         "--trace", str(traced)], capture_output=True, text=True).stdout)
    return {"fixture": fixture, **{k: totals[k] for k in
            ("diversified", "eligible", "variants", "log10_static_paths")},
            "unique_trace_ratio": rep["unique_trace_ratio"],
            "entropy": rep["normalized_entropy"], "ms_orig": t_orig, "ms_mv": t_mv}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--granularity", default="call", choices=["call", "instance"])
    args = ap.parse_args()
    mewe = Path(args.build) / "tools" / "mewe"
    print(f"| fixture | diversified / eligible | variants | log10 paths | unique traces "
          f"(100 runs) | entropy | original ms | multivariant ms | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as d:
        for f in FIXTURES:
            r = measure(f, mewe, Path(d), args.runs, args.granularity)
            print(f"| {r['fixture']} | {r['diversified']} / {r['eligible']} | {r['variants']} "
                  f"| {r['log10_static_paths']:.2f} | {r['unique_trace_ratio']:.2f} "
                  f"| {r['entropy']:.3f} | {r['ms_orig']:.2f} | {r['ms_mv']:.2f} "
                  f"| {r['ms_mv'] / r['ms_orig']:.2f}x |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
