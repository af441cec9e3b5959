/* Plugin registries, specs and hooks. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "builtins.h"
#include "plugin.h"
#include "util/array.h"
#include "util/hash.h"

uint64_t mewe__mix64(uint64_t x)
{
    /* splitmix64's finalizer: a bijection with good avalanche. */
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint64_t mewe__seed_for(uint64_t seed, const char *name, uint64_t salt)
{
    uint64_t h = mewe__fnv1a(name, strlen(name));
    /* A chain of bijections: with the seed fixed, injective in the name's hash (salt fixed)
     * and in the salt (name fixed). */
    uint64_t key = mewe__mix64(mewe__mix64(seed) ^ h);
    return mewe__mix64(key ^ mewe__mix64(salt));
}

static bool valid_name(const char *name)
{
    if (!name || !*name)
        return false;
    for (const char *p = name; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            return false;
    }
    return true;
}

static void plugin_fini(mewe__plugin *p)
{
    if (p->destroy)
        p->destroy(p->user_data);
    free(p->name);
    free(p->description);
    for (char **k = p->param_names; k && *k; k++)
        free(*k);
    free(p->param_names);
    for (char **k = p->param_docs; k && *k; k++)
        free(*k);
    free(p->param_docs);
}

void mewe__registry_free(mewe__registry *r)
{
    for (size_t i = 0; i < r->count; i++)
        plugin_fini(&r->items[i]);
    free(r->items);
    r->items = NULL;
    r->count = r->cap = 0;
}

/* Copies a NULL-terminated list, or its first `limit` entries when limit is not SIZE_MAX
 * (parameter docs: one per name, whatever follows). */
static char **copy_names(const char *const *names, size_t limit, bool *oom)
{
    *oom = false;
    if (!names)
        return NULL;
    size_t n = 0;
    while (n < limit && names[n])
        n++;
    char **copy = calloc(n + 1, sizeof *copy);
    for (size_t i = 0; copy && i < n; i++) {
        copy[i] = mewe__strdup(names[i]);
        if (!copy[i]) {
            while (i > 0)
                free(copy[--i]);
            free(copy);
            copy = NULL;
        }
    }
    *oom = copy == NULL;
    return copy;
}

int mewe__registry_add(mewe_context *ctx, mewe__registry *r, const char *kind, const char *name,
                       const char *description, const char *const *param_names,
                       const char *const *param_docs, mewe__plugin_fn fn, void *user_data,
                       void (*destroy)(void *))
{
    mewe__plugin p = {0};
    p.user_data = user_data;
    p.destroy = destroy;
    p.fn = fn;
    int rc = MEWE_OK;
    bool oom = false;
    if (!valid_name(name))
        rc = mewe__error(ctx, MEWE_EINVAL, "%s name '%s' is not [A-Za-z0-9_-]+", kind,
                         name ? name : "(NULL)");
    else if (mewe__registry_find(r, name))
        rc = mewe__error(ctx, MEWE_EEXIST, "%s '%s' is already registered", kind, name);
    if (rc == MEWE_OK) {
        p.name = mewe__strdup(name);
        p.description = mewe__strdup(description ? description : "");
        p.param_names = copy_names(param_names, SIZE_MAX, &oom);
        size_t n_params = 0;
        while (p.param_names && p.param_names[n_params])
            n_params++;
        bool oom_docs = false;
        if (!oom && param_docs && n_params)
            p.param_docs = copy_names(param_docs, n_params, &oom_docs);
        if (!p.name || !p.description || oom || oom_docs)
            rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory registering %s '%s'", kind, name);
    }
    if (rc == MEWE_OK && !MEWE__ARRAY_PUSH(r->items, r->count, r->cap, p))
        rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory registering %s '%s'", kind, name);
    if (rc != MEWE_OK)
        plugin_fini(&p); /* calls destroy: the descriptor's owner hands it over either way */
    return rc;
}

