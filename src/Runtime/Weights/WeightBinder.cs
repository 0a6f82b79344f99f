// Checks a checkpoint against the tensors a model expects, before any weight is used.
// Resolution per expected name: exact name first, then each accepted prefix + name ("vit.embeddings.cls_token").
// BatchNorm `num_batches_tracked` counters are bookkeeping, not weights: never required, never reported as extra.
using System.Text;

namespace AotVit.Runtime.Weights;

/// <summary>
/// A checkpoint bound to a model's expected tensors: every expected tensor was found with the expected shape and a
/// floating-point dtype. Construction reports every problem at once in a single <see cref="SafeTensorsException"/>.
/// The binder does not own the file: dispose the file after the binder's last use.
/// </summary>
public sealed class WeightBinder
{
    private const string NumBatchesTracked = "num_batches_tracked";
    private readonly Dictionary<string, TensorInfo> _resolved;

    private WeightBinder(SafeTensorsFile file, IReadOnlyList<TensorSpec> expected, Dictionary<string, TensorInfo> resolved,
                         IReadOnlyList<string> warnings)
    {
        File = file;
        Expected = expected;
        _resolved = resolved;
        Warnings = warnings;
    }

    public SafeTensorsFile File { get; }

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
    public static WeightBinder Bind(SafeTensorsFile file, IReadOnlyList<TensorSpec> expected,
                                    IReadOnlyList<string>? optionalPrefixes = null, string? modelName = null)
    {
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
            throw SafeTensorsException.NamingTensorItself(message.ToString(), file.FileName, problems[0].Tensor);
        }
        return new WeightBinder(file, bound, resolved, warnings);
    }

    /// <summary>The checkpoint entry bound to expected name <paramref name="name"/> (unprefixed).</summary>
    public TensorInfo GetInfo(string name) =>
        _resolved.TryGetValue(name, out TensorInfo? info)
            ? info
            : throw new KeyNotFoundException($"'{name}' is not one of the tensors this binder was asked to bind");

    /// <summary>
    /// The bound tensor as float32 (zero-copy for aligned F32, a converted copy otherwise; see
    /// <see cref="SafeTensorsFile.GetFloats(TensorInfo)"/>). Valid until the file is disposed.
    /// </summary>
    public ReadOnlySpan<float> Get(string name) => File.GetFloats(GetInfo(name));

    /// <summary>Drops the bound tensor's mapped pages from the resident set (<see cref="SafeTensorsFile.ReleasePages"/>).</summary>
    public void Release(string name) => File.ReleasePages(GetInfo(name));

    private static TensorInfo? Resolve(SafeTensorsFile file, string name, IReadOnlyList<string> prefixes, List<string> warnings)
    {
        bool exact = file.TryGetInfo(name, out TensorInfo info);
        foreach (string prefix in prefixes)
        {
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
