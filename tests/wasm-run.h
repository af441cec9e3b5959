/* Test helpers: run WebAssembly modules under node (tests/wasm-run.mjs) and
 * native commands as subprocesses, capturing their output, and compile test
 * programs with clang-19 and rustc.
 *
 * Build-time macros:
 *   MEWE_TEST_SRCDIR  the tests/ source directory holding wasm-run.mjs (required)
 *   MEWE_NODE         node executable (default "node")
 *   MEWE_CLANG        clang with the wasm32-wasi sysroot (default "clang-19")
 *   MEWE_RUSTC        rustc with the wasm32-wasi std (default "/usr/bin/rustc")
 */
#ifndef MEWE_TESTS_WASM_RUN_H
#define MEWE_TESTS_WASM_RUN_H

#include <stddef.h>

/* Defaults of the build-time macros above; meson always sets them. */
#ifndef MEWE_TEST_SRCDIR
#error "MEWE_TEST_SRCDIR must name the tests/ source directory"
#endif
#ifndef MEWE_NODE
#define MEWE_NODE "node"
#endif
#ifndef MEWE_CLANG
#define MEWE_CLANG "clang-19"
#endif
#ifndef MEWE_RUSTC
#define MEWE_RUSTC "/usr/bin/rustc"
#endif

/* node 20's WASI crashes now and then in a process that runs many instances unless
 * TurboFan's fast API calls are off: every node that runs wasm gets this flag. */
#define MEWE_NODE_FLAG "--no-turbo-fast-api-calls"

/* wabt's validator, with the proposals beyond its defaults that LLVM 19 can emit. */
#ifndef MEWE_WASM_VALIDATE
#define MEWE_WASM_VALIDATE "wasm-validate"
#endif

/* out and err are NUL-terminated (the lengths exclude the NUL) and never NULL
 * after a successful run. exit_code is the process exit status, or 128 plus
 * the signal number when the process was killed by a signal. */
typedef struct {
    char *out;
    size_t out_len;
    char *err;
    size_t err_len;
    int exit_code;
} wasm_run_result;

/* Runs `node wasm-run.mjs OPTS... MODULE ARGV...`. argv: NULL-terminated extra
 * arguments after the module; opts: NULL-terminated runner options placed
 * before the module (e.g. "--trace", path). Either may be NULL. stdin_data may
 * be NULL (the module then sees an empty stdin). Returns 0 when node ran
 * (whatever the module's exit code), -1 when node could not be started or
 * when the module (if it exists) fails wasm_validate, which is then reported
 * on stderr. */
int wasm_run(wasm_run_result *res, const char *module, const char *const *opts,
             const char *const *argv, const char *stdin_data, size_t stdin_len);

void wasm_run_result_free(wasm_run_result *res);

/* Validates a module with MEWE_WASM_VALIDATE. Returns 0 when it is valid, -1
 * when it is not or the validator is missing (then *log, when log is not NULL,
 * receives why: malloc'd, freed by the caller). */
int wasm_validate(const char *module, char **log);

/* Nonzero when node is found and new enough for node:wasi. */
int wasm_run_available(void);

/* Runs argv_full[0] (looked up in PATH) with argv_full as its argument vector,
 * like wasm_run. Returns 0 when the command ran, -1 when it could not be
 * started. */
int host_run(wasm_run_result *res, const char *const *argv_full, const char *stdin_data,
             size_t stdin_len);

/* Compile with `MEWE_CLANG --target=wasm32-wasi -O2`: a C file to a WASI
 * command module, or to LLVM bitcode. Compile a Rust program to whole-program
 * bitcode with `MEWE_RUSTC --target wasm32-wasi -O -C lto=fat -C panic=abort
 * --edition=2018 --emit=llvm-bc`. All return 0 on success and -1 on failure;
 * when log is not NULL it receives the compiler's combined stdout and stderr
 * (malloc'd, possibly empty, NULL only if the compiler could not be started),
 * which the caller frees. */
int compile_c_to_wasm(const char *src, const char *out_wasm, char **log);
/* Runs a compiler command line (argv[0] looked up in PATH); 0 when it exited 0. *log
 * (malloc'd, may be NULL) receives what it printed. */
int run_compiler(const char *const *argv, char **log);

int compile_c_to_bc(const char *src, const char *out_bc, char **log);
int compile_rust_to_bc(const char *src, const char *out_bc, char **log);

#endif
