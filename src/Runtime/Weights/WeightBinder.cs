// Checks a checkpoint against the tensors a model expects, before any weight is used.
// Resolution per expected name: exact name first, then each accepted prefix + name ("vit.embeddings.cls_token").
// BatchNorm `num_batches_tracked` counters are bookkeeping, not weights: never required, never reported as extra.
// Values are checked when read: a NaN or an infinity in a weight is an error naming the tensor, never a model that
// answers NaN.
using System.Text;

namespace AotVit.Runtime.Weights;

/// <summary>
/// A checkpoint bound to a model's expected tensors: every expected tensor was found with the expected shape and a
/// floating-point dtype. Construction reports every problem at once in a single <see cref="CheckpointException"/>.
/// The binder does not own the file: dispose the file after the binder's last use.
/// </summary>
public sealed class WeightBinder
{
    private const string NumBatchesTracked = "num_batches_tracked";
    private readonly Dictionary<string, TensorInfo> _resolved;
    // int8 weights of an int8 checkpoint: expected name → its "_scale" companion (F32 or another float type, [rows]).
    private readonly Dictionary<string, TensorInfo> _int8Scales;

    private WeightBinder(Checkpoint file, IReadOnlyList<TensorSpec> expected, Dictionary<string, TensorInfo> resolved,
                         Dictionary<string, TensorInfo> int8Scales, IReadOnlyList<string> warnings)
    {
        _int8Scales = int8Scales;
        File = file;
        Expected = expected;
        _resolved = resolved;
        Warnings = warnings;
    }

    public Checkpoint File { get; }

    /// <summary>The expected tensors that were bound (all specs except <c>num_batches_tracked</c>).</summary>
    public IReadOnlyList<TensorSpec> Expected { get; }

