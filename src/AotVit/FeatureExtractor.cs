using AotVit.Runtime;
using AotVit.Runtime.Imaging;
using AotVit.Runtime.Model;

namespace AotVit;

/// <summary>The hidden states of one image: last_hidden_state [Tokens, HiddenSize], and pooler_output [HiddenSize]
/// where the model has a pooler (HF ViTModel / DeiTModel: tanh(dense(token 0))).</summary>
public sealed record Features(float[] LastHiddenState, float[]? PoolerOutput, int Tokens, int HiddenSize)
{
    /// <summary>The [CLS] token's final hidden state (row 0 of LastHiddenState).</summary>
    public ReadOnlySpan<float> ClsToken => LastHiddenState.AsSpan(0, HiddenSize);
}

/// <summary>
/// A feature-extraction model (HF ViTModel, DeiTModel: <see cref="ModelKind.FeatureExtractor"/>) compiled ahead of time,
/// opened by catalog name or hub repo id (<see cref="ModelCatalog"/>).
/// </summary>
public sealed class FeatureExtractor : VisionModel
{
    private readonly int _lastHidden, _pooler;   // indices into Descriptor.Outputs (_pooler −1: none)

    private FeatureExtractor(ModelCatalog.Entry entry, string? weights, ModelOptions? options)
        : base(RequireKind(entry, ModelKind.FeatureExtractor, nameof(ImageClassifier)), weights, options)
    {
        _lastHidden = OutputIndex("last_hidden_state") ?? throw new InvalidOperationException($"{entry.Name} has no last_hidden_state output");
        _pooler = OutputIndex("pooler_output") ?? -1;
        Tokens = Descriptor.Outputs[_lastHidden].Shape[0];
        HiddenSize = Descriptor.Outputs[_lastHidden].Shape[1];
    }

    /// <summary>
    /// Loads <paramref name="model"/> (a catalog name or hub repo id) with the checkpoint <paramref name="weights"/>: a file
    /// (model.safetensors or pytorch_model.bin, recognised by content; F32/F16/BF16; keys with or without the task prefix),
    /// a folder holding one, or a hub repo id ("org/name[@revision]") in the local Hugging Face cache
    /// (<see cref="Runtime.Weights.CheckpointLocator"/>). A folder's config.json must match the compiled model.
    /// </summary>
    /// <exception cref="InputException">Unknown model (the message lists the compiled ones), or a classifier.</exception>
    public static FeatureExtractor Load(string model, string weights, ModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return new FeatureExtractor(ModelCatalog.Find(model), weights, options);
    }

    /// <summary>A synthetic checkpoint made from options.SyntheticSeed: real shapes, random values. For tests and benchmarks.</summary>
    public static FeatureExtractor CreateSynthetic(string model, ModelOptions? options = null) => new(ModelCatalog.Find(model), null, options);

    public int Tokens { get; }

    public int HiddenSize { get; }

    /// <summary>True when the model has a pooler (Features.PoolerOutput is set).</summary>
    public bool HasPooler => _pooler >= 0;

    public Features Extract(string imagePath) => ExtractPixels(PreprocessFile(imagePath));

    public Features Extract(ReadOnlySpan<byte> encodedImage) => ExtractPixels(PreprocessEncoded(encodedImage));

    public Features Extract(RgbImage image) => ExtractPixels(Preprocess(image));

    /// <summary>pixelValues: one preprocessed image [C, H, W] (Descriptor.InputShape).</summary>
    public Features ExtractPixels(ReadOnlySpan<float> pixelValues) => ExtractPixelsBatch(1, pixelValues)[0];

    /// <summary>Extracts a batch of images; cancellable between images (preprocessing) and chunks of Options.MaxBatch (inference).</summary>
    public Features[] ExtractBatch(IReadOnlyList<RgbImage> images, CancellationToken cancellationToken = default) =>
        ExtractPixelsBatch(images?.Count ?? throw new ArgumentNullException(nameof(images)), PreprocessBatch(images, cancellationToken), cancellationToken);

    /// <summary>pixelValues: [batch, C, H, W]; 1 ≤ batch ≤ Options.MaxBatchPerCall.</summary>
    public Features[] ExtractPixelsBatch(int batch, ReadOnlySpan<float> pixelValues, CancellationToken cancellationToken = default)
    {
        CheckBatch(batch, pixelValues.Length);
        int lastPer = Tokens * HiddenSize;
        var last = new float[(long)batch * lastPer];
        var pooled = HasPooler ? new float[(long)batch * HiddenSize] : null;
        Span<float> first = _lastHidden == 0 ? last : pooled, second = _lastHidden == 0 ? pooled : last;
        Run(batch, pixelValues, first, second, cancellationToken);
        var result = new Features[batch];
        for (int i = 0; i < batch; i++)
        {
            result[i] = new Features(last.AsSpan(i * lastPer, lastPer).ToArray(),
                                     pooled?.AsSpan(i * HiddenSize, HiddenSize).ToArray(), Tokens, HiddenSize);
        }
        return result;
    }
}
