// JpegIdct: dequantisation + libjpeg's ISLOW integer inverse DCT (jidctint.c jpeg_idct_islow, CONST_BITS 13,
// PASS1_BITS 2), producing the same 8×8 samples as libjpeg-turbo 2.1.5's C code for every input block.
//
// Invariants:
// * Scalar: the C code's arithmetic exactly — dequantised values are int (coefficient times the quantiser read as a
//   16-bit ISLOW_MULT_TYPE, so a 16-bit quantiser above 32767 is negative as in jddctmgr.c), products and sums are
//   64-bit (JLONG), the pass-1 workspace is int (64-bit results truncated to 32 bits), and the output is
//   range_limit[(x >> 18) & 1023] of the post-IDCT table (jdmaster.c prepare_range_limit_table), which is
//   clamp(sign-extend-10-bit(x) + 128, 0, 255). The column and row shortcuts of the C code give the same values
//   as the full formulas, so they are taken where cheap.
// * SIMD: the same formulas in int32 lanes, one lane per column (pass 1) and, after a transpose, per row (pass 2).
//   int32 arithmetic is exact modulo 2^32, so it equals the 64-bit result whenever each final pre-shift value fits in
//   int32. Per coefficient the gain to a pass-1 value is at most 11363 (the largest fixed-point basis weight) and to a
//   pass-2 value at most 11363² / 2^11 < 2^16, so a block whose dequantised values have Σ|d| < 32000 is exact in
//   int32 (< 2^31 including the rounding terms); blocks above that bound (never produced by an 8-bit encoder, whose
//   Σ|d| stays below about 16400) go to the scalar code.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AotVit.Runtime.Imaging.Jpeg;

internal static unsafe class JpegIdct
{
    private const int ConstBits = 13;
    private const int Pass1Bits = 2;

    private const int Fix0298631336 = 2446;
    private const int Fix0390180644 = 3196;
    private const int Fix0541196100 = 4433;
    private const int Fix0765366865 = 6270;
    private const int Fix0899976223 = 7373;
    private const int Fix1175875602 = 9633;
    private const int Fix1501321110 = 12299;
    private const int Fix1847759065 = 15137;
    private const int Fix1961570560 = 16069;
    private const int Fix2053119869 = 16819;
    private const int Fix2562915447 = 20995;
    private const int Fix3072711026 = 25172;

    /// <summary>Largest Σ|dequantised coefficient| of a block the int32 SIMD path computes exactly (see header).</summary>
    internal const int SimdExactLimit = 32000;

    /// <summary>libjpeg's ISLOW multiplier table: the natural-order quantisers as 16-bit signed values.</summary>
    public static int[] DequantTable(ReadOnlySpan<ushort> quant)
    {
        var table = new int[64];
        for (int k = 0; k < 64; k++) table[k] = (short)quant[k];
        return table;
    }

    /// <summary>The post-IDCT range limit: range_limit[x &amp; RANGE_MASK] of libjpeg's table.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static byte RangeLimit(int x)
    {
        int s = ((x & 1023) ^ 512) - 512;   // 10-bit two's complement value
        s += 128;
        return (byte)(s < 0 ? 0 : s > 255 ? 255 : s);
    }

    /// <summary>Which implementation <see cref="Transform"/> uses: 2 = Vector256, 1 = Vector128, 0 = scalar.</summary>
    internal static int Path => Vector256.IsHardwareAccelerated ? 2 : Vector128.IsHardwareAccelerated ? 1 : 0;

    /// <summary>Dequantises and inverse-transforms one natural-order block into 8 rows of 8 samples at
    /// output[r · stride].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transform(short* block, int* dequant, byte* output, int stride)
    {
        if (Vector256.IsHardwareAccelerated) Transform256(block, dequant, output, stride);
        else if (Vector128.IsHardwareAccelerated) Transform128(block, dequant, output, stride);
        else TransformScalar(block, dequant, output, stride);
    }

