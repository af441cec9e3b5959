/* mewe: libmewe's pipeline as a command. It only parses flags (cli_args.c) and calls the
 * library; every decision about variants, dispatchers and wasm is the library's. */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <llvm-c/ErrorHandling.h>

#include <mewe/mewe.h>
#include <mewe/sys/diversifier.h>
#include <mewe/sys/rng.h>

#include "cli.h"
#include "cli_options.h"
#include "platform.h"

typedef struct run {
    const cli *c;
    mewe_context *ctx;
    mewe_module *module;
    char *wasm; /* the linked wasm written, read back for the report; or NULL */
    size_t wasm_size;
    bool progress; /* stderr is a terminal and -q was not given */
    bool shown;    /* a progress line is on the terminal */
    double start;  /* when main started, for the summary */
    double drawn;  /* when the progress line was last drawn */
} run;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------ messages */

static void progress_clear(run *r)
{
    if (r->shown)
        fputs("\r\033[K", stderr);
    r->shown = false;
}

/* One line, rewritten in place, so that a long run shows where it is and a finished run
 * leaves nothing behind; pipes and files get no progress at all. */
static void progress(run *r, const char *what)
{
    if (!r->progress)
        return;
    fprintf(stderr, "\r\033[Kmewe: %s...", what);
    fflush(stderr);
    r->shown = true;
}

/* The library's progress within a stage (functions, dispatchers), redrawn at most 20 times a
 * second: a terminal that gets a line per function slows the run down. */
static void library_progress(const char *stage, size_t done, size_t total, void *user_data)
{
    run *r = user_data;
    double t = now();
    if (!r->progress || (done != 0 && done != total && t - r->drawn < 0.05))
        return;
    r->drawn = t;
    fprintf(stderr, "\r\033[Kmewe: %s %zu/%zu", stage, done, total);
    fflush(stderr);
    r->shown = true;
}

static void log_message(mewe_log_level level, const char *message, void *user_data)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    run *r = user_data;
    /* Errors come back as the failing call's status; main prints those once. */
    if (level == MEWE_LOG_ERROR)
        return;
    progress_clear(r);
    fprintf(stderr, "mewe: %s: %s\n", names[level], message);
}