const mewe__plugin *mewe__registry_find(const mewe__registry *r, const char *name)
{
    for (size_t i = 0; i < r->count; i++) {
        if (strcmp(r->items[i].name, name) == 0)
            return &r->items[i];
    }
    return NULL;
}

static bool accepts(const mewe__plugin *p, const char *key)
{
    for (char **k = p->param_names; k && *k; k++) {
        if (strcmp(*k, key) == 0)
            return true;
    }
    return false;
}

void mewe__spec_fini(mewe__spec *spec)
{
    for (size_t i = 0; i < spec->n_params; i++) {
        free(spec->params[i].key);
        free(spec->params[i].value);
    }
    free(spec->params);
    free(spec->text);
    memset(spec, 0, sizeof *spec);
}

static int add_param(mewe_context *ctx, mewe__spec *spec, const char *kind, const char *item,
                     size_t len)
{
    const char *eq = memchr(item, '=', len);
    if (!eq || eq == item)
        return mewe__error(ctx, MEWE_EINVAL, "%s spec '%s': parameter '%.*s' is not key=value",
                           kind, spec->text, (int)len, item);
    mewe__param p = {mewe__printf("%.*s", (int)(eq - item), item),
                     mewe__printf("%.*s", (int)(len - (size_t)(eq - item) - 1), eq + 1)};
    if (!p.key || !p.value ||
        !MEWE__ARRAY_PUSH(spec->params, spec->n_params, spec->params_cap, p)) {
        free(p.key);
        free(p.value);
        return mewe__error(ctx, MEWE_ENOMEM, "out of memory parsing '%s'", spec->text);
    }
    if (!accepts(spec->plugin, p.key))
        return mewe__error(ctx, MEWE_EINVAL, "%s '%s' has no parameter '%s'", kind,
                           spec->plugin->name, p.key);
    /* A second setting is a mistake in the spec, not an override: say so. */
    for (size_t i = 0; i + 1 < spec->n_params; i++) {
        if (strcmp(spec->params[i].key, p.key) == 0)
            return mewe__error(ctx, MEWE_EINVAL, "%s spec '%s': parameter '%s' given twice", kind,
                               spec->text, p.key);
    }
    return MEWE_OK;
}

/* A built-in left out of this build for a missing dependency (lib/diversifiers/meson.build):
 * asking for it deserves more than "unknown". */
static bool missing_builtin(const char *kind, const char *name)
{
#define MEWE_MISSING(n) #n,
    static const char *const missing[] = {MEWE_MISSING_DIVERSIFIERS NULL};
#undef MEWE_MISSING
    for (size_t i = 0; missing[i]; i++) {
        if (strcmp(kind, "diversifier") == 0 && strcmp(name, missing[i]) == 0)
            return true;
    }
    return false;
}

int mewe__spec_parse(mewe_context *ctx, mewe__spec *out, const mewe__registry *r, const char *kind,
                     const char *text)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text)
        return mewe__error(ctx, MEWE_EINVAL, "%s spec is %s", kind, text ? "empty" : "NULL");
    out->text = mewe__strdup(text);
    if (!out->text)
        return mewe__error(ctx, MEWE_ENOMEM, "out of memory parsing '%s'", text);
    const char *colon = strchr(text, ':');
    size_t name_len = colon ? (size_t)(colon - text) : strlen(text);
    char *name = mewe__printf("%.*s", (int)name_len, text);
    if (!name)
        return mewe__error(ctx, MEWE_ENOMEM, "out of memory parsing '%s'", text);
    out->plugin = mewe__registry_find(r, name);
    int rc = MEWE_OK;
    if (!out->plugin && missing_builtin(kind, name))
        rc = mewe__error(ctx, MEWE_ENOTFOUND,
                         "%s '%s' is not built in this libmewe: it needs Z3, which was not "
                         "found when libmewe was configured (install libz3-dev and "
                         "reconfigure)",
                         kind, name);
    else if (!out->plugin)
        rc = mewe__error(ctx, MEWE_ENOTFOUND, "unknown %s '%s'", kind, name);
    free(name);
    for (const char *p = colon ? colon + 1 : NULL; rc == MEWE_OK && p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        rc = add_param(ctx, out, kind, p, len);
        p = comma ? comma + 1 : NULL;
    }
    if (rc != MEWE_OK)
        mewe__spec_fini(out);
    return rc;
}

