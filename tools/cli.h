/* The parsed command line of mewe. */
#ifndef MEWE_CLI_H
#define MEWE_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include <mewe/mewe.h>

/* Exit statuses: the documented contract of the command. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

typedef enum cli_action {
    ACT_RUN,
    ACT_HELP,
    ACT_VERSION,
    ACT_LIST_DIVERSIFIERS,
    ACT_LIST_RNG
} cli_action;

/* In the order of the --stage choices. */
typedef enum cli_stage {
    STAGE_ALL,
    STAGE_GENERATE,
    STAGE_LINK,
    STAGE_EMIT,
    STAGE_REPORT
} cli_stage;

/* In the order of the --emit choices; the first three match mewe_emit_kind. */
typedef enum cli_kind { KIND_COMMAND, KIND_REACTOR, KIND_OBJECT, KIND_BC, KIND_LL } cli_kind;

typedef struct strlist {
    const char **items;
    size_t count, cap;
} strlist;

typedef struct cli {
    cli_action action;
    cli_stage stage;
    int kind; /* a cli_kind, or -1 before it is known */
    const char *output;
    const char *report;
    const char *profile; /* --profile FILE */
    bool profile_gen;    /* --profile-gen */
    bool trusted_input;  /* --trusted-input: no helper for inputs */
    strlist inputs, variants_from, diversifiers, allow, deny, exports, link_args;
    strlist owned; /* strings made while parsing (-lLIB), freed with the cli */
    mewe_generate_options gen;
    mewe_link_options link;
    mewe_emit_options emit;
    uint64_t seed;
    const char *tools[MEWE_TOOL_WASI_SDK + 1]; /* by mewe_tool; NULL when not given */
    bool sdk_from_env;                         /* tools[MEWE_TOOL_WASI_SDK] is $WASI_SDK_PATH */
    int platform;                              /* a cli_platform (platform.h) */
    int verbose;
    bool quiet;
    const struct cli_option *section_opt[8]; /* per cli_sections entry, one option given */
} cli;

/* Parses argv into c. Returns EXIT_OK, or EXIT_USAGE after printing why on stderr. */
int cli_parse(cli *c, int argc, char **argv);

void cli_free(cli *c);

/* "mewe: message" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* MEWE_CLI_H */
