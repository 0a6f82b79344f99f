// Resource limits applied while validating untrusted checkpoints, whatever their format.
namespace AotVit.Runtime.Weights;

/// <summary>
/// Limits for parsing untrusted checkpoint metadata (a safetensors JSON header, a torch zip directory and its pickle).
/// Each is checked before the memory it bounds is allocated.
/// </summary>
public sealed record CheckpointLimits
{
    public static CheckpointLimits Default { get; } = new();

    /// <summary>Largest accepted metadata block, in bytes: the safetensors JSON header, a torch zip's central directory
    /// or its <c>data.pkl</c> (default 100 MB, the reference safetensors implementation's header cap).</summary>
    public long MaxHeaderBytes { get; init; } = 100_000_000;

    /// <summary>Largest accepted number of tensors, and of zip entries (default 100 000).</summary>
    public int MaxTensors { get; init; } = 100_000;

    /// <summary>Largest accepted tensor rank (default 8).</summary>
    public int MaxRank { get; init; } = 8;

    /// <summary>Deepest accepted nesting: JSON in a safetensors header (a valid header needs 3), containers and
    /// marks in a pickle (a state dict needs about 4) (default 16).</summary>
    public int MaxJsonDepth { get; init; } = 16;

    /// <summary>Largest accepted number of pickle stack and memo items, and, counted separately, of values a pickle
    /// places in tuples, lists and dicts over its whole run (default 1 000 000; a torch state dict places about 20 per
    /// tensor).</summary>
    public int MaxPickleItems { get; init; } = 1_000_000;
}
