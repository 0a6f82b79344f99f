// The public C# API shared by every compiled model: load (a checkpoint or a synthetic one), preprocess like HF,
// run on images / encoded bytes / pixel tensors, batch. FeatureExtractor and ImageClassifier add the outputs of
// their task. Thread safety: any number of threads may call one instance; calls are serialised
// by a lock (one activation arena per model). For parallel throughput, load one instance per thread.
using System.Runtime.InteropServices;
using AotVit.Runtime;
using AotVit.Runtime.Imaging;
using AotVit.Runtime.Model;
using AotVit.Runtime.Threading;
using AotVit.Runtime.Weights;

namespace AotVit;

public abstract unsafe class VisionModel : IDisposable
{
    private readonly IGeneratedModel _model;
    private readonly WorkerPool? _pool;
    private readonly Lock _gate = new();
    private bool _disposed;

    private protected VisionModel(ModelCatalog.Entry entry, string? weights, ModelOptions? options)
        : this(entry, weights, options, whileOpen: null)
    {
    }

    /// <summary>
    /// <paramref name="whileOpen"/>, with a checkpoint file only: called once the model is built from the file (and, in
    /// int8, measured), while the file is still open, with the binder the model read; the file is checked unchanged
    /// after it returns, so what it read is the version the model was built from. An exception from it (or from that
    /// check) disposes the model and propagates.
    /// </summary>
    private protected VisionModel(ModelCatalog.Entry entry, string? weights, ModelOptions? options,
                                  Action<ResolvedCheckpoint, WeightBinder>? whileOpen)
    {
        options ??= new ModelOptions();
        options.Validate();
        Options = options;
        Descriptor = entry.Descriptor;
        _applyExifOrientation = options.ApplyExifOrientation;
        if (weights is null)
        {
            var (source, warnings) = WeightSources.Synthetic(Descriptor, options.SyntheticSeed);
            WeightsDescription = $"synthetic checkpoint (seed {options.SyntheticSeed}; random weights, outputs are meaningless)";
            IsSynthetic = true;
            Warnings = warnings;
            _pool = options.Threads > 1 ? new WorkerPool(options.Threads) : null;
            try
            {
                _model = entry.Create(source, _pool);
                QuantizationReport = ApplyPrecision(null);
            }
            catch { _model?.Dispose(); _pool?.Dispose(); throw; }
            return;
        }

        // A file, a folder or a hub repo id in the local Hugging Face cache (CheckpointLocator), opened by content.
        ResolvedCheckpoint resolved = CheckpointLocator.Resolve(weights);
        if (resolved.ConfigPath is not null) ConfigCheck.Require(Descriptor, resolved.ConfigPath);
        using Checkpoint file = CheckpointFile.Open(resolved.Path);
        var (bound, bindWarnings) = WeightSources.Bind(file, Descriptor);
        bool int8File = ((WeightSources.BinderSource)bound).Binder.HasInt8;
        if (int8File && options.Precision != ModelPrecision.Int8)
            throw new InputException($"{resolved.Path} is an int8 checkpoint (aotvit quantize); open it with ModelOptions.Precision = Int8 (CLI: --precision int8)");
        _pool = options.Threads > 1 ? new WorkerPool(options.Threads) : null;
        try
        {
            _model = entry.Create(bound, _pool);
            // Packed weights and constants are copies: the file is needed only while loading, and what was read must
            // be one version of it.
            file.CheckUnchanged();
            QuantizationReport = ApplyPrecision(int8File ? file : null);
            if (whileOpen is not null)
            {
                whileOpen(resolved, ((WeightSources.BinderSource)bound).Binder);
                file.CheckUnchanged();
            }
        }
        catch
        {
            _model?.Dispose();
            _pool?.Dispose();
            throw;
        }
        IsSynthetic = file.IsSynthetic;
        string fullPath = Path.GetFullPath(resolved.Path);
        WeightsDescription = fullPath + (resolved.Source == "file" ? "" : $" ({resolved.Source}; {file.Format})")
            + (IsSynthetic ? $" (a synthetic checkpoint file, seed {file.Metadata[SyntheticWeights.SeedMetadataKey]}: random weights, outputs are meaningless)" : "");
        Warnings = [.. resolved.Notes, .. bindWarnings];
    }