    /// <summary>jpeg_idct_islow, scalar, with the C code's 64-bit intermediates.</summary>
    public static void TransformScalar(short* block, int* dequant, byte* output, int stride)
    {
        int* ws = stackalloc int[64];
        for (int c = 0; c < 8; c++)
        {
            short* inp = block + c;
            int* q = dequant + c;
            if (inp[8] == 0 && inp[16] == 0 && inp[24] == 0 && inp[32] == 0 && inp[40] == 0 && inp[48] == 0 && inp[56] == 0)
            {
                int dc = (inp[0] * q[0]) << Pass1Bits;
                for (int r = 0; r < 8; r++) ws[r * 8 + c] = dc;
                continue;
            }
            long z2 = inp[16] * q[16], z3 = inp[48] * q[48];
            long z1 = (z2 + z3) * Fix0541196100;
            long tmp2 = z1 + z3 * -Fix1847759065;
            long tmp3 = z1 + z2 * Fix0765366865;
            z2 = inp[0] * q[0];
            z3 = inp[32] * q[32];
            long tmp0 = (z2 + z3) << ConstBits;
            long tmp1 = (z2 - z3) << ConstBits;
            long tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;

            tmp0 = inp[56] * q[56];
            tmp1 = inp[40] * q[40];
            tmp2 = inp[24] * q[24];
            tmp3 = inp[8] * q[8];
            Odd(ref tmp0, ref tmp1, ref tmp2, ref tmp3);

            const int shift = ConstBits - Pass1Bits;
            const long round = 1L << (shift - 1);
            ws[0 * 8 + c] = (int)((tmp10 + tmp3 + round) >> shift);
            ws[7 * 8 + c] = (int)((tmp10 - tmp3 + round) >> shift);
            ws[1 * 8 + c] = (int)((tmp11 + tmp2 + round) >> shift);
            ws[6 * 8 + c] = (int)((tmp11 - tmp2 + round) >> shift);
            ws[2 * 8 + c] = (int)((tmp12 + tmp1 + round) >> shift);
            ws[5 * 8 + c] = (int)((tmp12 - tmp1 + round) >> shift);
            ws[3 * 8 + c] = (int)((tmp13 + tmp0 + round) >> shift);
            ws[4 * 8 + c] = (int)((tmp13 - tmp0 + round) >> shift);
        }
        for (int r = 0; r < 8; r++)
        {
            int* w = ws + r * 8;
            byte* o = output + r * stride;
            if (w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0)
            {
                byte v = RangeLimit((int)(((long)w[0] + (1 << (Pass1Bits + 2))) >> (Pass1Bits + 3)));
                for (int k = 0; k < 8; k++) o[k] = v;
                continue;
            }
            long z2 = w[2], z3 = w[6];
            long z1 = (z2 + z3) * Fix0541196100;
            long tmp2 = z1 + z3 * -Fix1847759065;
            long tmp3 = z1 + z2 * Fix0765366865;
            long tmp0 = ((long)w[0] + w[4]) << ConstBits;
            long tmp1 = ((long)w[0] - w[4]) << ConstBits;
            long tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
            tmp0 = w[7];
            tmp1 = w[5];
            tmp2 = w[3];
            tmp3 = w[1];
            Odd(ref tmp0, ref tmp1, ref tmp2, ref tmp3);
            const int shift = ConstBits + Pass1Bits + 3;
            const long round = 1L << (shift - 1);
            o[0] = RangeLimit((int)((tmp10 + tmp3 + round) >> shift));
            o[7] = RangeLimit((int)((tmp10 - tmp3 + round) >> shift));
            o[1] = RangeLimit((int)((tmp11 + tmp2 + round) >> shift));
            o[6] = RangeLimit((int)((tmp11 - tmp2 + round) >> shift));
            o[2] = RangeLimit((int)((tmp12 + tmp1 + round) >> shift));
            o[5] = RangeLimit((int)((tmp12 - tmp1 + round) >> shift));
            o[3] = RangeLimit((int)((tmp13 + tmp0 + round) >> shift));
            o[4] = RangeLimit((int)((tmp13 - tmp0 + round) >> shift));
        }
    }

