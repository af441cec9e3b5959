#!/usr/bin/env -S node --no-warnings --no-turbo-fast-api-calls --expose-gc
// timing: run-time overhead of multivariant modules against the original, for bench/run.py.
//
// Usage: node --no-turbo-fast-api-calls --expose-gc bench/timing.mjs [--repeats R] [--warmup W] [--capture DIR]
//                                          [--stdin FILE] [--clock wall|cpu] LABEL=MODULE.wasm... -- [args...]
//
// Every module is compiled once, then run W + R times in ONE node process, alternating
// between the modules (round k runs them in an order rotated by k, so that no module always
// runs first after a garbage collection or last before one). Each run is a fresh instance
// with a fresh WASI, as an edge platform instantiates per request; its stdout goes to
// /dev/null so that terminal or pipe speed is not measured. The timed span is instantiation
// plus _start, the per-request cost; compilation is shared and not timed. --clock cpu times
// the process's CPU time (user + system, all threads) instead of the wall clock: on a machine
// where other work runs alongside, it does not count the time the run waited for a core.
//
// The first warm-up run of each module writes its stdout to DIR/LABEL.out (with --capture),
// so that the caller can check that every module printed the same thing. Every run's exit
// code must be 0.
//
// Prints one JSON object: {"repeats", "warmup", "clock", "modules": [{"label", "path", "median_s",
// "min_s", "max_s", "times_s", "warmup_times_s" (the uncaptured warm-up runs)}], "ratios": {label: median / first module's median},
// "paired_ratios": {label: median over rounds of time / first module's time in that round},
// "identical_stdout", "failures": [...]}.
// Exit status: 0 when every run exited 0 (and the captures agree), 1 otherwise, 2 on usage.
process.removeAllListeners('warning');

const fs = await import('node:fs');
const path = await import('node:path');
const { WASI } = await import('node:wasi');

function usage(message) {
    fs.writeSync(2, `timing: ${message}\n`);
    process.exit(2);
}

/** Parses the command line into {repeats, warmup, capture, stdin, modules, args}. */
function parse(argv) {
    const o = { repeats: 15, warmup: 2, capture: null, stdin: null, clock: 'wall', modules: [],
                args: [] };
    let i = 0;
    for (; i < argv.length; i++) {
        const a = argv[i];
        if (a === '--') { i++; break; }
        if (a === '--repeats') o.repeats = Number.parseInt(argv[++i], 10);
        else if (a === '--warmup') o.warmup = Number.parseInt(argv[++i], 10);
        else if (a === '--capture') o.capture = argv[++i];
        else if (a === '--stdin') o.stdin = argv[++i];
        else if (a === '--clock') o.clock = argv[++i];
        else if (a.startsWith('--')) usage(`unknown option ${a}`);
        else {
            const eq = a.indexOf('=');
            if (eq <= 0) usage(`expected LABEL=MODULE.wasm, got ${a}`);
            o.modules.push({ label: a.slice(0, eq), path: a.slice(eq + 1) });
        }
    }
    o.args = argv.slice(i);
    if (o.modules.length === 0) usage('no module');
    if (o.clock !== 'wall' && o.clock !== 'cpu') usage(`--clock must be wall or cpu, got ${o.clock}`);
    if (!(o.repeats > 0) || !(o.warmup >= 1)) usage('--repeats must be > 0 and --warmup >= 1');
    return o;
}

/**
 * One fresh instance of a module run to completion. Returns {code, seconds}.
 * stdoutFd receives the module's stdout; stdin is FILE or /dev/null.
 */
