// The model family is the set of folders: a temporary copy of src/Graphs with one model folder removed and one added
// goes through the generator, and the generated sources are compiled together with the unchanged sources of
// src/AotVit (the C# API) and src/Native (the C ABI) into one assembly. Its ModelCatalog and its exported
// aotvit_catalog_size / aotvit_catalog_entry / aotvit_model_open then list and open exactly the new set, the
// generated code of every other model is byte-identical, and nothing but the folders changed.
using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using AotVit.Runtime.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using Xunit.Abstractions;

namespace AotVit.Tests.Generator;

[Trait("Category", "Generator")]
public sealed class FamilyFollowsFoldersTests(ITestOutputHelper output) : IDisposable
{
    private const string Removed = "mobilevit-xx-small";
    private const string Added = "tiny-deit-added";
    private const string AddedRepo = "test-org/tiny-deit-added";

    private const string TinyDeiTConfig = """
        {
          "architectures": ["DeiTForImageClassificationWithTeacher"],
          "hidden_act": "gelu",
          "hidden_size": 32,
          "id2label": { "0": "cat", "1": "dog", "2": "bird" },
          "image_size": 32,
          "intermediate_size": 64,
          "layer_norm_eps": 1e-12,
          "model_type": "deit",
          "num_attention_heads": 2,
          "num_channels": 3,
          "num_hidden_layers": 2,
          "patch_size": 16
        }
        """;

    private const string TinyDeiTPreprocessor = """
        { "crop_size": 32, "do_center_crop": true, "do_normalize": true, "do_resize": true, "image_mean": [0.485, 0.456, 0.406],
          "image_std": [0.229, 0.224, 0.225], "resample": 3, "size": 36 }
        """;

    private readonly string _graphs = Directory.CreateTempSubdirectory("aotvit-family-").FullName;

    public void Dispose() => Directory.Delete(_graphs, recursive: true);

    private static readonly string[] ModelFiles = ["config.json", "preprocessor_config.json", "hub.json"];

    /// <summary>The AdditionalFiles src/AotVit gives the generator for the folders under <paramref name="root"/>.</summary>
    private static (string Path, string? Text)[] FolderFiles(string root) =>
        Directory.GetDirectories(root).OrderBy(d => d, StringComparer.Ordinal)
            .SelectMany(d => ModelFiles.Select(f => Path.Combine(d, f)))
            .Where(File.Exists)
            .Select(p => (p, (string?)File.ReadAllText(p)))
            .ToArray();

    /// <summary>src/Graphs copied without <see cref="Removed"/>, plus <see cref="Added"/> (config, processor, hub.json).</summary>
    private void MakeTemporaryFamily()
    {
        foreach (var dir in Directory.GetDirectories(TestPaths.Repo("src", "Graphs")))
        {
            string name = Path.GetFileName(dir);
            if (name == Removed) continue;
            Directory.CreateDirectory(Path.Combine(_graphs, name));
            foreach (var f in ModelFiles)
            {
                if (File.Exists(Path.Combine(dir, f))) File.Copy(Path.Combine(dir, f), Path.Combine(_graphs, name, f));
            }
        }
        string added = Directory.CreateDirectory(Path.Combine(_graphs, Added)).FullName;
        File.WriteAllText(Path.Combine(added, "config.json"), TinyDeiTConfig);
        File.WriteAllText(Path.Combine(added, "preprocessor_config.json"), TinyDeiTPreprocessor);
        File.WriteAllText(Path.Combine(added, "hub.json"), $$"""{ "repo_id": "{{AddedRepo}}" }""");
    }

