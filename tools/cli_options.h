/* The mewe command's options as data: getopt_long's tables, --help and the man page are all
 * made from this one table, so they cannot drift apart. */
#ifndef MEWE_CLI_OPTIONS_H
#define MEWE_CLI_OPTIONS_H

#include <stdio.h>

#include <mewe/mewe.h>

/* Option ids: the short letter where there is one, else a value above any char. */
enum cli_opt_id {
    OPT_HELP = 'h',
    OPT_JOBS = 'j',
    OPT_LIB = 'l',
    OPT_VARIANTS = 'n',
    OPT_OUTPUT = 'o',
    OPT_OPT_LEVEL = 'O',
    OPT_QUIET = 'q',
    OPT_VERBOSE = 'v',
    OPT_Z = 'z',
    OPT_STAGE = 256,
    OPT_EMIT,
    OPT_REPORT,
    OPT_SEED,
    OPT_DIVERSIFIER,
    OPT_ALLOW,
    OPT_DENY,
    OPT_MIN_INSTRUCTIONS,
    OPT_ATTEMPTS,
    OPT_WASM_ROUNDS,
    OPT_WASM_DERIVED,
    OPT_OUTLINE_LOOPS,
    OPT_TIME_BUDGET,
    OPT_SIZE_BUDGET,
    OPT_VARIANTS_FROM,
    OPT_DISPATCH,
    OPT_GRANULARITY,
    OPT_MAX_OVERHEAD,
    OPT_PERIOD,
    OPT_INLINE_LIMIT,
    OPT_PROFILE,
    OPT_PROFILE_GEN,
    OPT_TRUSTED_INPUT,
    OPT_RNG,
    OPT_TRACE,
    OPT_EXPORT,
    OPT_PLATFORM,
    OPT_LINK_ARG,
    OPT_WASM_LD,
    OPT_WASI_SYSROOT,
    OPT_WASI_SDK,
    OPT_BUILTINS,
    OPT_LIST_DIVERSIFIERS,
    OPT_LIST_RNG,
    OPT_VERSION,
};

/* How an option's value is checked before the library sees it. */
typedef enum cli_value {
    CLI_FLAG,   /* no value */
    CLI_TEXT,   /* any non-empty text */
    CLI_UINT,   /* decimal integer in [min, max] */
    CLI_U64,    /* decimal or 0x-hex integer, 64 bits */
    CLI_DOUBLE, /* finite number in [min, max] */
    CLI_CHOICE  /* one of the '|'-separated words of choices; the index is the value */
} cli_value;

typedef struct cli_option {
    int id;
    const char *long_name; /* NULL: short option only */
    char short_name;       /* 0: long option only */
    const char *metavar;   /* NULL for CLI_FLAG */
    cli_value value;
    double min, max;     /* CLI_UINT, CLI_DOUBLE */
    const char *choices; /* CLI_CHOICE: "a|b|c" */
    const char *help;    /* sentences; "Default: ..." is appended from cli_option_default */
    int section;         /* index into cli_sections */
    /* The library's name of the option ("generate.variants"): its default, and for numbers
     * its range, come from mewe_option_describe instead of min and max. */
    const char *setting;
} cli_option;

extern const cli_option cli_options[];
extern const size_t cli_option_count;
extern const char *const cli_sections[];

/* Prose shared by --help and the man page. */
extern const char cli_summary[];     /* one line */
extern const char cli_usage[];       /* the synopsis, without the program name */
extern const char cli_description[]; /* a paragraph */
extern const char cli_exit_status[];
extern const char cli_environment[];

/* The option with this id; never NULL for the ids above. */
const cli_option *cli_option_by_id(int id);

/* The default of an option as text ("3", "switch", ...), or NULL when it has none worth
 * stating. The library's options have the library's defaults (mewe_option_describe). */
const char *cli_option_default(const cli_option *opt, char *buf, size_t size);

/* The accepted range of a CLI_UINT or CLI_DOUBLE option: the library's for its options. */
void cli_option_range(const cli_option *opt, double *min, double *max);

/* Index of word in a "a|b|c" list, or -1. */
int cli_choice_index(const char *choices, const char *word);

void cli_print_help(FILE *out, const char *program);
/* The man page; ctx lists the registered diversifiers and RNG strategies. */
void cli_print_man(FILE *out, const char *version, mewe_context *ctx);
/* The page of the API reference that lists the defaults, limits and built-ins. */
void cli_print_markdown(FILE *out, mewe_context *ctx);

#endif /* MEWE_CLI_OPTIONS_H */
