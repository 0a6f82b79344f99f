// The C API's logic, one method per exported function (Exports.cs holds the thin [UnmanagedCallersOnly] wrappers,
// which the tests cannot call; the tests call these). Contract of every method: validate every pointer and length
// before doing work, return a Status as int, record the message with Errors, never throw.
// Handles are tokens (see ModelRegistry); size_t is nuint.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using AotVit.Runtime.Imaging;
using AotVit.Runtime.Interop;
using AotVit.Runtime.Model;

namespace AotVit.Native;

internal static unsafe class NativeApi
{
    public const int AbiVersion = 1;

    // "0.1.0+x86-64-v4" (or "+armv8-a" on arm64, where the kernels use AdvSimd only): the ISA suffix is what this build
    // was compiled for (AOT answers these checks at compile time).
    private static readonly byte[] s_version = MakeVersion();

    public static byte* Version() => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(s_version));

    internal static string VersionText => System.Text.Encoding.UTF8.GetString(s_version, 0, s_version.Length - 1);

    private static byte[] MakeVersion()
    {
        string isa = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.IsSupported ? "armv8-a"
            : Vector512.IsHardwareAccelerated ? "x86-64-v4" : Vector256.IsHardwareAccelerated ? "x86-64-v3" : "x86-64-v2";
        string text = $"0.1.0+{isa}";
        var bytes = GC.AllocateArray<byte>(text.Length + 1, pinned: true);
        System.Text.Encoding.ASCII.GetBytes(text, bytes);
        return bytes;
    }

    // ---- models ----

    public static int ModelOpen(byte* modelName, byte* checkpointPath, int threads, nint* handleOut)
    {
        try
        {
            if (handleOut == null) throw new NativeError(Status.NullPointer, "out is NULL");
            *handleOut = 0;
            string name = Utf8Required(modelName, "model_name");
            string? checkpoint = checkpointPath == null ? null : Marshal.PtrToStringUTF8((nint)checkpointPath);
            if (threads > 256) throw new NativeError(Status.InvalidArgument, $"threads is {threads}; at most 256");
            var options = threads > 0 ? new ModelOptions { Threads = threads } : new ModelOptions();
            var entry = ModelCatalog.TryFind(name)
                ?? throw new NativeError(Status.InvalidArgument, $"unknown model '{name}'; compiled models: {ModelCatalog.Names()}");

            // The task comes from the catalog entry: every compiled model opens as what it is.
            VisionModel model = entry.Kind == Runtime.Model.ModelKind.Classifier
                ? (checkpoint is null ? ImageClassifier.CreateSynthetic(entry.Name, options) : ImageClassifier.Load(entry.Name, checkpoint, options))
                : (checkpoint is null ? FeatureExtractor.CreateSynthetic(entry.Name, options) : FeatureExtractor.Load(entry.Name, checkpoint, options));
            try
            {
                *handleOut = ModelRegistry.Add(new NativeModel(model));
            }
            catch
            {
                model.Dispose();
                throw;
            }
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    // ---- the catalog: what this library was built with ----

    // Pinned UTF-8 names, made once: static strings for the life of the process.
    private static readonly (byte[] Name, byte[]? RepoId)[] s_catalog = ModelCatalog.All
        .Select(e => (PinnedUtf8(e.Name), e.RepoId is null ? null : PinnedUtf8(e.RepoId))).ToArray();

    private static byte[] PinnedUtf8(string text)
    {
        var bytes = GC.AllocateArray<byte>(System.Text.Encoding.UTF8.GetByteCount(text) + 1, pinned: true);
        System.Text.Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }

    public static int CatalogSize() => s_catalog.Length;

    public static int CatalogEntry(int index, byte** name, byte** repoId, int* kind)
    {
        try
        {
            if (index < 0 || index >= s_catalog.Length)
                throw new NativeError(Status.InvalidArgument, $"index {index} is outside the catalog's {s_catalog.Length} models");
            if (name != null) *name = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(s_catalog[index].Name));
            if (repoId != null) *repoId = s_catalog[index].RepoId is { } r ? (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(r)) : null;
            if (kind != null) *kind = ModelCatalog.All[index].Kind == Runtime.Model.ModelKind.Classifier ? 1 : 0;
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    public static int ModelDestroy(nint handle)
    {
        try
        {
            if (handle == 0) return Errors.Ok();
            if (!ModelRegistry.TryRemove(handle, out var model))
                throw new NativeError(Status.InvalidArgument, $"0x{handle:x} is not a live aotvit_model handle (destroyed twice, or never returned by aotvit_model_open)");
            model!.Dispose(); // waits for a Run in progress on another thread (VisionModel's lock)
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    public static int ModelSetExifTranspose(nint handle, int enabled)
    {
        try
        {
            ModelRegistry.Get(handle).Model.ApplyExifOrientation = enabled != 0;
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    public static int ModelName(nint handle, byte** name)
    {
        try
        {
            var m = ModelRegistry.Get(handle);
            if (name != null) *name = m.Name;
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    public static int ModelKind(nint handle, int* kind)
    {
        try
        {
            var m = ModelRegistry.Get(handle);
            if (kind != null) *kind = m.Descriptor.Kind == Runtime.Model.ModelKind.Classifier ? 1 : 0;
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    public static int ModelInputShape(nint handle, int* channels, int* height, int* width)
    {
        try
        {
            var shape = ModelRegistry.Get(handle).Descriptor.InputShape;
            if (channels != null) *channels = shape[0];
            if (height != null) *height = shape[1];
            if (width != null) *width = shape[2];
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    public static int ModelOutputCount(nint handle, int* count)
    {
        try
        {
            var m = ModelRegistry.Get(handle);
            if (count != null) *count = m.Descriptor.Outputs.Count;
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    public const int MaxRank = 4;

    public static int ModelOutputInfo(nint handle, int index, byte** name, int* shape, int* rank, nuint* floatsPerImage)
    {
        try
        {
            var m = ModelRegistry.Get(handle);
            var outputs = m.Descriptor.Outputs;
            if (index < 0 || index >= outputs.Count)
                throw new NativeError(Status.InvalidArgument, $"output index {index} is out of range; {m.Descriptor.Name} has {outputs.Count} output(s)");
            var o = outputs[index];
            if (name != null) *name = m.OutputName(index);
            if (shape != null)
                for (int i = 0; i < MaxRank; i++) shape[i] = i < o.Shape.Length ? o.Shape[i] : 0;
            if (rank != null) *rank = o.Shape.Length;
            if (floatsPerImage != null) *floatsPerImage = (nuint)o.FloatsPerImage;
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    public static int ModelLabelCount(nint handle, int* count)
    {
        try
        {
            var m = ModelRegistry.Get(handle);
            if (count != null) *count = m.LabelCount;
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    public static int ModelLabel(nint handle, int index, byte** label)
    {
        try
        {
            var m = ModelRegistry.Get(handle);
            if (index < 0 || index >= m.LabelCount)
                throw new NativeError(Status.InvalidArgument, m.LabelCount == 0
                    ? $"{m.Descriptor.Name} has no labels"
                    : $"label index {index} is out of range [0, {m.LabelCount})");
            if (label != null) *label = m.Label(index);
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    // ---- inference ----

    public static int RunImageFile(nint handle, byte* path, float* out0, nuint out0Length, float* out1, nuint out1Length)
    {
        try
        {
            var m = ModelRegistry.Get(handle);
            string file = Utf8Required(path, "path");
            CheckOutputs(m, 1, out0, out0Length, out1, out1Length);
            RunOne(m, Decode(m, ReadFile(m, file)), out0, out1);
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    public static int RunImageBytes(nint handle, byte* data, nuint size, float* out0, nuint out0Length, float* out1, nuint out1Length)
    {
        try
        {
            var m = ModelRegistry.Get(handle);
            var bytes = Bytes(data, size, "data");
            CheckOutputs(m, 1, out0, out0Length, out1, out1Length);
            RunOne(m, Decode(m, bytes), out0, out1);
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    public static int RunRgb8(nint handle, byte* rgb, nuint rgbLength, int width, int height, float* out0, nuint out0Length, float* out1, nuint out1Length)
    {
        try
        {
            var m = ModelRegistry.Get(handle);
            if (width <= 0 || height <= 0) throw new NativeError(Status.InvalidArgument, $"image size {width}x{height}: both must be positive");
            long pixels = (long)width * height;
            if (pixels > m.Model.Options.ImageLimits.MaxPixels)
                throw new NativeError(Status.LimitExceeded, $"image {width}x{height} has {pixels} pixels; the limit is {m.Model.Options.ImageLimits.MaxPixels}");
            if (rgbLength != (nuint)(pixels * 3))
                throw new NativeError(Status.InvalidArgument, $"rgb_len is {rgbLength}; a {width}x{height} RGB8 image needs {pixels * 3} bytes");
            var bytes = Bytes(rgb, rgbLength, "rgb");
            CheckOutputs(m, 1, out0, out0Length, out1, out1Length);
            RunOne(m, ImageDecoder.DecodeRgb(bytes, width, height), out0, out1);
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    public static int RunPixels(nint handle, int batch, float* pixelValues, nuint pixelValuesLength,
                                float* out0, nuint out0Length, float* out1, nuint out1Length)
    {
        try
        {
            var m = ModelRegistry.Get(handle);
            if (batch < 1) throw new NativeError(Status.InvalidArgument, $"batch is {batch}; it must be at least 1");
            long need = (long)batch * m.Model.InputFloatsPerImage;
            if (need > int.MaxValue) throw new NativeError(Status.LimitExceeded, $"batch {batch} needs {need} input floats; one call takes at most {int.MaxValue}");
            if (batch > m.Model.Options.MaxBatchPerCall)
                throw new NativeError(Status.LimitExceeded, $"batch is {batch}; one call takes at most {m.Model.Options.MaxBatchPerCall} images");
            if (pixelValues == null) throw new NativeError(Status.NullPointer, "pixel_values is NULL");
            if (pixelValuesLength != (nuint)need)
                throw new NativeError(Status.InvalidArgument, $"pixel_values_len is {pixelValuesLength}; [{batch}, {string.Join(", ", m.Descriptor.InputShape)}] needs {need}");
            CheckOutputs(m, batch, out0, out0Length, out1, out1Length);
            Forward(m, batch, new ReadOnlySpan<float>(pixelValues, (int)need), out0, out1);
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    public static int PreprocessImageFile(nint handle, byte* path, float* pixels, nuint pixelsLength)
    {
        try
        {
            var m = ModelRegistry.Get(handle);
            string file = Utf8Required(path, "path");
            CheckPixels(m, pixels, pixelsLength);
            m.Model.Preprocess(Decode(m, ReadFile(m, file)), new Span<float>(pixels, m.Model.InputFloatsPerImage));
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    public static int PreprocessImageBytes(nint handle, byte* data, nuint size, float* pixels, nuint pixelsLength)
    {
        try
        {
            var m = ModelRegistry.Get(handle);
            var bytes = Bytes(data, size, "data");
            CheckPixels(m, pixels, pixelsLength);
            m.Model.Preprocess(Decode(m, bytes), new Span<float>(pixels, m.Model.InputFloatsPerImage));
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    public static int ClassifyTopK(nint handle, float* logits, nuint logitsLength, int k,
                                   int* indices, nuint indicesLength, float* probabilities, nuint probabilitiesLength)
    {
        try
        {
            var m = ModelRegistry.Get(handle);
            var classifier = m.Classifier
                ?? throw new NativeError(Status.WrongModelKind, $"{m.Descriptor.Name} is a feature extractor; top-k needs a classifier");
            int classes = classifier.ClassCount;
            if (logits == null) throw new NativeError(Status.NullPointer, "logits is NULL");
            if (logitsLength != (nuint)classes)
                throw new NativeError(Status.InvalidArgument, $"logits_len is {logitsLength}; {m.Descriptor.Name} has {classes} classes");
            if (k < 0 || k > classes) throw new NativeError(Status.InvalidArgument, $"k is {k}; it must be between 0 and {classes}");
            if (indices == null && k > 0) throw new NativeError(Status.NullPointer, "indices is NULL");
            if (indicesLength < (nuint)k) throw new NativeError(Status.BufferTooSmall, $"indices_len is {indicesLength}; k = {k} needs {k}");
            if (probabilities != null && probabilitiesLength < (nuint)k)
                throw new NativeError(Status.BufferTooSmall, $"probabilities_len is {probabilitiesLength}; k = {k} needs {k}");
            var top = classifier.TopK(new ReadOnlySpan<float>(logits, classes), k);
            for (int i = 0; i < top.Count; i++)
            {
                indices[i] = top[i].ClassIndex;
                if (probabilities != null) probabilities[i] = top[i].Probability;
            }
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    // ---- helpers ----

    private static string Utf8Required(byte* s, string name) =>
        s == null ? throw new NativeError(Status.NullPointer, $"{name} is NULL") : Marshal.PtrToStringUTF8((nint)s)!;

    private static ReadOnlySpan<byte> Bytes(byte* data, nuint size, string name)
    {
        if (data == null) throw new NativeError(Status.NullPointer, $"{name} is NULL");
        if (size == 0) throw new NativeError(Status.BadImage, "empty input: no image data");
        if (size > int.MaxValue) throw new NativeError(Status.LimitExceeded, $"{size} bytes of image data; at most {int.MaxValue}");
        return new ReadOnlySpan<byte>(data, (int)size);
    }

    /// <summary>Reads at most the model's ImageLimits.MaxEncodedBytes: a larger file, or an endless one such as
    /// /dev/zero (which reports length 0), is LIMIT_EXCEEDED without reading more than the limit + 1 bytes.</summary>
    private static byte[] ReadFile(NativeModel m, string path)
    {
        long limit = m.Model.Options.ImageLimits.MaxEncodedBytes;
        return UserFiles.ReadAtMost(path, "image file", limit)
            ?? throw new NativeError(Status.LimitExceeded, $"'{path}' has more than {limit} bytes; an encoded image may have at most {limit}");
    }

    /// <summary>Decodes with the model's pixel limit, reporting an oversized image as LIMIT_EXCEEDED (header only, before any pixel memory).</summary>
    private static RgbImage Decode(NativeModel m, ReadOnlySpan<byte> encoded)
    {
        long limit = m.Model.Options.ImageLimits.MaxPixels;
        if (encoded.Length > m.Model.Options.ImageLimits.MaxEncodedBytes)
            throw new NativeError(Status.LimitExceeded, $"{encoded.Length} bytes of encoded image; at most {m.Model.Options.ImageLimits.MaxEncodedBytes}");
        var (w, h, format) = ImageDecoder.ReadInfo(encoded, s_noLimits);
        if ((long)w * h > limit)
            throw new NativeError(Status.LimitExceeded, $"{format} image {w}x{h} has {(long)w * h} pixels; the limit is {limit}");
        return m.Model.DecodeImage(encoded);
    }

    private static readonly ImageLimits s_noLimits = new() { MaxPixels = long.MaxValue };

    private static void CheckPixels(NativeModel m, float* pixels, nuint length)
    {
        if (pixels == null) throw new NativeError(Status.NullPointer, "pixels is NULL");
        int need = m.Model.InputFloatsPerImage;
        if (length < (nuint)need)
            throw new NativeError(Status.BufferTooSmall, $"pixels_len is {length}; [{string.Join(", ", m.Descriptor.InputShape)}] needs {need}");
    }

    /// <summary>Output buffers for `batch` images: out0 required; out1 required-or-NULL for two-output models, NULL for one-output models.</summary>
    private static void CheckOutputs(NativeModel m, int batch, float* out0, nuint out0Length, float* out1, nuint out1Length)
    {
        var outputs = m.Descriptor.Outputs;
        CheckOutput(outputs[0], batch, out0, out0Length, "out0");
        if (outputs.Count == 1)
        {
            if (out1 != null || out1Length != 0)
                throw new NativeError(Status.InvalidArgument, $"{m.Descriptor.Name} has one output ({outputs[0].Name}); out1 must be NULL and out1_len 0");
        }
        else if (out1 != null)
        {
            CheckOutput(outputs[1], batch, out1, out1Length, "out1");
        }
        else if (out1Length != 0)
        {
            throw new NativeError(Status.NullPointer, $"out1 is NULL but out1_len is {out1Length}");
        }
    }

    private static void CheckOutput(OutputDescriptor o, int batch, float* buffer, nuint length, string name)
    {
        long need = (long)batch * o.FloatsPerImage;
        if (buffer == null) throw new NativeError(Status.NullPointer, $"{name} ({o.Name}) is NULL");
        if (need > int.MaxValue) throw new NativeError(Status.LimitExceeded, $"{o.Name} for batch {batch} would be {need} floats; one call returns at most {int.MaxValue}");
        if (length < (nuint)need)
            throw new NativeError(Status.BufferTooSmall, $"{name}_len is {length}; {o.Name} [{batch}, {string.Join(", ", o.Shape)}] needs {need} floats");
    }

    private static void RunOne(NativeModel m, RgbImage image, float* out0, float* out1)
    {
        var pixels = new float[m.Model.InputFloatsPerImage];
        m.Model.Preprocess(image, pixels);
        Forward(m, 1, pixels, out0, out1);
    }


    private static void Forward(NativeModel m, int batch, ReadOnlySpan<float> pixels, float* out0, float* out1)
    {
        var outputs = m.Descriptor.Outputs;
        var span0 = new Span<float>(out0, batch * outputs[0].FloatsPerImage);
        if (outputs.Count == 1)
        {
            m.Model.Run(batch, pixels, span0);
            return;
        }
        int floats1 = batch * outputs[1].FloatsPerImage;
        // out1 NULL: the caller does not want output 1 (pooler_output); compute it into scratch.
        var span1 = out1 != null ? new Span<float>(out1, floats1) : new float[floats1];
        m.Model.Run(batch, pixels, span0, span1);
    }
}
