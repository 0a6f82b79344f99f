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
        // Measured on the calling thread, which runs all the glue and whichever work items it claims: the test runner's
        // own threads allocate concurrently, so a process-wide count is noise here. (Worker threads: Kernels/ tests.)
        // The least of three rounds: a thread's kernel scratch is allocated once, on its first item of that kernel, and on
        // a busy host the warm-up may have left some kernel's items to the worker (seen once in tools/test.sh); an
        // allocation on every forward shows in every round.
        long least = long.MaxValue;
        for (int round = 0; round < 3 && least > 0; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 3; i++) Once();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }

    [Fact]
    public void MobileViT_forward_allocates_nothing() => Assert.Equal(0, Measure(mobile.Model));

    [Fact]
    public void ViT_forward_allocates_nothing() => Assert.Equal(0, Measure(vit.Model));
}
