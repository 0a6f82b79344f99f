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
}
