/*
 * embed.c: ViT-B/32 image features through libaotvit.
 *
 *   embed <checkpoint.safetensors | -> <image> [--dump features.f32]
 *
 * Prints the shapes, the first values of the [CLS] token and pooler_output, and their L2 norms.
 * --dump writes last_hidden_state [50, 768] then pooler_output [768] as raw float32 (native byte order).
 * "-" uses the synthetic checkpoint; generating it in memory takes a few seconds for ViT-B (88M parameters).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aotvit.h"

#define CHECK(call)                                                                       \
    do {                                                                                  \
        aotvit_status s_ = (call);                                                        \
        if (s_ != AOTVIT_OK) {                                                            \
            fprintf(stderr, "%s failed: status %d: %s\n", #call, (int)s_, aotvit_last_error()); \
            goto fail;                                                                    \
        }                                                                                 \
    } while (0)

static double l2(const float* x, size_t n) {
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += (double)x[i] * x[i];
    return sqrt(sum);
}

int main(int argc, char** argv) {
    if (argc != 3 && !(argc == 5 && strcmp(argv[3], "--dump") == 0)) {
        fprintf(stderr, "usage: %s <checkpoint.safetensors | -> <image> [--dump features.f32]\n", argv[0]);
        return 2;
    }
    const char* checkpoint = strcmp(argv[1], "-") == 0 ? NULL : argv[1];
    aotvit_model* model = NULL;
    float *hidden = NULL, *pooled = NULL;
    int exit_code = 1;

    CHECK(aotvit_model_open("vit-base-patch32-224-in21k", checkpoint, 0, &model));

    /* Ask the model for its output sizes instead of hard-coding 50x768 and 768. */
    const char* names[2];
    int shape[2][AOTVIT_MAX_RANK], rank[2];
    size_t floats[2];
    for (int o = 0; o < 2; o++) CHECK(aotvit_model_output_info(model, o, &names[o], shape[o], &rank[o], &floats[o]));
    hidden = malloc(floats[0] * sizeof(float));
    pooled = malloc(floats[1] * sizeof(float));
    if (!hidden || !pooled) goto fail;

    CHECK(aotvit_run_image_file(model, argv[2], hidden, floats[0], pooled, floats[1]));

    int hidden_size = shape[1][0];
    printf("libaotvit %s, vit-base-patch32-224-in21k, %s\n", aotvit_version(), checkpoint ? checkpoint : "synthetic checkpoint (seed 0)");
    printf("%s [%d, %d]: CLS[0:4] = %.6f %.6f %.6f %.6f  |CLS| = %.6f\n", names[0], shape[0][0], shape[0][1],
           hidden[0], hidden[1], hidden[2], hidden[3], l2(hidden, (size_t)hidden_size));
    printf("%s [%d]: [0:4] = %.6f %.6f %.6f %.6f  |pooled| = %.6f\n", names[1], shape[1][0],
           pooled[0], pooled[1], pooled[2], pooled[3], l2(pooled, floats[1]));

    if (argc == 5) {
        FILE* f = fopen(argv[4], "wb");
        if (!f || fwrite(hidden, sizeof(float), floats[0], f) != floats[0] || fwrite(pooled, sizeof(float), floats[1], f) != floats[1] ||
            fclose(f) != 0) {
            fprintf(stderr, "cannot write %s\n", argv[4]);
            goto fail;
        }
    }
    exit_code = 0;

fail:
    free(hidden);
    free(pooled);
    aotvit_model_destroy(model);
    return exit_code;
}
