// Preloaded (node --no-turbo-fast-api-calls --expose-gc --require) into
// tests/wasm-repeat.mjs by bench/run.py: a full garbage collection before each new
// WebAssembly instance.
//
// Why: node 20 aborts (SIGABRT in uv_mutex_destroy, from uvwasi_fd_table_free) when a
// garbage collection that starts inside one WASI's fd_write finalizes the WASI object of an
// earlier run. wasm-repeat makes a fresh WASI per run and never collects on its own, so
// after a dozen runs of a workload that writes and allocates enough (base64-bench), the
// collection lands inside fd_write and the process dies without a message. Collecting
// between runs finalizes the dead WASI objects outside any WASI call. bench/timing.mjs
// does the same itself.
'use strict';

const Original = WebAssembly.Instance;

function Instance(module, imports) {
    if (typeof globalThis.gc === 'function') globalThis.gc();
    return new Original(module, imports);
}
Instance.prototype = Original.prototype;
WebAssembly.Instance = Instance;
