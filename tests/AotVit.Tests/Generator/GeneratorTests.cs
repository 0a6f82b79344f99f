using AotVit.Generator;
using AotVit.Generator.Lowering;
using AotVit.Generator.Model;
using AotVit.Generator.Parsing;
using Microsoft.CodeAnalysis;
using Xunit;
using static AotVit.Tests.Generator.GeneratorHarness;

namespace AotVit.Tests.Generator;

/// <summary>
/// Generator tests: whole-file baselines of the emitted code (they protect readability: a change to the
/// emitted text shows up in review), diagnostics by id for bad JSON, incremental caching, and the lowered
/// graphs of the real configs against the tensor lists of the real checkpoints.
/// Set AOTVIT_UPDATE_BASELINES=1 to rewrite the baselines after an intended change.
/// </summary>
[Trait("Category", "Generator")]
public sealed class GeneratorTests
{
    private static void AssertBaseline(string name, string actual)
    {
        string path = TestPaths.Repo("tests", "AotVit.Tests", "Generator", "Baselines", name);
        if (Environment.GetEnvironmentVariable("AOTVIT_UPDATE_BASELINES") == "1")
        {
            File.WriteAllText(path, actual);
            return;
        }
        Assert.True(File.Exists(path), $"baseline {path} is missing; run with AOTVIT_UPDATE_BASELINES=1");
        string expected = File.ReadAllText(path).Replace("\r\n", "\n");
        Assert.Equal(expected, actual.Replace("\r\n", "\n"));
    }

    [Fact]
    public void TinyViT_matches_baseline()
    {
        var output = Run(ModelFolder("tiny-vit", TinyViTConfig, TinyViTPreprocessor));
        Assert.Empty(output.Diagnostics);
        var (hint, source) = Assert.Single(output.Sources);
        Assert.Equal("TinyVit.g.cs", hint);
        AssertBaseline("TinyVit.g.cs.txt", source);
    }

    [Fact]
    public void TinyMobileViT_matches_baseline()
    {
        var output = Run(ModelFolder("tiny-mobilevit", TinyMobileViTConfig, TinyMobileViTPreprocessor));
        Assert.Empty(output.Diagnostics);
        var (hint, source) = Assert.Single(output.Sources);
        Assert.Equal("TinyMobilevit.g.cs", hint);
        AssertBaseline("TinyMobilevit.g.cs.txt", source);
    }

    [Fact]
    public void Generated_code_names_hf_modules_and_uses_constants()
    {
        var source = Run(ModelFolder("tiny-vit", TinyViTConfig, TinyViTPreprocessor)).Sources.Single().Source;
        Assert.Contains("// encoder.layer.1.attention.attention.{query,key,value}", source);
        Assert.Contains("// encoder.layer.0.intermediate.dense:", source);
        Assert.Contains("Gelu", source);
        Assert.Contains("Pass QkvFusion: 2 attention layers", source);
    }

