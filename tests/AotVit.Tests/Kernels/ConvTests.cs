// Conv2d.Run (implicit im2col GEMM, optional channel concat) and Conv2d.Depthwise3x3 against Conv2d.Reference.
using AotVit.Runtime.Kernels;
using AotVit.Runtime.Threading;
using Xunit;

namespace AotVit.Tests.Kernels;

[Trait("Category", "Kernels")]
public sealed unsafe class ConvTests
{
    public static TheoryData<int, int, int, int, int, int, int, int> FullShapes => new()
    {
        // batch, h, w, c0, c1, cout, kernel, stride
        { 1, 9, 7, 3, 0, 16, 3, 2 },
        { 2, 8, 8, 3, 0, 16, 3, 1 },
        { 1, 6, 5, 5, 4, 33, 3, 1 },
        { 1, 5, 6, 17, 0, 40, 1, 1 },
        { 1, 7, 7, 8, 8, 20, 1, 1 },
        { 1, 8, 8, 12, 0, 9, 1, 2 },
        { 1, 4, 4, 64, 64, 48, 3, 1 },
        { 2, 11, 10, 6, 0, 70, 3, 2 },
        { 1, 12, 9, 24, 0, 40, 3, 1 },
        { 1, 7, 8, 3, 0, 16, 5, 2 },
        // 16 output channels from ≤ 4 input channels: the GEMM here, RunDirect16 in DirectMatchesReference; edges, tails
        // of the 4-pixel groups
        { 1, 2, 1, 3, 0, 16, 3, 2 }, { 2, 13, 17, 4, 0, 16, 3, 2 }, { 1, 9, 14, 1, 0, 16, 3, 1 }, { 1, 6, 23, 2, 0, 16, 5, 1 },
    };

    /// <summary>Conv2d.RunDirect16's shapes (16 output channels from 1..4 inputs, no second input): MobileViT's stem, image
    /// edges on both sides, rows shorter than one 4-pixel group, 4-pixel groups with 1..3 pixels left over, 5×5, stride 1–3.</summary>
    public static TheoryData<int, int, int, int, int, int> DirectShapes => new()
    {
        // batch, h, w, c, kernel, stride
        { 1, 9, 7, 3, 3, 2 }, { 2, 8, 8, 3, 3, 1 }, { 1, 7, 8, 3, 5, 2 }, { 1, 2, 1, 3, 3, 2 }, { 2, 13, 17, 4, 3, 2 },
        { 1, 9, 14, 1, 3, 1 }, { 1, 6, 23, 2, 5, 1 }, { 1, 32, 32, 3, 3, 2 }, { 1, 5, 19, 4, 3, 3 }, { 1, 1, 1, 3, 3, 1 },
    };

    [Theory]
    [MemberData(nameof(DirectShapes))]
    public void DirectMatchesReference(int batch, int h, int w, int c, int kernel, int stride)
    {
        const int cout = 16;
        int k = kernel * kernel * c;
        using NativeBuffer input = TestData.Random((long)batch * h * w * c, 1);
        float[] weight = TestData.RandomArray(k * cout, 3, 1f / MathF.Sqrt(k));   // [kernel, kernel, c, 16]
        using PackedMatrix packed = PackedMatrix.FromKN(weight, k, cout);
        using NativeBuffer bias = TestData.Random(cout, 4);
        int pad = (kernel - 1) / 2;
        int hOut = (h + 2 * pad - kernel) / stride + 1, wOut = (w + 2 * pad - kernel) / stride + 1;
        long outputs = (long)batch * hOut * wOut * cout;
        using NativeBuffer expected = new(outputs);
        using NativeBuffer actual = new(outputs);
        foreach (Activation act in new[] { Activation.None, Activation.Silu })
        {
            foreach (bool withBias in new[] { true, false })
            {
                float* biasPointer = withBias ? bias.Pointer : null;
                fixed (float* weightPointer = weight)
                {
                    Conv2d.Reference(batch, h, w, c, input.Pointer, cout, kernel, stride, 1, weightPointer, biasPointer, act, expected.Pointer);
                }

                foreach (int threads in new[] { 1, 2 })
                {
                    Conv2d.RunDirect16(TestData.Pool(threads), batch, h, w, input.Pointer, c, kernel, stride, packed, biasPointer, act, actual.Pointer);
                    TestData.AssertClose(expected.Pointer, actual.Pointer, outputs, 2e-6 * Math.Sqrt(k) + 1e-6,
                        $"direct act={act} bias={withBias} threads={threads}");
                }
            }
        }
    }

