#!/usr/bin/env -S node --no-warnings
// load: the local edge's load generator (bench/edge/run). A closed loop of CONCURRENCY
// workers over keep-alive connections: each worker takes the next request of the mix and
// sends it to the original and to the multivariant side of one node, one after the other
// in an order that alternates from one round to the next, timing each from the first byte
// sent to the last byte received; then, untimed, to the traced side for the request's trace.
// Both sides thus see the same machine state, request by request.
//
// Usage: node --no-warnings bench/edge/load.mjs PLAN.json > RESULT.json
//
// PLAN.json: {"seconds", "warmup_seconds", "concurrency", "timeout_ms", "trace": bool,
//             "nodes": [{"original": PORT, "multivariant": PORT, "traced": PORT}, ...],
//             "requests": [{"endpoint", "id", "path", "body" (base64)}, ...]}
// Worker w serves node w mod N, so that with CONCURRENCY <= N a node runs one request at a
// time and no side's latency includes queueing behind the other side's work. A request that
// fails in transport (refused, reset, timed out) counts as an error of its side and the
// worker moves to the next node that is up for a while (a restarting node comes back).
// Warm-up rounds (the first WARMUP seconds) are sent and checked but not counted, so that
// V8's tier-up of both modules is not in the figures.
//
// Prints one JSON object: {"seconds", "warmup_seconds", "concurrency", "rounds",
// "sides": {side: {endpoint: {"latencies_ms": [...], "server_us": [...], "requests",
// "errors", "transport_errors", "status": {code: n}}}}, "mismatches": {endpoint: n},
// "traced_mismatches": {endpoint: n}, "mismatch_examples": [...], "traces": {endpoint:
// {request id: {trace: count}}}, "trace_lengths": {endpoint: {request id: [min, max]}},
// "served": {node: {pid: n}}, "transport_error_examples": [...]}.
process.removeAllListeners('warning');

const fs = await import('node:fs');
const http = await import('node:http');

const SIDES = ['original', 'multivariant'];
const EXAMPLES = 5;
const DOWN_MS = 150; // how long a node that failed in transport is avoided

function usage(message) {
    fs.writeSync(2, `edge load: ${message}\n`);
    process.exit(2);
}

const planPath = process.argv[2];
if (!planPath) usage('usage: load.mjs PLAN.json');
const plan = JSON.parse(fs.readFileSync(planPath, 'utf8'));
const requests = plan.requests.map((r) => ({ ...r, body: Buffer.from(r.body || '', 'base64') }));
if (requests.length === 0) usage('no request in the plan');
const nodes = plan.nodes;
const agent = new http.Agent({ keepAlive: true, maxSockets: plan.concurrency + 1 });
const downUntil = nodes.map(() => 0);

function now() {
    return Number(process.hrtime.bigint()) / 1e6;
}

/** One request: {ok, status, body, ms, headers} or {ok: false, error, ms}. */
function send(port, r) {
    return new Promise((resolve) => {
        const start = process.hrtime.bigint();
        const elapsed = () => Number(process.hrtime.bigint() - start) / 1e6;
        const req = http.request({
            host: '127.0.0.1', port, path: r.path, agent,
            method: r.body.length ? 'POST' : 'GET',
            headers: r.body.length ? { 'content-length': r.body.length } : {},
        }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ ok: true, status: res.statusCode, headers: res.headers,
                                          body: Buffer.concat(chunks), ms: elapsed() }));
            res.on('error', (err) => resolve({ ok: false, error: err.message, ms: elapsed() }));
        });
        req.setTimeout(plan.timeout_ms, () => req.destroy(new Error('timed out')));
        req.on('error', (err) => resolve({ ok: false, error: err.message, ms: elapsed() }));
        req.end(r.body);
    });
}

// ------------------------------------------------------------------ tallies

const stats = {};
for (const side of [...SIDES, 'traced']) {
    stats[side] = {};
    for (const r of requests) {
        stats[side][r.endpoint] = stats[side][r.endpoint] || {
            latencies_ms: [], server_us: [], requests: 0, errors: 0, transport_errors: 0,
            status: {} };
    }
}
const endpoints = Object.keys(stats.original);
const zero = () => Object.fromEntries(endpoints.map((e) => [e, 0]));
const mismatches = zero(), tracedMismatches = zero();
const mismatchExamples = [], transportExamples = [];
const traces = Object.fromEntries(endpoints.map((e) => [e, {}]));
const traceLengths = {};
const served = {};
let rounds = 0;

