/* The option table of mewe and the two renderings of it: --help and the man page. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include <mewe/mewe.h>
#include <mewe/sys/diversifier.h>
#include <mewe/sys/rng.h>

#include "cli_options.h"

const char *const cli_sections[] = {
    "Pipeline",
    "Variant generation (stages all and generate)",
    "Dispatch (stages all and link)",
    "WebAssembly output (stages all and emit)",
    "Toolchain (stages all and emit)",
    "Information",
};

enum { S_PIPE, S_GEN, S_LINK, S_EMIT, S_TOOL, S_INFO };

/* For CLI_TEXT, min is the shortest accepted length: 1 refuses an empty value. */
const cli_option cli_options[] = {
    {OPT_OUTPUT, "output", 'o', "FILE", CLI_TEXT, 1, 0, NULL,
     "Write the result to FILE, atomically: a failed run leaves no file. Its extension "
     "chooses the kind: .wasm a WASI command, .o a relocatable wasm object, .bc bitcode and "
     ".ll textual IR of the multivariant module. Required except with --stage=report.",
     S_PIPE, NULL},
    {OPT_STAGE, "stage", 0, "STAGE", CLI_CHOICE, 0, 0, "all|generate|link|emit|report",
     "Run only part of the pipeline. all: generate, link and emit. generate: only generate "
     "variants (output .bc or .ll). link: only make dispatchers, in an input that already "
     "carries variants (output .bc or .ll). emit: only compile the input to wasm, without "
     "diversifying. report: only print the input's report (to --report, else standard "
     "output; no -o).",
     S_PIPE, NULL},
    {OPT_EMIT, "emit", 0, "KIND", CLI_CHOICE, 0, 0, "command|reactor|object|bc|ll",
     "Output kind, instead of the one -o's extension implies: command (a WASI command, "
     "_start calls main), reactor (a WASI reactor: _initialize and the exports), object (a "
     "relocatable wasm object), bc or ll (the module itself).",
     S_PIPE, NULL},
    {OPT_REPORT, "report", 0, "FILE", CLI_TEXT, 1, 0, NULL,
     "Write the JSON report (each function diversified or why not, totals, dispatch "
     "settings) to FILE, or to standard output for '-'.",
     S_PIPE, NULL},
    {OPT_SEED, "seed", 0, "N", CLI_U64, 0, 0, NULL,
     "Build seed, decimal or 0x-hex: the same inputs, options and seed give byte-identical "
     "output.",
     S_PIPE, NULL},
    {OPT_VARIANTS_FROM, "variants-from", 0, "FILE", CLI_TEXT, 1, 0, NULL,
     "Add variants made by another tool: FILE (.bc or .ll) is the same program with other "
     "bodies for some functions, each of which becomes a variant of the function of the same "
     "name and type. Repeatable; stages all, generate and link.",
     S_PIPE, NULL},
    {OPT_TRUSTED_INPUT, "trusted-input", 0, NULL, CLI_FLAG, 0, 0, NULL,
     "Load inputs in this process. Without it, each input (.bc or .ll) is first loaded by "
     "the helper mewe-load-check in a child process with memory and time limits, so that a "
     "corrupt or hostile file that crashes or aborts LLVM's reader fails with a message "
     "instead of ending mewe.",
     S_PIPE, NULL},
    {OPT_VARIANTS, "variants", 'n', "N", CLI_UINT, 0, 0, NULL,
     "Variants per function besides the original.", S_GEN, "generate.variants"},
    {OPT_DIVERSIFIER, "diversifier", 0, "SPEC", CLI_TEXT, 1, 0, NULL,
     "Diversifier to run on every variant, as NAME[:KEY=VALUE,...], e.g. subst:rate=0.8. "
     "Repeatable: they run in the order given. See --list-diversifiers.",
     S_GEN, "generate.diversifiers"},
    {OPT_ALLOW, "allow", 0, "PATTERN", CLI_TEXT, 1, 0, NULL,
     "Diversify only the functions whose name matches PATTERN, a name or a glob as in "
     "fnmatch(3) (*, ?, [...]). Repeatable.",
     S_GEN, NULL},
    {OPT_DENY, "deny", 0, "PATTERN", CLI_TEXT, 1, 0, NULL,
     "Never diversify the functions whose name matches PATTERN. Repeatable; wins over "
     "--allow.",
     S_GEN, NULL},
    {OPT_MIN_INSTRUCTIONS, "min-instructions", 0, "N", CLI_UINT, 0, 0, NULL,
     "Skip functions smaller than N LLVM instructions.", S_GEN, "generate.min_instructions"},
    {OPT_ATTEMPTS, "attempts", 0, "N", CLI_UINT, 0, 0, NULL,
     "Tries per variant before giving up on one distinct from those kept.", S_GEN,
     "generate.attempts"},
    {OPT_WASM_ROUNDS, "wasm-rounds", 0, "N", CLI_UINT, 0, 0, NULL,
     "Compile the variants to wasm up to N times, dropping those whose body equals another's "
     "and making new ones in their place, so that every variant kept is distinct in wasm. 0 "
     "turns the check off.",
     S_GEN, "generate.wasm_rounds"},
    {OPT_WASM_DERIVED, "wasm-derived", 0, "N", CLI_UINT, 0, 0, NULL,
     "Of the variants of a function of 50 instructions or more, make N in wasm, not with "
     "LLVM: copies of the compiled original and variants in turn, their locals renumbered "
     "and the operands of commutative operations and comparisons swapped (spliced into the "
     "dispatcher where it holds its variants inline). They cost no code generation and run "
     "at the speed of what they copy. 0 makes every variant with LLVM.",
     S_GEN, "generate.wasm_derived"},
    {OPT_OUTLINE_LOOPS, "outline-loops", 0, "CYCLES", CLI_UINT, 0, 0, NULL,
     "Make the body of a function's costliest loop a function of its own (f.loop.body, "
     "chosen per iteration) when one iteration costs at least CYCLES by the cost model's "
     "estimate: a function that does all its work in one loop then re-randomizes inside. "
     "Cheaper innermost loops run in chunks of about CYCLES (f.loop.chunk, chosen per "
     "chunk). 0 turns both off.",
     S_GEN, "generate.outline_loops"},
    {OPT_TIME_BUDGET, "time-budget", 0, "SECONDS", CLI_DOUBLE, 0, 0, NULL,
     "Stop generating after SECONDS (0: no limit). A budget that runs out makes the output "
     "depend on the machine's speed; the report says so.",
     S_GEN, "generate.time_budget"},
    {OPT_SIZE_BUDGET, "size-budget", 0, "FACTOR", CLI_DOUBLE, 0, 0, NULL,
     "Most instructions the variants may add, as a multiple of the module's instruction "
     "count (0: no limit).",
     S_GEN, "generate.size_budget"},
    {OPT_DISPATCH, "dispatch", 0, "KIND", CLI_CHOICE, 0, 0, "switch|table",
     "How a dispatcher reaches the chosen variant: switch (a br_table over direct calls) or "
     "table (a call_indirect through a table).",
     S_LINK, "link.dispatch"},
    {OPT_GRANULARITY, "granularity", 0, "WHEN", CLI_CHOICE, 0, 0, "call|instance|every|invocation",
     "How often each dispatcher chooses a variant. call: as often as the overhead budget "
     "allows, at every call where the cost model finds that affordable, else every N calls "
     "with the smallest N that fits, else (functions too small for a counter) once per "
     "epoch, the epochs counted by the other functions' choices (see --max-overhead); "
     "functions of 1,000 instructions or more once per instance. instance: once per "
     "instance, at the function's first call. every: every --period calls on average, for every "
     "function. invocation: whenever a direct caller starts, kept for the calls it makes.",
     S_LINK, "link.granularity"},
    {OPT_MAX_OVERHEAD, "max-overhead", 0, "FACTOR", CLI_DOUBLE, 0, 0, NULL,
     "Overhead budget of the cost model: the run time a dispatch may add to one call of its "
     "function, as a factor of the function's estimated cost (1.1: 10 percent more). A huge "
     "value (1e9) makes every call choose, as MEWE does.",
     S_LINK, "link.max_overhead"},
    {OPT_PERIOD, "period", 0, "N", CLI_UINT, 0, 0, NULL,
     "Mean number of calls per choice with --granularity=every.", S_LINK, "link.period"},
    {OPT_INLINE_LIMIT, "inline-limit", 0, "N", CLI_UINT, 0, 0, NULL,
     "Largest function, in LLVM instructions, whose variants live inside its dispatcher (a "
     "call then costs one call, also through a function pointer); 1 inlines none.",
     S_LINK, "link.inline_limit"},
    {OPT_PROFILE, "profile", 0, "FILE", CLI_TEXT, 1, 0, NULL,
     "Plan with the call counts of a profile run (the standard error of a --profile-gen "
     "build's run; lines without the 'mewe-profile ' prefix are ignored, several runs add "
     "up): the whole run's overhead budget goes first to the functions called least.",
     S_LINK, NULL},
    {OPT_PROFILE_GEN, "profile-gen", 0, NULL, CLI_FLAG, 0, 0, NULL,
     "Build an instrumented program instead of a multivariant one: it counts the calls of "
     "every function and call site and writes them to standard error when it ends, for "
     "--profile.",
     S_PIPE, NULL},
    {OPT_RNG, "rng", 0, "SPEC", CLI_TEXT, 1, 0, NULL,
     "Run-time randomness, as NAME[:KEY=VALUE,...]: wasi (an in-module ChaCha8 generator "
     "seeded from WASI random_get), host:module=env,name=discriminate (the import "
     "discriminate(i32 n) -> i32, called at every choice) or fixed:seed=N (reproducible "
     "runs). wasi and fixed take gen=xorshift for xorshift64*: faster, but a few observed "
     "choices predict the rest. See --list-rng.",
     S_LINK, "link.rng"},
    {OPT_TRACE, "trace", 0, NULL, CLI_FLAG, 0, 0, NULL,
     "Make every dispatch call the import mewe_trace.record(i32 function, i32 variant), to "
     "record execution traces.",
     S_LINK, NULL},
    {OPT_EXPORT, "export", 0, "NAME", CLI_TEXT, 1, 0, NULL, "Export the function NAME. Repeatable.",
     S_EMIT, NULL},
    {OPT_PLATFORM, "platform", 0, "HOST", CLI_CHOICE, 0, 0, "any|fastly|cloudflare|wasmtime|node",
     "Check the output against what HOST runs, before any work and in the wasm written: "
     "fastly (Fastly Compute: a WASI command importing only WASI and fastly_* host calls), "
     "wasmtime (WASI only), node and cloudflare (WASI; their JavaScript must provide any "
     "other import, which is a warning). An import the host does not provide is an error "
     "naming the option that added it (--rng host, --trace) or the program.",
     S_EMIT, NULL},
    {OPT_LIB, NULL, 'l', "LIB", CLI_TEXT, 1, 0, NULL,
     "Link with libLIB.a of the sysroot (passed to wasm-ld as -lLIB); also written -lLIB. "
     "Repeatable.",
     S_EMIT, NULL},
    {OPT_Z, NULL, 'z', "OPT", CLI_TEXT, 1, 0, NULL,
     "Pass -z OPT to wasm-ld (e.g. stack-size=1048576). Repeatable.", S_EMIT, NULL},
    {OPT_LINK_ARG, "link-arg", 0, "ARG", CLI_TEXT, 1, 0, NULL,
     "Pass ARG to wasm-ld unchanged. Repeatable.", S_EMIT, NULL},
    {OPT_OPT_LEVEL, "opt-level", 'O', "LEVEL", CLI_UINT, 0, 0, NULL,
     "Code generation level of LLVM's wasm32 backend, also written -OLEVEL. No IR "
     "optimisation pass runs: it would undo diversification.",
     S_EMIT, "emit.opt_level"},
    {OPT_JOBS, "jobs", 'j', "N", CLI_UINT, 1, MEWE_EMIT_MAX_THREADS, NULL,
     "Compile with N threads, both the variants' check in wasm (stages all and generate) and "
     "the output (stages all and emit). A large module is split into partitions (groups of "
     "functions) that are compiled in parallel; the split does not depend on N, so the "
     "output is the same bytes for every N.",
     S_PIPE, NULL},
    {OPT_WASM_LD, "wasm-ld", 0, "PATH", CLI_TEXT, 1, 0, NULL, "The wasm-ld to link with.", S_TOOL,
     NULL},
    {OPT_WASI_SYSROOT, "wasi-sysroot", 0, "DIR", CLI_TEXT, 1, 0, NULL,
     "WASI sysroot holding lib/wasm32-wasi/libc.a and the crt1 files.", S_TOOL, NULL},
    {OPT_BUILTINS, "builtins", 0, "FILE", CLI_TEXT, 0, 0, NULL,
     "libclang_rt.builtins-wasm32.a to link, or '' for none.", S_TOOL, NULL},
    {OPT_WASI_SDK, "wasi-sdk", 0, "DIR", CLI_TEXT, 1, 0, NULL,
     "A wasi-sdk directory: sets wasm-ld, the sysroot and the builtins at once; --wasm-ld, "
     "--wasi-sysroot and --builtins override its parts.",
     S_TOOL, NULL},
    {OPT_LIST_DIVERSIFIERS, "list-diversifiers", 0, NULL, CLI_FLAG, 0, 0, NULL,
     "List the registered diversifiers with their run-time cost class (free, cheap, costly), "
     "descriptions and parameters, and exit.",
     S_INFO, NULL},
    {OPT_LIST_RNG, "list-rng", 0, NULL, CLI_FLAG, 0, 0, NULL,
     "List the registered RNG strategies with their descriptions and exit.", S_INFO, NULL},
    {OPT_VERBOSE, "verbose", 'v', NULL, CLI_FLAG, 0, 0, NULL,
     "Log the library's progress to standard error; twice for debugging detail.", S_INFO, NULL},
    {OPT_QUIET, "quiet", 'q', NULL, CLI_FLAG, 0, 0, NULL,
     "Print only errors: no warnings and no progress line.", S_INFO, NULL},
    {OPT_HELP, "help", 'h', NULL, CLI_FLAG, 0, 0, NULL, "Print this help and exit.", S_INFO, NULL},
    {OPT_VERSION, "version", 0, NULL, CLI_FLAG, 0, 0, NULL,
     "Print the versions of mewe, libmewe and LLVM and exit.", S_INFO, NULL},
};