void mewe__hook_init(mewe_hook *hook, mewe_context *ctx, const mewe__spec *spec, uint64_t seed)
{
    hook->ctx = ctx;
    hook->spec = spec;
    hook->state = seed;
    hook->error = NULL;
}

int mewe__hook_finish(mewe_hook *hook, int rc, const char *what)
{
    if (rc != MEWE_OK) {
        const char *why = hook->error ? hook->error : mewe_status_str(rc);
        rc = mewe__error(hook->ctx, rc, "%s '%s' failed on %s: %s",
                         hook->spec ? "plugin" : "callback",
                         hook->spec ? hook->spec->plugin->name : "?", what, why);
    }
    free(hook->error);
    hook->error = NULL;
    return rc;
}

uint64_t mewe_hook_random(mewe_hook *hook)
{
    if (!hook)
        return 0;
    hook->state += 0x9E3779B97F4A7C15ull;
    return mewe__mix64(hook->state);
}

uint32_t mewe_hook_random_below(mewe_hook *hook, uint32_t bound)
{
    if (bound <= 1)
        return 0;
    /* Lemire's method with rejection: exactly uniform. */
    uint64_t m = (uint64_t)(uint32_t)mewe_hook_random(hook) * bound;
    uint32_t low = (uint32_t)m;
    if (low < bound) {
        uint32_t threshold = (uint32_t)-bound % bound;
        while (low < threshold) {
            m = (uint64_t)(uint32_t)mewe_hook_random(hook) * bound;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

const char *mewe_hook_param(mewe_hook *hook, const char *key)
{
    if (!hook || !key || !hook->spec)
        return NULL;
    for (size_t i = 0; i < hook->spec->n_params; i++) { /* each key once (mewe__spec_parse) */
        if (strcmp(hook->spec->params[i].key, key) == 0)
            return hook->spec->params[i].value;
    }
    return NULL;
}

int mewe_hook_param_double(double *out, mewe_hook *hook, const char *key, double fallback,
                           double min, double max)
{
    if (!hook)
        return MEWE_EINVAL;
    if (!out || !key) {
        mewe_hook_set_error(hook, "mewe_hook_param_double: NULL argument");
        return MEWE_EINVAL;
    }
    const char *text = mewe_hook_param(hook, key);
    *out = fallback;
    if (!text)
        return MEWE_OK;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || errno || isnan(v) || v < min || v > max) {
        char *msg =
            mewe__printf("parameter %s='%s' must be a number in [%g, %g]", key, text, min, max);
        mewe_hook_set_error(hook, msg ? msg : "bad parameter");
        free(msg);
        return MEWE_EINVAL;
    }
    *out = v;
    return MEWE_OK;
}

int mewe_hook_set_error(mewe_hook *hook, const char *message)
{
    if (!hook)
        return MEWE_EINVAL;
    /* A NULL message is the plugin's bug: it becomes the message of the failing call. */
    char *copy = mewe__strdup(message ? message : "mewe_hook_set_error: message is NULL");
    if (!copy)
        return MEWE_ENOMEM;
    free(hook->error);
    hook->error = copy;
    return message ? MEWE_OK : MEWE_EINVAL;
}

mewe_context *mewe_hook_context(mewe_hook *hook)
{
    return hook ? hook->ctx : NULL;
}

int mewe_hook_log(mewe_hook *hook, mewe_log_level level, const char *message)
{
    if (!hook)
        return MEWE_EINVAL;
    if (!message) {
        mewe_hook_set_error(hook, "mewe_hook_log: message is NULL");
        return MEWE_EINVAL;
    }
    if ((int)level < MEWE_LOG_ERROR || level > MEWE_LOG_DEBUG) {
        char *msg = mewe__printf("mewe_hook_log: log level %d out of range (0..3)", (int)level);
        mewe_hook_set_error(hook, msg ? msg : "mewe_hook_log: log level out of range");
        free(msg);
        return MEWE_EINVAL;
    }
    mewe__log(hook->ctx, level, "%s '%s': %s", hook->spec ? "plugin" : "callback",
              hook->spec ? hook->spec->plugin->name : "?", message);
    return MEWE_OK;
}

/* The fields that both descriptor kinds share, for checking and copying. */
typedef struct descriptor {
    unsigned int version, known; /* the descriptor's version, and this libmewe's */
    const char *name, *description;
    const char *const *param_names;
    const char *const *param_docs; /* diversifiers of version 2 on; NULL otherwise */
    mewe__plugin_fn fn;
    bool has_callback;
    void *user_data;
    void (*destroy)(void *user_data);
} descriptor;

/* The shared fields of a mewe_diversifier or a mewe_rng_strategy (their names agree). */
#define DESCRIPTOR(p, known, fn, has_callback)                                      \
    (descriptor)                                                                    \
    {                                                                               \
        (p)->version, (known), (p)->name, (p)->description, (p)->param_names, NULL, \
            (mewe__plugin_fn)fn, (has_callback), (p)->user_data, (p)->destroy       \
    }

/* Checks and copies a descriptor into a registry; `destroy` is called on failure, so that it
 * runs exactly once whatever happens. */
static int add_plugin(mewe_context *ctx, mewe__registry *r, const char *kind, const descriptor *d)
{
    const char *name = d->name ? d->name : "(NULL)";
    int rc = MEWE_OK;
    if (!ctx)
        rc = MEWE_EINVAL;
    else if (d->version < 1 || d->version > d->known)
        rc = mewe__error(ctx, MEWE_EVERSION,
                         "%s '%s': descriptor version %u unknown (this libmewe knows %u)", kind,
                         name, d->version, d->known);
    else if (!d->has_callback)
        rc = mewe__error(ctx, MEWE_EINVAL, "%s '%s' has no callback", kind, name);
    if (rc != MEWE_OK) {
        if (d->destroy)
            d->destroy(d->user_data);
        return rc;
    }
    return mewe__registry_add(ctx, r, kind, d->name, d->description, d->param_names, d->param_docs,
                              d->fn, d->user_data, d->destroy);
}

int mewe_diversifier_register(mewe_context *ctx, const mewe_diversifier *d)
{
    if (!d)
        return ctx ? mewe__error(ctx, MEWE_EINVAL, "diversifier descriptor is NULL") : MEWE_EINVAL;
    /* A version-1 descriptor ends before cost_class: never read past it. */
    mewe_diversifier full = {0};
    memcpy(&full, d, d->version >= 2 ? sizeof full : offsetof(mewe_diversifier, cost_class));
    if (d->version > MEWE_DIVERSIFIER_VERSION)
        full.cost_class = MEWE_COST_UNSPECIFIED; /* refused below for its version */
    descriptor desc = DESCRIPTOR(&full, MEWE_DIVERSIFIER_VERSION, {.diversify = full.diversify},
                                 full.diversify != NULL);
    desc.param_docs = full.param_docs;
    if (ctx && d->version >= 1 && d->version <= MEWE_DIVERSIFIER_VERSION &&
        ((int)full.cost_class < MEWE_COST_UNSPECIFIED || full.cost_class > MEWE_COST_COSTLY)) {
        if (full.destroy)
            full.destroy(full.user_data);
        return mewe__error(ctx, MEWE_EINVAL,
                           "diversifier '%s': cost_class %d is not a mewe_cost_class",
                           full.name ? full.name : "(NULL)", (int)full.cost_class);
    }
    int rc = add_plugin(ctx, ctx ? &ctx->diversifiers : NULL, "diversifier", &desc);
    if (rc != MEWE_OK)
        return rc;
    mewe__plugin *p = &ctx->diversifiers.items[ctx->diversifiers.count - 1];
    p->cost_class = full.cost_class;
    p->desc = (mewe_diversifier){
        .version = MEWE_DIVERSIFIER_VERSION,
        .name = p->name,
        .description = p->description,
        .param_names = (const char *const *)p->param_names,
        .diversify = p->fn.diversify,
        .user_data = p->user_data,
        .destroy = p->destroy,
        .cost_class = p->cost_class,
        .param_docs = (const char *const *)p->param_docs,
    };
    return MEWE_OK;
}

int mewe_rng_strategy_register(mewe_context *ctx, const mewe_rng_strategy *s)
{
    if (!s)
        return ctx ? mewe__error(ctx, MEWE_EINVAL, "RNG strategy descriptor is NULL") : MEWE_EINVAL;
    descriptor desc =
        DESCRIPTOR(s, MEWE_RNG_STRATEGY_VERSION, {.build = s->build}, s->build != NULL);
    return add_plugin(ctx, ctx ? &ctx->strategies : NULL, "RNG strategy", &desc);
}

/* The context is const for the caller, but its message is the error state that every
 * failing call sets, readers included. */
static int registry_at(const char **out_name, const char **out_description, const mewe_context *ctx,
                       const mewe__registry *r, size_t index, const char *fn, const char *kind)
{
    mewe_context *c = (mewe_context *)ctx;
    if (!out_name)
        return mewe__error(c, MEWE_EINVAL, "%s: out_name is NULL", fn);
    if (index >= r->count)
        return mewe__error(c, MEWE_EINVAL, "%s: index %zu out of range (%zu %s registered)", fn,
                           index, r->count, kind);
    *out_name = r->items[index].name;
    if (out_description)
        *out_description = r->items[index].description;
    return MEWE_OK;
}

size_t mewe_diversifier_count(const mewe_context *ctx)
{
    return ctx ? ctx->diversifiers.count : 0;
}

int mewe_diversifier_at(const char **out_name, const char **out_description,
                        const mewe_context *ctx, size_t index)
{
    return ctx ? registry_at(out_name, out_description, ctx, &ctx->diversifiers, index,
                             "mewe_diversifier_at", "diversifiers")
               : MEWE_EINVAL;
}

int mewe_diversifier_get(const mewe_diversifier **out, const mewe_context *ctx, size_t index)
{
    if (!ctx)
        return MEWE_EINVAL;
    const char *name;
    int rc = registry_at(&name, NULL, ctx, &ctx->diversifiers, index, "mewe_diversifier_get",
                         "diversifiers");
    if (rc == MEWE_OK && !out)
        rc = mewe__error((mewe_context *)ctx, MEWE_EINVAL, "mewe_diversifier_get: out is NULL");
    if (rc == MEWE_OK)
        *out = &ctx->diversifiers.items[index].desc;
    return rc;
}

const char *mewe_cost_class_str(mewe_cost_class cost_class)
{
    switch (cost_class) {
    case MEWE_COST_UNSPECIFIED: return "unspecified";
    case MEWE_COST_FREE: return "free";
    case MEWE_COST_CHEAP: return "cheap";
    case MEWE_COST_COSTLY: return "costly";
    }
    return "?";
}

size_t mewe_rng_strategy_count(const mewe_context *ctx)
{
    return ctx ? ctx->strategies.count : 0;
}

int mewe_rng_strategy_at(const char **out_name, const char **out_description,
                         const mewe_context *ctx, size_t index)
{
    return ctx ? registry_at(out_name, out_description, ctx, &ctx->strategies, index,
                             "mewe_rng_strategy_at", "RNG strategies")
               : MEWE_EINVAL;
}
