#!/usr/bin/env -S node --no-warnings --no-turbo-fast-api-calls
// wasm-run: run a WASI module under node for the libmewe test suite.
//
// Usage: node --no-warnings --no-turbo-fast-api-calls tests/wasm-run.mjs [options] MODULE.wasm [args...]
//
//   --trace FILE            provide mewe_trace.record(i32, i32); append one line
//                           "function_id variant_id" per call to FILE
//   --discriminate MOD.NAME provide MOD.NAME(i32 n) -> i32, uniform in [0, n)
//                           (default: env.discriminate)
//   --choose K              the discriminate import returns min(K, n - 1), not
//                           a random index: every dispatch runs one variant
//   --reactor               instantiate, run _initialize if exported, then call
//                           the export named by --invoke with the arguments
//                           after MODULE and print its result on stdout
//   --invoke NAME           export to call in --reactor mode
//   --                      end of options
//
// Exit status: the module's own exit code; 127 for usage errors, unreadable or
// invalid modules and unresolved imports; 134 for a trap.

// The WASI ExperimentalWarning goes to stderr, which the tests compare, so
// drop the default warning printer before node:wasi is loaded.
process.removeAllListeners('warning');

const fs = await import('node:fs');
const path = await import('node:path');
const crypto = await import('node:crypto');
const { WASI } = await import('node:wasi');

const EXIT_USAGE = 127;
const EXIT_TRAP = 134;
const USAGE = 'usage: wasm-run [--trace FILE] [--discriminate MOD.NAME] [--choose K] ' +
    '[--reactor --invoke NAME] MODULE.wasm [args...]';

function fail(message, code = EXIT_USAGE) {
    fs.writeSync(2, `wasm-run: ${message}\n`);
    finish(code);
}

// Every exit goes through here so the trace is never lost, whatever the
// module did.
let trace = null;

function finish(code) {
    if (trace !== null) {
        try {
            trace.close();
        } catch (err) {
            fs.writeSync(2, `wasm-run: cannot write trace: ${err.message}\n`);
            if (code === 0) {
                code = EXIT_USAGE;
            }
        }
        trace = null;
    }
    process.exit(code);
}

function parseOptions(argv) {
    const opts = { trace: null, discriminate: null, choose: null, reactor: false, invoke: null };
    let i = 0;
    const value = (name) => {
        if (i + 1 >= argv.length) {
            fail(`option ${name} needs an argument\n${USAGE}`);
        }
        i += 1;
        return argv[i];
    };
    for (; i < argv.length; i += 1) {
        const arg = argv[i];
        if (arg === '--') {
            i += 1;
            break;
        }
        if (arg === '--trace') {
            opts.trace = value(arg);
        } else if (arg === '--discriminate') {
            opts.discriminate = splitImportName(value(arg));
        } else if (arg === '--choose') {
            const k = value(arg);
            if (!/^[0-9]+$/.test(k)) {
                fail(`--choose: '${k}' is not a variant index\n${USAGE}`);
            }
            opts.choose = Number(k);
        } else if (arg === '--reactor') {
            opts.reactor = true;
        } else if (arg === '--invoke') {
            opts.invoke = value(arg);
        } else if (arg === '--help' || arg === '-h') {
            fs.writeSync(1, `${USAGE}\n`);
            finish(0);
        } else if (arg.startsWith('--')) {
            fail(`unknown option ${arg}\n${USAGE}`);
        } else {
            break;
        }
    }
    if (i >= argv.length) {
        fail(`missing module\n${USAGE}`);
    }
    if (opts.reactor !== (opts.invoke !== null)) {
        fail(`--reactor and --invoke go together\n${USAGE}`);
    }
    opts.module = argv[i];
    opts.args = argv.slice(i + 1);
    return opts;
}

function splitImportName(spec) {
    const dot = spec.indexOf('.');
    if (dot <= 0 || dot === spec.length - 1) {
        fail(`import name must look like MODULE.NAME, got '${spec}'`);
    }
    return { module: spec.slice(0, dot), name: spec.slice(dot + 1) };
}

// Trace calls can number in the millions, so pairs are kept in a typed array
// and formatted in bulk; flushing when it fills bounds memory use.
class TraceWriter {
    constructor(file) {
        this.fd = fs.openSync(file, 'w');
        this.pairs = new Int32Array(1 << 20);
        this.used = 0;
    }

