/* Command-line parsing of mewe: getopt_long over the option table, value checks, and the
 * checks that need the whole command line (inputs, -o, output kind against the stage). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_options.h"
#include "platform.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mewe: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mewe: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\nTry 'mewe --help' for more information.\n", stderr);
    va_end(ap);
    return EXIT_USAGE;
}

static int strlist_add(strlist *l, const char *s)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        const char **items = realloc(l->items, cap * sizeof *items);
        if (!items) {
            cli_error("out of memory");
            return EXIT_FAIL;
        }
        l->items = items;
        l->cap = cap;
    }
    l->items[l->count++] = s;
    return EXIT_OK;
}

/* The name an option is known by in messages: its long form when it has one. */
static const char *flag_name(const cli_option *o, char *buf, size_t size)
{
    if (o->long_name)
        snprintf(buf, size, "--%s", o->long_name);
    else
        snprintf(buf, size, "-%c", o->short_name);
    return buf;
}

/* ------------------------------------------------------------------ values */

/* Digits only: strtoull would accept a sign, spaces, and wrap "-1" around. */
static int parse_u64(const char *text, uint64_t *out)
{
    int base = 10;
    const char *digits = text;
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        digits = text + 2;
    }
    if (digits[0] == '\0' ||
        strspn(digits, base == 16 ? "0123456789abcdefABCDEF" : "0123456789") != strlen(digits))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(digits, NULL, base);
    if (errno == ERANGE)
        return -2;
    *out = v;
    return 0;
}

static int check_uint(const cli_option *o, const char *name, const char *text, uint64_t *out)
{
    int rc = parse_u64(text, out);
    if (rc == -1 || (o->value == CLI_UINT && (text[1] == 'x' || text[1] == 'X')))
        return usage_error("%s: '%s' is not a whole number", name, text);
    double min = 0, max = 18446744073709551615.0;
    if (o->value == CLI_UINT)
        cli_option_range(o, &min, &max);
    if (rc == -2 || (double)*out < min || (double)*out > max)
        return usage_error("%s: %s is out of range (%.0f to %.0f)", name, text, min, max);
    return EXIT_OK;
}

static int check_double(const cli_option *o, const char *name, const char *text, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(text, &end);
    if (end == text || *end != '\0' || text[0] == ' ' || isnan(*out))
        return usage_error("%s: '%s' is not a number", name, text);
    double min, max;
    cli_option_range(o, &min, &max);
    if (errno == ERANGE || !isfinite(*out) || *out < min || *out > max)
        return usage_error("%s: %s is out of range (a finite number >= %g)", name, text, min);
    return EXIT_OK;
}

typedef union value {
    const char *text;
    uint64_t u;
    double d;
    int choice;
} value;

static int check_value(const cli_option *o, const char *text, value *v)
{
    char name[48];
    flag_name(o, name, sizeof name);
    switch (o->value) {
    case CLI_FLAG: return EXIT_OK;
    case CLI_TEXT:
        if (strlen(text) < (size_t)o->min)
            return usage_error("%s: the value is empty", name);
        v->text = text;
        return EXIT_OK;
    case CLI_UINT:
    case CLI_U64: return check_uint(o, name, text, &v->u);
    case CLI_DOUBLE: return check_double(o, name, text, &v->d);
    case CLI_CHOICE:
        v->choice = cli_choice_index(o->choices, text);
        if (v->choice < 0)
            return usage_error("%s: '%s' is not one of %s", name, text, o->choices);
        return EXIT_OK;
    }
    return EXIT_OK;
}

/* ------------------------------------------------------------------ options */

