// LayerNorm, Attention and Pooling against their Reference methods.
using AotVit.Runtime.Kernels;
using AotVit.Runtime.Threading;
using Xunit;

namespace AotVit.Tests.Kernels;

[Trait("Category", "Kernels")]
public sealed unsafe class NormAttentionTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 7)]
    [InlineData(5, 16)]
    [InlineData(4, 17)]
    [InlineData(50, 768)]
    [InlineData(300, 144)]
    [InlineData(2, 33)]
    public void LayerNormMatchesReference(int rows, int cols)
    {
        int ldx = cols + 3, ldy = cols + 1;
        using NativeBuffer x = TestData.Random((long)rows * ldx, 1, 3f);
        for (long i = 0; i < (long)rows * ldx; i++)
        {
            x.Pointer[i] += 5f;   // an offset mean, as in real activations
        }

        using NativeBuffer gamma = TestData.Random(cols, 2);
        using NativeBuffer beta = TestData.Random(cols, 3);
        using NativeBuffer expected = new((long)rows * ldy);
        using NativeBuffer actual = new((long)rows * ldy);
        LayerNorm.Reference(rows, cols, x.Pointer, ldx, gamma.Pointer, beta.Pointer, 1e-5f, expected.Pointer, ldy);
        foreach (int threads in new[] { 1, 2 })
        {
            LayerNorm.Run(TestData.Pool(threads), rows, cols, x.Pointer, ldx, gamma.Pointer, beta.Pointer, 1e-5f, actual.Pointer, ldy);
            TestData.AssertClose(expected.Pointer, actual.Pointer, (long)rows * ldy, 2e-6, $"layernorm threads={threads}");
        }

        // in place
        LayerNorm.Run(null, rows, cols, x.Pointer, ldx, gamma.Pointer, beta.Pointer, 1e-5f, x.Pointer, ldx);
        for (int r = 0; r < rows; r++)
        {
            TestData.AssertClose(expected.Pointer + (long)r * ldy, x.Pointer + (long)r * ldx, cols, 2e-6, "layernorm in place");
        }
    }

    [Fact]
    public void Transpose16x16MovesEveryElementToItsMirror()
    {
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported) return;   // AVX-512 only; the attention tests cover the rest
        const int lds = 21, ldd = 32;
        using NativeBuffer source = new(16 * lds);
        using NativeBuffer destination = new(16 * ldd);
        for (int i = 0; i < 16 * lds; i++) source.Pointer[i] = i + 1;
        for (int i = 0; i < 16 * ldd; i++) destination.Pointer[i] = -1;
        Attention.Transpose16x16(source.Pointer, lds, destination.Pointer, ldd);
        for (int r = 0; r < 16; r++)
            for (int c = 0; c < ldd; c++)
                Assert.Equal(c < 16 ? source.Pointer[c * lds + r] : -1f, destination.Pointer[r * ldd + c]);
    }

    [Fact]
    public void Transpose4x4MovesEveryElementToItsMirror()
    {
        const int lds = 7, ldd = 9;
        using NativeBuffer source = new(4 * lds);
        using NativeBuffer destination = new(4 * ldd);
        for (int i = 0; i < 4 * lds; i++) source.Pointer[i] = i + 1;
        for (int i = 0; i < 4 * ldd; i++) destination.Pointer[i] = -1;
        Attention.Transpose4x4(source.Pointer, lds, destination.Pointer, ldd);
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < ldd; c++)
                Assert.Equal(c < 4 ? source.Pointer[c * lds + r] : -1f, destination.Pointer[r * ldd + c]);
    }

    [Theory]
    [InlineData(1, 50, 12, 64)]
    [InlineData(4, 16, 4, 60)]
    [InlineData(4, 64, 4, 48)]
    [InlineData(2, 256, 2, 36)]
    [InlineData(1, 17, 3, 8)]
    [InlineData(2, 1, 1, 5)]
    [InlineData(1, 33, 2, 70)]
    [InlineData(3, 9, 2, 32)]
    [InlineData(1, 198, 2, 64)]
    [InlineData(1, 197, 1, 64)]
    [InlineData(4, 256, 2, 16)]
    [InlineData(2, 64, 3, 20)]
    [InlineData(1, 23, 2, 30)]
    [InlineData(2, 5, 1, 3)]
    [InlineData(1, 40, 1, 13)]
    public void AttentionMatchesReference(int sequences, int tokens, int heads, int headDim)
    {
        int width = heads * headDim;
        int ldqkv = 3 * width + 2, ldo = width + 3;
        long rows = (long)sequences * tokens;
        using NativeBuffer qkv = TestData.Random(rows * ldqkv, 1, 2f);
        using NativeBuffer expected = new(rows * ldo);
        using NativeBuffer actual = new(rows * ldo);
        float scale = 1f / MathF.Sqrt(headDim);
        float* q = qkv.Pointer, k = qkv.Pointer + width, v = qkv.Pointer + 2 * width;
        Attention.Reference(sequences, tokens, heads, headDim, scale, q, k, v, ldqkv, expected.Pointer, ldo);
        foreach (int threads in new[] { 1, 2 })
        {
            new Span<float>(actual.Pointer, (int)(rows * ldo)).Fill(float.NaN);
            Attention.RunKeyPanels(TestData.Pool(threads), sequences, tokens, heads, headDim, scale, q, k, v, ldqkv, actual.Pointer, ldo);
            AssertCloseInColumns(expected.Pointer, actual.Pointer, rows, ldo, width, 3e-6, $"key-panel attention threads={threads}");
            new Span<float>(actual.Pointer, (int)(rows * ldo)).Fill(float.NaN);
            Attention.RunQueryLanes(TestData.Pool(threads), sequences, tokens, heads, headDim, scale, q, k, v, ldqkv, actual.Pointer, ldo);
            AssertCloseInColumns(expected.Pointer, actual.Pointer, rows, ldo, width, 3e-6, $"query-lane attention threads={threads}");
            // the arm64 build's query-lane loops (FMLA by element; each lane broadcast here on x64)
            new Span<float>(actual.Pointer, (int)(rows * ldo)).Fill(float.NaN);
            Attention.RunQueryLanesByLane(TestData.Pool(threads), sequences, tokens, tokens, heads, headDim, scale, q, k, v, ldqkv, actual.Pointer, ldo);
            AssertCloseInColumns(expected.Pointer, actual.Pointer, rows, ldo, width, 3e-6, $"query-lane attention by lane threads={threads}");
        }
    }

    // The first `queries` tokens of each sequence against all keys and values (the generator's RowNarrowing: ViT's [CLS],
    // DeiT's [CLS] and distillation token): compact [sequences·queries] rows, close to the double reference and the same
    // floats as the matching rows of the full call, on every variant.
    [Theory]
    [InlineData(1, 197, 1, 12, 64)]
    [InlineData(3, 198, 2, 6, 64)]
    [InlineData(2, 50, 1, 12, 64)]
    [InlineData(2, 50, 9, 2, 64)]
    [InlineData(4, 17, 5, 3, 8)]
    [InlineData(2, 40, 17, 1, 13)]
    [InlineData(1, 33, 33, 2, 70)]
    [InlineData(2, 5, 1, 1, 3)]
    public void AttentionOfTheFirstQueriesMatchesReferenceAndTheFullCall(int sequences, int tokens, int queries, int heads, int headDim)
    {
        int width = heads * headDim;
        int ldqkv = 3 * width + 2, ldo = width + 3;
        long rows = (long)sequences * tokens, kept = (long)sequences * queries;
        using NativeBuffer qkv = TestData.Random(rows * ldqkv, 4, 2f);
        using NativeBuffer expected = new(kept * ldo);
        using NativeBuffer full = new(rows * ldo);
        using NativeBuffer actual = new(kept * ldo);
        float scale = 1f / MathF.Sqrt(headDim);
        float* q = qkv.Pointer, k = qkv.Pointer + width, v = qkv.Pointer + 2 * width;
        Attention.Reference(sequences, tokens, queries, heads, headDim, scale, q, k, v, ldqkv, expected.Pointer, ldo);
        foreach (int threads in new[] { 1, 2 })
        {
            foreach (var (name, run) in new (string, Action<bool>)[]
                     {
                         ("key-panel", all => Attention.RunKeyPanels(TestData.Pool(threads), sequences, tokens, all ? tokens : queries, heads, headDim, scale, q, k, v, ldqkv, all ? full.Pointer : actual.Pointer, ldo)),
                         ("query-lane", all => Attention.RunQueryLanes(TestData.Pool(threads), sequences, tokens, all ? tokens : queries, heads, headDim, scale, q, k, v, ldqkv, all ? full.Pointer : actual.Pointer, ldo)),
                         ("query-lane by lane", all => Attention.RunQueryLanesByLane(TestData.Pool(threads), sequences, tokens, all ? tokens : queries, heads, headDim, scale, q, k, v, ldqkv, all ? full.Pointer : actual.Pointer, ldo)),
                     })
            {
                new Span<float>(actual.Pointer, (int)(kept * ldo)).Fill(float.NaN);
                run(false);
                AssertCloseInColumns(expected.Pointer, actual.Pointer, kept, ldo, width, 3e-6, $"{name} attention, {queries} queries, threads={threads}");
                run(true);
                for (int s = 0; s < sequences; s++)
                    for (int i = 0; i < queries; i++)
                        for (int c = 0; c < width; c++)
                        {
                            float a = actual.Pointer[((long)s * queries + i) * ldo + c], b = full.Pointer[((long)s * tokens + i) * ldo + c];
                            Assert.True(BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b),
                                $"{name} threads={threads}: sequence {s} query {i} column {c}: {a:R} with {queries} queries, {b:R} with all {tokens}");
                        }
            }
        }
    }

    [Theory]
    [InlineData(1, 197, 1, 768)]
    [InlineData(3, 198, 2, 384)]
    [InlineData(2, 7, 7, 5)]
    public void FirstRowsCopiesTheLeadingRowsOfEachImage(int batch, int tokens, int rows, int cols)
    {
        using NativeBuffer input = TestData.Random((long)batch * tokens * cols, 5);
        using NativeBuffer output = new((long)batch * rows * cols);
        foreach (int threads in new[] { 1, 2 })
        {
            new Span<float>(output.Pointer, batch * rows * cols).Fill(float.NaN);
            Layout.FirstRows(TestData.Pool(threads), batch, tokens, rows, cols, input.Pointer, output.Pointer);
            for (int b = 0; b < batch; b++)
                for (int i = 0; i < rows * cols; i++)
                    Assert.Equal(input.Pointer[(long)b * tokens * cols + i], output.Pointer[(long)b * rows * cols + i]);
        }
    }

    // Columns [0, width) of each row; the padding columns of the output must not be written (they stay NaN).
    private static void AssertCloseInColumns(float* expected, float* actual, long rows, int ld, int width, double tolerance, string what)
    {
        for (long r = 0; r < rows; r++)
        {
            TestData.AssertClose(expected + r * ld, actual + r * ld, width, tolerance, $"{what} row {r}");
            for (int c = width; c < ld; c++)
            {
                Assert.True(float.IsNaN(actual[r * ld + c]), $"{what}: row {r} column {c} past the heads was written");
            }
        }
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(2, 64, 640)]
    [InlineData(1, 49, 17)]
    public void GlobalAverageMatchesReference(int batch, int hw, int c)
    {
        using NativeBuffer input = TestData.Random((long)batch * hw * c, 1);
        using NativeBuffer expected = new((long)batch * c);
        using NativeBuffer actual = new((long)batch * c);
        Pooling.Reference(batch, hw, c, input.Pointer, expected.Pointer);
        Pooling.GlobalAverage(batch, hw, c, input.Pointer, actual.Pointer);
        TestData.AssertClose(expected.Pointer, actual.Pointer, (long)batch * c, 1e-6, "global average");
    }
}
