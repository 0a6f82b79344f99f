using AotVit.Runtime.Imaging;

namespace AotVit;

/// <summary>One class with its softmax probability.</summary>
public readonly record struct Prediction(int ClassIndex, string Label, float Probability, float Logit);

/// <summary>The logits of one image and its most probable classes, best first.</summary>
public sealed record Classification(float[] Logits, IReadOnlyList<Prediction> Top);

/// <summary>apple/mobilevit-small (HF MobileViTForImageClassification, ImageNet-1k), compiled ahead of time.</summary>
public sealed class MobileViTClassifier : VisionModel
{
    private MobileViTClassifier(string? weightsPath, ModelOptions? options) : base(ModelCatalog.MobileViTSmall, weightsPath, options) { }

    /// <summary>Loads a HF checkpoint: a file (model.safetensors or pytorch_model.bin, recognised by content; F32/F16/BF16;
    /// keys with or without the task prefix), a folder holding one, or a hub repo id ("org/name[@revision]") in the local
    /// Hugging Face cache (<see cref="Runtime.Weights.CheckpointLocator"/>). A folder's config.json must match the compiled
    /// model.</summary>
    public static MobileViTClassifier Load(string weights, ModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return new MobileViTClassifier(weights, options);
    }

    public static MobileViTClassifier CreateSynthetic(ModelOptions? options = null) => new(null, options);

    public int ClassCount => Descriptor.Outputs[0].Shape[0];

    public IReadOnlyList<string> Labels => Descriptor.Labels!;

    public Classification Classify(string imagePath, int top = 5) => Classify(LoadImage(imagePath), top);

    public Classification Classify(ReadOnlySpan<byte> encodedImage, int top = 5) => Classify(DecodeImage(encodedImage), top);

    public Classification Classify(RgbImage image, int top = 5) => ClassifyPixelsBatch(1, Preprocess(image), top)[0];

    /// <summary>Classifies a batch of images; cancellable between images (preprocessing) and chunks of Options.MaxBatch (inference).</summary>
    public Classification[] ClassifyBatch(IReadOnlyList<RgbImage> images, int top = 5, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        CheckTop(top);
        return ClassifyPixelsBatch(images.Count, PreprocessBatch(images, cancellationToken), top, cancellationToken);
    }

    /// <summary>pixelValues: [batch, 3, 256, 256], BGR, in [0, 1] (see Preprocess); 1 ≤ batch ≤ Options.MaxBatchPerCall.</summary>
    public Classification[] ClassifyPixelsBatch(int batch, ReadOnlySpan<float> pixelValues, int top = 5, CancellationToken cancellationToken = default)
    {
        CheckTop(top);
        CheckBatch(batch, pixelValues.Length);
        var logits = new float[(long)batch * ClassCount];
        Run(batch, pixelValues, logits, default, cancellationToken);
        var result = new Classification[batch];
        for (int i = 0; i < batch; i++)
        {
            var row = logits.AsSpan(i * ClassCount, ClassCount).ToArray();
            result[i] = new Classification(row, TopK(row, top));
        }
        return result;
    }

    private void CheckTop(int top)
    {
        if (top < 0 || top > ClassCount) throw new ArgumentOutOfRangeException(nameof(top), top, $"top must be between 0 and {ClassCount}");
    }

    /// <summary>Softmax (in double, max-subtracted) and the k best classes; ties keep the lower class index first.</summary>
    /// <exception cref="ArgumentException">logits does not hold ClassCount values.</exception>
    /// <exception cref="ArgumentOutOfRangeException">k is outside [0, ClassCount].</exception>
    public IReadOnlyList<Prediction> TopK(ReadOnlySpan<float> logits, int k)
    {
        if (logits.Length != ClassCount)
            throw new ArgumentException($"logits holds {logits.Length} values; {Descriptor.Name} has {ClassCount} classes", nameof(logits));
        CheckTop(k);
        double max = double.NegativeInfinity;
        foreach (float v in logits) max = Math.Max(max, v);
        double sum = 0;
        foreach (float v in logits) sum += Math.Exp(v - max);
        var order = new int[logits.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var copy = logits.ToArray();
        Array.Sort(order, (a, b) => copy[b].CompareTo(copy[a]) is var c && c != 0 ? c : a.CompareTo(b));
        var top = new List<Prediction>(k);
        for (int j = 0; j < k; j++)
        {
            int i = order[j];
            top.Add(new Prediction(i, Labels[i], (float)(Math.Exp(copy[i] - max) / sum), copy[i]));
        }
        return top;
    }
}
