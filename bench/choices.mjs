#!/usr/bin/env -S node --no-warnings --no-turbo-fast-api-calls --expose-gc
// choices: which variant each dispatcher chose, counted over several runs of a traced
// multivariant module (mewe --trace), for bench/run.py's choice entropy and choice points.
//
// Usage: node --no-turbo-fast-api-calls --expose-gc bench/choices.mjs [--runs R] MODULE.wasm [args...]
//
// Each run is a fresh instance with a fresh WASI (stdout to /dev/null), as in
// tests/wasm-repeat.mjs; mewe_trace.record(function, variant) counts the pair. The trace
// records every call, whether or not its dispatcher drew afresh; a fresh draw is seen when
// a function's variant differs from its previous call's (or on its first call), so
// "fresh_per_run" is a lower bound on the fresh choices of a run (a draw that picks the
// same variant again is not seen). Prints one JSON object: {"runs", "choices_per_run":
// [...], "fresh_per_run": [...], "exit_codes": [...], "counts": {function id: [count of
// variant 0, 1, ...]}}. Exit status 0 when every run exited 0, 1
// otherwise, 2 on usage.
process.removeAllListeners('warning');

const fs = await import('node:fs');
const path = await import('node:path');
const { WASI } = await import('node:wasi');

function usage(message) {
    fs.writeSync(2, `choices: ${message}\n`);
    process.exit(2);
}

function parse(argv) {
    const o = { runs: 10, module: null, args: [] };
    let i = 0;
    for (; i < argv.length && argv[i].startsWith('--'); i++) {
        if (argv[i] === '--runs') o.runs = Number.parseInt(argv[++i], 10);
        else if (argv[i] === '--') { i++; break; }
        else usage(`unknown option ${argv[i]}`);
    }
    if (i >= argv.length) usage('no module');
    if (!(o.runs > 0)) usage('--runs must be > 0');
    o.module = argv[i];
    o.args = argv.slice(i + 1);
    return o;
}

function main() {
    const o = parse(process.argv.slice(2));
    const module = new WebAssembly.Module(fs.readFileSync(o.module));
    const devnull = fs.openSync('/dev/null', 'w');
    // counts[f] is an array indexed by variant; a flat Map keyed by f would cost more per
    // call, and a run makes millions of calls.
    const counts = [];
    const perRun = [], freshPerRun = [], codes = [];
    for (let k = 0; k < o.runs; k++) {
        // node 20 can abort when a collection inside one run's WASI call frees an earlier
        // run's WASI object; collecting between runs avoids it.
        if (globalThis.gc) globalThis.gc();
        let n = 0, fresh = 0;
        const last = [];
        const wasi = new WASI({ version: 'preview1', args: [path.basename(o.module), ...o.args],
                                env: {}, stdout: devnull, stderr: 2, returnOnExit: true });
        const imports = {
            ...wasi.getImportObject(),
            mewe_trace: { record: (f, v) => {
                const row = counts[f] || (counts[f] = []);
                row[v] = (row[v] || 0) + 1;
                n++;
                if (last[f] !== v) {
                    fresh++;
                    last[f] = v;
                }
            } },
        };
        let code;
        try {
            code = wasi.start(new WebAssembly.Instance(module, imports));
        } catch (err) {
            fs.writeSync(2, `choices: trap: ${err && err.message}\n`);
            code = 134;
        }
        perRun.push(n);
        freshPerRun.push(fresh);
        codes.push(code);
    }
    const out = {};
    counts.forEach((row, f) => {
        if (row) out[f] = Array.from(row, (c) => c || 0);
    });
    fs.writeSync(1, JSON.stringify({ runs: o.runs, choices_per_run: perRun,
                                     fresh_per_run: freshPerRun, exit_codes: codes,
                                     counts: out }) + '\n');
    process.exit(codes.every((c) => c === 0) ? 0 : 1);
}

main();
