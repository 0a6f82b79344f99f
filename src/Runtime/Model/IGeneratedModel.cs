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
}

/// <summary>Where a model's constructor reads checkpoint tensors from, by their HF names (without prefix).</summary>
/// <remarks>Infrastructure for the generated model code (AotVit.Models.*), public because that code lives in another
/// assembly; not part of the supported API (use VisionModel, ImageClassifier, FeatureExtractor).</remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public interface ITensorSource
{
    /// <summary>The tensor's values as float32, row-major; its shape was validated against the model's TensorSpec list.
    /// Safe to call from several threads at once (WeightPrep.LoadInParallel).</summary>
    ReadOnlySpan<float> Get(string name);
}