    [Fact]
    public void Convolutions_name_their_variant_by_shape()
    {
        var source = Run(ModelFolder("tiny-mobilevit", TinyMobileViTConfig, TinyMobileViTPreprocessor)).Sources.Single().Source;
        // The stem (3 → 8, stride 2) stays the im2col GEMM; conv_kxk and fusion (3×3, stride 1) run as Winograd with
        // transformed weights.
        Assert.Contains("// mobilevit.conv_stem.convolution: 3×3 stride 2 conv over [64×64×3], + b, Silu → [32×32×8]; Run\n", source.Replace("\r\n", "\n"));
        Assert.Contains("Pass WinogradConvolution: 6 3x3 stride-1 convolutions", source);
        Assert.Equal(6, CountOf(source, "Conv2d.RunWinograd(_pool, batch,"));
        Assert.Equal(6, CountOf(source, "= WeightPrep.PackWinograd(weights,"));
        Assert.Contains("// mobilevit.encoder.layer.2.fusion.convolution: 3×3 stride 1 conv over concat(", source);
        Assert.DoesNotContain("WeightPrep.PackConv(weights, T(80)", source);

        static int CountOf(string text, string part)
        {
            int count = 0;
            for (int i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal)) count++;
            return count;
        }
    }

    [Theory]
    [InlineData("{ \"model_type\": \"vit\", ", "AOTVIT001")]
    [InlineData("[1, 2]", "AOTVIT003")]
    [InlineData("{ \"model_type\": \"bert\", \"architectures\": [\"BertModel\"] }", "AOTVIT005")]
    [InlineData("{ \"model_type\": \"vit\", \"architectures\": [\"ViTForMaskedImageModeling\"] }", "AOTVIT005")]
    [InlineData("{ \"model_type\": \"deit\", \"architectures\": [\"ViTModel\"] }", "AOTVIT005")]
    [InlineData("{ \"model_type\": \"vit\", \"architectures\": [\"ViTForImageClassification\"] }", "AOTVIT002")]
    [InlineData("{ \"model_type\": \"vit\", \"architectures\": [\"ViTModel\"], \"hidden_size\": \"768\" }", "AOTVIT003")]
    [InlineData("{ \"model_type\": \"vit\", \"architectures\": [\"ViTModel\"], \"hidden_act\": \"gelu_new\" }", "AOTVIT004")]
    [InlineData("{ \"model_type\": \"vit\", \"architectures\": [\"ViTModel\"], \"hidden_size\": 100, \"num_attention_heads\": 12 }", "AOTVIT004")]
    [InlineData("{ \"model_type\": \"vit\", \"architectures\": [\"ViTModel\"], \"num_hidden_layers\": -1 }", "AOTVIT004")]
    [InlineData("{ \"model_type\": \"vit\", \"architectures\": [\"ViTModel\"], \"hidden_size\": 76.5 }", "AOTVIT003")]
    [InlineData("{ \"model_type\": \"vit\", \"model_type\": \"vit\" }", "AOTVIT001")]
    [InlineData("{ \"model_type\": \"mobilevit\", \"architectures\": [\"MobileViTForImageClassification\"] }", "AOTVIT002")]
    [InlineData("{ \"model_type\": \"mobilevit\", \"architectures\": [\"MobileViTForImageClassification\"], \"id2label\": {\"0\": 5} }", "AOTVIT003")]
    [InlineData("{ \"model_type\": \"mobilevit\", \"architectures\": [\"MobileViTForImageClassification\"], \"id2label\": {\"0\": \"a\"}, \"output_stride\": 16 }", "AOTVIT004")]
    [InlineData("{ \"model_type\": \"mobilevit\", \"architectures\": [\"MobileViTForImageClassification\"], \"id2label\": {\"0\": \"a\"}, \"neck_hidden_sizes\": [1, 2] }", "AOTVIT004")]
    public void Bad_config_is_reported_by_id_with_file(string config, string id)
    {
        var output = Run(ModelFolder("bad", config, TinyViTPreprocessor));
        Assert.Empty(output.Sources);
        var diagnostic = Assert.Single(output.Diagnostics, d => d.Id == id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.EndsWith("config.json", diagnostic.Location.GetLineSpan().Path);
        Assert.Contains("config.json", diagnostic.GetMessage());
    }

    [Fact]
    public void Invalid_json_points_at_line_and_column()
    {
        var output = Run(ModelFolder("bad", "{\n  \"model_type\": \"vit\",\n  \"hidden_size\": 76x\n}", TinyViTPreprocessor));
        var d = Assert.Single(output.Diagnostics);
        Assert.Equal("AOTVIT001", d.Id);
        Assert.Equal(2, d.Location.GetLineSpan().StartLinePosition.Line); // 0-based: third line
        Assert.Contains("line 3", d.GetMessage());
    }

    [Fact]
    public void Wrong_field_type_names_the_field_and_its_position()
    {
        var output = Run(ModelFolder("bad", "{\n\"model_type\": \"vit\",\n\"architectures\": [\"ViTModel\"],\n\"patch_size\": true\n}", TinyViTPreprocessor));
        var d = Assert.Single(output.Diagnostics);
        Assert.Equal("AOTVIT003", d.Id);
        Assert.Contains("'patch_size'", d.GetMessage());
        Assert.Equal(3, d.Location.GetLineSpan().StartLinePosition.Line);
    }

    [Theory]
    [InlineData("{ \"size\": {\"height\": 224} }", "AOTVIT002")]
    [InlineData("{ \"resample\": 4 }", "AOTVIT004")]
    [InlineData("{ \"image_std\": [0.5, 0, 0.5] }", "AOTVIT004")]
    [InlineData("{ \"image_mean\": [0.5, 0.5] }", "AOTVIT003")]
    [InlineData("{ \"do_resize\": \"yes\" }", "AOTVIT003")]
    public void Bad_preprocessor_is_reported(string preprocessor, string id)
    {
        var output = Run(ModelFolder("bad", TinyViTConfig, preprocessor));
        Assert.Empty(output.Sources);
        var d = Assert.Single(output.Diagnostics, x => x.Id == id);
        Assert.EndsWith("preprocessor_config.json", d.Location.GetLineSpan().Path);
    }

    [Fact]
    public void Missing_preprocessor_is_reported()
    {
        var output = Run(ModelFolder("lonely", TinyViTConfig, null));
        Assert.Empty(output.Sources);
        Assert.Equal("AOTVIT006", Assert.Single(output.Diagnostics).Id);
    }

    [Fact]
    public void Hostile_json_never_crashes_the_generator()
    {
        var inputs = new List<string>
        {
            new string('[', 100_000),
            new string('{', 5000) + new string('}', 5000),
            "{\"model_type\": \"vit\", \"architectures\": [\"ViTModel\"], \"hidden_size\": 1e400}",
            "{\"model_type\": \"vit\", \"architectures\": [\"ViTModel\"], \"hidden_size\": 99999999999}",
            "\"\\ud800\"", "", " ", "nul", "{\"a\":\"\\u12\"}", "{\"a\": 01}", "{\"a\": -}", "{\"a\": 1.}",
        };
        var rng = new Random(1234);
        string good = TinyViTConfig;
        for (int i = 0; i < 300; i++)
        {
            var chars = good.ToCharArray();
            for (int m = 0; m < 3; m++) chars[rng.Next(chars.Length)] = (char)rng.Next(32, 127);
            inputs.Add(new string(chars));
            inputs.Add(good.Substring(0, rng.Next(good.Length)));
        }
        foreach (var text in inputs)
        {
            var output = Run(ModelFolder("fuzz", text, TinyViTPreprocessor));
            Assert.DoesNotContain(output.Diagnostics, d => d.Id == "AOTVIT099");
            Assert.True(output.Sources.Length == 1 || output.Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error),
                        "no source and no error for: " + text);
        }
    }

    [Fact]
    public void Same_input_is_served_from_the_cache()
    {
        var files = ModelFolder("tiny-vit", TinyViTConfig, TinyViTPreprocessor);
        var first = Run(files);
        var second = Run(first.Driver, files);
        var steps = second.Driver.GetRunResult().Results.Single().TrackedSteps[ModelGenerator.StepNames.Specs];
        Assert.All(steps.SelectMany(s => s.Outputs), o => Assert.True(
            o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"step ran again: {o.Reason}"));
    }

    public static IEnumerable<object[]> RealModels() => new[] { new object[] { "vit-base-patch32-224-in21k", "tensors_vit.tsv" }, new object[] { "mobilevit-small", "tensors_mobilevit.tsv" } };

    [Theory]
    [MemberData(nameof(RealModels))]
    public void Real_config_reads_exactly_the_checkpoint_tensors(string folder, string tsv)
    {
        string dir = TestPaths.Repo("src", "Graphs", folder);
        var input = new ModelInput(folder, Path.Combine(dir, "config.json"), File.ReadAllText(Path.Combine(dir, "config.json")),
                                   Path.Combine(dir, "preprocessor_config.json"), File.ReadAllText(Path.Combine(dir, "preprocessor_config.json")));
        var result = ConfigParser.Parse(input);
        Assert.Empty(result.Diagnostics);
        var graph = ModelGenerator.Lower(result.Value!);
        var expected = File.ReadAllLines(TestPaths.Data("spec", tsv))
            .Select(l => l.Split('\t'))
            .Where(f => !f[0].EndsWith("num_batches_tracked"))
            .ToDictionary(f => f[0], f => f[1]);
        var actual = graph.Tensors.ToDictionary(t => t.Name, t => "[" + string.Join(", ", t.Shape) + "]");
        Assert.Equal(expected.OrderBy(kv => kv.Key, StringComparer.Ordinal), actual.OrderBy(kv => kv.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void Real_models_cost_what_the_spec_says()
    {
        // The models' published costs: ViT-B/32 4.409 GMAC, MobileViT-S 2.001 GMAC (convs + linears + attention matmuls).
        foreach (var (folder, gmac) in new[] { ("vit-base-patch32-224-in21k", 4.409), ("mobilevit-small", 2.001) })
        {
            string dir = TestPaths.Repo("src", "Graphs", folder);
            var spec = ConfigParser.Parse(new ModelInput(folder, Path.Combine(dir, "config.json"), File.ReadAllText(Path.Combine(dir, "config.json")),
                Path.Combine(dir, "preprocessor_config.json"), File.ReadAllText(Path.Combine(dir, "preprocessor_config.json")))).Value!;
            var graph = AotVit.Generator.Passes.PassPipeline.Run(ModelGenerator.Lower(spec));
            Assert.Equal(gmac, AotVit.Generator.Emit.ModelEmitter.MacsPerImage(graph) / 1e9, 2);
        }
    }

    [Theory]
    [InlineData(64.0, 64)]
    [InlineData(20.0, 24)]
    [InlineData(36.0, 40)]
    [InlineData(4.0, 8)]
    [InlineData(100.0, 104)]
    public void MakeDivisible_matches_hf(double value, int expected) => Assert.Equal(expected, MobileViTLowering.MakeDivisible(value));
}
