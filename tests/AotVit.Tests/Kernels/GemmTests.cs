// Gemm.Run against Gemm.Reference over awkward shapes, epilogues, aliasing and pools.
using AotVit.Runtime.Kernels;
using AotVit.Runtime.Threading;
using Xunit;

namespace AotVit.Tests.Kernels;

[Trait("Category", "Kernels")]
public sealed unsafe class GemmTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 1 }, { 1, 16, 3 }, { 7, 15, 27 }, { 8, 32, 3 }, { 9, 33, 17 }, { 49, 144, 36 }, { 50, 96, 64 },
        { 50, 768, 300 }, { 3, 1000, 13 }, { 100, 432, 257 }, { 13, 64, 600 }, { 400, 16, 27 }, { 130, 48, 9 }, { 5, 17, 1 },
        { 50, 1250, 520 }, { 70, 700, 770 },
        // 10-row blocks (M a multiple of 10, not of 8), several K blocks, and panel runs of 4 per item (≥ 32 panels)
        { 10, 40, 5 }, { 30, 200, 520 }, { 250, 64, 33 }, { 50, 1056, 96 }, { 90, 3072, 40 },
        // 6-row blocks of the AVX2 kernel (run by tools/test.sh with AVX-512 off): exact multiples, tails of 1–5, K blocks
        { 6, 32, 300 }, { 12, 48, 600 }, { 17, 64, 257 }, { 64, 96, 70 },
        // K in one block on AVX-512 (the in-register epilogue): 8-row blocks, 5–7-row and 1–4-row tails, a column tail
        { 15, 64, 48 }, { 13, 96, 256 }, { 64, 128, 16 }, { 12, 40, 144 },
        // B over 1 MiB and more than 256 rows: taller row chunks (2 of 132 rows here)
        { 264, 1040, 260 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesReference(int m, int n, int k)
    {
        foreach (int threads in new[] { 1, 2 })
        {
            foreach (Activation act in Enum.GetValues<Activation>())
            {
                Check(m, n, k, act, withBias: act != Activation.Tanh, residualMode: (int)act % 3, threads);
            }
        }
    }

    [Fact]
    public void ResidualAliasingOutputWithSeveralKBlocks()
    {
        Check(20, 70, 700, Activation.None, withBias: true, residualMode: 2, threads: 1);
        Check(20, 70, 700, Activation.Gelu, withBias: true, residualMode: 2, threads: 2);
    }

    [Fact]
    public void FromOutInPacksTheTranspose()
    {
        const int m = 11, n = 37, k = 19;
        float[] weight = TestData.RandomArray(n * k, 1);   // [n, k]
        float[] transposed = new float[k * n];             // [k, n]
        for (int j = 0; j < n; j++)
        {
            for (int p = 0; p < k; p++)
            {
                transposed[p * n + j] = weight[j * k + p];
            }
        }

        using PackedMatrix packed = PackedMatrix.FromOutIn(weight, n, k);
        using NativeBuffer a = TestData.Random(m * k, 2);
        using NativeBuffer c = new(m * n);
        using NativeBuffer expected = new(m * n);
        Gemm.Run(null, m, a.Pointer, k, packed, null, Activation.None, null, 0, c.Pointer, n);
        fixed (float* b = transposed)
        {
            Gemm.Reference(m, n, k, a.Pointer, k, b, n, null, Activation.None, null, 0, expected.Pointer, n);
        }

        TestData.AssertClose(expected.Pointer, c.Pointer, m * n, 1e-5, "FromOutIn");
        Assert.Equal(packed.Panels * 32L * k * sizeof(float), packed.ByteSize);
    }

    // The AArch64 microkernel (Gemm.Neon.cs), called directly: on x64 its FMLA-by-element steps run as broadcasts, so the
    // k unrolling by 4, the kc % 4 tail, the row duplication below 8 rows and the 8-column steps across a panel are
    // checked here against double sums; the NEON instructions themselves run under qemu (aotvit selftest in arm64_check).
    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 4)]
    [InlineData(5, 7)]
    [InlineData(7, 13)]
    [InlineData(8, 256)]
    [InlineData(8, 3)]
    [InlineData(6, 37)]
    public void NeonByLaneKernelMatchesSums(int rows, int kc)
    {
        const int panel = 32;
        long lda = kc + 3;
        using NativeBuffer a = TestData.Random(rows * lda, 11);
        using NativeBuffer packed = TestData.Random((long)kc * panel, 12);
        foreach (bool accumulate in new[] { false, true })
        {
            using NativeBuffer start = TestData.Random(9 * panel, 13);   // 8 rows and a sentinel row
            using NativeBuffer tile = new(9 * panel);
            new Span<float>(start.Pointer, 9 * panel).CopyTo(new Span<float>(tile.Pointer, 9 * panel));
            for (int column = 0; column < panel; column += 8)
            {
                Gemm.Gemm_f32_8x8_ByLane(kc, a.Pointer, lda, rows, packed.Pointer + column, tile.Pointer + column, accumulate);
            }

            for (int r = 0; r < 9; r++)
            {
                for (int j = 0; j < panel; j++)
                {
                    double expected = start.Pointer[r * panel + j];   // rows ≥ rows are left as they were
                    if (r < rows)
                    {
                        double sum = accumulate ? expected : 0;
                        for (int p = 0; p < kc; p++) sum += (double)a.Pointer[r * lda + p] * packed.Pointer[(long)p * panel + j];
                        expected = sum;
                    }

                    double actual = tile.Pointer[r * panel + j];
                    Assert.True(Math.Abs(actual - expected) <= 1e-5 * Math.Sqrt(kc) * (1 + Math.Abs(expected)),
                        $"rows={rows} kc={kc} accumulate={accumulate} [{r}, {j}]: {actual} vs {expected}");
                }
            }
        }
    }

    // residualMode: 0 none, 1 separate buffer, 2 residual aliases c. Strided a, c and residual.
    private static void Check(int m, int n, int k, Activation act, bool withBias, int residualMode, int threads)
    {
        int lda = k + 3, ldc = n + 5, ldr = residualMode == 2 ? ldc : n + 1;
        float[] bValues = TestData.RandomArray(k * n, 7, 1f / MathF.Sqrt(k));
        using PackedMatrix packed = PackedMatrix.FromKN(bValues, k, n);
        using NativeBuffer a = TestData.Random((long)m * lda, 3);
        using NativeBuffer bias = TestData.Random(n, 4);
        using NativeBuffer residual = TestData.Random((long)m * ldr, 5);
        using NativeBuffer c = TestData.Random((long)m * ldc, 6);   // garbage that must be overwritten (or read, if aliased)
        using NativeBuffer expected = new((long)m * ldc);
        new Span<float>(c.Pointer, m * ldc).CopyTo(new Span<float>(expected.Pointer, m * ldc));
        float* residualPointer = residualMode switch { 1 => residual.Pointer, 2 => c.Pointer, _ => null };
        float* expectedResidual = residualMode == 2 ? expected.Pointer : residualPointer;
        float* biasPointer = withBias ? bias.Pointer : null;

        fixed (float* b = bValues)
        {
            Gemm.Reference(m, n, k, a.Pointer, lda, b, n, biasPointer, act, expectedResidual, ldr, expected.Pointer, ldc);
        }

        Gemm.Run(TestData.Pool(threads), m, a.Pointer, lda, packed, biasPointer, act, residualPointer, ldr, c.Pointer, ldc);
        TestData.AssertClose(expected.Pointer, c.Pointer, (long)m * ldc, 2e-6 * Math.Sqrt(k) + 1e-6,
            $"m={m} n={n} k={k} act={act} bias={withBias} residual={residualMode} threads={threads}");
    }
}
