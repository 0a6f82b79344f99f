/*
 * aotvit.h: C API of libaotvit.so: Hugging Face vision models compiled ahead of time (NativeAOT).
 *
 * A library holds the models it was built with (one per folder under src/Graphs; aotvit_catalog_size()
 * and aotvit_catalog_entry() list them). Each model serves one task:
 *   feature extractor  (HF ViTModel, DeiTModel)  outputs last_hidden_state [tokens, hidden] and, where the
 *                      model has one, pooler_output [hidden]
 *   image classifier   (HF MobileViTForImageClassification, ViTForImageClassification, DeiTForImageClassification,
 *                      DeiTForImageClassificationWithTeacher)  outputs logits [classes], with labels and top-k
 * Shapes, output names and labels of an open model come from the info functions below, never from this file.
 *
 * Conventions (the same for every function):
 *   - Every symbol starts with aotvit_ / AOTVIT_. Functions that can fail return an aotvit_status;
 *     AOTVIT_OK (0) is success. On failure, aotvit_last_error() describes what went wrong.
 *   - Nothing is ever thrown across the boundary and no input can crash the process: NULL pointers,
 *     destroyed or garbage handles, short buffers and corrupt files all come back as status codes.
 *     (A pointer that is non-NULL but points to less memory than its length argument says cannot be
 *     detected: that part of the contract is the caller's, as with memcpy.)
 *   - Handles are opaque. aotvit_model_open() (or aotvit_model_open_ex()) creates one; aotvit_model_destroy() releases it;
 *     aotvit_model_destroy(NULL) is a harmless no-op. A destroyed handle is never reused: passing it
 *     again returns AOTVIT_INVALID_ARGUMENT.
 *   - Lengths are counts of elements (floats, bytes, ints), never bytes unless the type is a byte.
 *     An output buffer may be longer than needed (the first `needed` elements are written); a shorter one
 *     fails with AOTVIT_BUFFER_TOO_SMALL before anything is computed, and the message names the length needed.
 *   - Strings in: UTF-8, NUL-terminated; except that paths (checkpoint_path, in_path, out_path, image paths,
 *     calibration_images) are taken as the file system's bytes, so a file name that is not UTF-8 (Python's
 *     os.fsencode of a Latin-1 name) works too. Strings out (const char*): owned by the library;
 *     the lifetime is given per function. Never free them.
 *   - Threading: any thread may call any function (foreign threads are attached automatically).
 *     One handle may be shared between threads: inference calls on it are serialised by a lock inside
 *     (one activation arena per model). For parallel throughput, open one handle per thread; each handle
 *     also runs its own worker threads (see `threads` in aotvit_model_open).
 *   - The library cannot be unloaded: dlclose() does not unload a NativeAOT library. Load it once.
 *   - fork(): a child of the process whose first call started the library cannot use it (its threads are gone):
 *     model open, quantize, run and preprocess calls there fail with AOTVIT_INVALID_ARGUMENT and a message that says
 *     so, and aotvit_model_destroy does nothing. Start worker processes with spawn/forkserver, or call the library
 *     only in the children.
 *
 * ABI: check aotvit_abi_version() == AOTVIT_ABI_VERSION at start-up. Existing signatures never change
 * within an ABI version; new behaviour gets new functions.
 */
#ifndef AOTVIT_H
#define AOTVIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AOTVIT_ABI_VERSION 1

/* Result of every fallible call. */
typedef enum aotvit_status {
    AOTVIT_OK = 0,                /* Success. */
    AOTVIT_INVALID_ARGUMENT = 1,  /* Bad value: unknown model name, bad count or size, destroyed or unknown handle. */
    AOTVIT_NULL_POINTER = 2,      /* A required pointer argument was NULL. */
    AOTVIT_BUFFER_TOO_SMALL = 3,  /* An output buffer is shorter than needed; the message gives the needed length. */
    AOTVIT_IO_ERROR = 4,          /* A file could not be read (missing, no permission, ...). */
    AOTVIT_BAD_CHECKPOINT = 5,    /* The checkpoint is not valid for this model (format, names, shapes, dtypes, values, config). */
    AOTVIT_BAD_IMAGE = 6,         /* The image bytes are not a decodable JPEG/PNG/BMP/GIF/TGA (corrupt, truncated, unknown). */
    AOTVIT_WRONG_MODEL_KIND = 7,  /* The function needs another kind of model (e.g. top-k on a feature extractor). */
    AOTVIT_LIMIT_EXCEEDED = 8,    /* A size limit was hit: image pixel count, batch size. */
    AOTVIT_OUT_OF_MEMORY = 9,     /* Memory could not be allocated. */
    AOTVIT_INTERNAL_ERROR = 10    /* A bug in libaotvit; the message has details. Please report it. */
} aotvit_status;

