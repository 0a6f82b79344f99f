// Conv2d.RunWinograd: 3×3 stride-1 convolutions (padding 1) by Winograd's minimal filtering F(2×2, 3×3)
// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016). Every 2×2 output tile is
//   Y = Aᵀ [ U ⊙ V ] A,   U = G g Gᵀ (the filter, 4×4 per (cin, cout)),   V = Bᵀ d B (the 4×4 input tile d around it),
// summed over the input channels. Written per position ξ of the 4×4 transformed tile, the sum over channels is a
// matrix product: M[ξ] = V[ξ] · U[ξ], [tiles × Cin]·[Cin × Cout]. That is 16 multiply-adds per tile, channel pair and
// 2×2 outputs, against 36 for the direct convolution (2.25× fewer), and the products run on the packed GEMM.
//
// One work item is a block of consecutive tiles (image-major, then tile row, then tile column): the input transform
// writes V[16][block][Cin] into the thread's scratch, 16 GEMMs write M[16][block][Cout] beside it, and the output
// transform stores the 2×2 pixels that lie inside the image, and the shared epilogue adds the bias and applies the
// activation to each pixel while it is in L1. Scratch per
// item stays within a budget that keeps V and M in the core's L2.
//
// The filter U is transformed once at load, in double, and packed as one GEMM B operand [Cin, 16·Cp]: slice ξ is the
// columns [ξ·Cp, ξ·Cp + Cout), Cp = Cout rounded up to the panel width, so each slice starts on a panel boundary and is
// an ordinary packed matrix of ⌈Cout/32⌉ panels. The transforms use only 0, ±1 (B, A) and ±½ (G): V and Y are sums of
// at most 4 and 9 terms, so the result differs from the direct convolution by rounding only (ConvTests bounds it).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using AotVit.Runtime.Kernels.Common;
using AotVit.Runtime.Threading;

namespace AotVit.Runtime.Kernels;

public static unsafe partial class Conv2d
{
    // V + M floats per work item (512 KiB): V, M and the filter slice a GEMM reads stay in the core's L2 (1 MiB),
    // while each item re-reads the whole transformed filter (16·Cin·Cout floats, over 1 MiB for MobileViT-S's fusion),
    // so items are as large as the budget allows.
    private const int WinogradBudgetFloats = 128 * 1024;
    private const int WinogradMinBlock = 8;     // one GEMM row block
    private const int WinogradMaxBlock = 128;

    /// <summary>Columns of one ξ slice of a Winograd filter: <paramref name="cout"/> rounded up to the panel width.</summary>
    public static int WinogradSliceColumns(int cout) => (cout + PackedMatrix.PanelWidth - 1) / PackedMatrix.PanelWidth * PackedMatrix.PanelWidth;

    /// <summary>
    /// Transforms a 3×3 filter for <see cref="RunWinograd"/>: U[ξ = 4i + j][cin, cout] = (G g Gᵀ)[i, j] with
    /// G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]], computed in double and rounded once.
    /// </summary>
    /// <param name="weight">[(ky·3 + kx)·cin + ci, cout] row-major: the <see cref="Run"/> filter layout, unpacked</param>
    /// <returns>[cin, 16·Cp] packed, Cp = <see cref="WinogradSliceColumns"/>(cout); the padding columns are 0</returns>
    public static PackedMatrix PackWinograd(ReadOnlySpan<double> weight, int cin, int cout)
    {
        if (cin < 1 || cout < 1 || weight.Length != 9L * cin * cout)
        {
            throw new ArgumentException($"a 3×3 filter of {cin} → {cout} channels has {9L * cin * cout} values, got {weight.Length}.", nameof(weight));
        }

        PackedMatrix filter = NewWinogradFilter(cin, cout);
        Span<double> g = stackalloc double[9];
        for (int ci = 0; ci < cin; ci++)
        {
            for (int co = 0; co < cout; co++)
            {
                for (int tap = 0; tap < 9; tap++)
                {
                    g[tap] = weight[(tap * cin + ci) * cout + co];
                }

                SetWinogradFilter(filter, ci, co, g);
            }
        }

        return filter;
    }