const size_t cli_option_count = sizeof cli_options / sizeof cli_options[0];

const char cli_summary[] = "turn LLVM bitcode into multivariant WebAssembly";

const char cli_usage[] = "[OPTION]... INPUT... -o OUTPUT";

const char cli_description[] =
    "mewe runs libmewe's pipeline on a program's LLVM bitcode (.bc) or textual IR (.ll) "
    "compiled for wasm32-wasi. The first INPUT is loaded and the others are linked into it. "
    "Every eligible function gets several semantically equivalent variants, each diversified "
    "function becomes a dispatcher that picks one of them at random when called, and the "
    "result is compiled to WebAssembly and linked with wasi-libc. With no option, "
    "'mewe IN.bc -o OUT.wasm' diversifies every eligible function with per-call dispatch and "
    "the wasi strategy and writes a WASI command. mewe-cc compiles C, C++ and Rust files and "
    "runs mewe in one step; cargo mewe build does it for a Rust crate.";

const char cli_exit_status[] =
    "0 on success; 1 when the pipeline fails (the output file is then not written); 2 for a "
    "usage error: an unknown option, a missing or malformed value, a value the library "
    "refuses, no INPUT or no -o.";

const char cli_environment[] =
    "WASI_SDK_PATH: a wasi-sdk directory, used as --wasi-sdk when that option is not given.";

