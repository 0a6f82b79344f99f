// Gemm.Fma256: the AVX2 + FMA microkernel (x86-64-v3 machines, or AVX-512 switched off). 6 rows × 2 ymm = 12
// accumulators of the 16 ymm registers, 2 packed loads and 6 broadcasts per 12 FMAs; the driver walks it across the two
// 16-column halves of a 32-column panel, in 6-row blocks. The generic 4 × 2-vector kernel (Gemm.Portable.cs) holds only
// 8 accumulators and reached 30–45 % of the FMA peak here with AVX-512 off (ymm FMAs have half the zmm peak on this Zen 5: 122–124 against 242–248 GFLOP/s per core).
// Written out by hand like the AVX-512 kernels, with two moving row pointers and row offsets so that the JIT keeps every
// pointer in a register.
using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AotVit.Runtime.Kernels;

public static unsafe partial class Gemm
{
    /// <summary>
    /// tile[r, 0..16) (+)= Σ_{k &lt; kc} a[r, k]·packed[k, 0..16), r &lt; rows ≤ 6. Rows past <paramref name="rows"/> repeat the
    /// last valid row in registers and are not stored. Also prefetches into L2 the line at prefetch + k·PrefetchStep.
    /// </summary>
    /// <param name="a">[rows, kc] row stride lda</param>
    /// <param name="packed">[kc, 32], already offset to the first of the 16 columns</param>
    /// <param name="tile">[rows, 32], already offset to the first of the 16 columns</param>
    private static void Gemm_f32_6x16_Fma256Broadcast(int kc, float* a, long lda, int rows, float* packed, float* tile, bool accumulate,
        float* prefetch)
    {
        Debug.Assert(rows is >= 1 and <= 6 && kc >= 1);
        // Row r reads a[min(r, rows − 1)]: rows 0–2 from `top` at offsets 0, l1, l2; rows 3–5 from `bottom` at 0, l4, l5.
        int last = rows - 1;
        long l1 = Math.Min(1, last) * lda, l2 = Math.Min(2, last) * lda;
        int row3 = Math.Min(3, last);
        long l4 = (Math.Min(4, last) - row3) * lda, l5 = (Math.Min(5, last) - row3) * lda;
        float* top = a, bottom = a + row3 * lda, end = a + kc;
        Vector256<float> c00, c01;
        Vector256<float> c10, c11;
        Vector256<float> c20, c21;
        Vector256<float> c30, c31;
        Vector256<float> c40, c41;
        Vector256<float> c50, c51;
        if (accumulate)
        {
            c00 = Vector256.Load(tile + 0);
            c01 = Vector256.Load(tile + 8);
            c10 = Vector256.Load(tile + 32);
            c11 = Vector256.Load(tile + 40);
            c20 = Vector256.Load(tile + 64);
            c21 = Vector256.Load(tile + 72);
            c30 = Vector256.Load(tile + 96);
            c31 = Vector256.Load(tile + 104);
            c40 = Vector256.Load(tile + 128);
            c41 = Vector256.Load(tile + 136);
            c50 = Vector256.Load(tile + 160);
            c51 = Vector256.Load(tile + 168);
        }
        else
        {
            c00 = Vector256<float>.Zero;
            c01 = Vector256<float>.Zero;
            c10 = Vector256<float>.Zero;
            c11 = Vector256<float>.Zero;
            c20 = Vector256<float>.Zero;
            c21 = Vector256<float>.Zero;
            c30 = Vector256<float>.Zero;
            c31 = Vector256<float>.Zero;
            c40 = Vector256<float>.Zero;
            c41 = Vector256<float>.Zero;
            c50 = Vector256<float>.Zero;
            c51 = Vector256<float>.Zero;
        }

        for (; top < end; top++, bottom++)
        {
            // c[r, j] += a[r, k]·packed[k, j]
            Vector256<float> b0 = Vector256.Load(packed);
            Vector256<float> b1 = Vector256.Load(packed + 8);
            packed += PanelWidth;
            Sse.Prefetch1(prefetch);
            prefetch += PrefetchStep;
            Vector256<float> x0 = Vector256.Create(top[0]);
            c00 = Fma.MultiplyAdd(x0, b0, c00);
            c01 = Fma.MultiplyAdd(x0, b1, c01);
            Vector256<float> x1 = Vector256.Create(top[l1]);
            c10 = Fma.MultiplyAdd(x1, b0, c10);
            c11 = Fma.MultiplyAdd(x1, b1, c11);
            Vector256<float> x2 = Vector256.Create(top[l2]);
            c20 = Fma.MultiplyAdd(x2, b0, c20);
            c21 = Fma.MultiplyAdd(x2, b1, c21);
            Vector256<float> x3 = Vector256.Create(bottom[0]);
            c30 = Fma.MultiplyAdd(x3, b0, c30);
            c31 = Fma.MultiplyAdd(x3, b1, c31);
            Vector256<float> x4 = Vector256.Create(bottom[l4]);
            c40 = Fma.MultiplyAdd(x4, b0, c40);
            c41 = Fma.MultiplyAdd(x4, b1, c41);
            Vector256<float> x5 = Vector256.Create(bottom[l5]);
            c50 = Fma.MultiplyAdd(x5, b0, c50);
            c51 = Fma.MultiplyAdd(x5, b1, c51);
        }

        // Only the valid rows: callers' tiles may end right after them (attention keeps 8-row tiles per key panel).
        c00.Store(tile + 0);
        c01.Store(tile + 8);
        if (rows > 1)
        {
            c10.Store(tile + 32);
            c11.Store(tile + 40);
        }

        if (rows > 2)
        {
            c20.Store(tile + 64);
            c21.Store(tile + 72);
        }

        if (rows > 3)
        {
            c30.Store(tile + 96);
            c31.Store(tile + 104);
        }

        if (rows > 4)
        {
            c40.Store(tile + 128);
            c41.Store(tile + 136);
        }

        if (rows > 5)
        {
            c50.Store(tile + 160);
            c51.Store(tile + 168);
        }
    }
}
