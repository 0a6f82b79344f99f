// The exported C symbols (include/aotvit.h). Each one only forwards to NativeApi, whose methods never throw;
// keep it that way: an exception escaping an [UnmanagedCallersOnly] method aborts the host process. The ones that load
// or run a model refuse in a fork(2) child of the process that started the library, and destroy does nothing there
// (ForkGuard).
// Parameter types follow the header: aotvit_model* = nint, size_t = nuint, enums and int32_t = int,
// const aotvit_open_options* = NativeApi.OpenOptions*.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AotVit.Native;

internal static unsafe class Exports
{
    [UnmanagedCallersOnly(EntryPoint = "aotvit_abi_version")]
    public static int AbiVersion() => NativeApi.AbiVersion;

    [UnmanagedCallersOnly(EntryPoint = "aotvit_version")]
    public static byte* Version() => NativeApi.Version();

    [UnmanagedCallersOnly(EntryPoint = "aotvit_last_error")]
    public static byte* LastError()
    {
        try { return Errors.LastErrorPointer(); }
        catch { return (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("\0"u8)); }
    }

    [UnmanagedCallersOnly(EntryPoint = "aotvit_catalog_size")]
    public static int CatalogSize() => NativeApi.CatalogSize();

    [UnmanagedCallersOnly(EntryPoint = "aotvit_catalog_entry")]
    public static int CatalogEntry(int index, byte** name, byte** repoId, int* kind) => NativeApi.CatalogEntry(index, name, repoId, kind);

    [UnmanagedCallersOnly(EntryPoint = "aotvit_model_open")]
    public static int ModelOpen(byte* modelName, byte* checkpointPath, int threads, nint* handleOut) =>
        ForkGuard.InForkedChild ? ForkGuard.Refuse() : NativeApi.ModelOpen(modelName, checkpointPath, threads, handleOut);

    [UnmanagedCallersOnly(EntryPoint = "aotvit_model_open_ex")]
    public static int ModelOpenEx(byte* modelName, byte* checkpointPath, NativeApi.OpenOptions* options, nint* handleOut) =>
        ForkGuard.InForkedChild ? ForkGuard.Refuse() : NativeApi.ModelOpenEx(modelName, checkpointPath, options, handleOut);

    [UnmanagedCallersOnly(EntryPoint = "aotvit_model_precision")]
    public static int ModelPrecision(nint model, int* precision) => NativeApi.ModelPrecisionOf(model, precision);

    [UnmanagedCallersOnly(EntryPoint = "aotvit_model_quantization_report")]
    public static int ModelQuantizationReport(nint model, byte** report) => NativeApi.ModelQuantizationReport(model, report);

    [UnmanagedCallersOnly(EntryPoint = "aotvit_quantize")]
    public static int Quantize(byte* modelName, byte* inPath, byte* outPath, NativeApi.OpenOptions* options, byte** report) =>
        ForkGuard.InForkedChild ? ForkGuard.Refuse() : NativeApi.Quantize(modelName, inPath, outPath, options, report);

    [UnmanagedCallersOnly(EntryPoint = "aotvit_model_destroy")]
    public static int ModelDestroy(nint model) => ForkGuard.InForkedChild ? 0 : NativeApi.ModelDestroy(model);   // AOTVIT_OK: see ForkGuard

    [UnmanagedCallersOnly(EntryPoint = "aotvit_model_set_exif_transpose")]
    public static int ModelSetExifTranspose(nint model, int enabled) => NativeApi.ModelSetExifTranspose(model, enabled);

    [UnmanagedCallersOnly(EntryPoint = "aotvit_model_name")]
    public static int ModelName(nint model, byte** name) => NativeApi.ModelName(model, name);

    [UnmanagedCallersOnly(EntryPoint = "aotvit_model_kind")]
    public static int ModelKind(nint model, int* kind) => NativeApi.ModelKind(model, kind);