    /// <summary>A zeroed Winograd filter [cin, 16·Cp] for <see cref="SetWinogradFilter"/> to fill.</summary>
    internal static PackedMatrix NewWinogradFilter(int cin, int cout) => PackedMatrix.Zeroed(cin, 16 * WinogradSliceColumns(cout));

    /// <summary>Writes the 16 transformed values of the 3×3 kernel g (ky·3 + kx) from input ci to output co into their
    /// panel slots: U = G g Gᵀ in double, each value rounded to float once.</summary>
    internal static void SetWinogradFilter(PackedMatrix filter, int ci, int co, ReadOnlySpan<double> g)
    {
        int cp = filter.N / 16;
        Span<double> gg = stackalloc double[12];   // G·g, [4, 3]
        for (int x = 0; x < 3; x++)
        {
            gg[x] = g[x];
            gg[3 + x] = 0.5 * (g[x] + g[3 + x] + g[6 + x]);
            gg[6 + x] = 0.5 * (g[x] - g[3 + x] + g[6 + x]);
            gg[9 + x] = g[6 + x];
        }

        float* data = filter.Data;
        for (int i = 0; i < 4; i++)
        {
            double r0 = gg[3 * i], r1 = gg[3 * i + 1], r2 = gg[3 * i + 2];
            Put(4 * i + 0, r0);
            Put(4 * i + 1, 0.5 * (r0 + r1 + r2));
            Put(4 * i + 2, 0.5 * (r0 - r1 + r2));
            Put(4 * i + 3, r2);
        }

        // Column ξ·Cp + co of row ci.
        void Put(int xi, double value) => data[filter.Offset(ci, xi * cp + co)] = (float)value;
    }