    [Fact]
    public void DirectRefusesShapesItDoesNotTake()
    {
        using NativeBuffer input = TestData.Random(4 * 4 * 5, 1);
        using NativeBuffer output = new(4 * 4 * 16);
        using PackedMatrix fiveInputs = PackedMatrix.FromKN(TestData.RandomArray(9 * 5 * 16, 3, 0.1f), 9 * 5, 16);
        using PackedMatrix seventeenOutputs = PackedMatrix.FromKN(TestData.RandomArray(9 * 3 * 17, 3, 0.1f), 9 * 3, 17);
        Assert.Throws<ArgumentException>(() => Conv2d.RunDirect16(null, 1, 4, 4, input.Pointer, 5, 3, 1, fiveInputs, null, Activation.None, output.Pointer));
        Assert.Throws<ArgumentException>(() => Conv2d.RunDirect16(null, 1, 4, 4, input.Pointer, 3, 3, 1, seventeenOutputs, null, Activation.None, output.Pointer));
    }

    [Theory]
    [MemberData(nameof(FullShapes))]
    public void RunMatchesReference(int batch, int h, int w, int c0, int c1, int cout, int kernel, int stride)
    {
        int cin = c0 + c1;
        int k = kernel * kernel * cin;
        using NativeBuffer in0 = TestData.Random((long)batch * h * w * c0, 1);
        using NativeBuffer in1 = TestData.Random(Math.Max(1, (long)batch * h * w * c1), 2);
        using NativeBuffer concat = Concat(batch * h * w, in0, c0, in1, c1);

        float[] weight = TestData.RandomArray(k * cout, 3, 1f / MathF.Sqrt(k));   // [kernel, kernel, cin, cout]
        using PackedMatrix packed = PackedMatrix.FromKN(weight, k, cout);
        using NativeBuffer bias = TestData.Random(cout, 4);
        int pad = (kernel - 1) / 2;
        int hOut = (h + 2 * pad - kernel) / stride + 1, wOut = (w + 2 * pad - kernel) / stride + 1;
        long outputs = (long)batch * hOut * wOut * cout;
        using NativeBuffer expected = new(outputs);
        using NativeBuffer actual = new(outputs);
        foreach (Activation act in new[] { Activation.None, Activation.Silu })
        {
            fixed (float* weightPointer = weight)
            {
                Conv2d.Reference(batch, h, w, cin, concat.Pointer, cout, kernel, stride, 1, weightPointer, bias.Pointer, act, expected.Pointer);
            }

            foreach (int threads in new[] { 1, 2 })
            {
                Conv2d.Run(TestData.Pool(threads), batch, h, w, in0.Pointer, c0, c1 > 0 ? in1.Pointer : null, c1, kernel, stride,
                    packed, bias.Pointer, act, actual.Pointer);
                TestData.AssertClose(expected.Pointer, actual.Pointer, outputs, 2e-6 * Math.Sqrt(k) + 1e-6, $"conv act={act} threads={threads}");
            }
        }
    }

