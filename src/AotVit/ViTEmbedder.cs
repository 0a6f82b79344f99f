using AotVit.Runtime.Imaging;

namespace AotVit;

/// <summary>ViT-B/32 image features: last_hidden_state [50, 768] and pooler_output [768] for each image.</summary>
public sealed record ViTEmbedding(float[] LastHiddenState, float[] PoolerOutput, int Tokens, int HiddenSize)
{
    /// <summary>The [CLS] token's final hidden state (row 0 of LastHiddenState).</summary>
    public ReadOnlySpan<float> ClsToken => LastHiddenState.AsSpan(0, HiddenSize);
}

/// <summary>google/vit-base-patch32-224-in21k (HF ViTModel with pooler), compiled ahead of time.</summary>
public sealed class ViTEmbedder : VisionModel
{
    private ViTEmbedder(string? weightsPath, ModelOptions? options) : base(ModelCatalog.ViTBasePatch32, weightsPath, options) { }

    /// <summary>Loads a HF checkpoint: a file (model.safetensors or pytorch_model.bin, recognised by content; F32/F16/BF16;
    /// keys with or without the task prefix), a folder holding one, or a hub repo id ("org/name[@revision]") in the local
    /// Hugging Face cache (<see cref="Runtime.Weights.CheckpointLocator"/>). A folder's config.json must match the compiled
    /// model.</summary>
    public static ViTEmbedder Load(string weights, ModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return new ViTEmbedder(weights, options);
    }

    /// <summary>A synthetic checkpoint made from options.SyntheticSeed: real shapes, random values. For tests and benchmarks.</summary>
    public static ViTEmbedder CreateSynthetic(ModelOptions? options = null) => new(null, options);

    public int Tokens => Descriptor.Outputs[0].Shape[0];
    public int HiddenSize => Descriptor.Outputs[1].Shape[0];

    public ViTEmbedding Embed(string imagePath) => Embed(LoadImage(imagePath));

    public ViTEmbedding Embed(ReadOnlySpan<byte> encodedImage) => Embed(DecodeImage(encodedImage));

    public ViTEmbedding Embed(RgbImage image) => EmbedPixels(Preprocess(image));

    /// <summary>pixelValues: one preprocessed image [3, 224, 224].</summary>
    public ViTEmbedding EmbedPixels(ReadOnlySpan<float> pixelValues) => EmbedPixelsBatch(1, pixelValues)[0];

    /// <summary>Embeds a batch of images; cancellable between images (preprocessing) and chunks of Options.MaxBatch (inference).</summary>
    public ViTEmbedding[] EmbedBatch(IReadOnlyList<RgbImage> images, CancellationToken cancellationToken = default) =>
        EmbedPixelsBatch(images?.Count ?? throw new ArgumentNullException(nameof(images)), PreprocessBatch(images, cancellationToken), cancellationToken);

    /// <summary>pixelValues: [batch, 3, 224, 224]; 1 ≤ batch ≤ Options.MaxBatchPerCall.</summary>
    public ViTEmbedding[] EmbedPixelsBatch(int batch, ReadOnlySpan<float> pixelValues, CancellationToken cancellationToken = default)
    {
        CheckBatch(batch, pixelValues.Length);
        int lastPer = Tokens * HiddenSize;
        var last = new float[(long)batch * lastPer];
        var pooled = new float[(long)batch * HiddenSize];
        Run(batch, pixelValues, last, pooled, cancellationToken);
        var result = new ViTEmbedding[batch];
        for (int i = 0; i < batch; i++)
            result[i] = new ViTEmbedding(last.AsSpan(i * lastPer, lastPer).ToArray(), pooled.AsSpan(i * HiddenSize, HiddenSize).ToArray(), Tokens, HiddenSize);
        return result;
    }
}