const cli_option *cli_option_by_id(int id)
{
    for (size_t i = 0; i < cli_option_count; i++) {
        if (cli_options[i].id == id)
            return &cli_options[i];
    }
    return NULL;
}

int cli_choice_index(const char *choices, const char *word)
{
    size_t len = strlen(word);
    int index = 0;
    for (const char *p = choices; *p; index++) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && len > 0 && strncmp(p, word, n) == 0)
            return index;
        p += n + (bar != NULL);
    }
    return -1;
}

void cli_option_range(const cli_option *opt, double *min, double *max)
{
    *min = opt->min;
    *max = opt->max;
    if (opt->setting)
        mewe_option_describe(NULL, NULL, min, max, opt->setting);
}

/* The library's default of one of its options, as it prints it. */
static const char *library_default(const char *setting)
{
    const char *text = NULL;
    return mewe_option_describe(&text, NULL, NULL, NULL, setting) == MEWE_OK ? text : NULL;
}

const char *cli_option_default(const cli_option *opt, char *buf, size_t size)
{
    switch (opt->id) {
    case OPT_STAGE: return "all";
    case OPT_PLATFORM: return "any";
    case OPT_EMIT: return "from the extension of -o";
    case OPT_REPORT: return "none";
    case OPT_SEED: return "0";
    case OPT_DIVERSIFIER:
        snprintf(buf, size, "libmewe's default set (%s)", library_default(opt->setting));
        return buf;
    case OPT_ALLOW: return "every eligible function";
    case OPT_DENY:
    case OPT_VARIANTS_FROM:
    case OPT_EXPORT:
    case OPT_LIB:
    case OPT_Z:
    case OPT_LINK_ARG: return "none";
    case OPT_VERBOSE:
    case OPT_QUIET: return "off";
    case OPT_PROFILE: return "none: static estimates";
    case OPT_PROFILE_GEN: return "off";
    case OPT_TRUSTED_INPUT: return "off: inputs are checked in the helper";
    case OPT_TRACE: return "off";
    case OPT_JOBS: return "the number of processors mewe may run on";
    case OPT_WASM_LD:
    case OPT_WASI_SYSROOT:
    case OPT_BUILTINS: return "the one found when libmewe was built";
    case OPT_WASI_SDK: return "$WASI_SDK_PATH when set";
    default: return opt->setting ? library_default(opt->setting) : NULL;
    }
}

