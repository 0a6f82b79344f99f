// The pytorch_model.bin reader against files torch.save wrote (tools/torch_fixtures.py, data/torch/): every tensor equals,
// bit for bit as float32, what torch itself converts it to; hostile files (code-running pickles, broken references,
// bombs, other formats) each end in a specific CheckpointException and run nothing; every truncation and every
// single-byte change of a fixture is an error or a valid file, never another exception.
using AotVit.Runtime.Weights;
using Xunit;

namespace AotVit.Tests.Weights;

[Trait("Category", "Weights")]
public sealed class TorchZipTests
{
    private static string Fixture(string name) => TestPaths.Data("torch", name);

    public static TheoryData<string, DType> GoodFixtures => new()
    {
        { "vit_p2_f32", DType.F32 },
        { "vit_p4_f16", DType.F16 },
        { "mobilevit_p2_f32_module", DType.F32 },
        { "mobilevit_p4_bf16", DType.BF16 },
        { "vit_shared_storage", DType.F32 },
        { "vit_shared_storage_f16_p4", DType.F16 },
        { "torch2_layout", DType.F32 },
    };

    [Theory]
    [MemberData(nameof(GoodFixtures))]
    public void Torch_save_fixture_gives_torchs_own_float32_values(string name, DType dtype)
    {
        using Checkpoint bin = CheckpointFile.Open(Fixture(name + ".bin"));
        using SafeTensorsFile expected = SafeTensorsFile.Open(Fixture(name + ".expected.safetensors"));
        Assert.Equal("PyTorch zip (torch.save)", bin.Format);
        Assert.Empty(bin.Warnings);
        Assert.Equal(expected.Tensors.Select(t => t.Name), bin.Tensors.Select(t => t.Name));   // the pickle's order
        foreach (TensorInfo want in expected.Tensors)
        {
            TensorInfo got = bin.GetInfo(want.Name);
            Assert.Equal(want.ShapeText, got.ShapeText);
            if (want.DType == DType.I64)
            {
                Assert.Equal(DType.I64, got.DType);
                Assert.Equal(expected.GetBytes(want).ToArray(), bin.GetBytes(got).ToArray());
                continue;
            }
            Assert.True(got.DType == dtype || name == "torch2_layout", $"{want.Name}: {got.DType.Name()}");
            float[] values = bin.GetFloats(got), reference = expected.GetFloats(want);
            Assert.Equal(reference.Select(BitConverter.SingleToInt32Bits), values.Select(BitConverter.SingleToInt32Bits));
        }
        bin.CheckUnchanged();
    }

    [Fact]
    public void Torch_2_layout_with_byteorder_and_a_seventh_argument_reads_both_dtypes()
    {
        using Checkpoint bin = CheckpointFile.Open(Fixture("torch2_layout.bin"));
        Assert.Equal(DType.F32, bin.GetInfo("a").DType);
        Assert.Equal(DType.F16, bin.GetInfo("b").DType);
        Assert.Equal([1.5f, -2.25f, 3f], bin.GetFloats("b"));
    }

    [Fact]
    public void Tensors_sharing_a_storage_are_views_at_their_offsets()
    {
        using Checkpoint bin = CheckpointFile.Open(Fixture("vit_shared_storage.bin"));
        string first = bin.Tensors[0].Name;
        TensorInfo a = bin.GetInfo(first), alias = bin.GetInfo("alias." + first), parameter = bin.GetInfo("parameter." + first);
        Assert.Equal(a.Offset, alias.Offset);                 // the same bytes under two names
        Assert.NotEqual(a.Offset, parameter.Offset);          // a clone: its own storage
        Assert.Equal(bin.GetFloats(a), bin.GetFloats(parameter));
        // Consecutive views of one storage: each starts where the previous one ends (the fixture packs them so).
        var floats = bin.Tensors.Where(t => !t.Name.StartsWith("alias.") && !t.Name.StartsWith("parameter.")).ToList();
        for (int i = 1; i < floats.Count; i++) Assert.Equal(floats[i - 1].Offset + floats[i - 1].ByteLength, floats[i].Offset);
    }

