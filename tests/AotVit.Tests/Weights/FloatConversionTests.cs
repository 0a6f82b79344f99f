// F16 and BF16 widening must be exact for every bit pattern, including subnormals, infinities and NaNs.
using System.Buffers.Binary;
using AotVit.Runtime.Weights;
using Xunit;

namespace AotVit.Tests.Weights;

[Trait("Category", "Weights")]
public sealed class FloatConversionTests
{
    [Fact]
    public void HalfMatchesTheFrameworkForAllBitPatterns()
    {
        for (int bits = 0; bits <= ushort.MaxValue; bits++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf((ushort)bits);
            float actual = FloatConversion.HalfBitsToSingle((ushort)bits);
            if (float.IsNaN(expected))
            {
                Assert.True(float.IsNaN(actual), $"0x{bits:x4}");
                Assert.Equal(bits >> 15, (int)(BitConverter.SingleToUInt32Bits(actual) >> 31));
            }
            else
            {
                Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(actual),
                    $"0x{bits:x4}: expected {expected} got {actual}");
            }
        }
    }

    [Theory]
    [InlineData(0x0000, 0.0f)]
    [InlineData(0x3C00, 1.0f)]
    [InlineData(0xC000, -2.0f)]
    [InlineData(0x7BFF, 65504f)]                      // largest finite half
    [InlineData(0x0400, 6.103515625e-05f)]            // smallest normal, 2^-14
    [InlineData(0x0001, 5.9604644775390625e-08f)]     // smallest subnormal, 2^-24
    [InlineData(0x03FF, 6.097555160522461e-05f)]      // largest subnormal, 1023 · 2^-24
    [InlineData(0x8001, -5.9604644775390625e-08f)]
    [InlineData(0x7C00, float.PositiveInfinity)]
    [InlineData(0xFC00, float.NegativeInfinity)]
    public void HalfEdgeCases(int bits, float expected) =>
        Assert.Equal(BitConverter.SingleToUInt32Bits(expected), BitConverter.SingleToUInt32Bits(FloatConversion.HalfBitsToSingle((ushort)bits)));

    [Fact]
    public void HalfNegativeZeroAndNaNPayloadsArePreserved()
    {
        Assert.Equal(0x8000_0000u, BitConverter.SingleToUInt32Bits(FloatConversion.HalfBitsToSingle(0x8000)));
        Assert.Equal(0x7FC0_0000u, BitConverter.SingleToUInt32Bits(FloatConversion.HalfBitsToSingle(0x7E00)));   // quiet NaN
        Assert.Equal(0x7F80_2000u, BitConverter.SingleToUInt32Bits(FloatConversion.HalfBitsToSingle(0x7C01)));   // signalling payload 1
        Assert.Equal(0xFFC0_0000u, BitConverter.SingleToUInt32Bits(FloatConversion.HalfBitsToSingle(0xFE00)));
    }

    [Theory]
    [InlineData(0x3F80, 1.0f)]
    [InlineData(0xC000, -2.0f)]
    [InlineData(0x7F80, float.PositiveInfinity)]
    [InlineData(0xFF80, float.NegativeInfinity)]
    [InlineData(0x0001, 9.183549615799121e-41f)]      // bfloat16 subnormal: 2^-133
    [InlineData(0x7F7F, 3.3895313892515355e38f)]      // largest finite bfloat16
    public void BFloat16EdgeCases(int bits, float expected) =>
        Assert.Equal(BitConverter.SingleToUInt32Bits(expected), BitConverter.SingleToUInt32Bits(FloatConversion.BFloat16BitsToSingle((ushort)bits)));

    [Fact]
    public void BFloat16IsTheTopHalfOfFloat32()
    {
        for (int bits = 0; bits <= ushort.MaxValue; bits += 7)
        {
            Assert.Equal((uint)bits << 16, BitConverter.SingleToUInt32Bits(FloatConversion.BFloat16BitsToSingle((ushort)bits)));
        }
    }

    [Fact]
    public void FileConversionOfF16BF16AndF64()
    {
        ushort[] halves = [0x0001, 0x03FF, 0x7C00, 0xFC00, 0x7E00, 0x8000, 0x3555];
        var halfBytes = new byte[halves.Length * 2];
        for (int i = 0; i < halves.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(halfBytes.AsSpan(2 * i), halves[i]);
        double[] doubles = [1e300, -1e-300, 0.1, double.NaN, 16777217.0];
        var doubleBytes = new byte[doubles.Length * 8];
        for (int i = 0; i < doubles.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(doubleBytes.AsSpan(8 * i), doubles[i]);

        byte[] file = SafeTensorsTestFiles.Write(
        [
            ("h", DType.F16, [halves.Length], halfBytes),
            ("b", DType.BF16, [halves.Length], halfBytes),
            ("d", DType.F64, [doubles.Length], doubleBytes),
        ]);
        using var reader = SafeTensorsFile.FromMemory(file);
        float[] h = reader.GetFloats("h").ToArray();
        for (int i = 0; i < halves.Length; i++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf(halves[i]);
            Assert.True(expected.Equals(h[i]), $"{i}: {expected} vs {h[i]}");
        }
        float[] b = reader.GetFloats("b").ToArray();
        for (int i = 0; i < halves.Length; i++) Assert.Equal((uint)halves[i] << 16, BitConverter.SingleToUInt32Bits(b[i]));
        Assert.Equal([float.PositiveInfinity, -0f, 0.1f, float.NaN, 16777216f], reader.GetFloats("d").ToArray());
    }
}
