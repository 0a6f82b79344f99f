// aot-vit's source generator. The pipeline, stage by stage:
//
//   AdditionalFiles  src/Graphs/<model>/config.json + preprocessor_config.json (+ optional hub.json) (text only)
//     → pair by folder             ModelInput (strings: cheap to compare, so unchanged models stay cached)
//     → parse (ConfigParser)       Result<ModelSpec>: an equatable record + diagnostics, never a JsonValue
//     → lower (ViT/MobileViT)      Graph IR with static shapes, unfused
//     → passes (PassPipeline)      BatchNorm folding, epilogue fusion, inverted-residual fusion, QKV fusion,
//                                  memory plan, constant layout (Passes/, one file per pass)
//     → emit (ModelEmitter)        one <ClassName>.g.cs per model
//     → catalog (CatalogEmitter)   ModelCatalog.g.cs: every model that generated, for the API, CLI and C ABI
//
// Source and diagnostics are two separate outputs (as in the System.Text.Json generator): the source
// output depends only on the parsed spec, so moving a line in a JSON file re-reports diagnostics without
// regenerating code. Lowering, passes and emission are pure functions of the spec.
using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Text;
using AotVit.Generator.Emit;
using AotVit.Generator.Ir;
using AotVit.Generator.Lowering;
using AotVit.Generator.Model;
using AotVit.Generator.Parsing;
using AotVit.Generator.Passes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace AotVit.Generator
{
    [Generator(LanguageNames.CSharp)]
    public sealed class ModelGenerator : IIncrementalGenerator
    {
        /// <summary>Tracking names for incremental-caching tests.</summary>
        public static class StepNames
        {
            public const string Inputs = "ModelInputs";
            public const string Specs = "ModelSpecs";
            public const string Generated = "GeneratedModels";
            public const string Catalog = "Catalog";
        }

        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            // Only the two HF files are read; any other AdditionalFile is ignored.
            var files = context.AdditionalTextsProvider
                .Where(static f => IsModelFile(f.Path))
                .Select(static (f, ct) => (Path: f.Path, Text: f.GetText(ct)?.ToString()))
                .Collect();

            var inputs = files
                .SelectMany(static (all, _) => PairByFolder(all))
                .WithTrackingName(StepNames.Inputs);

            var results = inputs
                .Select(static (input, ct) => ConfigParser.Parse(input))
                .WithTrackingName(StepNames.Specs);

            // Generation is a pipeline step (cached per spec), so the catalog below lists exactly the models whose
            // source was produced: a model the passes cannot handle is left out with its diagnostic, and the build
            // still compiles.
            var generated = results
                .Select(static (r, ct) => r.Value is null ? null : GeneratedModel.For(r.Value))
                .WithTrackingName(StepNames.Generated);

            context.RegisterSourceOutput(generated, static (spc, model) =>
            {
                if (model is null) return;
                if (model.Source is not null)
                {
                    spc.AddSource(model.ClassName + ".g.cs", SourceText.From(model.Source, Encoding.UTF8));
                    return;
                }
                // The diagnostic is the one error: a compilable stub keeps code that names the class from adding CS0246.
                var location = Location.Create(model.ConfigPath, new TextSpan(0, 0), new LinePositionSpan(default, default));
                spc.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InternalError, location, model.ConfigPath, model.Error));
                spc.AddSource(model.ClassName + ".g.cs", SourceText.From(ModelEmitter.EmitStub(model.ClassName, model.ConfigPath, model.Error ?? ""), Encoding.UTF8));
            });

            // One catalog of every model that generated, sorted by folder name: the C# API, the CLI and the C ABI
            // enumerate it instead of naming models.
            var catalog = generated
                .Select(static (m, _) => m?.Source is null ? null : m.ClassName)
                .Collect()
                .WithTrackingName(StepNames.Catalog);
            context.RegisterSourceOutput(catalog, static (spc, classes) =>
                spc.AddSource("ModelCatalog.g.cs", SourceText.From(CatalogEmitter.Emit(classes.Where(c => c is not null).Select(c => c!)), Encoding.UTF8)));

            context.RegisterSourceOutput(results.Select(static (r, _) => r.Diagnostics), static (spc, diagnostics) =>
            {
                foreach (var d in diagnostics) spc.ReportDiagnostic(d.ToDiagnostic());
            });
        }

        /// <summary>The source of one model, or the reason the generator could not produce it (equatable, for caching).</summary>
        internal sealed record GeneratedModel(string ClassName, string ConfigPath, string? Source, string? Error)
        {
            public static GeneratedModel For(ModelSpec spec)
            {
                try
                {
                    return new GeneratedModel(spec.ClassName, spec.ConfigPath, Generate(spec), null);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    return new GeneratedModel(spec.ClassName, spec.ConfigPath, null, e.Message);
                }
            }
        }

        /// <summary>Parse → lower → passes → emit for one model. Public to the tests, which check each stage.</summary>
        internal static string Generate(ModelSpec spec) => ModelEmitter.Emit(spec, PassPipeline.Run(Lower(spec)));

        internal static Graph Lower(ModelSpec spec) => spec switch
        {
            ViTSpec v => ViTLowering.Lower(v),
            MobileViTSpec m => MobileViTLowering.Lower(m),
            _ => throw new NotSupportedException(spec.GetType().Name),
        };

        private static bool IsModelFile(string path)
        {
            string name = Path.GetFileName(path);
            return name.Equals("config.json", StringComparison.OrdinalIgnoreCase)
                || name.Equals("preprocessor_config.json", StringComparison.OrdinalIgnoreCase)
                || name.Equals("hub.json", StringComparison.OrdinalIgnoreCase);
        }

        private static ImmutableArray<ModelInput> PairByFolder(ImmutableArray<(string Path, string? Text)> files)
        {
            return files
                .GroupBy(f => Path.GetDirectoryName(f.Path) ?? "", StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g =>
                {
                    var config = g.FirstOrDefault(f => Path.GetFileName(f.Path).Equals("config.json", StringComparison.OrdinalIgnoreCase));
                    var pre = g.FirstOrDefault(f => Path.GetFileName(f.Path).Equals("preprocessor_config.json", StringComparison.OrdinalIgnoreCase));
                    var hub = g.FirstOrDefault(f => Path.GetFileName(f.Path).Equals("hub.json", StringComparison.OrdinalIgnoreCase));
                    string folder = Path.GetFileName(g.Key);
                    return new ModelInput(folder,
                        config.Path ?? Path.Combine(g.Key, "config.json"), config.Text,
                        pre.Path ?? Path.Combine(g.Key, "preprocessor_config.json"), pre.Text,
                        hub.Path, hub.Text);
                })
                .ToImmutableArray();
        }
    }
}