    /// <summary>
    /// Non-fatal findings: checkpoint tensors the model does not use, names present both with and without a prefix,
    /// and the file's own warnings (gaps, unaligned data).
    /// </summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>
    /// Binds <paramref name="file"/> to <paramref name="expected"/>.
    /// </summary>
    /// <param name="optionalPrefixes">Prefixes a checkpoint may put before every expected name, e.g. <c>"vit."</c>.</param>
    /// <param name="modelName">Used in the "is this a ... checkpoint?" hint of missing-tensor errors, e.g. <c>"vit-base-patch32"</c>.</param>
    /// <param name="int8Tensors">Expected names that may be stored as I8 with a per-row "&lt;name&gt;_scale" tensor (an int8
    /// checkpoint of <c>aotvit quantize</c>); any other name must have a floating-point dtype.</param>
    public static WeightBinder Bind(Checkpoint file, IReadOnlyList<TensorSpec> expected,
                                    IReadOnlyList<string>? optionalPrefixes = null, string? modelName = null,
                                    IReadOnlyList<string>? int8Tensors = null)
    {
        var int8Allowed = new HashSet<string>(int8Tensors ?? [], StringComparer.Ordinal);
        var int8Scales = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(expected);
        optionalPrefixes ??= [];

        var problems = new List<(string Tensor, string Message)>();
        var warnings = new List<string>();
        var resolved = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var bound = new List<TensorSpec>();
        // Missing tensors are one problem, reported where the first one is: a checkpoint of another model misses them all.
        var missing = new List<string>();
        int missingAt = -1, expectedCount = 0;

        foreach (TensorSpec spec in expected)
        {
            if (spec.Name.EndsWith(NumBatchesTracked, StringComparison.Ordinal)) continue;
            if (resolved.ContainsKey(spec.Name) || missing.Contains(spec.Name))
            {
                throw new ArgumentException($"tensor '{spec.Name}' is listed twice in the expected tensors", nameof(expected));
            }

            expectedCount++;
            TensorInfo? found = Resolve(file, spec.Name, optionalPrefixes, warnings);
            if (found is null)
            {
                if (missing.Count == 0)
                {
                    missingAt = problems.Count;
                    problems.Add((spec.Name, ""));
                }

                missing.Add(spec.Name);
                continue;
            }
            used.Add(found.Name);
            string label = found.Name == spec.Name ? $"tensor '{spec.Name}'" : $"tensor '{spec.Name}' (as '{found.Name}')";
            if (!found.Shape.AsSpan().SequenceEqual(spec.Shape.AsSpan()))
            {
                problems.Add((spec.Name, $"{label}: expected shape {spec.ShapeText}, found {found.ShapeText}"));
                continue;
            }
            if (found.DType == DType.I8 && int8Allowed.Contains(spec.Name))
            {
                string scaleName = found.Name + "_scale";
                if (!file.TryGetInfo(scaleName, out TensorInfo scale))
                {
                    problems.Add((spec.Name, $"{label} is int8 but its per-row scale tensor '{scaleName}' is missing"));
                    continue;
                }
                used.Add(scale.Name);
                if (scale.Shape.Length != 1 || scale.Shape[0] != spec.Shape[0] || !scale.DType.IsFloatingPoint())
                {
                    problems.Add((spec.Name, $"tensor '{scaleName}': expected a floating-point [{spec.Shape[0]}] scale per output row, found {scale.ShapeText} {scale.DType.ToSafeTensorsName()}"));
                    continue;
                }
                int8Scales.Add(spec.Name, scale);
                resolved.Add(spec.Name, found);
                bound.Add(spec);
                continue;
            }
            if (!found.DType.IsFloatingPoint())
            {
                problems.Add((spec.Name, $"{label}: expected a floating-point dtype (F32, F16, BF16, F64), found {found.DType.ToSafeTensorsName()}"));
                continue;
            }
            resolved.Add(spec.Name, found);
            bound.Add(spec);
        }

        foreach (TensorInfo tensor in file.Tensors)
        {
            if (!used.Contains(tensor.Name) && !tensor.Name.EndsWith(NumBatchesTracked, StringComparison.Ordinal))
            {
                warnings.Add($"unexpected tensor '{tensor.Name}' {tensor.ShapeText} {tensor.DType.ToSafeTensorsName()} is not used by the model");
            }
        }
        warnings.AddRange(file.Warnings);

        if (missing.Count > 0)
        {
            string hint = modelName is null ? "" : $"; is this a {modelName} checkpoint?";
            var what = new StringBuilder(missing.Count == 1
                ? "missing tensor "
                : $"{missing.Count} of the {expectedCount} expected tensors are missing, e.g. ");
            for (int i = 0; i < Math.Min(3, missing.Count); i++) what.Append(i > 0 ? ", '" : "'").Append(missing[i]).Append('\'');
            problems[missingAt] = (missing[0], $"{what} (the checkpoint has {file.Tensors.Count} tensors{hint})");
        }

        if (problems.Count > 0)
        {
            var message = new StringBuilder(problems[0].Message);
            if (problems.Count > 1)
            {
                message.Append($" (and {problems.Count - 1} more problem{(problems.Count == 2 ? "" : "s")}: ");
                for (int i = 1; i < Math.Min(problems.Count, 10); i++) message.Append(i > 1 ? "; " : "").Append(problems[i].Message);
                if (problems.Count > 10) message.Append("; ...");
                message.Append(')');
            }
            throw CheckpointException.NamingTensorItself(message.ToString(), file.FileName, problems[0].Tensor);
        }
        return new WeightBinder(file, bound, resolved, int8Scales, warnings);
    }

    /// <summary>The checkpoint entry bound to expected name <paramref name="name"/> (unprefixed).</summary>
    public TensorInfo GetInfo(string name) =>
        _resolved.TryGetValue(name, out TensorInfo? info)
            ? info
            : throw new KeyNotFoundException($"'{name}' is not one of the tensors this binder was asked to bind");

    /// <summary>The bound tensor as float32, read from the file on each call (<see cref="Checkpoint.GetFloats(TensorInfo)"/>).</summary>
    /// <exception cref="CheckpointException">The values include NaN or ±infinity (the message counts them and gives the
    /// first index), or the file cannot be read.</exception>
    public float[] Get(string name)
    {
        TensorInfo info = GetInfo(name);
        float[] values = File.GetFloats(info);
        CheckFinite(values, File.FileName, info.Name);
        return values;
    }