    [Fact]
    public void Sharded_torch_files_read_through_their_index_equal_the_single_file()
    {
        using Checkpoint index = CheckpointFile.Open(Fixture(Path.Combine("vit_sharded", "pytorch_model.bin.index.json")));
        using Checkpoint single = CheckpointFile.Open(Fixture("vit_p2_f32.bin"));
        Assert.Equal("sharded checkpoint (2 files)", index.Format);
        Assert.Equal(single.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal), index.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (TensorInfo t in single.Tensors) Assert.Equal(single.GetFloats(t), index.GetFloats(t.Name));
    }

    [Fact]
    public void From_memory_equals_from_file()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("mobilevit_p4_bf16.bin"));
        using Checkpoint memory = CheckpointFile.FromMemory(bytes, displayName: "m.bin");
        using Checkpoint file = CheckpointFile.Open(Fixture("mobilevit_p4_bf16.bin"));
        Assert.Equal(file.Tensors, memory.Tensors);
        foreach (TensorInfo t in file.Tensors) Assert.Equal(file.GetBytes(t).ToArray(), memory.GetBytes(t).ToArray());
    }

    [Fact]
    public void Binder_applies_unchanged_prefix_and_counter_rules_to_a_torch_file()
    {
        using Checkpoint bin = CheckpointFile.Open(Fixture("mobilevit_p4_bf16.bin"));
        var specs = bin.Tensors.Where(t => t.DType != DType.I64)
            .Select(t => new TensorSpec(t.Name.StartsWith("mobilevit.") ? t.Name["mobilevit.".Length..] : t.Name, t.Shape)).ToList();
        var binder = WeightBinder.Bind(bin, specs, ["mobilevit."]);
        Assert.Empty(binder.Warnings);   // the counters are skipped, every name found once
        foreach (TensorSpec s in specs) Assert.Equal(bin.GetFloats(bin.TryGetInfo(s.Name, out var t) ? t : bin.GetInfo("mobilevit." + s.Name)), binder.Get(s.Name));
    }

    [Fact]
    public void Non_finite_values_in_a_torch_file_are_refused_by_the_binder_naming_the_tensor()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("vit_p2_f32.bin"));
        TensorInfo target;
        using (Checkpoint clean = CheckpointFile.FromMemory(bytes)) target = clean.Tensors[3];
        BitConverter.GetBytes(float.PositiveInfinity).CopyTo(bytes, (int)target.Offset + 4);
        using Checkpoint bin = CheckpointFile.FromMemory(bytes, displayName: "inf.bin");
        var binder = WeightBinder.Bind(bin, [new TensorSpec(target.Name, target.Shape)]);
        var e = Assert.Throws<CheckpointException>(() => binder.Get(target.Name));
        Assert.Equal(target.Name, e.TensorName);
        Assert.Contains($"1 infinite value of {target.ElementCount} (the first at flat index 1)", e.Message);
    }

    public static TheoryData<string, string> HostileFixtures => new()
    {
        { "hostile_os_system", "pickle global 'posix.system' is not allowed: not a plain state dict" },
        { "hostile_builtins_eval", "pickle global 'builtins.eval' is not allowed: not a plain state dict" },    // protocol 4: STACK_GLOBAL
        { "hostile_builtin_eval_p2", "pickle global '__builtin__.eval' is not allowed: not a plain state dict" },  // protocol 2: GLOBAL
        { "hostile_deep_marks", "the pickle nests deeper than 16 levels (CheckpointLimits.MaxJsonDepth)" },
        { "hostile_nested_call", "pickle global 'posix.system' is not allowed: not a plain state dict" },
        { "hostile_missing_storage", "tensor 'b': its storage '1' has no entry 'archive/data/1' in the zip archive" },
        { "hostile_short_storage", "tensor 'a': its [3, 3] F32 view from element 0 ends past its storage '0' of 6 elements" },
        { "hostile_storage_entry_short", "tensor 'a': its storage '0' is declared as 9 x F32 = 36 bytes, but entry 'archive/data/0' holds 24 bytes" },
        { "hostile_view_past_storage", "tensor 'a': its [2, 2] F32 view from element 3 ends past its storage '0' of 6 elements" },
        { "hostile_transposed", "only contiguous tensors are read" },
        { "hostile_bomb_sizes", "has more elements than a 64-bit count holds" },
        { "hostile_deep_nesting", "the pickle nests containers deeper than 16 levels (CheckpointLimits.MaxJsonDepth)" },
        { "hostile_big_endian", "saved on a big-endian machine" },
        { "hostile_deflated", "zip entry 'archive/data.pkl' is compressed (deflate)" },
        { "hostile_truncated", "no zip end-of-central-directory record at the end of the file: it is truncated, or not a zip archive" },
        { "hostile_legacy", "legacy (pre-1.6) format" },
        { "hostile_torchscript", "this is a TorchScript archive (torch.jit.save)" },
    };

    [Theory]
    [MemberData(nameof(HostileFixtures))]
    public void Hostile_file_is_a_specific_error_and_runs_nothing(string name, string message)
    {
        string path = Fixture(name + ".bin");
        var e = Assert.Throws<CheckpointException>(() => CheckpointFile.Open(path).Dispose());
        Assert.True(e.Message.Contains(message, StringComparison.Ordinal), e.Message);
        Assert.StartsWith($"checkpoint '{path}': ", e.Message);
        Assert.Empty(Directory.GetFiles("/tmp", "aotvit-torch-fixture-pwned-*"));
    }

    [Fact]
    public void Limits_apply_to_the_zip_and_the_pickle()
    {
        string path = Fixture("mobilevit_p2_f32_module.bin");
        Assert.Contains("entries, more than the limit of 10",
            Assert.Throws<CheckpointException>(() => CheckpointFile.Open(path, new CheckpointLimits { MaxTensors = 10 }).Dispose()).Message);
        Assert.Contains("the pickle holds more than 20 stack and memo items (CheckpointLimits.MaxPickleItems)",
            Assert.Throws<CheckpointException>(() => CheckpointFile.Open(Fixture("vit_p4_f16.bin"), new CheckpointLimits { MaxPickleItems = 20 }).Dispose()).Message);
        Assert.Contains("values into containers (CheckpointLimits.MaxPickleItems)",
            Assert.Throws<CheckpointException>(() => CheckpointFile.Open(path, new CheckpointLimits { MaxPickleItems = 400 }).Dispose()).Message);
        Assert.Contains("nests",
            Assert.Throws<CheckpointException>(() => CheckpointFile.Open(path, new CheckpointLimits { MaxJsonDepth = 2 }).Dispose()).Message);
        Assert.Contains("rank 4, above the limit of 2",
            Assert.Throws<CheckpointException>(() => CheckpointFile.Open(path, new CheckpointLimits { MaxRank = 2 }).Dispose()).Message);
        Assert.Contains("more than the limit of 100 (CheckpointLimits.MaxHeaderBytes)",
            Assert.Throws<CheckpointException>(() => CheckpointFile.Open(path, new CheckpointLimits { MaxHeaderBytes = 100 }).Dispose()).Message);
    }

    [Theory]
    [InlineData("vit_shared_storage")]
    [InlineData("torch2_layout")]
    public void Every_truncation_is_a_checkpoint_error(string name)
    {
        byte[] bytes = File.ReadAllBytes(Fixture(name + ".bin"));
        for (int length = 0; length < bytes.Length; length++)
        {
            Assert.Throws<CheckpointException>(() => CheckpointFile.FromMemory(bytes.AsMemory(0, length)).Dispose());
        }
    }

    [Theory]
    [InlineData("vit_shared_storage_f16_p4")]
    [InlineData("torch2_layout")]
    public void Every_single_byte_change_is_an_error_or_a_readable_file(string name)
    {
        byte[] original = File.ReadAllBytes(Fixture(name + ".bin"));
        int opened = 0;
        foreach (byte flip in new byte[] { 0xFF, 0x01, 0x80 })
        {
            for (int i = 0; i < original.Length; i++)
            {
                byte[] bytes = (byte[])original.Clone();
                bytes[i] ^= flip;
                try
                {
                    using Checkpoint c = CheckpointFile.FromMemory(bytes);
                    foreach (TensorInfo t in c.Tensors)
                    {
                        Assert.Equal(t.ByteLength, c.GetBytes(t).Length);
                        if (t.DType.IsFloatingPoint()) Assert.Equal(t.ElementCount, c.GetFloats(t).Length);
                    }
                    opened++;
                }
                catch (CheckpointException)
                {
                }
            }
        }
        Assert.True(opened > 0);   // changes inside tensor data keep the file readable
    }
}
