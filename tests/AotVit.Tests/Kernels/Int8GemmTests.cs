// Int8Gemm and Int8Matrix: the int32 sums exactly against an integer loop, the float results against the same
// quantization evaluated in double (tight) and against the fp32 reference (report-level), the weight quantizer, the
// checkpoint round trip and argument checks. The suite is rerun with AVX-512, AVX2 and all intrinsics off, so each
// microkernel (AVX-512BW, AVX2, SSSE3, scalar) and each quantizer width runs these.
using AotVit.Runtime.Kernels;
using AotVit.Runtime.Threading;
using Xunit;

namespace AotVit.Tests.Kernels;

[Trait("Category", "Kernels")]
public sealed unsafe class Int8GemmTests
{
    private static readonly int[] Ms = [1, 3, 7, 50, 65];
    private static readonly int[] Ks = [1, 3, 4, 5, 63, 768];
    private static readonly int[] Ns = [1, 17, 40, 64, 65, 144, 240];

    public static TheoryData<int, int, int> AccumulatorShapes()
    {
        TheoryData<int, int, int> data = new();
        foreach (int m in Ms)
        {
            foreach (int k in Ks)
            {
                foreach (int n in Ns)
                {
                    data.Add(m, k, n);
                }
            }
        }

        // Many full panels (ViT-B/32's qkv width) and a MobileViT-S shape.
        data.Add(1, 768, 2304);
        data.Add(7, 63, 2304);
        data.Add(50, 768, 2304);
        data.Add(65, 5, 2304);
        data.Add(256, 192, 576);
        return data;
    }

    public static TheoryData<int, int, int> FloatShapes => new()
    {
        { 1, 1, 1 }, { 3, 3, 17 }, { 7, 5, 65 }, { 50, 63, 64 }, { 65, 768, 40 }, { 50, 768, 144 }, { 7, 4, 240 },
        { 1, 768, 2304 }, { 65, 64, 130 }, { 64, 240, 720 },
    };

    [Theory]
    [MemberData(nameof(AccumulatorShapes))]
    public void AccumulatorsAreExact(int m, int k, int n)
    {
        Random random = new(m * 10007 + k * 101 + n);
        sbyte[] weights = new sbyte[n * k];
        for (int i = 0; i < weights.Length; i++)
        {
            weights[i] = (sbyte)random.Next(-127, 128);
        }

        float[] scales = new float[n];
        Array.Fill(scales, 0.01f);
        using Int8Matrix b = Int8Matrix.FromQuantized(weights, scales, n, k);
        // Odd row stride (unaligned rows); the bytes between K and the k-quad padding hold arbitrary u7 values.
        int ldq = (k + 3) / 4 * 4 + 3;
        byte[] q = new byte[m * ldq];
        for (int i = 0; i < q.Length; i++)
        {
            q[i] = (byte)random.Next(0, 128);
        }

        int ldacc = n + 3;
        long[] expected = new long[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                long sum = 0;
                for (int p = 0; p < k; p++)
                {
                    sum += q[i * ldq + p] * weights[j * k + p];
                }

                expected[i * n + j] = sum;
            }
        }

