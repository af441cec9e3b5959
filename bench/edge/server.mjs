#!/usr/bin/env -S node --no-warnings --no-turbo-fast-api-calls
// server: one node of the local edge (bench/edge/run). It serves WASI command modules over
// HTTP the way an edge platform such as Fastly Compute does: every request runs in a FRESH
// instance of a module compiled once when the node starts.
//
// Usage: node --no-warnings --no-turbo-fast-api-calls bench/edge/server.mjs CONFIG.json NODE
//
// CONFIG.json: {"endpoints": {NAME: {"original": WASM, "multivariant": WASM,
//               "traced": WASM (optional)}}, "wasi": "edge" | "node",
//               "nodes": [{"original": PORT, "multivariant": PORT, "traced": PORT}, ...]}
// NODE is this node's index in "nodes"; a port 0 lets the system choose (first start), a
// restarted node is given the ports it had. Each side listens on its own port of
// 127.0.0.1, so that the load generator reaches the original and the multivariant build of
// the same node side by side.
//
// A request maps onto a run of the endpoint's module:
//   GET|POST /NAME/ARG1/ARG2?K=V&W   argv = [NAME, ARG1, ARG2, "K=V", "W"] (URL-decoded)
//   request body                     standard input
//   standard output                  response body
//   exit status 0                    200
//   exit status N != 0               400, header x-wasi-exit: N (the program refused the
//                                    request: the corpus programs exit 1 on bad input)
//   trap, or a host failure          500, body "trap: MESSAGE" (an error; the node goes on)
//   unknown NAME                     404
// Headers of every response: x-edge-node (index), x-edge-pid, x-edge-us (microseconds of
// instantiation and run, the host's own view of the request's cost); on the traced side
// x-mewe-trace: a hash of the sequence of (function id, variant id) pairs that the module's
// dispatchers reported through mewe_trace.record, and the sequence's length.
//
// When every side listens it prints one line of JSON on stdout: {"ready": true, "node",
// "pid", "ports": {side: port}}. Exit status 1 when a module cannot be loaded or a port
// cannot be bound, 2 on usage.
process.removeAllListeners('warning');

const fs = await import('node:fs');
const http = await import('node:http');
const os = await import('node:os');
const path = await import('node:path');
const crypto = await import('node:crypto');

const SIDES = ['original', 'multivariant', 'traced'];
const STDERR_KEEP = 2048; // bytes of a module's stderr kept for a 500's body

function die(message, code = 1) {
    fs.writeSync(2, `edge server: ${message}\n`);
    process.exit(code);
}

// ------------------------------------------------------------------ the in-memory WASI host

// wasi_snapshot_preview1 errno values used here.
const ESUCCESS = 0, EBADF = 8, ENOSYS = 52, ESPIPE = 70;

class ProcExit {
    constructor(code) {
        this.code = code;
    }
}

/**
 * The WASI that an edge platform gives a request: argv, standard input from the request
 * body, standard output and error kept in memory, the clock, entropy, and nothing else (no
 * files, no environment, no sockets: every other call answers ENOSYS). Kept in memory
 * rather than node:wasi's file descriptors so that a request costs no temporary file, and
 * because node 20's WASI object holds native state that a garbage collection during a later
 * instance's fd_write can free and abort the process (see bench/gc-between-instances.cjs):
 * a server that makes thousands of instances would hit it. `--wasi node` in the config
 * serves through node:wasi instead, for comparison.
 */
class EdgeWasi {
    constructor(args, stdin) {
        this.args = args.map((a) => Buffer.from(`${a}\0`));
        this.stdin = stdin;
        this.stdinPos = 0;
        this.stdout = [];
        this.stderr = [];
        this.stderrBytes = 0;
        this.memory = null;
    }

    view() {
        return new DataView(this.memory.buffer);
    }

    bytes(ptr, len) {
        return new Uint8Array(this.memory.buffer, ptr, len);
    }

