/* Per-file builds (objects.h): what a multivariant object says about itself, and linking
 * such objects into one program with one report.
 *
 * The note is JSON in a custom section of the object, which wasm-ld ignores for linking:
 *   {"libmewe": "0.2.0", "settings": {link settings} or null, "report": {the report}}
 * Objects made by other libmewe versions or with other link settings (dispatch kind,
 * re-randomization, RNG strategy, tracing, budget) are refused at link: their dispatchers
 * would not agree (a traced object numbers its dispatchers from 0, as every object does;
 * one RNG strategy per program). An object without a note (clang's, a library's) links as
 * it is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fileio.h"
#include "ir/cost.h"
#include "util/json.h"
#include "util/strbuf.h"
#include "wasm/objects.h"

static size_t uleb_put(unsigned char *out, size_t v)
{
    size_t n = 0;
    do {
        unsigned char b = v & 0x7f;
        v >>= 7;
        out[n++] = b | (v ? 0x80 : 0);
    } while (v);
    return n;
}

static int uleb_get(const unsigned char *p, size_t size, size_t *pos, size_t *out)
{
    size_t v = 0;
    for (unsigned shift = 0; shift < 64 && *pos < size; shift += 7) {
        unsigned char b = p[(*pos)++];
        v |= (size_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

bool mewe__wasm_custom_is(unsigned id, const unsigned char *name, size_t name_len, const char *want)
{
    return id == 0 && name_len == strlen(want) && memcmp(name, want, name_len) == 0;
}

int mewe__wasm_sections(const unsigned char *wasm, size_t size, mewe__section_fn fn, void *user)
{
    static const unsigned char magic[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    if (size < 8 || memcmp(wasm, magic, 8) != 0)
        return -1;
    size_t pos = 8;
    while (pos < size) {
        size_t start = pos, len, name_len = 0;
        unsigned id = wasm[pos++];
        if (uleb_get(wasm, size, &pos, &len) != 0 || len > size - pos)
            return -1;
        size_t end = pos + len, body = pos;
        const unsigned char *name = NULL;
        if (id == 0) {
            if (uleb_get(wasm, end, &body, &name_len) != 0 || name_len > end - body)
                return -1;
            name = wasm + body;
            body += name_len;
        }
        int r = fn(id, name, name_len, start, end, wasm + body, end - body, user);
        if (r)
            return r;
        pos = end;
    }
    return 0;
}

typedef struct find {
    const char *name;
    const unsigned char *payload;
    size_t size;
} find;

static int find_one(unsigned id, const unsigned char *name, size_t name_len, size_t start,
                    size_t end, const unsigned char *payload, size_t payload_size, void *user)
{
    (void)start;
    (void)end;
    find *f = user;
    if (!mewe__wasm_custom_is(id, name, name_len, f->name))
        return 0;
    f->payload = payload;
    f->size = payload_size;
    return 1;
}

int mewe__wasm_custom_section(const unsigned char *wasm, size_t size, const char *name,
                              const unsigned char **payload, size_t *payload_size)
{
    find f = {name, NULL, 0};
    int r = mewe__wasm_sections(wasm, size, find_one, &f);
    if (r < 0)
        return -1;
    *payload = f.payload;
    *payload_size = f.size;
    return r == 1;
}

/* Appends text as a JSON string literal (util/json.h escapes it). */
static void add_json_str(mewe__strbuf *s, const char *text)
{
    mewe__json j = {0};
    mewe__json_string(&j, NULL, text);
    size_t len;
    char *lit = mewe__json_take(&j, &len);
    if (!lit) {
        s->failed = true;
        return;
    }
    mewe__strbuf_append(s, lit, len && lit[len - 1] == '\n' ? len - 1 : len);
    free(lit);
}

/* The link settings that objects must share: what mewe_link_multivariant was asked, not
 * what it found in this module (its dispatcher count, its profile's match). */
