#!/usr/bin/env python3
"""Random LLVM IR from llvm-stress through libmewe's whole pipeline.

llvm-stress-19 (Debian package llvm-19) makes a function of random instructions over odd
types (i1 and i128 arithmetic, vectors of every width, selects, shuffles, loads and stores
through its pointer arguments). For each seed, mewe loads it (LLVM's verifier), makes
variants and dispatchers, emits a WASI reactor that exports the function, and the result
must pass wasm-validate; the same module is also emitted without diversification
(--stage=emit) to tell libmewe's failures from LLVM's. libmewe may refuse an input it
cannot handle, with a clear message and a clean exit status; it must never crash, hang or
write invalid wasm.

    tests/stress/stress_run.py --ci                   # the fixed set CI runs
    tests/stress/stress_run.py --count 500 --start 1 --out /tmp/stress

The last line is "N passed, N failed, N skipped"; a refusal counts as passed and is listed
with its message. Failures are kept in OUT/failures with repro.sh.

Environment: MEWE (default build/tools/mewe), LLVM_STRESS (llvm-stress-19), WASM_VALIDATE.
"""

import argparse
import concurrent.futures
import dataclasses
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
sys.path.insert(0, str(ROOT / "tests"))
import campaign  # noqa: E402  (tests/campaign.py: seeds and work directory)

MEWE = os.environ.get("MEWE") or str(ROOT / "build" / "tools" / "mewe")
LLVM_STRESS = os.environ.get("LLVM_STRESS", "llvm-stress-19")
WASM_VALIDATE = os.environ.get("WASM_VALIDATE", "wasm-validate")
VALIDATE_FEATURES = ["--enable-threads", "--enable-tail-call", "--enable-exceptions"]

CI_SEEDS = list(range(1, 25))
CI_CONFIGS = 2
TIMEOUT = 300
MEMORY_LIMIT = 6 << 30
DIVERSIFIER_SETS = [[], ["subst:rate=1,max=64"], ["swap:rate=1"], ["blocks:split=1"],
                    ["subst:rate=1,max=16", "swap:rate=1", "blocks:split=1"]]


@dataclasses.dataclass(frozen=True)
class Config:
    size: int
    args: tuple

    def describe(self):
        return f"size={self.size} " + " ".join(self.args)


def draw_config(seed, index):
    r = random.Random(f"mewe-stress-{seed}-{index}")
    args = [f"-O{(seed + index) % 4}",
            f"--dispatch={['switch', 'table'][(seed + index // 2) % 2]}",
            f"--granularity={['call', 'instance', 'every', 'invocation'][(seed + 3 * index) % 4]}",
            f"-n{r.choice([1, 2, 3, 5])}", f"--seed={r.randrange(1 << 32)}",
            *[f"--diversifier={d}" for d in r.choice(DIVERSIFIER_SETS)]]
    if r.random() < 0.3:
        args.append("--inline-limit=1")
    if r.random() < 0.3:
        args.append("--max-overhead=1e9")
    return Config(r.choice([50, 200, 200, 500, 1000]), tuple(args))


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run(cmd, timeout=TIMEOUT):
    try:
        p = subprocess.run([str(c) for c in cmd], capture_output=True, timeout=timeout,
                           preexec_fn=_limit_memory)
        return p.returncode, (p.stdout + p.stderr).decode(errors="replace")
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} s"


def first_error(text):
    lines = [l for l in text.splitlines() if l.startswith("mewe: ") and "warning:" not in l]
    return (lines[0] if lines else text.strip().splitlines()[-1] if text.strip() else "")[:400]


@dataclasses.dataclass
class Outcome:
    seed: int
    index: int
    config: Config
    status: str       # pass, refused (a pass), fail
    kind: str = ""
    detail: str = ""