    /** The import object for a module importing `wanted` (WebAssembly.Module.imports). */
    imports(wanted) {
        const self = this;
        const calls = {
            args_sizes_get(argcPtr, sizePtr) {
                const v = self.view();
                v.setUint32(argcPtr, self.args.length, true);
                v.setUint32(sizePtr, self.args.reduce((n, a) => n + a.length, 0), true);
                return ESUCCESS;
            },
            args_get(argvPtr, bufPtr) {
                const v = self.view();
                let at = bufPtr;
                self.args.forEach((a, i) => {
                    v.setUint32(argvPtr + 4 * i, at, true);
                    self.bytes(at, a.length).set(a);
                    at += a.length;
                });
                return ESUCCESS;
            },
            environ_sizes_get(countPtr, sizePtr) {
                const v = self.view();
                v.setUint32(countPtr, 0, true);
                v.setUint32(sizePtr, 0, true);
                return ESUCCESS;
            },
            environ_get() {
                return ESUCCESS;
            },
            fd_write(fd, iovs, iovsLen, nwrittenPtr) {
                if (fd !== 1 && fd !== 2) return EBADF;
                const v = self.view();
                let n = 0;
                for (let i = 0; i < iovsLen; i++) {
                    const ptr = v.getUint32(iovs + 8 * i, true);
                    const len = v.getUint32(iovs + 8 * i + 4, true);
                    if (len === 0) continue;
                    // A copy: the instance's memory is gone once the request ends.
                    const chunk = Buffer.from(self.bytes(ptr, len));
                    if (fd === 1) {
                        self.stdout.push(chunk);
                    } else if (self.stderrBytes < STDERR_KEEP) {
                        self.stderr.push(chunk);
                        self.stderrBytes += len;
                    }
                    n += len;
                }
                v.setUint32(nwrittenPtr, n, true);
                return ESUCCESS;
            },
            fd_read(fd, iovs, iovsLen, nreadPtr) {
                if (fd !== 0) return EBADF;
                const v = self.view();
                let n = 0;
                for (let i = 0; i < iovsLen && self.stdinPos < self.stdin.length; i++) {
                    const ptr = v.getUint32(iovs + 8 * i, true);
                    const len = v.getUint32(iovs + 8 * i + 4, true);
                    const take = Math.min(len, self.stdin.length - self.stdinPos);
                    self.bytes(ptr, take).set(
                        self.stdin.subarray(self.stdinPos, self.stdinPos + take));
                    self.stdinPos += take;
                    n += take;
                }
                v.setUint32(nreadPtr, n, true);
                return ESUCCESS;
            },
            fd_close(fd) {
                return fd <= 2 ? ESUCCESS : EBADF;
            },
            fd_seek(fd) {
                return fd <= 2 ? ESPIPE : EBADF;
            },
            fd_fdstat_get(fd, statPtr) {
                if (fd > 2) return EBADF;
                // Filetype "unknown" (0) with every right: not a character device, so
                // wasi-libc does not take stdout for a terminal and line-buffer it.
                const v = self.view();
                v.setUint8(statPtr, 0);
                v.setUint16(statPtr + 2, 0, true);
                v.setBigUint64(statPtr + 8, 0xffffffffffffffffn, true);
                v.setBigUint64(statPtr + 16, 0xffffffffffffffffn, true);
                return ESUCCESS;
            },
            fd_prestat_get() {
                return EBADF; // no preopened directories: the request has no files
            },
            fd_prestat_dir_name() {
                return EBADF;
            },
            proc_exit(code) {
                throw new ProcExit(code >>> 0);
            },
            random_get(ptr, len) {
                crypto.randomFillSync(self.bytes(ptr, len));
                return ESUCCESS;
            },
            clock_time_get(id, precision, timePtr) {
                const ns = id === 0 ? BigInt(Date.now()) * 1000000n : process.hrtime.bigint();
                self.view().setBigUint64(timePtr, ns, true);
                return ESUCCESS;
            },
            clock_res_get(id, resPtr) {
                self.view().setBigUint64(resPtr, 1000n, true);
                return ESUCCESS;
            },
            sched_yield() {
                return ESUCCESS;
            },
        };
        const wasi = {};
        for (const imp of wanted) {
            if (imp.module !== 'wasi_snapshot_preview1' || imp.kind !== 'function') continue;
            wasi[imp.name] = calls[imp.name] || (() => ENOSYS);
        }
        return { wasi_snapshot_preview1: wasi };
    }
}