function runOnce(o, entry, stdoutFd) {
    const inFd = fs.openSync(o.stdin || '/dev/null', 'r');
    const wasi = new WASI({ version: 'preview1', args: [path.basename(entry.path), ...o.args],
                            env: {}, stdin: inFd, stdout: stdoutFd, stderr: 2,
                            returnOnExit: true });
    const imports = wasi.getImportObject();
    let code;
    const startCpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    try {
        const instance = new WebAssembly.Instance(entry.module, imports);
        code = wasi.start(instance);
    } catch (err) {
        fs.writeSync(2, `timing: ${entry.label}: trap: ${err && err.message}\n`);
        code = 134;
    }
    let seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (o.clock === 'cpu') {
        const used = process.cpuUsage(startCpu);
        seconds = (used.user + used.system) / 1e6;
    }
    fs.closeSync(inFd);
    return { code, seconds };
}

function median(values) {
    const s = [...values].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The first warm-up run of every module, stdout to DIR/LABEL.out when capturing. */
function captureRun(o, entry, devnull, failures) {
    let fd = devnull;
    if (o.capture) {
        // Labels may hold '/' or spaces ("swap/call"); file names may not.
        entry.capture = path.join(o.capture, `${entry.label.replace(/[^\w.-]+/g, '_')}.out`);
        fd = fs.openSync(entry.capture, 'w');
    }
    const r = runOnce(o, entry, fd);
    if (fd !== devnull) fs.closeSync(fd);
    if (r.code !== 0) failures.push({ label: entry.label, run: 'capture', exit_code: r.code });
}

/** Whether every capture has the same bytes as the first module's. */
function identicalCaptures(modules) {
    if (!modules[0].capture) return null;
    const first = fs.readFileSync(modules[0].capture);
    return modules.every((m) => fs.readFileSync(m.capture).equals(first));
}

/** W warm-up and R timed rounds over all modules, alternating; fills entry.times. */
function rounds(o, devnull, failures) {
    const n = o.modules.length;
    for (let k = 0; k < o.warmup + o.repeats; k++) {
        for (let j = 0; j < n; j++) {
            const entry = o.modules[(j + k) % n];
            // A collection here, not inside a timed run, so that garbage left by the
            // previous instance is not charged to whichever module happens to run next.
            if (globalThis.gc) globalThis.gc();
            if (k === 0) {
                captureRun(o, entry, devnull, failures);
                continue;
            }
            const r = runOnce(o, entry, devnull);
            if (r.code !== 0) failures.push({ label: entry.label, run: k, exit_code: r.code });
            if (k >= o.warmup) entry.times.push(r.seconds);
            else entry.warmupTimes.push(r.seconds);
        }
    }
}

/** Ratios of each module's times to the first module's: of medians, and paired per round. */
function ratios(modules) {
    const base = modules[0];
    const ofMedians = {}, paired = {};
    for (const m of modules) {
        ofMedians[m.label] = median(m.times) / median(base.times);
        paired[m.label] = median(m.times.map((t, k) => t / base.times[k]));
    }
    return { ofMedians, paired };
}

function main() {
    const o = parse(process.argv.slice(2));
    for (const m of o.modules) {
        m.module = new WebAssembly.Module(fs.readFileSync(m.path));
        m.times = [];
        m.warmupTimes = [];
    }
    const devnull = fs.openSync('/dev/null', 'w');
    const failures = [];
    rounds(o, devnull, failures);
    const { ofMedians, paired } = ratios(o.modules);
    const identical = identicalCaptures(o.modules);
    const summary = {
        repeats: o.repeats, warmup: o.warmup, clock: o.clock, gc_between_runs: Boolean(globalThis.gc),
        modules: o.modules.map((m) => ({
            label: m.label, path: m.path, median_s: median(m.times),
            min_s: Math.min(...m.times), max_s: Math.max(...m.times), times_s: m.times,
            warmup_times_s: m.warmupTimes, capture: m.capture || null })),
        ratios: ofMedians, paired_ratios: paired, identical_stdout: identical, failures,
    };
    fs.writeSync(1, JSON.stringify(summary) + '\n');
    process.exit(failures.length || identical === false ? 1 : 0);
}

main();