    [Fact]
    public void Catalog_api_and_c_abi_follow_the_model_folders()
    {
        var before = GeneratorHarness.Run(FolderFiles(TestPaths.Repo("src", "Graphs")));
        Assert.DoesNotContain(before.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        // The in-process generator over src/Graphs gives the catalog this build was compiled with.
        var built = ModelCatalog.All.Select(e => e.Name).ToArray();
        Assert.Equal(Directory.GetDirectories(TestPaths.Repo("src", "Graphs")).Select(Path.GetFileName).Order(StringComparer.Ordinal), built);
        Assert.Contains(Removed, built);

        MakeTemporaryFamily();
        var after = GeneratorHarness.Run(FolderFiles(_graphs));
        Assert.DoesNotContain(after.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);

        // Generated code: the removed model's source is gone, one source is new, every other one is unchanged.
        var beforeSources = before.Sources.ToDictionary(s => s.HintName, s => s.Source);
        var afterSources = after.Sources.ToDictionary(s => s.HintName, s => s.Source);
        var gone = beforeSources.Keys.Except(afterSources.Keys).ToArray();
        var added = afterSources.Keys.Except(beforeSources.Keys).ToArray();
        Assert.Equal(["MobilevitXxSmall.g.cs"], gone);
        Assert.Equal(["TinyDeitAdded.g.cs"], added);
        foreach (var hint in beforeSources.Keys.Intersect(afterSources.Keys))
        {
            Assert.True(beforeSources[hint] == afterSources[hint], $"{hint} changed although its folder did not");
        }
        Assert.Contains("TinyDeitAdded.Descriptor", after.Catalog);
        Assert.DoesNotContain("MobilevitXxSmall", after.Catalog);

        // The unchanged API and C ABI sources, compiled with the new generated code, enumerate the new family.
        var expected = built.Where(n => n != Removed).Append(Added).Order(StringComparer.Ordinal).ToArray();
        var probe = CompileFamily(after);
        var api = (string[])probe.GetMethod("Api")!.Invoke(null, null)!;
        var abi = (string[])probe.GetMethod("CAbi")!.Invoke(null, null)!;
        output.WriteLine("C ABI catalog: " + string.Join("; ", abi));
        Assert.Equal(expected, api.Select(e => e.Split('|')[0]));
        Assert.Equal(api, abi);
        Assert.Contains($"{Added}|{AddedRepo}|classifier", abi);
        foreach (var name in built.Where(n => n != Removed))
        {
            var entry = ModelCatalog.Find(name);
            string kind = entry.Kind == ModelKind.Classifier ? "classifier" : "feature-extractor";
            Assert.Contains($"{entry.Name}|{entry.RepoId}|{kind}", abi);
        }

        // aotvit_model_open: the added model by its repo id (a synthetic checkpoint) runs as a 3-class classifier; the
        // removed one is an unknown model whose message lists the new family.
        var open = (string)probe.GetMethod("Open")!.Invoke(null, [AddedRepo])!;
        Assert.Equal("status 0, kind 1, outputs 1, labels 3, label 2 bird", open);
        var refused = (string)probe.GetMethod("Open")!.Invoke(null, [Removed])!;
        Assert.StartsWith($"status 1: unknown model '{Removed}'; compiled models: ", refused);
        Assert.Contains(AddedRepo, refused);
        Assert.DoesNotContain("apple/" + Removed, refused);
    }

    /// <summary>
    /// Compiles the generated sources with src/AotVit/*.cs and src/Native/*.cs as they are on disk (plus what their
    /// projects add: implicit usings, BuildInfo) and a probe that calls the exported C functions through unmanaged
    /// function pointers, as a C caller would. Returns the probe type.
    /// </summary>
    private Type CompileFamily(GeneratorHarness.Output generated)
    {
        var trees = new List<SyntaxTree>();
        var parse = new CSharpParseOptions(LanguageVersion.Preview);
        foreach (var dir in new[] { TestPaths.Repo("src", "AotVit"), TestPaths.Repo("src", "Native") })
        {
            foreach (var file in Directory.GetFiles(dir, "*.cs"))
                trees.Add(CSharpSyntaxTree.ParseText(File.ReadAllText(file), parse, file));
        }
        foreach (var (hint, source) in generated.Sources) trees.Add(CSharpSyntaxTree.ParseText(source, parse, hint));
        trees.Add(CSharpSyntaxTree.ParseText(generated.Catalog!, parse, GeneratorHarness.CatalogHint));
        trees.Add(CSharpSyntaxTree.ParseText(ProjectAdditions, parse, "ProjectAdditions.cs"));
        trees.Add(CSharpSyntaxTree.ParseText(ProbeSource, parse, "Probe.cs"));

        string framework = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var references = Directory.GetFiles(framework, "*.dll")
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) == "netstandard.dll"
                        || Path.GetFileName(p) == "Microsoft.Win32.Primitives.dll")
            .Append(typeof(ModelDescriptor).Assembly.Location)
            .Select(p => MetadataReference.CreateFromFile(p));
        string name = "AotVit.FamilyProbe" + Guid.NewGuid().ToString("N");
        var compilation = CSharpCompilation.Create(name, trees, references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, optimizationLevel: OptimizationLevel.Debug,
                                         nullableContextOptions: NullableContextOptions.Enable));
        using var stream = new MemoryStream();
        var result = compilation.Emit(stream);
        var errors = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(10).ToList();
        Assert.True(result.Success, "the family does not compile:\n" + string.Join("\n", errors));
        stream.Position = 0;
        // Not collectible: [UnmanagedCallersOnly] methods are not callable through function pointers from collectible code.
        var assembly = new AssemblyLoadContext(name).LoadFromStream(stream);
        return assembly.GetType("AotVit.FamilyProbe.Probe", throwOnError: true)!;
    }

    private const string ProjectAdditions = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Threading;
        global using System.Threading.Tasks;
        namespace AotVit { internal static class BuildInfo { public const string InformationalVersion = "0.0.0+family-test"; } }
        """;

    private const string ProbeSource = """
        using System.Runtime.InteropServices;
        using AotVit.Native;
        namespace AotVit.FamilyProbe;
        public static unsafe class Probe
        {
            public static string[] Api() => AotVit.ModelCatalog.All
                .Select(e => $"{e.Name}|{e.RepoId}|{(e.Kind == AotVit.Runtime.Model.ModelKind.Classifier ? "classifier" : "feature-extractor")}")
                .ToArray();

            public static string[] CAbi()
            {
                delegate* unmanaged<int> size = &Exports.CatalogSize;
                delegate* unmanaged<int, byte**, byte**, int*, int> entry = &Exports.CatalogEntry;
                int n = size();
                var result = new string[n];
                for (int i = 0; i < n; i++)
                {
                    byte* name = null, repo = null;
                    int kind = -1;
                    if (entry(i, &name, &repo, &kind) != 0) throw new InvalidOperationException($"aotvit_catalog_entry({i}) failed");
                    result[i] = $"{Marshal.PtrToStringUTF8((nint)name)}|{Marshal.PtrToStringUTF8((nint)repo)}|{(kind == 1 ? "classifier" : "feature-extractor")}";
                }
                return result;
            }

            public static string Open(string model)
            {
                delegate* unmanaged<byte*, byte*, int, nint*, int> open = &Exports.ModelOpen;
                delegate* unmanaged<byte*> lastError = &Exports.LastError;
                nint handle = 0;
                byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(model + "\0");
                int status;
                fixed (byte* p = utf8) status = open(p, null, 1, &handle);
                if (status != 0) return $"status {status}: {Marshal.PtrToStringUTF8((nint)lastError())}";
                try
                {
                    return Describe(handle);
                }
                finally
                {
                    delegate* unmanaged<nint, int> destroy = &Exports.ModelDestroy;
                    destroy(handle);
                }
            }

            private static string Describe(nint handle)
            {
                delegate* unmanaged<nint, int*, int> kindOf = &Exports.ModelKind;
                delegate* unmanaged<nint, int*, int> outputCount = &Exports.ModelOutputCount;
                delegate* unmanaged<nint, int*, int> labelCount = &Exports.ModelLabelCount;
                delegate* unmanaged<nint, int, byte**, int> label = &Exports.ModelLabel;
                int kind = -1, outputs = -1, labels = -1;
                byte* last = null;
                int status = kindOf(handle, &kind) | outputCount(handle, &outputs) | labelCount(handle, &labels) | label(handle, 2, &last);
                return $"status {status}, kind {kind}, outputs {outputs}, labels {labels}, label 2 {Marshal.PtrToStringUTF8((nint)last)}";
            }
        }
        """;
}