    /// <summary>
    /// Int8 precision: from an int8 checkpoint, the report it carries; otherwise runs the calibration images in float32,
    /// quantizes the nn.Linear weights, runs them again and returns the comparison. Float32: nothing, null.
    /// </summary>
    private QuantizationReport? ApplyPrecision(Checkpoint? int8File)
    {
        if (Options.Precision != ModelPrecision.Int8) return null;
        if (int8File is not null)
        {
            return int8File.Metadata.TryGetValue(QuantizationReport.MetadataKey, out string? text) && QuantizationReport.TryParse(text) is { } stored
                ? stored
                : new QuantizationReport(0, "none: the int8 checkpoint carries no report", [], null, null, fromCheckpoint: true);
        }
        var (pixels, count, description) = Int8Quantization.CalibrationPixels(this);
        float[][] reference = RunAll(pixels, count), quantized;
        _model.QuantizeLinearWeights();
        quantized = RunAll(pixels, count);
        return Int8Quantization.Compare(Descriptor, count, description, reference, quantized);
    }

    private float[][] RunAll(float[] pixels, int count)
    {
        var outputs = new float[Descriptor.Outputs.Count][];
        for (int o = 0; o < outputs.Length; o++) outputs[o] = new float[(long)count * Descriptor.Outputs[o].FloatsPerImage];
        Run(count, pixels, outputs[0], outputs.Length > 1 ? outputs[1] : default);
        return outputs;
    }

