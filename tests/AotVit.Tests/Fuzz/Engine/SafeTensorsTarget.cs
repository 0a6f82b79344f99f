// `safetensors`: structure-aware mutation of safetensors checkpoints.
// * Header JSON written field by field, so that each field can be set to an edge: dtypes (unknown, lower case,
//   wrong JSON type), shapes (empty, zero, negative, fractional, 2^63, rank 9), data_offsets (reversed,
//   overlapping, past the end, one element, 2^64), duplicate keys, odd names, __metadata__ of every JSON type,
//   deep nesting, huge numbers; then the length prefix, the padding and the data section; then optional raw
//   byte mutations. The file is opened from memory, every tensor read, and bound against a small spec list or the
//   real ViT/MobileViT TensorSpec lists (AotVit.ModelCatalog).
// * Every LoadEvery-th input is a whole MobileViT-small checkpoint (the seed-0 synthetic weights) with
//   "valid-looking" edits (dtype re-encoding, prefixes, dropped/extra/transposed tensors, non-finite values),
//   loaded through WeightBinder → the generated model's constructor (WeightPrep, PackedMatrix) → one forward pass.
//   When the edits keep the values (F64 re-encoding, prefixes, extra tensors), the logits must equal those of
//   ImageClassifier.CreateSynthetic bit for bit: a load path that silently changes weights is a crash.
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using AotVit.Runtime.Model;
using AotVit.Runtime.Weights;

namespace AotVit.Fuzzing;

public sealed unsafe class SafeTensorsTarget : FuzzTarget
{
    private readonly int _loadEvery;
    private readonly string _calibrationPath;
    private List<(string Name, long[] Shape, float[] Values)>? _mobileViT;
    private float[]? _referenceLogits;
    private static readonly CheckpointLimits Limits = new() { MaxHeaderBytes = 1 << 20, MaxTensors = 10_000 };

    /// <param name="loadEvery">Every n-th input is a full MobileViT load (0: never).</param>
    public SafeTensorsTarget(string repoRoot, int loadEvery)
    {
        _loadEvery = loadEvery;
        _calibrationPath = Path.Combine(repoRoot, "src/Graphs/mobilevit-small/synthetic-bn-calibration.safetensors");
    }

    public override string Name => "safetensors";

    public override TimeSpan PerInputTimeout => TimeSpan.FromSeconds(60);

    public override string? ExpectedError(Exception exception) => exception is CheckpointException ? Bucket(exception) : null;

    public override FuzzCase Next(Random random, long index)
    {
        if (_loadEvery > 0 && index % _loadEvery == _loadEvery - 1) return NextModelLoad(random);
        byte[] file = StructuredFile(random, out string kind);
        if (random.Next(3) == 0)
        {
            file = Mutator.Mutate(random, file, maxMutations: 4);
            kind += " + bytes";
        }
        var specs = random.Next(4) switch
        {
            0 => ModelSpecs(ModelCatalog.Find("vit-base-patch32-224-in21k").Descriptor),
            1 => ModelSpecs(ModelCatalog.Find("mobilevit-small").Descriptor),
            _ => SmallSpecs,
        };
        return new FuzzCase(kind, file, ".safetensors", () => OpenAndRead(file, specs));
    }

    // ---- small structured files ----

    private static readonly IReadOnlyList<TensorSpec> SmallSpecs =
    [
        new("a", [2, 3]), new("b", [4]), new("c", [2, 2]),
    ];

    /// <summary>The tensors a model expects, as the binder takes them (shared with the torch-bin target).</summary>
    internal static IReadOnlyList<TensorSpec> ModelSpecs(ModelDescriptor d) =>
        d.Tensors;

    private sealed class Entry(string name, string dtype, string shape, long begin, long end)
    {
        public string Name = name, DType = dtype, Shape = shape, Offsets = $"[{begin},{end}]", Extra = "";
    }

