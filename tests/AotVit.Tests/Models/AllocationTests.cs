using Xunit;

namespace AotVit.Tests.Models;

/// <summary>After warm-up, a forward pass allocates no managed memory: activations live in the model's native arena,
/// kernel scratch is thread-static native memory, and the worker pool publishes jobs without delegates or boxes.</summary>
[Trait("Category", "Golden")]
public sealed class AllocationTests(MobileViTFixture mobile, ViTFixture vit) : IClassFixture<MobileViTFixture>, IClassFixture<ViTFixture>
{
    private static long Measure(VisionModel model)
    {
        var pixels = new float[2 * model.InputFloatsPerImage];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (i % 97) / 97f;
        var outputs = model.Descriptor.Outputs.Select(o => new float[2 * o.FloatsPerImage]).ToArray();
        void Once() => model.Run(2, pixels, outputs[0], outputs.Length > 1 ? outputs[1] : default);
        Once();
        Once();
        // Measured on the calling thread, which runs chunk 0 of every kernel and all the glue: the test runner's own
        // threads allocate concurrently, so a process-wide count is noise here. (Worker threads: Kernels/ tests.)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++) Once();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void MobileViT_forward_allocates_nothing() => Assert.Equal(0, Measure(mobile.Model));

    [Fact]
    public void ViT_forward_allocates_nothing() => Assert.Equal(0, Measure(vit.Model));
}
