using AotVit.Runtime.Weights;
using AotVit.Runtime.Model;
using Xunit;

namespace AotVit.Tests.Generator;

/// <summary>The tensor tables generated descriptors carry (TensorSpec.ParseTables): names, and line for line "[d0, d1, ...]".</summary>
[Trait("Category", "Generator")]
public sealed class TensorTableTests
{
    [Fact]
    public void Parses_names_shapes_and_scalars()
    {
        var t = TensorSpec.ParseTables("a.weight\nb.bias\nc.num_batches_tracked"u8, "[768, 3, 32, 32]\n[768]\n[]"u8);
        Assert.Equal(3, t.Length);
        Assert.Equal("a.weight", t[0].Name);
        Assert.Equal([768L, 3, 32, 32], t[0].Shape.ToArray());
        Assert.Equal([768L], t[1].Shape.ToArray());
        Assert.Equal("c.num_batches_tracked", t[2].Name);
        Assert.Empty(t[2].Shape);
        Assert.Empty(TensorSpec.ParseTables(""u8, ""u8));
    }

    [Theory]
    [InlineData("x", "1")]
    [InlineData("x", "[1, 2")]
    [InlineData("x", "[1,, 2]")]
    [InlineData("x", "[1, -2]")]
    [InlineData("x\n", "[1]\n")]
    [InlineData("", "[1]")]
    [InlineData("x [1]", "[1]")]
    [InlineData("x\ny", "[1]")]
    [InlineData("x", "[1]\n[2]")]
    public void Rejects_malformed_lines(string names, string shapes) =>
        Assert.Throws<FormatException>(() => TensorSpec.ParseTables(System.Text.Encoding.UTF8.GetBytes(names), System.Text.Encoding.UTF8.GetBytes(shapes)));

    [Fact]
    public void Models_of_one_architecture_share_the_names_table()
    {
        var files = Directory.GetDirectories(TestPaths.Repo("src", "Graphs"), "mobilevit-*")
            .SelectMany(d => new[] { "config.json", "preprocessor_config.json" }.Select(f => Path.Combine(d, f)))
            .Select(p => (p, (string?)File.ReadAllText(p))).ToArray();
        var output = GeneratorHarness.Run(files);
        Assert.True(output.Sources.Length >= 2, "fewer than two MobileViT sizes under src/Graphs");
        var names = output.Sources.Select(s => NamesLiteral(s.Source)).Distinct().ToList();
        Assert.Single(names);
        Assert.Equal(output.Sources.Length, output.Sources.Select(s => ShapesLiteral(s.Source)).Distinct().Count());
    }

    private static string NamesLiteral(string source) => Between(source, "tensorNames:", "tensorShapes:");

    private static string ShapesLiteral(string source) => Between(source, "tensorShapes:", "optionalPrefixes:");

    private static string Between(string source, string first, string next)
    {
        int start = source.IndexOf(first, StringComparison.Ordinal);
        int end = start < 0 ? -1 : source.IndexOf(next, start, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, $"no '{first}' argument followed by '{next}' in the generated source");
        return source[start..end];
    }

    [Fact]
    public void Generated_descriptors_list_every_tensor_once_with_a_shape()
    {
        foreach (var entry in ModelCatalog.All)
        {
            var names = new HashSet<string>();
            foreach (var t in entry.Descriptor.Tensors)
            {
                Assert.True(names.Add(t.Name), $"{entry.Descriptor.Name}: {t.Name} listed twice");
                Assert.NotEmpty(t.Shape);
                Assert.All(t.Shape, d => Assert.True(d > 0));
            }
        }
        Assert.Equal(200, ModelCatalog.Find("vit-base-patch32-224-in21k").Descriptor.Tensors.Count);
        Assert.Equal(315, ModelCatalog.Find("mobilevit-small").Descriptor.Tensors.Count);
    }
}
