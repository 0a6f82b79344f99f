// aot-vit's source generator. The pipeline, stage by stage:
//
//   AdditionalFiles  src/Graphs/<model>/config.json + preprocessor_config.json (text only)
//     → pair by folder             ModelInput (strings: cheap to compare, so unchanged models stay cached)
//     → parse (ConfigParser)       Result<ModelSpec>: an equatable record + diagnostics, never a JsonValue
//     → lower (ViT/MobileViT)      Graph IR with static shapes, unfused
//     → passes (PassPipeline)      BatchNorm folding, epilogue fusion, QKV fusion, memory plan, constant layout
//     → emit (ModelEmitter)        one <ClassName>.g.cs per model
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

            context.RegisterSourceOutput(results.Select(static (r, _) => r.Value), static (spc, spec) =>
            {
                if (spec is null) return;
                try
                {
                    spc.AddSource(spec.ClassName + ".g.cs", SourceText.From(Generate(spec), Encoding.UTF8));
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    spc.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InternalError, Location.None, spec.ConfigPath, e.Message));
                }
            });

            context.RegisterSourceOutput(results.Select(static (r, _) => r.Diagnostics), static (spc, diagnostics) =>
            {
                foreach (var d in diagnostics) spc.ReportDiagnostic(d.ToDiagnostic());
            });
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
                || name.Equals("preprocessor_config.json", StringComparison.OrdinalIgnoreCase);
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
                    string folder = Path.GetFileName(g.Key);
                    return new ModelInput(folder,
                        config.Path ?? Path.Combine(g.Key, "config.json"), config.Text,
                        pre.Path ?? Path.Combine(g.Key, "preprocessor_config.json"), pre.Text);
                })
                .ToImmutableArray();
        }
    }
}
