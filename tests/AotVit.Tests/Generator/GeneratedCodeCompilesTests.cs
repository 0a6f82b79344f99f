using System.Reflection;
using Microsoft.CodeAnalysis;
using Xunit;
using static AotVit.Tests.Generator.GeneratorHarness;

namespace AotVit.Tests.Generator;

/// <summary>
/// The generator lowers every member of a model family, not just the two checkpoints we ship: the emitted source
/// for other ViT and MobileViT configs (HF's mobilevit-x-small and -xx-small, a ViT-L/16-like config) must compile
/// against the runtime without a single diagnostic.
/// </summary>
[Trait("Category", "Generator")]
public sealed class GeneratedCodeCompilesTests
{
    private static string Labels(int n) => "{" + string.Join(", ", Enumerable.Range(0, n).Select(i => $"\"{i}\": \"class {i}\"")) + "}";

    public static TheoryData<string, string, string> Configs => new()
    {
        { "tiny-vit", TinyViTConfig, TinyViTPreprocessor },
        { "tiny-mobilevit", TinyMobileViTConfig, TinyMobileViTPreprocessor },
        // apple/mobilevit-x-small (HF MobileViTConfig values of that checkpoint)
        { "mobilevit-x-small", $$"""
            { "architectures": ["MobileViTForImageClassification"], "model_type": "mobilevit", "hidden_sizes": [96, 120, 144],
              "neck_hidden_sizes": [16, 32, 48, 64, 80, 96, 384], "id2label": {{Labels(1000)}} }
            """, TinyMobileViTPreprocessor.Replace("72", "288").Replace("64", "256") },
        // apple/mobilevit-xx-small
        { "mobilevit-xx-small", $$"""
            { "architectures": ["MobileViTForImageClassification"], "model_type": "mobilevit", "hidden_sizes": [64, 80, 96],
              "neck_hidden_sizes": [16, 16, 24, 48, 64, 80, 320], "expand_ratio": 2.0, "id2label": {{Labels(1000)}} }
            """, TinyMobileViTPreprocessor.Replace("72", "288").Replace("64", "256") },
        // ViT-L/16 at 224: 24 layers, 1024 wide, 197 tokens
        { "vit-large-patch16-224", """
            { "architectures": ["ViTModel"], "model_type": "vit", "hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16,
              "intermediate_size": 4096, "patch_size": 16, "image_size": 224 }
            """, "{ \"size\": 224, \"image_mean\": [0.5, 0.5, 0.5], \"image_std\": [0.5, 0.5, 0.5] }" },
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void Emitted_source_compiles(string folder, string config, string preprocessor)
    {
        var output = Run(ModelFolder(folder, config, preprocessor));
        Assert.DoesNotContain(output.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        var (_, source) = Assert.Single(output.Sources);
        var (result, _) = Compile(source, "Emitted_" + folder.Replace('-', '_'));
        var problems = result.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(d => d.ToString()).ToList();
        Assert.True(result.Success && problems.Count == 0, string.Join("\n", problems.Take(20)));
    }
}
