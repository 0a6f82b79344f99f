// JpegIdct: dequantisation + the ISLOW integer inverse DCT exactly as Debian's Pillow 9.4 runs it on x86-64:
// libjpeg-turbo 2.1.5's SIMD jsimd_idct_islow (simd/x86_64/jidctint-sse2.asm and -avx2.asm, which agree), i.e.
// jidctint.c's algorithm (CONST_BITS 13, PASS1_BITS 2, same constants and rounding) in the SIMD code's 16-bit
// arithmetic. For every block an encoder produces this equals jidctint.c's C code; for abnormal coefficient blocks
// (hand-made or corrupt files) the two differ and Pillow gives the SIMD result, so that is what is reproduced.
//
// Invariants (both implementations, per 1-D pass over 8 int16 inputs i0..i7):
// * Dequantised inputs are the low 16 bits of coefficient × quantiser (pmullw).
// * Even part: tmp3 = i2·(F0.541 + F0.765) + i6·F0.541, tmp2 = i2·F0.541 + i6·(F0.541 − F1.847) (pmaddwd, exact),
//   tmp0/tmp1 = wrap16(i0 ± i4) << 13. Odd part: z3 = wrap16(i7 + i3), z4 = wrap16(i5 + i1), and the four odd
//   outputs as the pmaddwd pairs of the asm (exact products, int32 sums). Every later sum wraps in int32 as vpaddd.
// * Each output is (x + 2^(n−1)) >> n with int32 wrap, saturated to int16 (packssdw); n = 11 after pass 1, 18 after
//   pass 2, whose result is saturated again to int8 (packsswb) and offset by 128: clamp(x + 128, 0, 255).
// * Pass 1 shortcut: when rows 1–7 of the whole block are zero, every workspace value of column c is
//   wrap16(i0_c << 2) (psllw), which differs from the general formula's saturation when |i0_c| ≥ 8192.
// The scalar form computes the same in int arithmetic; the Vector256/Vector128 forms hold one column (pass 1) or row
// (pass 2) per int32 lane, emulating wrap16 by (x << 16) >> 16 and the saturations by min/max.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

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

    /// <summary>libjpeg's ISLOW multiplier table: the natural-order quantisers as 16-bit signed values.</summary>
    public static int[] DequantTable(ReadOnlySpan<ushort> quant)
    {
        var table = new int[64];
        for (int k = 0; k < 64; k++) table[k] = (short)quant[k];
        return table;
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

    private const int E3a = Fix0541196100 + Fix0765366865, E2b = Fix0541196100 - Fix1847759065;
    private const int Z3a = Fix1175875602 - Fix1961570560, Z4b = Fix1175875602 - Fix0390180644;
    private const int T0a = Fix0298631336 - Fix0899976223, T1a = Fix2053119869 - Fix2562915447;
    private const int T3b = Fix1501321110 - Fix0899976223, T2b = Fix3072711026 - Fix2562915447;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Sat16(int x) => x < short.MinValue ? short.MinValue : x > short.MaxValue ? short.MaxValue : x;

    // One 1-D pass over int16 inputs v[0..7] (stride vs), outputs saturated to int16 at o[0..7] (stride os).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PassScalar(int* v, int vs, int* o, int os, int shift)
    {
        int i0 = v[0], i1 = v[vs], i2 = v[2 * vs], i3 = v[3 * vs], i4 = v[4 * vs], i5 = v[5 * vs], i6 = v[6 * vs], i7 = v[7 * vs];
        int tmp3 = i2 * E3a + i6 * Fix0541196100;
        int tmp2 = i2 * Fix0541196100 + i6 * E2b;
        int tmp0 = (short)(i0 + i4) << ConstBits;
        int tmp1 = (short)(i0 - i4) << ConstBits;
        int tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
        int z3 = (short)(i7 + i3), z4 = (short)(i5 + i1);
        int z3p = z3 * Z3a + z4 * Fix1175875602;
        int z4p = z3 * Fix1175875602 + z4 * Z4b;
        int t0 = i7 * T0a + i1 * -Fix0899976223 + z3p;
        int t1 = i5 * T1a + i3 * -Fix2562915447 + z4p;
        int t3 = i7 * -Fix0899976223 + i1 * T3b + z4p;
        int t2 = i5 * -Fix2562915447 + i3 * T2b + z3p;
        int round = 1 << (shift - 1);
        o[0] = Sat16((tmp10 + t3 + round) >> shift);
        o[7 * os] = Sat16((tmp10 - t3 + round) >> shift);
        o[os] = Sat16((tmp11 + t2 + round) >> shift);
        o[6 * os] = Sat16((tmp11 - t2 + round) >> shift);
        o[2 * os] = Sat16((tmp12 + t1 + round) >> shift);
        o[5 * os] = Sat16((tmp12 - t1 + round) >> shift);
        o[3 * os] = Sat16((tmp13 + t0 + round) >> shift);
        o[4 * os] = Sat16((tmp13 - t0 + round) >> shift);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool AcRowsZero(short* block)
    {
        long* p = (long*)(block + 8);
        long acc = 0;
        for (int k = 0; k < 14; k++) acc |= p[k];
        return acc == 0;
    }

    /// <summary>The x86 SIMD ISLOW IDCT (see the header), scalar.</summary>
    public static void TransformScalar(short* block, int* dequant, byte* output, int stride)
    {
        int* input = stackalloc int[64];
        int* ws = stackalloc int[64];
        int* res = stackalloc int[64];
        for (int k = 0; k < 64; k++) input[k] = (short)(block[k] * dequant[k]);
        if (AcRowsZero(block))
        {
            for (int c = 0; c < 8; c++)
            {
                int dc = (short)(input[c] << Pass1Bits);
                for (int r = 0; r < 8; r++) ws[r * 8 + c] = dc;
            }
        }
        else
        {
            for (int c = 0; c < 8; c++) PassScalar(input + c, 8, ws + c, 8, ConstBits - Pass1Bits);
        }
        for (int r = 0; r < 8; r++) PassScalar(ws + r * 8, 1, res + r * 8, 1, ConstBits + Pass1Bits + 3);
        for (int r = 0; r < 8; r++)
        {
            for (int c = 0; c < 8; c++)
            {
                int x = res[r * 8 + c] + 128;
                output[r * stride + c] = (byte)(x < 0 ? 0 : x > 255 ? 255 : x);
            }
        }
    }

    // ---- Vector256: 8 columns (pass 1) or rows (pass 2) per vector ----

    public static void Transform256(short* block, int* dequant, byte* output, int stride)
    {
        Vector256<int> d0 = Dq256(block, dequant, 0), d1, d2, d3, d4, d5, d6, d7;
        Vector128<short> ac = Vector128.Load(block + 8) | Vector128.Load(block + 16) | Vector128.Load(block + 24)
                            | Vector128.Load(block + 32) | Vector128.Load(block + 40) | Vector128.Load(block + 48)
                            | Vector128.Load(block + 56);
        if (ac == Vector128<short>.Zero)
        {
            d0 = Wrap16(d0 << Pass1Bits);
            d1 = d2 = d3 = d4 = d5 = d6 = d7 = d0;
        }
        else
        {
            d1 = Dq256(block, dequant, 1); d2 = Dq256(block, dequant, 2); d3 = Dq256(block, dequant, 3);
            d4 = Dq256(block, dequant, 4); d5 = Dq256(block, dequant, 5); d6 = Dq256(block, dequant, 6);
            d7 = Dq256(block, dequant, 7);
            Pass256(ref d0, ref d1, ref d2, ref d3, ref d4, ref d5, ref d6, ref d7, ConstBits - Pass1Bits);
        }
        Transpose256(ref d0, ref d1, ref d2, ref d3, ref d4, ref d5, ref d6, ref d7);
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
    private static Vector256<int> Wrap16(Vector256<int> v) => Vector256.ShiftRightArithmetic(v << 16, 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Sat16(Vector256<int> v) =>
        Vector256.Min(Vector256.Max(v, Vector256.Create((int)short.MinValue)), Vector256.Create((int)short.MaxValue));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dq256(short* block, int* dequant, int row) =>
        Wrap16(Vector256.WidenLower(Vector128.Load(block + row * 8).ToVector256Unsafe()) * Vector256.Load(dequant + row * 8));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pass256(ref Vector256<int> i0, ref Vector256<int> i1, ref Vector256<int> i2, ref Vector256<int> i3,
                                ref Vector256<int> i4, ref Vector256<int> i5, ref Vector256<int> i6, ref Vector256<int> i7,
                                int shift)
    {
        Vector256<int> tmp3 = i2 * E3a + i6 * Fix0541196100;
        Vector256<int> tmp2 = i2 * Fix0541196100 + i6 * E2b;
        Vector256<int> tmp0 = Wrap16(i0 + i4) << ConstBits;
        Vector256<int> tmp1 = Wrap16(i0 - i4) << ConstBits;
        Vector256<int> round = Vector256.Create(1 << (shift - 1));
        Vector256<int> tmp10 = tmp0 + tmp3 + round, tmp13 = tmp0 - tmp3 + round, tmp11 = tmp1 + tmp2 + round, tmp12 = tmp1 - tmp2 + round;
        Vector256<int> z3 = Wrap16(i7 + i3), z4 = Wrap16(i5 + i1);
        Vector256<int> z3p = z3 * Z3a + z4 * Fix1175875602;
        Vector256<int> z4p = z3 * Fix1175875602 + z4 * Z4b;
        Vector256<int> t0 = i7 * T0a + i1 * -Fix0899976223 + z3p;
        Vector256<int> t1 = i5 * T1a + i3 * -Fix2562915447 + z4p;
        Vector256<int> t3 = i7 * -Fix0899976223 + i1 * T3b + z4p;
        Vector256<int> t2 = i5 * -Fix2562915447 + i3 * T2b + z3p;
        i0 = Sat16(Vector256.ShiftRightArithmetic(tmp10 + t3, shift));
        i7 = Sat16(Vector256.ShiftRightArithmetic(tmp10 - t3, shift));
        i1 = Sat16(Vector256.ShiftRightArithmetic(tmp11 + t2, shift));
        i6 = Sat16(Vector256.ShiftRightArithmetic(tmp11 - t2, shift));
        i2 = Sat16(Vector256.ShiftRightArithmetic(tmp12 + t1, shift));
        i5 = Sat16(Vector256.ShiftRightArithmetic(tmp12 - t1, shift));
        i3 = Sat16(Vector256.ShiftRightArithmetic(tmp13 + t0, shift));
        i4 = Sat16(Vector256.ShiftRightArithmetic(tmp13 - t0, shift));
    }

    // 8×8 int32 transpose: AVX2 unpack/permute when available, else through a stack buffer.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose256(ref Vector256<int> r0, ref Vector256<int> r1, ref Vector256<int> r2, ref Vector256<int> r3,
                                     ref Vector256<int> r4, ref Vector256<int> r5, ref Vector256<int> r6, ref Vector256<int> r7)
    {
        if (Avx2.IsSupported)
        {
            Vector256<int> t0 = Avx2.UnpackLow(r0, r1), t1 = Avx2.UnpackHigh(r0, r1), t2 = Avx2.UnpackLow(r2, r3), t3 = Avx2.UnpackHigh(r2, r3);
            Vector256<int> t4 = Avx2.UnpackLow(r4, r5), t5 = Avx2.UnpackHigh(r4, r5), t6 = Avx2.UnpackLow(r6, r7), t7 = Avx2.UnpackHigh(r6, r7);
            Vector256<int> u0 = Avx2.UnpackLow(t0.AsInt64(), t2.AsInt64()).AsInt32(), u1 = Avx2.UnpackHigh(t0.AsInt64(), t2.AsInt64()).AsInt32();
            Vector256<int> u2 = Avx2.UnpackLow(t1.AsInt64(), t3.AsInt64()).AsInt32(), u3 = Avx2.UnpackHigh(t1.AsInt64(), t3.AsInt64()).AsInt32();
            Vector256<int> u4 = Avx2.UnpackLow(t4.AsInt64(), t6.AsInt64()).AsInt32(), u5 = Avx2.UnpackHigh(t4.AsInt64(), t6.AsInt64()).AsInt32();
            Vector256<int> u6 = Avx2.UnpackLow(t5.AsInt64(), t7.AsInt64()).AsInt32(), u7 = Avx2.UnpackHigh(t5.AsInt64(), t7.AsInt64()).AsInt32();
            r0 = Avx2.Permute2x128(u0, u4, 0x20); r1 = Avx2.Permute2x128(u1, u5, 0x20);
            r2 = Avx2.Permute2x128(u2, u6, 0x20); r3 = Avx2.Permute2x128(u3, u7, 0x20);
            r4 = Avx2.Permute2x128(u0, u4, 0x31); r5 = Avx2.Permute2x128(u1, u5, 0x31);
            r6 = Avx2.Permute2x128(u2, u6, 0x31); r7 = Avx2.Permute2x128(u3, u7, 0x31);
            return;
        }
        int* m = stackalloc int[64];
        r0.Store(m); r1.Store(m + 8); r2.Store(m + 16); r3.Store(m + 24);
        r4.Store(m + 32); r5.Store(m + 40); r6.Store(m + 48); r7.Store(m + 56);
        r0 = Column256(m, 0); r1 = Column256(m, 1); r2 = Column256(m, 2); r3 = Column256(m, 3);
        r4 = Column256(m, 4); r5 = Column256(m, 5); r6 = Column256(m, 6); r7 = Column256(m, 7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Column256(int* m, int c) =>
        Vector256.Create(m[c], m[8 + c], m[16 + c], m[24 + c], m[32 + c], m[40 + c], m[48 + c], m[56 + c]);

    // 8 pass-2 results (already int16-saturated) → clamp(x + 128, 0, 255).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(Vector256<int> v, byte* o)
    {
        v = Vector256.Min(Vector256.Max(v + Vector256.Create(128), Vector256<int>.Zero), Vector256.Create(255));
        Vector256<short> s = Vector256.Narrow(v, v);
        Vector256<byte> b = Vector256.Narrow(s.AsUInt16(), s.AsUInt16());
        *(ulong*)o = b.AsUInt64().GetElement(0);
    }

    // ---- Vector128: the same on two halves of 4 columns / rows, transposed in 4×4 quarters ----

    public static void Transform128(short* block, int* dequant, byte* output, int stride)
    {
        Vector128<int> a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7;   // a: columns 0–3, b: 4–7
        if (AcRowsZero(block))
        {
            a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = Wrap16(Dq128(block, dequant, 0) << Pass1Bits);
            b0 = b1 = b2 = b3 = b4 = b5 = b6 = b7 = Wrap16(Dq128(block, dequant, 4) << Pass1Bits);
        }
        else
        {
            a0 = Dq128(block, dequant, 0); a1 = Dq128(block, dequant, 8); a2 = Dq128(block, dequant, 16); a3 = Dq128(block, dequant, 24);
            a4 = Dq128(block, dequant, 32); a5 = Dq128(block, dequant, 40); a6 = Dq128(block, dequant, 48); a7 = Dq128(block, dequant, 56);
            b0 = Dq128(block, dequant, 4); b1 = Dq128(block, dequant, 12); b2 = Dq128(block, dequant, 20); b3 = Dq128(block, dequant, 28);
            b4 = Dq128(block, dequant, 36); b5 = Dq128(block, dequant, 44); b6 = Dq128(block, dequant, 52); b7 = Dq128(block, dequant, 60);
            Pass128(ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7, ConstBits - Pass1Bits);
            Pass128(ref b0, ref b1, ref b2, ref b3, ref b4, ref b5, ref b6, ref b7, ConstBits - Pass1Bits);
        }
        // Workspace row r = (a_r | b_r). Pass 2 needs, per workspace column k, the rows 0–3 (p) and 4–7 (q).
        Transpose4(ref a0, ref a1, ref a2, ref a3);   // → column 0..3, rows 0–3
        Transpose4(ref b0, ref b1, ref b2, ref b3);   // → column 4..7, rows 0–3
        Transpose4(ref a4, ref a5, ref a6, ref a7);   // → column 0..3, rows 4–7
        Transpose4(ref b4, ref b5, ref b6, ref b7);   // → column 4..7, rows 4–7
        Pass128(ref a0, ref a1, ref a2, ref a3, ref b0, ref b1, ref b2, ref b3, ConstBits + Pass1Bits + 3);
        Pass128(ref a4, ref a5, ref a6, ref a7, ref b4, ref b5, ref b6, ref b7, ConstBits + Pass1Bits + 3);
        // Output column k, rows 0–3 in (a0..a3, b0..b3)[k], rows 4–7 in (a4..a7, b4..b7)[k]: transpose back to rows.
        Transpose4(ref a0, ref a1, ref a2, ref a3);   // rows 0–3, columns 0–3
        Transpose4(ref b0, ref b1, ref b2, ref b3);   // rows 0–3, columns 4–7
        Transpose4(ref a4, ref a5, ref a6, ref a7);   // rows 4–7, columns 0–3
        Transpose4(ref b4, ref b5, ref b6, ref b7);   // rows 4–7, columns 4–7
        Store128(a0, b0, output);
        Store128(a1, b1, output + stride);
        Store128(a2, b2, output + 2 * stride);
        Store128(a3, b3, output + 3 * stride);
        Store128(a4, b4, output + 4 * stride);
        Store128(a5, b5, output + 5 * stride);
        Store128(a6, b6, output + 6 * stride);
        Store128(a7, b7, output + 7 * stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store128(Vector128<int> left, Vector128<int> right, byte* o)
    {
        Vector128<int> zero = Vector128<int>.Zero, max = Vector128.Create(255), c = Vector128.Create(128);
        left = Vector128.Min(Vector128.Max(left + c, zero), max);
        right = Vector128.Min(Vector128.Max(right + c, zero), max);
        Vector128<short> s = Vector128.Narrow(left, right);
        *(ulong*)o = Vector128.Narrow(s.AsUInt16(), s.AsUInt16()).AsUInt64().ToScalar();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4(ref Vector128<int> r0, ref Vector128<int> r1, ref Vector128<int> r2, ref Vector128<int> r3)
    {
        if (Sse2.IsSupported)
        {
            Vector128<int> t0 = Sse2.UnpackLow(r0, r1), t1 = Sse2.UnpackHigh(r0, r1), t2 = Sse2.UnpackLow(r2, r3), t3 = Sse2.UnpackHigh(r2, r3);
            r0 = Sse2.UnpackLow(t0.AsInt64(), t2.AsInt64()).AsInt32();
            r1 = Sse2.UnpackHigh(t0.AsInt64(), t2.AsInt64()).AsInt32();
            r2 = Sse2.UnpackLow(t1.AsInt64(), t3.AsInt64()).AsInt32();
            r3 = Sse2.UnpackHigh(t1.AsInt64(), t3.AsInt64()).AsInt32();
            return;
        }
        if (AdvSimd.Arm64.IsSupported)
        {
            Vector128<int> t0 = AdvSimd.Arm64.ZipLow(r0, r1), t1 = AdvSimd.Arm64.ZipHigh(r0, r1);
            Vector128<int> t2 = AdvSimd.Arm64.ZipLow(r2, r3), t3 = AdvSimd.Arm64.ZipHigh(r2, r3);
            r0 = AdvSimd.Arm64.ZipLow(t0.AsInt64(), t2.AsInt64()).AsInt32();
            r1 = AdvSimd.Arm64.ZipHigh(t0.AsInt64(), t2.AsInt64()).AsInt32();
            r2 = AdvSimd.Arm64.ZipLow(t1.AsInt64(), t3.AsInt64()).AsInt32();
            r3 = AdvSimd.Arm64.ZipHigh(t1.AsInt64(), t3.AsInt64()).AsInt32();
            return;
        }
        Vector128<int> c0 = Vector128.Create(r0[0], r1[0], r2[0], r3[0]), c1 = Vector128.Create(r0[1], r1[1], r2[1], r3[1]);
        Vector128<int> c2 = Vector128.Create(r0[2], r1[2], r2[2], r3[2]), c3 = Vector128.Create(r0[3], r1[3], r2[3], r3[3]);
        (r0, r1, r2, r3) = (c0, c1, c2, c3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Wrap16(Vector128<int> v) => Vector128.ShiftRightArithmetic(v << 16, 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Sat16(Vector128<int> v) =>
        Vector128.Min(Vector128.Max(v, Vector128.Create((int)short.MinValue)), Vector128.Create((int)short.MaxValue));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Dq128(short* block, int* dequant, int at) =>
        Wrap16(Vector128.WidenLower(Vector128.CreateScalarUnsafe(*(long*)(block + at)).AsInt16()) * Vector128.Load(dequant + at));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pass128(ref Vector128<int> i0, ref Vector128<int> i1, ref Vector128<int> i2, ref Vector128<int> i3,
                                ref Vector128<int> i4, ref Vector128<int> i5, ref Vector128<int> i6, ref Vector128<int> i7,
                                int shift)
    {
        Vector128<int> tmp3 = i2 * E3a + i6 * Fix0541196100;
        Vector128<int> tmp2 = i2 * Fix0541196100 + i6 * E2b;
        Vector128<int> tmp0 = Wrap16(i0 + i4) << ConstBits;
        Vector128<int> tmp1 = Wrap16(i0 - i4) << ConstBits;
        Vector128<int> round = Vector128.Create(1 << (shift - 1));
        Vector128<int> tmp10 = tmp0 + tmp3 + round, tmp13 = tmp0 - tmp3 + round, tmp11 = tmp1 + tmp2 + round, tmp12 = tmp1 - tmp2 + round;
        Vector128<int> z3 = Wrap16(i7 + i3), z4 = Wrap16(i5 + i1);
        Vector128<int> z3p = z3 * Z3a + z4 * Fix1175875602;
        Vector128<int> z4p = z3 * Fix1175875602 + z4 * Z4b;
        Vector128<int> t0 = i7 * T0a + i1 * -Fix0899976223 + z3p;
        Vector128<int> t1 = i5 * T1a + i3 * -Fix2562915447 + z4p;
        Vector128<int> t3 = i7 * -Fix0899976223 + i1 * T3b + z4p;
        Vector128<int> t2 = i5 * -Fix2562915447 + i3 * T2b + z3p;
        i0 = Sat16(Vector128.ShiftRightArithmetic(tmp10 + t3, shift));
        i7 = Sat16(Vector128.ShiftRightArithmetic(tmp10 - t3, shift));
        i1 = Sat16(Vector128.ShiftRightArithmetic(tmp11 + t2, shift));
        i6 = Sat16(Vector128.ShiftRightArithmetic(tmp11 - t2, shift));
        i2 = Sat16(Vector128.ShiftRightArithmetic(tmp12 + t1, shift));
        i5 = Sat16(Vector128.ShiftRightArithmetic(tmp12 - t1, shift));
        i3 = Sat16(Vector128.ShiftRightArithmetic(tmp13 + t0, shift));
        i4 = Sat16(Vector128.ShiftRightArithmetic(tmp13 - t0, shift));
    }
}