/** One request through the in-memory host: {code, trap, stdout, stderr}. */
function runEdge(entry, args, stdin, extra) {
    const host = new EdgeWasi(args, stdin);
    const imports = { ...host.imports(entry.imports), ...extra };
    let code = 0, trap = null;
    try {
        const instance = new WebAssembly.Instance(entry.module, imports);
        host.memory = instance.exports.memory;
        instance.exports._start();
    } catch (err) {
        if (err instanceof ProcExit) code = err.code;
        else trap = String(err && err.message || err);
    }
    return { code, trap, stdout: Buffer.concat(host.stdout), stderr: Buffer.concat(host.stderr) };
}

// ------------------------------------------------------------------ node:wasi, for comparison

let scratch = null;
let scratchSeq = 0;

/** One request through node:wasi: body and output through files of a tmpfs if there is one. */
function runNode(entry, args, stdin, extra) {
    if (scratch === null) {
        const base = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
        scratch = fs.mkdtempSync(path.join(base, 'mewe-edge-'));
        process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));
    }
    const n = scratchSeq++;
    const inPath = path.join(scratch, `in-${n}`), outPath = path.join(scratch, `out-${n}`);
    const errPath = path.join(scratch, `err-${n}`);
    fs.writeFileSync(inPath, stdin);
    const fds = [fs.openSync(inPath, 'r'), fs.openSync(outPath, 'w'), fs.openSync(errPath, 'w')];
    let code = 0, trap = null;
    try {
        const wasi = new WASI({ version: 'preview1', args, env: {}, stdin: fds[0],
                                stdout: fds[1], stderr: fds[2], returnOnExit: true });
        const instance = new WebAssembly.Instance(entry.module,
                                                  { ...wasi.getImportObject(), ...extra });
        code = wasi.start(instance);
    } catch (err) {
        trap = String(err && err.message || err);
    }
    fds.forEach((fd) => fs.closeSync(fd));
    const result = { code, trap, stdout: fs.readFileSync(outPath),
                     stderr: fs.readFileSync(errPath).subarray(0, STDERR_KEEP) };
    for (const p of [inPath, outPath, errPath]) fs.unlinkSync(p);
    return result;
}

// ------------------------------------------------------------------ serving

/** A trace recorder: two 32-bit FNV-1a lanes over the pairs, as tests/wasm-repeat.mjs. */
function traceRecorder() {
    const t = { h1: 0x811c9dc5, h2: 0x01000193 ^ 0x5bd1e995, length: 0 };
    t.imports = {
        mewe_trace: { record: (f, v) => {
            t.h1 = Math.imul(t.h1 ^ f, 0x01000193); t.h1 = Math.imul(t.h1 ^ v, 0x01000193);
            t.h2 = Math.imul(t.h2 ^ v, 0x5bd1e995) ^ (t.h2 >>> 13);
            t.h2 = Math.imul(t.h2 ^ f, 0x01000193);
            t.length++;
        } },
    };
    t.header = () => `${(t.h1 >>> 0).toString(16)}${(t.h2 >>> 0).toString(16)}:${t.length}`;
    return t;
}

/** argv from a request URL: the endpoint's name, then the path's segments and the query's. */
function requestArgs(url) {
    const q = url.indexOf('?');
    const pathPart = q < 0 ? url : url.slice(0, q);
    const segments = pathPart.split('/').slice(1).map((s) => decodeURIComponent(s));
    if (q >= 0) {
        for (const item of url.slice(q + 1).split('&')) {
            if (item !== '') segments.push(decodeURIComponent(item.replace(/\+/g, ' ')));
        }
    }
    return segments;
}