    /// <summary>As <see cref="Get"/>, into <paramref name="destination"/> (exactly the tensor's element count).</summary>
    public void Read(string name, Span<float> destination)
    {
        TensorInfo info = GetInfo(name);
        File.ReadFloats(info, destination);
        CheckFinite(destination, File.FileName, info.Name);
    }

    /// <summary>Whether the checkpoint stores any weight in int8 (an <c>aotvit quantize</c> checkpoint).</summary>
    public bool HasInt8 => _int8Scales.Count > 0;

    /// <summary>
    /// The bound tensor as int8 values [rows × …] and one finite, non-negative scale per row, when the checkpoint stores
    /// it in int8; false when it is a floating-point tensor.
    /// </summary>
    /// <exception cref="CheckpointException">A scale is negative or not finite, or a value is −128 (int8 weights are
    /// symmetric in [−127, 127]).</exception>
    public bool TryGetInt8(string name, out sbyte[] values, out float[] scales)
    {
        if (!_int8Scales.TryGetValue(name, out TensorInfo? scaleInfo))
        {
            values = [];
            scales = [];
            return false;
        }
        TensorInfo info = GetInfo(name);
        values = GC.AllocateUninitializedArray<sbyte>(checked((int)info.ByteLength));
        File.ReadBytes(info, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        scales = File.GetFloats(scaleInfo);
        CheckFinite(scales, File.FileName, scaleInfo.Name);
        for (int i = 0; i < scales.Length; i++)
        {
            if (scales[i] < 0) throw new CheckpointException($"scale {i} is negative ({scales[i]}); int8 scales are max|w| / 127", File.FileName, scaleInfo.Name);
        }
        int bad = AotVit.Runtime.Kernels.Int8Matrix.IndexOfMinus128(values);
        if (bad >= 0) throw new CheckpointException($"value −128 at flat index {bad}; int8 weights are symmetric in [−127, 127]", File.FileName, info.Name);
        return true;
    }

    /// <summary>Throws unless every value is finite.</summary>
    internal static void CheckFinite(ReadOnlySpan<float> values, string fileName, string tensorName)
    {
        if (AllFinite(values)) return;
        int nan = 0, inf = 0, first = -1;
        for (int i = 0; i < values.Length; i++)
        {
            if (float.IsFinite(values[i])) continue;
            if (first < 0) first = i;
            if (float.IsNaN(values[i])) nan++; else inf++;
        }
        string what = (nan, inf) switch
        {
            (> 0, > 0) => $"{nan} NaN and {inf} infinite values",
            (> 0, _) => nan == 1 ? "1 NaN value" : $"{nan} NaN values",
            _ => inf == 1 ? "1 infinite value" : $"{inf} infinite values",
        };
        throw new CheckpointException($"{what} of {values.Length} (the first at flat index {first}); the checkpoint is damaged or was saved after training diverged", fileName, tensorName);
    }

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        // x − x is 0 for every finite x and NaN for NaN and ±inf, and a NaN stays in the sum: one subtract and one add
        // per element, one compare per tensor.
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var sum = System.Numerics.Vector<float>.Zero;
            int width = System.Numerics.Vector<float>.Count;
            for (; i <= values.Length - width; i += width)
            {
                var v = new System.Numerics.Vector<float>(values[i..]);
                sum += v - v;
            }
            if (!System.Numerics.Vector.EqualsAll(sum, System.Numerics.Vector<float>.Zero)) return false;
        }
        for (; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i])) return false;
        }
        return true;
    }

    private static TensorInfo? Resolve(Checkpoint file, string name, IReadOnlyList<string> prefixes, List<string> warnings)
    {
        bool exact = file.TryGetInfo(name, out TensorInfo info);
        foreach (string prefix in prefixes)
        {
            if (prefix.Length == 0) continue;   // the exact name, already looked up

            if (file.TryGetInfo(prefix + name, out TensorInfo prefixed))
            {
                if (exact)
                {
                    warnings.Add($"both '{name}' and '{prefix}{name}' are present; using '{name}'");
                    return info;
                }
                return prefixed;
            }
        }
        return exact ? info : null;
    }
}