/* "0 to 64", "at least 1", or NULL when the range says nothing (any whole number). */
static const char *range_text(const cli_option *o, char *buf, size_t size)
{
    if (o->value != CLI_UINT && o->value != CLI_DOUBLE)
        return NULL;
    double min, max;
    cli_option_range(o, &min, &max);
    bool unbounded = o->value == CLI_UINT ? max >= UINT_MAX : max >= DBL_MAX;
    if (unbounded && min <= 0)
        return NULL;
    if (unbounded)
        snprintf(buf, size, "at least %.*g", DBL_DIG, min);
    else
        snprintf(buf, size, "%.*g to %.*g", DBL_DIG, min, DBL_DIG, max);
    return buf;
}

/* ------------------------------------------------------------------ --help */

enum { HELP_WIDTH = 80, HELP_COLUMN = 30 };

/* Writes text word by word from column col, wrapping to indent; returns the column. */
static int wrap(FILE *out, const char *text, int col, int indent)
{
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, " ");
        if (col > indent && col + 1 + (int)n > HELP_WIDTH) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        fprintf(out, "%.*s", (int)n, p);
        col += (int)n;
        p += n;
        p += strspn(p, " ");
    }
    return col;
}

/* Writes a short phrase ("Default: 3.") unbroken when it fits on a line of its own. */
static int wrap_phrase(FILE *out, const char *text, int col, int indent)
{
    int len = (int)strlen(text);
    if (col + 1 + len <= HELP_WIDTH || indent + len > HELP_WIDTH)
        return wrap(out, text, col, indent);
    fprintf(out, "\n%*s%s", indent, "", text);
    return indent + len;
}