function handle(ctx, side, req, body, res) {
    let args;
    try {
        args = requestArgs(req.url);
    } catch (err) {
        return reply(ctx, res, 400, {}, `bad request URL: ${err.message}\n`);
    }
    const endpoint = ctx.endpoints.get(args[0]);
    const entry = endpoint && endpoint[side];
    if (!entry) return reply(ctx, res, 404, {}, `no endpoint ${args[0]} on the ${side} side\n`);
    const trace = side === 'traced' ? traceRecorder() : null;
    const start = process.hrtime.bigint();
    const r = ctx.run(entry, args, body, trace ? trace.imports : {});
    const us = Number((process.hrtime.bigint() - start) / 1000n);
    const headers = { 'x-edge-us': String(us) };
    if (trace) headers['x-mewe-trace'] = trace.header();
    if (r.trap !== null) {
        return reply(ctx, res, 500, headers,
                     `trap: ${r.trap}\n${r.stderr.toString('utf8', 0, STDERR_KEEP)}`);
    }
    if (r.code !== 0) headers['x-wasi-exit'] = String(r.code);
    return reply(ctx, res, r.code === 0 ? 200 : 400, headers, r.stdout);
}

function reply(ctx, res, status, headers, body) {
    res.writeHead(status, { 'content-type': 'application/octet-stream',
                            'content-length': Buffer.byteLength(body),
                            'x-edge-node': String(ctx.node), 'x-edge-pid': String(process.pid),
                            ...headers });
    res.end(body);
}

function listen(ctx, side, port) {
    const server = http.createServer({ keepAliveTimeout: 60000 }, (req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            try {
                handle(ctx, side, req, Buffer.concat(chunks), res);
            } catch (err) {
                // A failure of the host itself: still an answer, and the node goes on.
                reply(ctx, res, 500, {}, `host failure: ${err && err.message}\n`);
            }
        });
    });
    return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve(server.address().port));
    });
}

let WASI = null;

async function main() {
    const [configPath, nodeArg] = process.argv.slice(2);
    if (!configPath || nodeArg === undefined) die('usage: server.mjs CONFIG.json NODE', 2);
    let config;
    try {
        config = JSON.parse(fs.readFileSync(configPath, 'utf8'));
    } catch (err) {
        die(`cannot read ${configPath}: ${err.message}`, 2);
    }
    const node = Number.parseInt(nodeArg, 10);
    const ports = (config.nodes || [])[node];
    if (!ports) die(`no node ${nodeArg} in ${configPath}`, 2);
    if (config.wasi === 'node') ({ WASI } = await import('node:wasi'));
    else if (config.wasi && config.wasi !== 'edge') die(`unknown wasi "${config.wasi}"`, 2);
    const ctx = { node, endpoints: new Map(), run: config.wasi === 'node' ? runNode : runEdge };
    for (const [name, files] of Object.entries(config.endpoints || {})) {
        const entry = {};
        for (const side of SIDES) {
            if (!files[side]) continue;
            let module;
            try {
                module = new WebAssembly.Module(fs.readFileSync(files[side]));
            } catch (err) {
                die(`endpoint ${name}, ${side}: cannot load ${files[side]}: ${err.message}`);
            }
            entry[side] = { module, imports: WebAssembly.Module.imports(module) };
        }
        ctx.endpoints.set(name, entry);
    }
    const bound = {};
    for (const side of SIDES) {
        if (ports[side] === undefined) continue;
        try {
            bound[side] = await listen(ctx, side, ports[side]);
        } catch (err) {
            die(`cannot listen on 127.0.0.1:${ports[side]} (${side}): ${err.message}`);
        }
    }
    fs.writeSync(1, JSON.stringify({ ready: true, node, pid: process.pid, ports: bound }) + '\n');
}

await main();
