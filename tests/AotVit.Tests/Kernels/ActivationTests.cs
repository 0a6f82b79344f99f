// Accuracy of the float erf/exp/activations (scalar and every vector width) against double-precision maths.
using AotVit.Runtime.Kernels;
using AotVit.Runtime.Threading;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using AotVit.Runtime.Kernels.Common;
using Xunit;

namespace AotVit.Tests.Kernels;

[Trait("Category", "Kernels")]
public sealed unsafe class ActivationTests
{
    [Fact]
    public void ReferenceErfMatchesKnownValues()
    {
        Assert.Equal(0.8427007929497149, Elementwise.ReferenceErf(1), 1e-15);
        Assert.Equal(0.9953222650189527, Elementwise.ReferenceErf(2), 1e-15);
        Assert.Equal(-0.9999779095030014, Elementwise.ReferenceErf(-3), 1e-15);
        Assert.Equal(0.9999999845827421, Elementwise.ReferenceErf(4), 1e-15);
    }

    [Fact]
    public void ScalarErfWithin2e7()
    {
        for (double x = -6; x <= 6; x += 1.0 / 4096)
        {
            float value = ActivationMath.Erf((float)x);
            Assert.True(Math.Abs(value - Elementwise.ReferenceErf((float)x)) <= 2e-7, $"erf({x}) = {value}");
        }
    }

    [Fact]
    public void ScalarExpWithin3Ulp()
    {
        for (double x = -87; x <= 88; x += 1.0 / 512)
        {
            double expected = Math.Exp((float)x);
            Assert.True(Math.Abs(ActivationMath.Exp((float)x) - expected) <= 3 * 6e-8 * expected, $"exp({x})");
        }

        Assert.Equal(0f, ActivationMath.Exp(-100f));
        Assert.Equal(0f, ActivationMath.Exp(float.NegativeInfinity));
    }

    // The vector exp at every lane width this machine runs (Vector512 takes the table path): within 3 ulp of double
    // over the normal range; 0 for −∞ and far below; +∞ never (clamped at ExpMax); NaN stays NaN.
    [Fact]
    public void VectorExpWithin3UlpAtEveryWidth()
    {
        float[] inputs = new float[4096 + 16];
        for (int i = 0; i < 4096; i++) inputs[i] = -87f + 175f * i / 4095;
        float[] specials = [float.NegativeInfinity, -1000f, -104f, -103.9f, -95f, -87.5f, 0f, -0f, 88f, 88.37f, 88.5f, 1000f, float.PositiveInfinity, float.NaN, 1e-30f, -1e-30f];
        specials.CopyTo(inputs, 4096);
        float[] v512 = Apply(inputs, 16, x => Vector512.IsHardwareAccelerated ? ToArray(ActivationMath.Exp<Vector512Ops, Vector512<float>>(Vector512.Create(x))) : null);
        float[] v256 = Apply(inputs, 8, x => Vector256.IsHardwareAccelerated ? ToArray(ActivationMath.Exp<Vector256Ops, Vector256<float>>(Vector256.Create(x))) : null);
        foreach (float[] result in new[] { v512, v256 })
        {
            if (result.Length == 0) continue;
            for (int i = 0; i < inputs.Length; i++)
            {
                float x = inputs[i], y = result[i];
                double expected = Math.Exp(x);
                if (float.IsNaN(x)) Assert.True(float.IsNaN(y), $"exp(NaN) = {y}");
                else if (x <= -104f) Assert.Equal(0f, y);
                else if (x < -87.3f) Assert.True(y >= 0f && y <= 1.2e-38f, $"exp({x}) = {y}");   // flushed or denormal
                else if (x > 88.37f) Assert.True(float.IsFinite(y) && y > 1e38f, $"exp({x}) = {y}");   // clamped at ExpMax
                else Assert.True(Math.Abs(y - expected) <= 3 * 6e-8 * expected, $"exp({x}) = {y}, expected {expected}");
            }
        }

        static float[] Apply(float[] inputs, int width, Func<float[], float[]?> run)
        {
            var output = new float[inputs.Length];
            for (int i = 0; i < inputs.Length; i += width)
            {
                float[]? lanes = run(inputs[i..(i + width)]);
                if (lanes is null) return [];
                lanes.CopyTo(output, i);
            }
            return output;
        }

        static float[] ToArray<T>(T vector) where T : struct
        {
            var values = new float[Unsafe.SizeOf<T>() / sizeof(float)];
            Unsafe.WriteUnaligned(ref Unsafe.As<float, byte>(ref values[0]), vector);
            return values;
        }
    }

