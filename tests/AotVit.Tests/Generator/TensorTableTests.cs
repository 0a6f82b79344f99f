using AotVit.Runtime.Model;
using Xunit;

namespace AotVit.Tests.Generator;

/// <summary>The tensor table generated descriptors carry (TensorShape.ParseTable): one "name [d0, d1, ...]" per line.</summary>
[Trait("Category", "Generator")]
public sealed class TensorTableTests
{
    [Fact]
    public void Parses_names_shapes_and_scalars()
    {
        var t = TensorShape.ParseTable("a.weight [768, 3, 32, 32]\nb.bias [768]\nc.num_batches_tracked []"u8);
        Assert.Equal(3, t.Length);
        Assert.Equal("a.weight", t[0].Name);
        Assert.Equal([768L, 3, 32, 32], t[0].Shape);
        Assert.Equal([768L], t[1].Shape);
        Assert.Equal("c.num_batches_tracked", t[2].Name);
        Assert.Empty(t[2].Shape);
        Assert.Empty(TensorShape.ParseTable(""u8));
    }

    [Theory]
    [InlineData("no-shape")]
    [InlineData("x [1, 2")]
    [InlineData("x [1,, 2]")]
    [InlineData("x [1, -2]")]
    [InlineData("x [1]\n")]
    [InlineData(" [1]")]
    public void Rejects_malformed_lines(string table) =>
        Assert.Throws<FormatException>(() => TensorShape.ParseTable(System.Text.Encoding.UTF8.GetBytes(table)));

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
