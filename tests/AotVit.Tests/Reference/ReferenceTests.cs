using System.Collections.Immutable;
using System.Runtime.Loader;
using AotVit.Runtime.Kernels;
using AotVit.Runtime.Model;
using AotVit.Runtime.Threading;
using AotVit.Runtime.Weights;
using AotVit.Tests.Models;
using Microsoft.CodeAnalysis;
using Xunit;
using Xunit.Abstractions;
using static AotVit.Tests.Generator.GeneratorHarness;

namespace AotVit.Tests.Reference;

/// <summary>
/// The plain C# reference (ViTReference) is first checked against the PyTorch goldens of ViT-B/32; then it is the
/// oracle for ViT configs that have no goldens: the generator's output for them is compiled in memory, loaded,
/// run on a synthetic checkpoint and compared with the reference.
/// </summary>
[Trait("Category", "Reference")]
public sealed class ReferenceTests(ITestOutputHelper output)
{
    private sealed class Source(Dictionary<string, float[]> tensors) : ITensorSource
    {
        public ReadOnlySpan<float> Get(string name) => tensors[name];
    }

    private static Dictionary<string, float[]> Synthetic(ModelDescriptor d) =>
        SyntheticWeights.Generate(d.Tensors, 0);

    [Fact]
    public void Reference_matches_pytorch_on_vit_b32()
    {
        var d = ModelCatalog.Find("vit-base-patch32-224-in21k").Descriptor;
        var tensors = Synthetic(d);
        var reference = new ViTReference(n => tensors[n], 768, 12, 12, 3072, 224, 32, 1e-12);
        using var golden = SafeTensorsFile.Open(Golden.File("vit-base-patch32-224-in21k_chelsea.safetensors"));
        var (last, pooled) = reference.Forward(golden.GetFloats("pixel_values").ToArray());
        float e1 = Golden.MaxAbsDiff(last, golden.GetFloats("last_hidden_state")), e2 = Golden.MaxAbsDiff(pooled, golden.GetFloats("pooler_output"));
        output.WriteLine($"reference vs PyTorch: last_hidden_state {e1:E2}, pooler_output {e2:E2}");
        Assert.True(e1 <= 5e-5f && e2 <= 5e-5f);
    }