    [UnmanagedCallersOnly(EntryPoint = "aotvit_model_input_shape")]
    public static int ModelInputShape(nint model, int* channels, int* height, int* width) =>
        NativeApi.ModelInputShape(model, channels, height, width);

    [UnmanagedCallersOnly(EntryPoint = "aotvit_model_output_count")]
    public static int ModelOutputCount(nint model, int* count) => NativeApi.ModelOutputCount(model, count);

    [UnmanagedCallersOnly(EntryPoint = "aotvit_model_output_info")]
    public static int ModelOutputInfo(nint model, int index, byte** name, int* shape, int* rank, nuint* floatsPerImage) =>
        NativeApi.ModelOutputInfo(model, index, name, shape, rank, floatsPerImage);

    [UnmanagedCallersOnly(EntryPoint = "aotvit_model_label_count")]
    public static int ModelLabelCount(nint model, int* count) => NativeApi.ModelLabelCount(model, count);

    [UnmanagedCallersOnly(EntryPoint = "aotvit_model_label")]
    public static int ModelLabel(nint model, int index, byte** label) => NativeApi.ModelLabel(model, index, label);

    [UnmanagedCallersOnly(EntryPoint = "aotvit_run_image_file")]
    public static int RunImageFile(nint model, byte* path, float* out0, nuint out0Length, float* out1, nuint out1Length) =>
        ForkGuard.InForkedChild ? ForkGuard.Refuse() : NativeApi.RunImageFile(model, path, out0, out0Length, out1, out1Length);

    [UnmanagedCallersOnly(EntryPoint = "aotvit_run_image_bytes")]
    public static int RunImageBytes(nint model, byte* data, nuint size, float* out0, nuint out0Length, float* out1, nuint out1Length) =>
        ForkGuard.InForkedChild ? ForkGuard.Refuse() : NativeApi.RunImageBytes(model, data, size, out0, out0Length, out1, out1Length);

    [UnmanagedCallersOnly(EntryPoint = "aotvit_run_rgb8")]
    public static int RunRgb8(nint model, byte* rgb, nuint rgbLength, int width, int height,
                              float* out0, nuint out0Length, float* out1, nuint out1Length) =>
        ForkGuard.InForkedChild ? ForkGuard.Refuse() : NativeApi.RunRgb8(model, rgb, rgbLength, width, height, out0, out0Length, out1, out1Length);

    [UnmanagedCallersOnly(EntryPoint = "aotvit_run_pixels")]
    public static int RunPixels(nint model, int batch, float* pixelValues, nuint pixelValuesLength,
                                float* out0, nuint out0Length, float* out1, nuint out1Length) =>
        ForkGuard.InForkedChild ? ForkGuard.Refuse() : NativeApi.RunPixels(model, batch, pixelValues, pixelValuesLength, out0, out0Length, out1, out1Length);

    [UnmanagedCallersOnly(EntryPoint = "aotvit_preprocess_image_file")]
    public static int PreprocessImageFile(nint model, byte* path, float* pixels, nuint pixelsLength) =>
        ForkGuard.InForkedChild ? ForkGuard.Refuse() : NativeApi.PreprocessImageFile(model, path, pixels, pixelsLength);

    [UnmanagedCallersOnly(EntryPoint = "aotvit_preprocess_image_bytes")]
    public static int PreprocessImageBytes(nint model, byte* data, nuint size, float* pixels, nuint pixelsLength) =>
        ForkGuard.InForkedChild ? ForkGuard.Refuse() : NativeApi.PreprocessImageBytes(model, data, size, pixels, pixelsLength);

    [UnmanagedCallersOnly(EntryPoint = "aotvit_classify_top_k")]
    public static int ClassifyTopK(nint model, float* logits, nuint logitsLength, int k,
                                   int* indices, nuint indicesLength, float* probabilities, nuint probabilitiesLength) =>
        NativeApi.ClassifyTopK(model, logits, logitsLength, k, indices, indicesLength, probabilities, probabilitiesLength);
}