static char *settings_of(const mewe_module *m)
{
    const mewe__link_record *r = m->link;
    if (!m->multivariant || !r)
        return NULL;
    mewe__json j = {0};
    mewe__json_object(&j, NULL, false);
    mewe__json_string(&j, "dispatch", mewe__dispatch_name(r->dispatch));
    mewe__json_string(&j, "granularity", mewe__granularity_name(r->granularity));
    mewe__json_string(&j, "rng", r->rng ? r->rng : "");
    mewe__json_bool(&j, "trace", r->trace);
    mewe__json_real(&j, "max_overhead", r->max_overhead, 4);
    mewe__json_uint(&j, "period", r->period);
    mewe__json_uint(&j, "inline_limit", r->inline_limit);
    mewe__json_end(&j);
    size_t len;
    char *text = mewe__json_take(&j, &len);
    if (text && len && text[len - 1] == '\n')
        text[len - 1] = '\0';
    return text;
}

int mewe__object_note_add(const mewe_module *m, void **wasm, size_t *size)
{
    char *report = NULL;
    size_t report_len = 0;
    int rc = mewe_report_json(&report, &report_len, m);
    char *settings = rc == MEWE_OK ? settings_of(m) : NULL;
    mewe__strbuf s = {0};
    if (rc == MEWE_OK) {
        mewe__strbuf_add(&s, "{\"libmewe\": ");
        add_json_str(&s, mewe_version());
        mewe__strbuf_add(&s, ", \"settings\": %s, \"report\": %s}", settings ? settings : "null",
                         report);
    }
    free(report);
    free(settings);
    size_t note_len = 0;
    char *note = mewe__strbuf_take(&s, &note_len);
    unsigned char head[32];
    size_t name_len = strlen(MEWE__OBJECT_SECTION);
    unsigned char name_uleb[10];
    size_t nu = uleb_put(name_uleb, name_len);
    size_t h = 0;
    head[h++] = 0;
    h += uleb_put(head + h, nu + name_len + note_len);
    unsigned char *grown = note ? realloc(*wasm, *size + h + nu + name_len + note_len) : NULL;
    if (!grown) {
        free(note);
        free(*wasm);
        *wasm = NULL;
        *size = 0;
        return rc != MEWE_OK
                   ? rc
                   : mewe__error(m->ctx, MEWE_ENOMEM, "out of memory emitting '%s'", m->name);
    }
    unsigned char *w = grown + *size;
    memcpy(w, head, h);
    memcpy(w + h, name_uleb, nu);
    memcpy(w + h + nu, MEWE__OBJECT_SECTION, name_len);
    memcpy(w + h + nu + name_len, note, note_len);
    *size += h + nu + name_len + note_len;
    *wasm = grown;
    free(note);
    return MEWE_OK;
}

/* ------------------------------------------------------------------ reading notes */

/* The end of the JSON value starting at p (an object, array, string or scalar), or NULL. */
static const char *value_end(const char *p, const char *end)
{
    if (p >= end)
        return NULL;
    if (*p == '"') {
        for (const char *q = p + 1; q < end; q++) {
            if (*q == '\\')
                q++;
            else if (*q == '"')
                return q + 1;
        }
        return NULL;
    }
    if (*p == '{' || *p == '[') {
        int depth = 0;
        bool str = false;
        for (const char *q = p; q < end; q++) {
            if (str) {
                if (*q == '\\')
                    q++;
                else if (*q == '"')
                    str = false;
            } else if (*q == '"')
                str = true;
            else if (*q == '{' || *q == '[')
                depth++;
            else if ((*q == '}' || *q == ']') && --depth == 0)
                return q + 1;
        }
        return NULL;
    }
    const char *q = p;
    while (q < end && *q != ',' && *q != '}' && *q != ']' && *q != '\n' && *q != ' ')
        q++;
    return q;
}

/* The text of member `key` of the JSON object text [p, end), or NULL. Only the members of
 * the outermost object are looked at. */
