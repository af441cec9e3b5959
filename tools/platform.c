/* --platform: the hosts that run mewe's output and what they accept.
 *
 * fastly      Fastly Compute: a WASI command (it calls _start); WASI preview 1 and its own
 *             host calls (modules fastly_*), nothing else can be imported.
 * wasmtime    `wasmtime run`: WASI preview 1 only (a reactor's exports with --invoke).
 * node        node's WASI (node --no-turbo-fast-api-calls, see doc/guide.md): the embedding
 *             JavaScript can provide any other import, so those are warnings.
 * cloudflare  Cloudflare Workers with a WASI shim: as node, the Worker's JavaScript provides
 *             the rest.
 * any         no check.
 *
 * The import section is read from the wasm itself, so an import that the program brings (an
 * import_module attribute, an undefined function allowed at link time) is caught as well as
 * those that options add. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli_options.h"
#include "platform.h"

typedef struct host {
    const char *name;     /* for messages */
    const char *provides; /* what it provides, for messages */
    bool js;              /* a JavaScript embedder can provide any other import */
    bool command_only;
} host;

static const host hosts[] = {
    [PLATFORM_ANY] = {"any", "anything", true, false},
    [PLATFORM_FASTLY] = {"Fastly Compute", "WASI preview 1 and its fastly_* host calls", false,
                         true},
    [PLATFORM_CLOUDFLARE] = {"Cloudflare Workers", "WASI preview 1, through a shim", true, false},
    [PLATFORM_WASMTIME] = {"wasmtime", "WASI preview 1 only", false, false},
    [PLATFORM_NODE] = {"node", "WASI preview 1", true, false},
};

static const char *platform_flag(const cli *c)
{
    static char buf[32];
    char word[16];
    const cli_option *o = cli_option_by_id(OPT_PLATFORM);
    const char *p = o->choices;
    for (int i = 0; i < c->platform && p; i++) {
        p = strchr(p, '|');
        p = p ? p + 1 : NULL;
    }
    size_t n = p ? strcspn(p, "|") : 0;
    snprintf(word, sizeof word, "%.*s", (int)(n < sizeof word ? n : sizeof word - 1), p ? p : "");
    snprintf(buf, sizeof buf, "--platform=%s", word);
    return buf;
}

static bool provided(const cli *c, const char *module)
{
    if (strcmp(module, "wasi_snapshot_preview1") == 0)
        return true;
    return c->platform == PLATFORM_FASTLY && strncmp(module, "fastly_", 7) == 0;
}

/* The import that --rng host adds: module=, name= of its spec, else env.discriminate. */
static bool rng_host_import(const cli *c, char *module, size_t msize, char *name, size_t nsize)
{
    const char *spec = c->link.rng;
    if (!spec || strncmp(spec, "host", 4) != 0 || (spec[4] != '\0' && spec[4] != ':'))
        return false;
    snprintf(module, msize, "env");
    snprintf(name, nsize, "discriminate");
    for (const char *p = spec[4] ? spec + 5 : spec + 4; *p;) {
        size_t len = strcspn(p, ",");
        if (strncmp(p, "module=", 7) == 0)
            snprintf(module, msize, "%.*s", (int)(len - 7), p + 7);
        else if (strncmp(p, "name=", 5) == 0)
            snprintf(name, nsize, "%.*s", (int)(len - 5), p + 5);
        p += len + (p[len] == ',');
    }
    return true;
}

/* The option that made mewe add this import, or NULL when the program itself imports it. */
static const char *import_cause(const cli *c, const char *module, const char *name)
{
    char m[128], n[128];
    if (c->link.trace && strcmp(module, "mewe_trace") == 0)
        return "--trace";
    if (rng_host_import(c, m, sizeof m, n, sizeof n) && strcmp(module, m) == 0 &&
        strcmp(name, n) == 0)
        return "--rng host";
    return NULL;
}

/* One import that the platform does not provide: an error or, on a JavaScript host, a
 * warning. Returns whether it was an error. */
static bool report_import(const cli *c, const char *module, const char *name)
{
    const host *h = &hosts[c->platform];
    const char *cause = import_cause(c, module, name);
    char why[160];
    if (cause)
        snprintf(why, sizeof why, "added by %s", cause);
    else
        snprintf(why, sizeof why,
                 "from the program, by an import_module attribute or an "
                 "undefined function that the link allowed");
    if (h->js) {
        if (!c->quiet)
            cli_error("warning: %s: the output imports %s.%s (%s), which %s does not provide "
                      "(it provides %s): the JavaScript that instantiates the module must%s",
                      platform_flag(c), module, name, why, h->name, h->provides,
                      c->platform == PLATFORM_NODE
                          ? " (tests/wasm-run.mjs provides "
                            "mewe_trace.record, and --rng host's import with --discriminate)"
                          : "");
        return false;
    }
    cli_error("%s: the output imports %s.%s (%s), which %s does not provide (it provides %s)",
              platform_flag(c), module, name, why, h->name, h->provides);
    return true;
}

