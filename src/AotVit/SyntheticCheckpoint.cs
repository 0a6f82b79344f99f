using System.Collections.Immutable;
using System.Globalization;
using AotVit.Runtime;
using AotVit.Runtime.Model;
using AotVit.Runtime.Weights;

namespace AotVit;

/// <summary>
/// Writes the synthetic checkpoint of a model to a real model.safetensors file: same names, shapes and dtypes as the
/// HF checkpoint (MobileViT's I64 num_batches_tracked included), values from the seeded generator, optionally stored as
/// F16 or BF16. Used by tests, benchmarks (cold start from a file) and the samples.
/// </summary>
public static class SyntheticCheckpoint
{
    public static void Write(string modelName, string path, ulong seed = 0, DType dtype = DType.F32)
    {
        var entry = ModelCatalog.Find(modelName);
        if (dtype is not (DType.F32 or DType.F16 or DType.BF16))
            throw new InputException($"dtype {dtype.Name()} is not a checkpoint float type (F32, F16, BF16)");
        var specs = WeightSources.Specs(entry.Descriptor);
        foreach (var t in entry.Descriptor.Tensors)
            if (t.Name.EndsWith(".running_var", StringComparison.Ordinal)) specs.Add(new TensorSpec(t.Name[..^".running_var".Length] + ".num_batches_tracked", ImmutableArray<long>.Empty, DType.I64));
        var (source, _) = WeightSources.Synthetic(entry.Descriptor, seed);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            [SyntheticWeights.SeedMetadataKey] = seed.ToString(CultureInfo.InvariantCulture),
            ["model"] = entry.Descriptor.Name,
            ["writer"] = "aot-vit " + BuildInfo.InformationalVersion,
        };
        SafeTensorsWriter.Write(path, Tensors(specs, source, dtype), metadata);
    }

    /// <summary>Each tensor's bytes, encoded when the writer asks for it.</summary>
    private static IEnumerable<TensorData> Tensors(List<TensorSpec> specs, ITensorSource source, DType dtype)
    {
        foreach (var s in specs)
            yield return new TensorData(s.Name, s.DType == DType.I64 ? DType.I64 : dtype, s.Shape.AsSpan().ToArray(), s.DType == DType.I64 ? new byte[8] : Encode(source.Get(s.Name), dtype));
    }

    private static byte[] Encode(ReadOnlySpan<float> values, DType dtype)
    {
        switch (dtype)
        {
            case DType.F32:
                return System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).ToArray();
            case DType.F16:
            {
                var bytes = new byte[values.Length * 2];
                for (int i = 0; i < values.Length; i++)
                    BitConverter.TryWriteBytes(bytes.AsSpan(2 * i), BitConverter.HalfToUInt16Bits((Half)values[i]));
                return bytes;
            }
            default:
            {
                var bytes = new byte[values.Length * 2];
                for (int i = 0; i < values.Length; i++)
                {
                    uint bits = BitConverter.SingleToUInt32Bits(values[i]);
                    uint rounded = bits + 0x7FFF + ((bits >> 16) & 1); // round to nearest even
                    BitConverter.TryWriteBytes(bytes.AsSpan(2 * i), (ushort)(rounded >> 16));
                }
                return bytes;
            }
        }
    }
}
