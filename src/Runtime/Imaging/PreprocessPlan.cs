// PreprocessPlan: an immutable description of a Hugging Face "slow" image-processor pipeline
// (resize -> rescale -> normalize -> center crop -> flip channel order -> CHW), as the values appear in
// preprocessor_config.json. It holds no model knowledge; src/AotVit builds the plans for its models.

using System.Collections.Immutable;

namespace AotVit.Runtime.Imaging;

/// <summary>How the decoded image is resized, and with which Pillow filter (HF <c>resample</c>: 2 = BILINEAR, the
/// default of every constructor without a filter, 3 = BICUBIC).</summary>
public abstract record ResizeMode
{
    private ResizeMode(ResampleFilter filter)
    {
        ResampleFilters.ThrowIfUndefined(filter, nameof(filter));
        Filter = filter;
    }

    public ResampleFilter Filter { get; }

    // Written by hand so the record's ToString names the filter without enum formatting (NativeAOT size).
    protected virtual bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Filter = ").Append(Filter.Name());
        return true;
    }

    // Equality and hash as the compiler writes them, with the filter compared as a value: EqualityComparer<ResampleFilter>
    // keeps the runtime's enum formatting in the NativeAOT binaries.
    public virtual bool Equals(ResizeMode? other) =>
        ReferenceEquals(this, other) || (other is not null && EqualityContract == other.EqualityContract && Filter == other.Filter);

    public override int GetHashCode() => EqualityContract.GetHashCode() * -1521134295 + (int)Filter;

    /// <summary>Resize to exactly Height x Width (HF <c>size: {height, width}</c> or a plain int for ViT / DeiT).</summary>
    public sealed record Exact : ResizeMode
    {
        public Exact(int height, int width)
            : this(height, width, ResampleFilter.Bilinear)
        {
        }

        public Exact(int height, int width, ResampleFilter filter)
            : base(filter)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
            Height = height;
            Width = width;
        }

        public int Height { get; }

        public int Width { get; }
    }

    /// <summary>Shortest edge becomes Size, the long edge int(Size·long/short) (HF <c>size: {shortest_edge}</c>).</summary>
    public sealed record ShortestEdge : ResizeMode
    {
        public ShortestEdge(int size)
            : this(size, ResampleFilter.Bilinear)
        {
        }

        public ShortestEdge(int size, ResampleFilter filter)
            : base(filter)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
            Size = size;
        }

        public int Size { get; }
    }
}

/// <summary>Per-channel mean and standard deviation, as double values from the JSON (applied in float32).</summary>
public sealed record ChannelNormalization
{
    public ChannelNormalization(ReadOnlySpan<double> mean, ReadOnlySpan<double> std)
    {
        if (mean.Length != 3 || std.Length != 3)
        {
            throw new ArgumentException($"Expected 3 means and 3 stds, got {mean.Length} and {std.Length}.");
        }
        foreach (double s in std)
        {
            if (!double.IsFinite(s) || (float)s == 0f)
            {
                throw new ArgumentException($"Standard deviation {s} is zero or not finite.", nameof(std));
            }
        }
        foreach (double m in mean)
        {
            if (!double.IsFinite(m))
            {
                throw new ArgumentException($"Mean {m} is not finite.", nameof(mean));
            }
        }
        Mean = [.. mean];
        Std = [.. std];
    }

    /// <summary>[3] in RGB order (HF applies normalisation before flipping channels).</summary>
    public ImmutableArray<double> Mean { get; }

    /// <summary>[3] in RGB order.</summary>
    public ImmutableArray<double> Std { get; }
}

/// <summary>The whole preprocessing pipeline. Immutable; safe to share between threads.</summary>
public sealed record PreprocessPlan
{
    private float[][]? _tables;

    /// <param name="resize">null: no resize (HF <c>do_resize: false</c>).</param>
    /// <param name="centerCrop">(Height, Width), or null for no crop.</param>
    /// <param name="rescaleFactor">HF <c>rescale_factor</c> (1/255 by default), or null for <c>do_rescale: false</c>.</param>
    /// <param name="normalize">null for <c>do_normalize: false</c>.</param>
    /// <param name="flipChannelOrder">RGB -> BGR (HF <c>do_flip_channel_order</c>).</param>
    public PreprocessPlan(ResizeMode? resize, (int Height, int Width)? centerCrop, double? rescaleFactor,
                          ChannelNormalization? normalize, bool flipChannelOrder)
    {
        if (centerCrop is { } crop)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(crop.Height, nameof(centerCrop));
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(crop.Width, nameof(centerCrop));
        }
        if (rescaleFactor is { } factor && !double.IsFinite(factor))
        {
            throw new ArgumentOutOfRangeException(nameof(rescaleFactor), "Rescale factor must be finite.");
        }
        Resize = resize;
        CenterCrop = centerCrop;
        RescaleFactor = rescaleFactor;
        Normalize = normalize;
        FlipChannelOrder = flipChannelOrder;
    }

    public ResizeMode? Resize { get; }

    public (int Height, int Width)? CenterCrop { get; }

    public double? RescaleFactor { get; }

    public ChannelNormalization? Normalize { get; }

    public bool FlipChannelOrder { get; }

    /// <summary>
    /// Per input channel (R, G, B) a 256-entry table: value v -> the float HF produces after rescale and normalize:
    ///   x = float32(float64(v) · rescaleFactor);  x = (x − float32(mean[c])) / float32(std[c])   (float32 arithmetic)
    /// Built once per plan on first use.
    /// </summary>
    internal float[][] ValueTables => _tables ??= BuildTables();

    private float[][] BuildTables()
    {
        var tables = new float[3][];
        for (int c = 0; c < 3; c++)
        {
            var table = new float[256];
            for (int v = 0; v < 256; v++)
            {
                // Without rescale HF keeps uint8 until normalize, which casts to float32 first: same as (float)v.
                float x = RescaleFactor is { } factor ? (float)(v * factor) : v;
                if (Normalize is { } n)
                {
                    x = (x - (float)n.Mean[c]) / (float)n.Std[c];
                }
                table[v] = x;
            }
            tables[c] = table;
        }
        return tables;
    }

    // Records compare by value; the lazily built tables are a cache, not state, so keep them out of equality.
    public bool Equals(PreprocessPlan? other) =>
        other is not null && Equals(Resize, other.Resize) && CenterCrop == other.CenterCrop
        && RescaleFactor == other.RescaleFactor && FlipChannelOrder == other.FlipChannelOrder
        && (Normalize is null ? other.Normalize is null
            : other.Normalize is not null && Normalize.Mean.AsSpan().SequenceEqual(other.Normalize.Mean.AsSpan())
              && Normalize.Std.AsSpan().SequenceEqual(other.Normalize.Std.AsSpan()));

    public override int GetHashCode() => HashCode.Combine(Resize, CenterCrop, RescaleFactor, FlipChannelOrder);
}
