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
            string? checkpoint = checkpointPath == null ? null : PathRequired(checkpointPath, "checkpoint_path");
            CheckThreads(threads, "threads");
            var options = threads > 0 ? new ModelOptions { Threads = threads } : new ModelOptions();
            *handleOut = Open(name, checkpoint, options);
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    public static int ModelOpenEx(byte* modelName, byte* checkpointPath, OpenOptions* options, nint* handleOut)
    {
        try
        {
            if (handleOut == null) throw new NativeError(Status.NullPointer, "out is NULL");
            *handleOut = 0;
            string name = Utf8Required(modelName, "model_name");
            string? checkpoint = checkpointPath == null ? null : PathRequired(checkpointPath, "checkpoint_path");
            var modelOptions = ReadOptions(options, quantizing: false);
            *handleOut = Open(name, checkpoint, modelOptions);
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    /// <summary>Opens a catalog model as its own task and registers the handle (disposing the model if that fails).</summary>
    private static nint Open(string name, string? checkpoint, ModelOptions options)
    {
        var entry = FindModel(name);
        // The task comes from the catalog entry: every compiled model opens as what it is.
        VisionModel model = entry.Kind == Runtime.Model.ModelKind.Classifier
            ? (checkpoint is null ? ImageClassifier.CreateSynthetic(entry.Name, options) : ImageClassifier.Load(entry.Name, checkpoint, options))
            : (checkpoint is null ? FeatureExtractor.CreateSynthetic(entry.Name, options) : FeatureExtractor.Load(entry.Name, checkpoint, options));
        try
        {
            return ModelRegistry.Add(new NativeModel(model));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static ModelCatalog.Entry FindModel(string name) => ModelCatalog.TryFind(name)
        ?? throw new NativeError(Status.InvalidArgument, $"unknown model '{name}'; compiled models: {ModelCatalog.Names()}");

    private static void CheckThreads(int threads, string what)
    {
        if (threads > 256) throw new NativeError(Status.InvalidArgument, $"{what} is {threads}; at most 256");
    }

    // ---- int8 ----

    /// <summary>aotvit_open_options, ABI version 1 (include/aotvit.h). Later versions only append fields.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct OpenOptions
    {
        public nuint StructSize;
        public int Threads;
        public int Precision;
        public byte** CalibrationImages;
        public int CalibrationCount;
    }

    /// <summary>sizeof(aotvit_open_options) in this library's header: the smallest struct_size accepted.</summary>
    public static readonly int OpenOptionsSize = sizeof(OpenOptions);

    /// <summary>Largest struct_size accepted: a newer header's struct with fields this library does not know (which
    /// must then be zero). Far above any real struct; a larger value is an uninitialised struct_size.</summary>
    public const int MaxOpenOptionsSize = 4096;

    public const int MaxCalibrationImages = 64;

    /// <summary>
    /// ModelOptions from a caller's aotvit_open_options (NULL: the defaults). Every field is checked here, before any
    /// work: struct_size (at least this version's size; a larger one only with zero bytes past the fields known here),
    /// threads, precision, the calibration list and each of its entries.
    /// </summary>
    private static ModelOptions ReadOptions(OpenOptions* options, bool quantizing)
    {
        if (options == null) return new ModelOptions { Precision = quantizing ? ModelPrecision.Int8 : ModelPrecision.Float32 };
        nuint size = options->StructSize;
        if (size < (nuint)OpenOptionsSize)
            throw new NativeError(Status.InvalidArgument,
                $"options->struct_size is {size}; this library needs at least {OpenOptionsSize} (set it to sizeof(aotvit_open_options))");
        if (size > MaxOpenOptionsSize)
            throw new NativeError(Status.InvalidArgument,
                $"options->struct_size is {size}, which no version of aotvit_open_options has (at most {MaxOpenOptionsSize}): set it to sizeof(aotvit_open_options)");
        // A newer header's struct: usable only if every field this library does not know is left zero (its default).
        var bytes = (byte*)options;
        for (int i = OpenOptionsSize; i < (int)size; i++)
        {
            if (bytes[i] != 0)
                throw new NativeError(Status.InvalidArgument,
                    $"options->struct_size is {size} and byte {i} is not zero: the options set a field this library (ABI {AbiVersion}, aotvit_open_options of {OpenOptionsSize} bytes) does not know");
        }
        OpenOptions o = *options;
        CheckThreads(o.Threads, "options->threads");
        if (o.Precision is not (PrecisionFloat32 or PrecisionInt8))
            throw new NativeError(Status.InvalidArgument,
                $"options->precision is {o.Precision}; it must be AOTVIT_PRECISION_FLOAT32 ({PrecisionFloat32}) or AOTVIT_PRECISION_INT8 ({PrecisionInt8})");
        if (o.CalibrationCount < 0)
            throw new NativeError(Status.InvalidArgument, $"options->calibration_count is {o.CalibrationCount}; it must be 0 or more");
        if (o.CalibrationCount > MaxCalibrationImages)
            throw new NativeError(Status.InvalidArgument, $"options->calibration_count is {o.CalibrationCount}; at most {MaxCalibrationImages} images are used for calibration");
        if (o.CalibrationCount > 0 && o.CalibrationImages == null)
            throw new NativeError(Status.NullPointer, $"options->calibration_images is NULL but options->calibration_count is {o.CalibrationCount}");
        if (o.CalibrationCount > 0 && o.Precision != PrecisionInt8 && !quantizing)
            throw new NativeError(Status.InvalidArgument,
                $"options->calibration_count is {o.CalibrationCount} but options->precision is AOTVIT_PRECISION_FLOAT32: calibration images are used only with AOTVIT_PRECISION_INT8");
        string[]? calibration = null;
        if (o.CalibrationCount > 0)
        {
            calibration = new string[o.CalibrationCount];
            for (int i = 0; i < calibration.Length; i++)
            {
                byte* path = o.CalibrationImages[i];
                if (path == null) throw new NativeError(Status.NullPointer, $"options->calibration_images[{i}] is NULL");
                calibration[i] = UserFiles.PathFromBytes(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(path));
                if (calibration[i].Length == 0) throw new NativeError(Status.InvalidArgument, $"options->calibration_images[{i}] is an empty string");
            }
        }
        var result = new ModelOptions
        {
            Precision = quantizing || o.Precision == PrecisionInt8 ? ModelPrecision.Int8 : ModelPrecision.Float32,
            CalibrationImages = calibration,
        };
        return o.Threads > 0 ? result with { Threads = o.Threads } : result;
    }

    /// <summary>aotvit_precision (the numbers are ABI).</summary>
    public const int PrecisionFloat32 = 0, PrecisionInt8 = 1;

    public static int ModelPrecisionOf(nint handle, int* precision)
    {
        try
        {
            var m = ModelRegistry.Get(handle);
            if (precision != null) *precision = m.Model.Precision == ModelPrecision.Int8 ? PrecisionInt8 : PrecisionFloat32;
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    public static int ModelQuantizationReport(nint handle, byte** report)
    {
        try
        {
            var m = ModelRegistry.Get(handle);
            if (report != null) *report = m.QuantizationReport;
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    // aotvit_quantize's report: per thread, valid until the next call on the thread replaces it (as aotvit_last_error).
    [ThreadStatic] private static byte[]? t_report;

    public static int Quantize(byte* modelName, byte* inPath, byte* outPath, OpenOptions* options, byte** report)
    {
        try
        {
            if (report != null) *report = EmptyString;
            string name = Utf8Required(modelName, "model_name");
            string input = PathRequired(inPath, "in_path");
            string output = PathRequired(outPath, "out_path");
            if (input.Length == 0) throw new NativeError(Status.InvalidArgument, "in_path is an empty string");
            if (output.Length == 0) throw new NativeError(Status.InvalidArgument, "out_path is an empty string");
            var modelOptions = ReadOptions(options, quantizing: true);
            var entry = FindModel(name);
            // The write's own IO errors carry runtime resource keys in this build: say what is wrong with out_path first.
            if (Directory.Exists(output)) throw new NativeError(Status.InvalidArgument, $"out_path '{output}' is a folder; give a file name");
            string? folder = Path.GetDirectoryName(Path.GetFullPath(output));
            if (folder is not null && !Directory.Exists(folder))
                throw new NativeError(Status.IoError, $"out_path's folder '{folder}' does not exist");
            var written = Int8Quantization.WriteCheckpoint(entry.Name, input, output, modelOptions);
            if (report != null)
            {
                t_report = PinnedUtf8(written.ToString());
                *report = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(t_report));
            }
            return Errors.Ok();
        }
        catch (Exception e) { return Errors.Report(e); }
    }

    private static readonly byte[] s_empty = GC.AllocateArray<byte>(1, pinned: true);

    internal static byte* EmptyString => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(s_empty));

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
            string file = PathRequired(path, "path");
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
            string file = PathRequired(path, "path");
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

    // A path as the file system's bytes: a name that is not UTF-8 (Python's os.fsencode of a Latin-1 name) keeps its
    // bytes as escapes (UserFiles.PathFromBytes), which the runtime opens, creates and renames through those bytes.
    private static string PathRequired(byte* s, string name) =>
        s == null ? throw new NativeError(Status.NullPointer, $"{name} is NULL") : UserFiles.PathFromBytes(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(s));

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
