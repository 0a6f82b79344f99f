using AotVit.Generator;
using AotVit.Generator.Ir;
using AotVit.Generator.Model;
using AotVit.Generator.Parsing;
using AotVit.Generator.Passes;
using Xunit;
using static AotVit.Tests.Generator.GeneratorHarness;

namespace AotVit.Tests.Generator;

/// <summary>
/// Passes.RowNarrowing on the compiled models: the token classifiers compute the last layer from the attention's
/// queries on for the rows their heads read only, and the descriptor's MAC count is what still runs; models whose
/// output is a whole hidden state or a feature map are left as they were.
/// </summary>
[Trait("Category", "Generator")]
public sealed class RowNarrowingTests
{
    private static ModelSpec Spec(string folder)
    {
        string dir = TestPaths.Repo("src", "Graphs", folder);
        var result = ConfigParser.Parse(new ModelInput(folder, Path.Combine(dir, "config.json"), File.ReadAllText(Path.Combine(dir, "config.json")),
            Path.Combine(dir, "preprocessor_config.json"), File.ReadAllText(Path.Combine(dir, "preprocessor_config.json"))));
        Assert.Empty(result.Diagnostics);
        return result.Value!;
    }

    private static long Macs(Graph g) => AotVit.Generator.Emit.ModelEmitter.MacsPerImage(g);

    // rows: what the heads read; the last layer's shapes: tokens, hidden, intermediate, heads.
    [Theory]
    [InlineData("vit-base-patch16-224", 1, 197, 768, 3072, 12)]
    [InlineData("deit-small-distilled-patch16-224", 2, 198, 384, 1536, 6)]
    public void Classifiers_compute_only_the_rows_their_heads_read_in_the_last_layer(string folder, int rows, int tokens, int hidden, int intermediate, int heads)
    {
        var spec = Spec(folder);
        long unnarrowed = Macs(ModelGenerator.Lower(spec));   // the passes before RowNarrowing change no MAC count
        var g = PassPipeline.Run(ModelGenerator.Lower(spec));
        Assert.Single(g.PassLog, l => l.StartsWith("RowNarrowing:", StringComparison.Ordinal));

        var attentions = g.AllOps.OfType<AttentionOp>().ToList();
        Assert.All(attentions.Take(attentions.Count - 1), a => Assert.Equal(a.Tokens, a.Queries));
        Assert.Equal(rows, attentions[^1].Queries);
        var narrowed = g.AllOps.Where(o => o.Note is not null).Select(o => o.Module).ToList();
        string layer = (folder.StartsWith("deit", StringComparison.Ordinal) ? "deit" : "vit") + ".encoder.layer.11";
        Assert.Equal(new[]
        {
            $"{layer}.attention.attention", $"{layer}.attention.output.dense", $"{layer}.layernorm_after",
            $"{layer}.intermediate.dense", $"{layer}.output.dense", layer.Replace(".encoder.layer.11", ".layernorm"),
        }, narrowed);
        Assert.Single(g.AllOps.OfType<FirstRowsOp>());
        // The q/k/v GEMM of the last layer stays whole: keys and values are every token.
        Assert.Equal(tokens, g.AllOps.OfType<LinearOp>().Single(l => l.Module == $"{layer}.attention.attention.{{query,key,value}}").RowsPerImage);

        // The ops' MACs (what the kernels execute) lose the dropped rows' attention output projection, MLP and attention
        // scores/values; MacsPerImage stays the model's count (the benchmarks divide every engine's time by it).
        long saved = (long)(tokens - rows) * (hidden * (long)hidden + 2L * hidden * intermediate) + 2L * (tokens - rows) * tokens * hidden;
        Assert.Equal(unnarrowed - saved, g.AllOps.Sum(o => o.Macs));
        Assert.Equal(unnarrowed, Macs(g));
    }

    [Theory]
    [InlineData("vit-base-patch32-224-in21k")]
    [InlineData("mobilevit-small")]
    [InlineData("mobilevit-x-small")]
    [InlineData("mobilevit-xx-small")]
    public void Models_whose_outputs_read_every_row_are_unchanged(string folder)
    {
        var spec = Spec(folder);
        long unnarrowed = Macs(ModelGenerator.Lower(spec));
        var g = PassPipeline.Run(ModelGenerator.Lower(spec));
        Assert.DoesNotContain(g.PassLog, l => l.StartsWith("RowNarrowing", StringComparison.Ordinal));
        Assert.All(g.AllOps, o => Assert.Null(o.Note));
        Assert.Empty(g.AllOps.OfType<FirstRowsOp>());
        Assert.All(g.AllOps.OfType<AttentionOp>(), a => Assert.Equal(a.Tokens, a.Queries));
        Assert.Equal(unnarrowed, Macs(g));
    }

    [Fact]
    public void Emitted_classifier_says_which_rows_it_computes_and_why()
    {
        string dir = TestPaths.Repo("src", "Graphs", "deit-small-distilled-patch16-224");
        var output = Run(ModelFolder("deit-small-distilled-patch16-224", File.ReadAllText(Path.Combine(dir, "config.json")),
                                     File.ReadAllText(Path.Combine(dir, "preprocessor_config.json"))));
        Assert.Empty(output.Diagnostics);
        string source = output.Sources.Single().Source;
        Assert.Contains("// Only rows 0..1 of 198 per image are computed from here on (RowNarrowing): the outputs depend on no other row " +
                        "(cls_classifier reads token 0, distillation_classifier reads token 1).", source);
        Assert.Contains("Attention.RunQueryLanes(_pool, batch * 1, 198, queries: 2, 6, 64,", source);
        Assert.Contains("Layout.FirstRows(_pool, batch, 198, 2, 384, deit_encoder_layer_10_output, deit_encoder_layer_10_output_rows);", source);
        Assert.Contains("// deit.layernorm (LayerNorm, eps 1E-12): [2×384] → [2×384]", source);
        // the heads read tokens 0 and 1 of the compact [2×384] rows: per-image stride 768
        Assert.Contains("Gemm.Run(_pool, batch * 1, last_hidden_state + 384, 768, _distillation_classifier,", source);
        var (compiled, _) = Compile(source, "DeitNarrowed");
        Assert.True(compiled.Success, string.Join("\n", compiled.Diagnostics));
    }
}
