// Exact widening of half-precision formats to float32, and float64 narrowing, for GetFloats.
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace AotVit.Runtime.Weights;

/// <summary>Scalar conversions of little-endian element bytes to float32. Not a hot path: done once per load.</summary>
internal static class FloatConversion
{
    /// <summary>
    /// IEEE 754 binary16 → binary32, exact for every input: subnormals are renormalised, ±inf stays inf,
    /// NaN keeps its sign and payload (shifted into the top of the float mantissa).
    /// </summary>
    public static float HalfBitsToSingle(ushort bits)
    {
        uint sign = (uint)(bits & 0x8000) << 16;
        uint exponent = (uint)(bits >> 10) & 0x1F;
        uint mantissa = bits & 0x3FFu;
        uint result;
        if (exponent == 0x1F)
        {
            result = sign | 0x7F80_0000u | (mantissa << 13);               // inf or NaN
        }
        else if (exponent != 0)
        {
            result = sign | ((exponent + (127 - 15)) << 23) | (mantissa << 13); // normal
        }
        else if (mantissa == 0)
        {
            result = sign;                                                   // ±0
        }
        else
        {
            // Subnormal: value = mantissa · 2^-24. Shift the leading 1 up to bit 10 and lower the exponent to match.
            int shift = System.Numerics.BitOperations.LeadingZeroCount(mantissa) - 21; // 1..10
            mantissa = (mantissa << shift) & 0x3FFu;
            uint biased = (uint)(127 - 15 + 1 - shift);
            result = sign | (biased << 23) | (mantissa << 13);
        }
        return BitConverter.UInt32BitsToSingle(result);
    }

    /// <summary>bfloat16 is the top half of a float32: exact.</summary>
    public static float BFloat16BitsToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>Converts little-endian elements of a floating-point dtype to float32.</summary>
    public static void ToSingle(DType dtype, ReadOnlySpan<byte> source, Span<float> destination)
    {
        switch (dtype)
        {
            case DType.F32:
                if (BitConverter.IsLittleEndian)
                {
                    MemoryMarshal.Cast<byte, float>(source).CopyTo(destination); // Cast tolerates unaligned data on x64/arm64
                }
                else
                {
                    for (int i = 0; i < destination.Length; i++)
                        destination[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(4 * i)..]);
                }
                break;
            case DType.F16:
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = HalfBitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]));
                break;
            case DType.BF16:
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = BFloat16BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]));
                break;
            case DType.F64:
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(source[(8 * i)..]);
                break;
            default:
                throw new ArgumentException($"{dtype.Name()} is not a floating-point dtype", nameof(dtype));
        }
    }
}
