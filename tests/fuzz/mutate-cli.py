#!/usr/bin/env python3
"""Mutates a bitcode (or IR) file and runs `mewe IN --stage report` on each mutant, as a new
user trying corrupt files would (truncations, overwritten bytes, bit flips, splices).
usage: mutate-cli.py MEWE INPUT COUNT OUTDIR [SEED]
  e.g. mutate-cli.py build/tools/mewe tests/fuzz/corpus/load/calc.bc 5000 /tmp/mut 7
mewe runs niced, with 8 GiB of address space at most (an unchecked load of some mutants
would otherwise take all the memory it can). Inputs that crash, abort, hang or make LLVM
print are kept in OUTDIR.
Counts: ok (exit 0), error (exit 1/2 with a 'mewe:' message), crash (signal),
abort (LLVM ERROR / signal 6), hang (>60 s)."""
import os, random, resource, subprocess, sys, collections, time

mewe, src, count, outdir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rnd = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 1)
data = open(src, 'rb').read()
os.makedirs(outdir, exist_ok=True)

def mutate(d):
    d = bytearray(d)
    kind = rnd.choice(['trunc', 'overwrite', 'flip', 'splice', 'multi'])
    if kind == 'trunc':
        d = d[:rnd.randrange(1, len(d))]
    elif kind == 'overwrite':
        for _ in range(rnd.randint(1, 8)):
            d[rnd.randrange(len(d))] = rnd.randrange(256)
    elif kind == 'flip':
        for _ in range(rnd.randint(1, 4)):
            i = rnd.randrange(len(d) * 8)
            d[i // 8] ^= 1 << (i % 8)
    elif kind == 'splice':
        a = rnd.randrange(len(d)); b = rnd.randrange(a, min(len(d), a + 64) + 1)
        c = rnd.randrange(len(d))
        d[c:c] = d[a:b]
    else:
        for _ in range(rnd.randint(2, 16)):
            i = rnd.randrange(len(d) * 8)
            d[i // 8] ^= 1 << (i % 8)
    return kind, bytes(d)

def limit():
    os.nice(19)
    resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))

stats = collections.Counter()
kept = collections.Counter()
t0 = time.time()
for n in range(count):
    kind, m = mutate(data)
    path = os.path.join(outdir, 'cur' + os.path.splitext(src)[1])
    open(path, 'wb').write(m)
    try:
        p = subprocess.run([mewe, path, '--stage', 'report'], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=60, preexec_fn=limit)
        err = p.stderr.decode('utf-8', 'replace')
        if p.returncode < 0:
            res = 'abort' if p.returncode == -6 or 'LLVM ERROR' in err else 'crash'
        elif 'LLVM ERROR' in err:
            res = 'abort'
        elif p.returncode == 0:
            res = 'ok'
        elif err.startswith('mewe:'):
            res = 'error'
        else:
            res = 'odd'
    except subprocess.TimeoutExpired:
        res = 'hang'
    stats[res] += 1
    if res in ('crash', 'abort', 'hang', 'odd'):
        kept[res] += 1
        keep = os.path.join(outdir, f'{res}-{n}' + os.path.splitext(src)[1])
        os.rename(path, keep)
        if res == 'odd' or kept[res] <= 3:
            print(res, keep, repr(err[-300:]), flush=True)
print(dict(stats), f'{time.time() - t0:.0f}s', flush=True)
