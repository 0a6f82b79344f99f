using Microsoft.CodeAnalysis;
using Xunit;
using static AotVit.Tests.Generator.GeneratorHarness;

namespace AotVit.Tests.Generator;

/// <summary>Generator bugs the generator-json fuzzer found (docs/FUZZING.md G1–G3), pinned.</summary>
[Trait("Category", "Generator")]
public sealed class FoundGeneratorBugTests
{
    [Fact]
    public void G1_huge_layer_count_is_a_diagnostic_not_a_hang()
    {
        var output = Run(ModelFolder("g1", TinyViTConfig.Replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 65536"), TinyViTPreprocessor));
        Assert.Empty(output.Sources);
        Assert.Contains(output.Diagnostics, d => d.Id == "AOTVIT004" && d.GetMessage().Contains("num_hidden_layers"));
    }

    [Theory]
    [InlineData("1e300")]
    [InlineData("1e-50")]
    [InlineData("2")]
    public void G2_layer_norm_eps_out_of_float_range_is_AOTVIT004(string eps)
    {
        var output = Run(ModelFolder("g2", TinyViTConfig.Replace("\"layer_norm_eps\": 1e-12", $"\"layer_norm_eps\": {eps}"), TinyViTPreprocessor));
        Assert.Empty(output.Sources);
        Assert.DoesNotContain(output.Diagnostics, d => d.Id == "AOTVIT099");
        Assert.Contains(output.Diagnostics, d => d.Id == "AOTVIT004" && d.GetMessage().Contains("layer_norm_eps"));
    }

    [Fact]
    public void G3_integer_scalar_mean_and_std_emit_double_arrays()
    {
        var output = Run(ModelFolder("g3", TinyViTConfig, "{ \"size\": 64, \"image_mean\": 0, \"image_std\": 1 }"));
        Assert.DoesNotContain(output.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        var source = Assert.Single(output.Sources).Source;
        Assert.Contains("normalize: new ChannelNormalization(new double[] { 0, 0, 0 }, new double[] { 1, 1, 1 })", source);
    }

    [Fact]
    public void Too_many_vit_tokens_is_a_diagnostic()
    {
        var output = Run(ModelFolder("tokens", TinyViTConfig.Replace("\"image_size\": 64", "\"image_size\": 4096").Replace("\"patch_size\": 16", "\"patch_size\": 1"), TinyViTPreprocessor));
        Assert.Empty(output.Sources);
        Assert.Contains(output.Diagnostics, d => d.Id == "AOTVIT004" && d.GetMessage().Contains("tokens"));
    }

    [Fact]
    public void G4_id2label_key_with_a_leading_zero_repeating_an_index_is_AOTVIT004_not_a_crash()
    {
        // generator-json fuzzer, seed 1 index 24256: "852" mutated to "052" left class 852 without a name (NRE → AOTVIT099).
        var config = TinyMobileViTConfig.Replace("\"1\": \"dog\"", "\"00\": \"dog\"");
        var output = Run(ModelFolder("g4", config, TinyMobileViTPreprocessor));
        Assert.Empty(output.Sources);
        Assert.DoesNotContain(output.Diagnostics, d => d.Id == "AOTVIT099");
        Assert.Contains(output.Diagnostics, d => d.Id == "AOTVIT004" && d.GetMessage().Contains("repeats class index 0"));
    }
}
