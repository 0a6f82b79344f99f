using System.Collections.Immutable;
using AotVit.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace AotVit.Tests.Generator;

/// <summary>Runs ModelGenerator in-process over in-memory AdditionalFiles, as the compiler would.</summary>
internal static class GeneratorHarness
{
    public sealed class InMemoryText : AdditionalText
    {
        private readonly string? _text;
        public InMemoryText(string path, string? text) { Path = path; _text = text; }
        public override string Path { get; }
        public override SourceText? GetText(CancellationToken cancellationToken = default) => _text is null ? null : SourceText.From(_text);
    }

    /// <summary>What the generator produced: one source per model (Sources), the catalog of them (Catalog), diagnostics.</summary>
    public sealed record Output(ImmutableArray<(string HintName, string Source)> Sources, string? Catalog, ImmutableArray<Diagnostic> Diagnostics, GeneratorDriver Driver);

    public const string CatalogHint = "ModelCatalog.g.cs";

    public static Output Run(params (string Path, string? Text)[] files) => Run(null, files);

    public static Output Run(GeneratorDriver? driver, params (string Path, string? Text)[] files)
    {
        var compilation = CSharpCompilation.Create("GeneratorTest", options: new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        driver ??= CSharpGeneratorDriver.Create(new[] { new ModelGenerator().AsSourceGenerator() },
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        driver = driver.ReplaceAdditionalTexts(files.Select(f => (AdditionalText)new InMemoryText(f.Path, f.Text)).ToImmutableArray());
        driver = driver.RunGenerators(compilation);
        var result = driver.GetRunResult();
        var gen = result.Results.Single();
        if (gen.Exception is not null) throw new InvalidOperationException("the generator threw", gen.Exception);
        var all = gen.GeneratedSources.Select(s => (s.HintName, Source: s.SourceText.ToString())).ToList();
        return new Output(all.Where(s => s.HintName != CatalogHint).ToImmutableArray(),
                          all.FirstOrDefault(s => s.HintName == CatalogHint).Source, result.Diagnostics, driver);
    }

    /// <summary>Compiles emitted model source against the runtime (as src/AotVit would): the result and the assembly bytes.</summary>
    public static (Microsoft.CodeAnalysis.Emit.EmitResult Result, byte[] Assembly) Compile(string source, string assemblyName)
    {
        var references = new[] { typeof(object), typeof(AotVit.Runtime.Kernels.Gemm), typeof(AotVit.Runtime.Model.ModelDescriptor), typeof(Enumerable) }
            .Select(t => t.Assembly.Location)
            .Concat(Directory.GetFiles(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "System.Runtime.dll"))
            .Distinct()
            .Select(p => MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create(assemblyName, new[] { CSharpSyntaxTree.ParseText(source) }, references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, optimizationLevel: OptimizationLevel.Release,
                                         nullableContextOptions: NullableContextOptions.Enable));
        using var stream = new MemoryStream();
        var result = compilation.Emit(stream);
        return (result, stream.ToArray());
    }

    public static (string, string?)[] ModelFolder(string folder, string? config, string? preprocessor)
    {
        var files = new List<(string, string?)>();
        if (config is not null) files.Add(($"/graphs/{folder}/config.json", config));
        if (preprocessor is not null) files.Add(($"/graphs/{folder}/preprocessor_config.json", preprocessor));
        return files.ToArray();
    }

    public const string TinyViTConfig = """
        {
          "architectures": ["ViTModel"],
          "hidden_act": "gelu",
          "hidden_size": 64,
          "image_size": 64,
          "intermediate_size": 128,
          "layer_norm_eps": 1e-12,
          "model_type": "vit",
          "num_attention_heads": 4,
          "num_channels": 3,
          "num_hidden_layers": 2,
          "patch_size": 16,
          "qkv_bias": true
        }
        """;

    public const string TinyViTPreprocessor = """
        { "do_normalize": true, "do_resize": true, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "resample": 2, "size": 64 }
        """;

    public const string TinyMobileViTConfig = """
        {
          "architectures": ["MobileViTForImageClassification"],
          "hidden_act": "silu",
          "hidden_sizes": [16, 24, 32],
          "neck_hidden_sizes": [8, 8, 16, 16, 24, 24, 48],
          "id2label": { "0": "cat", "1": "dog", "2": "say \"cheese\"" },
          "image_size": 64,
          "model_type": "mobilevit",
          "num_attention_heads": 2,
          "expand_ratio": 2.0,
          "mlp_ratio": 2.0
        }
        """;

    public const string TinyMobileViTPreprocessor = """
        { "crop_size": 64, "do_center_crop": true, "do_flip_channel_order": true, "do_resize": true, "resample": 2, "size": 72 }
        """;
}