/* What a model produces. */
typedef enum aotvit_kind {
    AOTVIT_KIND_FEATURE_EXTRACTOR = 0, /* outputs are features (last_hidden_state, and pooler_output where present) */
    AOTVIT_KIND_CLASSIFIER = 1         /* one output, logits over the labels */
} aotvit_kind;

/* Arithmetic of a model's nn.Linear layers (aotvit_open_options.precision, aotvit_model_precision). */
typedef enum aotvit_precision {
    AOTVIT_PRECISION_FLOAT32 = 0, /* float32 everywhere: matches PyTorch float32. The default. */
    AOTVIT_PRECISION_INT8 = 1     /* int8 weights (symmetric, per output channel) x 7-bit activations (per row) in the
                                     nn.Linear layers; LayerNorm, softmax, GELU/SiLU, residuals and convolutions stay
                                     float32. Deviates from float32 by what aotvit_model_quantization_report states. */
} aotvit_precision;

/*
 * Options of aotvit_model_open_ex and aotvit_quantize. Versioned by size: set struct_size = sizeof(aotvit_open_options)
 * and zero every field you do not set (AOTVIT_OPEN_OPTIONS_INIT, or memset). Later ABI revisions only append fields,
 * whose zero value is the old behaviour: a library accepts a larger struct_size (a newer header) when the bytes past
 * the fields it knows are all zero, and refuses it otherwise (INVALID_ARGUMENT), so an option is never silently ignored.
 */
typedef struct aotvit_open_options {
    size_t struct_size;                     /* sizeof(aotvit_open_options): at least 32 on 64-bit targets, at most 4096. */
    int threads;                            /* as in aotvit_model_open: <= 0 = default (all cores, at most 8); at most 256. */
    int precision;                          /* an aotvit_precision: AOTVIT_PRECISION_FLOAT32 (0) or AOTVIT_PRECISION_INT8 (1). */
    const char* const* calibration_images;  /* int8: image files (paths as bytes) run in float32 and int8 on load to measure
                                               the deviation; NULL with calibration_count 0 = 4 built-in synthetic images.
                                               Photos of the model's domain give a figure that means something for them. */
    int calibration_count;                  /* entries in calibration_images, 0..64; > 0 only with AOTVIT_PRECISION_INT8
                                               (aotvit_quantize: with either value). */
} aotvit_open_options;

/* Initialiser for the defaults: float32, default threads, no calibration images. */
#define AOTVIT_OPEN_OPTIONS_INIT { sizeof(aotvit_open_options), 0, AOTVIT_PRECISION_FLOAT32, NULL, 0 }

/* Largest output rank reported by aotvit_model_output_info. */
#define AOTVIT_MAX_RANK 4

/* Opaque model handle. */
typedef struct aotvit_model aotvit_model;

/* ---- library ------------------------------------------------------------------------------------ */

/* AOTVIT_ABI_VERSION of the loaded library. Never fails. */
int aotvit_abi_version(void);

/* Library version, e.g. "0.1.0+x86-64-v4" or "0.1.0+armv8-a" (semantic version + ISA baseline). Static string; never fails. */
const char* aotvit_version(void);

/*
 * Message of the last failed call on the calling thread, or "" if the last call succeeded.
 * Thread-local: other threads' calls do not change it. The pointer stays valid until the next aotvit_
 * call on the same thread; copy the text if you need it longer. Never returns NULL.
 */
const char* aotvit_last_error(void);

/* ---- the catalog: the models this library was built with ---------------------------------------- */

/* Number of compiled models. Never fails. */
int aotvit_catalog_size(void);

/*
 * Model `index` (0 <= index < aotvit_catalog_size(), sorted by name): its name (the src/Graphs folder), its hub
 * repo id (NULL when unknown) and its task. Static strings, valid for the life of the process. Any out-pointer
 * may be NULL. Errors: INVALID_ARGUMENT (index out of range).
 */
