// Activation: the element-wise non-linearities fused into GEMM/conv epilogues, and their maths (exp, erf).
// Scalar forms use the same polynomials as the vector forms, so every ISA path rounds alike.
// Accuracy (tests/AotVit.Tests/Kernels/ActivationTests.cs): |erf − erf₆₄| ≤ ~1.5e-7, exp ≤ 2 ulp.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using AotVit.Runtime.Kernels.Common;

namespace AotVit.Runtime.Kernels;

/// <summary>Element-wise activation applied by kernel epilogues.</summary>
/// <remarks>Infrastructure for the generated model code (AotVit.Models.*), public because that code lives in another
/// assembly; not part of the supported API (use VisionModel, ImageClassifier, FeatureExtractor).</remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public enum Activation
{
    /// <summary>y = x</summary>
    None,
    /// <summary>y = 0.5·x·(1 + erf(x/√2)) (exact erf GELU, torch's default)</summary>
    Gelu,
    /// <summary>y = x·sigmoid(x) = x / (1 + e^−x)</summary>
    Silu,
    /// <summary>y = tanh(x)</summary>
    Tanh,
}

/// <summary>Scalar and width-generic forms of exp, erf and the <see cref="Activation"/> functions.</summary>
/// <remarks>Infrastructure for the generated model code (AotVit.Models.*), public because that code lives in another
/// assembly; not part of the supported API (use VisionModel, ImageClassifier, FeatureExtractor).</remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static class ActivationMath
{
    // exp: x = n·ln2 + r, |r| ≤ ln2/2, e^r by its degree-7 Taylor polynomial (truncation 6e-9 relative), 2^n via the exponent bits.
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2High = 0.693359375f;          // ln2 split in two (Cody–Waite) so n·Ln2High is exact
    private const float Ln2Low = -2.12194440e-4f;
    private const float ExpMax = 88.3762626647949f;     // n ≤ 127
    private const float ExpMin = -87.33654475f;          // below: result 0 (flush, no denormals)
    private const float Exp7 = 1.0f / 5040, Exp6 = 1.0f / 720, Exp5 = 1.0f / 120, Exp4 = 1.0f / 24, Exp3 = 1.0f / 6, Exp2 = 0.5f;

    // erf, |x| < 1: Taylor series x·Σ cₙ·x²ⁿ, cₙ = 2/√π·(−1)ⁿ/(n!(2n+1)), n ≤ 9 (truncation 1.5e-8).
    private const float ErfT0 = 1.1283791671f, ErfT1 = -3.7612638903e-01f, ErfT2 = 1.1283791671e-01f, ErfT3 = -2.6866170645e-02f,
        ErfT4 = 5.2239776254e-03f, ErfT5 = -8.5483270235e-04f, ErfT6 = 1.2055332982e-04f, ErfT7 = -1.4925650358e-05f,
        ErfT8 = 1.6462114366e-06f, ErfT9 = -1.6365844691e-07f;

    // erf, 1 ≤ |x| < 3.92: erf = 1 − e^(−x²)·g, g = erfc(x)·e^(x²) as a degree-6 polynomial in u = (t − 0.50225)/0.16441,
    // t = 1/(1 + x/2) ∈ [1/3.96, 2/3]: a Chebyshev fit made for this file (max error 3e-9 before float rounding).
    // Beyond 3.92 erf rounds to 1 in float.
    private const float ErfUScale = 1 / 0.16441441441441440f, ErfUOffset = -0.5022522522522522f / 0.16441441441441440f;
    private const float ErfG0 = 0.25732484459877014f, ErfG1 = 0.14118854701519012f, ErfG2 = 0.026245566084980965f,
        ErfG3 = 0.0028101354837417603f, ErfG4 = 4.179350798949599e-05f, ErfG5 = -2.6290028472431004e-05f, ErfG6 = -1.0221779120911378e-06f;
    private const float ErfOne = 3.92f;

    // erf on AVX-512 (Gelu512): a = |x|/√2 ∈ [0, 4) in 16 intervals of width 1/4; u = 4a, i = ⌊u⌋, s = u − i ∈ [0, 1),
    // erf(a) ≈ ErfC0[i] + ErfC1[i]·s + … + ErfC5[i]·s⁵, each row interpolating erf at the interval's 6 Chebyshev nodes.
    // Made by tools/erf_table.py, which also checks the float evaluation: max |error| 5.877e-08 (≈ 1 ulp near 1).
    // Beyond a = 4, erf rounds to 1 in float: u is clamped just below 16, the last interval's end.
    private const float ErfTableScale = 2.8284271247461903f;   // 4/√2: u = 4a = |x|·4/√2
    private const float ErfTableEnd = 15.999999f;             // largest float below 16: index ≤ 15
    private static ReadOnlySpan<float> ErfC0 => [2.320694081e-09f, 2.763263881e-01f, 5.204998851e-01f, 7.111556530e-01f, 8.427007794e-01f, 9.229001403e-01f, 9.661051631e-01f, 9.866716862e-01f, 9.953222871e-01f, 9.985373020e-01f, 9.995930195e-01f, 9.998993874e-01f, 9.999778867e-01f, 9.999957085e-01f, 9.999992847e-01f, 9.999998808e-01f];
    private static ReadOnlySpan<float> ErfC1 => [2.820946276e-01f, 2.650031149e-01f, 2.196952701e-01f, 1.607326567e-01f, 1.037769914e-01f, 5.913047120e-02f, 2.973270230e-02f, 1.319378987e-02f, 5.166733172e-03f, 1.785553060e-03f, 5.445510615e-04f, 1.465589012e-04f, 3.480904707e-05f, 7.295867363e-06f, 1.349475269e-06f, 2.202695839e-07f];
    private static ReadOnlySpan<float> ErfC2 => [1.895566697e-06f, -1.655783318e-02f, -2.745764330e-02f, -3.013607673e-02f, -2.594560757e-02f, -1.848043315e-02f, -1.115124486e-02f, -5.772754550e-03f, -2.583224559e-03f, -1.004077843e-03f, -3.401222057e-04f, -1.006438979e-04f, -2.606023554e-05f, -5.912603228e-06f, -1.176607725e-06f, -2.055360255e-07f];
    private static ReadOnlySpan<float> ErfC3 => [-5.884662736e-03f, -4.851511214e-03f, -2.307080897e-03f, 4.126572167e-04f, 2.167763421e-03f, 2.627220238e-03f, 2.174624242e-03f, 1.410879893e-03f, 7.528858259e-04f, 3.381213755e-04f, 1.294582908e-04f, 4.259942943e-05f, 1.211283325e-05f, 2.987580729e-06f, 6.409909474e-07f, 1.198879858e-07f];
    private static ReadOnlySpan<float> ErfC4 => [1.334002809e-05f, 5.354354507e-04f, 7.516567712e-04f, 6.011374062e-04f, 2.598501451e-04f, -4.231969797e-05f, -1.873308647e-04f, -1.924027165e-04f, -1.335358247e-04f, -7.199626270e-05f, -3.169159754e-05f, -1.166821949e-05f, -3.643483979e-06f, -9.734498008e-07f, -2.238780610e-07f, -4.451350932e-08f];
    private static ReadOnlySpan<float> ErfC5 => [1.011924905e-04f, 4.428462853e-05f, -2.645399218e-05f, -6.521619071e-05f, -5.966667231e-05f, -2.992049667e-05f, -2.225867320e-06f, 1.108127344e-05f, 1.215971952e-05f, 8.164201972e-06f, 4.134546543e-06f, 1.685200118e-06f, 5.695484333e-07f, 1.622828876e-07f, 3.938973236e-08f, 8.201709534e-09f];

    // SiLU's e^r, |r| ≤ ln2/2: interpolation at the 7 Chebyshev nodes (relative error 7.1e-8 in float).
    private const float Ln2 = 0.693147180559945309f;
    private const float SiluLow = -87f;                 // round(−87·log2e) = −126: the smallest n whose 2ⁿ is normal (SiluNarrow)
    private const float SiluE3 = 0.16666415333747864f, SiluE4 = 0.04166635125875473f, SiluE5 = 0.00837512593716383f, SiluE6 = 0.0013941108481958508f;

    private const float InverseSqrt2 = 0.70710678118654752f;

    /// <summary>e^x</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x)
    {
        float clamped = MathF.Min(x, ExpMax);
        float n = MathF.Round(clamped * Log2E);
        float r = MathF.FusedMultiplyAdd(n, -Ln2High, clamped);
        r = MathF.FusedMultiplyAdd(n, -Ln2Low, r);
        float p = MathF.FusedMultiplyAdd(Exp7, r, Exp6);
        p = MathF.FusedMultiplyAdd(p, r, Exp5);
        p = MathF.FusedMultiplyAdd(p, r, Exp4);
        p = MathF.FusedMultiplyAdd(p, r, Exp3);
        p = MathF.FusedMultiplyAdd(p, r, Exp2);
        p = MathF.FusedMultiplyAdd(p, r, 1f);
        p = MathF.FusedMultiplyAdd(p, r, 1f);
        float scale = BitConverter.Int32BitsToSingle(((int)MathF.Max(n, -126f) + 127) << 23);
        return x < ExpMin ? 0f : p * scale;
    }

    /// <summary>erf(x) = 2/√π ∫₀ˣ e^(−t²) dt</summary>
    public static float Erf(float x)
    {
        float a = MathF.Abs(x);
        float result;
        if (a < 1f)
        {
            float s = a * a;
            float p = MathF.FusedMultiplyAdd(ErfT9, s, ErfT8);
            p = MathF.FusedMultiplyAdd(p, s, ErfT7);
            p = MathF.FusedMultiplyAdd(p, s, ErfT6);
            p = MathF.FusedMultiplyAdd(p, s, ErfT5);
            p = MathF.FusedMultiplyAdd(p, s, ErfT4);
            p = MathF.FusedMultiplyAdd(p, s, ErfT3);
            p = MathF.FusedMultiplyAdd(p, s, ErfT2);
            p = MathF.FusedMultiplyAdd(p, s, ErfT1);
            p = MathF.FusedMultiplyAdd(p, s, ErfT0);
            result = a * p;
        }
        else if (a < ErfOne)
        {
            float t = 1f / MathF.FusedMultiplyAdd(a, 0.5f, 1f);
            float u = MathF.FusedMultiplyAdd(t, ErfUScale, ErfUOffset);
            float g = MathF.FusedMultiplyAdd(ErfG6, u, ErfG5);
            g = MathF.FusedMultiplyAdd(g, u, ErfG4);
            g = MathF.FusedMultiplyAdd(g, u, ErfG3);
            g = MathF.FusedMultiplyAdd(g, u, ErfG2);
            g = MathF.FusedMultiplyAdd(g, u, ErfG1);
            g = MathF.FusedMultiplyAdd(g, u, ErfG0);
            result = 1f - Exp(-a * a) * g;
        }
        else
        {
            result = float.IsNaN(a) ? a : 1f;
        }

        return MathF.CopySign(result, x);
    }

    /// <summary>0.5·x·(1 + erf(x/√2))</summary>
    public static float Gelu(float x) => 0.5f * x * (1f + Erf(x * InverseSqrt2));

    /// <summary>x / (1 + e^−x)</summary>
    public static float Silu(float x) => x / (1f + Exp(-x));

    /// <summary>tanh(x) = sign(x)·(1 − 2/(e^(2|x|) + 1))</summary>
    public static float Tanh(float x) => MathF.CopySign(1f - 2f / (Exp(2f * MathF.Abs(x)) + 1f), x);

    /// <summary>act(x)</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(Activation act, float x) => act switch
    {
        Activation.Gelu => Gelu(x),
        Activation.Silu => Silu(x),
        Activation.Tanh => Tanh(x),
        _ => x,
    };

    /// <summary>e^x, lane by lane (same polynomial as <see cref="Exp(float)"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TVec Exp<TOps, TVec>(TVec x) where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>) && Avx512F.IsSupported)
        {
            Vector512<float> e = Exp512(Unsafe.As<TVec, Vector512<float>>(ref x));
            return Unsafe.As<Vector512<float>, TVec>(ref e);
        }

        TVec clamped = TOps.Min(TOps.Create(ExpMax), x);
        // n = round(x·log2e); r = x − n·ln2
        TVec n = TOps.Max(TOps.Create(-126f), TOps.Round(TOps.Multiply(clamped, TOps.Create(Log2E))));
        TVec p = ExpOfRemainder<TOps, TVec>(clamped, n);
        // e^x = e^r·2^n, 0 below ExpMin
        TVec result = TOps.Multiply(p, TOps.Pow2(n));
        return TOps.Select(TOps.LessThan(x, TOps.Create(ExpMin)), TOps.Zero, result);
    }

    /// <summary>
    /// e^x on AVX-512 by the 16-entry table (<see cref="ExpTable512"/>): six instructions on the FMA pipes where the
    /// generic path's reduction over ln2, degree-7 polynomial and 2ⁿ need eleven. Below ExpMin the result is 0, as on
    /// the generic path (so −∞, softmax's padding, gives 0); x is clamped to [ExpTableLow, ExpMax] for the table's
    /// exponent arithmetic. NaN stays NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Exp512(Vector512<float> x)
    {
        Vector512<float> t = Vector512.MaxNative(Vector512.Create(ExpTableLow), Vector512.MinNative(Vector512.Create(ExpMax), x));   // NaN stays NaN (right operand)
        (Vector512<float> scale, Vector512<float> p) = ExpTable512(t, negate: false);
        return Vector512.AndNot(scale * p, Vector512.LessThan(x, Vector512.Create(ExpMin)));   // a NaN x compares false: stays NaN
    }

    /// <summary>e^r for r = x − n·ln2 (Cody–Waite), |r| ≤ ln2/2: the polynomial of <see cref="Exp{TOps, TVec}"/>'s 256- and 128-bit paths.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec ExpOfRemainder<TOps, TVec>(TVec x, TVec n) where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        TVec r = TOps.MultiplyAdd(n, TOps.Create(-Ln2High), x);
        r = TOps.MultiplyAdd(n, TOps.Create(-Ln2Low), r);
        // e^r = 1 + r + r²/2 + … + r⁷/7!
        TVec p = TOps.MultiplyAdd(TOps.Create(Exp7), r, TOps.Create(Exp6));
        p = TOps.MultiplyAdd(p, r, TOps.Create(Exp5));
        p = TOps.MultiplyAdd(p, r, TOps.Create(Exp4));
        p = TOps.MultiplyAdd(p, r, TOps.Create(Exp3));
        p = TOps.MultiplyAdd(p, r, TOps.Create(Exp2));
        p = TOps.MultiplyAdd(p, r, TOps.Create(1f));
        return TOps.MultiplyAdd(p, r, TOps.Create(1f));
    }

    /// <summary>erf(x), lane by lane: both branches of <see cref="Erf(float)"/> are computed and blended.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TVec Erf<TOps, TVec>(TVec x) where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        TVec a = TOps.Min(TOps.Create(ErfOne), TOps.Abs(x));
        TVec s = TOps.Multiply(a, a);
        // small = a·Σ cₙ·s^n
        TVec p = TOps.MultiplyAdd(TOps.Create(ErfT9), s, TOps.Create(ErfT8));
        p = TOps.MultiplyAdd(p, s, TOps.Create(ErfT7));
        p = TOps.MultiplyAdd(p, s, TOps.Create(ErfT6));
        p = TOps.MultiplyAdd(p, s, TOps.Create(ErfT5));
        p = TOps.MultiplyAdd(p, s, TOps.Create(ErfT4));
        p = TOps.MultiplyAdd(p, s, TOps.Create(ErfT3));
        p = TOps.MultiplyAdd(p, s, TOps.Create(ErfT2));
        p = TOps.MultiplyAdd(p, s, TOps.Create(ErfT1));
        p = TOps.MultiplyAdd(p, s, TOps.Create(ErfT0));
        TVec small = TOps.Multiply(a, p);
        // large = 1 − e^(−a²)·g(u), t = 1/(1 + a/2), u = t·scale + offset
        TVec t = TOps.Divide(TOps.Create(1f), TOps.MultiplyAdd(a, TOps.Create(0.5f), TOps.Create(1f)));
        TVec u = TOps.MultiplyAdd(t, TOps.Create(ErfUScale), TOps.Create(ErfUOffset));
        TVec g = TOps.MultiplyAdd(TOps.Create(ErfG6), u, TOps.Create(ErfG5));
        g = TOps.MultiplyAdd(g, u, TOps.Create(ErfG4));
        g = TOps.MultiplyAdd(g, u, TOps.Create(ErfG3));
        g = TOps.MultiplyAdd(g, u, TOps.Create(ErfG2));
        g = TOps.MultiplyAdd(g, u, TOps.Create(ErfG1));
        g = TOps.MultiplyAdd(g, u, TOps.Create(ErfG0));
        TVec large = TOps.Subtract(TOps.Create(1f), TOps.Multiply(Exp<TOps, TVec>(TOps.Subtract(TOps.Zero, s)), g));
        large = TOps.Select(TOps.LessThan(a, TOps.Create(ErfOne)), large, TOps.Create(1f));
        TVec result = TOps.Select(TOps.LessThan(a, TOps.Create(1f)), small, large);
        return TOps.CopySign(result, x);
    }

    // e^t on AVX-512 by a table (ExpTable512): e^t = 2^(k/16)·e^ρ, k = round(t·16·log2e), |ρ| ≤ ln2/32. Entry j holds the
    // bits of 2^(j/16) minus j·2^19, so that adding k·2^19 (k in two's complement) to entry k mod 16 gives the bits of
    // 2^(k/16) exactly: ⌊k/16⌋ lands in the exponent field and k mod 16 cancels.
    private static ReadOnlySpan<uint> Pow2Sixteenths => [0x3F800000, 0x3F7DAAC3, 0x3F7B95C2, 0x3F79C3D3, 0x3F7837F0, 0x3F76F532, 0x3F75FED7, 0x3F75583F, 0x3F7504F3, 0x3F7508A4, 0x3F75672A, 0x3F76248C, 0x3F7744FD, 0x3F78CCDF, 0x3F7AC0C7, 0x3F7D257D];
    private const float ExpTableLow = -88f;               // ⌊k/16⌋ ≥ −127: the exponent field stays ≥ 0 (results below ExpMin are discarded)
    private const float SiluTableHigh = 87f;              // x above: 1 + e^−x rounds to 1 (from x = 17 on); keeps ⌊k/16⌋ ≥ −126
    private const float RoundMagic = 12582912f;           // 1.5·2²³: t + RoundMagic rounds t to an integer held in the low mantissa bits
    private const float SixteenLog2E = 23.0831206542234f; // 16·log2(e)
    private const float Ln2SixteenthHigh = 0.0433197021484375f;      // ln2/16 split in two (Cody–Waite): k·high is exact for |k| < 2¹¹
    private const float Ln2SixteenthLow = 1.9966364561696537e-06f;

    /// <summary>
    /// e^u = scale·p for u = t, or u = −t when <paramref name="negate"/> (a constant at every call site: the sign goes
    /// into the constants, no instruction negates t), u in [ExpTableLow, ExpMax] (NaN passes through p):
    /// k = round(u·16·log2e) by the round-to-integer magic constant (one FMA), ρ = u − k·ln2/16 by the Cody–Waite pair,
    /// scale = 2^(k/16) from <see cref="Pow2Sixteenths"/> (one vpermps, whose index is the low 4 bits of the rounded
    /// value, and two integer ops: no vscalefps), p = e^ρ by its cubic Taylor polynomial (truncation 1e-8 relative).
    /// Returned apart so that callers fuse the product with what follows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float> Scale, Vector512<float> P) ExpTable512(Vector512<float> t, bool negate)
    {
        float sign = negate ? -1f : 1f;
        Vector512<float> s = Vector512.FusedMultiplyAdd(t, Vector512.Create(sign * SixteenLog2E), Vector512.Create(RoundMagic));
        Vector512<float> k = s - Vector512.Create(RoundMagic);
        // σ = sign·ρ = t − sign·k·ln2/16
        Vector512<float> sigma = Vector512.FusedMultiplyAdd(k, Vector512.Create(-sign * Ln2SixteenthHigh), t);
        sigma = Vector512.FusedMultiplyAdd(k, Vector512.Create(-sign * Ln2SixteenthLow), sigma);
        Vector512<uint> bits = s.AsUInt32();
        Vector512<uint> scale = Avx512F.PermuteVar16x32(Vector512.Create(Pow2Sixteenths), bits) + Vector512.ShiftLeft(bits, 19);
        // e^ρ = 1 + ρ + ρ²/2 + ρ³/6 with ρ = sign·σ
        Vector512<float> p = Vector512.FusedMultiplyAdd(Vector512.Create(sign / 6), sigma, Vector512.Create(0.5f));
        p = Vector512.FusedMultiplyAdd(p, sigma, Vector512.Create(sign));
        p = Vector512.FusedMultiplyAdd(p, sigma, Vector512<float>.One);
        return (scale.AsSingle(), p);
    }

    /// <summary>
    /// SiLU on AVX-512, x / (1 + e^−x), with e^−x from <see cref="ExpTable512"/>: six instructions on the FMA pipes
    /// where a reduction over ln2 needs a degree-6 polynomial and vscalefps (nine); relative error ≤ 2.2e-7 for x ≥ −80
    /// (ActivationTests). x is clamped to [−ExpMax, SiluTableHigh]: below −ExpMax e^−x would overflow (x = −∞ gives
    /// −∞/e^ExpMax = −∞); above SiluTableHigh, 1 + e^−x rounds to 1 anyway (x = +∞ gives +∞). NaN stays NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Silu512(Vector512<float> x)
    {
        Vector512<float> t = Vector512.MinNative(Vector512.Create(SiluTableHigh), Vector512.MaxNative(Vector512.Create(-ExpMax), x));   // NaN stays NaN (right operand)
        (Vector512<float> scale, Vector512<float> p) = ExpTable512(t, negate: true);
        return x / Vector512.FusedMultiplyAdd(scale, p, Vector512<float>.One);
    }

    /// <summary>
    /// SiLU on the 256- and 128-bit paths, x / (1 + e^−x), without the generic exp's safety nets: −x is clamped to
    /// [SiluLow, ExpMax] so that n ≥ −126 and 2ⁿ is a normal float built from its bits (below SiluLow, 1 + e^−x rounds
    /// to 1 either way, so neither the generic exp's n clamp nor its flush-to-0 select is needed), then the one-constant
    /// reduction, the degree-6 polynomial and one divide. 4 instructions fewer than
    /// 1 + <see cref="Exp{TOps, TVec}"/>: KernelBench mv2 with AVX-512 off, 1 thread, 5–8 % on the fused blocks.
    /// x = −∞ gives −∞ (e^ExpMax is finite), +∞ gives +∞, NaN stays NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec SiluNarrow<TOps, TVec>(TVec x) where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        TVec t = TOps.Max(TOps.Create(SiluLow), TOps.Min(TOps.Create(ExpMax), TOps.Subtract(TOps.Zero, x)));   // NaN stays NaN (right operand)
        TVec n = TOps.Round(TOps.Multiply(t, TOps.Create(Log2E)));
        TVec p = SiluExpOfRemainder<TOps, TVec>(t, n);
        return TOps.Divide(x, TOps.MultiplyAdd(p, TOps.Pow2(n), TOps.Create(1f)));
    }

    /// <summary>
    /// SiLU's e^r for r = t − n·ln2 and a degree-6 polynomial (1, 1, 1/2, SiluE3…SiluE6), for
    /// <see cref="SiluNarrow{TOps, TVec}"/>. With a fused multiply-add one ln2 constant suffices (the reduction's error,
    /// up to n·2e-9, is at most 3.4e-7 relative in SiLU); without one, n·ln2 would be rounded on its own (4e-6 relative
    /// at x = −70), so the reduction takes the exact Cody–Waite pair instead.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec SiluExpOfRemainder<TOps, TVec>(TVec t, TVec n) where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        TVec r = Fma.IsSupported || AdvSimd.IsSupported
            ? TOps.MultiplyAdd(n, TOps.Create(-Ln2), t)
            : TOps.MultiplyAdd(n, TOps.Create(-Ln2Low), TOps.MultiplyAdd(n, TOps.Create(-Ln2High), t));
        TVec p = TOps.MultiplyAdd(TOps.Create(SiluE6), r, TOps.Create(SiluE5));
        p = TOps.MultiplyAdd(p, r, TOps.Create(SiluE4));
        p = TOps.MultiplyAdd(p, r, TOps.Create(SiluE3));
        p = TOps.MultiplyAdd(p, r, TOps.Create(0.5f));
        p = TOps.MultiplyAdd(p, r, TOps.Create(1f));
        return TOps.MultiplyAdd(p, r, TOps.Create(1f));
    }

    /// <summary>
    /// GELU on AVX-512 without a division or an exponential: 0.5·x·(1 + erf(x/√2)) = 0.5·x + 0.5·|x|·erf(|x|/√2), with
    /// erf from a 16-interval table of degree-5 polynomials whose coefficients vpermps picks by the interval index (see
    /// ErfC0…ErfC5). 19 instructions against about 50 and a vdivps for the two-branch <see cref="Erf{TOps, TVec}"/>.
    /// NaN propagates (the clamp keeps it, its index is 0); +∞ gives +∞; −∞ gives NaN like the formula (−∞ + ∞).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Gelu512(Vector512<float> x)
    {
        Vector512<float> ax = Vector512.Abs(x);
        Vector512<float> u = Vector512.MinNative(Vector512.Create(ErfTableEnd), ax * Vector512.Create(ErfTableScale));   // NaN stays NaN (right operand)
        Vector512<int> i = Avx512F.ConvertToVector512Int32WithTruncation(u);
        Vector512<float> s = u - Avx512F.ConvertToVector512Single(i);
        Vector512<float> p = Avx512F.PermuteVar16x32(Vector512.Create(ErfC5), i);
        p = Vector512.FusedMultiplyAdd(p, s, Avx512F.PermuteVar16x32(Vector512.Create(ErfC4), i));
        p = Vector512.FusedMultiplyAdd(p, s, Avx512F.PermuteVar16x32(Vector512.Create(ErfC3), i));
        p = Vector512.FusedMultiplyAdd(p, s, Avx512F.PermuteVar16x32(Vector512.Create(ErfC2), i));
        p = Vector512.FusedMultiplyAdd(p, s, Avx512F.PermuteVar16x32(Vector512.Create(ErfC1), i));
        p = Vector512.FusedMultiplyAdd(p, s, Avx512F.PermuteVar16x32(Vector512.Create(ErfC0), i));
        Vector512<float> half = Vector512.Create(0.5f);
        return Vector512.FusedMultiplyAdd(ax * half, p, x * half);
    }

    /// <summary>act(x), lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TVec Apply<TOps, TVec>(Activation act, TVec x) where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        switch (act)
        {
            case Activation.Gelu:
                // 0.5·x·(1 + erf(x/√2))
                if (typeof(TVec) == typeof(Vector512<float>) && Avx512F.IsSupported)
                {
                    Vector512<float> gelu = Gelu512(Unsafe.As<TVec, Vector512<float>>(ref x));
                    return Unsafe.As<Vector512<float>, TVec>(ref gelu);
                }

                TVec erf = Erf<TOps, TVec>(TOps.Multiply(x, TOps.Create(InverseSqrt2)));
                return TOps.Multiply(TOps.Multiply(TOps.Create(0.5f), x), TOps.Add(TOps.Create(1f), erf));
            case Activation.Silu:
                // x / (1 + e^−x)
                if (typeof(TVec) == typeof(Vector512<float>) && Avx512F.IsSupported)
                {
                    Vector512<float> result = Silu512(Unsafe.As<TVec, Vector512<float>>(ref x));
                    return Unsafe.As<Vector512<float>, TVec>(ref result);
                }

                return SiluNarrow<TOps, TVec>(x);
            case Activation.Tanh:
                // sign(x)·(1 − 2/(e^(2|x|) + 1))
                TVec e = Exp<TOps, TVec>(TOps.Multiply(TOps.Create(2f), TOps.Abs(x)));
                TVec magnitude = TOps.Subtract(TOps.Create(1f), TOps.Divide(TOps.Create(2f), TOps.Add(e, TOps.Create(1f))));
                return TOps.CopySign(magnitude, x);
            default:
                return x;
        }
    }
}
