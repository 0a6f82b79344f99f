using AotVit.Runtime;
using AotVit.Runtime.Imaging;

namespace AotVit;

/// <summary>How a model is loaded and run.</summary>
public sealed record ModelOptions
{
    /// <summary>Threads used by one inference (the caller's thread included). Default: all cores, at most 8.</summary>
    public int Threads { get; init; } = Math.Clamp(Environment.ProcessorCount, 1, 8);

    /// <summary>Largest batch run in one forward pass; larger requests are split. Bounds the activation arena.</summary>
    public int MaxBatch { get; init; } = 16;

    /// <summary>
    /// Largest batch one call accepts (Run, ExtractBatch, ClassifyBatch, the *PixelsBatch methods); larger requests are
    /// refused with LimitExceededException before anything is allocated. Bounds the output arrays a caller-chosen
    /// batch number can make the library allocate. Default 1024.
    /// </summary>
    public int MaxBatchPerCall { get; init; } = 1024;

    /// <summary>Limits applied to decoded images (pixel count: decompression-bomb guard).</summary>
    public ImageLimits ImageLimits { get; init; } = ImageLimits.Default;

    /// <summary>
    /// Apply an image file's EXIF orientation before preprocessing (default true): what transformers' load_image does
    /// (PIL.ImageOps.exif_transpose, then convert("RGB")) for a path or URL, and so what pipeline(...) does. false: the
    /// stored pixels, as an image processor given Image.open(f) without exif_transpose sees them.
    /// </summary>
    public bool ApplyExifOrientation { get; init; } = true;

    /// <summary>
    /// Arithmetic of the nn.Linear layers (default Float32, which matches PyTorch). Int8: per-output-channel int8 weights
    /// and per-row 7-bit activations; on load from a float checkpoint the calibration images run in both precisions
    /// and the model's QuantizationReport says how far int8 is from float32. An int8 checkpoint (aotvit quantize)
    /// needs Int8.
    /// </summary>
    public ModelPrecision Precision { get; init; } = ModelPrecision.Float32;

    /// <summary>Image files the int8 calibration runs on (default: built-in synthetic images; real photos of the
    /// model's domain give a figure that means something for them).</summary>
    public IReadOnlyList<string>? CalibrationImages { get; init; }

    /// <summary>Seed of the synthetic checkpoint used when no weights file is given.</summary>
    public ulong SyntheticSeed { get; init; }

    // Equality, hash and text as the compiler writes them, with the precision compared as a value and named by hand:
    // EqualityComparer<ModelPrecision> and formatting an enum value keep the runtime's enum formatting in the binary.
    public bool Equals(ModelOptions? other) =>
        ReferenceEquals(this, other) ||
        (other is not null && Threads == other.Threads && MaxBatch == other.MaxBatch && MaxBatchPerCall == other.MaxBatchPerCall &&
         EqualityComparer<ImageLimits>.Default.Equals(ImageLimits, other.ImageLimits) &&
         ApplyExifOrientation == other.ApplyExifOrientation && Precision == other.Precision &&
         EqualityComparer<IReadOnlyList<string>?>.Default.Equals(CalibrationImages, other.CalibrationImages) &&
         SyntheticSeed == other.SyntheticSeed);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Threads);
        hash.Add(MaxBatch);
        hash.Add(MaxBatchPerCall);
        hash.Add(ImageLimits);
        hash.Add(ApplyExifOrientation);
        hash.Add((int)Precision);
        hash.Add(CalibrationImages);
        hash.Add(SyntheticSeed);
        return hash.ToHashCode();
    }

    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Threads = ").Append(Threads.ToString());
        builder.Append(", MaxBatch = ").Append(MaxBatch.ToString());
        builder.Append(", MaxBatchPerCall = ").Append(MaxBatchPerCall.ToString());
        builder.Append(", ImageLimits = ").Append((object?)ImageLimits);
        builder.Append(", ApplyExifOrientation = ").Append(ApplyExifOrientation.ToString());
        builder.Append(", Precision = ").Append(Precision switch
        {
            ModelPrecision.Float32 => nameof(ModelPrecision.Float32),
            ModelPrecision.Int8 => nameof(ModelPrecision.Int8),
            _ => ((int)Precision).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        builder.Append(", CalibrationImages = ").Append((object?)CalibrationImages);
        builder.Append(", SyntheticSeed = ").Append(SyntheticSeed.ToString());
        return true;
    }

    internal void Validate()
    {
        if (Threads < 1 || Threads > 256) throw new InputException($"ModelOptions.Threads is {Threads}; it must be between 1 and 256");
        if (MaxBatch < 1 || MaxBatch > 1024) throw new InputException($"ModelOptions.MaxBatch is {MaxBatch}; it must be between 1 and 1024");
        if (MaxBatchPerCall < 1) throw new InputException($"ModelOptions.MaxBatchPerCall is {MaxBatchPerCall}; it must be at least 1");
        if (ImageLimits is null) throw new InputException("ModelOptions.ImageLimits is null");
        if (Precision is not (ModelPrecision.Float32 or ModelPrecision.Int8)) throw new InputException($"ModelOptions.Precision is {(int)Precision}; it must be Float32 or Int8");
        if (CalibrationImages is { Count: > 64 }) throw new InputException($"ModelOptions.CalibrationImages lists {CalibrationImages.Count} images; at most 64 are used for calibration");
    }
}