    private static readonly string[] DTypes = ["\"F32\"", "\"F16\"", "\"BF16\"", "\"F64\"", "\"I64\"", "\"I32\"", "\"U8\"", "\"BOOL\"", "\"F8_E4M3\"", "\"f32\"", "\"\"", "123", "null", "[\"F32\"]", "{}", "\"F32\\u0000\""];
    private static readonly string[] Shapes = ["[]", "[0]", "[-1]", "[1.5]", "[\"2\"]", "[9223372036854775807]", "[9223372036854775808]", "[4294967296,4294967296]", "[1,1,1,1,1,1,1,1,1]", "[3,2]", "[6]", "null", "[1e400]", "[2,3,0]", "[[2],[3]]", "{}"];
    private static readonly string[] Names = ["", "__metadata__", "a", "b", "\\u0000", "\\ud800", "é", "a.b.c", "vit.a", "num_batches_tracked"];
    private static readonly string[] Metadata = ["{\"format\":\"pt\"}", "{\"a\":1}", "{\"a\":{\"b\":\"c\"}}", "[]", "null", "\"x\"", "{}", "{\"a\":\"b\",\"a\":\"c\"}"];

    private static byte[] StructuredFile(Random random, out string kind)
    {
        // A valid file: a F32 [2,3], b F16 [4], c BF16 [2,2], d I64 [1], plus up to 3 more F32 vectors.
        var entries = new List<Entry>();
        long offset = 0;
        void Add(string name, string dtype, long[] shape, int size)
        {
            long bytes = shape.Aggregate(1L, (p, x) => p * x) * size;
            entries.Add(new Entry(name, dtype, "[" + string.Join(",", shape) + "]", offset, offset + bytes));
            offset += bytes;
        }
        Add("a", "\"F32\"", [2, 3], 4);
        Add("b", "\"F16\"", [4], 2);
        Add("c", "\"BF16\"", [2, 2], 2);
        Add("d", "\"I64\"", [1], 8);
        for (int i = random.Next(4); i > 0; i--) Add($"x{i}", "\"F32\"", [random.Next(1, 5)], 4);
        var data = new byte[offset];
        random.NextBytes(data);
        string? metadata = random.Next(3) == 0 ? random.Pick(Metadata) : null;
        long? lengthPrefix = null;
        string padding = "";
        var edits = new List<string>();
        for (int m = random.Next(0, 4); m > 0; m--)
        {
            var e = random.Pick(entries);
            switch (random.Next(12))
            {
                case 0: e.DType = random.Pick(DTypes); edits.Add("dtype"); break;
                case 1: e.Shape = random.Pick(Shapes); edits.Add("shape"); break;
                case 2:
                    {
                        long end = data.Length;
                        e.Offsets = random.Pick(new[] { "[0,0]", "[8,0]", "[0]", "[0,4,8]", "[-8,0]", "[0,1e30]", "[0,18446744073709551615]",
                            "[0,18446744073709551616]", $"[0,{end + 8}]", $"[{end},{end}]", "[\"0\",\"4\"]", "null", "[0.5,4]", $"[0,{end}]", "[4,28]" });
                        edits.Add("offsets");
                        break;
                    }
                case 3: entries.Add(new Entry(e.Name, e.DType, e.Shape, 0, 24)); edits.Add("duplicate key"); break;
                case 4: e.Name = random.Pick(Names); edits.Add("name"); break;
                case 5: e.Name = new string('n', 1 + random.Next(20_000)); edits.Add("long name"); break;
                case 6: e.Extra = ",\"extra\":" + new string('[', 1 + random.Next(40)) + "1" + new string(']', 1 + random.Next(40)); edits.Add("nesting"); break;
                case 7: e.Extra = ",\"big\":" + random.Pick(new[] { "1e999999", "-0", "123456789012345678901234567890", "\"\\uDFFF\"" }); edits.Add("huge number"); break;
                case 8: metadata = random.Pick(Metadata); edits.Add("metadata"); break;
                case 9:
                    lengthPrefix = random.Pick(new long[] { 0, 1, 2, 7, long.MaxValue, -1, 100_000_001, 1 << 20 + 1 });
                    edits.Add("length prefix");
                    break;
                case 10: padding = random.Pick(new[] { "\0\0\0", "   ", "\n", "x", "\uFEFF" }); edits.Add("padding"); break;
                default:
                    data = random.Next(2) == 0 ? data[..random.Next(data.Length + 1)] : [.. data, .. new byte[1 + random.Next(16)]];
                    edits.Add("data length");
                    break;
            }
        }
        var json = new StringBuilder("{");
        if (metadata is not null) json.Append("\"__metadata__\":").Append(metadata).Append(',');
        foreach (var e in entries)
            json.Append(CultureInfo.InvariantCulture, $"\"{e.Name}\":{{\"dtype\":{e.DType},\"shape\":{e.Shape},\"data_offsets\":{e.Offsets}{e.Extra}}},");
        if (entries.Count > 0) json.Length--;
        json.Append('}').Append(padding);
        while (json.Length % 8 != 0) json.Append(' ');
        byte[] header = Encoding.UTF8.GetBytes(json.ToString());
        var file = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteInt64LittleEndian(file, lengthPrefix ?? header.Length);
        header.CopyTo(file, 8);
        data.CopyTo(file, 8 + header.Length);
        kind = edits.Count == 0 ? "valid" : string.Join("+", edits.Distinct().Order(StringComparer.Ordinal));
        return file;
    }