    // Elementwise.Apply runs the widest vector path plus narrower tails; lengths cover 1..width+1 and long runs.
    [Theory]
    [InlineData(Activation.None)]
    [InlineData(Activation.Gelu)]
    [InlineData(Activation.Silu)]
    [InlineData(Activation.Tanh)]
    public void ApplyMatchesDouble(Activation act)
    {
        const int n = 40001;
        using NativeBuffer x = new(n);
        using NativeBuffer y = new(n);
        using NativeBuffer expected = new(n);
        for (int i = 0; i < n; i++)
        {
            x.Pointer[i] = -10f + 20f * i / (n - 1);
        }

        Elementwise.ReferenceApply(act, n, x.Pointer, expected.Pointer);
        foreach (int length in new[] { 1, 3, 4, 5, 8, 15, 16, 17, 33, n })
        {
            Elementwise.Apply(act, length, x.Pointer, y.Pointer);
            for (int i = 0; i < length; i++)
            {
                double error = Math.Abs(y.Pointer[i] - expected.Pointer[i]);
                Assert.True(error <= 4e-7 * (1 + Math.Abs(expected.Pointer[i])), $"{act}({x.Pointer[i]}) = {y.Pointer[i]}, expected {expected.Pointer[i]}");
            }
        }

        // in place
        Elementwise.Apply(act, n, x.Pointer, x.Pointer);
        TestData.AssertClose(expected.Pointer, x.Pointer, n, 4e-7, $"{act} in place");
    }

    // SiLU keeps its relative accuracy where its value is tiny (x ≪ 0: e^−x huge, the reduction's error largest), on
    // whichever vector path the SIMD setting selects.
    [Fact]
    public void SiluRelativeErrorBelow4e7()
    {
        const int n = 160 * 1024 + 3;
        using NativeBuffer x = new(n);
        using NativeBuffer y = new(n);
        for (int i = 0; i < n; i++)
        {
            x.Pointer[i] = -80f + 160f * i / (n - 1);
        }

        Elementwise.Apply(Activation.Silu, n, x.Pointer, y.Pointer);
        for (int i = 0; i < n; i++)
        {
            double v = x.Pointer[i], expected = v / (1 + Math.Exp(-v));
            double error = Math.Abs(y.Pointer[i] - expected);
            Assert.True(error <= 4e-7 * Math.Abs(expected) + 1e-45, $"silu({v}) = {y.Pointer[i]}, expected {expected}");
        }
    }

    // Every lane width, at the ends of the range: overflow of e^±x, infinities and NaN (the AVX-512 SiLU clamps its own).
    [Theory]
    [InlineData(Activation.Gelu)]
    [InlineData(Activation.Silu)]
    [InlineData(Activation.Tanh)]
    public void ExtremeInputsGiveTheLimits(Activation act)
    {
        float[] inputs = [float.PositiveInfinity, float.NegativeInfinity, 1e30f, -1e30f, 1000f, -1000f, 104.5f, -104.5f, 89f, -89f, 88f, -88f, 87.5f, -87.5f, 0f, -0f];
        const int n = 48;   // 3 zmm, and narrower tails
        using NativeBuffer x = new(n);
        using NativeBuffer y = new(n);
        for (int i = 0; i < n; i++)
        {
            x.Pointer[i] = inputs[i % inputs.Length];
        }

        Elementwise.Apply(act, n, x.Pointer, y.Pointer);
        for (int i = 0; i < n; i++)
        {
            float input = x.Pointer[i];
            double expected = Elementwise.Reference(act, input);
            if (double.IsNaN(expected))
            {
                continue;   // GELU and SiLU at −∞ are −∞·0 in the formula (NaN in torch as well): no limit to check
            }

            Assert.False(float.IsNaN(y.Pointer[i]), $"{act}({input}) = NaN");
            if (double.IsInfinity(expected))
            {
                Assert.Equal(expected, y.Pointer[i]);
            }
            else
            {
                Assert.True(Math.Abs(y.Pointer[i] - expected) <= 4e-7 * (1 + Math.Abs(expected)), $"{act}({input}) = {y.Pointer[i]}, expected {expected}");
            }
        }

        x.Pointer[5] = float.NaN;
        Elementwise.Apply(act, n, x.Pointer, y.Pointer);
        Assert.True(float.IsNaN(y.Pointer[5]), $"{act}(NaN) = {y.Pointer[5]}");
    }

    [Fact]
    public void VectorGeluErfAbsoluteErrorAbout1e7()
    {
        // gelu(x)/(0.5x) − 1 = erf(x/√2): check the erf inside the vector GELU directly on a fine grid.
        const int n = 1 << 16;
        using NativeBuffer x = new(n);
        using NativeBuffer y = new(n);
        for (int i = 0; i < n; i++)
        {
            x.Pointer[i] = 0.25f + 11f * i / n;
        }

        Elementwise.Apply(Activation.Gelu, n, x.Pointer, y.Pointer);
        for (int i = 0; i < n; i++)
        {
            double expected = Elementwise.Reference(Activation.Gelu, x.Pointer[i]);
            Assert.True(Math.Abs(y.Pointer[i] - expected) <= 2e-7 * Math.Max(1, Math.Abs(expected)), $"gelu({x.Pointer[i]})");
        }
    }

    [Fact]
    public void AddHandlesTailsAndAliasing()
    {
        foreach (int n in new[] { 1, 7, 16, 17, 31, 100 })
        {
            using NativeBuffer a = TestData.Random(n, 1);
            using NativeBuffer b = TestData.Random(n, 2);
            using NativeBuffer expected = new(n);
            Elementwise.ReferenceAdd(n, a.Pointer, b.Pointer, expected.Pointer);
            Elementwise.Add(n, a.Pointer, b.Pointer, a.Pointer);
            TestData.AssertClose(expected.Pointer, a.Pointer, n, 0, $"add n={n}");
        }
    }
}
