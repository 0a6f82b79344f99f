// `generator-json`: mutated Hugging Face config.json / preprocessor_config.json through ModelGenerator, run
// in-process as the compiler would (a CSharpGeneratorDriver over in-memory AdditionalTexts).
// Seeds: the real configs in src/Graphs and two tiny ones. Mutations: structure-aware (a field removed, set to an
// edge number, to the wrong JSON type, duplicated, nested deeply) or textual (bytes, truncation).
// Outcomes: success = one source file and no error; expected error = error diagnostics (bucket: their ids);
// crash = a generator exception, AOTVIT099 (internal error), or neither source nor error. For a sample of
// successes (each distinct source, at most every CompileEvery-th) the emitted code is compiled against the runtime
// assembly: compile errors are a crash.
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AotVit.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace AotVit.Fuzzing;

public sealed class GeneratorJsonTarget : FuzzTarget
{
    private readonly List<(string Folder, string Config, string Preprocessor)> _seeds = [];
    private readonly int _compileEvery;
    private readonly HashSet<string> _compiled = [];
    private readonly Lazy<ImmutableArray<MetadataReference>> _references = new(References);
    private long _successes;

    public GeneratorJsonTarget(string repoRoot, int compileEvery)
    {
        _compileEvery = compileEvery;
        foreach (string dir in Directory.GetDirectories(Path.Combine(repoRoot, "src/Graphs")).Order(StringComparer.Ordinal))
            _seeds.Add((Path.GetFileName(dir), File.ReadAllText(Path.Combine(dir, "config.json")), File.ReadAllText(Path.Combine(dir, "preprocessor_config.json"))));
        _seeds.Add(("tiny-vit", TinyViTConfig, TinyViTPreprocessor));
        _seeds.Add(("tiny-mobilevit", TinyMobileViTConfig, TinyMobileViTPreprocessor));
    }

    public override string Name => "generator-json";

    public override TimeSpan PerInputTimeout => TimeSpan.FromSeconds(60);

    public override string? ExpectedError(Exception exception) => null;   // the generator reports, it never throws

    public override FuzzCase Next(Random random, long index)
    {
        var (folder, config, preprocessor) = random.Pick(_seeds);
        bool mutateConfig = random.Next(3) != 0;
        string target = mutateConfig ? config : preprocessor;
        string kind;
        switch (random.Next(6))
        {
            case 0: target = Truncate(random, target); kind = "truncate"; break;
            case 1: target = Encoding.UTF8.GetString(Mutator.Mutate(random, Encoding.UTF8.GetBytes(target), 4)); kind = "bytes"; break;
            default:
                try { target = MutateStructure(random, target, out kind); }
                catch (Exception e) when (e is InvalidOperationException or ArgumentException or System.Text.Json.JsonException)
                {
                    // JsonNode cannot hold this edit (lone surrogate, duplicate key in the seed): splice the value in as text.
                    int at = target.IndexOf(':');
                    target = at < 0 ? target : target[..(at + 1)] + random.Pick(EdgeValues) + "," + target[(at + 1)..];
                    kind = "text splice";
                }
                break;
        }
        if (mutateConfig) config = target; else preprocessor = target;
        kind = $"{(mutateConfig ? "config" : "preprocessor")} {kind}";
        byte[] artifact = Encoding.UTF8.GetBytes($"// {folder}/config.json\n{config}\n// {folder}/preprocessor_config.json\n{preprocessor}\n");
        bool compile = _compileEvery > 0 && index % _compileEvery == 0;
        return new FuzzCase(kind, artifact, ".json.txt", () => Run(folder, config, preprocessor, compile));
    }

    private static string Truncate(Random random, string text) => text[..random.Next(text.Length)];

    private static readonly string[] EdgeValues =
        ["0", "-1", "1", "2", "3", "7", "1.5", "-0.0", "1e300", "-1e300", "1e-300", "2147483647", "2147483648", "9223372036854775807",
         "99999999999999999999", "65536", "4096", "\"\"", "\"relu\"", "\"gelu_new\"", "null", "true", "[]", "{}", "[0]", "[1,2]",
         "[16,24,32]", "[0.5,0.5]", "[1e300,1,1]", "{\"0\":\"a\"}", "\"\\ud800\""];

