// Synthetic checkpoints: the init-rule table, determinism, and values pinned by tools/synthetic_weights_check.py,
// an independent pure-Python implementation of docs/ARCHITECTURE.md "Synthetic checkpoints".
using System.Collections.Immutable;
using System.Diagnostics;
using AotVit.Runtime.Weights;
using Xunit;
using Xunit.Abstractions;

namespace AotVit.Tests.Weights;

[Trait("Category", "Weights")]
public sealed class SyntheticWeightsTests(ITestOutputHelper output)
{
    /// <summary>The ViT-B/32 state dict (tests/AotVit.Tests/data/spec/tensors_vit.tsv), 88,045,824 parameters.</summary>
    internal static List<TensorSpec> VitSpecs()
    {
        var specs = new List<TensorSpec>
        {
            new("embeddings.cls_token", [1, 1, 768]),
            new("embeddings.position_embeddings", [1, 50, 768]),
            new("embeddings.patch_embeddings.projection.weight", [768, 3, 32, 32]),
            new("embeddings.patch_embeddings.projection.bias", [768]),
        };
        for (int layer = 0; layer < 12; layer++)
        {
            string p = $"encoder.layer.{layer}.";
            foreach (string m in new[] { "attention.attention.query", "attention.attention.key", "attention.attention.value", "attention.output.dense" })
            {
                specs.Add(new(p + m + ".weight", [768, 768]));
                specs.Add(new(p + m + ".bias", [768]));
            }
            specs.Add(new(p + "intermediate.dense.weight", [3072, 768]));
            specs.Add(new(p + "intermediate.dense.bias", [3072]));
            specs.Add(new(p + "output.dense.weight", [768, 3072]));
            specs.Add(new(p + "output.dense.bias", [768]));
            foreach (string ln in new[] { "layernorm_before", "layernorm_after" })
            {
                specs.Add(new(p + ln + ".weight", [768]));
                specs.Add(new(p + ln + ".bias", [768]));
            }
        }
        specs.Add(new("layernorm.weight", [768]));
        specs.Add(new("layernorm.bias", [768]));
        specs.Add(new("pooler.dense.weight", [768, 768]));
        specs.Add(new("pooler.dense.bias", [768]));
        return specs;
    }

    // Printed by `python3 tools/synthetic_weights_check.py` (float32 bit patterns; decimals in comments).
    public static TheoryData<ulong, string, long[], long, uint[]> PythonVectors => new()
    {
        // 0.15750503540039062, -0.06203341484069824, 0.3524206280708313, -0.3305056691169739
        { 0UL, "embeddings.cls_token", [1, 1, 768], 0, [0x3e214900, 0xbd7e16c0, 0x3eb4707a, 0xbea9380a] },
        // -0.01742658205330372, 0.0052692643366754055, 0.027613025158643723, -0.022877171635627747
        { 0UL, "encoder.layer.0.attention.attention.query.weight", [768, 768], 0, [0xbc8ec231, 0x3baca9cb, 0x3ce234b6, 0xbcbb68e8] },
        { 0UL, "embeddings.patch_embeddings.projection.weight", [768, 3, 32, 32], 1_000_000, [0xbc6c7869, 0xbc0523bb, 0x3c6a9f31, 0x3c83148a] },
        { 0UL, "encoder.layer.11.layernorm_after.weight", [768], 0, [0x3f845417, 0x3f88d906, 0x3f89eec4, 0x3f724506] },
        { 0UL, "pooler.dense.bias", [768], 0, [0xbcbf0353, 0xbcd1347d, 0xbd1d5ef0, 0x3ad9bc66] },
        { 0UL, "mobilevit.conv_stem.normalization.running_var", [16], 0, [0x3f906aa1, 0x3f932550, 0x3f9a696a, 0x3f69fb95] },
        { 0UL, "mobilevit.conv_stem.normalization.weight", [16], 0, [0x3f87ae65, 0x3f913825, 0x3f998b4c, 0x3f8a0554] },
        { 0xdeadbeefcafef00dUL, "classifier.weight", [1000, 640], 639_996, [0x3c271d5e, 0x3b514f5f, 0xbced65a4, 0x3cc1a8b2] },
    };

