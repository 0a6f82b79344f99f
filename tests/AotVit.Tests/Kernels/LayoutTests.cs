// Layout kernels against their index formulas (they are pure data movement; the formulas are the reference), inline
// and on a pool of 3 threads (rows split between threads).
using AotVit.Runtime.Kernels;
using AotVit.Runtime.Threading;
using Xunit;

namespace AotVit.Tests.Kernels;

[Trait("Category", "Kernels")]
public sealed unsafe class LayoutTests
{
    [Theory]
    [InlineData(1, 3)]
    [InlineData(3, 3)]
    [InlineData(1, 4)]
    [InlineData(3, 4)]
    public void NchwToNhwc(int threads, int c)
    {
        using WorkerPool? pool = threads > 1 ? new WorkerPool(threads) : null;
        const int batch = 2, h = 5, w = 7;
        using NativeBuffer input = TestData.Random(batch * c * h * w, 1);
        using NativeBuffer output = new(batch * c * h * w);
        Layout.NchwToNhwc(pool, batch, c, h, w, input.Pointer, output.Pointer);
        for (int b = 0; b < batch; b++)
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        Assert.Equal(input.Pointer[((b * c + ch) * h + y) * w + x], output.Pointer[((b * h + y) * w + x) * c + ch]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void PatchesUsesTorchConvWeightOrder(int threads)
    {
        using WorkerPool? pool = threads > 1 ? new WorkerPool(threads) : null;
        const int batch = 2, c = 3, h = 8, w = 12, p = 4;
        using NativeBuffer input = TestData.Random(batch * c * h * w, 1);
        using NativeBuffer output = new(batch * c * h * w);
        Layout.Patches(pool, batch, c, h, w, p, input.Pointer, output.Pointer);
        for (int b = 0; b < batch; b++)
            for (int py = 0; py < h / p; py++)
                for (int px = 0; px < w / p; px++)
                    for (int ch = 0; ch < c; ch++)
                        for (int ky = 0; ky < p; ky++)
                            for (int kx = 0; kx < p; kx++)
                            {
                                int row = (b * (h / p) + py) * (w / p) + px;
                                float expected = input.Pointer[((b * c + ch) * h + py * p + ky) * w + px * p + kx];
                                Assert.Equal(expected, output.Pointer[row * c * p * p + (ch * p + ky) * p + kx]);
                            }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Unfold2x2AndFold2x2AreInverse(int threads)
    {
        using WorkerPool? pool = threads > 1 ? new WorkerPool(threads) : null;
        const int batch = 2, h = 6, w = 4, d = 5;
        using NativeBuffer nhwc = TestData.Random(batch * h * w * d, 1);
        using NativeBuffer tokens = new(batch * h * w * d);
        using NativeBuffer back = new(batch * h * w * d);
        Layout.Unfold2x2(pool, batch, h, w, d, nhwc.Pointer, tokens.Pointer);
        for (int b = 0; b < batch; b++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int ch = 0; ch < d; ch++)
                    {
                        int sequence = b * 4 + (y % 2) * 2 + x % 2;
                        int token = (y / 2) * (w / 2) + x / 2;
                        Assert.Equal(nhwc.Pointer[((b * h + y) * w + x) * d + ch], tokens.Pointer[(sequence * (h / 2) * (w / 2) + token) * d + ch]);
                    }

        Layout.Fold2x2(pool, batch, h, w, d, tokens.Pointer, back.Pointer);
        TestData.AssertClose(nhwc.Pointer, back.Pointer, batch * h * w * d, 0, "fold(unfold(x))");
    }
}