static int add_lib(cli *c, const char *lib)
{
    size_t n = strlen(lib) + 3;
    char *arg = malloc(n);
    if (arg)
        snprintf(arg, n, "-l%s", lib);
    if (!arg || strlist_add(&c->owned, arg) != EXIT_OK) {
        free(arg);
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    return strlist_add(&c->link_args, arg);
}

static int apply_list(cli *c, int id, const char *text)
{
    switch (id) {
    case OPT_VARIANTS_FROM: return strlist_add(&c->variants_from, text);
    case OPT_DIVERSIFIER: return strlist_add(&c->diversifiers, text);
    case OPT_ALLOW: return strlist_add(&c->allow, text);
    case OPT_DENY: return strlist_add(&c->deny, text);
    case OPT_EXPORT: return strlist_add(&c->exports, text);
    case OPT_LINK_ARG: return strlist_add(&c->link_args, text);
    case OPT_LIB: return add_lib(c, text);
    case OPT_Z:
        if (strlist_add(&c->link_args, "-z") != EXIT_OK)
            return EXIT_FAIL;
        return strlist_add(&c->link_args, text);
    }
    return -1;
}

static int apply(cli *c, int id, value v)
{
    int rc = apply_list(c, id, v.text);
    if (rc >= 0)
        return rc;
    switch (id) {
    case OPT_OUTPUT: c->output = v.text; break;
    case OPT_STAGE: c->stage = (cli_stage)v.choice; break;
    case OPT_EMIT: c->kind = v.choice; break;
    case OPT_PLATFORM: c->platform = v.choice; break;
    case OPT_REPORT: c->report = v.text; break;
    case OPT_SEED: c->seed = v.u; break;
    case OPT_VARIANTS: c->gen.variants = (unsigned)v.u; break;
    case OPT_MIN_INSTRUCTIONS: c->gen.min_instructions = (unsigned)v.u; break;
    case OPT_ATTEMPTS: c->gen.attempts = (unsigned)v.u; break;
    case OPT_WASM_ROUNDS: c->gen.wasm_rounds = v.u ? (unsigned)v.u : MEWE_WASM_ROUNDS_OFF; break;
    case OPT_WASM_DERIVED: c->gen.wasm_derived = v.u ? (unsigned)v.u : MEWE_WASM_DERIVED_OFF; break;
    case OPT_OUTLINE_LOOPS:
        c->gen.outline_loops = v.u ? (unsigned)v.u : MEWE_OUTLINE_LOOPS_OFF;
        break;
    case OPT_TIME_BUDGET: c->gen.time_budget = v.d; break;
    case OPT_SIZE_BUDGET: c->gen.size_budget = v.d; break;
    case OPT_DISPATCH: c->link.dispatch = (mewe_dispatch_kind)v.choice; break;
    case OPT_GRANULARITY: c->link.granularity = (mewe_granularity)v.choice; break;
    case OPT_MAX_OVERHEAD: c->link.max_overhead = v.d; break;
    case OPT_PERIOD: c->link.period = (unsigned)v.u; break;
    case OPT_INLINE_LIMIT: c->link.inline_limit = (unsigned)v.u; break;
    case OPT_PROFILE: c->profile = v.text; break;
    case OPT_PROFILE_GEN: c->profile_gen = true; break;
    case OPT_TRUSTED_INPUT: c->trusted_input = true; break;
    case OPT_RNG: c->link.rng = v.text; break;
    case OPT_TRACE: c->link.trace = 1; break;
    case OPT_OPT_LEVEL: c->emit.opt_level = (int)v.u; break;
    case OPT_JOBS: c->emit.threads = c->gen.threads = (unsigned)v.u; break;
    case OPT_WASM_LD: c->tools[MEWE_TOOL_WASM_LD] = v.text; break;
    case OPT_WASI_SYSROOT: c->tools[MEWE_TOOL_WASI_SYSROOT] = v.text; break;
    case OPT_BUILTINS: c->tools[MEWE_TOOL_BUILTINS] = v.text; break;
    case OPT_WASI_SDK: c->tools[MEWE_TOOL_WASI_SDK] = v.text; break;
    case OPT_LIST_DIVERSIFIERS: c->action = ACT_LIST_DIVERSIFIERS; break;
    case OPT_LIST_RNG: c->action = ACT_LIST_RNG; break;
    case OPT_VERBOSE: c->verbose++; break;
    case OPT_QUIET: c->quiet = true; break;
    case OPT_HELP: c->action = ACT_HELP; break;
    case OPT_VERSION: c->action = ACT_VERSION; break;
    }
    return EXIT_OK;
}

/* getopt_long's two tables, built from cli_options. */
static int build_tables(struct option **longopts, char **shortopts)
{
    *longopts = calloc(cli_option_count + 1, sizeof **longopts);
    *shortopts = calloc(cli_option_count * 2 + 2, 1);
    if (!*longopts || !*shortopts) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    /* A leading ':' makes getopt tell a missing value (':') from an unknown option ('?'). */
    char *s = *shortopts;
    *s++ = ':';
    size_t n = 0;
    for (size_t i = 0; i < cli_option_count; i++) {
        const cli_option *o = &cli_options[i];
        if (o->long_name)
            (*longopts)[n++] = (struct option){
                o->long_name, o->metavar ? required_argument : no_argument, NULL, o->id};
        if (o->short_name) {
            *s++ = o->short_name;
            if (o->metavar)
                *s++ = ':';
        }
    }
    return EXIT_OK;
}

/* getopt said '?' or ':'; say which option and what was wrong with it. */
static int bad_option(int ch, char **argv)
{
    /* getopt has moved past a long option, but not always past a cluster of short ones
     * ("-vx"): only optopt is sure to name a short option, and it is 0 for long ones. */
    const char *arg = argv[optind - 1];
    bool long_opt = ch == ':' ? strncmp(arg, "--", 2) == 0 : optopt == 0;
    if (!long_opt)
        return usage_error("-%c: %s", optopt, ch == ':' ? "missing value" : "unknown option");
    size_t len = strcspn(arg, "=");
    return usage_error("%.*s: %s", (int)len, arg,
                       ch == ':' ? "missing value" : "unknown or ambiguous option");
}

static int parse_options(cli *c, int argc, char **argv)
{
    struct option *longopts;
    char *shortopts;
    int rc = build_tables(&longopts, &shortopts);
    opterr = 0;
    int ch;
    while (rc == EXIT_OK && (ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        if (ch == '?' || ch == ':') {
            rc = bad_option(ch, argv);
            break;
        }
        const cli_option *o = cli_option_by_id(ch);
        value v = {.text = optarg};
        rc = check_value(o, optarg, &v);
        if (rc == EXIT_OK)
            rc = apply(c, ch, v);
        if (rc == EXIT_OK && !c->section_opt[o->section])
            c->section_opt[o->section] = o;
    }
    for (int i = optind; rc == EXIT_OK && i < argc; i++)
        rc = strlist_add(&c->inputs, argv[i]);
    free(longopts);
    free(shortopts);
    return rc;
}

/* ------------------------------------------------------------------ whole command line */

static int kind_from_extension(const char *path)
{
    static const char *const ext[] = {".wasm", NULL, ".o", ".bc", ".ll"};
    size_t len = strlen(path);
    for (int k = 0; k <= KIND_LL; k++) {
        size_t n = ext[k] ? strlen(ext[k]) : 0;
        if (n && len > n && strcmp(path + len - n, ext[k]) == 0)
            return k;
    }
    return -1;
}

static int check_output(cli *c)
{
    if (c->stage == STAGE_REPORT) {
        if (c->output)
            return usage_error("-o: --stage=report writes no output file; use --report FILE");
        return EXIT_OK;
    }
    if (!c->output)
        return usage_error("missing -o OUTPUT");
    if (strcmp(c->output, "-") == 0)
        return usage_error("-o: the output goes to a file, not to standard output");
    if (c->kind < 0)
        c->kind = kind_from_extension(c->output);
    if (c->kind < 0)
        return usage_error("-o: cannot tell the output kind of '%s' from its extension; use "
                           ".wasm, .o, .bc or .ll, or --emit=KIND",
                           c->output);
    bool module_out = c->kind == KIND_BC || c->kind == KIND_LL;
    if ((c->stage == STAGE_GENERATE || c->stage == STAGE_LINK) && !module_out)
        return usage_error("--stage=%s writes a module: give -o FILE.bc or FILE.ll (or "
                           "--emit=bc|ll)",
                           c->stage == STAGE_GENERATE ? "generate" : "link");
    if (c->stage == STAGE_EMIT && module_out)
        return usage_error("--stage=emit writes WebAssembly: give -o FILE.wasm or FILE.o (or "
                           "--emit=command|reactor|object)");
    if (c->profile_gen && (c->stage != STAGE_ALL || c->kind != KIND_COMMAND))
        return usage_error("--profile-gen builds an instrumented WASI command: use it with "
                           "--stage=all and -o FILE.wasm");
    if (c->profile_gen && c->profile)
        return usage_error("--profile: a --profile-gen build is not diversified; give the "
                           "profile to the next build");
    return EXIT_OK;
}

/* Options of a stage that does not run are legal but do nothing: say so. */
static void warn_unused(const cli *c)
{
    enum { PIPE, GEN, LINK, EMIT, TOOL };
    static const unsigned used[] = {
        [STAGE_ALL] = 1u << GEN | 1u << LINK | 1u << EMIT | 1u << TOOL,
        [STAGE_GENERATE] = 1u << GEN,
        [STAGE_LINK] = 1u << LINK,
        [STAGE_EMIT] = 1u << EMIT | 1u << TOOL,
        [STAGE_REPORT] = 0,
    };
    unsigned run = used[c->stage];
    if (c->kind == KIND_BC || c->kind == KIND_LL)
        run &= ~(1u << EMIT | 1u << TOOL);
    char name[48];
    for (int s = GEN; s <= TOOL && !c->quiet; s++) {
        if (c->section_opt[s] && !(run & (1u << s)))
            cli_error("warning: %s has no effect here (%s)",
                      flag_name(c->section_opt[s], name, sizeof name), cli_sections[s]);
    }
    if (c->variants_from.count && (c->stage == STAGE_EMIT || c->stage == STAGE_REPORT) && !c->quiet)
        cli_error("warning: --variants-from has no effect with --stage=%s",
                  c->stage == STAGE_EMIT ? "emit" : "report");
}

int cli_parse(cli *c, int argc, char **argv)
{
    *c = (cli){.kind = -1};
    int rc = mewe_generate_options_init(&c->gen, MEWE_GENERATE_OPTIONS_VERSION);
    rc = rc ? rc : mewe_link_options_init(&c->link, MEWE_LINK_OPTIONS_VERSION);
    rc = rc ? rc : mewe_emit_options_init(&c->emit, MEWE_EMIT_OPTIONS_VERSION);
    if (rc != MEWE_OK) {
        cli_error("this libmewe refuses the option versions mewe was built with: %s",
                  mewe_status_str(rc));
        return EXIT_FAIL;
    }
    rc = parse_options(c, argc, argv);
    if (rc != EXIT_OK || c->action != ACT_RUN)
        return rc;
    if (c->inputs.count == 0)
        return usage_error("no input file");
    rc = check_output(c);
    if (rc != EXIT_OK)
        return rc;
    const char *sdk = getenv("WASI_SDK_PATH");
    if (!c->tools[MEWE_TOOL_WASI_SDK] && sdk && sdk[0]) {
        c->tools[MEWE_TOOL_WASI_SDK] = sdk;
        c->sdk_from_env = true;
    }
    warn_unused(c);
    return platform_check_options(c);
}

void cli_free(cli *c)
{
    strlist *lists[] = {&c->inputs, &c->variants_from, &c->diversifiers, &c->allow,
                        &c->deny,   &c->exports,       &c->link_args,    &c->owned};
    for (size_t i = 0; i < c->owned.count; i++)
        free((void *)c->owned.items[i]);
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        free(lists[i]->items);
}
