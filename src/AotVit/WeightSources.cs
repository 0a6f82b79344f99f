using System.Reflection;
using AotVit.Runtime.Model;
using AotVit.Runtime.Weights;

namespace AotVit;

/// <summary>Checkpoint tensors for a generated model: a real safetensors file, or a synthetic checkpoint made from a seed.</summary>
internal static class WeightSources
{
    public static List<TensorSpec> Specs(ModelDescriptor d)
    {
        var specs = new List<TensorSpec>(d.Tensors.Count);
        foreach (var t in d.Tensors) specs.Add(t);
        return specs;
    }

    /// <summary>Binds a checkpoint file: every tensor the model reads must be present with its exact shape and a float dtype.</summary>
    public static (ITensorSource Source, IReadOnlyList<string> Warnings) Bind(Checkpoint file, ModelDescriptor d)
    {
        var binder = WeightBinder.Bind(file, Specs(d), d.OptionalPrefixes, d.Name, d.Int8Tensors);
        return (new BinderSource(binder), binder.Warnings);
    }

    /// <summary>
    /// The synthetic checkpoint (docs/ARCHITECTURE.md, "Synthetic checkpoints"): every tensor from a seeded
    /// counter-based generator; for a model with BatchNorm the running statistics come from its folder's calibration
    /// file (src/Graphs/&lt;model&gt;/synthetic-bn-calibration.safetensors, written by the PyTorch reference for seed 0 and
    /// embedded), so activations stay O(1) as in a trained model. Without one the generated statistics stay, with a warning.
    /// </summary>
    public static (ITensorSource Source, IReadOnlyList<string> Warnings) Synthetic(ModelDescriptor d, ulong seed)
    {
        var warnings = new List<string>();
        using var overrides = CalibrationFor(d, seed, warnings);
        var tensors = SyntheticWeights.Generate(Specs(d), seed, overrides);
        return (new DictionarySource(tensors), warnings);
    }

    private static SafeTensorsFile? CalibrationFor(ModelDescriptor d, ulong seed, List<string> warnings)
    {
        string resource = d.Name + ".synthetic-bn-calibration.safetensors";
        using var stream = typeof(WeightSources).Assembly.GetManifestResourceStream(resource);
        if (stream is null)
        {
            if (HasBatchNorm(d))
            {
                warnings.Add($"no BatchNorm calibration is compiled in for {d.Name} (src/Graphs/{d.Name}/synthetic-bn-calibration.safetensors); " +
                             "the synthetic checkpoint keeps its generated running statistics");
            }
            return null;
        }
        if (seed != 0)
        {
            warnings.Add($"BatchNorm calibration exists for seed 0 only; seed {seed} uses uncalibrated running statistics");
            return null;
        }
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return SafeTensorsFile.FromMemory(bytes, displayName: resource);
    }

    private static bool HasBatchNorm(ModelDescriptor d)
    {
        foreach (var t in d.Tensors)
        {
            if (t.Name.EndsWith(".running_var", StringComparison.Ordinal)) return true;
        }
        return false;
    }

    /// <summary>
    /// A bound checkpoint as the model's tensor source. Large tensors (weight matrices, position embeddings) are read
    /// into one buffer per loading thread, reused for that thread's next large tensor as ITensorSource.Get allows: a
    /// fresh array per tensor left a checkpoint's worth of garbage to the GC's own timing, and the load's peak memory
    /// with it. Small tensors (per-channel vectors, several of which WeightPrep holds at once) get arrays of their own.
    /// </summary>
    internal sealed class BinderSource(WeightBinder binder) : ITensorSource
    {
        private readonly Dictionary<int, float[]> _buffers = [];   // managed thread id → that thread's buffer
        private readonly Lock _gate = new();

        public WeightBinder Binder => binder;

        public ReadOnlySpan<float> Get(string name)
        {
            long count = binder.GetInfo(name).ElementCount;
            if (count < ITensorSource.LargeTensorFloats) return binder.Get(name);
            int thread = Environment.CurrentManagedThreadId;
            float[]? buffer;
            lock (_gate)
            {
                if (!_buffers.TryGetValue(thread, out buffer) || buffer.Length < count)
                {
                    buffer = GC.AllocateUninitializedArray<float>(checked((int)count));
                    _buffers[thread] = buffer;
                }
            }
            Span<float> values = buffer.AsSpan(0, (int)count);
            binder.Read(name, values);
            return values;
        }

        public bool TryGetInt8(string name, out sbyte[] values, out float[] scales) => binder.TryGetInt8(name, out values, out scales);
    }

    private sealed class DictionarySource(Dictionary<string, float[]> tensors) : ITensorSource
    {
        public ReadOnlySpan<float> Get(string name) =>
            tensors.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"synthetic checkpoint has no tensor '{name}'");
    }
}