def check(seed, index, workdir, keep):
    config = draw_config(seed, index)
    d = workdir / f"seed-{seed}-cfg{index}"
    d.mkdir(parents=True, exist_ok=True)
    ll, wasm, plain = d / "in.ll", d / "mv.wasm", d / "emit-only.wasm"
    export = f"--export=autogen_SD{seed}"
    gen = [LLVM_STRESS, "-seed", seed, "-size", config.size, "-o", ll]
    build = [MEWE, ll, "--emit=reactor", export, "-o", wasm, *config.args]
    emit_only = [MEWE, ll, "--stage=emit", "--emit=reactor", export, "-o", plain,
                 config.args[0]]
    validate = [WASM_VALIDATE, *VALIDATE_FEATURES, "--"]
    o = Outcome(seed, index, config, "pass")
    rc, out = run(gen, 60)
    if rc != 0:
        o.status, o.kind, o.detail = "fail", "llvm-stress", out
    steps = [gen]
    for cmd, target, what in ((emit_only, plain, "emit-only"), (build, wasm, "multivariant")):
        if o.status == "fail":
            break
        steps.append(cmd)
        rc, out = run(cmd)
        if rc is None:
            o.status, o.kind, o.detail = "fail", f"{what}: timeout", out
        elif rc < 0 or rc >= 124:
            o.status, o.kind, o.detail = "fail", f"{what}: crash ({rc})", out[-1500:]
        elif rc != 0:
            msg = first_error(out)
            if not msg.startswith("mewe: ") or target.exists():
                o.status, o.kind = "fail", f"{what}: unclear failure ({rc})"
                o.detail = out[-1500:]
            else:
                o.status, o.kind = "refused", what
                o.detail = msg
                break
        else:
            steps.append([*validate, target])
            vrc, vout = run([*validate, target], 120)
            if vrc != 0:
                o.status, o.kind, o.detail = "fail", f"{what}: invalid wasm", vout[-1500:]
    if o.status == "fail":
        fail = workdir / "failures" / d.name
        fail.mkdir(parents=True, exist_ok=True)
        for f in d.iterdir():
            shutil.copy(f, fail / f.name)
        (fail / "repro.sh").write_text(
            "#!/bin/sh\nset -x\n" + "\n".join(" ".join(shlex.quote(str(c)) for c in s)
                                            for s in steps) + "\n")
        (fail / "failure.txt").write_text(f"{o.kind}\n{config.describe()}\n\n{o.detail}\n")
    if not keep:
        shutil.rmtree(d, ignore_errors=True)
    return o


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    campaign.add_seed_options(ap, start=1, configs=2)
    args = ap.parse_args()
    missing = [t for t in (MEWE, LLVM_STRESS, WASM_VALIDATE)
               if shutil.which(t) is None and not os.access(t, os.X_OK)]
    if missing:
        print(f"stress: SKIP: missing {', '.join(missing)} (scripts/install-deps.sh installs "
              "them)")
        print("0 passed, 0 failed, 1 skipped")
        return 77 if args.ci else 1
    seeds, configs = campaign.seeds_and_configs(ap, args, CI_SEEDS, CI_CONFIGS)
    workdir, tmp = campaign.workdir(args, "mewe-stress-")
    started = time.monotonic()
    outcomes = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(check, s, i, workdir, args.keep)
                   for s in seeds for i in range(configs)]
        for f in concurrent.futures.as_completed(futures):
            o = f.result()
            outcomes.append(o)
            line = f"{'PASS' if o.status != 'fail' else 'FAIL'}: seed {o.seed} setting " \
                   f"{o.index}: {o.config.describe()}"
            if o.status == "refused":
                line += f"\n  refused ({o.kind}): {o.detail}"
            elif o.status == "fail":
                line += f"\n  {o.kind}: " + o.detail.replace("\n", "\n  ")
            print(line, flush=True)
    refused = [o for o in outcomes if o.status == "refused"]
    failed = [o for o in outcomes if o.status == "fail"]
    if refused:
        print(f"\n{len(refused)} refused with a message:")
        for msg in sorted({o.detail for o in refused}):
            print(f"  {msg}")
    if failed:
        print(f"\nfailures kept in {workdir / 'failures'} (each with repro.sh)")
    print(f"\n{len(seeds)} programs, {len(outcomes)} settings in "
          f"{time.monotonic() - started:.0f} s")
    print(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed, 0 skipped")
    if tmp is not None:
        tmp.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
