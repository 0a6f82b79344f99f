// Epilogue: the fused tail of GEMM and convolution outputs, y = act(x + bias) + residual over one row.
// Remainder policy (all drivers in this folder): widest accelerated width first, then each narrower width once,
// then scalar. No overlapping last vector, so in-place use (residual or x aliasing y) is always safe.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AotVit.Runtime.Kernels.Common;

internal static unsafe class Epilogue
{
    /// <summary>y[j] = act(x[j] + bias[j]) + residual[j], j &lt; count. bias/residual may be null; any pointer may alias y.</summary>
    /// <param name="x">[count] pre-activation sums</param>
    /// <param name="bias">[count] or null</param>
    /// <param name="residual">[count] or null</param>
    /// <param name="y">[count] output</param>
    public static void Row(float* x, float* bias, Activation act, float* residual, float* y, int count)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            j = RowVectors<Vector512Ops, Vector512<float>>(j, x, bias, act, residual, y, count);
        }

        if (Vector256.IsHardwareAccelerated)
        {
            j = RowVectors<Vector256Ops, Vector256<float>>(j, x, bias, act, residual, y, count);
        }

        if (Vector128.IsHardwareAccelerated)
        {
            j = RowVectors<Vector128Ops, Vector128<float>>(j, x, bias, act, residual, y, count);
        }

        for (; j < count; j++)
        {
            float value = x[j];
            if (bias != null)
            {
                value += bias[j];
            }

            value = ActivationMath.Apply(act, value);
            if (residual != null)
            {
                value += residual[j];
            }

            y[j] = value;
        }
    }

    // Processes whole vectors from j while they fit; returns the first unprocessed index.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RowVectors<TOps, TVec>(int j, float* x, float* bias, Activation act, float* residual, float* y, int count)
        where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        for (; j <= count - TOps.Count; j += TOps.Count)
        {
            // y = act(x + bias) + residual
            TVec value = TOps.Load(x + j);
            if (bias != null)
            {
                value = TOps.Add(value, TOps.Load(bias + j));
            }

            value = ActivationMath.Apply<TOps, TVec>(act, value);
            if (residual != null)
            {
                value = TOps.Add(value, TOps.Load(residual + j));
            }

            TOps.Store(value, y + j);
        }

        return j;
    }

    /// <summary>
    /// y[r, j] = act(tile[r, j] + bias[j]) + residual[r, j] for r &lt; rows, j &lt; 32: one whole GEMM panel tile in a
    /// single call, with the activation chosen once outside the row loop (Vector512 only; callers check).
    /// </summary>
    /// <param name="tile">[rows, 32]</param>
    /// <param name="bias">[32] or null</param>
    /// <param name="residual">[rows, 32] row stride ldr, or null; may alias y</param>
    /// <param name="y">[rows, 32] row stride ldy</param>
    public static void Panel512(float* tile, int rows, float* bias, Activation act, float* residual, long ldr, float* y, long ldy)
    {
        switch (act)
        {
            case Activation.Silu:
                Panel512<SiluActivation>(tile, rows, bias, residual, ldr, y, ldy);
                break;
            case Activation.Gelu:
                Panel512<GeluActivation>(tile, rows, bias, residual, ldr, y, ldy);
                break;
            case Activation.Tanh:
                Panel512<TanhActivation>(tile, rows, bias, residual, ldr, y, ldy);
                break;
            default:
                Panel512<NoActivation>(tile, rows, bias, residual, ldr, y, ldy);
                break;
        }
    }

    private static void Panel512<TAct>(float* tile, int rows, float* bias, float* residual, long ldr, float* y, long ldy)
        where TAct : struct, IActivation512
    {
        Vector512<float> bias0 = bias != null ? Vector512.Load(bias) : Vector512<float>.Zero;
        Vector512<float> bias1 = bias != null ? Vector512.Load(bias + 16) : Vector512<float>.Zero;
        for (int r = 0; r < rows; r++, tile += 32, y += ldy)
        {
            Row512<TAct>(Vector512.Load(tile) + bias0, Vector512.Load(tile + 16) + bias1, residual != null ? residual + r * ldr : null, y);
        }
    }

    /// <summary>y[0..32) = act(x0 | x1) + residual[0..32): one 32-column row, the sums already biased (residual may be null or alias y).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Row512<TAct>(Vector512<float> x0, Vector512<float> x1, float* residual, float* y)
        where TAct : struct, IActivation512
    {
        Vector512<float> y0 = TAct.Apply(x0), y1 = TAct.Apply(x1);
        if (residual != null)
        {
            y0 += Vector512.Load(residual);
            y1 += Vector512.Load(residual + 16);
        }

        y0.Store(y);
        y1.Store(y + 16);
    }

    internal interface IActivation512
    {
        static abstract Vector512<float> Apply(Vector512<float> x);
    }

    internal struct NoActivation : IActivation512
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Apply(Vector512<float> x) => x;
    }

    internal struct SiluActivation : IActivation512
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Apply(Vector512<float> x) => ActivationMath.Apply<Vector512Ops, Vector512<float>>(Activation.Silu, x);
    }

    internal struct GeluActivation : IActivation512
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Apply(Vector512<float> x) => ActivationMath.Apply<Vector512Ops, Vector512<float>>(Activation.Gelu, x);
    }

    internal struct TanhActivation : IActivation512
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Apply(Vector512<float> x) => ActivationMath.Apply<Vector512Ops, Vector512<float>>(Activation.Tanh, x);
    }
}

/// <summary>
/// An activation chosen at compile time for a width-generic vector loop: the kernel is instantiated per activation, so
/// that only that activation is inlined (the run-time <see cref="Activation"/> switch inlines every activation at each
/// call site, which exhausts the JIT's inlining budget in a loop with several call sites).
/// </summary>
internal interface IVectorActivation
{
    static abstract TVec Apply<TOps, TVec>(TVec x) where TOps : struct, IVectorOps<TVec> where TVec : struct;
}

internal static class VectorActivation
{
    internal struct None : IVectorActivation
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVec Apply<TOps, TVec>(TVec x) where TOps : struct, IVectorOps<TVec> where TVec : struct => x;
    }

    internal struct Silu : IVectorActivation
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVec Apply<TOps, TVec>(TVec x) where TOps : struct, IVectorOps<TVec> where TVec : struct =>
            ActivationMath.Apply<TOps, TVec>(Activation.Silu, x);
    }
}
