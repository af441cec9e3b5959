#!/usr/bin/env -S node --no-warnings --no-turbo-fast-api-calls --expose-gc
// compile: V8's compile time of wasm modules, for bench/run.py.
//
// Usage: node --no-turbo-fast-api-calls --expose-gc --no-wasm-lazy-compilation [tier flags]
//            bench/compile.mjs [--repeats R] LABEL=MODULE.wasm...
//
// The caller picks the tier with V8 flags: `--liftoff --no-wasm-tier-up` times the
// baseline compiler alone, `--no-liftoff` the optimizing compiler (TurboFan) alone;
// `--no-wasm-lazy-compilation` makes V8 compile every function inside the timed
// `new WebAssembly.Module(bytes)` instead of at its first call (node 20 compiles lazily by
// default).
//
// Each module is compiled R times, the modules alternating round by round. V8 keeps a
// cache of compiled modules keyed by their bytes, so every compilation gets bytes of its
// own: the module with a custom section holding a counter appended (custom sections are
// not compiled, and 20-odd bytes are nothing next to the code). A garbage collection
// between compilations frees the previous module's code outside the timed span.
//
// Prints one JSON object: {"repeats", "v8_flags", "modules": [{"label", "path",
// "median_s", "min_s", "times_s", "bytes"}], "ratios": {label: median / the first
// module's median}}. Exit status 0, 1 when a module does not compile, 2 on usage.
process.removeAllListeners('warning');

const fs = await import('node:fs');

function usage(message) {
    fs.writeSync(2, `compile: ${message}\n`);
    process.exit(2);
}

function parse(argv) {
    const o = { repeats: 5, modules: [] };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === '--repeats') o.repeats = Number.parseInt(argv[++i], 10);
        else if (a.startsWith('--')) usage(`unknown option ${a}`);
        else {
            const eq = a.indexOf('=');
            if (eq <= 0) usage(`expected LABEL=MODULE.wasm, got ${a}`);
            o.modules.push({ label: a.slice(0, eq), path: a.slice(eq + 1), times: [] });
        }
    }
    if (o.modules.length === 0) usage('no module');
    if (!(o.repeats > 0)) usage('--repeats must be > 0');
    return o;
}

/** bytes with a custom section "mewe-bench-nonce" holding n appended. */
function withNonce(bytes, n) {
    const name = Buffer.from('mewe-bench-nonce');
    const payload = Buffer.alloc(8);
    payload.writeBigUInt64LE(BigInt(n));
    const body = Buffer.concat([Buffer.from([name.length]), name, payload]);
    // Section id 0 (custom); the body is shorter than 128 bytes, so its LEB128 size is one
    // byte.
    return Buffer.concat([bytes, Buffer.from([0, body.length]), body]);
}

function median(values) {
    const s = [...values].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function main() {
    const o = parse(process.argv.slice(2));
    for (const m of o.modules) m.bytes = fs.readFileSync(m.path);
    let nonce = 0;
    const n = o.modules.length;
    for (let k = 0; k < o.repeats; k++) {
        for (let j = 0; j < n; j++) {
            const m = o.modules[(j + k) % n];
            const bytes = withNonce(m.bytes, nonce++);
            if (globalThis.gc) globalThis.gc();
            const start = process.hrtime.bigint();
            try {
                new WebAssembly.Module(bytes);
            } catch (err) {
                fs.writeSync(2, `compile: ${m.label}: ${err && err.message}\n`);
                process.exit(1);
            }
            m.times.push(Number(process.hrtime.bigint() - start) / 1e9);
        }
    }
    const base = median(o.modules[0].times);
    const summary = {
        repeats: o.repeats, v8_flags: process.execArgv,
        modules: o.modules.map((m) => ({
            label: m.label, path: m.path, bytes: m.bytes.length, median_s: median(m.times),
            min_s: Math.min(...m.times), times_s: m.times })),
        ratios: Object.fromEntries(o.modules.map((m) => [m.label, median(m.times) / base])),
    };
    fs.writeSync(1, JSON.stringify(summary) + '\n');
}

main();
