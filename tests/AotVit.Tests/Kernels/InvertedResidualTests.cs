// InvertedResidual.Run (expand → depthwise → reduce fused over row bands) against the three kernels run one after
// another (each tested against its scalar reference in GemmTests / ConvTests). The fused block uses the same kernels
// with the same summation order, so the results must be bit-identical; the shapes cover stride 1 and 2, odd sizes,
// channel tails, batches, ring wrap-around (many bands per thread) and 1, 2 and 3 threads (3 makes threads steal).
using AotVit.Runtime.Kernels;
using AotVit.Runtime.Threading;
using Xunit;

namespace AotVit.Tests.Kernels;

[Trait("Category", "Kernels")]
public sealed unsafe class InvertedResidualTests
{
    public static TheoryData<int, int, int, int, int, int, int> Shapes => new()
    {
        // batch, h, w, cin, cexp, cout, stride (residual when stride 1 and cin == cout)
        { 1, 9, 7, 8, 32, 8, 1 },
        { 2, 8, 8, 16, 64, 24, 2 },
        { 1, 7, 5, 5, 20, 7, 2 },
        { 1, 1, 1, 4, 16, 4, 1 },
        { 1, 2, 3, 4, 16, 4, 2 },
        { 3, 12, 10, 16, 48, 16, 1 },
        { 1, 33, 17, 12, 40, 12, 2 },
        { 1, 40, 64, 32, 128, 32, 1 },   // 1-row bands, a 3-row ring: wraps every band (MobileViT-S's case)
        { 1, 30, 24, 16, 128, 16, 1 },   // 4-row bands, a 6-row ring
        { 2, 64, 48, 16, 96, 24, 2 },    // 2-row bands at stride 2, a 5-row ring
        { 1, 20, 130, 8, 520, 8, 1 },    // rows wider than the budget: 1-row bands
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesTheThreeKernels(int batch, int h, int w, int cin, int cexp, int cout, int stride)
    {
        int hOut = (h - 1) / stride + 1, wOut = (w - 1) / stride + 1;
        bool residual = stride == 1 && cin == cout;
        using NativeBuffer input = TestData.Random((long)batch * h * w * cin, 1);
        using PackedMatrix expand = PackedMatrix.FromKN(TestData.RandomArray(cin * cexp, 2, 1f / MathF.Sqrt(cin)), cin, cexp);
        using NativeBuffer expandBias = TestData.Random(cexp, 3);
        using NativeBuffer taps = TestData.Random(9L * cexp, 4, 0.3f);
        using NativeBuffer depthwiseBias = TestData.Random(cexp, 5);
        using PackedMatrix reduce = PackedMatrix.FromKN(TestData.RandomArray(cexp * cout, 6, 1f / MathF.Sqrt(cexp)), cexp, cout);
        using NativeBuffer reduceBias = TestData.Random(cout, 7);
        using NativeBuffer expanded = new((long)batch * h * w * cexp);
        using NativeBuffer depthwise = new((long)batch * hOut * wOut * cexp);
        long outputs = (long)batch * hOut * wOut * cout;
        using NativeBuffer expected = new(outputs);
        using NativeBuffer actual = new(outputs);
        float* residualPointer = residual ? input.Pointer : null;

        Gemm.Run(null, batch * h * w, input.Pointer, cin, expand, expandBias.Pointer, Activation.Silu, null, 0, expanded.Pointer, cexp);
        Conv2d.Depthwise3x3(null, batch, h, w, cexp, expanded.Pointer, stride, taps.Pointer, depthwiseBias.Pointer, Activation.Silu, depthwise.Pointer);
        Gemm.Run(null, batch * hOut * wOut, depthwise.Pointer, cexp, reduce, reduceBias.Pointer, Activation.None, residualPointer, cout, expected.Pointer, cout);

        foreach (int threads in new[] { 1, 2, 3 })
        {
            using WorkerPool? pool = threads == 1 ? null : new WorkerPool(threads);
            for (int repeat = 0; repeat < 2; repeat++)   // the second run must not trust the first run's ring
            {
                new Span<float>(actual.Pointer, (int)outputs).Fill(float.NaN);
                InvertedResidual.Run(pool, batch, h, w, input.Pointer, expand, expandBias.Pointer, Activation.Silu, stride,
                                     taps.Pointer, depthwiseBias.Pointer, Activation.Silu, reduce, reduceBias.Pointer, residualPointer, actual.Pointer);
                for (long i = 0; i < outputs; i++)
                {
                    if (BitConverter.SingleToInt32Bits(expected.Pointer[i]) != BitConverter.SingleToInt32Bits(actual.Pointer[i]))
                    {
                        Assert.Fail($"threads={threads} repeat={repeat}: element {i} (pixel {i / cout}, channel {i % cout}): expected {expected.Pointer[i]:R}, actual {actual.Pointer[i]:R}.");
                    }
                }
            }
        }
    }

    [Fact]
    public void ANewInputIsNotServedFromTheRing()
    {
        const int h = 12, w = 8, c = 16, cexp = 32;
        using NativeBuffer first = TestData.Random((long)h * w * c, 11);
        using NativeBuffer second = TestData.Random((long)h * w * c, 12);
        using PackedMatrix expand = PackedMatrix.FromKN(TestData.RandomArray(c * cexp, 13), c, cexp);
        using PackedMatrix reduce = PackedMatrix.FromKN(TestData.RandomArray(cexp * c, 14), cexp, c);
        using NativeBuffer taps = TestData.Random(9L * cexp, 15);
        using NativeBuffer a = new((long)h * w * c);
        using NativeBuffer b = new((long)h * w * c);
        InvertedResidual.Run(null, 1, h, w, first.Pointer, expand, null, Activation.None, 1, taps.Pointer, null, Activation.None, reduce, null, null, a.Pointer);
        InvertedResidual.Run(null, 1, h, w, second.Pointer, expand, null, Activation.None, 1, taps.Pointer, null, Activation.None, reduce, null, null, b.Pointer);
        InvertedResidual.Run(null, 1, h, w, first.Pointer, expand, null, Activation.None, 1, taps.Pointer, null, Activation.None, reduce, null, null, b.Pointer);
        Assert.True(new Span<float>(a.Pointer, h * w * c).SequenceEqual(new Span<float>(b.Pointer, h * w * c)));
    }

    [Fact]
    public void RejectsMisuse()
    {
        using NativeBuffer x = TestData.Random(8 * 8 * 16, 21);
        using NativeBuffer y = new(8 * 8 * 16);
        using NativeBuffer taps = TestData.Random(9 * 32, 22);
        using PackedMatrix expand = PackedMatrix.FromKN(TestData.RandomArray(16 * 32, 23), 16, 32);
        using PackedMatrix reduce = PackedMatrix.FromKN(TestData.RandomArray(32 * 16, 24), 32, 16);
        using PackedMatrix wrongReduce = PackedMatrix.FromKN(TestData.RandomArray(24 * 16, 25), 24, 16);
        float* input = x.Pointer, output = y.Pointer, t = taps.Pointer;

        Assert.Throws<ArgumentException>(() => InvertedResidual.Run(null, 1, 8, 8, input, expand, null, Activation.Silu, 1, t, null, Activation.Silu, reduce, null, input, input));
        Assert.Throws<ArgumentException>(() => InvertedResidual.Run(null, 1, 8, 8, input, expand, null, Activation.Silu, 1, t, null, Activation.Silu, reduce, null, null, input + 100));
        Assert.Throws<ArgumentException>(() => InvertedResidual.Run(null, 1, 8, 8, input, expand, null, Activation.Silu, 1, t, null, Activation.Silu, wrongReduce, null, null, output));
        Assert.Throws<ArgumentOutOfRangeException>(() => InvertedResidual.Run(null, 1, 8, 8, input, expand, null, Activation.Silu, 3, t, null, Activation.Silu, reduce, null, null, output));
        Assert.Throws<ArgumentOutOfRangeException>(() => InvertedResidual.Run(null, 0, 8, 8, input, expand, null, Activation.Silu, 1, t, null, Activation.Silu, reduce, null, null, output));
        Assert.Throws<ArgumentNullException>(() => InvertedResidual.Run(null, 1, 8, 8, input, expand, null, Activation.Silu, 1, null, null, Activation.Silu, reduce, null, null, output));
        Assert.Throws<ArgumentNullException>(() => InvertedResidual.Run(null, 1, 8, 8, input, null!, null, Activation.Silu, 1, t, null, Activation.Silu, reduce, null, null, output));
    }
}
