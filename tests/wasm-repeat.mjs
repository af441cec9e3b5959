#!/usr/bin/env -S node --no-warnings --no-turbo-fast-api-calls --expose-gc
// wasm-repeat: run one WASI command module many times in one node process, each run in a
// fresh instance, and report what varied. Used by the multivariant tests and the benchmark,
// where starting node once per run would dominate the time.
//
// Usage: node --no-turbo-fast-api-calls --expose-gc tests/wasm-repeat.mjs [--runs N] [--expect FILE] [--trace] [--stdin FILE]
//                                   MODULE.wasm [args...]
//   --runs N       runs (default 50)
//   --expect FILE  each run's stdout must equal FILE's content and its exit code must be 0
//   --trace        provide mewe_trace.record(i32, i32) and measure trace diversity
//   --stdin FILE   file given to each run as stdin
// Prints one JSON object: {"runs", "mismatches", "first_mismatch", "distinct_traces",
// "unique_trace_ratio", "normalized_entropy", "trace_length_min", "trace_length_max"}.
// env.discriminate(n) is provided (uniform in [0, n)) for the host RNG strategy.
// Exit status: 0 when every run matched (or nothing was expected), 1 otherwise, 127 on usage.
process.removeAllListeners('warning');

const fs = await import('node:fs');
const os = await import('node:os');
const path = await import('node:path');
const crypto = await import('node:crypto');
const { WASI } = await import('node:wasi');

function usage(msg) {
    fs.writeSync(2, `wasm-repeat: ${msg}\n`);
    process.exit(127);
}

function parse(argv) {
    const o = { runs: 50, expect: null, trace: false, stdin: null, module: null, args: [] };
    let i = 0;
    for (; i < argv.length && argv[i].startsWith('--'); i++) {
        const a = argv[i];
        if (a === '--trace') o.trace = true;
        else if (a === '--runs') o.runs = Number.parseInt(argv[++i], 10);
        else if (a === '--expect') o.expect = fs.readFileSync(argv[++i]);
        else if (a === '--stdin') o.stdin = argv[++i];
        else if (a === '--') { i++; break; }
        else usage(`unknown option ${a}`);
    }
    if (i >= argv.length) usage('no module');
    if (!(o.runs > 0)) usage('--runs needs a positive number');
    o.module = argv[i];
    o.args = argv.slice(i + 1);
    return o;
}

// Shannon entropy of the trace distribution over the runs, normalized by its maximum
// log2(runs): 1 when every run's trace differs (MEWE's measure).
function entropy(counts, runs) {
    if (runs < 2) return 0;
    let h = 0;
    for (const c of counts.values()) {
        const p = c / runs;
        h -= p * Math.log2(p);
    }
    return Math.min(1, h / Math.log2(runs));
}

function runOnce(o, module, dir, k) {
    const outPath = path.join(dir, `out-${k}`);
    const out = fs.openSync(outPath, 'w');
    const inFd = o.stdin ? fs.openSync(o.stdin, 'r') : fs.openSync('/dev/null', 'r');
    const wasi = new WASI({ version: 'preview1', args: [path.basename(o.module), ...o.args],
                            env: {}, stdin: inFd, stdout: out, stderr: 2, returnOnExit: true });
    // Two 32-bit FNV-1a lanes over the (function, variant) pairs: cheap enough for millions
    // of calls per run, and 64 bits keep collisions among a few hundred traces negligible.
    let h1 = 0x811c9dc5, h2 = 0x01000193 ^ 0x5bd1e995, length = 0;
    const imports = {
        ...wasi.getImportObject(),
        mewe_trace: { record: (f, v) => {
            h1 = Math.imul(h1 ^ f, 0x01000193); h1 = Math.imul(h1 ^ v, 0x01000193);
            h2 = Math.imul(h2 ^ v, 0x5bd1e995) ^ (h2 >>> 13); h2 = Math.imul(h2 ^ f, 0x01000193);
            length++;
        } },
        env: { discriminate: (n) => (n > 0 ? crypto.randomInt(n) : 0) },
    };
    let code;
    try {
        const instance = new WebAssembly.Instance(module, imports);
        code = wasi.start(instance);
    } catch (err) {
        code = 134;
    }
    fs.closeSync(out);
    fs.closeSync(inFd);
    const output = fs.readFileSync(outPath);
    fs.unlinkSync(outPath);
    return { code, output, trace: `${h1 >>> 0}:${h2 >>> 0}:${length}`, length };
}

function main() {
    const o = parse(process.argv.slice(2));
    const module = new WebAssembly.Module(fs.readFileSync(o.module));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasm-repeat-'));
    const traces = new Map();
    let mismatches = 0, first = null, minLen = Infinity, maxLen = 0;
    for (let k = 0; k < o.runs; k++) {
        // node 20 can abort when a collection inside one run's WASI call frees an earlier
        // run's WASI object; collecting between runs (with --expose-gc) avoids it.
        if (globalThis.gc)
            globalThis.gc();
        const r = runOnce(o, module, dir, k);
        const bad = o.expect && (r.code !== 0 || !r.output.equals(o.expect));
        if (bad) {
            mismatches++;
            if (first === null)
                first = { run: k, exit_code: r.code, stdout: r.output.toString().slice(0, 400) };
        }
        traces.set(r.trace, (traces.get(r.trace) || 0) + 1);
        minLen = Math.min(minLen, r.length);
        maxLen = Math.max(maxLen, r.length);
    }
    fs.rmSync(dir, { recursive: true, force: true });
    const summary = {
        runs: o.runs, mismatches, first_mismatch: first,
        distinct_traces: o.trace ? traces.size : 0,
        unique_trace_ratio: o.trace ? traces.size / o.runs : 0,
        normalized_entropy: o.trace ? entropy(traces, o.runs) : 0,
        trace_length_min: o.trace ? minLen : 0, trace_length_max: maxLen,
    };
    fs.writeSync(1, JSON.stringify(summary) + '\n');
    process.exit(mismatches ? 1 : 0);
}

main();