aotvit_status aotvit_catalog_entry(int index, const char** name, const char** repo_id, aotvit_kind* kind);

/* ---- models ------------------------------------------------------------------------------------- */

/*
 * Loads a model.
 *   model_name       a compiled model by folder name ("mobilevit-small") or hub repo id ("apple/mobilevit-small"),
 *                    case-insensitive; an unknown name is INVALID_ARGUMENT and the message lists the compiled ones.
 *   checkpoint_path  the weights, UTF-8: a checkpoint file recognised by content (model.safetensors,
 *                    pytorch_model.bin as torch.save writes it, or a *.index.json of shards; F32/F16/BF16),
 *                    a folder holding one (its config.json, if any, must match the compiled model), or a
 *                    hub repo id "org/name" / "org/name@revision" looked up offline in the Hugging Face
 *                    cache ($HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub); or NULL for
 *                    the synthetic checkpoint with seed 0 (random weights, meaningless outputs; building it
 *                    for ViT takes seconds). Never any network access.
 *   threads          worker threads used by one inference, the calling thread included; <= 0 = default
 *                    (all cores, at most 8). At most 256.
 *   out              receives the handle; set to NULL on failure.
 * The file is read while loading (by position, never memory-mapped) and not kept open: a file truncated
 * or rewritten meanwhile is BAD_CHECKPOINT, never a signal. Release the handle with aotvit_model_destroy().
 * Errors: NULL_POINTER (model_name, out), INVALID_ARGUMENT (unknown name, threads > 256), IO_ERROR
 *         (not found: the message lists where it looked), BAD_CHECKPOINT (malformed, of another model, NaN or
 *         infinite weights, changed while read), OUT_OF_MEMORY.
 */
aotvit_status aotvit_model_open(const char* model_name, const char* checkpoint_path, int threads, aotvit_model** out);

/*
 * aotvit_model_open with options: precision (int8) and calibration images besides threads.
 *   options   NULL = the defaults (as aotvit_model_open with threads 0). See aotvit_open_options.
 * With AOTVIT_PRECISION_INT8:
 *   - a float checkpoint (or NULL: the synthetic one) is quantized on load, after the calibration images were run in
 *     float32; they are run again in int8 and the comparison is kept (aotvit_model_quantization_report). This costs
 *     two inferences per calibration image at load.
 *   - an int8 checkpoint (written by aotvit_quantize or `aotvit quantize`) is loaded as it is and carries the report
 *     measured when it was written; calibration_images are not run.
 * An int8 checkpoint opened with AOTVIT_PRECISION_FLOAT32 (or by aotvit_model_open) is INVALID_ARGUMENT.
 * Errors: as aotvit_model_open, and
 *   INVALID_ARGUMENT  struct_size below sizeof(aotvit_open_options) of this header's version or above 4096, or a
 *                     larger struct_size with a non-zero byte past the known fields; precision not an aotvit_precision;
 *                     threads > 256; calibration_count < 0 or > 64, or > 0 with AOTVIT_PRECISION_FLOAT32; an empty
 *                     calibration path
 *   NULL_POINTER      calibration_images NULL with calibration_count > 0, or one of its first calibration_count entries NULL
 *   IO_ERROR, BAD_IMAGE, LIMIT_EXCEEDED  a calibration image that is missing, undecodable or too large
 * The message names the field (e.g. "options->precision is 7; ...").
 */
aotvit_status aotvit_model_open_ex(const char* model_name, const char* checkpoint_path,
                                   const aotvit_open_options* options, aotvit_model** out);

/* The handle's precision (AOTVIT_PRECISION_FLOAT32 for every handle from aotvit_model_open). precision may be NULL.
 * Errors: NULL_POINTER (model), INVALID_ARGUMENT (not a live handle). */
aotvit_status aotvit_model_precision(const aotvit_model* model, aotvit_precision* precision);

