// Deterministic synthetic checkpoints: every value is a pure function of (seed, tensor name, element index, shape),
// defined in docs/ARCHITECTURE.md "Synthetic checkpoints" so that tools/reference.py (numpy) produces the same bits.
// Keep this file a literal transcription of that table; tools/synthetic_weights_check.py is an independent one.
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using AotVit.Runtime.Threading;

namespace AotVit.Runtime.Weights;

public static class SyntheticWeights
{
    /// <summary>The metadata key every synthetic checkpoint file carries: its seed. A real checkpoint never has it.</summary>
    public const string SeedMetadataKey = "synthetic_seed";

    private const ulong FnvOffsetBasis = 0xcbf29ce484222325;
    private const ulong FnvPrime = 0x100000001b3;
    private const ulong Golden = 0x9e3779b97f4a7c15;
    private const int ChunkElements = 1 << 16;

    /// <summary>
    /// How a tensor is initialised: value = float32(Offset + Scale·(2x − 1)) with x uniform in [0, 1), or all zeros.
    /// </summary>
    public readonly record struct InitRule(double Offset, double Scale, bool Zeros);

    /// <summary>The first matching row of the init-rule table (fan_in = product of shape[1:]).</summary>
    public static InitRule RuleFor(string name, ReadOnlySpan<long> shape)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal)) return new(0, 0, Zeros: true);
        if (name.EndsWith(".running_var", StringComparison.Ordinal)) return new(1.0, 0.25, false);
        if (name.EndsWith(".running_mean", StringComparison.Ordinal)) return new(0, 0.1, false);
        if (name.EndsWith("normalization.weight", StringComparison.Ordinal)) return new(1.0, 0.2, false);
        if (name.EndsWith("normalization.bias", StringComparison.Ordinal)) return new(0, 0.1, false);
        bool layerNorm = name.Contains("layernorm", StringComparison.Ordinal);
        if (layerNorm && name.EndsWith(".weight", StringComparison.Ordinal)) return new(1.0, 0.1, false);
        if (layerNorm && name.EndsWith(".bias", StringComparison.Ordinal)) return new(0, 0.05, false);
        if (name.EndsWith("cls_token", StringComparison.Ordinal) || name.EndsWith("position_embeddings", StringComparison.Ordinal))
        {
            return new(0, 0.5, false);
        }
        if (name.EndsWith(".weight", StringComparison.Ordinal) && shape.Length >= 2)
        {
            long fanIn = 1;
            foreach (long dimension in shape[1..]) fanIn = checked(fanIn * dimension);
            return new(0, 1.0 / Math.Sqrt(fanIn), false);
        }
        return new(0, 0.05, false);
    }

    /// <summary>FNV-1a 64 over the UTF-8 bytes of <paramref name="name"/>.</summary>
    public static ulong Fnv1a64(string name)
    {
        ulong hash = FnvOffsetBasis;
        foreach (byte b in Encoding.UTF8.GetBytes(name))
        {
            hash = (hash ^ b) * FnvPrime;
        }
        return hash;
    }

    /// <summary>The SplitMix64 finaliser: z ^= z >> 30; z *= ...; z ^= z >> 27; z *= ...; z ^ (z >> 31).</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
        z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
        return z ^ (z >> 31);
    }

    /// <summary>stream = mix(seed ^ fnv1a64(name)).</summary>
    public static ulong TensorStream(ulong seed, string name) => Mix(seed ^ Fnv1a64(name));

    /// <summary>Element <paramref name="index"/> (row-major) of tensor <paramref name="name"/> with <paramref name="shape"/>.</summary>
    public static float Value(ulong seed, string name, long index, ReadOnlySpan<long> shape)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        InitRule rule = RuleFor(name, shape);
        if (rule.Zeros) return 0f;
        ulong u = Mix(TensorStream(seed, name) + unchecked((ulong)(index + 1) * Golden));
        return ToValue(u, rule.Offset, rule.Scale);
    }

    /// <summary>Elements <paramref name="firstIndex"/> .. firstIndex + destination.Length − 1 of a tensor.</summary>
    public static void Fill(ulong seed, string name, ReadOnlySpan<long> shape, Span<float> destination, long firstIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstIndex);
        InitRule rule = RuleFor(name, shape);
        if (rule.Zeros)
        {
            destination.Clear();
            return;
        }
        FillRange(TensorStream(seed, name), rule, firstIndex, destination);
    }

    // x = (u >> 40) / 2^24 is exact in double; value = float32(offset + scale·(2x − 1)) evaluated in double, in that order.
    private static float ToValue(ulong u, double offset, double scale)
    {
        double x = (u >> 40) * (1.0 / 16777216.0);
        return (float)(offset + scale * (2.0 * x - 1.0));
    }

    private static void FillRange(ulong stream, InitRule rule, long firstIndex, Span<float> destination)
    {
        // u_i = mix(stream + (i + 1)·golden): the argument advances by `golden` per element (mod 2^64).
        ulong counter = unchecked(stream + (ulong)(firstIndex + 1) * Golden);
        double offset = rule.Offset, scale = rule.Scale;
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = ToValue(Mix(counter), offset, scale);
            counter = unchecked(counter + Golden);
        }
    }

    /// <summary>Fills a whole tensor, splitting large ones into chunks generated in parallel.</summary>
    private static void FillParallel(ulong seed, string name, ReadOnlySpan<long> shape, float[] destination, int count)
    {
        InitRule rule = RuleFor(name, shape);
        if (rule.Zeros)
        {
            Array.Clear(destination, 0, count);
            return;
        }
        ulong stream = TensorStream(seed, name);
        int chunks = (count + ChunkElements - 1) / ChunkElements;
        if (chunks <= 1)
        {
            FillRange(stream, rule, 0, destination.AsSpan(0, count));
            return;
        }
        ParallelIndices.For(chunks, chunk =>
        {
            int begin = chunk * ChunkElements;
            int length = Math.Min(ChunkElements, count - begin);
            FillRange(stream, rule, begin, destination.AsSpan(begin, length));
        }, "aotvit-synthetic");
    }

    /// <summary>
    /// Generates every tensor in memory as float32 (num_batches_tracked and other zero-rule tensors as zeros, whatever
    /// their dtype). Tensors present in <paramref name="overrides"/> are taken from it instead (shape must match).
    /// </summary>
    public static Dictionary<string, float[]> Generate(IReadOnlyList<TensorSpec> specs, ulong seed, SafeTensorsFile? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(specs);
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (TensorSpec spec in specs)
        {
            long count = spec.ElementCount;
            if (count > Array.MaxLength) throw new ArgumentException($"tensor '{spec.Name}' is too large to generate in memory");
            var values = new float[count];
            TensorInfo? replacement = FindOverride(overrides, spec);
            if (replacement is not null)
            {
                overrides!.GetFloats(replacement).CopyTo(values);
            }
            else
            {
                FillParallel(seed, spec.Name, spec.Shape.AsSpan(), values, (int)count);
            }
            if (!result.TryAdd(spec.Name, values)) throw new ArgumentException($"tensor '{spec.Name}' is listed twice", nameof(specs));
        }
        return result;
    }

    /// <summary>
    /// Writes a synthetic checkpoint for <paramref name="specs"/>: F32 tensors per the init-rule table, zero-filled
    /// num_batches_tracked (I64, or any dtype), tensors sorted by name. Tensors present in <paramref name="overrides"/>
    /// (for example calibrated BatchNorm statistics) replace the generated ones; their shape must match, their dtype must be
    /// the spec's or a float dtype when the spec is F32. Override tensors that are not in the spec are ignored.
    /// </summary>
    public static void Write(Stream destination, IReadOnlyList<TensorSpec> specs, ulong seed, SafeTensorsFile? overrides = null,
                             IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(specs);
        var ordered = new List<TensorSpec>(specs);
        SortByName(ordered);
        foreach (TensorSpec spec in ordered)
        {
            bool zeroRule = RuleFor(spec.Name, spec.Shape.AsSpan()).Zeros;
            if (spec.DType != DType.F32 && !zeroRule)
            {
                throw new ArgumentException(
                    $"tensor '{spec.Name}': synthetic values are generated as F32 only (spec says {spec.DType.ToSafeTensorsName()})", nameof(specs));
            }
            if (spec.ElementCount > Array.MaxLength) throw new ArgumentException($"tensor '{spec.Name}' is too large", nameof(specs));
        }

        // Resolve (and shape-check) every override before the first byte is written.
        TensorInfo?[] replacements = ordered.ConvertAll(spec => FindOverride(overrides, spec)).ToArray();

        metadata ??= new Dictionary<string, string>
        {
            ["format"] = "pt",
            [SyntheticWeights.SeedMetadataKey] = seed.ToString(CultureInfo.InvariantCulture),
        };
        byte[] header = SafeTensorsWriter.BuildHeader(
            ordered.ConvertAll(s => new SafeTensorsWriter.HeaderEntry(s.Name, s.DType, s.Shape.AsSpan().ToArray())), metadata);
        destination.Write(header);

        // Generation of the next tensor overlaps the write of the current one (two buffers), so the total is
        // close to max(generate, write) rather than their sum.
        int largest = 0;
        foreach (TensorSpec spec in ordered) largest = Math.Max(largest, (int)spec.ElementCount);
        var current = new float[largest];
        var next = new float[largest];
        bool Generated(int i) => replacements[i] is null && ordered[i].DType == DType.F32;
        void Produce(int i, float[] buffer)
        {
            if (Generated(i)) FillParallel(seed, ordered[i].Name, ordered[i].Shape.AsSpan(), buffer, (int)ordered[i].ElementCount);
        }

        if (ordered.Count > 0) Produce(0, current);
        for (int i = 0; i < ordered.Count; i++)
        {
            TensorSpec spec = ordered[i];
            int following = i + 1;
            float[] target = next;
            Task? producing = following < ordered.Count && Generated(following)
                ? Task.Run(() => Produce(following, target))
                : null;
            try
            {
                if (replacements[i] is TensorInfo replacement)
                {
                    WriteOverride(destination, overrides!, replacement, spec, current);
                }
                else if (spec.DType != DType.F32)
                {
                    // Zero rule in a non-float dtype (num_batches_tracked I64): zero bytes.
                    destination.Write(new byte[checked((int)spec.ElementCount * spec.DType.SizeInBytes())]);
                }
                else
                {
                    WriteFloats(destination, current.AsSpan(0, (int)spec.ElementCount));
                }
            }
            finally
            {
                producing?.GetAwaiter().GetResult();
            }
            (current, next) = (next, current);
        }
    }

    /// <summary>Writes to a file (through a temporary file renamed into place).</summary>
    public static void Write(string path, IReadOnlyList<TensorSpec> specs, ulong seed, SafeTensorsFile? overrides = null,
                             IReadOnlyDictionary<string, string>? metadata = null) =>
        SafeTensorsWriter.WriteAtomically(path, stream => Write(stream, specs, seed, overrides, metadata));

    /// <summary>Sorts by name (ordinal), stably: equal names keep their order.</summary>
    private static void SortByName(List<TensorSpec> specs)
    {
        var order = new int[specs.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        TensorSpec[] given = [.. specs];
        Array.Sort(order, (a, b) => string.CompareOrdinal(given[a].Name, given[b].Name) is var c && c != 0 ? c : a.CompareTo(b));
        for (int i = 0; i < order.Length; i++) specs[i] = given[order[i]];
    }

    private static TensorInfo? FindOverride(SafeTensorsFile? overrides, TensorSpec spec)
    {
        if (overrides is null || !overrides.TryGetInfo(spec.Name, out TensorInfo info)) return null;
        if (!info.Shape.AsSpan().SequenceEqual(spec.Shape.AsSpan()))
        {
            throw new CheckpointException($"override has shape {info.ShapeText}, but the model expects {spec.ShapeText}",
                                           overrides.FileName, spec.Name);
        }
        return info;
    }

    private static void WriteOverride(Stream destination, SafeTensorsFile overrides, TensorInfo replacement, TensorSpec spec, float[] buffer)
    {
        if (replacement.DType == spec.DType)
        {
            destination.Write(overrides.GetBytes(replacement));
        }
        else if (spec.DType == DType.F32 && replacement.DType.IsFloatingPoint())
        {
            ReadOnlySpan<float> values = overrides.GetFloats(replacement);
            values.CopyTo(buffer);
            WriteFloats(destination, buffer.AsSpan(0, values.Length));
        }
        else
        {
            throw new CheckpointException(
                $"override has dtype {replacement.DType.ToSafeTensorsName()}, which cannot replace {spec.DType.ToSafeTensorsName()}",
                overrides.FileName, spec.Name);
        }
    }

    private static void WriteFloats(Stream destination, Span<float> values)
    {
        if (!BitConverter.IsLittleEndian)
        {
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReverseEndianness(BitConverter.SingleToInt32Bits(values[i])));
            }
        }
        destination.Write(MemoryMarshal.AsBytes(values));
    }
}