    record(functionId, variantId) {
        if (this.used === this.pairs.length) {
            this.flush();
        }
        this.pairs[this.used] = functionId;
        this.pairs[this.used + 1] = variantId;
        this.used += 2;
    }

    flush() {
        const chunk = 1 << 14;
        for (let start = 0; start < this.used; start += chunk) {
            const end = Math.min(start + chunk, this.used);
            let text = '';
            for (let k = start; k < end; k += 2) {
                text += `${this.pairs[k]} ${this.pairs[k + 1]}\n`;
            }
            fs.writeSync(this.fd, text);
        }
        this.used = 0;
    }

    close() {
        try {
            this.flush();
        } finally {
            fs.closeSync(this.fd);
        }
    }
}

let chosen = null; // --choose

function discriminate(n) {
    if (n <= 0) {
        return 0;
    }
    return chosen === null ? crypto.randomInt(n) : Math.min(chosen, n - 1);
}

// Thrown by proc_exit so one code path handles exits from _start, from
// _initialize and from reactor calls alike.
class ModuleExit {
    constructor(code) {
        this.code = code;
    }
}

function buildImports(opts, wasi) {
    const imports = wasi.getImportObject();
    imports.wasi_snapshot_preview1.proc_exit = (code) => {
        throw new ModuleExit(code >>> 0);
    };
    const add = (module, name, fn) => {
        imports[module] = imports[module] || {};
        imports[module][name] = fn;
    };
    if (opts.trace !== null) {
        add('mewe_trace', 'record', (f, v) => trace.record(f, v));
    }
    const disc = opts.discriminate || { module: 'env', name: 'discriminate' };
    add(disc.module, disc.name, discriminate);
    return imports;
}

function checkImports(module, imports) {
    const missing = WebAssembly.Module.imports(module).filter(
        (imp) => !Object.hasOwn(imports, imp.module) ||
            !Object.hasOwn(imports[imp.module], imp.name));
    if (missing.length === 0) {
        return;
    }
    for (const imp of missing) {
        fs.writeSync(2, `wasm-run: unresolved import ${imp.module}.${imp.name}\n`);
    }
    finish(EXIT_USAGE);
}

function loadModule(file) {
    let bytes;
    try {
        bytes = fs.readFileSync(file);
    } catch (err) {
        fail(`cannot read ${file}: ${err.message}`);
    }
    try {
        return { bytes, module: new WebAssembly.Module(bytes) };
    } catch (err) {
        fail(`invalid module ${file}: ${err.message}`);
    }
    return null;
}

// --- Minimal binary reader, only to learn the parameter types of the export
// called in reactor mode (node 20 has no type reflection for exports).

const VALTYPES = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64' };

class Reader {
    constructor(bytes, pos = 0, end = bytes.length) {
        this.bytes = bytes;
        this.pos = pos;
        this.end = end;
    }

    byte() {
        if (this.pos >= this.end) {
            throw new Error('truncated module');
        }
        return this.bytes[this.pos++];
    }

    u32() {
        let result = 0;
        let scale = 1;
        for (;;) {
            const b = this.byte();
            result += (b & 0x7f) * scale;
            scale *= 128;
            if ((b & 0x80) === 0) {
                return result;
            }
        }
    }

    name() {
        const len = this.u32();
        const text = Buffer.from(this.bytes.subarray(this.pos, this.pos + len)).toString();
        this.pos += len;
        return text;
    }

    limits() {
        const flags = this.byte();
        this.u32();
        if (flags & 1) {
            this.u32();
        }
    }
}

function readFuncType(r) {
    if (r.byte() !== 0x60) {
        return null;
    }
    const params = [];
    for (let n = r.u32(); n > 0; n -= 1) {
        params.push(VALTYPES[r.byte()] || 'other');
    }
    for (let n = r.u32(); n > 0; n -= 1) {
        r.byte();
    }
    return params;
}

function skipImportDesc(r, kind, funcTypes, types) {
    if (kind === 0x00) {
        funcTypes.push(types[r.u32()]);
    } else if (kind === 0x01) {
        r.byte();
        r.limits();
    } else if (kind === 0x02) {
        r.limits();
    } else if (kind === 0x03) {
        r.byte();
        r.byte();
    } else if (kind === 0x04) {
        r.byte();
        r.u32();
    } else {
        throw new Error(`unknown import kind ${kind}`);
    }
}