/*
 * How far this int8 handle is from float32, measured on the calibration images when it was loaded (or, for an int8
 * checkpoint, when that was written), as one line of text: per output the cosine similarity (min and mean over the
 * images) and the max abs error, and for a classifier the top-1 and top-5 agreement, e.g.
 *   "int8 vs float32 on 4 calibration images (4 built-in synthetic images): logits: cosine min 0.999871 mean 0.999934,
 *    max abs error 0.0123 (max |value| 4.51); top-1 agreement 100 %, top-5 agreement 100 %"
 * (on one line). For a float32 handle: "" (the empty string). The text is for people and logs; its wording may change.
 * *report is owned by the handle, valid until aotvit_model_destroy(); report may be NULL.
 * Errors: NULL_POINTER (model), INVALID_ARGUMENT (not a live handle).
 */
aotvit_status aotvit_model_quantization_report(const aotvit_model* model, const char** report);

/*
 * Writes an int8 checkpoint, as `aotvit quantize IN OUT --model M` does: the float checkpoint in_path (a file, a folder
 * or a hub repo id in the local cache, as aotvit_model_open takes; not NULL: the synthetic checkpoint has no file) of
 * model model_name, with every nn.Linear weight quantized to int8 per output channel ("<name>_scale" F32 beside it) and
 * every other tensor F32, to the safetensors file out_path (written to out_path + ".partial", then renamed; an existing
 * file is replaced). The deviation from float32 is measured on the calibration images and stored in the file; open it
 * with aotvit_model_open_ex and AOTVIT_PRECISION_INT8 (no calibration run then) to use it.
 *   options  NULL = defaults; threads and calibration_images are used; precision may be either value (the output is
 *            int8 regardless).
 *   report   receives the measured report (the line aotvit_model_quantization_report gives for the written file), or ""
 *            on failure; valid until the next aotvit_ call on the calling thread (as aotvit_last_error); may be NULL.
 * Errors: NULL_POINTER (model_name, in_path, out_path), INVALID_ARGUMENT (unknown model, options as in
 *         aotvit_model_open_ex, empty path, out_path a folder, in_path already an int8 checkpoint), IO_ERROR (in_path
 *         not found, out_path's folder missing or not writable), BAD_CHECKPOINT, BAD_IMAGE, OUT_OF_MEMORY.
 */
aotvit_status aotvit_quantize(const char* model_name, const char* in_path, const char* out_path,
                              const aotvit_open_options* options, const char** report);

/*
 * Image orientation for aotvit_model_run_image_* and aotvit_preprocess_image_* on this handle: enabled != 0 (the
 * default) orients each image by its EXIF tag before preprocessing, as transformers' load_image does
 * (PIL.ImageOps.exif_transpose, then convert("RGB")); 0 uses the stored pixels, as an image processor given
 * Image.open(f) without exif_transpose. Applies to calls that start after it returns.
 * Errors: INVALID_ARGUMENT (not a live handle).
 */
aotvit_status aotvit_model_set_exif_transpose(aotvit_model* model, int enabled);

/*
 * Releases a handle and all its memory. NULL is a no-op. Waits for a call running on the handle in another
 * thread to finish; calls that start later fail with AOTVIT_INVALID_ARGUMENT. Returns AOTVIT_OK, or
 * AOTVIT_INVALID_ARGUMENT for a handle that is not live (already destroyed, or never created).
 */
aotvit_status aotvit_model_destroy(aotvit_model* model);

/*
 * Model information. Every out-pointer may be NULL when that value is not wanted.
 * Strings returned here are owned by the handle and valid until aotvit_model_destroy().
 */
aotvit_status aotvit_model_name(const aotvit_model* model, const char** name);
aotvit_status aotvit_model_kind(const aotvit_model* model, aotvit_kind* kind);
/* pixel_values of one image: [channels, height, width] floats (ViT 3x224x224, MobileViT 3x256x256). */
aotvit_status aotvit_model_input_shape(const aotvit_model* model, int* channels, int* height, int* width);
/* 2 for ViT, 1 for MobileViT. */
aotvit_status aotvit_model_output_count(const aotvit_model* model, int* count);
/*
 * Output `index` (0-based, in run order): name ("last_hidden_state", "pooler_output", "logits"), shape per
 * image (shape must have room for AOTVIT_MAX_RANK ints; *rank receives the number used) and floats per image.
 * Errors: INVALID_ARGUMENT for index out of range.
 */
aotvit_status aotvit_model_output_info(const aotvit_model* model, int index, const char** name,
                                       int* shape, int* rank, size_t* floats_per_image);