int platform_check_options(const cli *c)
{
    if (c->platform == PLATFORM_ANY || (c->kind != KIND_COMMAND && c->kind != KIND_REACTOR) ||
        !(c->stage == STAGE_ALL || c->stage == STAGE_EMIT))
        return EXIT_OK;
    const host *h = &hosts[c->platform];
    bool linking = c->stage == STAGE_ALL && !c->profile_gen;
    int rc = EXIT_OK;
    if (h->command_only && c->kind == KIND_REACTOR) {
        cli_error("%s: --emit reactor: %s runs WASI commands (it calls _start); write a "
                  "command (-o FILE.wasm)",
                  platform_flag(c), h->name);
        rc = EXIT_USAGE;
    }
    /* A JavaScript host's own code may provide these: the wasm check warns about them. */
    char module[128], name[128];
    if (!h->js && linking && rng_host_import(c, module, sizeof module, name, sizeof name) &&
        !provided(c, module)) {
        cli_error("%s: --rng host adds the import %s.%s, which %s does not provide (it "
                  "provides %s); use --rng wasi",
                  platform_flag(c), module, name, h->name, h->provides);
        rc = EXIT_USAGE;
    }
    if (!h->js && linking && c->link.trace) {
        cli_error("%s: --trace adds the import mewe_trace.record, which %s does not provide "
                  "(it provides %s); record traces under node instead",
                  platform_flag(c), h->name, h->provides);
        rc = EXIT_USAGE;
    }
    if (rc == EXIT_USAGE)
        fputs("Try 'mewe --help' for more information.\n", stderr);
    return rc;
}

/* ------------------------------------------------------------------ reading the wasm */

typedef struct reader {
    const unsigned char *p, *end;
    bool bad;
} reader;

static unsigned long long leb(reader *r)
{
    unsigned long long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) {
            r->bad = true;
            return 0;
        }
        unsigned char b = *r->p++;
        v |= (unsigned long long)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->bad = true;
    return 0;
}

static unsigned char byte(reader *r)
{
    if (r->p >= r->end) {
        r->bad = true;
        return 0;
    }
    return *r->p++;
}

/* A name: pointer and length into the wasm. */
static const char *name(reader *r, size_t *len)
{
    unsigned long long n = leb(r);
    if (r->bad || n > (unsigned long long)(r->end - r->p)) {
        r->bad = true;
        *len = 0;
        return "";
    }
    const char *s = (const char *)r->p;
    r->p += n;
    *len = (size_t)n;
    return s;
}

static void limits(reader *r)
{
    unsigned char flags = byte(r);
    leb(r);
    if (flags & 1)
        leb(r);
}

/* Calls on_import for each import; returns false if the section is malformed. */
static bool each_import(reader r, const cli *c, int *errors)
{
    unsigned long long count = leb(&r);
    for (unsigned long long i = 0; i < count && !r.bad; i++) {
        size_t mlen, nlen;
        const char *m = name(&r, &mlen);
        const char *n = name(&r, &nlen);
        switch (byte(&r)) {
        case 0: leb(&r); break; /* function: type index */
        case 1:
            byte(&r);
            limits(&r);
            break;                 /* table: reference type, limits */
        case 2: limits(&r); break; /* memory */
        case 3:
            byte(&r);
            byte(&r);
            break; /* global: value type, mutability */
        case 4:
            byte(&r);
            leb(&r);
            break; /* tag: attribute, type index */
        default: r.bad = true;
        }
        if (r.bad)
            break;
        char module[256], field[256];
        snprintf(module, sizeof module, "%.*s", (int)mlen, m);
        snprintf(field, sizeof field, "%.*s", (int)nlen, n);
        if (!provided(c, module))
            *errors += report_import(c, module, field);
    }
    return !r.bad;
}

/* Function exports other than _initialize and _start. */
static bool count_function_exports(reader r, size_t *out)
{
    unsigned long long count = leb(&r);
    *out = 0;
    for (unsigned long long i = 0; i < count && !r.bad; i++) {
        size_t len;
        const char *n = name(&r, &len);
        unsigned char kind = byte(&r);
        leb(&r);
        bool entry = (len == 11 && memcmp(n, "_initialize", 11) == 0) ||
                     (len == 6 && memcmp(n, "_start", 6) == 0);
        *out += kind == 0 && !entry;
    }
    return !r.bad;
}

int platform_check_wasm(const cli *c, const unsigned char *wasm, size_t size)
{
    static const unsigned char magic[] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    if (size < 8 || memcmp(wasm, magic, 8) != 0) {
        if (!c->quiet)
            cli_error("warning: cannot read the wasm written: its imports and exports are "
                      "not checked");
        return EXIT_OK;
    }
    reader r = {wasm + 8, wasm + size, false};
    reader imports = {NULL, NULL, false}, exports = {NULL, NULL, false};
    while (r.p < r.end && !r.bad) {
        unsigned char id = byte(&r);
        unsigned long long len = leb(&r);
        if (r.bad || len > (unsigned long long)(r.end - r.p)) {
            r.bad = true;
            break;
        }
        reader section = {r.p, r.p + len, false};
        if (id == 2)
            imports = section;
        else if (id == 7)
            exports = section;
        r.p += len;
    }
    int errors = 0;
    bool ok = !r.bad;
    if (ok && c->platform != PLATFORM_ANY && imports.p)
        ok = each_import(imports, c, &errors);
    size_t exported = 0;
    if (ok && exports.p)
        ok = count_function_exports(exports, &exported);
    if (!ok && !c->quiet)
        cli_error("warning: the wasm written is malformed: its imports and exports are not "
                  "checked");
    if (ok && c->kind == KIND_REACTOR && exported == 0 && !c->quiet)
        cli_error("warning: the reactor exports no function besides _initialize: nothing can "
                  "call it (name its entry points with --export NAME)");
    return errors ? EXIT_FAIL : EXIT_OK;
}