static int print_option_names(FILE *out, const cli_option *o)
{
    int col = fprintf(out, "  ");
    if (o->short_name)
        col += fprintf(out, "-%c%s", o->short_name, o->long_name ? ", " : "");
    else
        col += fprintf(out, "    ");
    if (o->long_name)
        col += fprintf(out, "--%s%s%s", o->long_name, o->metavar ? "=" : "",
                       o->metavar ? o->metavar : "");
    else if (o->metavar)
        col += fprintf(out, " %s", o->metavar);
    return col;
}

static void print_option_help(FILE *out, const cli_option *o)
{
    int col = print_option_names(out, o);
    if (col + 2 > HELP_COLUMN) {
        fprintf(out, "\n");
        col = 0;
    }
    fprintf(out, "%*s", HELP_COLUMN - col, "");
    col = wrap(out, o->help, HELP_COLUMN, HELP_COLUMN);
    char buf[64], text[128];
    const char *def = cli_option_default(o, buf, sizeof buf);
    if (o->choices) {
        snprintf(text, sizeof text, "One of: %s.", o->choices);
        col = wrap_phrase(out, text, col, HELP_COLUMN);
    }
    char range[64];
    if (range_text(o, range, sizeof range)) {
        snprintf(text, sizeof text, "Range: %s.", range);
        col = wrap_phrase(out, text, col, HELP_COLUMN);
    }
    if (def) {
        snprintf(text, sizeof text, "Default: %s.", def);
        wrap_phrase(out, text, col, HELP_COLUMN);
    }
    fprintf(out, "\n");
}