static const char *member(const char *p, const char *end, const char *key, const char **vend)
{
    size_t klen = strlen(key);
    const char *q = memchr(p, '{', (size_t)(end - p));
    if (!q)
        return NULL;
    q++;
    while (q < end) {
        while (q < end && (*q == ' ' || *q == '\n' || *q == ','))
            q++;
        if (q >= end || *q != '"')
            return NULL;
        const char *kend = value_end(q, end);
        if (!kend)
            return NULL;
        bool hit = (size_t)(kend - q) == klen + 2 && memcmp(q + 1, key, klen) == 0;
        q = kend;
        while (q < end && (*q == ' ' || *q == ':' || *q == '\n'))
            q++;
        const char *ve = value_end(q, end);
        if (!ve)
            return NULL;
        if (hit) {
            *vend = ve;
            return q;
        }
        q = ve;
    }
    return NULL;
}

typedef struct object_in {
    char *data;
    size_t size;
    const char *note, *note_end; /* NULL when the object has none */
    const char *settings, *settings_end;
    const char *report, *report_end;
} object_in;

static int read_object(mewe_context *ctx, const char *path, object_in *o)
{
    memset(o, 0, sizeof *o);
    int rc = mewe__file_read(ctx, path, &o->data, &o->size);
    if (rc != MEWE_OK)
        return rc;
    const unsigned char *w = (const unsigned char *)o->data;
    const unsigned char *payload;
    size_t psize;
    int linking = mewe__wasm_custom_section(w, o->size, "linking", &payload, &psize);
    if (linking < 0)
        return mewe__error(ctx, MEWE_EPARSE, "'%s' is not a WebAssembly object", path);
    if (linking == 0)
        return mewe__error(ctx, MEWE_EPARSE,
                           "'%s' is not a relocatable WebAssembly object (it has no linking "
                           "section): give the objects of mewe -o FILE.o or mewe-cc -c",
                           path);
    if (mewe__wasm_custom_section(w, o->size, MEWE__OBJECT_SECTION, &payload, &psize) != 1)
        return MEWE_OK;
    o->note = (const char *)payload;
    o->note_end = o->note + psize;
    const char *version_end;
    const char *version = member(o->note, o->note_end, "libmewe", &version_end);
    o->settings = member(o->note, o->note_end, "settings", &o->settings_end);
    o->report = member(o->note, o->note_end, "report", &o->report_end);
    if (!version || !o->settings || !o->report)
        return mewe__error(ctx, MEWE_EPARSE, "'%s': its %s section is malformed", path,
                           MEWE__OBJECT_SECTION);
    const char *mine = mewe_version();
    if ((size_t)(version_end - version) != strlen(mine) + 2 ||
        memcmp(version + 1, mine, strlen(mine)) != 0)
        return mewe__error(ctx, MEWE_ELINK,
                           "'%s' was made by libmewe %.*s, this is libmewe %s: rebuild it "
                           "with this version (objects of one program come from one libmewe)",
                           path, (int)(version_end - version - 2), version + 1, mine);
    return MEWE_OK;
}

/* ------------------------------------------------------------------ the merged report */

typedef struct total {
    char key[48];
    double sum;
    bool boolean, any;
} total;

static void totals_add(total *t, size_t *n, size_t max, const char *p, const char *end)
{
    const char *q = memchr(p, '{', (size_t)(end - p));
    for (q = q ? q + 1 : end; q < end;) {
        while (q < end && (*q == ' ' || *q == '\n' || *q == ','))
            q++;
        if (q >= end || *q != '"')
            return;
        const char *kend = value_end(q, end);
        if (!kend || kend - q - 2 >= (long)sizeof t->key)
            return;
        char key[48];
        memcpy(key, q + 1, (size_t)(kend - q - 2));
        key[kend - q - 2] = '\0';
        q = kend;
        while (q < end && (*q == ' ' || *q == ':'))
            q++;
        const char *ve = value_end(q, end);
        if (!ve)
            return;
        size_t k = 0;
        while (k < *n && strcmp(t[k].key, key) != 0)
            k++;
        if (k == *n && *n < max) {
            memset(&t[k], 0, sizeof t[k]);
            memcpy(t[k].key, key, sizeof key);
            ++*n;
        }
        if (k < *n) {
            if (*q == 't' || *q == 'f') {
                t[k].boolean = true;
                t[k].any |= *q == 't';
            } else
                t[k].sum += strtod(q, NULL);
        }
        q = ve;
    }
}

