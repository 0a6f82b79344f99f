/*
 * int8.c: MobileViT-XX-small in int8 through aotvit_model_open_ex, with the deviation from float32 it measured on load.
 *
 *   int8 <checkpoint.safetensors | -> <image> [calibration images...]
 *
 * "-" uses the synthetic checkpoint (random weights). Without calibration images the library uses 4 built-in
 * synthetic ones. Prints the precision, the quantization report and the top-5 classes; also checks that a
 * zeroed options struct (struct_size 0) is refused with INVALID_ARGUMENT. Exit status 0 on success.
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
    if (argc < 3) {
        fprintf(stderr, "usage: %s <checkpoint.safetensors | -> <image> [calibration images...]\n", argv[0]);
        return 2;
    }
    const char* checkpoint = strcmp(argv[1], "-") == 0 ? NULL : argv[1];
    aotvit_model* model = NULL;
    float* logits = NULL;
    int exit_code = 1;

    /* A struct whose struct_size was never set is refused, not read. */
    aotvit_open_options zeroed;
    memset(&zeroed, 0, sizeof zeroed);
    if (aotvit_model_open_ex("mobilevit-xx-small", checkpoint, &zeroed, &model) != AOTVIT_INVALID_ARGUMENT || model) {
        fprintf(stderr, "struct_size 0 was not refused\n");
        return 1;
    }
    printf("struct_size 0 refused: %s\n", aotvit_last_error());

    aotvit_open_options options = AOTVIT_OPEN_OPTIONS_INIT;
    options.threads = 1;
    options.precision = AOTVIT_PRECISION_INT8;
    options.calibration_images = (const char* const*)(argv + 3);
    options.calibration_count = argc - 3;
    CHECK(aotvit_model_open_ex("mobilevit-xx-small", checkpoint, &options, &model));

    aotvit_precision precision = AOTVIT_PRECISION_FLOAT32;
    const char* report = NULL;
    CHECK(aotvit_model_precision(model, &precision));
    CHECK(aotvit_model_quantization_report(model, &report));
    if (precision != AOTVIT_PRECISION_INT8 || report[0] == '\0') {
        fprintf(stderr, "expected an int8 handle with a report\n");
        goto fail;
    }
    printf("sizeof(aotvit_open_options) %zu, precision %d\n%s\n", sizeof(aotvit_open_options), (int)precision, report);

    size_t classes = 0;
    CHECK(aotvit_model_output_info(model, 0, NULL, NULL, NULL, &classes));
    logits = malloc(classes * sizeof(float));
    if (!logits) goto fail;
    CHECK(aotvit_run_image_file(model, argv[2], logits, classes, NULL, 0));
    int32_t top[5];
    float probability[5];
    CHECK(aotvit_classify_top_k(model, logits, classes, 5, top, 5, probability, 5));
    for (int i = 0; i < 5; i++) {
        const char* label = NULL;
        CHECK(aotvit_model_label(model, top[i], &label));
        printf("%d. %5.2f%%  [%3d] %s\n", i + 1, 100.0f * probability[i], top[i], label);
    }
    exit_code = 0;
fail:
    free(logits);
    aotvit_model_destroy(model);
    return exit_code;
}