    private static string MutateStructure(Random random, string json, out string kind)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(json); }
        catch (System.Text.Json.JsonException) { kind = "structure (unparsable seed)"; return json; }
        if (root is not JsonObject obj || obj.Count == 0) { kind = "structure (no object)"; return json; }
        var keys = obj.Select(p => p.Key).ToList();
        string key = random.Pick(keys);
        switch (random.Next(5))
        {
            case 0:
                obj.Remove(key);
                kind = $"remove {key}";
                return obj.ToJsonString();
            case 1:
                {
                    // Duplicate key: written textually (JsonObject cannot hold two).
                    string value = random.Pick(EdgeValues);
                    string text = obj.ToJsonString();
                    kind = $"duplicate {key}";
                    return text[..^1] + $",\"{key}\":{value}}}";
                }
            case 2:
                {
                    int depth = 1 + random.Next(60);   // System.Text.Json's own limit is 64
                    obj[key] = JsonNode.Parse(new string('[', depth) + "1" + new string(']', depth));
                }
                kind = $"nest {key}";
                return obj.ToJsonString();
            case 3:
                if (obj[key] is JsonArray array && array.Count > 0)
                {
                    array[random.Next(array.Count)] = JsonNode.Parse(random.Pick(EdgeValues));
                    kind = $"element of {key}";
                    return obj.ToJsonString();
                }
                goto default;
            default:
                obj[key] = JsonNode.Parse(random.Pick(EdgeValues));
                kind = $"set {key}";
                return obj.ToJsonString();
        }
    }

    private FuzzResult Run(string folder, string config, string preprocessor, bool compileSample)
    {
        var compilation = CSharpCompilation.Create("FuzzGenerator", options: new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        GeneratorDriver driver = CSharpGeneratorDriver.Create([new ModelGenerator().AsSourceGenerator()]);
        driver = driver.AddAdditionalTexts([
            new InMemoryText($"/graphs/{folder}/config.json", config),
            new InMemoryText($"/graphs/{folder}/preprocessor_config.json", preprocessor)]);
        driver = driver.RunGenerators(compilation);
        var result = driver.GetRunResult();
        var generator = result.Results.Single();
        if (generator.Exception is not null)
            throw new FuzzInvariantException($"the generator threw {generator.Exception.GetType().Name}: {generator.Exception.Message}");
        var diagnostics = result.Diagnostics;
        if (diagnostics.Any(d => d.Id == "AOTVIT099" || d.Id == "AD0001" || d.Id.StartsWith("CS8785", StringComparison.Ordinal)))
            throw new FuzzInvariantException("generator internal error: " + string.Join("; ", diagnostics.Select(d => d.ToString())));
        var errors = diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Id).Distinct().Order(StringComparer.Ordinal).ToList();
        if (errors.Count > 0)
        {
            return FuzzResult.Error(string.Join("+", errors));
        }
        // One model source, and the catalog (ModelCatalog.g.cs) listing it.
        var models = generator.GeneratedSources.Where(s => s.HintName != "ModelCatalog.g.cs").ToList();
        if (models.Count != 1 || generator.GeneratedSources.Length != 2)
            throw new FuzzInvariantException($"no error, but {models.Count} model sources of {generator.GeneratedSources.Length}");
        string source = models[0].SourceText.ToString();
        long successes = Interlocked.Increment(ref _successes);
        if (compileSample || successes == 1)
        {
            string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(source)));
            bool fresh;
            lock (_compiled) fresh = _compiled.Add(hash);
            if (fresh)
            {
                Compile(source);
                return FuzzResult.Ok("generated, compiled");
            }
        }
        return FuzzResult.Ok("generated");
    }

    private void Compile(string source)
    {
        var tree = CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest));
        var compilation = CSharpCompilation.Create("FuzzEmitted", [tree], _references.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (errors.Count > 0)
            throw new FuzzInvariantException($"emitted code does not compile ({errors.Count} errors): " + string.Join("; ", errors.Take(5)));
    }

    private static ImmutableArray<MetadataReference> References()
    {
        // The framework (implicit usings need System, System.Linq, ...) plus the runtime the emitted code calls.
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Append(typeof(AotVit.Runtime.Model.IGeneratedModel).Assembly.Location)
            .Distinct(StringComparer.Ordinal);
        return [.. paths.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    }

    private sealed class InMemoryText(string path, string text) : AdditionalText
    {
        public override string Path { get; } = path;
        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
    }

    private const string TinyViTConfig = """
        { "architectures": ["ViTModel"], "hidden_act": "gelu", "hidden_size": 64, "image_size": 64, "intermediate_size": 128,
          "layer_norm_eps": 1e-12, "model_type": "vit", "num_attention_heads": 4, "num_channels": 3, "num_hidden_layers": 2,
          "patch_size": 16, "qkv_bias": true }
        """;

    private const string TinyViTPreprocessor = """
        { "do_normalize": true, "do_resize": true, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "resample": 2, "size": 64 }
        """;

    private const string TinyMobileViTConfig = """
        { "architectures": ["MobileViTForImageClassification"], "hidden_act": "silu", "hidden_sizes": [16, 24, 32],
          "neck_hidden_sizes": [8, 8, 16, 16, 24, 24, 48], "id2label": { "0": "cat", "1": "dog" }, "image_size": 64,
          "model_type": "mobilevit", "num_attention_heads": 2, "expand_ratio": 2.0, "mlp_ratio": 2.0 }
        """;

    private const string TinyMobileViTPreprocessor = """
        { "crop_size": 64, "do_center_crop": true, "do_flip_channel_order": true, "do_resize": true, "resample": 2, "size": 72 }
        """;
}
