/*
 * coldstart.c: how long until the first result, loading libaotvit with dlopen.
 *
 *   coldstart <libaotvit.so> <model name> <checkpoint.safetensors | -> <image> [warm runs=5]
 *
 * Prints the time of dlopen, aotvit_model_open, the first run, the best of the warm runs (decode + preprocess +
 * network, default thread count), and the peak RSS.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "aotvit.h"

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

typedef aotvit_status (*open_fn)(const char*, const char*, int, aotvit_model**);
typedef aotvit_status (*run_fn)(aotvit_model*, const char*, float*, size_t, float*, size_t);
typedef aotvit_status (*info_fn)(const aotvit_model*, int, const char**, int*, int*, size_t*);
typedef const char* (*error_fn)(void);

static float g_out0[50 * 768], g_out1[768];

int main(int argc, char** argv) {
    if (argc != 5 && argc != 6) { fprintf(stderr, "usage: %s <libaotvit.so> <model> <checkpoint | -> <image> [warm runs]\n", argv[0]); return 2; }
    int warm_runs = argc == 6 ? atoi(argv[5]) : 5;
    double t0 = now_ms();
    void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    double t1 = now_ms();
    open_fn open = (open_fn)dlsym(lib, "aotvit_model_open");
    run_fn run = (run_fn)dlsym(lib, "aotvit_run_image_file");
    info_fn info = (info_fn)dlsym(lib, "aotvit_model_output_info");
    error_fn error = (error_fn)dlsym(lib, "aotvit_last_error");
    aotvit_model* model = NULL;
    if (open(argv[2], strcmp(argv[3], "-") == 0 ? NULL : argv[3], 0, &model) != AOTVIT_OK) { fprintf(stderr, "%s\n", error()); return 1; }
    double t2 = now_ms();
    size_t n0 = 0, n1 = 0;
    int two = info(model, 1, NULL, NULL, NULL, &n1) == AOTVIT_OK;
    info(model, 0, NULL, NULL, NULL, &n0);
    if (run(model, argv[4], g_out0, n0, two ? g_out1 : NULL, two ? n1 : 0) != AOTVIT_OK) { fprintf(stderr, "%s\n", error()); return 1; }
    double t3 = now_ms();
    double best = 1e30;
    for (int r = 0; r < warm_runs; r++) {
        double a = now_ms();
        run(model, argv[4], g_out0, n0, two ? g_out1 : NULL, two ? n1 : 0);
        double b = now_ms() - a;
        if (b < best) best = b;
    }
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    printf("%s %s: dlopen %.2f ms, open %.1f ms, first run %.1f ms, first result after %.1f ms, best warm run %.1f ms, peak RSS %.0f MiB\n",
           argv[2], strcmp(argv[3], "-") == 0 ? "synthetic" : "checkpoint file", t1 - t0, t2 - t1, t3 - t2, t3 - t0, best,
           usage.ru_maxrss / 1024.0);
    return 0;
}