    [Theory]
    [MemberData(nameof(PythonVectors))]
    public void MatchesTheIndependentPythonImplementation(ulong seed, string name, long[] shape, long first, uint[] expectedBits)
    {
        for (int k = 0; k < expectedBits.Length; k++)
        {
            Assert.Equal(expectedBits[k], BitConverter.SingleToUInt32Bits(SyntheticWeights.Value(seed, name, first + k, shape)));
        }
        var filled = new float[expectedBits.Length];
        SyntheticWeights.Fill(seed, name, shape, filled, first);
        Assert.Equal(expectedBits, filled.Select(BitConverter.SingleToUInt32Bits).ToArray());
    }

    [Theory]
    [InlineData("bn.num_batches_tracked", new long[0], true, 0.0, 0.0)]
    [InlineData("x.normalization.running_var", new long[] { 16 }, false, 1.0, 0.25)]
    [InlineData("x.normalization.running_mean", new long[] { 16 }, false, 0.0, 0.1)]
    [InlineData("x.normalization.weight", new long[] { 16 }, false, 1.0, 0.2)]
    [InlineData("x.normalization.bias", new long[] { 16 }, false, 0.0, 0.1)]
    [InlineData("encoder.layer.0.layernorm_before.weight", new long[] { 768 }, false, 1.0, 0.1)]
    [InlineData("layernorm.bias", new long[] { 768 }, false, 0.0, 0.05)]
    [InlineData("embeddings.cls_token", new long[] { 1, 1, 768 }, false, 0.0, 0.5)]
    [InlineData("embeddings.position_embeddings", new long[] { 1, 50, 768 }, false, 0.0, 0.5)]
    [InlineData("a.convolution.weight", new long[] { 16, 3, 3, 3 }, false, 0.0, 0.19245008972987526)] // 1/sqrt(27)
    [InlineData("x.conv_3x3.convolution.weight", new long[] { 64, 1, 3, 3 }, false, 0.0, 1.0 / 3.0)]
    [InlineData("classifier.bias", new long[] { 1000 }, false, 0.0, 0.05)]
    [InlineData("odd.weight", new long[] { 7 }, false, 0.0, 0.05)]                                // rank 1 weight: "anything else"
    public void RuleTable(string name, long[] shape, bool zeros, double offset, double scale)
    {
        var rule = SyntheticWeights.RuleFor(name, shape);
        Assert.Equal(zeros, rule.Zeros);
        Assert.Equal(offset, rule.Offset);
        Assert.Equal(scale, rule.Scale, 15);
    }

    [Fact]
    public void HashAndMixMatchKnownValues()
    {
        Assert.Equal(0xcbf29ce484222325UL, SyntheticWeights.Fnv1a64(""));
        Assert.Equal(0xaf63dc4c8601ec8cUL, SyntheticWeights.Fnv1a64("a"));          // FNV-1a 64 test vector
        Assert.Equal(0x85944171f73967e8UL, SyntheticWeights.Fnv1a64("foobar"));
        Assert.Equal(0UL, SyntheticWeights.Mix(0));
    }

    [Fact]
    public void GenerationIsDeterministicAndSeedDependent()
    {
        var specs = new List<TensorSpec>
        {
            new("b.weight", [300, 400]),   // > 1 chunk: parallel fill must equal the sequential definition
            new("a.bias", [5]),
            new("a.normalization.num_batches_tracked", ImmutableArray<long>.Empty, DType.I64),
        };
        var first = SyntheticWeights.Generate(specs, seed: 7);
        var again = SyntheticWeights.Generate(specs, seed: 7);
        var other = SyntheticWeights.Generate(specs, seed: 8);
        Assert.Equal(first["b.weight"], again["b.weight"]);
        Assert.NotEqual(first["b.weight"], other["b.weight"]);
        Assert.Equal([0f], first["a.normalization.num_batches_tracked"]);
        for (int i = 0; i < 120_000; i += 997)
        {
            Assert.Equal(SyntheticWeights.Value(7, "b.weight", i, [300, 400]), first["b.weight"][i]);
        }

        using var s1 = new MemoryStream();
        using var s2 = new MemoryStream();
        SyntheticWeights.Write(s1, specs, 7);
        SyntheticWeights.Write(s2, specs.AsEnumerable().Reverse().ToList(), 7);
        Assert.Equal(s1.ToArray(), s2.ToArray());

        using var file = SafeTensorsFile.FromMemory(s1.ToArray());
        Assert.Equal(["a.bias", "a.normalization.num_batches_tracked", "b.weight"], file.Tensors.Select(t => t.Name));
        TensorInfo nbt = file.GetInfo("a.normalization.num_batches_tracked");
        Assert.Equal(DType.I64, nbt.DType);
        Assert.Empty(nbt.Shape);
        Assert.Equal(new byte[8], file.GetBytes(nbt).ToArray());
        Assert.Equal(first["b.weight"], file.GetFloats("b.weight").ToArray());
        Assert.Equal("7", file.Metadata["synthetic_seed"]);
        Assert.Empty(file.Warnings);
    }