void cli_print_help(FILE *out, const char *program)
{
    fprintf(out, "Usage: %s %s\n", program, cli_usage);
    fprintf(out, "%s: %s.\n\n", program, cli_summary);
    wrap(out, cli_description, 0, 0);
    fprintf(out, "\n");
    for (size_t s = 0; s < sizeof cli_sections / sizeof cli_sections[0]; s++) {
        fprintf(out, "\n%s:\n", cli_sections[s]);
        for (size_t i = 0; i < cli_option_count; i++) {
            if (cli_options[i].section == (int)s)
                print_option_help(out, &cli_options[i]);
        }
    }
    fprintf(out, "\nExit status:");
    wrap(out, cli_exit_status, 12, 0);
    fprintf(out, "\n\nEnvironment:");
    wrap(out, cli_environment, 12, 0);
    fprintf(out, "\n");
}

/* ------------------------------------------------------------------ man page */

/* Text into troff: hyphens become minus signs (option names must be typed as such) and a
 * backslash or a leading control character is escaped. */
static void troff(FILE *out, const char *text)
{
    if (text[0] == '.' || text[0] == '\'')
        fputs("\\&", out);
    for (const char *p = text; *p; p++) {
        if (*p == '-')
            fputs("\\-", out);
        else if (*p == '\\')
            fputs("\\e", out);
        else
            fputc(*p, out);
    }
}