        foreach (int threads in new[] { 1, 2 })
        {
            int[] acc = new int[m * ldacc];
            fixed (byte* qp = q)
            fixed (int* accp = acc)
            {
                Int8Gemm.Accumulate(TestData.Pool(threads), m, qp, ldq, b, accp, ldacc);
            }

            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    if (acc[i * ldacc + j] != expected[i * n + j])
                    {
                        Assert.Fail($"[{m}x{k}x{n}, {threads} threads] acc[{i}, {j}] = {acc[i * ldacc + j]}, expected {expected[i * n + j]}");
                    }
                }
            }
        }
    }

    [Fact]
    public void ExtremeValuesStayExact()
    {
        // Every pair sum at its extreme (127·127·2 = 32258 in magnitude: pmaddubsw must not saturate) and K at the
        // largest the int32 sums allow for these magnitudes in a few columns.
        const int m = 5, k = 4099, n = 70;
        sbyte[] weights = new sbyte[n * k];
        for (int j = 0; j < n; j++)
        {
            for (int p = 0; p < k; p++)
            {
                weights[j * k + p] = (sbyte)(j % 3 == 0 ? 127 : j % 3 == 1 ? -127 : (p % 2 == 0 ? 127 : -127));
            }
        }

        using Int8Matrix b = Int8Matrix.FromQuantized(weights, new float[n], n, k);
        int ldq = (k + 3) / 4 * 4;
        byte[] q = new byte[m * ldq];
        Array.Fill(q, (byte)127);
        int[] acc = new int[m * n];
        fixed (byte* qp = q)
        fixed (int* accp = acc)
        {
            Int8Gemm.Accumulate(null, m, qp, ldq, b, accp, n);
        }

        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                long expected = j % 3 == 0 ? 127L * 127 * k : j % 3 == 1 ? -127L * 127 * k : 127L * 127;
                Assert.Equal(expected, acc[i * n + j]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(FloatShapes))]
    public void MatchesQuantizedReference(int m, int k, int n)
    {
        foreach (int threads in new[] { 1, 2 })
        {
            foreach (Activation act in Enum.GetValues<Activation>())
            {
                for (int residualMode = 0; residualMode < 3; residualMode++)
                {
                    CheckFloat(m, k, n, act, withBias: (residualMode + (int)act) % 2 == 0, residualMode, threads);
                }
            }
        }
    }

    // residualMode: 0 none, 1 a separate buffer, 2 aliasing c (in-place add).
    private static void CheckFloat(int m, int k, int n, Activation act, bool withBias, int residualMode, int threads)
    {
        int lda = k + 2, ldc = n + 3, ldr = n + 1;
        int seed = m * 31 + k * 7 + n;
        using NativeBuffer a = TestData.Random((long)m * lda, seed, 2f);
        // Rows with different ranges and signs: all positive (zero point 0), all negative (zero point 127), one zero row.
        for (int p = 0; p < k && m > 2; p++)
        {
            a.Pointer[p] = Math.Abs(a.Pointer[p]) + 0.5f;
            a.Pointer[lda + p] = -Math.Abs(a.Pointer[lda + p]) * 3;
            a.Pointer[2 * lda + p] = 0;
        }

        float[] w = TestData.RandomArray(n * k, seed + 1, 0.2f);
        using Int8Matrix b = Int8Matrix.FromOutIn(w, n, k);
        sbyte[] qw = new sbyte[n * k];
        float[] scales = new float[n];
        b.CopyQuantized(qw, scales);
        using NativeBuffer bias = TestData.Random(n, seed + 2);
        using NativeBuffer residual = TestData.Random((long)m * ldr, seed + 3);
        using NativeBuffer c = TestData.Random((long)m * ldc, seed + 4);
        using NativeBuffer expected = new((long)m * ldc);
        new Span<float>(c.Pointer, m * ldc).CopyTo(new Span<float>(expected.Pointer, m * ldc));

        float* res = residualMode == 1 ? residual.Pointer : residualMode == 2 ? c.Pointer : null;
        int resStride = residualMode == 1 ? ldr : ldc;
        byte[] qa = new byte[k];
        for (int i = 0; i < m; i++)
        {
            ReferenceQuantize(a.Pointer + i * lda, k, qa, out float rowScale, out int zero);
            for (int j = 0; j < n; j++)
            {
                long sum = 0;
                for (int p = 0; p < k; p++)
                {
                    sum += (qa[p] - zero) * (long)qw[j * k + p];
                }

                double value = (double)rowScale * scales[j] * sum + (withBias ? bias.Pointer[j] : 0);
                value = Elementwise.Reference(act, value);
                if (res != null)
                {
                    value += res[i * resStride + j];
                }

                expected.Pointer[i * ldc + j] = (float)value;
            }
        }

        Int8Gemm.Run(TestData.Pool(threads), m, a.Pointer, lda, b, withBias ? bias.Pointer : null, act, res, resStride, c.Pointer, ldc);
        TestData.AssertClose(expected.Pointer, c.Pointer, (long)m * ldc, 1e-5,
            $"int8 {m}x{k}x{n} {act} bias {withBias} residual {residualMode} threads {threads}");
    }

    // The activation quantizer as specified (Int8Gemm's file header), in scalar float arithmetic.
    private static void ReferenceQuantize(float* x, int k, byte[] q, out float scale, out int zero)
    {
        float min = 0, max = 0;
        for (int p = 0; p < k; p++)
        {
            min = Math.Min(min, x[p]);
            max = Math.Max(max, x[p]);
        }

        scale = (max - min) / 127f;
        float inv = 1f / scale;
        zero = 0;
        if (scale == 0 || !float.IsFinite(inv))
        {
            scale = 0;
            Array.Clear(q);
            return;
        }

        zero = Math.Clamp((int)MathF.Round(-min * inv), 0, 127);
        for (int p = 0; p < k; p++)
        {
            q[p] = (byte)Math.Clamp(MathF.Round(x[p] * inv) + zero, 0f, 127f);
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 15)]
    [InlineData(9, 17)]
    [InlineData(4, 64)]
    [InlineData(3, 771)]
    [InlineData(2, 3072)]
    public void ActivationQuantizerMatchesSpecification(int m, int k)
    {
        int lda = k + 1, kPadded = (k + 3) / 4 * 4, ldq = kPadded + 5;
        using NativeBuffer a = TestData.Random((long)m * lda, k + m, 3f);
        // Values on rounding midpoints of the first row's grid, and a row with a single non-zero value.
        if (k >= 4)
        {
            a.Pointer[0] = -1.27f;
            a.Pointer[1] = 1.27f;
            a.Pointer[2] = 0.005f;
            a.Pointer[3] = -0.015f;
        }

        if (m > 1)
        {
            new Span<float>(a.Pointer + lda, k).Clear();
            a.Pointer[lda + k - 1] = 5f;
        }

        byte[] q = new byte[m * ldq];
        Array.Fill(q, (byte)0xAA);
        float[] rowScale = new float[m];
        int[] zeroPoint = new int[m];
        fixed (byte* qp = q)
        fixed (float* sp = rowScale)
        fixed (int* zp = zeroPoint)
        {
            Int8Gemm.QuantizeActivations(m, a.Pointer, lda, k, kPadded, qp, ldq, sp, zp);
        }

        byte[] expected = new byte[k];
        for (int i = 0; i < m; i++)
        {
            ReferenceQuantize(a.Pointer + i * lda, k, expected, out float scale, out int zero);
            Assert.Equal(scale, rowScale[i]);
            Assert.Equal(zero, zeroPoint[i]);
            Assert.InRange(zero, 0, 127);
            for (int p = 0; p < k; p++)
            {
                Assert.True(expected[p] == q[i * ldq + p], $"row {i}, k {p}: {q[i * ldq + p]} vs {expected[p]}");
            }

            for (int p = k; p < kPadded; p++)
            {
                Assert.Equal(0, q[i * ldq + p]);
            }
        }
    }

    [Fact]
    public void MatchesFloatReferenceWithinQuantizationError()
    {
        // Report-level: W8A8 against fp32, uniform random A and W, error relative to the output range.
        foreach ((int m, int k, int n) in new[] { (50, 768, 256), (64, 240, 720), (7, 3072, 96) })
        {
            using NativeBuffer a = TestData.Random((long)m * k, k, 1f);
            float[] w = TestData.RandomArray(n * k, n, 0.05f);
            float[] transposed = new float[k * n];
            for (int j = 0; j < n; j++)
            {
                for (int p = 0; p < k; p++)
                {
                    transposed[p * n + j] = w[j * k + p];
                }
            }

            using Int8Matrix b = Int8Matrix.FromOutIn(w, n, k);
            using NativeBuffer c = new((long)m * n);
            using NativeBuffer expected = new((long)m * n);
            Int8Gemm.Run(TestData.Pool(2), m, a.Pointer, k, b, null, Activation.None, null, 0, c.Pointer, n);
            fixed (float* bt = transposed)
            {
                Gemm.Reference(m, n, k, a.Pointer, k, bt, n, null, Activation.None, null, 0, expected.Pointer, n);
            }

            double maxError = 0, range = 0;
            for (long i = 0; i < (long)m * n; i++)
            {
                maxError = Math.Max(maxError, Math.Abs(c.Pointer[i] - expected.Pointer[i]));
                range = Math.Max(range, Math.Abs(expected.Pointer[i]));
            }

            Assert.True(maxError <= 0.03 * range, $"{m}x{k}x{n}: max |int8 − fp32| {maxError} over max |C| {range}");
        }
    }

    [Fact]
    public void NonFiniteRowsGiveNaNRowsAndLeaveOthersAlone()
    {
        const int m = 9, k = 70, n = 80;
        using NativeBuffer a = TestData.Random(m * k, 5);
        float[] w = TestData.RandomArray(n * k, 6, 0.1f);
        using Int8Matrix b = Int8Matrix.FromOutIn(w, n, k);
        using NativeBuffer clean = new(m * n);
        Int8Gemm.Run(null, m, a.Pointer, k, b, null, Activation.Gelu, null, 0, clean.Pointer, n);
        a.Pointer[1 * k + 3] = float.NaN;
        a.Pointer[4 * k + 69] = float.PositiveInfinity;
        a.Pointer[6 * k] = float.NegativeInfinity;
        a.Pointer[7 * k] = 3e38f;
        a.Pointer[7 * k + 1] = -3e38f;   // finite, but the range overflows
        foreach (int threads in new[] { 1, 2 })
        {
            using NativeBuffer c = new(m * n);
            Int8Gemm.Run(TestData.Pool(threads), m, a.Pointer, k, b, null, Activation.Gelu, null, 0, c.Pointer, n);
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    float value = c.Pointer[i * n + j];
                    if (i is 1 or 4 or 6 or 7)
                    {
                        Assert.True(float.IsNaN(value), $"row {i}: {value}");
                    }
                    else
                    {
                        Assert.Equal(clean.Pointer[i * n + j], value);
                    }
                }
            }
        }
    }

    [Fact]
    public void QuantizeRowsHandlesZeroHugeAndMidpoints()
    {
        const int k = 8;
        float[] weight =
        [
            0, 0, 0, 0, 0, 0, 0, 0,                              // zero row
            1e30f, 1, -1, 0.5f, 1e28f, -1e29f, 0, 3,             // one huge value
            127, 0.5f, 1.5f, 2.5f, -0.5f, -2.5f, -127, 126.5f,   // scale exactly 1: halves round to even
            -4, 1, 2, 3, 0, 0, 0, 0,                             // negative maximum
        ];
        sbyte[] q = new sbyte[4 * k];
        float[] scales = new float[4];
        Int8Matrix.QuantizeRows(weight, 4, k, q, scales);
        Assert.Equal(0f, scales[0]);
        Assert.All(q[..k], value => Assert.Equal(0, value));
        Assert.Equal(1e30f / 127f, scales[1]);
        Assert.Equal(new sbyte[] { 127, 0, 0, 0, 1, -13, 0, 0 }, q[k..(2 * k)]);
        Assert.Equal(1f, scales[2]);
        Assert.Equal(new sbyte[] { 127, 0, 2, 2, 0, -2, -127, 126 }, q[(2 * k)..(3 * k)]);
        Assert.Equal(4f / 127f, scales[3]);
        Assert.Equal(-127, q[3 * k]);

        // The vector path (16 at a time) agrees with the scalar definition on a long row.
        float[] row = TestData.RandomArray(1000, 9);
        sbyte[] rowQ = new sbyte[1000];
        float[] rowScale = new float[1];
        Int8Matrix.QuantizeRows(row, 1, 1000, rowQ, rowScale);
        float max = 0;
        foreach (float value in row) max = Math.Max(max, Math.Abs(value));
        Assert.Equal(max / 127f, rowScale[0]);
        for (int p = 0; p < 1000; p++)
        {
            Assert.Equal((sbyte)Math.Clamp(MathF.Round(row[p] / rowScale[0]), -127f, 127f), rowQ[p]);
        }

        Assert.Throws<ArgumentException>(() => Int8Matrix.QuantizeRows(new[] { 1f, float.NaN }, 1, 2, new sbyte[2], new float[1]));
        Assert.Throws<ArgumentException>(() => Int8Matrix.QuantizeRows(new float[3], 1, 4, new sbyte[4], new float[1]));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(17, 5)]
    [InlineData(130, 63)]
    [InlineData(240, 768)]
    public void QuantizedRoundTripIsExact(int n, int k)
    {
        float[] w = TestData.RandomArray(n * k, n + k);
        sbyte[] q = new sbyte[n * k];
        float[] scales = new float[n];
        Int8Matrix.QuantizeRows(w, n, k, q, scales);
        using Int8Matrix fromFloat = Int8Matrix.FromOutIn(w, n, k);
        using Int8Matrix fromQuantized = Int8Matrix.FromQuantized(q, scales, n, k);
        using PackedMatrix packed = PackedMatrix.FromOutIn(w, n, k);
        using Int8Matrix fromPacked = Int8Matrix.FromPacked(packed);
        foreach (Int8Matrix matrix in new[] { fromFloat, fromQuantized, fromPacked })
        {
            Assert.Equal(k, matrix.K);
            Assert.Equal(n, matrix.N);
            Assert.True(matrix.ByteSize >= (long)n * k);
            sbyte[] q2 = new sbyte[n * k];
            float[] scales2 = new float[n];
            matrix.CopyQuantized(q2, scales2);
            Assert.Equal(q, q2);
            Assert.Equal(scales, scales2);
        }
    }

    [Fact]
    public void FromQuantizedRejectsInvalidInput()
    {
        sbyte[] q = [1, 2, 3, 4, 5, 6];
        float[] scales = [0.5f, 0.25f];
        using (Int8Matrix.FromQuantized(q, scales, 2, 3)) { }

        ArgumentException e = Assert.Throws<ArgumentException>(() => Int8Matrix.FromQuantized(new sbyte[] { 1, 2, 3, 4, -128, 6 }, scales, 2, 3));
        Assert.Contains("-128", e.Message);
        Assert.Contains("q[1, 1]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Int8Matrix.FromQuantized(q, new[] { 0.5f, -1f }, 2, 3));
        Assert.Contains("scales[1]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Int8Matrix.FromQuantized(q, new[] { float.NaN, 1f }, 2, 3));
        Assert.Contains("scales[0]", e.Message);
        Assert.Throws<ArgumentException>(() => Int8Matrix.FromQuantized(q, new[] { float.PositiveInfinity, 1f }, 2, 3));
        e = Assert.Throws<ArgumentException>(() => Int8Matrix.FromQuantized(q.AsSpan(0, 5), scales, 2, 3));
        Assert.Contains("q has 5", e.Message);
        e = Assert.Throws<ArgumentException>(() => Int8Matrix.FromQuantized(q, scales.AsSpan(0, 1), 2, 3));
        Assert.Contains("scales has 1", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Int8Matrix.FromQuantized(q, scales, 0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Int8Matrix.FromOutIn(new float[2], 1, 200_000));
        using Int8Matrix matrix = Int8Matrix.FromQuantized(q, scales, 2, 3);
        Assert.Throws<ArgumentException>(() => matrix.CopyQuantized(new sbyte[5], new float[2]));
        Assert.Throws<ArgumentException>(() => matrix.CopyQuantized(new sbyte[6], new float[1]));
    }

    [Fact]
    public void RunRejectsInvalidArguments()
    {
        using Int8Matrix b = Int8Matrix.FromOutIn(TestData.RandomArray(12, 1), 3, 4);
        using NativeBuffer a = TestData.Random(8, 2);
        using NativeBuffer c = new(8);
        float* ap = a.Pointer, cp = c.Pointer;
        Assert.Throws<ArgumentNullException>(() => Int8Gemm.Run(null, 1, ap, 4, null!, null, Activation.None, null, 0, cp, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Int8Gemm.Run(null, 0, ap, 4, b, null, Activation.None, null, 0, cp, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Int8Gemm.Run(null, 1, ap, 3, b, null, Activation.None, null, 0, cp, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Int8Gemm.Run(null, 1, ap, 4, b, null, Activation.None, null, 0, cp, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Int8Gemm.Run(null, 1, ap, 4, b, null, Activation.None, cp, 2, cp, 3));
        Assert.Throws<ArgumentNullException>(() => Int8Gemm.Run(null, 1, null, 4, b, null, Activation.None, null, 0, cp, 3));
        Assert.Throws<ArgumentNullException>(() => Int8Gemm.Run(null, 1, ap, 4, b, null, Activation.None, null, 0, null, 3));
        Int8Matrix disposed = Int8Matrix.FromOutIn(TestData.RandomArray(12, 1), 3, 4);
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => Int8Gemm.Run(null, 1, ap, 4, disposed, null, Activation.None, null, 0, cp, 3));
    }
}
