// WeightBinder: name resolution with optional prefixes, shape and dtype checks, and the wording of its errors.
using System.Collections.Immutable;
using AotVit.Runtime.Weights;
using Xunit;
using static AotVit.Tests.Weights.SafeTensorsTestFiles;

namespace AotVit.Tests.Weights;

[Trait("Category", "Weights")]
public sealed class WeightBinderTests
{
    private static readonly TensorSpec[] Expected =
    [
        new("embeddings.cls_token", [1, 1, 4]),
        new("encoder.layer.0.output.dense.weight", [4, 8]),
        new("pooler.dense.bias", [4]),
        new("bn.normalization.num_batches_tracked", ImmutableArray<long>.Empty, DType.I64),
    ];

    private static (string, DType, long[], byte[]) F32(string name, params long[] shape)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        return (name, DType.F32, shape, Bytes(Enumerable.Range(0, (int)count).Select(i => (float)i).ToArray()));
    }

    private static SafeTensorsFile Open(params (string, DType, long[], byte[])[] tensors) =>
        SafeTensorsFile.FromMemory(Write(tensors), displayName: "ckpt.safetensors");

    [Fact]
    public void BindsExactNamesAndReturnsFloats()
    {
        using var file = Open(F32("embeddings.cls_token", 1, 1, 4), F32("encoder.layer.0.output.dense.weight", 4, 8), F32("pooler.dense.bias", 4));
        var binder = WeightBinder.Bind(file, Expected, ["vit."], "vit-base-patch32");
        Assert.Equal(3, binder.Expected.Count);
        Assert.Equal([0f, 1f, 2f, 3f], binder.Get("pooler.dense.bias").ToArray());
        Assert.Equal(32, binder.Get("encoder.layer.0.output.dense.weight").Length);
        Assert.Empty(binder.Warnings);
        Assert.Throws<KeyNotFoundException>(() => binder.Get("nope"));
    }

    [Fact]
    public void AcceptsAPrefix()
    {
        using var file = Open(F32("vit.embeddings.cls_token", 1, 1, 4), F32("vit.encoder.layer.0.output.dense.weight", 4, 8), F32("vit.pooler.dense.bias", 4));
        var binder = WeightBinder.Bind(file, Expected, ["vit."]);
        Assert.Equal("vit.pooler.dense.bias", binder.GetInfo("pooler.dense.bias").Name);
        Assert.Equal(4, binder.Get("embeddings.cls_token").Length);
        Assert.Empty(binder.Warnings);
    }

    [Fact]
    public void ReportsAMissingTensorWithAHint()
    {
        using var file = Open(F32("embeddings.cls_token", 1, 1, 4), F32("encoder.layer.0.output.dense.weight", 4, 8));
        var error = Assert.Throws<CheckpointException>(() => WeightBinder.Bind(file, Expected, ["vit."], "vit-base-patch32"));
        Assert.Contains("missing tensor 'pooler.dense.bias' (the checkpoint has 2 tensors; is this a vit-base-patch32 checkpoint?)", error.Message);
        Assert.StartsWith("checkpoint 'ckpt.safetensors': missing tensor 'pooler.dense.bias'", error.Message);
        Assert.Equal("pooler.dense.bias", error.TensorName);
    }

    [Fact]
    public void ReportsManyMissingTensorsOnce()
    {
        // Another model's checkpoint: every expected tensor is missing, said once, with the hint once.
        using var file = Open(F32("conv_stem.weight", 4), F32("classifier.bias", 4));
        var error = Assert.Throws<CheckpointException>(() => WeightBinder.Bind(file, Expected, ["vit."], "vit-base-patch32"));
        Assert.Equal("checkpoint 'ckpt.safetensors': 3 of the 3 expected tensors are missing, e.g. 'embeddings.cls_token', " +
                     "'encoder.layer.0.output.dense.weight', 'pooler.dense.bias' (the checkpoint has 2 tensors; is this a vit-base-patch32 checkpoint?)",
                     error.Message);
        Assert.Equal("embeddings.cls_token", error.TensorName);
    }

    [Fact]
    public void ReportsAWrongShape()
    {
        using var file = Open(F32("embeddings.cls_token", 1, 1, 4), F32("encoder.layer.0.output.dense.weight", 8, 4), F32("pooler.dense.bias", 4));
        var error = Assert.Throws<CheckpointException>(() => WeightBinder.Bind(file, Expected));
        Assert.Equal("checkpoint 'ckpt.safetensors': tensor 'encoder.layer.0.output.dense.weight': expected shape [4, 8], found [8, 4]",
                     error.Message);
        Assert.Equal("encoder.layer.0.output.dense.weight", error.TensorName);
    }

    [Fact]
    public void ReportsAWrongShapeUnderAPrefix()
    {
        using var file = Open(F32("embeddings.cls_token", 1, 1, 4), F32("vit.encoder.layer.0.output.dense.weight", 8, 4), F32("pooler.dense.bias", 4));
        var error = Assert.Throws<CheckpointException>(() => WeightBinder.Bind(file, Expected, ["vit."]));
        Assert.Contains("tensor 'encoder.layer.0.output.dense.weight' (as 'vit.encoder.layer.0.output.dense.weight'): expected shape [4, 8], found [8, 4]", error.Message);
    }

    [Fact]
    public void ReportsEveryProblemInOneException()
    {
        using var file = Open(F32("embeddings.cls_token", 1, 4), F32("encoder.layer.0.output.dense.weight", 8, 4));
        var error = Assert.Throws<CheckpointException>(() => WeightBinder.Bind(file, Expected));
        Assert.Contains("tensor 'embeddings.cls_token': expected shape [1, 1, 4], found [1, 4]", error.Message);
        Assert.Contains("and 2 more problems", error.Message);
        Assert.Contains("missing tensor 'pooler.dense.bias'", error.Message);
    }

    [Fact]
    public void RejectsNonFloatDTypesAndAcceptsHalfPrecision()
    {
        using var file = Open(F32("embeddings.cls_token", 1, 1, 4), F32("encoder.layer.0.output.dense.weight", 4, 8),
                              ("pooler.dense.bias", DType.I32, [4], new byte[16]));
        var error = Assert.Throws<CheckpointException>(() => WeightBinder.Bind(file, Expected));
        Assert.Contains("tensor 'pooler.dense.bias': expected a floating-point dtype (F32, F16, BF16, F64), found I32", error.Message);

        using var half = Open(F32("embeddings.cls_token", 1, 1, 4), F32("encoder.layer.0.output.dense.weight", 4, 8),
                              ("pooler.dense.bias", DType.F16, [4], [0x00, 0x3C, 0x00, 0x40, 0x00, 0x42, 0x00, 0x44]));
        Assert.Equal([1f, 2f, 3f, 4f], WeightBinder.Bind(half, Expected).Get("pooler.dense.bias").ToArray());
    }

    [Fact]
    public void SkipsNumBatchesTrackedAndWarnsAboutExtras()
    {
        using var file = Open(F32("embeddings.cls_token", 1, 1, 4), F32("encoder.layer.0.output.dense.weight", 4, 8), F32("pooler.dense.bias", 4),
                              ("other.normalization.num_batches_tracked", DType.I64, [], new byte[8]),
                              F32("classifier.weight", 2, 4));
        var binder = WeightBinder.Bind(file, Expected);
        string warning = Assert.Single(binder.Warnings);
        Assert.Contains("unexpected tensor 'classifier.weight' [2, 4] F32", warning);
        Assert.Throws<KeyNotFoundException>(() => binder.Get("bn.normalization.num_batches_tracked"));
    }

    [Fact]
    public void PrefersTheExactNameWhenBothArePresent()
    {
        using var file = Open(F32("embeddings.cls_token", 1, 1, 4), F32("vit.embeddings.cls_token", 1, 1, 4),
                              F32("encoder.layer.0.output.dense.weight", 4, 8), F32("pooler.dense.bias", 4));
        var binder = WeightBinder.Bind(file, Expected, ["vit."]);
        Assert.Equal("embeddings.cls_token", binder.GetInfo("embeddings.cls_token").Name);
        Assert.Contains(binder.Warnings, w => w.Contains("both 'embeddings.cls_token' and 'vit.embeddings.cls_token'"));
    }
}