static void man_option(FILE *out, const cli_option *o)
{
    fputs(".TP\n", out);
    if (o->short_name) {
        fprintf(out, "\\fB\\-%c\\fR", o->short_name);
        if (o->metavar && !o->long_name)
            fprintf(out, " \\fI%s\\fR", o->metavar);
        if (o->long_name)
            fputs(", ", out);
    }
    if (o->long_name) {
        fputs("\\fB\\-\\-", out);
        troff(out, o->long_name);
        fputs("\\fR", out);
        if (o->metavar)
            fprintf(out, "=\\fI%s\\fR", o->metavar);
    }
    fputs("\n", out);
    troff(out, o->help);
    char buf[64];
    const char *def = cli_option_default(o, buf, sizeof buf);
    if (o->choices) {
        fputs(" One of: ", out);
        troff(out, o->choices);
        fputs(".", out);
    }
    char range[64];
    if (range_text(o, range, sizeof range)) {
        fputs(" Range: ", out);
        troff(out, range);
        fputs(".", out);
    }
    if (def) {
        fputs(" Default: ", out);
        troff(out, def);
        fputs(".", out);
    }
    fputs("\n", out);
}

/* The registered plugins of one kind, as a man page list. */
static void man_plugins(FILE *out, mewe_context *ctx, bool rng)
{
    size_t n = rng ? mewe_rng_strategy_count(ctx) : mewe_diversifier_count(ctx);
    for (size_t i = 0; i < n; i++) {
        const char *name, *description;
        if ((rng ? mewe_rng_strategy_at(&name, &description, ctx, i)
                 : mewe_diversifier_at(&name, &description, ctx, i)) != MEWE_OK)
            continue;
        fputs(".TP\n\\fB", out);
        troff(out, name);
        fputs("\\fR\n", out);
        troff(out, description);
        fputs("\n", out);
    }
}

void cli_print_man(FILE *out, const char *version, mewe_context *ctx)
{
    fprintf(out, ".\\\" Generated from tools/cli_options.c by mewe-mangen; do not edit.\n");
    fprintf(out, ".TH MEWE 1 \"\" \"mewe %s\" \"User Commands\"\n", version);
    fputs(".SH NAME\nmewe \\- ", out);
    troff(out, cli_summary);
    fputs("\n.SH SYNOPSIS\n.B mewe\n", out);
    troff(out, cli_usage);
    fputs("\n.br\n.B mewe\\-cc\n[\\fIMEWE\\-OPTION\\fR|\\fB\\-I\\fIDIR\\fR|\\fB\\-D\\fIMACRO\\fR|"
          "\\fB\\-std=\\fISTD\\fR]... \\fIFILE.c\\fR|\\fIFILE.cpp\\fR|\\fIFILE.rs\\fR... "
          "\\fB\\-o\\fR \\fIOUTPUT\\fR\n"
          ".br\n.B cargo mewe build\n[\\fB\\-\\-release\\fR] [\\fICARGO\\-OPTION\\fR]... "
          "[\\fB\\-\\-\\fR \\fIMEWE\\-OPTION\\fR...]\n",
          out);
    fputs(".SH DESCRIPTION\n", out);
    troff(out, cli_description);
    fputs("\n.SH OPTIONS\n", out);
    for (size_t s = 0; s < sizeof cli_sections / sizeof cli_sections[0]; s++) {
        fputs(".SS ", out);
        troff(out, cli_sections[s]);
        fputs("\n", out);
        for (size_t i = 0; i < cli_option_count; i++) {
            if (cli_options[i].section == (int)s)
                man_option(out, &cli_options[i]);
        }
    }
    /* The built-ins as registered, so that a new one is listed without an edit here. */
    fputs(".SH DIVERSIFIERS\n", out);
    man_plugins(out, ctx, false);
    fputs(".SH RNG STRATEGIES\n", out);
    man_plugins(out, ctx, true);
    fputs(".SH EXIT STATUS\n", out);
    troff(out, cli_exit_status);
    fputs("\n.SH ENVIRONMENT\n", out);
    troff(out, cli_environment);
    fputs("\n.SH EXAMPLES\n.nf\n"
          "mewe\\-cc \\-O2 hello.c util.c \\-o hello.wasm \\-\\-seed 3\n"
          "mewe prog.bc \\-o prog.wasm \\-\\-report prog.json\n"
          "mewe prog.bc \\-\\-stage=generate \\-n 5 \\-o variants.bc\n"
          "mewe variants.bc \\-\\-stage=link \\-\\-rng host \\-o multi.bc\n"
          "mewe multi.bc \\-\\-stage=emit \\-\\-export run \\-\\-emit reactor \\-o multi.wasm\n"
          ".fi\n",
          out);
    fputs(".SH SEE ALSO\n\\fBclang\\fR(1), \\fBwasm\\-ld\\fR(1), \\fBfnmatch\\fR(3)\n", out);
}