    /// <summary>Conv2d.RunWinograd's shapes: odd and even sizes (partial 2×2 tiles on the right and bottom edges), 1×1 and
    /// 1-pixel-wide images, a second input, channel counts that are not a multiple of any vector width, Cout across panel
    /// boundaries, more tiles than one work item, batch 2 (tile blocks that span two images).</summary>
    public static TheoryData<int, int, int, int, int, int> WinogradShapes => new()
    {
        // batch, h, w, c0, c1, cout
        { 1, 8, 8, 16, 0, 16 }, { 1, 7, 9, 5, 4, 33 }, { 2, 1, 1, 3, 0, 5 }, { 1, 2, 3, 17, 0, 40 }, { 1, 1, 7, 8, 0, 8 },
        { 1, 32, 32, 48, 48, 48 }, { 2, 13, 11, 64, 0, 80 }, { 2, 6, 5, 1, 0, 1 }, { 1, 16, 16, 96, 96, 96 }, { 3, 9, 4, 20, 12, 65 },
    };

    [Theory]
    [MemberData(nameof(WinogradShapes))]
    public void WinogradMatchesReference(int batch, int h, int w, int c0, int c1, int cout)
    {
        int cin = c0 + c1;
        int k = 9 * cin;
        using NativeBuffer in0 = TestData.Random((long)batch * h * w * c0, 1);
        using NativeBuffer in1 = TestData.Random(Math.Max(1, (long)batch * h * w * c1), 2);
        using NativeBuffer concat = Concat(batch * h * w, in0, c0, in1, c1);

        float[] weight = TestData.RandomArray(k * cout, 3, 1f / MathF.Sqrt(k));   // [3, 3, cin, cout]
        using PackedMatrix filter = Conv2d.PackWinograd(Array.ConvertAll(weight, x => (double)x), cin, cout);
        Assert.Equal(cin, filter.K);
        Assert.Equal(16 * Conv2d.WinogradSliceColumns(cout), filter.N);
        using NativeBuffer bias = TestData.Random(cout, 4);
        long outputs = (long)batch * h * w * cout;
        using NativeBuffer expected = new(outputs);
        using NativeBuffer actual = new(outputs + 1);
        foreach (Activation act in new[] { Activation.None, Activation.Silu })
        {
            foreach (bool withBias in new[] { true, false })
            {
                float* biasPointer = withBias ? bias.Pointer : null;
                fixed (float* weightPointer = weight)
                {
                    Conv2d.Reference(batch, h, w, cin, concat.Pointer, cout, 3, 1, 1, weightPointer, biasPointer, act, expected.Pointer);
                }

                foreach (int threads in new[] { 1, 2 })
                {
                    actual.Pointer[outputs] = 12345f;
                    Conv2d.RunWinograd(TestData.Pool(threads), batch, h, w, in0.Pointer, c0, c1 > 0 ? in1.Pointer : null, c1,
                        filter, cout, biasPointer, act, actual.Pointer);
                    // Rounding only: the transforms add at most 4 (input) and 9 (output) terms of the same magnitude.
                    TestData.AssertClose(expected.Pointer, actual.Pointer, outputs, 6e-6 * Math.Sqrt(k) + 2e-6,
                        $"winograd act={act} bias={withBias} threads={threads}");
                    Assert.Equal(12345f, actual.Pointer[outputs]);
                }
            }
        }
    }

    // The channel concatenation [in0, in1] of two NHWC tensors of `pixels` pixels: the reference's single input.
    private static NativeBuffer Concat(long pixels, NativeBuffer in0, int c0, NativeBuffer in1, int c1)
    {
        int cin = c0 + c1;
        NativeBuffer concat = new(pixels * cin);
        for (long pixel = 0; pixel < pixels; pixel++)
        {
            for (int ch = 0; ch < cin; ch++)
            {
                concat.Pointer[pixel * cin + ch] = ch < c0 ? in0.Pointer[pixel * c0 + ch] : in1.Pointer[pixel * c1 + ch - c0];
            }
        }

        return concat;
    }

