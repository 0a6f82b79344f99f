/*
 * classify.c: top-5 ImageNet classes of an image with MobileViT-small through libaotvit.
 *
 *   classify <checkpoint.safetensors | -> <image> [--dump logits.f32]
 *
 * "-" uses the synthetic checkpoint (random weights: the classes are meaningless, the numbers are reproducible).
 * --dump writes the 1000 logits as raw float32 (native byte order), for bit-exact comparisons.
 * Build: see samples/c/Makefile (links -laotvit with an rpath to artifacts/native).
 */
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

int main(int argc, char** argv) {
    if (argc != 3 && !(argc == 5 && strcmp(argv[3], "--dump") == 0)) {
        fprintf(stderr, "usage: %s <checkpoint.safetensors | -> <image> [--dump logits.f32]\n", argv[0]);
        return 2;
    }
    if (aotvit_abi_version() != AOTVIT_ABI_VERSION) {
        fprintf(stderr, "libaotvit ABI %d, header ABI %d\n", aotvit_abi_version(), AOTVIT_ABI_VERSION);
        return 1;
    }
    const char* checkpoint = strcmp(argv[1], "-") == 0 ? NULL : argv[1];
    aotvit_model* model = NULL;
    float* logits = NULL;
    int exit_code = 1;

    CHECK(aotvit_model_open("mobilevit-small", checkpoint, 0, &model));

    size_t classes = 0;
    CHECK(aotvit_model_output_info(model, 0, NULL, NULL, NULL, &classes));
    logits = malloc(classes * sizeof(float));
    if (!logits) goto fail;

    /* One output: out1 is NULL, out1_len 0. */
    CHECK(aotvit_run_image_file(model, argv[2], logits, classes, NULL, 0));

    int32_t top[5];
    float probability[5];
    CHECK(aotvit_classify_top_k(model, logits, classes, 5, top, 5, probability, 5));
    printf("libaotvit %s, mobilevit-small, %s\n", aotvit_version(), checkpoint ? checkpoint : "synthetic checkpoint (seed 0)");
    for (int i = 0; i < 5; i++) {
        const char* label = NULL;
        CHECK(aotvit_model_label(model, top[i], &label));
        printf("%d. %5.2f%%  logit %9.5f  [%3d] %s\n", i + 1, 100.0f * probability[i], logits[top[i]], top[i], label);
    }

    if (argc == 5) {
        FILE* f = fopen(argv[4], "wb");
        if (!f || fwrite(logits, sizeof(float), classes, f) != classes || fclose(f) != 0) {
            fprintf(stderr, "cannot write %s\n", argv[4]);
            goto fail;
        }
    }
    exit_code = 0;

fail:
    free(logits);
    aotvit_model_destroy(model); /* NULL-safe */
    return exit_code;
}