/* ------------------------------------------------------------------ API reference page */

/* Text in a markdown table cell: '|' would end the cell. */
static void cell(FILE *out, const char *text)
{
    for (const char *p = text; *p; p++)
        fputs(*p == '|' ? "\\|" : (char[]){*p, 0}, out);
}

static void markdown_plugins(FILE *out, mewe_context *ctx, bool rng)
{
    fputs("| name | what it does |\n|---|---|\n", out);
    size_t n = rng ? mewe_rng_strategy_count(ctx) : mewe_diversifier_count(ctx);
    for (size_t i = 0; i < n; i++) {
        const char *name, *description;
        if ((rng ? mewe_rng_strategy_at(&name, &description, ctx, i)
                 : mewe_diversifier_at(&name, &description, ctx, i)) != MEWE_OK)
            continue;
        fprintf(out, "| `%s` | ", name);
        cell(out, description);
        fputs(" |\n", out);
    }
}

void cli_print_markdown(FILE *out, mewe_context *ctx)
{
    fputs("# Defaults, limits and built-ins {#defaults}\n\n"
          "Generated from the library when the documentation is built (`mewe-mangen "
          "--markdown`): mewe_option_describe() gives each option's default and range, and "
          "the built-ins are listed as a new context registers them. `mewe --help` and "
          "`man mewe` show the same numbers.\n\n"
          "## Options\n\n"
          "| option | mewe flag | default | accepted |\n|---|---|---|---|\n",
          out);
    size_t n = mewe_option_count();
    for (size_t i = 0; i < n; i++) {
        const char *name, *text;
        double def, min, max;
        if (mewe_option_at(&name, i) != MEWE_OK ||
            mewe_option_describe(&text, &def, &min, &max, name) != MEWE_OK)
            continue;
        const cli_option *flag = NULL;
        for (size_t k = 0; k < cli_option_count && !flag; k++) {
            if (cli_options[k].setting && strcmp(cli_options[k].setting, name) == 0)
                flag = &cli_options[k];
        }
        fprintf(out, "| `%s` | ", name);
        if (flag)
            fprintf(out, "`--%s`", flag->long_name);
        fputs(" | ", out);
        cell(out, text);
        fputs(" | ", out);
        if (!isnan(min) && max >= DBL_MAX)
            fprintf(out, "%.*g or more", DBL_DIG, min);
        else if (!isnan(min))
            fprintf(out, "%.*g to %.*g", DBL_DIG, min, DBL_DIG, max);
        else if (flag && flag->choices)
            cell(out, flag->choices);
        else if (strcmp(name, "generate.diversifiers") == 0)
            fputs("diversifier specs, of the diversifiers below", out);
        else if (strcmp(name, "link.rng") == 0)
            fputs("the spec of an RNG strategy below", out);
        else
            fputs("a ::mewe_emit_kind", out);
        fputs(" |\n", out);
    }
    fputs("\nA field left at zero takes the default, except `generate.variants`, "
          "`generate.min_instructions` and `emit.opt_level`, whose zero is a value of its own "
          "(their `_INIT` macros set the default).\n\n"
          "## Diversifiers\n\n",
          out);
    markdown_plugins(out, ctx, false);
    fputs("\n## RNG strategies\n\n", out);
    markdown_plugins(out, ctx, true);
}
