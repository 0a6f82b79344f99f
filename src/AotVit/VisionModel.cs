// The public C# API shared by both models: load (checkpoint file or synthetic), preprocess like HF,
// run on images / encoded bytes / pixel tensors, batch. ViTEmbedder and MobileViTClassifier add the
// model-specific outputs. Thread safety: any number of threads may call one instance; calls are serialised
// by a lock (one activation arena per model). For parallel throughput, load one instance per thread.
using System.Runtime.InteropServices;
using AotVit.Runtime.Imaging;
using AotVit.Runtime.Model;
using AotVit.Runtime.Threading;
using AotVit.Runtime.Weights;

namespace AotVit;

public abstract unsafe class VisionModel : IDisposable
{
    private readonly IGeneratedModel _model;
    private readonly WorkerPool? _pool;
    private readonly SafeTensorsFile? _file;
    private readonly Lock _gate = new();
    private bool _disposed;

    private protected VisionModel(ModelCatalog.Entry entry, string? weightsPath, ModelOptions? options)
    {
        options ??= new ModelOptions();
        options.Validate();
        Options = options;
        Descriptor = entry.Descriptor;
        Plan = ToPlan(Descriptor.Preprocess);
        ITensorSource source;
        IReadOnlyList<string> warnings;
        if (weightsPath is null)
        {
            (source, warnings) = WeightSources.Synthetic(Descriptor, options.SyntheticSeed);
            WeightsDescription = $"synthetic checkpoint (seed {options.SyntheticSeed}; random weights, outputs are meaningless)";
            IsSynthetic = true;
        }
        else
        {
            _file = SafeTensorsFile.Open(weightsPath);
            try { (source, warnings) = WeightSources.Bind(_file, Descriptor); }
            catch { _file.Dispose(); throw; }
            WeightsDescription = Path.GetFullPath(weightsPath);
        }
        Warnings = warnings;
        _pool = options.Threads > 1 ? new WorkerPool(options.Threads) : null;
        try { _model = entry.Create(source, _pool); }
        catch { _pool?.Dispose(); _file?.Dispose(); throw; }
        // Packed weights and constants are copies: the mapping is only needed while loading.
        _file?.Dispose();
        _file = null;
    }

    public ModelDescriptor Descriptor { get; }
    public ModelOptions Options { get; }
    public PreprocessPlan Plan { get; }
    public bool IsSynthetic { get; }
    /// <summary>The checkpoint's full path, or a description of the synthetic checkpoint.</summary>
    public string WeightsDescription { get; }
    /// <summary>Checkpoint oddities that did not stop loading (unused tensors, gaps, both prefixed and plain names).</summary>
    public IReadOnlyList<string> Warnings { get; }
    public int InputFloatsPerImage => Descriptor.InputFloatsPerImage;
    /// <summary>Native bytes held: packed weights, constants and the activation arena.</summary>
    public long NativeBytes => _model.NativeBytes;

    internal static PreprocessPlan ToPlan(PreprocessSettings s) => new(
        s.Resize == ResizeKind.Exact ? new ResizeMode.Exact(s.ResizeHeight, s.ResizeWidth) : new ResizeMode.ShortestEdge(s.ShortestEdge),
        s.CenterCrop ? (s.CropHeight, s.CropWidth) : null,
        s.Rescale ? s.RescaleFactor : null,
        s.Normalize ? new ChannelNormalization(s.Mean, s.Std) : null,
        s.FlipChannelOrder);

    // ---- images → pixel_values ----

    public RgbImage LoadImage(string path) => ImageDecoder.Load(path, Options.ImageLimits);

    public RgbImage DecodeImage(ReadOnlySpan<byte> encoded) => ImageDecoder.Decode(encoded, Options.ImageLimits);

    /// <summary>HF image processor (slow path) into destination: [C, H, W] float32.</summary>
    public void Preprocess(RgbImage image, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        var (c, h, w) = Preprocessor.OutputSize(Plan, image.Width, image.Height);
        if (c * h * w != InputFloatsPerImage)
            throw new InvalidOperationException($"the preprocessor produced [{c}, {h}, {w}], the model expects [{string.Join(", ", Descriptor.InputShape)}]");
        Preprocessor.Run(image, Plan, destination);
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
    /// Batches larger than Options.MaxBatch are run in chunks.
    /// </summary>
    public void Run(int batch, ReadOnlySpan<float> pixelValues, Span<float> output0, Span<float> output1 = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch must be at least 1");
        var outputs = Descriptor.Outputs;
        long input = (long)batch * InputFloatsPerImage;
        if (pixelValues.Length != input)
            throw new ArgumentException($"pixel_values holds {pixelValues.Length} floats; [{batch}, {string.Join(", ", Descriptor.InputShape)}] needs {input}", nameof(pixelValues));
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
                ObjectDisposedException.ThrowIf(_disposed, this);
                for (int start = 0; start < batch; start += Options.MaxBatch)
                {
                    int n = Math.Min(Options.MaxBatch, batch - start);
                    pointers[0] = (nint)(o0 + (long)start * per0);
                    pointers[1] = (nint)(o1 + (long)start * per1);
                    _model.Run(n, px + (long)start * InputFloatsPerImage, pointers[..outputs.Count]);
                }
            }
        }
    }

    private static void CheckOutput(Span<float> span, int batch, OutputDescriptor o, string name)
    {
        long need = (long)batch * o.FloatsPerImage;
        if (span.Length != need)
            throw new ArgumentException($"{o.Name} buffer holds {span.Length} floats; [{batch}, {string.Join(", ", o.Shape)}] needs {need}", name);
    }

    /// <summary>Decodes and preprocesses a batch of encoded images into one [n, C, H, W] tensor.</summary>
    public float[] PreprocessBatch(IReadOnlyList<RgbImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("no images", nameof(images));
        var pixels = new float[(long)images.Count * InputFloatsPerImage];
        for (int i = 0; i < images.Count; i++)
            Preprocess(images[i], pixels.AsSpan(i * InputFloatsPerImage, InputFloatsPerImage));
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