    [Fact]
    public void OverridesReplaceGeneratedTensors()
    {
        var specs = new List<TensorSpec> { new("bn.running_mean", [3]), new("bn.running_var", [3]), new("conv.weight", [3, 2]) };
        byte[] overrideFile = SafeTensorsTestFiles.Write(
        [
            ("bn.running_mean", DType.F32, [3], SafeTensorsTestFiles.Bytes(0.5f, 0.25f, 0.125f)),
            ("bn.running_var", DType.F16, [3], [0x00, 0x3C, 0x00, 0x40, 0x00, 0x42]),
            ("unused", DType.F32, [1], SafeTensorsTestFiles.Bytes(9f)),
        ]);
        using var overrides = SafeTensorsFile.FromMemory(overrideFile);
        using var stream = new MemoryStream();
        SyntheticWeights.Write(stream, specs, 0, overrides);
        using var file = SafeTensorsFile.FromMemory(stream.ToArray());
        Assert.Equal([0.5f, 0.25f, 0.125f], file.GetFloats("bn.running_mean").ToArray());
        Assert.Equal([1f, 2f, 3f], file.GetFloats("bn.running_var").ToArray());
        Assert.Equal(DType.F32, file.GetInfo("bn.running_var").DType);
        Assert.Equal(SyntheticWeights.Value(0, "conv.weight", 5, [3, 2]), file.GetFloats("conv.weight")[5]);
        Assert.False(file.TryGetInfo("unused", out _));
        Assert.Equal([0.5f, 0.25f, 0.125f], SyntheticWeights.Generate(specs, 0, overrides)["bn.running_mean"]);

        var wrongShape = new List<TensorSpec> { new("bn.running_mean", [4]) };
        var sink = new MemoryStream();
        var error = Assert.Throws<CheckpointException>(() => SyntheticWeights.Write(sink, wrongShape, 0, overrides));
        Assert.Contains("override has shape [3], but the model expects [4]", error.Message);
        Assert.Equal("bn.running_mean", error.TensorName);
        Assert.Equal(0, sink.Length); // checked before anything is written
    }

    [Fact]
    public void ParsesTheSpecTables()
    {
        var specs = SpecTables.Parse("embeddings.cls_token\t[1, 1, 768]\tF32\r\nx.num_batches_tracked\t[]\tI64\n\n");
        Assert.Equal(2, specs.Count);
        Assert.Equal(new TensorSpec("embeddings.cls_token", [1, 1, 768]), specs[0]);
        Assert.Equal(new TensorSpec("x.num_batches_tracked", [], DType.I64), specs[1]);
        Assert.Throws<FormatException>(() => SpecTables.Parse("a\t1\tF32"));
    }

    [Fact]
    public void WritesTheWholeVitCheckpointQuickly()
    {
        List<TensorSpec> specs = VitSpecs();
        Assert.Equal(88_045_824L, specs.Sum(s => s.ElementCount));
        string path = Path.Combine(Path.GetTempPath(), $"aotvit-synthetic-vit-{Guid.NewGuid():N}.safetensors");
        try
        {
            var clock = Stopwatch.StartNew();
            SyntheticWeights.Write(path, specs, seed: 0);
            TimeSpan elapsed = clock.Elapsed;
            output.WriteLine($"synthetic ViT-B/32 checkpoint written to {path}: {elapsed.TotalSeconds:F2} s");

            using var file = SafeTensorsFile.Open(path);
            var binder = WeightBinder.Bind(file, specs, ["vit."], "vit-base-patch32");
            Assert.Empty(binder.Warnings);
            Assert.Equal(0x3e214900u, BitConverter.SingleToUInt32Bits(binder.Get("embeddings.cls_token")[0]));
            Assert.Equal(0xbc8ec231u, BitConverter.SingleToUInt32Bits(binder.Get("encoder.layer.0.attention.attention.query.weight")[0]));
            Assert.Equal(0xbc6c7869u, BitConverter.SingleToUInt32Bits(binder.Get("embeddings.patch_embeddings.projection.weight")[1_000_000]));
            Assert.True(elapsed < TimeSpan.FromSeconds(30), $"took {elapsed}");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
