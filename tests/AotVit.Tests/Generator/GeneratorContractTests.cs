using System.Globalization;
using AotVit.Generator;
using AotVit.Generator.Emit;
using AotVit.Generator.Model;
using AotVit.Generator.Parsing;
using Microsoft.CodeAnalysis;
using Xunit;
using static AotVit.Tests.Generator.GeneratorHarness;

namespace AotVit.Tests.Generator;

/// <summary>The generator's promises about caching, culture and failures, each checked directly.</summary>
public sealed class GeneratorContractTests
{
    private static IncrementalStepRunReason[] GeneratedReasons(Output output) =>
        output.Driver.GetRunResult().Results.Single().TrackedSteps[ModelGenerator.StepNames.Generated]
            .SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();

    [Fact]
    public void Reformatting_or_reordering_a_config_does_not_regenerate()
    {
        var first = Run(ModelFolder("tiny-vit", TinyViTConfig, TinyViTPreprocessor));
        // Every member on one line, in reverse order: the same JSON object.
        var members = TinyViTConfig.Trim().TrimStart('{').TrimEnd('}').Split('\n').Select(l => l.Trim().TrimEnd(',')).Where(l => l.Length > 0).Reverse();
        string moved = "{" + string.Join(", ", members) + "}\n";
        var second = Run(first.Driver, ModelFolder("tiny-vit", moved, TinyViTPreprocessor));
        Assert.All(GeneratedReasons(second), r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"regenerated: {r}"));
        Assert.Equal(first.Sources.Single().Source, second.Sources.Single().Source);
    }

    [Fact]
    public void Editing_one_model_leaves_the_other_cached()
    {
        var vit = ModelFolder("tiny-vit", TinyViTConfig, TinyViTPreprocessor);
        var mobile = ModelFolder("tiny-mobilevit", TinyMobileViTConfig, TinyMobileViTPreprocessor);
        var first = Run(vit.Concat(mobile).ToArray());
        var edited = ModelFolder("tiny-vit", TinyViTConfig.Replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3"), TinyViTPreprocessor);
        var second = Run(first.Driver, edited.Concat(mobile).ToArray());
        var steps = second.Driver.GetRunResult().Results.Single().TrackedSteps[ModelGenerator.StepNames.Generated].ToArray();
        Assert.Equal(2, steps.Length);
        // Folders are processed in name order: tiny-mobilevit, then tiny-vit.
        Assert.All(steps[0].Outputs, o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"tiny-mobilevit: {o.Reason}"));
        Assert.All(steps[1].Outputs, o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        Assert.Contains("EncoderLayer2", second.Sources.Single(s => s.HintName.StartsWith("TinyVit", StringComparison.Ordinal)).Source);
    }

    [Theory]
    [InlineData(64, 4, 64, "RunQueryLanes")]      // 17 tokens × d 16: head columns not a multiple of 32
    [InlineData(128, 2, 64, "RunKeyPanels")]      // 17 tokens × d 64
    [InlineData(128, 2, 160, "RunQueryLanes")]    // 101 tokens × d 64: more than 64 tokens
    public void The_attention_variant_is_named_from_the_static_shape(int hidden, int heads, int imageSize, string variant)
    {
        string config = TinyViTConfig.Replace("\"hidden_size\": 64", $"\"hidden_size\": {hidden}")
            .Replace("\"num_attention_heads\": 4", $"\"num_attention_heads\": {heads}")
            .Replace("\"image_size\": 64", $"\"image_size\": {imageSize}");
        string source = Run(ModelFolder("tiny-vit", config, TinyViTPreprocessor)).Sources.Single().Source;
        string[] calls = source.Split('\n').Where(l => l.Contains("Attention.Run", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, calls.Length);   // one per encoder layer
        Assert.All(calls, call => Assert.Contains($"Attention.{variant}(", call));
        // The comment above each call names the HF module and the variant.
        Assert.Equal(2, source.Split('\n').Count(l => l.Contains("encoder.layer.", StringComparison.Ordinal) && l.Contains(".attention.attention: softmax", StringComparison.Ordinal) && l.TrimEnd().EndsWith("; " + variant, StringComparison.Ordinal)));
        Assert.DoesNotContain("Attention.Run(", source);
    }

    [Fact]
    public void Emitted_source_does_not_depend_on_the_current_culture()
    {
        var files = ModelFolder("tiny-mobilevit", TinyMobileViTConfig, TinyMobileViTPreprocessor);
        string invariant = Run(files).Sources.Single().Source;
        var saved = CultureInfo.CurrentCulture;
        try
        {
            // Decimal comma and a non-ASCII group separator: what an unguarded {x:F1} or {n:N0} would pick up.
            // (the tests run in invariant-globalization mode, so a modified clone stands in for de-DE)
            var culture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            culture.NumberFormat.NumberDecimalSeparator = ",";
            culture.NumberFormat.NumberGroupSeparator = "\u00a0";
            CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = culture;
            Assert.Equal("1\u00a0234,5", 1234.5.ToString("N1"));   // the culture is in effect
            Assert.Equal(invariant, Run(files).Sources.Single().Source);
        }
        finally
        {
            CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = saved;
        }
    }

    [Fact]
    public void Header_names_the_source_files_hash()
    {
        var input = new ModelInput("tiny-vit", "/g/tiny-vit/config.json", TinyViTConfig, "/g/tiny-vit/preprocessor_config.json", TinyViTPreprocessor);
        string hash = ConfigParser.SourceHash(input);
        Assert.Matches("^[0-9a-f]{16}$", hash);
        Assert.Contains($"FNV-1a 64: {hash}.", Run(ModelFolder("tiny-vit", TinyViTConfig, TinyViTPreprocessor)).Sources.Single().Source);
        Assert.NotEqual(hash, ConfigParser.SourceHash(input with { ConfigText = TinyViTConfig.Replace("1e-12", "1e-6") }));
    }

    [Fact]
    public void A_model_the_passes_reject_becomes_an_error_and_a_compilable_stub()
    {
        var input = new ModelInput("tiny-vit", "/g/tiny-vit/config.json", TinyViTConfig, "/g/tiny-vit/preprocessor_config.json", TinyViTPreprocessor);
        var spec = (ViTSpec)ConfigParser.Parse(input).Value!;
        // A spec the parser would never produce (it checks heads ≥ 1): lowering divides by zero.
        var model = ModelGenerator.GeneratedModel.For(spec with { Heads = 0 });
        Assert.Null(model.Source);
        Assert.False(string.IsNullOrEmpty(model.Error));
        string stub = ModelEmitter.EmitStub(model.ClassName, model.ConfigPath, model.Error!);
        Assert.Contains("AOTVIT099", stub);
        var (result, _) = Compile(stub, "StubTest");
        Assert.True(result.Success, string.Join("\n", result.Diagnostics));
    }

    [Fact]
    public void Every_declared_diagnostic_is_in_the_release_file()
    {
        string shipped = File.ReadAllText(TestPaths.Repo("src", "Generator", "AnalyzerReleases.Shipped.md"));
        var descriptors = typeof(ModelGenerator).Assembly.GetType("AotVit.Generator.DiagnosticDescriptors")!
            .GetFields(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public)
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!).ToArray();
        Assert.NotEmpty(descriptors);
        foreach (var d in descriptors)
            Assert.Contains($"{d.Id} | {d.Category} | {d.DefaultSeverity} | {d.Title}", shipped);
    }
}