function tally(side, r, res, counted) {
    if (!counted) return;
    const s = stats[side][r.endpoint];
    s.requests++;
    if (!res.ok) {
        s.errors++;
        s.transport_errors++;
        if (transportExamples.length < EXAMPLES)
            transportExamples.push({ side, path: r.path, error: res.error });
        return;
    }
    s.status[res.status] = (s.status[res.status] || 0) + 1;
    if (res.status >= 500) s.errors++;
    // Latency of the answers only: a failure's time says how fast it failed.
    if (res.status < 500) {
        s.latencies_ms.push(res.ms);
        const us = Number(res.headers['x-edge-us']);
        if (Number.isFinite(us)) s.server_us.push(us);
    }
    const node = res.headers['x-edge-node'], pid = res.headers['x-edge-pid'];
    served[node] = served[node] || {};
    served[node][pid] = (served[node][pid] || 0) + 1;
}

function same(a, b) {
    return a.status === b.status && a.body.equals(b.body);
}

function example(kind, r, a, b) {
    if (mismatchExamples.length >= EXAMPLES) return;
    const show = (x) => ({ status: x.status, body: x.body.toString('utf8', 0, 200) });
    mismatchExamples.push({ kind, endpoint: r.endpoint, path: r.path, original: show(a),
                            other: show(b) });
}

// ------------------------------------------------------------------ the loop

let next = 0;

function pickNode(w) {
    const t = now();
    for (let k = 0; k < nodes.length; k++) {
        const n = (w + k) % nodes.length;
        if (downUntil[n] <= t) return n;
    }
    return w % nodes.length; // all down: try the home node anyway (counted as it fails)
}

async function worker(w, start, warmEnd, end) {
    for (let round = 0; now() < end; round++) {
        const r = requests[next++ % requests.length];
        const n = pickNode(w);
        const counted = now() >= warmEnd;
        const order = (round + w) % 2 === 0 ? SIDES : [SIDES[1], SIDES[0]];
        const res = {};
        for (const side of order) {
            res[side] = await send(nodes[n][side], r);
            tally(side, r, res[side], counted);
            if (!res[side].ok) downUntil[n] = now() + DOWN_MS;
        }
        const a = res.original, b = res.multivariant;
        if (counted && a.ok && b.ok && !same(a, b)) {
            mismatches[r.endpoint]++;
            example('multivariant', r, a, b);
        }
        if (plan.trace && nodes[n].traced !== undefined) {
            const t = await send(nodes[n].traced, r);
            tally('traced', r, t, counted);
            if (!t.ok) downUntil[n] = now() + DOWN_MS;
            if (counted && t.ok && t.status < 500) {
                const [hash, length] = String(t.headers['x-mewe-trace'] || '').split(':');
                if (hash) {
                    const g = traces[r.endpoint][r.id] || (traces[r.endpoint][r.id] = {});
                    g[hash] = (g[hash] || 0) + 1;
                    const len = Number(length);
                    const byId = traceLengths[r.endpoint] || (traceLengths[r.endpoint] = {});
                    const range = byId[r.id] || [len, len];
                    byId[r.id] = [Math.min(range[0], len), Math.max(range[1], len)];
                }
                if (a.ok && !same(a, t)) {
                    tracedMismatches[r.endpoint]++;
                    example('traced', r, a, t);
                }
            }
        }
        if (counted) rounds++;
        // A worker whose node failed waits a little rather than spinning on refusals.
        if (!a.ok || !b.ok) await new Promise((resolve) => setTimeout(resolve, 20));
    }
}

async function main() {
    const start = now();
    const warmEnd = start + plan.warmup_seconds * 1000;
    const end = warmEnd + plan.seconds * 1000;
    const workers = [];
    for (let w = 0; w < plan.concurrency; w++) workers.push(worker(w, start, warmEnd, end));
    await Promise.all(workers);
    const measured = (now() - warmEnd) / 1000;
    agent.destroy();
    const out = {
        seconds: measured, warmup_seconds: plan.warmup_seconds, concurrency: plan.concurrency,
        rounds, sides: stats, mismatches, traced_mismatches: tracedMismatches,
        mismatch_examples: mismatchExamples, transport_error_examples: transportExamples,
        traces, trace_lengths: traceLengths, served,
    };
    fs.writeSync(1, JSON.stringify(out) + '\n');
}

await main();
