// Gemm.Portable: the Vector256 / Vector128 microkernel (machines or settings without AVX-512, and default-ISA AOT).
// 4 rows × 2 vectors = 8 accumulators fits the 16 architectural ymm/xmm registers; the driver walks it across the
// 32-column panel (2 steps for Vector256, 4 for Vector128).
using System.Diagnostics;
using AotVit.Runtime.Kernels.Common;

namespace AotVit.Runtime.Kernels;

public static unsafe partial class Gemm
{
    /// <summary>
    /// tile[r, 0..2W) (+)= Σ_{k &lt; kc} a[r, k]·packed[k, 0..2W), r &lt; 4, W = TOps.Count. Rows past
    /// <paramref name="rows"/> repeat the last valid row.
    /// </summary>
    /// <param name="a">[rows, kc] row stride lda</param>
    /// <param name="packed">[kc, 32], already offset to the first of the 2W columns</param>
    /// <param name="tile">[4, 32], already offset to the first of the 2W columns</param>
    private static void Gemm_f32_4x2v_Broadcast<TOps, TVec>(int kc, float* a, long lda, int rows, float* packed, float* tile, bool accumulate)
        where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        Debug.Assert(rows is >= 1 and <= 4 && kc >= 1);
        int width = TOps.Count;
        float* a0 = a;
        float* a1 = rows > 1 ? a0 + lda : a0;
        float* a2 = rows > 2 ? a1 + lda : a1;
        float* a3 = rows > 3 ? a2 + lda : a2;
        TVec c00, c01, c10, c11, c20, c21, c30, c31;
        if (accumulate)
        {
            c00 = TOps.Load(tile);
            c01 = TOps.Load(tile + width);
            c10 = TOps.Load(tile + PanelWidth);
            c11 = TOps.Load(tile + PanelWidth + width);
            c20 = TOps.Load(tile + 2 * PanelWidth);
            c21 = TOps.Load(tile + 2 * PanelWidth + width);
            c30 = TOps.Load(tile + 3 * PanelWidth);
            c31 = TOps.Load(tile + 3 * PanelWidth + width);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = TOps.Zero;
        }

        for (int k = 0; k < kc; k++)
        {
            // c[r, j] += a[r, k]·packed[k, j]
            TVec b0 = TOps.Load(packed);
            TVec b1 = TOps.Load(packed + width);
            packed += PanelWidth;
            TVec x0 = TOps.Create(a0[k]);
            c00 = TOps.MultiplyAdd(x0, b0, c00);
            c01 = TOps.MultiplyAdd(x0, b1, c01);
            TVec x1 = TOps.Create(a1[k]);
            c10 = TOps.MultiplyAdd(x1, b0, c10);
            c11 = TOps.MultiplyAdd(x1, b1, c11);
            TVec x2 = TOps.Create(a2[k]);
            c20 = TOps.MultiplyAdd(x2, b0, c20);
            c21 = TOps.MultiplyAdd(x2, b1, c21);
            TVec x3 = TOps.Create(a3[k]);
            c30 = TOps.MultiplyAdd(x3, b0, c30);
            c31 = TOps.MultiplyAdd(x3, b1, c31);
        }

        TOps.Store(c00, tile);
        TOps.Store(c01, tile + width);
        TOps.Store(c10, tile + PanelWidth);
        TOps.Store(c11, tile + PanelWidth + width);
        TOps.Store(c20, tile + 2 * PanelWidth);
        TOps.Store(c21, tile + 2 * PanelWidth + width);
        TOps.Store(c30, tile + 3 * PanelWidth);
        TOps.Store(c31, tile + 3 * PanelWidth + width);
    }
}