    private static FuzzResult OpenAndRead(byte[] bytes, IReadOnlyList<TensorSpec> specs)
    {
        using var file = SafeTensorsFile.FromMemory(bytes, Limits);
        long dataBytes = bytes.Length - file.DataStart;
        long previousEnd = 0;
        foreach (var t in file.Tensors)
        {
            if (t.Offset < previousEnd || t.Offset + t.ByteLength > dataBytes || t.ByteLength < 0)
                throw new FuzzInvariantException($"tensor {t.Name} at [{t.Offset}, {t.Offset + t.ByteLength}) overlaps or leaves the {dataBytes}-byte data section");
            previousEnd = t.Offset + t.ByteLength;
            if (file.GetBytes(t).Length != t.ByteLength) throw new FuzzInvariantException($"GetBytes({t.Name}) has the wrong length");
            if (t.DType.IsFloatingPoint() && file.GetFloats(t).Length != t.ElementCount)
                throw new FuzzInvariantException($"GetFloats({t.Name}) has the wrong length");
        }
        var binder = WeightBinder.Bind(file, specs, ["vit."]);
        foreach (var spec in binder.Expected)
            if (binder.Get(spec.Name).Length != spec.ElementCount) throw new FuzzInvariantException($"bound {spec.Name} has the wrong length");
        return FuzzResult.Ok($"opened and bound ({specs.Count} specs)");
    }

    // ---- whole MobileViT checkpoints through the model's load path ----

    private FuzzCase NextModelLoad(Random random)
    {
        EnsureMobileViT();
        var tensors = _mobileViT!.Select(t => (t.Name, DType: DType.F32, t.Shape, t.Values)).ToList();
        bool valuesKept = true;
        var edits = new List<string>();
        for (int m = random.Next(1, 4); m > 0; m--)
        {
            int i = random.Next(tensors.Count);
            var t = tensors[i];
            switch (random.Next(8))
            {
                case 0: tensors[i] = t with { DType = DType.F64 }; edits.Add("F64"); break;
                case 1: tensors[i] = t with { DType = random.Next(2) == 0 ? DType.F16 : DType.BF16 }; valuesKept = false; edits.Add("F16/BF16"); break;
                case 2: tensors = tensors.Select(x => x with { Name = "mobilevit." + x.Name }).ToList(); edits.Add("prefix"); break;
                case 3: tensors.RemoveAt(i); edits.Add("drop"); break;
                case 4: tensors.Add(($"extra.{i}", DType.F32, [3], [1, 2, 3])); edits.Add("extra"); break;
                case 5 when t.Shape.Length >= 2: tensors[i] = t with { Shape = [t.Shape[1], t.Shape[0], .. t.Shape[2..]] }; edits.Add("transpose"); break;
                case 6:
                    {
                        var values = (float[])t.Values.Clone();
                        values[random.Next(values.Length)] = random.Pick(new[] { float.NaN, float.PositiveInfinity, 3e38f, 1e-42f });
                        tensors[i] = t with { Values = values };
                        valuesKept = false;
                        edits.Add("non-finite");
                        break;
                    }
                default: tensors.Add((t.Name.Replace("weight", "num_batches_tracked"), DType.I64, [], new float[1])); edits.Add("counter"); break;
            }
        }
        tensors = tensors.DistinctBy(t => t.Name, StringComparer.Ordinal).ToList();
        var stream = new MemoryStream();
        SafeTensorsWriter.Write(stream, tensors.Select(t => (t.Name, t.DType, t.Shape, Encode(t.DType, t.Values))), new Dictionary<string, string> { ["format"] = "pt" });
        byte[] bytes = stream.ToArray();
        string kind = "mobilevit load: " + string.Join("+", edits.Distinct().Order(StringComparer.Ordinal));
        bool compare = valuesKept;
        return new FuzzCase(kind, bytes, ".safetensors", () => LoadAndRun(bytes, compare));
    }

