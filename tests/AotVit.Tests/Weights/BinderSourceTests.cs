// WeightSources.BinderSource: large tensors through one reused buffer per thread, small ones in arrays of their own;
// the values equal WeightBinder.Get's on every thread, and non-finite values are refused on both paths.
using AotVit.Runtime.Model;
using AotVit.Runtime.Weights;
using Xunit;
using static AotVit.Tests.Weights.SafeTensorsTestFiles;

namespace AotVit.Tests.Weights;

[Trait("Category", "Weights")]
public sealed class BinderSourceTests
{
    private const int Large = (int)ITensorSource.LargeTensorFloats;

    private static (string, DType, long[], byte[]) Tensor(string name, int rows, int columns, float offset) =>
        (name, DType.F32, rows == 1 ? [columns] : [rows, columns], Bytes(Enumerable.Range(0, rows * columns).Select(i => offset + i * 0.25f).ToArray()));

    private static readonly (string Name, int Rows, int Columns)[] Shapes =
        [("a.weight", 256, Large / 256), ("b.weight", 512, Large / 256), ("c.weight", 256, Large / 512), ("d.bias", 1, 300), ("e.weight", 1024, Large / 512)];

    private static (SafeTensorsFile File, WeightBinder Binder) Open()
    {
        var file = SafeTensorsFile.FromMemory(Write(Shapes.Select((s, i) => Tensor(s.Name, s.Rows, s.Columns, 1000f * i)).ToArray()), displayName: "ckpt.safetensors");
        var specs = Shapes.Select(s => new TensorSpec(s.Name, s.Rows == 1 ? [s.Columns] : [s.Rows, s.Columns])).ToList();
        return (file, WeightBinder.Bind(file, specs, [], "test"));
    }

    [Fact]
    public void Large_and_small_tensors_read_as_the_binder_reads_them_on_every_thread()
    {
        var (file, binder) = Open();
        using (file)
        {
            var source = new AotVit.WeightSources.BinderSource(binder);
            var expected = Shapes.ToDictionary(s => s.Name, s => binder.Get(s.Name));
            // Each thread reads every tensor several times in its own order; each span is checked before the next Get,
            // as the contract allows the next large Get on this thread to reuse its memory.
            Parallel.For(0, 8, t =>
            {
                for (int round = 0; round < 5; round++)
                {
                    foreach (var s in Shapes.OrderBy(s => (s.Name.GetHashCode() ^ (t * 31 + round)) & 7))
                    {
                        ReadOnlySpan<float> values = source.Get(s.Name);
                        Assert.True(values.SequenceEqual(expected[s.Name]), $"{s.Name} on thread {t}, round {round}");
                    }
                }
            });
        }
    }

    [Fact]
    public void A_small_tensor_stays_valid_across_a_large_read_on_the_same_thread()
    {
        var (file, binder) = Open();
        using (file)
        {
            var source = new AotVit.WeightSources.BinderSource(binder);
            ReadOnlySpan<float> bias = source.Get("d.bias");
            ReadOnlySpan<float> first = source.Get("a.weight");
            Assert.True(first.SequenceEqual(binder.Get("a.weight")));
            ReadOnlySpan<float> second = source.Get("e.weight");
            Assert.True(second.SequenceEqual(binder.Get("e.weight")));
            Assert.True(bias.SequenceEqual(binder.Get("d.bias")));
        }
    }

    [Fact]
    public void A_non_finite_value_in_a_large_tensor_is_refused_naming_it()
    {
        var values = Enumerable.Range(0, Large).Select(i => (float)i).ToArray();
        values[Large - 3] = float.NaN;
        var file = SafeTensorsFile.FromMemory(Write([("w.weight", DType.F32, [256, Large / 256], Bytes(values))]), displayName: "nan.safetensors");
        using (file)
        {
            var binder = WeightBinder.Bind(file, [new TensorSpec("w.weight", [256, Large / 256])], [], "test");
            var source = new AotVit.WeightSources.BinderSource(binder);
            var e = Assert.Throws<CheckpointException>(() => source.Get("w.weight").Length);
            Assert.Contains("w.weight", e.Message);
        }
    }
}
