// Resource limits applied while validating untrusted safetensors headers.
namespace AotVit.Runtime.Weights;

/// <summary>Limits for parsing untrusted headers. The defaults match the reference implementation's header cap.</summary>
public sealed record SafeTensorsLimits
{
    public static SafeTensorsLimits Default { get; } = new();

    /// <summary>Largest accepted JSON header, in bytes (default 100 MB).</summary>
    public long MaxHeaderBytes { get; init; } = 100_000_000;

    /// <summary>Largest accepted number of tensors (default 100 000).</summary>
    public int MaxTensors { get; init; } = 100_000;

    /// <summary>Largest accepted tensor rank (default 8).</summary>
    public int MaxRank { get; init; } = 8;

    /// <summary>Deepest accepted JSON nesting (a valid header needs 3; unknown fields may nest a little).</summary>
    public int MaxJsonDepth { get; init; } = 16;
}