    private FuzzResult LoadAndRun(byte[] bytes, bool mustMatchReference)
    {
        var entry = ModelCatalog.Find("mobilevit-small");
        using var file = SafeTensorsFile.FromMemory(bytes, Limits);
        var binder = WeightBinder.Bind(file, ModelSpecs(entry.Descriptor), entry.Descriptor.OptionalPrefixes, entry.Descriptor.Name);
        using var model = entry.Create(new BinderSource(binder), null);
        float[] logits = RunOnce(model);
        if (mustMatchReference && !logits.AsSpan().SequenceEqual(_referenceLogits))
            throw new FuzzInvariantException("a checkpoint with the reference values produced different logits");
        return FuzzResult.Ok(mustMatchReference ? "mobilevit loaded, logits = reference" : "mobilevit loaded");
    }

    /// <summary>One batch-1 forward on a fixed ramp input: its first output (shared with the torch-bin target).</summary>
    internal static float[] RunOnce(IGeneratedModel model)
    {
        var input = new float[model.Descriptor.InputFloatsPerImage];
        for (int i = 0; i < input.Length; i++) input[i] = (i % 255) / 255f;
        var logits = new float[model.Descriptor.Outputs[0].FloatsPerImage];
        fixed (float* px = input)
        fixed (float* o = logits)
        {
            model.Run(1, px, [(nint)o]);
        }
        return logits;
    }

    private void EnsureMobileViT()
    {
        if (_mobileViT is not null) return;
        var entry = ModelCatalog.Find("mobilevit-small");
        var specs = ModelSpecs(entry.Descriptor);
        using var calibration = File.Exists(_calibrationPath) ? SafeTensorsFile.Open(_calibrationPath) : null;
        var values = SyntheticWeights.Generate(specs, 0, calibration);
        _mobileViT = specs.Select(s => (s.Name, s.Shape.ToArray(), values[s.Name])).ToList();
        using var model = entry.Create(new DictionarySource(values), null);
        _referenceLogits = RunOnce(model);
    }

    private static byte[] Encode(DType dtype, float[] values)
    {
        var bytes = new byte[values.Length * dtype.SizeInBytes()];
        for (int i = 0; i < values.Length; i++)
        {
            switch (dtype)
            {
                case DType.F32: BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]); break;
                case DType.F64: BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * 8), values[i]); break;
                case DType.F16: BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(i * 2), (Half)values[i]); break;
                case DType.BF16: BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), (ushort)(BitConverter.SingleToUInt32Bits(values[i]) >> 16)); break;
                case DType.I64: BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), (long)values[i]); break;
            }
        }
        return bytes;
    }

    private sealed class BinderSource(WeightBinder binder) : ITensorSource
    {
        public ReadOnlySpan<float> Get(string name) => binder.Get(name);
    }

    private sealed class DictionarySource(Dictionary<string, float[]> tensors) : ITensorSource
    {
        public ReadOnlySpan<float> Get(string name) => tensors[name];
    }
}
