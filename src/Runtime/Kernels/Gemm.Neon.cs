// Gemm.Neon: the AArch64 microkernel (AdvSimd, 32 × 128-bit registers; the Vector128 path of linux-arm64 builds).
// 8 rows × 8 columns = 16 accumulators; per 4 k-steps one 4-float load of each of the 8 A rows (8 registers, each
// a[r, k..k+4)) and 2 B vectors per k-step, multiplied with FMLA by element (lane j of an A register is a[r, k+j]), so
// no broadcast is loaded: 64 FMLAs per 16 loads, in 26 registers. The 32-column panel is walked in 4 steps of 8 columns
// (12 columns would not divide it). A stays row-major: nothing is packed besides B.
// Selected by Microkernel when AdvSimd.Arm64 is supported; elsewhere FmaLane broadcasts the lane, so the same kernel
// runs (slowly) under the x64 JIT for tests against the reference loops.
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace AotVit.Runtime.Kernels;

public static unsafe partial class Gemm
{
    /// <summary>
    /// tile[r, 0..8) (+)= Σ_{k &lt; kc} a[r, k]·packed[k, 0..8), r &lt; rows ≤ 8. Rows past <paramref name="rows"/> repeat
    /// the last valid row in registers and are not stored.
    /// </summary>
    /// <param name="a">[rows, kc] row stride lda</param>
    /// <param name="packed">[kc, 32], already offset to the first of the 8 columns</param>
    /// <param name="tile">[rows, 32], already offset to the first of the 8 columns</param>
    internal static void Gemm_f32_8x8_ByLane(int kc, float* a, long lda, int rows, float* packed, float* tile, bool accumulate)
    {
        Debug.Assert(rows is >= 1 and <= 8 && kc >= 1);
        int last = rows - 1;
        float* a0 = a;
        float* a1 = a + Math.Min(1, last) * lda;
        float* a2 = a + Math.Min(2, last) * lda;
        float* a3 = a + Math.Min(3, last) * lda;
        float* a4 = a + Math.Min(4, last) * lda;
        float* a5 = a + Math.Min(5, last) * lda;
        float* a6 = a + Math.Min(6, last) * lda;
        float* a7 = a + Math.Min(7, last) * lda;
        Vector128<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
        if (accumulate)
        {
            c00 = Vector128.Load(tile + 0);
            c01 = Vector128.Load(tile + 4);
            c10 = Vector128.Load(tile + 32);
            c11 = Vector128.Load(tile + 36);
            c20 = Vector128.Load(tile + 64);
            c21 = Vector128.Load(tile + 68);
            c30 = Vector128.Load(tile + 96);
            c31 = Vector128.Load(tile + 100);
            c40 = Vector128.Load(tile + 128);
            c41 = Vector128.Load(tile + 132);
            c50 = Vector128.Load(tile + 160);
            c51 = Vector128.Load(tile + 164);
            c60 = Vector128.Load(tile + 192);
            c61 = Vector128.Load(tile + 196);
            c70 = Vector128.Load(tile + 224);
            c71 = Vector128.Load(tile + 228);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector128<float>.Zero;
            c40 = c41 = c50 = c51 = c60 = c61 = c70 = c71 = Vector128<float>.Zero;
        }

        int k = 0;
        for (; k + 4 <= kc; k += 4)
        {
            // c[r, j] += a[r, k + s]·packed[k + s, j], s = 0..3: lane s of x_r
            Vector128<float> x0 = Vector128.Load(a0 + k), x1 = Vector128.Load(a1 + k);
            Vector128<float> x2 = Vector128.Load(a2 + k), x3 = Vector128.Load(a3 + k);
            Vector128<float> x4 = Vector128.Load(a4 + k), x5 = Vector128.Load(a5 + k);
            Vector128<float> x6 = Vector128.Load(a6 + k), x7 = Vector128.Load(a7 + k);

            Vector128<float> b0 = Vector128.Load(packed), b1 = Vector128.Load(packed + 4);
            c00 = FmaLane(c00, b0, x0, 0); c01 = FmaLane(c01, b1, x0, 0);
            c10 = FmaLane(c10, b0, x1, 0); c11 = FmaLane(c11, b1, x1, 0);
            c20 = FmaLane(c20, b0, x2, 0); c21 = FmaLane(c21, b1, x2, 0);
            c30 = FmaLane(c30, b0, x3, 0); c31 = FmaLane(c31, b1, x3, 0);
            c40 = FmaLane(c40, b0, x4, 0); c41 = FmaLane(c41, b1, x4, 0);
            c50 = FmaLane(c50, b0, x5, 0); c51 = FmaLane(c51, b1, x5, 0);
            c60 = FmaLane(c60, b0, x6, 0); c61 = FmaLane(c61, b1, x6, 0);
            c70 = FmaLane(c70, b0, x7, 0); c71 = FmaLane(c71, b1, x7, 0);

            b0 = Vector128.Load(packed + PanelWidth); b1 = Vector128.Load(packed + PanelWidth + 4);
            c00 = FmaLane(c00, b0, x0, 1); c01 = FmaLane(c01, b1, x0, 1);
            c10 = FmaLane(c10, b0, x1, 1); c11 = FmaLane(c11, b1, x1, 1);
            c20 = FmaLane(c20, b0, x2, 1); c21 = FmaLane(c21, b1, x2, 1);
            c30 = FmaLane(c30, b0, x3, 1); c31 = FmaLane(c31, b1, x3, 1);
            c40 = FmaLane(c40, b0, x4, 1); c41 = FmaLane(c41, b1, x4, 1);
            c50 = FmaLane(c50, b0, x5, 1); c51 = FmaLane(c51, b1, x5, 1);
            c60 = FmaLane(c60, b0, x6, 1); c61 = FmaLane(c61, b1, x6, 1);
            c70 = FmaLane(c70, b0, x7, 1); c71 = FmaLane(c71, b1, x7, 1);

            b0 = Vector128.Load(packed + 2 * PanelWidth); b1 = Vector128.Load(packed + 2 * PanelWidth + 4);
            c00 = FmaLane(c00, b0, x0, 2); c01 = FmaLane(c01, b1, x0, 2);
            c10 = FmaLane(c10, b0, x1, 2); c11 = FmaLane(c11, b1, x1, 2);
            c20 = FmaLane(c20, b0, x2, 2); c21 = FmaLane(c21, b1, x2, 2);
            c30 = FmaLane(c30, b0, x3, 2); c31 = FmaLane(c31, b1, x3, 2);
            c40 = FmaLane(c40, b0, x4, 2); c41 = FmaLane(c41, b1, x4, 2);
            c50 = FmaLane(c50, b0, x5, 2); c51 = FmaLane(c51, b1, x5, 2);
            c60 = FmaLane(c60, b0, x6, 2); c61 = FmaLane(c61, b1, x6, 2);
            c70 = FmaLane(c70, b0, x7, 2); c71 = FmaLane(c71, b1, x7, 2);

            b0 = Vector128.Load(packed + 3 * PanelWidth); b1 = Vector128.Load(packed + 3 * PanelWidth + 4);
            c00 = FmaLane(c00, b0, x0, 3); c01 = FmaLane(c01, b1, x0, 3);
            c10 = FmaLane(c10, b0, x1, 3); c11 = FmaLane(c11, b1, x1, 3);
            c20 = FmaLane(c20, b0, x2, 3); c21 = FmaLane(c21, b1, x2, 3);
            c30 = FmaLane(c30, b0, x3, 3); c31 = FmaLane(c31, b1, x3, 3);
            c40 = FmaLane(c40, b0, x4, 3); c41 = FmaLane(c41, b1, x4, 3);
            c50 = FmaLane(c50, b0, x5, 3); c51 = FmaLane(c51, b1, x5, 3);
            c60 = FmaLane(c60, b0, x6, 3); c61 = FmaLane(c61, b1, x6, 3);
            c70 = FmaLane(c70, b0, x7, 3); c71 = FmaLane(c71, b1, x7, 3);
            packed += 4 * PanelWidth;
        }

        for (; k < kc; k++)
        {
            // The last kc % 4 steps: lane 0 of a one-float load (the row may end here).
            Vector128<float> b0 = Vector128.Load(packed), b1 = Vector128.Load(packed + 4);
            packed += PanelWidth;
            Vector128<float> x0 = Vector128.CreateScalarUnsafe(a0[k]), x1 = Vector128.CreateScalarUnsafe(a1[k]);
            Vector128<float> x2 = Vector128.CreateScalarUnsafe(a2[k]), x3 = Vector128.CreateScalarUnsafe(a3[k]);
            Vector128<float> x4 = Vector128.CreateScalarUnsafe(a4[k]), x5 = Vector128.CreateScalarUnsafe(a5[k]);
            Vector128<float> x6 = Vector128.CreateScalarUnsafe(a6[k]), x7 = Vector128.CreateScalarUnsafe(a7[k]);
            c00 = FmaLane(c00, b0, x0, 0); c01 = FmaLane(c01, b1, x0, 0);
            c10 = FmaLane(c10, b0, x1, 0); c11 = FmaLane(c11, b1, x1, 0);
            c20 = FmaLane(c20, b0, x2, 0); c21 = FmaLane(c21, b1, x2, 0);
            c30 = FmaLane(c30, b0, x3, 0); c31 = FmaLane(c31, b1, x3, 0);
            c40 = FmaLane(c40, b0, x4, 0); c41 = FmaLane(c41, b1, x4, 0);
            c50 = FmaLane(c50, b0, x5, 0); c51 = FmaLane(c51, b1, x5, 0);
            c60 = FmaLane(c60, b0, x6, 0); c61 = FmaLane(c61, b1, x6, 0);
            c70 = FmaLane(c70, b0, x7, 0); c71 = FmaLane(c71, b1, x7, 0);
        }

        // Only the valid rows: callers' tiles may end right after them (attention keeps 8-row tiles per key panel).
        c00.Store(tile + 0);
        c01.Store(tile + 4);
        if (rows > 1) { c10.Store(tile + 32); c11.Store(tile + 36); }
        if (rows > 2) { c20.Store(tile + 64); c21.Store(tile + 68); }
        if (rows > 3) { c30.Store(tile + 96); c31.Store(tile + 100); }
        if (rows > 4) { c40.Store(tile + 128); c41.Store(tile + 132); }
        if (rows > 5) { c50.Store(tile + 160); c51.Store(tile + 164); }
        if (rows > 6) { c60.Store(tile + 192); c61.Store(tile + 196); }
        if (rows > 7) { c70.Store(tile + 224); c71.Store(tile + 228); }
    }

    /// <summary>acc + b·x[lane] (FMLA by element on AArch64; a broadcast and a multiply-add elsewhere).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> FmaLane(Vector128<float> acc, Vector128<float> b, Vector128<float> x, [ConstantExpected(Max = 3)] byte lane)
    {
        if (AdvSimd.Arm64.IsSupported)
        {
            return AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(acc, b, x, lane);
        }

        return Vector128.MultiplyAddEstimate(b, Vector128.Create(x.GetElement(lane)), acc);
    }
}