static double total_of(const total *t, size_t n, const char *key)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(t[k].key, key) == 0)
            return t[k].sum;
    return 0;
}

static char *merged_report(const char *const *paths, const object_in *objs, size_t count,
                           size_t *len)
{
    mewe__strbuf s = {0};
    total t[64];
    size_t nt = 0;
    const object_in *first = NULL;
    mewe__strbuf_add(&s, "{\n  \"objects\": [");
    for (size_t i = 0; i < count; i++) {
        mewe__strbuf_add(&s, "%s\n    {\"object\": ", i ? "," : "");
        add_json_str(&s, paths[i]);
        mewe__strbuf_add(&s, ", \"multivariant\": %s", objs[i].note ? "true" : "false");
        const char *mend,
            *module =
                objs[i].report ? member(objs[i].report, objs[i].report_end, "module", &mend) : NULL;
        if (module)
            mewe__strbuf_add(&s, ", \"module\": %.*s", (int)(mend - module), module);
        mewe__strbuf_add(&s, "}");
    }
    mewe__strbuf_add(&s, "\n  ],\n  \"functions\": [");
    bool any = false;
    for (size_t i = 0; i < count; i++) {
        if (!objs[i].report)
            continue;
        /* The link settings are those of the multivariant objects (they agree); an object
         * emitted without dispatchers has none. */
        if (!first && objs[i].settings_end - objs[i].settings > 4)
            first = &objs[i];
        const char *fend, *fns = member(objs[i].report, objs[i].report_end, "functions", &fend);
        /* the array's entries, without its brackets */
        if (fns && fend - fns > 2) {
            const char *a = fns + 1, *b = fend - 1;
            while (a < b && (*a == '\n' || *a == ' '))
                a++;
            while (b > a && (b[-1] == '\n' || b[-1] == ' '))
                b--;
            if (b > a) {
                mewe__strbuf_add(&s, "%s\n    %.*s", any ? "," : "", (int)(b - a), a);
                any = true;
            }
        }
        const char *tend, *tot = member(objs[i].report, objs[i].report_end, "totals", &tend);
        if (tot)
            totals_add(t, &nt, sizeof t / sizeof *t, tot, tend);
    }
    mewe__strbuf_add(&s, "\n  ],\n  \"totals\": {");
    for (size_t k = 0; k < nt; k++) {
        mewe__strbuf_add(&s, "%s", k ? ", " : "");
        add_json_str(&s, t[k].key);
        if (t[k].boolean)
            mewe__strbuf_add(&s, ": %s", t[k].any ? "true" : "false");
        else if (strcmp(t[k].key, "coverage") == 0) {
            double e = total_of(t, nt, "eligible");
            mewe__strbuf_add(&s, ": %.4f", e > 0 ? total_of(t, nt, "diversified") / e : 0.0);
        } else if (t[k].sum == (double)(long long)t[k].sum)
            mewe__strbuf_add(&s, ": %lld", (long long)t[k].sum);
        else
            mewe__strbuf_add(&s, ": %.4f", t[k].sum);
    }
    mewe__strbuf_add(&s, "}");
    if (first)
        mewe__strbuf_add(&s, ",\n  \"link\": %.*s", (int)(first->settings_end - first->settings),
                         first->settings);
    mewe__strbuf_add(&s, "\n}\n");
    return mewe__strbuf_take(&s, len);
}

/* ------------------------------------------------------------------ linking */

typedef struct strip {
    unsigned char *out;
    size_t len;
    const unsigned char *in;
} strip;

static int keep_section(unsigned id, const unsigned char *name, size_t name_len, size_t start,
                        size_t end, const unsigned char *payload, size_t payload_size, void *user)
{
    (void)payload;
    (void)payload_size;
    strip *s = user;
    if (mewe__wasm_custom_is(id, name, name_len, MEWE__OBJECT_SECTION))
        return 0;
    memcpy(s->out + s->len, s->in + start, end - start);
    s->len += end - start;
    return 0;
}