    [Fact]
    public void WinogradRefusesFiltersAndShapesItDoesNotTake()
    {
        using NativeBuffer input = TestData.Random(4 * 4 * 8, 1);
        using NativeBuffer output = new(4 * 4 * 16);
        using PackedMatrix filter = Conv2d.PackWinograd(new double[9 * 8 * 16], 8, 16);
        using PackedMatrix direct = PackedMatrix.FromKN(new float[9 * 8 * 16], 9 * 8, 16);
        Assert.Throws<ArgumentException>(() => Conv2d.RunWinograd(null, 1, 4, 4, input.Pointer, 8, null, 0, direct, 16, null, Activation.None, output.Pointer));
        Assert.Throws<ArgumentException>(() => Conv2d.RunWinograd(null, 1, 4, 4, input.Pointer, 8, null, 0, filter, 33, null, Activation.None, output.Pointer));
        Assert.Throws<ArgumentException>(() => Conv2d.RunWinograd(null, 1, 4, 4, input.Pointer, 7, null, 0, filter, 16, null, Activation.None, output.Pointer));
        Assert.Throws<ArgumentException>(() => Conv2d.RunWinograd(null, 1, 4, 4, input.Pointer, 4, null, 4, filter, 16, null, Activation.None, output.Pointer));
        Assert.Throws<ArgumentException>(() => Conv2d.RunWinograd(null, 0, 4, 4, input.Pointer, 8, null, 0, filter, 16, null, Activation.None, output.Pointer));
        Assert.Throws<ArgumentException>(() => Conv2d.PackWinograd(new double[9 * 8 * 16 - 1], 8, 16));
    }

    [Theory]
    [InlineData(1, 8, 8, 16, 1)]
    [InlineData(1, 7, 9, 35, 2)]
    [InlineData(2, 5, 5, 3, 1)]
    [InlineData(1, 16, 16, 64, 2)]
    [InlineData(1, 3, 4, 1, 2)]
    [InlineData(1, 1, 1, 48, 1)]
    [InlineData(1, 1, 2, 20, 1)]
    [InlineData(1, 2, 3, 29, 2)]
    [InlineData(2, 6, 11, 52, 2)]
    [InlineData(1, 10, 4, 128, 1)]
    public void DepthwiseMatchesReference(int batch, int h, int w, int c, int stride)
    {
        using NativeBuffer input = TestData.Random((long)batch * h * w * c, 1);
        using NativeBuffer weight = TestData.Random(9 * c, 2);
        using NativeBuffer bias = TestData.Random(c, 3);
        int hOut = (h - 1) / stride + 1, wOut = (w - 1) / stride + 1;
        long outputs = (long)batch * hOut * wOut * c;
        using NativeBuffer expected = new(outputs);
        using NativeBuffer actual = new(outputs);
        foreach (Activation act in Enum.GetValues<Activation>())
        {
            float* biasPointer = act == Activation.Tanh ? null : bias.Pointer;
            Conv2d.Reference(batch, h, w, c, input.Pointer, c, 3, stride, c, weight.Pointer, biasPointer, act, expected.Pointer);
            foreach (int threads in new[] { 1, 2 })
            {
                Conv2d.Depthwise3x3(TestData.Pool(threads), batch, h, w, c, input.Pointer, stride, weight.Pointer, biasPointer, act, actual.Pointer);
                TestData.AssertClose(expected.Pointer, actual.Pointer, outputs, 2e-6, $"depthwise act={act} threads={threads}");
            }
        }
    }

    [Fact]
    public void ReferenceWithGroupsSplitsChannels()
    {
        // 2 groups of a 1x1 conv: each output channel only sees its own half of the inputs.
        float* input = stackalloc float[] { 1, 2, 3, 4 };                  // [1, 1, 1, 4]
        float* weight = stackalloc float[] { 1, 0, 10, 0, 0, 1, 0, 10 };   // [1, 1, 2, 4]: co 0,1 read ci 0,1; co 2,3 read ci 2,3
        float* output = stackalloc float[4];
        Conv2d.Reference(1, 1, 1, 4, input, 4, 1, 1, 2, weight, null, Activation.None, output);
        Assert.Equal(new float[] { 1, 2, 30, 40 }, new Span<float>(output, 4).ToArray());
    }
}
