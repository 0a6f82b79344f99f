using AotVit.Runtime;
using AotVit.Runtime.Imaging;
using AotVit.Runtime.Model;

namespace AotVit;

/// <summary>One class with its softmax probability.</summary>
public readonly record struct Prediction(int ClassIndex, string Label, float Probability, float Logit);

/// <summary>The logits of one image and its most probable classes, best first.</summary>
public sealed record Classification(float[] Logits, IReadOnlyList<Prediction> Top);

/// <summary>
/// An image classifier (HF MobileViTForImageClassification, ViTForImageClassification, DeiTForImageClassification[WithTeacher]:
/// <see cref="ModelKind.Classifier"/>) compiled ahead of time, opened by catalog name or hub repo id (<see cref="ModelCatalog"/>).
/// </summary>
public sealed class ImageClassifier : VisionModel
{
    private ImageClassifier(ModelCatalog.Entry entry, string? weights, ModelOptions? options)
        : base(RequireKind(entry, ModelKind.Classifier, nameof(FeatureExtractor)), weights, options)
    {
    }

    /// <inheritdoc cref="FeatureExtractor.Load"/>
    public static ImageClassifier Load(string model, string weights, ModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return new ImageClassifier(ModelCatalog.Find(model), weights, options);
    }

    /// <summary>A synthetic checkpoint made from options.SyntheticSeed: real shapes, random values. For tests and benchmarks.</summary>
    public static ImageClassifier CreateSynthetic(string model, ModelOptions? options = null) => new(ModelCatalog.Find(model), null, options);

    public int ClassCount => Descriptor.Outputs[0].Shape[0];

    /// <summary>Class names (config.json id2label), by class index.</summary>
    public IReadOnlyList<string> Labels => Descriptor.Labels!;

    public Classification Classify(string imagePath, int top = 5) => ClassifyPixelsBatch(1, PreprocessFile(imagePath), top)[0];

    public Classification Classify(ReadOnlySpan<byte> encodedImage, int top = 5) => ClassifyPixelsBatch(1, PreprocessEncoded(encodedImage), top)[0];

    public Classification Classify(RgbImage image, int top = 5) => ClassifyPixelsBatch(1, Preprocess(image), top)[0];

    /// <summary>Classifies a batch of images; cancellable between images (preprocessing) and chunks of Options.MaxBatch (inference).</summary>
    public Classification[] ClassifyBatch(IReadOnlyList<RgbImage> images, int top = 5, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        CheckTop(top);
        return ClassifyPixelsBatch(images.Count, PreprocessBatch(images, cancellationToken), top, cancellationToken);
    }

    /// <summary>pixelValues: [batch, C, H, W] as <see cref="VisionModel.Preprocess(RgbImage)"/> makes them; 1 ≤ batch ≤ Options.MaxBatchPerCall.</summary>
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
        if (top < 0 || top > ClassCount) throw new InputException($"top is {top}; it must be between 0 and {ClassCount}");
    }

    /// <summary>Softmax (in double, max-subtracted) and the k best classes; ties keep the lower class index first.</summary>
    /// <exception cref="ArgumentException">logits does not hold ClassCount values.</exception>
    /// <exception cref="InputException">k is outside [0, ClassCount].</exception>
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