    /// <summary>The entry, checked to be of the task the opening class serves.</summary>
    private protected static ModelCatalog.Entry RequireKind(ModelCatalog.Entry entry, ModelKind kind, string otherClass)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Kind != kind)
        {
            string what = entry.Kind == ModelKind.Classifier ? "an image classifier" : "a feature extractor";
            throw new InputException($"model '{entry.Name}' is {what} ({entry.Descriptor.Architecture}); open it with {otherClass}");
        }
        return entry;
    }

    /// <summary>The index of the output named <paramref name="name"/> in Descriptor.Outputs, or null.</summary>
    private protected int? OutputIndex(string name)
    {
        for (int i = 0; i < Descriptor.Outputs.Count; i++)
        {
            if (Descriptor.Outputs[i].Name == name) return i;
        }
        return null;
    }

    public ModelDescriptor Descriptor { get; }
    public ModelOptions Options { get; }
    /// <summary>The model's preprocessing (Descriptor.Preprocess).</summary>
    public PreprocessPlan Plan => Descriptor.Preprocess;
    public bool IsSynthetic { get; }
    /// <summary>The arithmetic of the nn.Linear layers (Options.Precision).</summary>
    public ModelPrecision Precision => Options.Precision;
    /// <summary>In int8 precision, how far int8 is from float32 on this checkpoint (measured at load on the calibration
    /// images, or stored in the int8 checkpoint); null in float32.</summary>
    public QuantizationReport? QuantizationReport { get; }
    /// <summary>The checkpoint's full path (with where it was found, for a folder or the hub cache), or a description of
    /// the synthetic checkpoint.</summary>
    public string WeightsDescription { get; }
    /// <summary>What did not stop loading but is worth saying: a fallback the locator took (a hub pull-request revision),
    /// checkpoint oddities (unused tensors, gaps, both prefixed and plain names).</summary>
    public IReadOnlyList<string> Warnings { get; }
    public int InputFloatsPerImage => Descriptor.InputFloatsPerImage;
    /// <summary>Native bytes held: packed weights, constants and the activation arena.</summary>
    public long NativeBytes => _model.NativeBytes;

    // ---- images → pixel_values ----

    /// <summary>
    /// Whether image files and bytes are oriented by their EXIF tag (transformers' load_image) before preprocessing;
    /// starts as Options.ApplyExifOrientation. Changing it affects calls that start afterwards (the C ABI's
    /// aotvit_model_set_exif_transpose sets it).
    /// </summary>
    public bool ApplyExifOrientation { get => _applyExifOrientation; set => _applyExifOrientation = value; }

    private volatile bool _applyExifOrientation;

    /// <summary>The image at <paramref name="path"/> as HF's load_image gives it (EXIF orientation applied unless
    /// ApplyExifOrientation is false).</summary>
    public RgbImage LoadImage(string path) => ImageDecoder.Load(path, Options.ImageLimits, ApplyExifOrientation);

    /// <summary>Encoded image bytes decoded as <see cref="LoadImage"/> decodes a file.</summary>
    public RgbImage DecodeImage(ReadOnlySpan<byte> encoded) => ImageDecoder.Decode(encoded, Options.ImageLimits, ApplyExifOrientation);

    /// <summary>HF image processor (slow path) into destination: [C, H, W] float32.</summary>
    public void Preprocess(RgbImage image, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        var (c, h, w) = Preprocessor.OutputSize(Plan, image.Width, image.Height);
        CheckInputShape(c, h, w);
        Preprocessor.Run(image, Plan, destination);
    }

    /// <summary>
    /// An encoded image straight to pixel_values [C, H, W] (decode, EXIF orientation unless switched off, HF's
    /// processor): the same values as Preprocess(DecodeImage(encoded)), computed without turning the image (the
    /// resize reads the stored pixels in oriented order) and, for JPEG (decoded in MCU rows, only the pixels the
    /// model input depends on), without holding the full-resolution RGB image.
    /// </summary>
    public void PreprocessEncoded(ReadOnlySpan<byte> encoded, Span<float> destination) =>
        PreprocessEncoded(encoded, destination, useModelThreads: true);

    /// <summary>
    /// <see cref="PreprocessEncoded(ReadOnlySpan{byte}, Span{float})"/>; with <paramref name="useModelThreads"/>, a
    /// large JPEG is decoded with two of the model's threads when the model is not running (Options.Threads &gt; 1),
    /// otherwise on the calling thread. The values are the same either way. Callers that decode on their own threads
    /// while another thread runs this model pass false, so a decode never delays the model.
    /// </summary>
    public void PreprocessEncoded(ReadOnlySpan<byte> encoded, Span<float> destination, bool useModelThreads)
    {
        bool pooled = useModelThreads && _pool is not null && _gate.TryEnter();
        try
        {
            using var stream = ImageDecoder.DecodeStreaming(encoded, Plan, Options.ImageLimits, ApplyExifOrientation,
                                                            pooled && !_disposed ? _pool : null);
            CheckInputShape(3, stream.OutputHeight, stream.OutputWidth);
            stream.Finish(destination);
        }
        finally
        {
            if (pooled) _gate.Exit();
        }
    }

    /// <summary><see cref="PreprocessEncoded"/> of the file at <paramref name="path"/> (read as <see cref="LoadImage"/> reads it).</summary>
    public void PreprocessFile(string path, Span<float> destination) =>
        PreprocessEncoded(ImageDecoder.ReadFile(path, Options.ImageLimits), destination);

    public float[] PreprocessEncoded(ReadOnlySpan<byte> encoded, bool useModelThreads = true)
    {
        var pixels = new float[InputFloatsPerImage];
        PreprocessEncoded(encoded, pixels, useModelThreads);
        return pixels;
    }

    public float[] PreprocessFile(string path)
    {
        var pixels = new float[InputFloatsPerImage];
        PreprocessFile(path, pixels);
        return pixels;
    }

    private void CheckInputShape(int c, int h, int w)
    {
        if (c * h * w != InputFloatsPerImage)
            throw new InvalidOperationException($"the preprocessor produced [{c}, {h}, {w}], the model expects [{string.Join(", ", Descriptor.InputShape)}]");
    }

    public float[] Preprocess(RgbImage image)
    {
        var pixels = new float[InputFloatsPerImage];
        Preprocess(image, pixels);
        return pixels;
    }

    // ---- the forward pass ----

    /// <summary>
    /// Runs the model on <paramref name="batch"/> preprocessed images: pixelValues [batch, C, H, W]; each output span
    /// [batch, ...] in Descriptor.Outputs order (output1 is unused by single-output models). No managed allocation.
    /// Batches larger than Options.MaxBatch are run in chunks; batches above Options.MaxBatchPerCall are refused.
    /// </summary>
    public void Run(int batch, ReadOnlySpan<float> pixelValues, Span<float> output0, Span<float> output1 = default) =>
        Run(batch, pixelValues, output0, output1, CancellationToken.None);

    /// <summary>
    /// <see cref="Run(int, ReadOnlySpan{float}, Span{float}, Span{float})"/>, cancellable between chunks of
    /// Options.MaxBatch images: OperationCanceledException when <paramref name="cancellationToken"/> is cancelled
    /// (outputs of chunks already run are written, the rest are not).
    /// </summary>
    public void Run(int batch, ReadOnlySpan<float> pixelValues, Span<float> output0, Span<float> output1, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckBatch(batch, pixelValues.Length);
        var outputs = Descriptor.Outputs;
        CheckOutput(output0, batch, outputs[0], nameof(output0));
        if (outputs.Count > 1) CheckOutput(output1, batch, outputs[1], nameof(output1));
        else if (!output1.IsEmpty) throw new ArgumentException($"{Descriptor.Name} has one output", nameof(output1));

        int per0 = outputs[0].FloatsPerImage, per1 = outputs.Count > 1 ? outputs[1].FloatsPerImage : 0;
        Span<nint> pointers = stackalloc nint[2];
        fixed (float* px = pixelValues)
        fixed (float* o0 = output0)
        fixed (float* o1 = output1)
        {
            lock (_gate)
            {
                // Checked again under the lock: Dispose (which takes the lock) may have run since the first check.
                ObjectDisposedException.ThrowIf(_disposed, this);
                for (int start = 0; start < batch; start += Options.MaxBatch)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int n = Math.Min(Options.MaxBatch, batch - start);
                    pointers[0] = (nint)(o0 + (long)start * per0);
                    pointers[1] = (nint)(o1 + (long)start * per1);
                    _model.Run(n, px + (long)start * InputFloatsPerImage, pointers[..outputs.Count]);
                }
            }
        }
    }

    /// <summary>
    /// Validates a batch request before anything is allocated for it: 1 ≤ batch ≤ Options.MaxBatchPerCall and
    /// pixelFloats = batch · InputFloatsPerImage.
    /// </summary>
    private protected void CheckBatch(int batch, long pixelFloats)
    {
        if (batch < 1) throw new InputException($"batch is {batch}; it must be at least 1");
        if (batch > Options.MaxBatchPerCall)
            throw new LimitExceededException($"batch {batch} is above the limit of {Options.MaxBatchPerCall} images per call (ModelOptions.MaxBatchPerCall)");
        long input = (long)batch * InputFloatsPerImage;
        if (pixelFloats != input)
            throw new ArgumentException($"pixel_values holds {pixelFloats} floats; [{batch}, {string.Join(", ", Descriptor.InputShape)}] needs {input}", "pixelValues");
    }

    private static void CheckOutput(Span<float> span, int batch, OutputDescriptor o, string name)
    {
        long need = (long)batch * o.FloatsPerImage;
        if (span.Length != need)
            throw new ArgumentException($"{o.Name} buffer holds {span.Length} floats; [{batch}, {string.Join(", ", o.Shape)}] needs {need}", name);
    }

    /// <summary>Preprocesses a batch of images into one [n, C, H, W] tensor; cancellable between images.</summary>
    public float[] PreprocessBatch(IReadOnlyList<RgbImage> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new InputException("no images: a batch needs at least one");
        if (images.Count > Options.MaxBatchPerCall)
            throw new LimitExceededException($"{images.Count} images is above the limit of {Options.MaxBatchPerCall} per call (ModelOptions.MaxBatchPerCall)");
        var pixels = new float[(long)images.Count * InputFloatsPerImage];
        for (int i = 0; i < images.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Preprocess(images[i], pixels.AsSpan(i * InputFloatsPerImage, InputFloatsPerImage));
        }
        return pixels;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _model.Dispose();
            _pool?.Dispose();
        }
        GC.SuppressFinalize(this);
    }
}