function exportParamTypes(bytes, exportName) {
    const r = new Reader(bytes, 8);
    const types = [];
    const funcTypes = [];
    while (r.pos < r.end) {
        const id = r.byte();
        const size = r.u32();
        const s = new Reader(bytes, r.pos, r.pos + size);
        r.pos += size;
        if (id === 1) {
            for (let n = s.u32(); n > 0; n -= 1) {
                types.push(readFuncType(s));
            }
        } else if (id === 2) {
            for (let n = s.u32(); n > 0; n -= 1) {
                s.name();
                s.name();
                skipImportDesc(s, s.byte(), funcTypes, types);
            }
        } else if (id === 3) {
            for (let n = s.u32(); n > 0; n -= 1) {
                funcTypes.push(types[s.u32()]);
            }
        } else if (id === 7) {
            for (let n = s.u32(); n > 0; n -= 1) {
                const name = s.name();
                const kind = s.byte();
                const index = s.u32();
                if (kind === 0x00 && name === exportName) {
                    return funcTypes[index] || null;
                }
            }
        }
    }
    return null;
}

function convertArgs(bytes, name, args) {
    let params = null;
    try {
        params = exportParamTypes(bytes, name);
    } catch {
        params = null;
    }
    return args.map((text, i) => {
        const type = params ? params[i] : 'i32';
        try {
            if (type === 'i64') {
                return BigInt(text);
            }
        } catch {
            fail(`argument '${text}' is not an integer`);
        }
        const value = Number(text);
        if (text.trim() === '' || Number.isNaN(value)) {
            fail(`argument '${text}' is not a number`);
        }
        return value;
    });
}

function formatResult(value) {
    if (Array.isArray(value)) {
        return value.map(String).join(' ');
    }
    return String(value);
}

// --- Running.

// Node 20 has no finalizeBindings, and start()/initialize() insist on
// exactly one of _start/_initialize; binding the memory through a stand-in
// instance lets us call the entry points ourselves in both modes.
function bindMemory(wasi, instance) {
    let memory = instance.exports.memory;
    if (!(memory instanceof WebAssembly.Memory)) {
        memory = new WebAssembly.Memory({ initial: 0 });
    }
    wasi.initialize({ exports: { memory } });
}

function runCommand(instance) {
    const start = instance.exports._start;
    if (typeof start !== 'function') {
        fail('module has no _start export (use --reactor --invoke NAME)');
    }
    start();
    return 0;
}

function runReactor(instance, opts, bytes) {
    const init = instance.exports._initialize;
    if (typeof init === 'function') {
        init();
    }
    const fn = instance.exports[opts.invoke];
    if (typeof fn !== 'function') {
        fail(`module exports no function '${opts.invoke}'`);
    }
    const result = fn(...convertArgs(bytes, opts.invoke, opts.args));
    if (result !== undefined) {
        fs.writeSync(1, `${formatResult(result)}\n`);
    }
    return 0;
}

function main() {
    const opts = parseOptions(process.argv.slice(2));
    chosen = opts.choose;
    const { bytes, module } = loadModule(opts.module);
    const wasi = new WASI({
        version: 'preview1',
        args: [path.basename(opts.module), ...(opts.reactor ? [] : opts.args)],
        env: {},
        stdin: 0,
        stdout: 1,
        stderr: 2,
        returnOnExit: true,
    });
    const imports = buildImports(opts, wasi);
    checkImports(module, imports);
    if (opts.trace !== null) {
        try {
            trace = new TraceWriter(opts.trace);
        } catch (err) {
            fail(`cannot open trace file: ${err.message}`);
        }
    }
    let instance;
    try {
        instance = new WebAssembly.Instance(module, imports);
    } catch (err) {
        if (err instanceof WebAssembly.LinkError) {
            fail(`link error: ${err.message}`);
        }
        return finishWith(err);
    }
    try {
        bindMemory(wasi, instance);
        const code = opts.reactor ? runReactor(instance, opts, bytes) : runCommand(instance);
        finish(code);
    } catch (err) {
        finishWith(err);
    }
    return undefined;
}

// A start function may trap during instantiation as well as later, so both
// places map exceptions the same way.
function finishWith(err) {
    if (err instanceof ModuleExit) {
        finish(err.code);
    }
    const message = err instanceof Error ? err.message : String(err);
    fs.writeSync(2, `wasm-run: trap: ${message}\n`);
    finish(EXIT_TRAP);
}

main();