/* Number of class labels: 1000 for MobileViT, 0 for ViT. */
aotvit_status aotvit_model_label_count(const aotvit_model* model, int* count);
/* Label of class `index` (e.g. "tabby, tabby cat"). Errors: INVALID_ARGUMENT for index out of range. */
aotvit_status aotvit_model_label(const aotvit_model* model, int index, const char** label);

/* ---- inference ---------------------------------------------------------------------------------- */
/*
 * Outputs for one image go to out0 (output 0) and out1 (output 1), each at least floats_per_image long.
 * Single-output models (MobileViT): out1 must be NULL and out1_len 0.
 * Two-output models (ViT): out1 may be NULL (with out1_len 0) when pooler_output is not wanted.
 * The handle's lock is held only while the network runs; decoding and preprocessing run unlocked.
 * Results are deterministic: the same input gives bit-identical outputs on every call and every handle
 * (for a given library build).
 */

/* Decodes an image file (JPEG, PNG, BMP, GIF first frame, TGA), preprocesses it like the HF image processor,
 * runs the model. Errors: NULL_POINTER, IO_ERROR, BAD_IMAGE, LIMIT_EXCEEDED (more than 89,478,485 pixels; a file or
 * encoded image above 256 MiB, checked before reading it all; an aspect ratio so extreme that the resize intermediate
 * would exceed 2^24 pixels, e.g. 1x300 for MobileViT), BUFFER_TOO_SMALL, INVALID_ARGUMENT. */
aotvit_status aotvit_run_image_file(aotvit_model* model, const char* path,
                                    float* out0, size_t out0_len, float* out1, size_t out1_len);

/* Same for an encoded image in memory (`size` bytes at `data`; not retained). */
aotvit_status aotvit_run_image_bytes(aotvit_model* model, const uint8_t* data, size_t size,
                                     float* out0, size_t out0_len, float* out1, size_t out1_len);

/* Same for raw pixels: rgb is [height, width, 3] interleaved RGB8, row-major, no padding;
 * rgb_len must equal width*height*3. */
aotvit_status aotvit_run_rgb8(aotvit_model* model, const uint8_t* rgb, size_t rgb_len, int width, int height,
                              float* out0, size_t out0_len, float* out1, size_t out1_len);

/*
 * Runs a batch of preprocessed images: pixel_values is [batch, C, H, W] float32, pixel_values_len must equal
 * batch*C*H*W. Outputs are [batch, ...]: out0_len >= batch*floats_per_image(0), same for out1.
 * Large batches are run in chunks of 16 images (the activation arena grows with the chunk, not the batch).
 * Errors: NULL_POINTER, INVALID_ARGUMENT (batch < 1, wrong pixel_values_len), LIMIT_EXCEEDED (batch above 1024
 * images per call, batch*C*H*W or an output larger than 2^31-1 floats), BUFFER_TOO_SMALL.
 */
aotvit_status aotvit_run_pixels(aotvit_model* model, int batch, const float* pixel_values, size_t pixel_values_len,
                                float* out0, size_t out0_len, float* out1, size_t out1_len);

/*
 * Decodes and preprocesses an image file into pixels ([C, H, W] float32, pixels_len >= C*H*W), so that callers
 * can assemble batches for aotvit_run_pixels. Does not take the handle's lock.
 */
aotvit_status aotvit_preprocess_image_file(aotvit_model* model, const char* path, float* pixels, size_t pixels_len);

/* Same for an encoded image in memory. */
aotvit_status aotvit_preprocess_image_bytes(aotvit_model* model, const uint8_t* data, size_t size,
                                            float* pixels, size_t pixels_len);

/*
 * Classifiers only: the k most probable classes of one image's logits (logits_len must equal the label count).
 * Softmax in double precision; best first; ties keep the lower class index first.
 * indices[k] receives class indices (look names up with aotvit_model_label), probabilities[k] their softmax
 * probability (probabilities may be NULL). 0 <= k <= label count; indices_len and probabilities_len >= k.
 * Errors: WRONG_MODEL_KIND on a feature extractor, INVALID_ARGUMENT, NULL_POINTER, BUFFER_TOO_SMALL.
 */
aotvit_status aotvit_classify_top_k(aotvit_model* model, const float* logits, size_t logits_len, int k,
                                    int32_t* indices, size_t indices_len, float* probabilities, size_t probabilities_len);

#ifdef __cplusplus
}
#endif

#endif /* AOTVIT_H */
