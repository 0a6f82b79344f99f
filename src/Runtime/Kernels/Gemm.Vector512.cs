// Gemm.Vector512: the AVX-512 microkernels (32 zmm registers: up to 16 accumulators + 2 packed rows + broadcasts).
// Written out by hand, one accumulator per local: no arrays, stackalloc or calls, so neither the JIT nor ILC spills them.
// Each k step also issues one prefetcht1 (half a cache line further each step): the driver points it at the next B block, which
// otherwise arrives from DRAM only when the first row block demands it (ViT at batch 1 streams 350 MB of weights).
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotVit.Runtime.Kernels.Common;

namespace AotVit.Runtime.Kernels;

public static unsafe partial class Gemm
{
    /// <summary>
    /// tile[r, 0..32) (+)= Σ_{k &lt; kc} a[r, k]·packed[k, 0..32), r &lt; 8: 8 rows × 2 zmm = 16 accumulators,
    /// per k two packed loads and 8 broadcasts of a. Rows past <paramref name="rows"/> repeat the last valid row.
    /// </summary>
    /// <param name="a">[rows, kc] row stride lda</param>
    /// <param name="packed">[kc, 32]</param>
    /// <param name="tile">[8, 32]</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Gemm_f32_8x32_Fma512Broadcast(int kc, float* a, long lda, int rows, float* packed, float* tile, bool accumulate,
        float* prefetch) =>
        Gemm_f32_8x32_Fma512<TileSums>(kc, a, lda, rows, packed, prefetch, accumulate, null, null, 0, tile, PanelWidth);

    /// <summary>
    /// c[r, 0..32) = act(Σ_{k &lt; kc} a[r, k]·packed[k, 0..32) + bias) + residual[r, 0..32) for r &lt; rows (≤ 8): the 8×32
    /// kernel for a GEMM whose whole K is one k-block, with the epilogue applied to the accumulators in registers instead
    /// of a round trip through the tile (16 stores, then 16 loads in <see cref="Epilogue.Panel512"/>), which costs most
    /// where K is small: MobileViT's 1×1 convolutions (K = 16…256) and transformer GEMMs (K = 144…240).
    /// Rows past <paramref name="rows"/> are computed from the last valid row and not stored.
    /// </summary>
    /// <param name="a">[rows, kc] row stride lda</param>
    /// <param name="packed">[kc, 32]</param>
    /// <param name="bias">[32] or null</param>
    /// <param name="residual">[rows, 32] row stride ldr, or null; may alias c</param>
    /// <param name="c">[rows, 32] row stride ldc</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Gemm_f32_8x32_Fma512Direct<TAct>(int kc, float* a, long lda, int rows, float* packed, float* prefetch,
        float* bias, float* residual, long ldr, float* c, long ldc) where TAct : struct, Epilogue.IActivation512 =>
        Gemm_f32_8x32_Fma512<TAct>(kc, a, lda, rows, packed, prefetch, false, bias, residual, ldr, c, ldc);

    /// <summary>The tile as the destination of <see cref="Gemm_f32_8x32_Fma512{TOut}"/>: raw sums, all 8 rows, no epilogue.</summary>
    private struct TileSums : Epilogue.IActivation512
    {
        public static Vector512<float> Apply(Vector512<float> x) => x;
    }

    /// <summary>
    /// The 8×32 AVX-512 kernel behind both entry points above, one instantiation per destination (the JIT and ILC fold the
    /// typeof tests): TileSums starts from the tile when <paramref name="accumulate"/> and stores all 8 rows of raw sums to
    /// it (c with stride 32); an activation type adds bias, applies it, adds the residual and stores the valid rows to c.
    /// </summary>
    private static void Gemm_f32_8x32_Fma512<TOut>(int kc, float* a, long lda, int rows, float* packed, float* prefetch, bool accumulate,
        float* bias, float* residual, long ldr, float* c, long ldc) where TOut : struct, Epilogue.IActivation512
    {
        Debug.Assert(rows is >= 1 and <= 8 && kc >= 1);
        float* a0 = a;
        float* a1 = rows > 1 ? a0 + lda : a0;
        float* a2 = rows > 2 ? a1 + lda : a1;
        float* a3 = rows > 3 ? a2 + lda : a2;
        float* a4 = rows > 4 ? a3 + lda : a3;
        float* a5 = rows > 5 ? a4 + lda : a4;
        float* a6 = rows > 6 ? a5 + lda : a5;
        float* a7 = rows > 7 ? a6 + lda : a6;
        Vector512<float> c00, c01;
        Vector512<float> c10, c11;
        Vector512<float> c20, c21;
        Vector512<float> c30, c31;
        Vector512<float> c40, c41;
        Vector512<float> c50, c51;
        Vector512<float> c60, c61;
        Vector512<float> c70, c71;
        if (typeof(TOut) == typeof(TileSums) && accumulate)
        {
            c00 = Vector512.Load(c + 0);
            c01 = Vector512.Load(c + 16);
            c10 = Vector512.Load(c + 32);
            c11 = Vector512.Load(c + 48);
            c20 = Vector512.Load(c + 64);
            c21 = Vector512.Load(c + 80);
            c30 = Vector512.Load(c + 96);
            c31 = Vector512.Load(c + 112);
            c40 = Vector512.Load(c + 128);
            c41 = Vector512.Load(c + 144);
            c50 = Vector512.Load(c + 160);
            c51 = Vector512.Load(c + 176);
            c60 = Vector512.Load(c + 192);
            c61 = Vector512.Load(c + 208);
            c70 = Vector512.Load(c + 224);
            c71 = Vector512.Load(c + 240);
        }
        else
        {
            c00 = Vector512<float>.Zero;
            c01 = Vector512<float>.Zero;
            c10 = Vector512<float>.Zero;
            c11 = Vector512<float>.Zero;
            c20 = Vector512<float>.Zero;
            c21 = Vector512<float>.Zero;
            c30 = Vector512<float>.Zero;
            c31 = Vector512<float>.Zero;
            c40 = Vector512<float>.Zero;
            c41 = Vector512<float>.Zero;
            c50 = Vector512<float>.Zero;
            c51 = Vector512<float>.Zero;
            c60 = Vector512<float>.Zero;
            c61 = Vector512<float>.Zero;
            c70 = Vector512<float>.Zero;
            c71 = Vector512<float>.Zero;
        }

        for (int k = 0; k < kc; k++)
        {
            // c[r, j] += a[r, k]·packed[k, j]
            Vector512<float> b0 = Vector512.Load(packed);
            Vector512<float> b1 = Vector512.Load(packed + 16);
            packed += PanelWidth;
            Sse.Prefetch1(prefetch);
            prefetch += PrefetchStep;
            Vector512<float> x0 = Vector512.Create(a0[k]);
            c00 = Vector512.FusedMultiplyAdd(x0, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(x0, b1, c01);
            Vector512<float> x1 = Vector512.Create(a1[k]);
            c10 = Vector512.FusedMultiplyAdd(x1, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(x1, b1, c11);
            Vector512<float> x2 = Vector512.Create(a2[k]);
            c20 = Vector512.FusedMultiplyAdd(x2, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(x2, b1, c21);
            Vector512<float> x3 = Vector512.Create(a3[k]);
            c30 = Vector512.FusedMultiplyAdd(x3, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(x3, b1, c31);
            Vector512<float> x4 = Vector512.Create(a4[k]);
            c40 = Vector512.FusedMultiplyAdd(x4, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(x4, b1, c41);
            Vector512<float> x5 = Vector512.Create(a5[k]);
            c50 = Vector512.FusedMultiplyAdd(x5, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(x5, b1, c51);
            Vector512<float> x6 = Vector512.Create(a6[k]);
            c60 = Vector512.FusedMultiplyAdd(x6, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(x6, b1, c61);
            Vector512<float> x7 = Vector512.Create(a7[k]);
            c70 = Vector512.FusedMultiplyAdd(x7, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(x7, b1, c71);
        }

        if (typeof(TOut) == typeof(TileSums))
        {
            c00.Store(c + 0);
            c01.Store(c + 16);
            c10.Store(c + 32);
            c11.Store(c + 48);
            c20.Store(c + 64);
            c21.Store(c + 80);
            c30.Store(c + 96);
            c31.Store(c + 112);
            c40.Store(c + 128);
            c41.Store(c + 144);
            c50.Store(c + 160);
            c51.Store(c + 176);
            c60.Store(c + 192);
            c61.Store(c + 208);
            c70.Store(c + 224);
            c71.Store(c + 240);
            return;
        }

        Vector512<float> bias0 = bias != null ? Vector512.Load(bias) : Vector512<float>.Zero;
        Vector512<float> bias1 = bias != null ? Vector512.Load(bias + 16) : Vector512<float>.Zero;
        Epilogue.Row512<TOut>(c00 + bias0, c01 + bias1, residual, c);
        if (rows > 1) Epilogue.Row512<TOut>(c10 + bias0, c11 + bias1, residual != null ? residual + ldr : null, c + ldc);
        if (rows > 2) Epilogue.Row512<TOut>(c20 + bias0, c21 + bias1, residual != null ? residual + 2 * ldr : null, c + 2 * ldc);
        if (rows > 3) Epilogue.Row512<TOut>(c30 + bias0, c31 + bias1, residual != null ? residual + 3 * ldr : null, c + 3 * ldc);
        if (rows > 4) Epilogue.Row512<TOut>(c40 + bias0, c41 + bias1, residual != null ? residual + 4 * ldr : null, c + 4 * ldc);
        if (rows > 5) Epilogue.Row512<TOut>(c50 + bias0, c51 + bias1, residual != null ? residual + 5 * ldr : null, c + 5 * ldc);
        if (rows > 6) Epilogue.Row512<TOut>(c60 + bias0, c61 + bias1, residual != null ? residual + 6 * ldr : null, c + 6 * ldc);
        if (rows > 7) Epilogue.Row512<TOut>(c70 + bias0, c71 + bias1, residual != null ? residual + 7 * ldr : null, c + 7 * ldc);
    }

    /// <summary><see cref="Gemm_f32_8x32_Fma512Direct{TAct}"/> for the activation <paramref name="act"/>.</summary>
    private static void Direct8x32(Activation act, int kc, float* a, long lda, int rows, float* packed, float* prefetch,
        float* bias, float* residual, long ldr, float* c, long ldc)
    {
        switch (act)
        {
            case Activation.Silu:
                Gemm_f32_8x32_Fma512Direct<Epilogue.SiluActivation>(kc, a, lda, rows, packed, prefetch, bias, residual, ldr, c, ldc);
                break;
            case Activation.Gelu:
                Gemm_f32_8x32_Fma512Direct<Epilogue.GeluActivation>(kc, a, lda, rows, packed, prefetch, bias, residual, ldr, c, ldc);
                break;
            case Activation.Tanh:
                Gemm_f32_8x32_Fma512Direct<Epilogue.TanhActivation>(kc, a, lda, rows, packed, prefetch, bias, residual, ldr, c, ldc);
                break;
            default:
                Gemm_f32_8x32_Fma512Direct<Epilogue.NoActivation>(kc, a, lda, rows, packed, prefetch, bias, residual, ldr, c, ldc);
                break;
        }
    }

    /// <summary>
    /// tile[r, 0..32) (+)= Σ_{k &lt; kc} a[r, k]·packed[k, 0..32), r &lt; 4: 4 rows × 2 zmm = 8 accumulators,
    /// per k two packed loads and 4 broadcasts of a. Rows past <paramref name="rows"/> repeat the last valid row.
    /// </summary>
    /// <param name="a">[rows, kc] row stride lda</param>
    /// <param name="packed">[kc, 32]</param>
    /// <param name="tile">[4, 32]</param>
    private static void Gemm_f32_4x32_Fma512Broadcast(int kc, float* a, long lda, int rows, float* packed, float* tile, bool accumulate,
        float* prefetch)
    {
        Debug.Assert(rows is >= 1 and <= 4 && kc >= 1);
        float* a0 = a;
        float* a1 = rows > 1 ? a0 + lda : a0;
        float* a2 = rows > 2 ? a1 + lda : a1;
        float* a3 = rows > 3 ? a2 + lda : a2;
        Vector512<float> c00, c01;
        Vector512<float> c10, c11;
        Vector512<float> c20, c21;
        Vector512<float> c30, c31;
        if (accumulate)
        {
            c00 = Vector512.Load(tile + 0);
            c01 = Vector512.Load(tile + 16);
            c10 = Vector512.Load(tile + 32);
            c11 = Vector512.Load(tile + 48);
            c20 = Vector512.Load(tile + 64);
            c21 = Vector512.Load(tile + 80);
            c30 = Vector512.Load(tile + 96);
            c31 = Vector512.Load(tile + 112);
        }
        else
        {
            c00 = Vector512<float>.Zero;
            c01 = Vector512<float>.Zero;
            c10 = Vector512<float>.Zero;
            c11 = Vector512<float>.Zero;
            c20 = Vector512<float>.Zero;
            c21 = Vector512<float>.Zero;
            c30 = Vector512<float>.Zero;
            c31 = Vector512<float>.Zero;
        }

        for (int k = 0; k < kc; k++)
        {
            // c[r, j] += a[r, k]·packed[k, j]
            Vector512<float> b0 = Vector512.Load(packed);
            Vector512<float> b1 = Vector512.Load(packed + 16);
            packed += PanelWidth;
            Sse.Prefetch1(prefetch);
            prefetch += PrefetchStep;
            Vector512<float> x0 = Vector512.Create(a0[k]);
            c00 = Vector512.FusedMultiplyAdd(x0, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(x0, b1, c01);
            Vector512<float> x1 = Vector512.Create(a1[k]);
            c10 = Vector512.FusedMultiplyAdd(x1, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(x1, b1, c11);
            Vector512<float> x2 = Vector512.Create(a2[k]);
            c20 = Vector512.FusedMultiplyAdd(x2, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(x2, b1, c21);
            Vector512<float> x3 = Vector512.Create(a3[k]);
            c30 = Vector512.FusedMultiplyAdd(x3, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(x3, b1, c31);
        }

        c00.Store(tile + 0);
        c01.Store(tile + 16);
        c10.Store(tile + 32);
        c11.Store(tile + 48);
        c20.Store(tile + 64);
        c21.Store(tile + 80);
        c30.Store(tile + 96);
        c31.Store(tile + 112);
    }

    /// <summary>
    /// tile[r, 0..16) (+)= Σ_{k &lt; kc} a[r, k]·packed[k, 0..16), r &lt; 8: the left half of a panel, for a last panel with
    /// at most 16 columns (N mod 32 in 1..16), whose right half is zero padding: 8 accumulators, per k one packed load and
    /// 8 broadcasts, half the multiply-adds of the 8×32 kernel. Tile columns 16..32 are not written. Rows past
    /// <paramref name="rows"/> repeat the last valid row.
    /// </summary>
    /// <param name="a">[rows, kc] row stride lda</param>
    /// <param name="packed">[kc, 32]</param>
    /// <param name="tile">[8, 32]</param>
    private static void Gemm_f32_8x16_Fma512Broadcast(int kc, float* a, long lda, int rows, float* packed, float* tile, bool accumulate,
        float* prefetch)
    {
        Debug.Assert(rows is >= 1 and <= 8 && kc >= 1);
        float* a0 = a;
        float* a1 = rows > 1 ? a0 + lda : a0;
        float* a2 = rows > 2 ? a1 + lda : a1;
        float* a3 = rows > 3 ? a2 + lda : a2;
        float* a4 = rows > 4 ? a3 + lda : a3;
        float* a5 = rows > 5 ? a4 + lda : a4;
        float* a6 = rows > 6 ? a5 + lda : a5;
        float* a7 = rows > 7 ? a6 + lda : a6;
        Vector512<float> c0, c1, c2, c3, c4, c5, c6, c7;
        if (accumulate)
        {
            c0 = Vector512.Load(tile + 0);
            c1 = Vector512.Load(tile + 32);
            c2 = Vector512.Load(tile + 64);
            c3 = Vector512.Load(tile + 96);
            c4 = Vector512.Load(tile + 128);
            c5 = Vector512.Load(tile + 160);
            c6 = Vector512.Load(tile + 192);
            c7 = Vector512.Load(tile + 224);
        }
        else
        {
            c0 = Vector512<float>.Zero;
            c1 = Vector512<float>.Zero;
            c2 = Vector512<float>.Zero;
            c3 = Vector512<float>.Zero;
            c4 = Vector512<float>.Zero;
            c5 = Vector512<float>.Zero;
            c6 = Vector512<float>.Zero;
            c7 = Vector512<float>.Zero;
        }

        for (int k = 0; k < kc; k++)
        {
            // c[r, j] += a[r, k]·packed[k, j], j < 16
            Vector512<float> b = Vector512.Load(packed);
            packed += PanelWidth;
            Sse.Prefetch1(prefetch);
            prefetch += PrefetchStep;
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[k]), b, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[k]), b, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[k]), b, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[k]), b, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a4[k]), b, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a5[k]), b, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a6[k]), b, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a7[k]), b, c7);
        }

        c0.Store(tile + 0);
        c1.Store(tile + 32);
        c2.Store(tile + 64);
        c3.Store(tile + 96);
        c4.Store(tile + 128);
        c5.Store(tile + 160);
        c6.Store(tile + 192);
        c7.Store(tile + 224);
    }

    /// <summary>
    /// tile[r, 0..32) (+)= Σ_{k &lt; kc} a[r, k]·packed[k, 0..32), r &lt; 10, all 10 rows valid: 10 rows × 2 zmm = 20
    /// accumulators, per k two packed loads and 10 broadcasts of a (20 FMAs per 12 loads against 16 per 10 for 8×32).
    /// The driver uses it when M is a multiple of 10 and not of 8: ViT-B/32 has 50 tokens per image.
    /// </summary>
    /// <param name="a">[10, kc] row stride lda</param>
    /// <param name="packed">[kc, 32]</param>
    /// <param name="tile">[10, 32]</param>
    internal static void Gemm_f32_10x32_Fma512Broadcast(int kc, float* a, long lda, float* packed, float* tile, bool accumulate,
        float* prefetch)
    {
        Debug.Assert(kc >= 1);
        // Two moving row pointers (rows 0 and 5) and row offsets 1–4·lda: 6 registers for the 10 rows of a, so
        // nothing is reloaded from the stack inside the loop (ten separate row pointers did not fit the 16 GPRs).
        float* top = a, bottom = a + 5 * lda, end = a + kc;
        long l1 = lda, l2 = 2 * lda, l3 = 3 * lda, l4 = 4 * lda;
        Vector512<float> c00, c01;
        Vector512<float> c10, c11;
        Vector512<float> c20, c21;
        Vector512<float> c30, c31;
        Vector512<float> c40, c41;
        Vector512<float> c50, c51;
        Vector512<float> c60, c61;
        Vector512<float> c70, c71;
        Vector512<float> c80, c81;
        Vector512<float> c90, c91;
        if (accumulate)
        {
            c00 = Vector512.Load(tile + 0);
            c01 = Vector512.Load(tile + 16);
            c10 = Vector512.Load(tile + 32);
            c11 = Vector512.Load(tile + 48);
            c20 = Vector512.Load(tile + 64);
            c21 = Vector512.Load(tile + 80);
            c30 = Vector512.Load(tile + 96);
            c31 = Vector512.Load(tile + 112);
            c40 = Vector512.Load(tile + 128);
            c41 = Vector512.Load(tile + 144);
            c50 = Vector512.Load(tile + 160);
            c51 = Vector512.Load(tile + 176);
            c60 = Vector512.Load(tile + 192);
            c61 = Vector512.Load(tile + 208);
            c70 = Vector512.Load(tile + 224);
            c71 = Vector512.Load(tile + 240);
            c80 = Vector512.Load(tile + 256);
            c81 = Vector512.Load(tile + 272);
            c90 = Vector512.Load(tile + 288);
            c91 = Vector512.Load(tile + 304);
        }
        else
        {
            c00 = Vector512<float>.Zero;
            c01 = Vector512<float>.Zero;
            c10 = Vector512<float>.Zero;
            c11 = Vector512<float>.Zero;
            c20 = Vector512<float>.Zero;
            c21 = Vector512<float>.Zero;
            c30 = Vector512<float>.Zero;
            c31 = Vector512<float>.Zero;
            c40 = Vector512<float>.Zero;
            c41 = Vector512<float>.Zero;
            c50 = Vector512<float>.Zero;
            c51 = Vector512<float>.Zero;
            c60 = Vector512<float>.Zero;
            c61 = Vector512<float>.Zero;
            c70 = Vector512<float>.Zero;
            c71 = Vector512<float>.Zero;
            c80 = Vector512<float>.Zero;
            c81 = Vector512<float>.Zero;
            c90 = Vector512<float>.Zero;
            c91 = Vector512<float>.Zero;
        }

        for (; top < end; top++, bottom++)
        {
            // c[r, j] += a[r, k]·packed[k, j]
            Vector512<float> b0 = Vector512.Load(packed);
            Vector512<float> b1 = Vector512.Load(packed + 16);
            packed += PanelWidth;
            Sse.Prefetch1(prefetch);
            prefetch += PrefetchStep;
            Vector512<float> x0 = Vector512.Create(top[0]);
            c00 = Vector512.FusedMultiplyAdd(x0, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(x0, b1, c01);
            Vector512<float> x1 = Vector512.Create(top[l1]);
            c10 = Vector512.FusedMultiplyAdd(x1, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(x1, b1, c11);
            Vector512<float> x2 = Vector512.Create(top[l2]);
            c20 = Vector512.FusedMultiplyAdd(x2, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(x2, b1, c21);
            Vector512<float> x3 = Vector512.Create(top[l3]);
            c30 = Vector512.FusedMultiplyAdd(x3, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(x3, b1, c31);
            Vector512<float> x4 = Vector512.Create(top[l4]);
            c40 = Vector512.FusedMultiplyAdd(x4, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(x4, b1, c41);
            Vector512<float> x5 = Vector512.Create(bottom[0]);
            c50 = Vector512.FusedMultiplyAdd(x5, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(x5, b1, c51);
            Vector512<float> x6 = Vector512.Create(bottom[l1]);
            c60 = Vector512.FusedMultiplyAdd(x6, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(x6, b1, c61);
            Vector512<float> x7 = Vector512.Create(bottom[l2]);
            c70 = Vector512.FusedMultiplyAdd(x7, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(x7, b1, c71);
            Vector512<float> x8 = Vector512.Create(bottom[l3]);
            c80 = Vector512.FusedMultiplyAdd(x8, b0, c80);
            c81 = Vector512.FusedMultiplyAdd(x8, b1, c81);
            Vector512<float> x9 = Vector512.Create(bottom[l4]);
            c90 = Vector512.FusedMultiplyAdd(x9, b0, c90);
            c91 = Vector512.FusedMultiplyAdd(x9, b1, c91);
        }

        c00.Store(tile + 0);
        c01.Store(tile + 16);
        c10.Store(tile + 32);
        c11.Store(tile + 48);
        c20.Store(tile + 64);
        c21.Store(tile + 80);
        c30.Store(tile + 96);
        c31.Store(tile + 112);
        c40.Store(tile + 128);
        c41.Store(tile + 144);
        c50.Store(tile + 160);
        c51.Store(tile + 176);
        c60.Store(tile + 192);
        c61.Store(tile + 208);
        c70.Store(tile + 224);
        c71.Store(tile + 240);
        c80.Store(tile + 256);
        c81.Store(tile + 272);
        c90.Store(tile + 288);
        c91.Store(tile + 304);
    }
}
