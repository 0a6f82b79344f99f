// Elementwise: flat n-element kernels (residual adds outside a GEMM, standalone activations).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using AotVit.Runtime.Kernels.Common;

namespace AotVit.Runtime.Kernels;

/// <summary>Element-wise kernels over n contiguous floats. Outputs may alias inputs.</summary>
/// <remarks>Infrastructure for the generated model code (AotVit.Models.*), public because that code lives in another
/// assembly; not part of the supported API (use VisionModel, ImageClassifier, FeatureExtractor).</remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static unsafe class Elementwise
{
    /// <summary>y[i] = a[i] + b[i]</summary>
    /// <param name="a">[n]</param>
    /// <param name="b">[n]</param>
    /// <param name="y">[n], may alias a or b</param>
    public static void Add(int n, float* a, float* b, float* y)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            i = AddVectors<Vector512Ops, Vector512<float>>(i, n, a, b, y);
        }

        if (Vector256.IsHardwareAccelerated)
        {
            i = AddVectors<Vector256Ops, Vector256<float>>(i, n, a, b, y);
        }

        if (Vector128.IsHardwareAccelerated)
        {
            i = AddVectors<Vector128Ops, Vector128<float>>(i, n, a, b, y);
        }

        for (; i < n; i++)
        {
            y[i] = a[i] + b[i];
        }
    }

    /// <summary>y[i] = act(x[i])</summary>
    /// <param name="x">[n]</param>
    /// <param name="y">[n], may alias x</param>
    public static void Apply(Activation act, int n, float* x, float* y) => Epilogue.Row(x, null, act, null, y, n);

    /// <summary>Scalar oracle for <see cref="Add"/>.</summary>
    public static void ReferenceAdd(int n, float* a, float* b, float* y)
    {
        for (int i = 0; i < n; i++)
        {
            y[i] = a[i] + b[i];
        }
    }

    /// <summary>Scalar oracle for <see cref="Apply"/>, in double precision with the libm erf/exp/tanh.</summary>
    public static void ReferenceApply(Activation act, int n, float* x, float* y)
    {
        for (int i = 0; i < n; i++)
        {
            y[i] = (float)Reference(act, x[i]);
        }
    }

    /// <summary>act(x) in double precision: the oracle for the float activations.</summary>
    public static double Reference(Activation act, double x) => act switch
    {
        Activation.Gelu => 0.5 * x * (1 + ReferenceErf(x / Math.Sqrt(2))),
        Activation.Silu => x / (1 + Math.Exp(-x)),
        Activation.Tanh => Math.Tanh(x),
        _ => x,
    };

    /// <summary>erf(x) in double precision (Abramowitz–Stegun 7.1.5 series for |x| &lt; 3, continued fraction beyond).</summary>
    public static double ReferenceErf(double x)
    {
        double a = Math.Abs(x);
        double result;
        if (a < 3)
        {
            // erf(a) = 2/√π·e^(−a²)·Σ 2ⁿ·a^(2n+1)/(1·3·…·(2n+1))
            double term = a, sum = a;
            for (int n = 1; n < 200 && term > 1e-18 * sum; n++)
            {
                term *= 2 * a * a / (2 * n + 1);
                sum += term;
            }

            result = 2 / Math.Sqrt(Math.PI) * Math.Exp(-a * a) * sum;
        }
        else
        {
            // erfc(a) = e^(−a²)/√π · 1/(a + 1/2/(a + 1/(a + 3/2/(a + …))))
            double fraction = a;
            for (int n = 60; n >= 1; n--)
            {
                fraction = a + n / 2.0 / fraction;
            }

            result = 1 - Math.Exp(-a * a) / Math.Sqrt(Math.PI) / fraction;
        }

        return Math.CopySign(result, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int AddVectors<TOps, TVec>(int i, int n, float* a, float* b, float* y)
        where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        for (; i <= n - TOps.Count; i += TOps.Count)
        {
            TOps.Store(TOps.Add(TOps.Load(a + i), TOps.Load(b + i)), y + i);
        }

        return i;
    }
}