int mewe_emit_link_objects(char **out_report, size_t *out_report_size, mewe_context *ctx,
                           const char *const *objects, size_t count, const mewe_emit_options *opts,
                           const char *path)
{
    if (!ctx)
        return MEWE_EINVAL;
    if (out_report)
        *out_report = NULL;
    if (!objects || count == 0 || !path)
        return mewe__error(ctx, MEWE_EINVAL, "mewe_emit_link_objects: %s",
                           !path ? "path is NULL" : "no objects");
    int rc = mewe__check_strings(ctx, objects, count, "mewe_emit_link_objects: objects");
    mewe_emit_options o;
    if (rc == MEWE_OK)
        rc = mewe__emit_options_get(ctx, opts, &o);
    if (rc != MEWE_OK)
        return rc;
    if (o.kind == MEWE_EMIT_OBJECT)
        return mewe__error(ctx, MEWE_EINVAL,
                           "mewe_emit_link_objects: kind object: objects link into a command "
                           "or a reactor (join objects with wasm-ld -r)");
    object_in *objs = calloc(count, sizeof *objs);
    if (!objs)
        return mewe__error(ctx, MEWE_ENOMEM, "out of memory linking '%s'", path);
    const object_in *ref = NULL;
    size_t ref_i = 0;
    for (size_t i = 0; rc == MEWE_OK && i < count; i++) {
        rc = read_object(ctx, objects[i], &objs[i]);
        if (rc != MEWE_OK || !objs[i].note)
            continue;
        /* Settings of multivariant objects must agree; null ones (emitted without
         * dispatchers) agree with any. */
        size_t len = (size_t)(objs[i].settings_end - objs[i].settings);
        if (len == 4 && memcmp(objs[i].settings, "null", 4) == 0)
            continue;
        if (!ref) {
            ref = &objs[i];
            ref_i = i;
            continue;
        }
        size_t rlen = (size_t)(ref->settings_end - ref->settings);
        if (rlen != len || memcmp(ref->settings, objs[i].settings, len) != 0)
            rc = mewe__error(ctx, MEWE_ELINK,
                             "'%s' was made with other settings than '%s' (%.*s, not %.*s): "
                             "build every object of a program with the same dispatch, "
                             "granularity, RNG, tracing and budget options",
                             objects[i], objects[ref_i], (int)len, objs[i].settings, (int)rlen,
                             ref->settings);
    }
    char *dir = NULL, *wasm_path = NULL, *data = NULL;
    size_t size = 0;
    if (rc == MEWE_OK)
        rc = mewe__tempdir_make(ctx, &dir);
    if (rc == MEWE_OK) {
        wasm_path = mewe__printf("%s/linked.wasm", dir);
        rc = wasm_path ? mewe__wasm_ld(ctx, path, &o, dir, (char *const *)objects, count, wasm_path)
                       : mewe__error(ctx, MEWE_ENOMEM, "out of memory linking '%s'", path);
    }
    if (rc == MEWE_OK)
        rc = mewe__file_read(ctx, wasm_path, &data, &size);
    /* wasm-ld keeps custom sections it does not know: the notes are for the link only. */
    strip st = {NULL, 0, (const unsigned char *)data};
    if (rc == MEWE_OK) {
        st.out = malloc(size ? size : 1);
        if (!st.out)
            rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory linking '%s'", path);
        else if (size < 8 || (memcpy(st.out, st.in, 8), st.len = 8,
                              mewe__wasm_sections(st.in, size, keep_section, &st) < 0))
            rc = mewe__error(ctx, MEWE_ELINK, "wasm-ld wrote a malformed module for '%s'", path);
    }
    if (rc == MEWE_OK && out_report) {
        *out_report = merged_report(objects, objs, count, out_report_size);
        if (!*out_report)
            rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory merging the reports of '%s'", path);
    }
    if (rc == MEWE_OK)
        rc = mewe__file_write_atomic(ctx, path, st.out, st.len);
    if (rc != MEWE_OK && out_report) {
        free(*out_report);
        *out_report = NULL;
    }
    free(st.out);
    free(data);
    free(wasm_path);
    if (dir)
        mewe__tempdir_remove(dir);
    free(dir);
    for (size_t i = 0; i < count; i++)
        free(objs[i].data);
    free(objs);
    return rc;
}
