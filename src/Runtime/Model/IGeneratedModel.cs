namespace AotVit.Runtime.Model;

/// <summary>
/// What every generated model implements, so that the public API and the C ABI can drive any of them.
/// Instances are not thread-safe: one Run at a time (callers serialise).
/// </summary>
/// <remarks>Infrastructure for the generated model code (AotVit.Models.*), public because that code lives in another
/// assembly; not part of the supported API (use VisionModel, ImageClassifier, FeatureExtractor).</remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public unsafe interface IGeneratedModel : IDisposable
{
    ModelDescriptor Descriptor { get; }

    /// <summary>input: [batch, C, H, W] preprocessed pixels; outputs: one pointer per Descriptor.Outputs entry, each [batch, ...shape].</summary>
    void Run(int batch, float* input, ReadOnlySpan<nint> outputs);

    long NativeBytes { get; }

    /// <summary>
    /// int8 mode: replaces the float32 weights of the model's nn.Linear layers (those the generator marked int8 in
    /// Descriptor.Int8Tensors, all run by Gemm.Run) by per-output-channel int8 ones. Everything else stays float32.
    /// Idempotent; not thread-safe with Run.
    /// </summary>
    void QuantizeLinearWeights();
}

/// <summary>Where a model's constructor reads checkpoint tensors from, by their HF names (without prefix).</summary>
/// <remarks>Infrastructure for the generated model code (AotVit.Models.*), public because that code lives in another
/// assembly; not part of the supported API (use VisionModel, ImageClassifier, FeatureExtractor).</remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public interface ITensorSource
{
    /// <summary>The tensor's values as float32, row-major; its shape was validated against the model's TensorSpec list.
    /// Safe to call from several threads at once (WeightPrep.LoadInParallel). The memory behind the span may be reused by
    /// the calling thread's next Get of a tensor of <see cref="LargeTensorFloats"/> values or more: a caller holds at
    /// most one such tensor at a time (WeightPrep packs each weight before reading the next; the per-channel vectors it
    /// reads beside one are small).</summary>
    ReadOnlySpan<float> Get(string name);

    /// <summary>The size from which <see cref="Get"/> may hand out reused memory.</summary>
    const long LargeTensorFloats = 1 << 16;

    /// <summary>
    /// The tensor as int8 weights with one float32 scale per output row (an int8 checkpoint written by
    /// <c>aotvit quantize</c>: <c>name</c> I8 and <c>name_scale</c> F32), or false when the source holds it in a
    /// floating-point type. Only asked for tensors listed in the descriptor's Int8Tensors.
    /// </summary>
    bool TryGetInt8(string name, out sbyte[] values, out float[] scales)
    {
        values = [];
        scales = [];
        return false;
    }
}