/* mewe's own account of what it does, at -v (level 1) and -vv (level 2). */
static void note(run *r, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void note(run *r, int level, const char *fmt, ...)
{
    if (r->c->quiet || r->c->verbose < level)
        return;
    progress_clear(r);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mewe: %s: ", level == 1 ? "info" : "debug");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* A library call failed: "mewe: what: why". When the library refused a value that came from
 * a flag (a diversifier parameter, an RNG spec, a tool path), the flag is at fault and this
 * is a usage error. */
static int failed(run *r, const char *what, int rc, const char *flag)
{
    progress_clear(r);
    const char *why = mewe_context_errmsg(r->ctx);
    bool usage = flag && (rc == MEWE_EINVAL || rc == MEWE_ENOTFOUND);
    cli_error("%s: %s", usage ? flag : what, why[0] ? why : mewe_status_str(rc));
    return usage ? EXIT_USAGE : EXIT_FAIL;
}

/* ------------------------------------------------------------------ information */

/* One block per diversifier: name, cost class and description, then one line per
 * parameter with its documentation when the diversifier gives it. */
static int list_diversifiers(mewe_context *ctx)
{
    size_t n = mewe_diversifier_count(ctx);
    for (size_t i = 0; i < n; i++) {
        const mewe_diversifier *d;
        if (mewe_diversifier_get(&d, ctx, i) != MEWE_OK)
            return EXIT_FAIL;
        printf("%-12s [%s] %s\n", d->name, mewe_cost_class_str(d->cost_class), d->description);
        for (size_t k = 0; d->param_names && d->param_names[k]; k++)
            printf("  %-10s %s\n", d->param_names[k],
                   d->param_docs && d->param_docs[k] ? d->param_docs[k] : "");
    }
    return EXIT_OK;
}

static int list_plugins(mewe_context *ctx, bool rng)
{
    if (!rng)
        return list_diversifiers(ctx);
    size_t n = rng ? mewe_rng_strategy_count(ctx) : mewe_diversifier_count(ctx);
    for (size_t i = 0; i < n; i++) {
        const char *name, *description;
        int rc = rng ? mewe_rng_strategy_at(&name, &description, ctx, i)
                     : mewe_diversifier_at(&name, &description, ctx, i);
        if (rc != MEWE_OK)
            return EXIT_FAIL;
        printf("%-12s %s\n", name, description);
    }
    return EXIT_OK;
}

static void print_version(void)
{
    printf("mewe %s (libmewe %s)\n", MEWE_VERSION_STRING, mewe_version());
    printf("LLVM %s\n", mewe_llvm_version());
}

/* ------------------------------------------------------------------ set-up */

static bool emits_wasm(const cli *c)
{
    return (c->stage == STAGE_ALL || c->stage == STAGE_EMIT) && c->kind != KIND_BC &&
           c->kind != KIND_LL;
}

static int set_tools(run *r)
{
    static const char *const flags[] = {"--wasm-ld", "--wasi-sysroot", "--builtins", "--wasi-sdk"};
    /* The SDK first, so that the single-tool flags override its parts. */
    static const mewe_tool order[] = {MEWE_TOOL_WASI_SDK, MEWE_TOOL_WASM_LD, MEWE_TOOL_WASI_SYSROOT,
                                      MEWE_TOOL_BUILTINS};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const char *path = r->c->tools[order[i]];
        if (!path)
            continue;
        int rc = mewe_context_set_tool_path(r->ctx, order[i], path);
        if (rc == MEWE_OK)
            continue;
        if (order[i] == MEWE_TOOL_WASI_SDK && r->c->sdk_from_env)
            return failed(r, "WASI_SDK_PATH", rc, NULL);
        return failed(r, flags[order[i]], rc, flags[order[i]]);
    }
    return EXIT_OK;
}

/* Specs are checked by the library before any work: an unknown name or parameter is a usage
 * error of the flag that gave it. */
static int check_spec(run *r, const char *flag, const char *spec, bool rng)
{
    int rc = rng ? mewe_rng_strategy_spec_check(r->ctx, spec)
                 : mewe_diversifier_spec_check(r->ctx, spec);
    if (rc == MEWE_OK)
        return EXIT_OK;
    if (rc != MEWE_EINVAL && rc != MEWE_ENOTFOUND)
        return failed(r, flag, rc, NULL);
    cli_error("%s: %s (see mewe %s)\nTry 'mewe --help' for more information.", flag,
              mewe_context_errmsg(r->ctx), rng ? "--list-rng" : "--list-diversifiers");
    return EXIT_USAGE;
}

static int check_names(run *r)
{
    const cli *c = r->c;
    int rc = EXIT_OK;
    for (size_t i = 0; rc == EXIT_OK && i < c->diversifiers.count; i++)
        rc = check_spec(r, "--diversifier", c->diversifiers.items[i], false);
    if (rc == EXIT_OK && c->link.rng)
        rc = check_spec(r, "--rng", c->link.rng, true);
    return rc;
}

static int set_up(run *r)
{
    const cli *c = r->c;
    int level = c->quiet          ? -1
                : c->verbose == 0 ? MEWE_LOG_WARN
                : c->verbose == 1 ? MEWE_LOG_INFO
                                  : MEWE_LOG_DEBUG;
    int rc = mewe_context_new(&r->ctx);
    if (rc != MEWE_OK) {
        cli_error("cannot create a libmewe context: %s", mewe_status_str(rc));
        return EXIT_FAIL;
    }
    if (level >= 0)
        mewe_context_set_log_callback(r->ctx, log_message, (mewe_log_level)level, r);
    if (r->progress)
        mewe_context_set_progress_callback(r->ctx, library_progress, r);
    mewe_context_set_seed(r->ctx, c->seed);
    /* A command's inputs are whatever files it is given: load them through the helper. */
    mewe_context_set_untrusted_input(r->ctx, !c->trusted_input);
    if (c->action != ACT_RUN)
        return EXIT_OK;
    rc = check_names(r);
    if (rc == EXIT_OK && emits_wasm(c))
        rc = set_tools(r);
    return rc;
}

/* ------------------------------------------------------------------ stages */

static int load_inputs(run *r)
{
    const strlist *in = &r->c->inputs;
    progress(r, "loading");
    int rc = mewe_module_load(&r->module, r->ctx, in->items[0]);
    if (rc != MEWE_OK)
        return failed(r, "loading", rc, NULL);
    note(r, 1, "loaded '%s'", in->items[0]);
    if (in->count > 1) {
        rc = mewe_module_link_files(r->module, (const char *const *)in->items + 1, in->count - 1);
        if (rc != MEWE_OK)
            return failed(r, "linking inputs", rc, NULL);
        note(r, 1, "linked %zu more files into it", in->count - 1);
    }
    note(r, 1, "%zu functions defined", mewe_module_function_count(r->module));
    /* A module that cannot become wasm fails now, not after its variants were made. */
    if (emits_wasm(r->c)) {
        rc = mewe_module_check_target(r->module);
        if (rc != MEWE_OK)
            return failed(r, "loading", rc, NULL);
    }
    return EXIT_OK;
}

/* An --allow or --deny pattern that names no function of the input does nothing: most likely
 * a typo, or a mangled name (C++, Rust) given unmangled. */
static void warn_unmatched(run *r, const strlist *patterns, const char *flag)
{
    size_t n = mewe_module_function_count(r->module);
    for (size_t p = 0; p < patterns->count && !r->c->quiet; p++) {
        bool hit = false;
        for (size_t i = 0; i < n && !hit; i++) {
            const char *name;
            if (mewe_module_function_at(&name, r->module, i) == MEWE_OK)
                hit = strcmp(patterns->items[p], name) == 0 ||
                      fnmatch(patterns->items[p], name, 0) == 0;
        }
        if (!hit) {
            progress_clear(r);
            cli_error("warning: %s '%s' matches no function of '%s'", flag, patterns->items[p],
                      r->c->inputs.items[0]);
        }
    }
}

static int generate(run *r)
{
    const cli *c = r->c;
    mewe_generate_options o = c->gen;
    o.diversifiers = c->diversifiers.items;
    o.diversifier_count = c->diversifiers.count;
    o.allow = c->allow.items;
    o.allow_count = c->allow.count;
    o.deny = c->deny.items;
    o.deny_count = c->deny.count;
    warn_unmatched(r, &c->allow, "--allow");
    warn_unmatched(r, &c->deny, "--deny");
    progress(r, "generating variants");
    int rc = mewe_generate_variants(r->module, &o);
    if (rc != MEWE_OK)
        return failed(r, "generating variants", rc, "--diversifier");
    note(r, 1, "generated up to %u variants per function (seed %llu): %zu functions now",
         o.variants, (unsigned long long)c->seed, mewe_module_function_count(r->module));
    return EXIT_OK;
}

static int add_variants(run *r)
{
    const strlist *files = &r->c->variants_from;
    for (size_t i = 0; i < files->count; i++) {
        progress(r, "adding variants");
        mewe_module *variants;
        int rc = mewe_module_load(&variants, r->ctx, files->items[i]);
        size_t added = 0;
        if (rc == MEWE_OK)
            rc = mewe_module_add_variants(&added, r->module, variants);
        if (rc != MEWE_OK)
            return failed(r, "--variants-from", rc, NULL);
        note(r, 1, "%zu variants added from '%s'", added, files->items[i]);
    }
    return EXIT_OK;
}

static int instrument(run *r)
{
    progress(r, "instrumenting");
    int rc = mewe_module_instrument_profile(r->module);
    if (rc != MEWE_OK)
        return failed(r, "--profile-gen", rc, NULL);
    note(r, 1, "instrumented: running it writes its profile to standard error");
    return EXIT_OK;
}

static int link_variants(run *r)
{
    mewe_link_options link = r->c->link;
    const mewe_link_options *o = &link;
    mewe_profile *profile = NULL;
    if (r->c->profile) {
        int rc = mewe_profile_load(&profile, r->ctx, r->c->profile);
        if (rc != MEWE_OK)
            return failed(r, "--profile", rc, NULL);
        link.profile = profile;
        note(r, 1, "profile '%s': %zu functions", r->c->profile,
             mewe_profile_function_count(profile));
    }
    progress(r, "making dispatchers");
    int rc = mewe_link_multivariant(r->module, o);
    mewe_profile_free(profile);
    if (rc != MEWE_OK)
        return failed(r, "linking variants", rc, r->c->profile ? "--profile" : "--rng");
    static const char *const policies[] = {"as often as the budget allows", "per instance",
                                           "every N calls", "per caller invocation"};
    note(r, 1, "made dispatchers: %s dispatch, a choice %s, rng %s%s",
         o->dispatch == MEWE_DISPATCH_SWITCH ? "switch" : "table", policies[o->granularity],
         o->rng ? o->rng : "wasi", o->trace ? ", traced" : "");
    return EXIT_OK;
}

/* Which toolchain a link will use, however it was chosen (flag, environment, default). */
static void note_tools(run *r)
{
    static const char *const names[] = {"wasm-ld", "WASI sysroot", "builtins"};
    for (int t = MEWE_TOOL_WASM_LD; t <= MEWE_TOOL_BUILTINS; t++) {
        const char *path = "";
        mewe_context_get_tool_path(&path, r->ctx, (mewe_tool)t);
        note(r, 2, "%s: %s", names[t], path[0] ? path : "(none)");
    }
}

static mewe_emit_options emit_options(const cli *c)
{
    mewe_emit_options o = c->emit;
    o.kind = (mewe_emit_kind)c->kind;
    o.exports = c->exports.items;
    o.export_count = c->exports.count;
    o.link_args = c->link_args.items;
    o.link_arg_count = c->link_args.count;
    return o;
}

/* A command or a reactor holds only what its link keeps: the functions wasm-ld would drop
 * get no variants. What makes the search fail (a name the wasm cannot carry, an undefined
 * symbol, no wasm-ld) would fail the output's own emission too: the run ends at once. */
static int exclude_unlinked(run *r)
{
    mewe_emit_options o = emit_options(r->c);
    progress(r, "finding what the link keeps");
    int rc = mewe_module_exclude_unlinked(r->module, &o, NULL);
    return rc == MEWE_OK ? EXIT_OK : failed(r, "finding what the link keeps", rc, NULL);
}

static int read_back(run *r, const char *path)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 1 << 16;
    r->wasm = malloc(cap);
    r->wasm_size = 0;
    size_t n;
    while (f && r->wasm && (n = fread(r->wasm + r->wasm_size, 1, cap - r->wasm_size, f)) > 0) {
        r->wasm_size += n;
        if (r->wasm_size == cap) {
            char *bigger = realloc(r->wasm, cap *= 2);
            if (!bigger) {
                free(r->wasm);
                r->wasm = NULL;
            }
            r->wasm = bigger;
        }
    }
    bool ok = f && r->wasm && !ferror(f);
    if (f)
        fclose(f);
    if (!ok) {
        progress_clear(r);
        cli_error("report: cannot read back '%s': %s", path,
                  r->wasm ? strerror(errno) : "out of memory");
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int write_output(run *r)
{
    const cli *c = r->c;
    int rc;
    if (c->kind == KIND_BC || c->kind == KIND_LL) {
        progress(r, "writing the module");
        rc = mewe_module_write(r->module, c->output,
                               c->kind == KIND_BC ? MEWE_FORMAT_BITCODE : MEWE_FORMAT_TEXT);
        if (rc != MEWE_OK)
            return failed(r, "writing", rc, NULL);
        note(r, 1, "wrote '%s'", c->output);
        return EXIT_OK;
    }
    mewe_emit_options o = emit_options(c);
    note_tools(r);
    progress(r, "emitting WebAssembly");
    rc = mewe_emit_wasm(r->module, &o, c->output);
    if (rc != MEWE_OK)
        return failed(r, "emitting", rc, NULL);
    note(r, 1, "wrote '%s'", c->output);
    return EXIT_OK;
}

/* The wasm's name section cannot be read (LLVM wrote names that are not UTF-8, as the
 * module's own names were): the report goes without its "wasm" section, as it says. */
static bool wasm_unreadable(run *r, int rc)
{
    if (rc != MEWE_EPARSE || !r->wasm)
        return false;
    if (!r->c->quiet) {
        progress_clear(r);
        fprintf(stderr, "mewe: warning: %s; the report has no \"wasm\" section\n",
                mewe_context_errmsg(r->ctx));
    }
    return true;
}

static int report_to_stdout(run *r)
{
    char *json;
    size_t size;
    int rc = mewe_report_json_wasm(&json, &size, r->module, r->wasm, r->wasm_size);
    if (wasm_unreadable(r, rc))
        rc = mewe_report_json(&json, &size, r->module);
    if (rc != MEWE_OK)
        return failed(r, "report", rc, NULL);
    progress_clear(r);
    bool ok = fwrite(json, 1, size, stdout) == size && fflush(stdout) == 0;
    mewe_free(json);
    if (!ok) {
        cli_error("report: standard output: %s", strerror(errno));
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int report(run *r)
{
    const char *dest = r->c->report;
    if (!dest && r->c->stage == STAGE_REPORT)
        dest = "-";
    if (!dest)
        return EXIT_OK;
    /* The report tells what stayed distinct in the wasm just written (read back by
     * pipeline()); an object's variants are only final once linked. */
    if (strcmp(dest, "-") == 0)
        return report_to_stdout(r);
    int rc = mewe_report_write_wasm(r->module, r->wasm, r->wasm_size, dest);
    if (wasm_unreadable(r, rc))
        rc = mewe_report_write(r->module, dest);
    if (rc != MEWE_OK)
        return failed(r, "report", rc, NULL);
    note(r, 1, "wrote the report to '%s'", dest);
    return EXIT_OK;
}

/* Whether a file is a WebAssembly binary (a per-file build's object) rather than IR. */
static bool is_wasm_file(const char *path)
{
    unsigned char magic[4] = {0};
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(magic, 1, sizeof magic, f) : 0;
    if (f)
        fclose(f);
    return n == 4 && memcmp(magic, "\0asm", 4) == 0;
}

/* The second half of a per-file build: objects that mewe made, one per translation unit,
 * linked into one program with one report. */
static int link_objects(run *r)
{
    const cli *c = r->c;
    for (size_t i = 0; i < c->inputs.count; i++) {
        if (!is_wasm_file(c->inputs.items[i])) {
            cli_error("'%s' is not a WebAssembly object, but '%s' is: give either objects "
                      "(mewe -o FILE.o) to link, or bitcode and IR to diversify\n"
                      "Try 'mewe --help' for more information.",
                      c->inputs.items[i], c->inputs.items[0]);
            return EXIT_USAGE;
        }
    }
    if (c->stage != STAGE_ALL || c->kind == KIND_OBJECT || c->kind == KIND_BC ||
        c->kind == KIND_LL) {
        cli_error("objects link into a WASI command or reactor: give -o FILE.wasm (and no "
                  "--stage)\nTry 'mewe --help' for more information.");
        return EXIT_USAGE;
    }
    mewe_emit_options o = emit_options(c);
    note_tools(r);
    progress(r, "linking objects");
    char *json = NULL;
    size_t size = 0;
    int rc = mewe_emit_link_objects(c->report ? &json : NULL, &size, r->ctx,
                                    (const char *const *)c->inputs.items, c->inputs.count, &o,
                                    c->output);
    progress_clear(r);
    if (rc != MEWE_OK)
        return failed(r, "linking objects", rc, NULL);
    note(r, 1, "linked %zu objects into '%s'", c->inputs.count, c->output);
    if (json && strcmp(c->report, "-") == 0) {
        bool ok = fwrite(json, 1, size, stdout) == size;
        mewe_free(json);
        if (!ok) {
            cli_error("report: standard output: %s", strerror(errno));
            unlink(c->output);
            return EXIT_FAIL;
        }
        return EXIT_OK;
    }
    if (json) {
        FILE *f = fopen(c->report, "wb");
        bool ok = f && fwrite(json, 1, size, f) == size;
        if (f && fclose(f) != 0)
            ok = false;
        mewe_free(json);
        if (!ok) {
            cli_error("report: cannot write '%s': %s", c->report, strerror(errno));
            unlink(c->output);
            return EXIT_FAIL;
        }
        note(r, 1, "wrote the report to '%s'", c->report);
    }
    return EXIT_OK;
}

/* ------------------------------------------------------------------ summary */

/* The number after "key": in json from `from` on, or -1. */
static double json_number(const char *from, const char *key)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\": ", key);
    const char *at = from ? strstr(from, pattern) : NULL;
    return at ? strtod(at + strlen(pattern), NULL) : -1;
}

static void human_bytes(char *buf, size_t size, double bytes)
{
    if (bytes >= 1e6)
        snprintf(buf, size, "%.1f MB", bytes / 1e6);
    else if (bytes >= 1e3)
        snprintf(buf, size, "%.1f kB", bytes / 1e3);
    else
        snprintf(buf, size, "%.0f bytes", bytes);
}

/* One line that says what the run did, from the report's totals and "wasm" section:
 *   mewe: 1440/1509 eligible functions diversified, 4244 variants (4244 distinct in wasm),
 *   code 7.2 MB (IR 5.3x the input's), 48.1 s
 * and the warning for a --stage=link that had nothing to link. Not with -q. */
static void summary(run *r)
{
    const cli *c = r->c;
    char *json = NULL;
    size_t size;
    int rc = mewe_report_json_wasm(&json, &size, r->module, r->wasm, r->wasm_size);
    if (rc == MEWE_EPARSE) /* names that are not UTF-8: the summary goes without the wasm */
        rc = mewe_report_json(&json, &size, r->module);
    if (rc != MEWE_OK)
        return;
    const char *totals = strstr(json, "\"totals\": {");
    const char *wasm = strstr(json, "\"wasm\": {");
    /* The dispatchers' list comes first in "wasm"; its totals follow the list. */
    const char *wasm_totals = wasm ? strstr(wasm, "],") : NULL;
    char line[512], bytes[32];
    size_t n = 0;
    progress_clear(r);
    if (c->stage == STAGE_LINK) {
        double dispatchers = json_number(totals, "dispatchers");
        if (dispatchers == 0)
            cli_error("warning: --stage=link: '%s' carries no variants (make them with "
                      "--stage=generate or --variants-from): the output has no dispatchers",
                      c->inputs.items[0]);
        n += (size_t)snprintf(line + n, sizeof line - n, "%.0f dispatchers made", dispatchers);
    } else if (!c->profile_gen && (c->stage == STAGE_ALL || c->stage == STAGE_GENERATE)) {
        n += (size_t)snprintf(line + n, sizeof line - n,
                              "%.0f/%.0f eligible functions diversified, %.0f variants",
                              json_number(totals, "diversified"), json_number(totals, "eligible"),
                              json_number(totals, "variants"));
        /* The wasm counts each dispatcher's original body among its variants. */
        size_t families = 0;
        for (const char *p = wasm;
             wasm_totals && (p = strstr(p, "\"distinct_in_wasm\": ")) && p < wasm_totals; p++)
            families++;
        /* Variants inlined into their dispatcher by LLVM have no body of their own to
         * compare: the count covers the others, those spliced in after code generation
         * (counted before) included. */
        size_t spliced = 0;
        for (const char *p = wasm;
             wasm_totals && (p = strstr(p, "\"spliced\": true")) && p < wasm_totals; p++)
            spliced++;
        double inlined = json_number(totals, "inlined_dispatchers") - (double)spliced;
        double distinct = json_number(wasm_totals, "distinct_in_wasm") - (double)families;
        double compared = json_number(wasm_totals, "variants") - (double)families;
        if (families > 0 && inlined > 0)
            n += (size_t)snprintf(line + n, sizeof line - n,
                                  " (%.0f/%.0f distinct in wasm, the others inlined in %.0f "
                                  "dispatchers)",
                                  distinct, compared, inlined);
        else if (families > 0)
            n += (size_t)snprintf(line + n, sizeof line - n, " (%.0f distinct in wasm)", distinct);
        else if (inlined > 0)
            n += (size_t)snprintf(line + n, sizeof line - n, " (inlined in %.0f dispatchers)",
                                  inlined);
        /* wasm-ld drops the dispatchers nothing calls, with their variants. */
        double live = json_number(wasm_totals, "variants_in_output");
        double dropped =
            json_number(totals, "dispatchers") - json_number(wasm_totals, "dispatchers_in_output");
        if (wasm_totals && dropped > 0)
            n += (size_t)snprintf(line + n, sizeof line - n,
                                  ", %.0f in the output (%.0f unused functions dropped by the "
                                  "link)",
                                  live, dropped);
    } else if (c->profile_gen) {
        n += (size_t)snprintf(line + n, sizeof line - n, "instrumented for --profile");
    }
    if (wasm) {
        human_bytes(bytes, sizeof bytes, json_number(wasm, "code_bytes"));
        n += (size_t)snprintf(line + n, sizeof line - n, "%scode %s", n ? ", " : "", bytes);
        double before = json_number(totals, "instructions_before");
        double after = json_number(totals, "instructions_after");
        if (c->stage == STAGE_ALL && before > 0 && after > 0)
            n += (size_t)snprintf(line + n, sizeof line - n, " (IR %.1fx the input's)",
                                  after / before);
    }
    snprintf(line + n, sizeof line - n, "%s%.1f s", n ? ", " : "", now() - r->start);
    fprintf(stderr, "mewe: %s\n", line);
    mewe_free(json);
}

static int pipeline(run *r)
{
    const cli *c = r->c;
    if (c->inputs.count > 0 && is_wasm_file(c->inputs.items[0]))
        return link_objects(r);
    int rc = load_inputs(r);
    bool gen = !c->profile_gen && (c->stage == STAGE_ALL || c->stage == STAGE_GENERATE);
    bool add = gen || c->stage == STAGE_LINK;
    bool link = !c->profile_gen && (c->stage == STAGE_ALL || c->stage == STAGE_LINK);
    if (rc == EXIT_OK && c->profile_gen)
        rc = instrument(r);
    if (rc == EXIT_OK && gen && c->stage == STAGE_ALL &&
        (c->kind == KIND_COMMAND || c->kind == KIND_REACTOR))
        rc = exclude_unlinked(r);
    if (rc == EXIT_OK && gen)
        rc = generate(r);
    if (rc == EXIT_OK && add)
        rc = add_variants(r);
    if (rc == EXIT_OK && link)
        rc = link_variants(r);
    if (rc == EXIT_OK && c->stage != STAGE_REPORT)
        rc = write_output(r);
    /* The linked wasm is read back for the platform check, the report and the summary. An
     * output that its platform cannot run is not left behind. */
    bool linked = (c->kind == KIND_COMMAND || c->kind == KIND_REACTOR) && c->stage != STAGE_REPORT;
    if (rc == EXIT_OK && linked) {
        rc = read_back(r, c->output);
        if (rc == EXIT_OK) {
            progress_clear(r);
            rc = platform_check_wasm(c, (const unsigned char *)r->wasm, r->wasm_size);
        }
        if (rc != EXIT_OK)
            unlink(c->output);
    }
    /* After the output, whose wasm the report inspects. A report that cannot be written
     * fails the run, which then must not leave its output. */
    if (rc == EXIT_OK && report(r) != EXIT_OK) {
        if (c->output)
            unlink(c->output);
        rc = EXIT_FAIL;
    }
    if (rc == EXIT_OK && !c->quiet && c->stage != STAGE_REPORT)
        summary(r);
    progress_clear(r);
    return rc;
}

/* LLVM ends the process after a fatal error whatever its handler does (the handler may not
 * return into LLVM); a command may at least end it with its own message and its documented
 * failure status instead of LLVM's abort. */
static void llvm_fatal(const char *reason)
{
    fprintf(stderr, "mewe: LLVM fatal error: %s\n", reason ? reason : "(no reason given)");
    fflush(stderr);
    _exit(EXIT_FAIL);
}

int main(int argc, char **argv)
{
    LLVMInstallFatalErrorHandler(llvm_fatal);
    cli c;
    int rc = cli_parse(&c, argc, argv);
    run r = {.c = &c, .progress = !c.quiet && isatty(STDERR_FILENO), .start = now()};
    if (rc == EXIT_OK && c.action == ACT_HELP)
        cli_print_help(stdout, "mewe");
    else if (rc == EXIT_OK && c.action == ACT_VERSION)
        print_version();
    else if (rc == EXIT_OK)
        rc = set_up(&r);
    if (rc == EXIT_OK && (c.action == ACT_LIST_DIVERSIFIERS || c.action == ACT_LIST_RNG))
        rc = list_plugins(r.ctx, c.action == ACT_LIST_RNG);
    else if (rc == EXIT_OK && c.action == ACT_RUN)
        rc = pipeline(&r);
    if (fflush(stdout) != 0 && rc == EXIT_OK) {
        cli_error("standard output: %s", strerror(errno));
        rc = EXIT_FAIL;
    }
    free(r.wasm);
    mewe_module_free(r.module);
    mewe_context_free(r.ctx);
    cli_free(&c);
    return rc;
}
