namespace AotVit.Runtime.Model;

/// <summary>
/// What every generated model implements, so that the public API and the C ABI can drive any of them.
/// Instances are not thread-safe: one Run at a time (callers serialise).
/// </summary>
public unsafe interface IGeneratedModel : IDisposable
{
    ModelDescriptor Descriptor { get; }

    /// <summary>input: [batch, C, H, W] preprocessed pixels; outputs: one pointer per Descriptor.Outputs entry, each [batch, ...shape].</summary>
    void Run(int batch, float* input, ReadOnlySpan<nint> outputs);

    long NativeBytes { get; }
}

/// <summary>Where a model's constructor reads checkpoint tensors from, by their HF names (without prefix).</summary>
public interface ITensorSource
{
    /// <summary>The tensor's values as float32, row-major; its shape was validated against the model's TensorShape list.</summary>
    ReadOnlySpan<float> Get(string name);

    /// <summary>
    /// The caller is done with the tensor's values for now (WeightPrep calls it once it has packed or copied them): a
    /// memory-mapped source may drop the tensor's pages from the process's resident set. Advisory: a later
    /// <see cref="Get"/> still returns the same values (read again from the file).
    /// </summary>
    void Release(string name)
    {
    }
}