    // The odd part of jidctint.c: (tmp0, tmp1, tmp2, tmp3) = inputs 7, 5, 3, 1 in, the four odd outputs out.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Odd(ref long tmp0, ref long tmp1, ref long tmp2, ref long tmp3)
    {
        long z1 = tmp0 + tmp3, z2 = tmp1 + tmp2, z3 = tmp0 + tmp2, z4 = tmp1 + tmp3;
        long z5 = (z3 + z4) * Fix1175875602;
        tmp0 *= Fix0298631336;
        tmp1 *= Fix2053119869;
        tmp2 *= Fix3072711026;
        tmp3 *= Fix1501321110;
        z1 *= -Fix0899976223;
        z2 *= -Fix2562915447;
        z3 *= -Fix1961570560;
        z4 *= -Fix0390180644;
        z3 += z5;
        z4 += z5;
        tmp0 += z1 + z3;
        tmp1 += z2 + z4;
        tmp2 += z2 + z3;
        tmp3 += z1 + z4;
    }

    // ---- Vector256: 8 columns per vector ----

    public static void Transform256(short* block, int* dequant, byte* output, int stride)
    {
        Vector256<int> d0 = Dq256(block, dequant, 0), d1 = Dq256(block, dequant, 1), d2 = Dq256(block, dequant, 2),
                       d3 = Dq256(block, dequant, 3), d4 = Dq256(block, dequant, 4), d5 = Dq256(block, dequant, 5),
                       d6 = Dq256(block, dequant, 6), d7 = Dq256(block, dequant, 7);
        Vector256<int> a0 = Vector256.Abs(d0), a1 = Vector256.Abs(d1), a2 = Vector256.Abs(d2), a3 = Vector256.Abs(d3),
                       a4 = Vector256.Abs(d4), a5 = Vector256.Abs(d5), a6 = Vector256.Abs(d6), a7 = Vector256.Abs(d7);
        // |d| ≤ 2^30 each: bound every lane first so that the sums below cannot wrap.
        Vector256<int> max = Vector256.Max(Vector256.Max(Vector256.Max(a0, a1), Vector256.Max(a2, a3)),
                                           Vector256.Max(Vector256.Max(a4, a5), Vector256.Max(a6, a7)));
        if (Vector256.GreaterThanAny(max, Vector256.Create(SimdExactLimit))
            || Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7) >= SimdExactLimit)
        {
            TransformScalar(block, dequant, output, stride);
            return;
        }
        Pass256(ref d0, ref d1, ref d2, ref d3, ref d4, ref d5, ref d6, ref d7, ConstBits - Pass1Bits);
        Transpose256(ref d0, ref d1, ref d2, ref d3, ref d4, ref d5, ref d6, ref d7);
        // Pass 2 adds libjpeg's final rounding at the end (same value as its fudge on the DC term).
        Pass256(ref d0, ref d1, ref d2, ref d3, ref d4, ref d5, ref d6, ref d7, ConstBits + Pass1Bits + 3);
        Transpose256(ref d0, ref d1, ref d2, ref d3, ref d4, ref d5, ref d6, ref d7);
        Store256(d0, output);
        Store256(d1, output + stride);
        Store256(d2, output + 2 * stride);
        Store256(d3, output + 3 * stride);
        Store256(d4, output + 4 * stride);
        Store256(d5, output + 5 * stride);
        Store256(d6, output + 6 * stride);
        Store256(d7, output + 7 * stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dq256(short* block, int* dequant, int row) =>
        Vector256.WidenLower(Vector256.Create(Vector128.Load(block + row * 8), Vector128<short>.Zero)) * Vector256.Load(dequant + row * 8);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pass256(ref Vector256<int> i0, ref Vector256<int> i1, ref Vector256<int> i2, ref Vector256<int> i3,
                                ref Vector256<int> i4, ref Vector256<int> i5, ref Vector256<int> i6, ref Vector256<int> i7,
                                int shift)
    {
        Vector256<int> z2 = i2, z3 = i6;
        Vector256<int> z1 = (z2 + z3) * Fix0541196100;
        Vector256<int> tmp2 = z1 + z3 * -Fix1847759065;
        Vector256<int> tmp3 = z1 + z2 * Fix0765366865;
        Vector256<int> tmp0 = (i0 + i4) << ConstBits;
        Vector256<int> tmp1 = (i0 - i4) << ConstBits;
        Vector256<int> tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;

        tmp0 = i7; tmp1 = i5; tmp2 = i3; tmp3 = i1;
        z1 = tmp0 + tmp3;
        z2 = tmp1 + tmp2;
        z3 = tmp0 + tmp2;
        Vector256<int> z4 = tmp1 + tmp3;
        Vector256<int> z5 = (z3 + z4) * Fix1175875602;
        tmp0 *= Fix0298631336;
        tmp1 *= Fix2053119869;
        tmp2 *= Fix3072711026;
        tmp3 *= Fix1501321110;
        z1 *= -Fix0899976223;
        z2 *= -Fix2562915447;
        z3 = z3 * -Fix1961570560 + z5;
        z4 = z4 * -Fix0390180644 + z5;
        tmp0 += z1 + z3;
        tmp1 += z2 + z4;
        tmp2 += z2 + z3;
        tmp3 += z1 + z4;

        Vector256<int> round = Vector256.Create(1 << (shift - 1));
        tmp10 += round; tmp11 += round; tmp12 += round; tmp13 += round;
        i0 = Vector256.ShiftRightArithmetic(tmp10 + tmp3, shift);
        i7 = Vector256.ShiftRightArithmetic(tmp10 - tmp3, shift);
        i1 = Vector256.ShiftRightArithmetic(tmp11 + tmp2, shift);
        i6 = Vector256.ShiftRightArithmetic(tmp11 - tmp2, shift);
        i2 = Vector256.ShiftRightArithmetic(tmp12 + tmp1, shift);
        i5 = Vector256.ShiftRightArithmetic(tmp12 - tmp1, shift);
        i3 = Vector256.ShiftRightArithmetic(tmp13 + tmp0, shift);
        i4 = Vector256.ShiftRightArithmetic(tmp13 - tmp0, shift);
    }

    // 8×8 int32 transpose through a stack buffer (the JIT keeps it in L1; no ISA-specific shuffles needed).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose256(ref Vector256<int> r0, ref Vector256<int> r1, ref Vector256<int> r2, ref Vector256<int> r3,
                                     ref Vector256<int> r4, ref Vector256<int> r5, ref Vector256<int> r6, ref Vector256<int> r7)
    {
        int* m = stackalloc int[64];
        r0.Store(m); r1.Store(m + 8); r2.Store(m + 16); r3.Store(m + 24);
        r4.Store(m + 32); r5.Store(m + 40); r6.Store(m + 48); r7.Store(m + 56);
        r0 = Column256(m, 0); r1 = Column256(m, 1); r2 = Column256(m, 2); r3 = Column256(m, 3);
        r4 = Column256(m, 4); r5 = Column256(m, 5); r6 = Column256(m, 6); r7 = Column256(m, 7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Column256(int* m, int c) =>
        Vector256.Create(m[c], m[8 + c], m[16 + c], m[24 + c], m[32 + c], m[40 + c], m[48 + c], m[56 + c]);

    // Range limit of 8 pass-2 results: sign-extend 10 bits, +128, clamp to a byte.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(Vector256<int> v, byte* o)
    {
        v = Vector256.ShiftRightArithmetic(Vector256.ShiftLeft(v, 22), 22) + Vector256.Create(128);
        v = Vector256.Min(Vector256.Max(v, Vector256<int>.Zero), Vector256.Create(255));
        Vector256<short> s = Vector256.Narrow(v, v);
        Vector256<byte> b = Vector256.Narrow(s.AsUInt16(), s.AsUInt16());
        *(ulong*)o = b.AsUInt64().GetElement(0);
    }

    // ---- Vector128: the same on two halves of 4 columns ----

    public static void Transform128(short* block, int* dequant, byte* output, int stride)
    {
        long sum = 0;
        for (int k = 0; k < 64; k++) sum += Math.Abs((long)(block[k] * dequant[k]));
        if (sum >= SimdExactLimit)
        {
            TransformScalar(block, dequant, output, stride);
            return;
        }
        int* ws = stackalloc int[64];
        for (int half = 0; half < 2; half++)
        {
            int o = half * 4;
            Vector128<int> d0 = Dq128(block, dequant, 0 + o), d1 = Dq128(block, dequant, 8 + o), d2 = Dq128(block, dequant, 16 + o),
                           d3 = Dq128(block, dequant, 24 + o), d4 = Dq128(block, dequant, 32 + o), d5 = Dq128(block, dequant, 40 + o),
                           d6 = Dq128(block, dequant, 48 + o), d7 = Dq128(block, dequant, 56 + o);
            Pass128(ref d0, ref d1, ref d2, ref d3, ref d4, ref d5, ref d6, ref d7, ConstBits - Pass1Bits);
            // Store transposed: ws[c * 8 + r] = row r, column c.
            StoreColumn(d0, ws, o, 0); StoreColumn(d1, ws, o, 1); StoreColumn(d2, ws, o, 2); StoreColumn(d3, ws, o, 3);
            StoreColumn(d4, ws, o, 4); StoreColumn(d5, ws, o, 5); StoreColumn(d6, ws, o, 6); StoreColumn(d7, ws, o, 7);
        }
        // ws now holds the workspace transposed: ws[c * 8 + r]; pass 2 runs along rows r, 4 rows per vector.
        int* res = stackalloc int[64];
        for (int half = 0; half < 2; half++)
        {
            int o = half * 4;
            Vector128<int> w0 = Vector128.Load(ws + 0 + o), w1 = Vector128.Load(ws + 8 + o), w2 = Vector128.Load(ws + 16 + o),
                           w3 = Vector128.Load(ws + 24 + o), w4 = Vector128.Load(ws + 32 + o), w5 = Vector128.Load(ws + 40 + o),
                           w6 = Vector128.Load(ws + 48 + o), w7 = Vector128.Load(ws + 56 + o);
            Pass128(ref w0, ref w1, ref w2, ref w3, ref w4, ref w5, ref w6, ref w7, ConstBits + Pass1Bits + 3);
            // w_k lane j = output row (o + j), column k.
            StoreColumn(w0, res, o, 0); StoreColumn(w1, res, o, 1); StoreColumn(w2, res, o, 2); StoreColumn(w3, res, o, 3);
            StoreColumn(w4, res, o, 4); StoreColumn(w5, res, o, 5); StoreColumn(w6, res, o, 6); StoreColumn(w7, res, o, 7);
        }
        for (int r = 0; r < 8; r++)
        {
            Vector128<int> a = Vector128.Load(res + r * 8), b = Vector128.Load(res + r * 8 + 4);
            a = Vector128.ShiftRightArithmetic(Vector128.ShiftLeft(a, 22), 22) + Vector128.Create(128);
            b = Vector128.ShiftRightArithmetic(Vector128.ShiftLeft(b, 22), 22) + Vector128.Create(128);
            a = Vector128.Min(Vector128.Max(a, Vector128<int>.Zero), Vector128.Create(255));
            b = Vector128.Min(Vector128.Max(b, Vector128<int>.Zero), Vector128.Create(255));
            Vector128<short> s = Vector128.Narrow(a, b);
            Vector128<byte> bytes = Vector128.Narrow(s.AsUInt16(), s.AsUInt16());
            *(ulong*)(output + r * stride) = bytes.AsUInt64().GetElement(0);
        }
    }

    // Lane j of v is (row j + o, column c) of a pass output; store it at m[(o + j) ... ] transposed: m[c * 8 + o + j]
    // for pass 1 (so that rows of m are workspace columns) — pass 2 uses the same layout to transpose back.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreColumn(Vector128<int> v, int* m, int o, int k)
    {
        // pass 1: v = workspace row k, columns o..o+3  →  m[(o + j) * 8 + k]
        m[(o + 0) * 8 + k] = v.GetElement(0);
        m[(o + 1) * 8 + k] = v.GetElement(1);
        m[(o + 2) * 8 + k] = v.GetElement(2);
        m[(o + 3) * 8 + k] = v.GetElement(3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Dq128(short* block, int* dequant, int at) =>
        Vector128.WidenLower(Vector128.CreateScalarUnsafe(*(long*)(block + at)).AsInt16()) * Vector128.Load(dequant + at);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pass128(ref Vector128<int> i0, ref Vector128<int> i1, ref Vector128<int> i2, ref Vector128<int> i3,
                                ref Vector128<int> i4, ref Vector128<int> i5, ref Vector128<int> i6, ref Vector128<int> i7,
                                int shift)
    {
        Vector128<int> z2 = i2, z3 = i6;
        Vector128<int> z1 = (z2 + z3) * Fix0541196100;
        Vector128<int> tmp2 = z1 + z3 * -Fix1847759065;
        Vector128<int> tmp3 = z1 + z2 * Fix0765366865;
        Vector128<int> tmp0 = (i0 + i4) << ConstBits;
        Vector128<int> tmp1 = (i0 - i4) << ConstBits;
        Vector128<int> tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;

        tmp0 = i7; tmp1 = i5; tmp2 = i3; tmp3 = i1;
        z1 = tmp0 + tmp3;
        z2 = tmp1 + tmp2;
        z3 = tmp0 + tmp2;
        Vector128<int> z4 = tmp1 + tmp3;
        Vector128<int> z5 = (z3 + z4) * Fix1175875602;
        tmp0 *= Fix0298631336;
        tmp1 *= Fix2053119869;
        tmp2 *= Fix3072711026;
        tmp3 *= Fix1501321110;
        z1 *= -Fix0899976223;
        z2 *= -Fix2562915447;
        z3 = z3 * -Fix1961570560 + z5;
        z4 = z4 * -Fix0390180644 + z5;
        tmp0 += z1 + z3;
        tmp1 += z2 + z4;
        tmp2 += z2 + z3;
        tmp3 += z1 + z4;

        Vector128<int> round = Vector128.Create(1 << (shift - 1));
        tmp10 += round; tmp11 += round; tmp12 += round; tmp13 += round;
        i0 = Vector128.ShiftRightArithmetic(tmp10 + tmp3, shift);
        i7 = Vector128.ShiftRightArithmetic(tmp10 - tmp3, shift);
        i1 = Vector128.ShiftRightArithmetic(tmp11 + tmp2, shift);
        i6 = Vector128.ShiftRightArithmetic(tmp11 - tmp2, shift);
        i2 = Vector128.ShiftRightArithmetic(tmp12 + tmp1, shift);
        i5 = Vector128.ShiftRightArithmetic(tmp12 - tmp1, shift);
        i3 = Vector128.ShiftRightArithmetic(tmp13 + tmp0, shift);
        i4 = Vector128.ShiftRightArithmetic(tmp13 - tmp0, shift);
    }
}
