#!/usr/bin/env python3
"""multivariant.py: libmewe's pipeline from Python, with a selection policy.

    python3 multivariant.py PROGRAM.bc OUT.wasm [--seed N]

The policy skips tiny functions (a dispatcher would cost more than they do) and gives the
two functions called from the most places 5 variants instead of the default 2. From a
source tree, run it with PYTHONPATH=bindings/python; the package finds build/lib/libmewe.so
by itself, or set MEWE_LIBRARY to the library's full path.
"""

import argparse
import sys

import mewe

TINY = 10  # LLVM instructions
HOT = 2  # how many of the most called functions get more variants
HOT_VARIANTS = 5


def survey(ctx, bitcode, name):
    """Maps each candidate function to (static call sites, instructions).

    The policy sees one function at a time, so ranking them needs a first look at all of
    them: a pass on a scratch copy whose policy records each candidate and makes nothing.
    """
    seen = {}

    def record(info):
        seen[info.name] = (info.call_sites, info.instructions)
        return 0  # 0 variants: this pass changes nothing

    with ctx.load(bitcode, name=name) as scratch:
        scratch.generate(select=record)
    return seen


def make_policy(seen):
    """The selection policy: generate() calls it for each candidate that passed libmewe's
    own checks (eligible, allowed, not below min_instructions)."""
    big = {name: calls for name, (calls, size) in seen.items() if size >= TINY}
    hot = set(sorted(big, key=lambda name: -big[name])[:HOT])

    def policy(info):
        if info.instructions < TINY:
            return 0  # skipped; the report says "skipped by the selection policy"
        if info.name in hot:
            return HOT_VARIANTS
        return None  # None keeps the default count given to generate()

    return policy


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bitcode")
    parser.add_argument("output")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    try:
        with open(args.bitcode, "rb") as f:
            bitcode = f.read()  # read once: the survey and the real run load the same bytes
        # Context and Module are context managers: leaving the block frees them.
        with mewe.Context(seed=args.seed) as ctx:
            policy = make_policy(survey(ctx, bitcode, args.bitcode))
            with ctx.load(bitcode, name=args.bitcode) as module:
                module.generate(variants=2, select=policy)
                module.link_multivariant(dispatch="switch", rng="wasi")
                wasm = module.emit()  # no path: the bytes come back
                report = module.report()  # a dict, parsed from libmewe's JSON
        with open(args.output, "wb") as f:
            f.write(wasm)
    except (mewe.MeweError, OSError) as err:  # MeweError: .code (a mewe.Status), .message
        sys.exit(f"multivariant.py: {err}")

    for fn in report["functions"]:
        what = f"{fn['variants']} variants" if fn["status"] == "diversified" else fn["reason"]
        print(f"{fn['name']}: {what}")
    totals = report["totals"]
    print(f"totals: {totals['diversified']} of {totals['eligible']} eligible functions "
          f"diversified, {totals['variants']} variants, "
          f"log10(static paths) = {totals['log10_static_paths']}")
    print(f"wrote {args.output} ({len(wasm)} bytes)")


if __name__ == "__main__":
    main()