    /// <summary>
    /// The contract of <see cref="Run"/> for kernel 3, stride 1 (output [batch, h, w, cout]), computed by Winograd
    /// F(2×2, 3×3) with a filter from <see cref="PackWinograd"/>. The generator names this variant from the op's static
    /// shape (ConvOp.ChooseVariant).
    /// </summary>
    /// <param name="in0">[batch, h, w, c0]</param>
    /// <param name="in1">[batch, h, w, c1], or null with c1 = 0</param>
    /// <param name="filter">[c0 + c1, 16·Cp] from <see cref="PackWinograd"/></param>
    /// <param name="bias">[cout] or null</param>
    /// <param name="output">[batch, h, w, cout]; must not overlap the inputs</param>
    public static void RunWinograd(WorkerPool? pool, int batch, int h, int w, float* in0, int c0, float* in1, int c1,
                                   PackedMatrix filter, int cout, float* bias, Activation act, float* output)
    {
        ArgumentNullException.ThrowIfNull(filter);
        int cp = WinogradSliceColumns(cout);
        long tiles = (long)batch * ((h + 1) / 2) * ((w + 1) / 2);
        if (batch < 1 || h < 1 || w < 1 || c0 < 1 || c1 < 0 || cout < 1 || (in1 == null) != (c1 == 0) || in0 == null || output == null
            || filter.K != c0 + c1 || filter.N != 16 * cp || filter.IsInt8 || tiles > int.MaxValue)
        {
            ThrowWinogradShape(batch, h, w, c0, c1, cout, filter);
        }

        int threads = pool?.ThreadCount ?? 1;
        int cin = c0 + c1;
        // A whole number of the GEMM's row blocks, so that no GEMM ends in a short microkernel call.
        long block = Math.Clamp(WinogradBudgetFloats / (16L * (cin + cout)), WinogradMinBlock, WinogradMaxBlock);
        block = Math.Max(WinogradMinBlock, block / Gemm.DirectRowBlock * Gemm.DirectRowBlock);
        // At least two items per thread when the tiles allow it, so that 2 threads have work at batch 1.
        block = Math.Max(WinogradMinBlock, Math.Min(block, (tiles + 2 * threads - 1) / (2 * threads)));
        long items = (tiles + block - 1) / block;
        WinogradJob job = new()
        {
            H = h, W = w, TilesH = (h + 1) / 2, TilesW = (w + 1) / 2, Tiles = tiles, Block = (int)block,
            In0 = in0, C0 = c0, In1 = in1, C1 = c1, Cout = cout, SliceColumns = cp,
            Filter = filter.Data, Bias = bias, Act = act, Output = output,
        };
        if (pool == null)
        {
            WinogradItems(&job, 0, (int)items);
        }
        else
        {
            pool.For((int)items, &WinogradItems, &job, 1);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowWinogradShape(int batch, int h, int w, int c0, int c1, int cout, PackedMatrix filter) =>
        throw new ArgumentException($"RunWinograd takes positive sizes, in1 exactly when c1 > 0, non-null in0 and output, fewer than 2³¹ tiles and " +
                                    $"a float32 filter [{c0 + c1}×{16 * WinogradSliceColumns(Math.Max(cout, 1))}] from PackWinograd: batch {batch}, " +
                                    $"{h}×{w}, {c0} + {c1} → {cout} channels, filter [{filter.K}×{filter.N}]{(filter.IsInt8 ? " int8" : "")}.");

    private struct WinogradJob
    {
        public int H, W, TilesH, TilesW, Block, C0, C1, Cout, SliceColumns;
        public long Tiles;
        public float* In0, In1, Filter, Bias, Output;
        public Activation Act;
    }

    private static void WinogradItems(void* context, int begin, int end)
    {
        WinogradJob* job = (WinogradJob*)context;
        int cin = job->C0 + job->C1, cout = job->Cout, block = job->Block;
        long vFloats = 16L * block * cin, mFloats = 16L * block * cout;
        int zeroFloats = Math.Max(job->C0, job->C1);
        float* v = Scratch.Winograd(vFloats + mFloats + zeroFloats);
        float* m = v + vFloats;
        float* zero = m + mFloats;
        NativeMemory.Clear(zero, (nuint)zeroFloats * sizeof(float));
        float** pixels = stackalloc float*[16];
        for (int item = begin; item < end; item++)
        {
            long first = (long)item * block;
            int count = (int)Math.Min(block, job->Tiles - first);
            for (int t = 0; t < count; t++)
            {
                TileOrigin(job, first + t, out int image, out int y0, out int x0);
                // Input tile rows y0 − 1 .. y0 + 2, columns x0 − 1 .. x0 + 2; outside the image reads the zero pixel.
                TilePixels(job, job->In0, job->C0, image, y0, x0, zero, pixels);
                WinogradInput(pixels, job->C0, v + (long)t * cin, (long)block * cin);
                if (job->C1 > 0)
                {
                    TilePixels(job, job->In1, job->C1, image, y0, x0, zero, pixels);
                    WinogradInput(pixels, job->C1, v + (long)t * cin + job->C0, (long)block * cin);
                }
            }

            int panels = job->SliceColumns / PackedMatrix.PanelWidth;
            for (int xi = 0; xi < 16; xi++)
            {
                Gemm.Job product = new()
                {
                    M = count, K = cin, N = cout, Panels = panels, B = job->Filter + (long)xi * job->SliceColumns * cin,
                    A = v + (long)xi * block * cin, Lda = cin, C = m + (long)xi * block * cout, Ldc = cout,
                };
                Gemm.Execute(null, &product);
            }

            for (int t = 0; t < count; t++)
            {
                TileOrigin(job, first + t, out int image, out int y0, out int x0);
                float* o = job->Output + (((long)image * job->H + y0) * job->W + x0) * cout;
                long rowStride = (long)job->W * cout;
                bool right = x0 + 1 < job->W, below = y0 + 1 < job->H;
                float* y01 = right ? o + cout : null, y10 = below ? o + rowStride : null, y11 = right && below ? o + rowStride + cout : null;
                WinogradOutput(m + (long)t * cout, (long)block * cout, cout, o, y01, y10, y11);
                // act(y + bias) in place, pixel by pixel while it is in L1 (one shared epilogue, not one per transform width).
                if (job->Bias != null || job->Act != Activation.None)
                {
                    Epilogue.Row(o, job->Bias, job->Act, null, o, cout);
                    if (y01 != null) Epilogue.Row(y01, job->Bias, job->Act, null, y01, cout);
                    if (y10 != null) Epilogue.Row(y10, job->Bias, job->Act, null, y10, cout);
                    if (y11 != null) Epilogue.Row(y11, job->Bias, job->Act, null, y11, cout);
                }
            }
        }
    }

    // The top-left output pixel (y0, x0) of tile index t.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileOrigin(WinogradJob* job, long t, out int image, out int y0, out int x0)
    {
        long perImage = (long)job->TilesH * job->TilesW;
        image = (int)(t / perImage);
        int r = (int)(t - image * perImage);
        y0 = r / job->TilesW * 2;
        x0 = r % job->TilesW * 2;
    }

    // pixels[4·i + j] = the c-channel pixel at (y0 − 1 + i, x0 − 1 + j) of image, or zero outside the image.
    private static void TilePixels(WinogradJob* job, float* input, int c, int image, int y0, int x0, float* zero, float** pixels)
    {
        for (int i = 0; i < 4; i++)
        {
            int y = y0 - 1 + i;
            bool rowInside = (uint)y < (uint)job->H;
            float* row = input + ((long)image * job->H + y) * job->W * c;
            for (int j = 0; j < 4; j++)
            {
                int x = x0 - 1 + j;
                pixels[4 * i + j] = rowInside && (uint)x < (uint)job->W ? row + (long)x * c : zero;
            }
        }
    }

    // v[ξ·xiStride + ch] = (Bᵀ d B)[ξ] for ch < c, d[i, j] = pixels[4i + j][ch], Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0],
    // [0, −1, 1, 0], [0, 1, 0, −1]]. The widest accelerated vectors, then scalar for the last channels (fewer than one
    // vector): one vector width per build, since the channel tail is at most a few channels of a rare shape.
    private static void WinogradInput(float** pixels, int c, float* v, long xiStride)
    {
        int ch = Vector512.IsHardwareAccelerated ? WinogradInput<Vector512Ops, Vector512<float>>(pixels, 0, c, v, xiStride)
            : Vector256.IsHardwareAccelerated ? WinogradInput<Vector256Ops, Vector256<float>>(pixels, 0, c, v, xiStride)
            : Vector128.IsHardwareAccelerated ? WinogradInput<Vector128Ops, Vector128<float>>(pixels, 0, c, v, xiStride)
            : 0;
        WinogradInput<ScalarOps, float>(pixels, ch, c, v, xiStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int WinogradInput<TOps, TVec>(float** p, int ch, int c, float* v, long s)
        where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        for (; ch <= c - TOps.Count; ch += TOps.Count)
        {
            // Row i of Bᵀd, then its columns times B: t = Bᵀd row, v[i, ·] = [t0 − t2, t1 + t2, t2 − t1, t1 − t3].
            for (int i = 0; i < 4; i++)
            {
                int a = i == 0 ? 0 : 4;     // pixels of d0 (i = 0) or d1
                int b = i == 3 ? 12 : 8;    // pixels of d2, or d3 (i = 3)
                TVec t0, t1, t2, t3;
                if (i == 1)
                {
                    // d1 + d2
                    t0 = TOps.Add(TOps.Load(p[a] + ch), TOps.Load(p[b] + ch));
                    t1 = TOps.Add(TOps.Load(p[a + 1] + ch), TOps.Load(p[b + 1] + ch));
                    t2 = TOps.Add(TOps.Load(p[a + 2] + ch), TOps.Load(p[b + 2] + ch));
                    t3 = TOps.Add(TOps.Load(p[a + 3] + ch), TOps.Load(p[b + 3] + ch));
                }
                else if (i == 2)
                {
                    // d2 − d1
                    t0 = TOps.Subtract(TOps.Load(p[b] + ch), TOps.Load(p[a] + ch));
                    t1 = TOps.Subtract(TOps.Load(p[b + 1] + ch), TOps.Load(p[a + 1] + ch));
                    t2 = TOps.Subtract(TOps.Load(p[b + 2] + ch), TOps.Load(p[a + 2] + ch));
                    t3 = TOps.Subtract(TOps.Load(p[b + 3] + ch), TOps.Load(p[a + 3] + ch));
                }
                else
                {
                    // d0 − d2 (i = 0), d1 − d3 (i = 3)
                    t0 = TOps.Subtract(TOps.Load(p[a] + ch), TOps.Load(p[b] + ch));
                    t1 = TOps.Subtract(TOps.Load(p[a + 1] + ch), TOps.Load(p[b + 1] + ch));
                    t2 = TOps.Subtract(TOps.Load(p[a + 2] + ch), TOps.Load(p[b + 2] + ch));
                    t3 = TOps.Subtract(TOps.Load(p[a + 3] + ch), TOps.Load(p[b + 3] + ch));
                }

                float* row = v + 4 * i * s + ch;
                TOps.Store(TOps.Subtract(t0, t2), row);
                TOps.Store(TOps.Add(t1, t2), row + s);
                TOps.Store(TOps.Subtract(t2, t1), row + 2 * s);
                TOps.Store(TOps.Subtract(t1, t3), row + 3 * s);
            }
        }

        return ch;
    }

    // The 2×2 outputs of one tile from its 16 products m[ξ·xiStride + co]: Y = Aᵀ m A, Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]],
    // before bias and activation. y01, y10, y11 are null where they lie outside the image.
    private static void WinogradOutput(float* m, long xiStride, int cout, float* y00, float* y01, float* y10, float* y11)
    {
        int co = Vector512.IsHardwareAccelerated ? WinogradOutput<Vector512Ops, Vector512<float>>(m, xiStride, 0, cout, y00, y01, y10, y11)
            : Vector256.IsHardwareAccelerated ? WinogradOutput<Vector256Ops, Vector256<float>>(m, xiStride, 0, cout, y00, y01, y10, y11)
            : Vector128.IsHardwareAccelerated ? WinogradOutput<Vector128Ops, Vector128<float>>(m, xiStride, 0, cout, y00, y01, y10, y11)
            : 0;
        WinogradOutput<ScalarOps, float>(m, xiStride, co, cout, y00, y01, y10, y11);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int WinogradOutput<TOps, TVec>(float* m, long s, int co, int cout, float* y00, float* y01, float* y10, float* y11)
        where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        for (; co <= cout - TOps.Count; co += TOps.Count)
        {
            // Aᵀ m: row 0 = m0 + m1 + m2, row 1 = m1 − m2 − m3 (rows of the 4×4 m, ξ = 4i + j).
            float* p = m + co;
            TVec r00 = TOps.Add(TOps.Add(TOps.Load(p), TOps.Load(p + 4 * s)), TOps.Load(p + 8 * s));
            TVec r01 = TOps.Add(TOps.Add(TOps.Load(p + s), TOps.Load(p + 5 * s)), TOps.Load(p + 9 * s));
            TVec r02 = TOps.Add(TOps.Add(TOps.Load(p + 2 * s), TOps.Load(p + 6 * s)), TOps.Load(p + 10 * s));
            TVec r03 = TOps.Add(TOps.Add(TOps.Load(p + 3 * s), TOps.Load(p + 7 * s)), TOps.Load(p + 11 * s));
            TVec r10 = TOps.Subtract(TOps.Subtract(TOps.Load(p + 4 * s), TOps.Load(p + 8 * s)), TOps.Load(p + 12 * s));
            TVec r11 = TOps.Subtract(TOps.Subtract(TOps.Load(p + 5 * s), TOps.Load(p + 9 * s)), TOps.Load(p + 13 * s));
            TVec r12 = TOps.Subtract(TOps.Subtract(TOps.Load(p + 6 * s), TOps.Load(p + 10 * s)), TOps.Load(p + 14 * s));
            TVec r13 = TOps.Subtract(TOps.Subtract(TOps.Load(p + 7 * s), TOps.Load(p + 11 * s)), TOps.Load(p + 15 * s));
            // (Aᵀ m) A: column 0 = c0 + c1 + c2, column 1 = c1 − c2 − c3.
            TOps.Store(TOps.Add(TOps.Add(r00, r01), r02), y00 + co);
            if (y01 != null)
            {
                TOps.Store(TOps.Subtract(TOps.Subtract(r01, r02), r03), y01 + co);
            }

            if (y10 != null)
            {
                TOps.Store(TOps.Add(TOps.Add(r10, r11), r12), y10 + co);
            }

            if (y11 != null)
            {
                TOps.Store(TOps.Subtract(TOps.Subtract(r11, r12), r13), y11 + co);
            }
        }

        return co;
    }
}
