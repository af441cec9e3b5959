/* Separate contexts on separate threads at once (context.h's promise): four threads run the
 * whole pipeline (load, generate, link, emit, report) at the same time, each on a context of
 * its own, two of them with the seed of another. Every thread must get the bytes and the
 * report that the same seed gives on one thread. The build also compiles this program and a
 * copy of the library with ThreadSanitizer (test "threads-tsan"), which fails the run on any
 * data race between them. A plain program, not a Check suite: Check forks every test, and
 * the threads must share one process. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mewe/mewe.h>

#define THREADS 4
#define ROUNDS  2

static const char program_ll[] =
    "target triple = \"wasm32-unknown-wasi\"\n"
    "define i32 @mix(i32 %a, i32 %b) {\n"
    "entry:\n  %s = add i32 %a, %b\n  %x = xor i32 %s, %a\n  %c = icmp sgt i32 %x, 10\n"
    "  br i1 %c, label %big, label %small\n"
    "big:\n  %m = sub i32 %x, %b\n  %o = or i32 %m, 3\n  br label %done\n"
    "small:\n  %n = and i32 %x, 255\n  %p = add i32 %n, %a\n  br label %done\n"
    "done:\n  %r = phi i32 [ %o, %big ], [ %p, %small ]\n  %q = mul i32 %r, 7\n"
    "  ret i32 %q\n}\n"
    "define i32 @fold(i32 %n) {\n"
    "entry:\n  br label %loop\n"
    "loop:\n  %i = phi i32 [ 0, %entry ], [ %i1, %loop ]\n"
    "  %acc = phi i32 [ 1, %entry ], [ %acc1, %loop ]\n"
    "  %v = call i32 @mix(i32 %acc, i32 %i)\n  %acc1 = xor i32 %v, %i\n"
    "  %i1 = add i32 %i, 1\n  %more = icmp slt i32 %i1, %n\n  br i1 %more, label %loop, label "
    "%end\n"
    "end:\n  ret i32 %acc1\n}\n";

typedef struct job {
    uint64_t seed;
    int rc;
    char what[64];
    char message[512];
    void *wasm;
    size_t wasm_size;
    char *report;
} job;

static int step(job *j, mewe_context *ctx, const char *what, int rc)
{
    if (rc != MEWE_OK && j->rc == MEWE_OK) {
        j->rc = rc;
        snprintf(j->what, sizeof j->what, "%s", what);
        snprintf(j->message, sizeof j->message, "%s", mewe_context_errmsg(ctx));
    }
    return rc;
}

static void *pipeline(void *arg)
{
    job *j = arg;
    mewe_context *ctx = NULL;
    mewe_module *m = NULL;
    int rc = mewe_context_new(&ctx);
    if (rc != MEWE_OK) {
        j->rc = rc;
        snprintf(j->what, sizeof j->what, "mewe_context_new");
        return NULL;
    }
    static const char *const exports[] = {"fold"};
    mewe_emit_options eo = MEWE_EMIT_OPTIONS_INIT;
    eo.kind = MEWE_EMIT_REACTOR;
    eo.exports = exports;
    eo.export_count = 1;
    rc = step(j, ctx, "seed", mewe_context_set_seed(ctx, j->seed));
    if (rc == MEWE_OK)
        rc = step(j, ctx, "load",
                  mewe_module_load_memory(&m, ctx, program_ll, strlen(program_ll), "program"));
    if (rc == MEWE_OK)
        rc = step(j, ctx, "generate", mewe_generate_variants(m, NULL));
    if (rc == MEWE_OK)
        rc = step(j, ctx, "link", mewe_link_multivariant(m, NULL));
    if (rc == MEWE_OK)
        rc = step(j, ctx, "emit", mewe_emit_wasm_memory(&j->wasm, &j->wasm_size, m, &eo));
    if (rc == MEWE_OK)
        step(j, ctx, "report", mewe_report_json_wasm(&j->report, NULL, m, j->wasm, j->wasm_size));
    mewe_context_free(ctx); /* frees the module too */
    return NULL;
}

static bool check(const job *j, const job *ref, int round, int t)
{
    if (j->rc != MEWE_OK) {
        fprintf(stderr, "round %d, thread %d (seed %llu): %s failed: %s: %s\n", round, t,
                (unsigned long long)j->seed, j->what, mewe_status_str(j->rc), j->message);
        return false;
    }
    if (j->wasm_size != ref->wasm_size || memcmp(j->wasm, ref->wasm, j->wasm_size) != 0 ||
        strcmp(j->report, ref->report) != 0) {
        fprintf(stderr, "round %d, thread %d (seed %llu): not what one thread makes\n", round, t,
                (unsigned long long)j->seed);
        return false;
    }
    return true;
}

static void job_free(job *j)
{
    mewe_free(j->wasm);
    mewe_free(j->report);
}

int main(void)
{
    static const uint64_t seeds[THREADS] = {1, 2, 1, 3};
    job refs[THREADS] = {{0}};
    bool ok = true;
    for (int t = 0; t < THREADS; t++) {
        refs[t].seed = seeds[t];
        pipeline(&refs[t]);
        ok &= check(&refs[t], &refs[t], 0, t);
    }
    ok &= check(&refs[2], &refs[0], 0, 2); /* the same seed, the same bytes */
    if (!ok)
        return 1;
    if (refs[0].wasm_size == refs[1].wasm_size &&
        memcmp(refs[0].wasm, refs[1].wasm, refs[0].wasm_size) == 0) {
        fprintf(stderr, "seeds 1 and 2 made the same wasm: the check would see nothing\n");
        return 1;
    }
    if (!strstr(refs[0].report, "\"distinct_in_wasm\"")) {
        fprintf(stderr, "the report has no wasm section:\n%s\n", refs[0].report);
        return 1;
    }
    for (int round = 1; round <= ROUNDS && ok; round++) {
        job jobs[THREADS] = {{0}};
        pthread_t threads[THREADS];
        int started = 0;
        for (int t = 0; t < THREADS; t++) {
            jobs[t].seed = seeds[t];
            if (pthread_create(&threads[t], NULL, pipeline, &jobs[t]) != 0) {
                fprintf(stderr, "cannot start thread %d\n", t);
                ok = false;
                break;
            }
            started++;
        }
        for (int t = 0; t < started; t++)
            pthread_join(threads[t], NULL);
        for (int t = 0; t < started; t++) {
            ok &= check(&jobs[t], &refs[t], round, t);
            job_free(&jobs[t]);
        }
    }
    for (int t = 0; t < THREADS; t++)
        job_free(&refs[t]);
    printf("%d threads x %d rounds: %s\n", THREADS, ROUNDS,
           ok ? "same output as one thread" : "FAILED");
    return ok ? 0 : 1;
}