    public static TheoryData<string, int, int, int, int, int, int> Configs => new()
    {
        // name, hidden, layers, heads, intermediate, image, patch
        { "tiny", 64, 2, 4, 128, 64, 16 },
        { "odd", 48, 3, 3, 100, 96, 32 },        // head dim 16, 10 tokens, N and K not multiples of 32
        { "wide-heads", 96, 1, 1, 200, 80, 16 }, // one head of 96, 26 tokens
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public unsafe void Generated_vit_matches_reference(string name, int hidden, int layers, int heads, int intermediate, int image, int patch)
    {
        string config = $$"""
            { "architectures": ["ViTModel"], "model_type": "vit", "hidden_size": {{hidden}}, "num_hidden_layers": {{layers}},
              "num_attention_heads": {{heads}}, "intermediate_size": {{intermediate}}, "image_size": {{image}}, "patch_size": {{patch}},
              "layer_norm_eps": 1e-6 }
            """;
        var generated = Run(ModelFolder("vit-" + name, config, $"{{ \"size\": {image} }}"));
        Assert.DoesNotContain(generated.Diagnostics, x => x.Severity == DiagnosticSeverity.Error);
        var type = CompileAndLoad(Assert.Single(generated.Sources).Source, "Ref_" + name.Replace('-', '_'));
        var descriptor = (ModelDescriptor)type.GetProperty("Descriptor")!.GetValue(null)!;
        var tensors = Synthetic(descriptor);
        using var pool = new WorkerPool(2);
        using var model = (IGeneratedModel)Activator.CreateInstance(type, new Source(tensors), pool)!;

        int tokens = (image / patch) * (image / patch) + 1, batch = 2;
        var rng = new Random(5);
        var pixels = Enumerable.Range(0, batch * 3 * image * image).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var last = new float[batch * tokens * hidden];
        var pooled = new float[batch * hidden];
        fixed (float* px = pixels) fixed (float* o0 = last) fixed (float* o1 = pooled)
        {
            nint* outputs = stackalloc nint[2] { (nint)o0, (nint)o1 };
            model.Run(batch, px, new ReadOnlySpan<nint>(outputs, 2));
        }
        var reference = new ViTReference(n => tensors[n], hidden, layers, heads, intermediate, image, patch, 1e-6);
        for (int b = 0; b < batch; b++)
        {
            var (refLast, refPooled) = reference.Forward(pixels.AsSpan(b * 3 * image * image, 3 * image * image).ToArray());
            float e1 = Golden.MaxAbsDiff(last.AsSpan(b * tokens * hidden, tokens * hidden), refLast);
            float e2 = Golden.MaxAbsDiff(pooled.AsSpan(b * hidden, hidden), refPooled);
            output.WriteLine($"{name} image {b}: last_hidden_state {e1:E2}, pooler_output {e2:E2}");
            Assert.True(e1 <= 5e-5f && e2 <= 5e-5f, $"{name}: {e1:E2} / {e2:E2}");
        }
    }

    private static Type CompileAndLoad(string source, string assemblyName)
    {
        var (result, bytes) = Compile(source, assemblyName);
        Assert.True(result.Success, string.Join("\n", result.Diagnostics.Take(10)));
        var assembly = AssemblyLoadContext.Default.LoadFromStream(new MemoryStream(bytes));
        return assembly.GetTypes().Single(t => typeof(IGeneratedModel).IsAssignableFrom(t));
    }

    [Fact]
    public void MobileViT_reference_matches_pytorch_on_mobilevit_small()
    {
        var d = ModelCatalog.Find("mobilevit-small").Descriptor;
        using var calibration = SafeTensorsFile.Open(TestPaths.Repo("src", "Graphs", "mobilevit-small", "synthetic-bn-calibration.safetensors"));
        var tensors = SyntheticWeights.Generate(d.Tensors, 0, calibration);
        var reference = new MobileViTReference(n => tensors[n], [16, 32, 64, 96, 128, 160, 640], [144, 192, 240], 4, 4.0, 2.0, 256);
        using var golden = SafeTensorsFile.Open(Golden.File("mobilevit-small_chelsea.safetensors"));
        var logits = reference.Forward(golden.GetFloats("pixel_values").ToArray());
        float e = Golden.MaxAbsDiff(logits, golden.GetFloats("logits"));
        output.WriteLine($"MobileViT reference vs PyTorch: logits {e:E2}");
        Assert.True(e <= 5e-5f);
    }

    public static TheoryData<string, string, string, double> MobileViTConfigs => new()
    {
        // name, neck_hidden_sizes, hidden_sizes, expand_ratio: HF's x-small and xx-small widths at a 64×64 input
        { "x-small", "[16, 32, 48, 64, 80, 96, 384]", "[96, 120, 144]", 4.0 },
        { "xx-small", "[16, 16, 24, 48, 64, 80, 320]", "[64, 80, 96]", 2.0 },
    };

    [Theory]
    [MemberData(nameof(MobileViTConfigs))]
    public unsafe void Generated_mobilevit_matches_reference(string name, string neck, string hidden, double expand)
    {
        string labels = "{" + string.Join(", ", Enumerable.Range(0, 10).Select(i => $"\"{i}\": \"c{i}\"")) + "}";
        string config = $$"""
            { "architectures": ["MobileViTForImageClassification"], "model_type": "mobilevit", "image_size": 64,
              "neck_hidden_sizes": {{neck}}, "hidden_sizes": {{hidden}}, "expand_ratio": {{expand}}, "id2label": {{labels}} }
            """;
        var generated = Run(ModelFolder("mobilevit-" + name, config, "{ \"size\": 72, \"crop_size\": 64 }"));
        Assert.DoesNotContain(generated.Diagnostics, x => x.Severity == DiagnosticSeverity.Error);
        var type = CompileAndLoad(Assert.Single(generated.Sources).Source, "RefMv_" + name.Replace('-', '_'));
        var descriptor = (ModelDescriptor)type.GetProperty("Descriptor")!.GetValue(null)!;
        var tensors = Synthetic(descriptor);
        using var pool = new WorkerPool(2);
        using var model = (IGeneratedModel)Activator.CreateInstance(type, new Source(tensors), pool)!;
        int batch = 2, per = 3 * 64 * 64;
        var rng = new Random(9);
        var pixels = Enumerable.Range(0, batch * per).Select(_ => (float)rng.NextDouble()).ToArray();
        var logits = new float[batch * 10];
        fixed (float* px = pixels) fixed (float* o0 = logits)
        {
            nint* outputs = stackalloc nint[1] { (nint)o0 };
            model.Run(batch, px, new ReadOnlySpan<nint>(outputs, 1));
        }
        var reference = new MobileViTReference(n => tensors[n], System.Text.Json.JsonSerializer.Deserialize<int[]>(neck)!,
            System.Text.Json.JsonSerializer.Deserialize<int[]>(hidden)!, 4, expand, 2.0, 64);
        for (int b = 0; b < batch; b++)
        {
            var expected = reference.Forward(pixels.AsSpan(b * per, per).ToArray());
            float scale = Math.Max(1f, expected.Max(MathF.Abs));
            float e = Golden.MaxAbsDiff(logits.AsSpan(b * 10, 10), expected);
            output.WriteLine($"{name} image {b}: logits max |Δ| {e:E2} (max |logit| {expected.Max(MathF.Abs):F3})");
            Assert.True(e <= 5e-5f * scale, $"{name}: {e:E2}");
        }
    }
}
