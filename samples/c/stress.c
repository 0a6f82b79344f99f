/*
 * stress.c: libaotvit under concurrency. 8 pthreads (foreign threads: the runtime attaches them itself).
 *
 *   stress <image> [calls_per_thread=12]
 *
 * Phase 1: every thread runs MobileViT on ONE shared handle (calls are serialised inside).
 * Phase 2: every thread runs on its OWN handle (parallel).
 * Phase 3: misuse from all threads at once: NULL/garbage/destroyed handles, short buffers, truncated bytes;
 *          each thread checks that aotvit_last_error() shows its own message (thread-local).
 * Every result must be bit-identical to a reference computed before the threads start.
 * Exit status 0 = all good.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aotvit.h"

#define THREADS 8
#define CLASSES 1000

static const char* g_image;
static int g_calls = 12;
static float g_reference[CLASSES];
static aotvit_model* g_shared;
static aotvit_model* g_destroyed;
static unsigned char* g_png;
static size_t g_png_size;

typedef struct {
    int index;
    aotvit_model* model; /* the handle this thread runs on */
    int failures;
} job;

static void fail(job* j, const char* what, aotvit_status s) {
    fprintf(stderr, "thread %d: %s: status %d: %s\n", j->index, what, (int)s, aotvit_last_error());
    j->failures++;
}

static void* run(void* arg) {
    job* j = arg;
    float logits[CLASSES];
    for (int c = 0; c < g_calls; c++) {
        memset(logits, 0xff, sizeof logits);
        /* Alternate between the file and the in-memory entry points: both must give the same bits. */
        aotvit_status s = (c & 1) ? aotvit_run_image_bytes(j->model, g_png, g_png_size, logits, CLASSES, NULL, 0)
                                  : aotvit_run_image_file(j->model, g_image, logits, CLASSES, NULL, 0);
        if (s != AOTVIT_OK) { fail(j, "run", s); continue; }
        if (memcmp(logits, g_reference, sizeof logits) != 0) { fprintf(stderr, "thread %d call %d: logits differ\n", j->index, c); j->failures++; }
    }
    return NULL;
}

static void expect(job* j, aotvit_status got, aotvit_status want, const char* needle, const char* what) {
    const char* message = aotvit_last_error();
    if (got != want || strstr(message, needle) == NULL) {
        if (j->failures++ >= 3) return; /* print the first few only */
        fprintf(stderr, "thread %d: %s: status %d (want %d), message \"%s\" (want \"%s\")\n", j->index, what, (int)got, (int)want, message, needle);
    }
}

static void* misuse(void* arg) {
    job* j = arg;
    float logits[CLASSES];
    char needle[64];
    for (int c = 0; c < g_calls * 10; c++) {
        expect(j, aotvit_run_image_file(NULL, g_image, logits, CLASSES, NULL, 0), AOTVIT_NULL_POINTER, "model is NULL", "NULL handle");
        expect(j, aotvit_run_image_file((aotvit_model*)(uintptr_t)(0x1000 + 16 * j->index), g_image, logits, CLASSES, NULL, 0),
               AOTVIT_INVALID_ARGUMENT, "not a live", "garbage handle");
        expect(j, aotvit_run_image_file(g_destroyed, g_image, logits, CLASSES, NULL, 0), AOTVIT_INVALID_ARGUMENT, "not a live", "destroyed handle");
        /* A per-thread message: the buffer length carries the thread index, so a message from another thread is caught. */
        size_t short_len = 10 + (size_t)j->index;
        snprintf(needle, sizeof needle, "out0_len is %zu;", short_len);
        expect(j, aotvit_run_image_file(g_shared, g_image, logits, short_len, NULL, 0), AOTVIT_BUFFER_TOO_SMALL, needle, "short buffer");
        expect(j, aotvit_run_image_bytes(g_shared, g_png, g_png_size / 2 + (size_t)j->index, logits, CLASSES, NULL, 0),
               AOTVIT_BAD_IMAGE, "truncated", "truncated PNG");
        expect(j, aotvit_model_destroy((aotvit_model*)(uintptr_t)0xdeadbeef0ULL), AOTVIT_INVALID_ARGUMENT, "not a live", "destroy garbage");
    }
    return NULL;
}

static int phase(const char* name, void* (*body)(void*), aotvit_model** models) {
    pthread_t threads[THREADS];
    job jobs[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (job){ .index = t, .model = models[t], .failures = 0 };
        pthread_create(&threads[t], NULL, body, &jobs[t]);
    }
    int failures = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        failures += jobs[t].failures;
    }
    printf("%-40s %s (%d failures)\n", name, failures ? "FAILED" : "ok", failures);
    return failures;
}

int main(int argc, char** argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s <image.png> [calls_per_thread]\n", argv[0]); return 2; }
    g_image = argv[1];
    if (argc > 2) g_calls = atoi(argv[2]);

    FILE* f = fopen(g_image, "rb");
    if (!f) { perror(g_image); return 1; }
    fseek(f, 0, SEEK_END);
    g_png_size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    g_png = malloc(g_png_size);
    if (fread(g_png, 1, g_png_size, f) != g_png_size) { fprintf(stderr, "short read\n"); return 1; }
    fclose(f);

    /* threads = 1 per handle: the pthreads provide the parallelism. */
    if (aotvit_model_open("mobilevit-small", NULL, 1, &g_shared) != AOTVIT_OK) { fprintf(stderr, "%s\n", aotvit_last_error()); return 1; }
    if (aotvit_run_image_file(g_shared, g_image, g_reference, CLASSES, NULL, 0) != AOTVIT_OK) { fprintf(stderr, "%s\n", aotvit_last_error()); return 1; }
    if (aotvit_model_open("mobilevit-small", NULL, 1, &g_destroyed) != AOTVIT_OK || aotvit_model_destroy(g_destroyed) != AOTVIT_OK) return 1;

    int failures = 0;
    aotvit_model* shared[THREADS];
    aotvit_model* own[THREADS];
    for (int t = 0; t < THREADS; t++) {
        shared[t] = g_shared;
        if (aotvit_model_open("mobilevit-small", NULL, 1, &own[t]) != AOTVIT_OK) { fprintf(stderr, "%s\n", aotvit_last_error()); return 1; }
    }
    failures += phase("8 threads, one shared handle", run, shared);
    failures += phase("8 threads, one handle each", run, own);
    failures += phase("8 threads, misuse + thread-local errors", misuse, shared);

    for (int t = 0; t < THREADS; t++) aotvit_model_destroy(own[t]);
    aotvit_model_destroy(g_shared);
    if (aotvit_model_destroy(g_shared) != AOTVIT_INVALID_ARGUMENT) { fprintf(stderr, "double destroy was accepted\n"); failures++; }
    free(g_png);
    printf("%d threads x %d calls: %s\n", THREADS, g_calls, failures ? "FAILED" : "all results bit-identical");
    return failures ? 1 : 0;
}
