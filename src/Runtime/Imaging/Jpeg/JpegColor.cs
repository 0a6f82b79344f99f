// JpegColor: upsampled component rows → RGB as Pillow 9.4's Image.open(f).convert("RGB") produces it.
// * YCbCr → RGB: libjpeg-turbo 2.1.5 jdcolor.c ycc_rgb_convert with its fixed-point tables (SCALEBITS 16):
//   R = clamp(Y + Cr_r[Cr]), G = clamp(Y + ((Cb_g[Cb] + Cr_g[Cr]) >> 16)), B = clamp(Y + Cb_b[Cb]).
//   Every table entry is an int32 linear function of (c − 128) (Cb_g carries the rounding half), so the SIMD form
//   computes the same values from products instead of lookups.
// * RGB JPEG: the components as they are (null conversion). Grey: Pillow's L → RGB, (g, g, g).
// * 4 components: libjpeg outputs CMYK (YCCK through ycck_cmyk_convert, CMYK unchanged); Pillow opens every 4-layer
//   JPEG with rawmode "CMYK;I" (JpegImagePlugin: "assume adobe conventions"), i.e. inverts all four bytes, and
//   convert("RGB") is Convert.c cmyk2rgb: nk = 255 − k, out = CLIP8(nk − MULDIV255(c, nk)).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AotVit.Runtime.Imaging.Jpeg;

internal static unsafe class JpegColor
{
    private const int ScaleBits = 16;
    private const int OneHalf = 1 << (ScaleBits - 1);
    private const int FixCrR = 91881;   // FIX(1.40200)
    private const int FixCbB = 116130;  // FIX(1.77200)
    private const int FixCrG = 46802;   // FIX(0.71414)
    private const int FixCbG = 22554;   // FIX(0.34414)

    internal static readonly int[] CrR = new int[256], CbB = new int[256], CrG = new int[256], CbG = new int[256];

    static JpegColor()
    {
        for (int i = 0; i < 256; i++)
        {
            int x = i - 128;
            CrR[i] = (FixCrR * x + OneHalf) >> ScaleBits;
            CbB[i] = (FixCbB * x + OneHalf) >> ScaleBits;
            CrG[i] = -FixCrG * x;
            CbG[i] = -FixCbG * x + OneHalf;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Clamp(int v) => (byte)(v < 0 ? 0 : v > 255 ? 255 : v);

    /// <summary>YCbCr → RGB for columns [x0, x1): rgb[3x..3x+2] from y[x], cb[x], cr[x].</summary>
    public static void YccToRgb(byte* y, byte* cb, byte* cr, byte* rgb, int x0, int x1)
    {
        int x = x0;
        if (Vector512.IsHardwareAccelerated && x1 - x0 >= 16)
        {
            x = YccToRgb512(y, cb, cr, rgb, x0, x1);
        }
        else if (Vector256.IsHardwareAccelerated && x1 - x0 >= 16)
        {
            x = YccToRgb256(y, cb, cr, rgb, x0, x1);
        }
        else if (Vector128.IsHardwareAccelerated && x1 - x0 >= 16)
        {
            x = YccToRgb128(y, cb, cr, rgb, x0, x1);
        }
        for (; x < x1; x++)
        {
            int yy = y[x], b = cb[x], r = cr[x];
            rgb[3 * x] = Clamp(yy + CrR[r]);
            rgb[3 * x + 1] = Clamp(yy + ((CbG[b] + CrG[r]) >> ScaleBits));
            rgb[3 * x + 2] = Clamp(yy + CbB[b]);
        }
    }

    /// <summary>Scalar YCbCr → RGB, the table form of jdcolor.c (the reference for the SIMD form).</summary>
    public static void YccToRgbScalar(byte* y, byte* cb, byte* cr, byte* rgb, int x0, int x1)
    {
        for (int x = x0; x < x1; x++)
        {
            int yy = y[x], b = cb[x], r = cr[x];
            rgb[3 * x] = Clamp(yy + CrR[r]);
            rgb[3 * x + 1] = Clamp(yy + ((CbG[b] + CrG[r]) >> ScaleBits));
            rgb[3 * x + 2] = Clamp(yy + CbB[b]);
        }
    }

    // 16 pixels per step: R, G, B in int32 lanes (the table entries as products), narrowed to bytes and interleaved by
    // byte shuffles; returns the first column not converted.
    private static int YccToRgb256(byte* y, byte* cb, byte* cr, byte* rgb, int x0, int x1)
    {
        int x = x0;
        for (; x + 16 <= x1; x += 16)
        {
            Vector128<byte> r, g, b;
            (Vector256<int> r0, Vector256<int> g0, Vector256<int> b0) = Convert8(y + x, cb + x, cr + x);
            (Vector256<int> r1, Vector256<int> g1, Vector256<int> b1) = Convert8(y + x + 8, cb + x + 8, cr + x + 8);
            r = Pack16(r0, r1);
            g = Pack16(g0, g1);
            b = Pack16(b0, b1);
            Interleave(r, g, b, rgb + 3 * x);
        }
        return x;
    }

    // The same with 16 pixels per int32 vector.
    private static int YccToRgb512(byte* y, byte* cb, byte* cr, byte* rgb, int x0, int x1)
    {
        Vector512<int> c128 = Vector512.Create(128), half = Vector512.Create(OneHalf);
        int x = x0;
        for (; x + 16 <= x1; x += 16)
        {
            Vector512<int> yi = Load16(y + x), bi = Load16(cb + x) - c128, ri = Load16(cr + x) - c128;
            Vector512<int> r = yi + Vector512.ShiftRightArithmetic(ri * FixCrR + half, ScaleBits);
            Vector512<int> g = yi + Vector512.ShiftRightArithmetic(bi * -FixCbG + half + ri * -FixCrG, ScaleBits);
            Vector512<int> b = yi + Vector512.ShiftRightArithmetic(bi * FixCbB + half, ScaleBits);
            Interleave(Pack16(r), Pack16(g), Pack16(b), rgb + 3 * x);
        }
        return x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Load16(byte* p) =>
        Vector512.WidenLower(Vector256.WidenLower(Vector128.Load(p).ToVector256Unsafe()).ToVector512Unsafe()).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Pack16(Vector512<int> v)
    {
        v = Vector512.Min(Vector512.Max(v, Vector512<int>.Zero), Vector512.Create(255));
        Vector256<ushort> s = Vector256.Narrow(v.GetLower().AsUInt32(), v.GetUpper().AsUInt32());
        return Vector128.Narrow(s.GetLower(), s.GetUpper());
    }

    // The same with 4 pixels per int32 vector.
    private static int YccToRgb128(byte* y, byte* cb, byte* cr, byte* rgb, int x0, int x1)
    {
        int x = x0;
        for (; x + 16 <= x1; x += 16)
        {
            var (r0, g0, b0) = Convert4(y + x, cb + x, cr + x);
            var (r1, g1, b1) = Convert4(y + x + 4, cb + x + 4, cr + x + 4);
            var (r2, g2, b2) = Convert4(y + x + 8, cb + x + 8, cr + x + 8);
            var (r3, g3, b3) = Convert4(y + x + 12, cb + x + 12, cr + x + 12);
            Interleave(Pack16(r0, r1, r2, r3), Pack16(g0, g1, g2, g3), Pack16(b0, b1, b2, b3), rgb + 3 * x);
        }
        return x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<int> R, Vector128<int> G, Vector128<int> B) Convert4(byte* y, byte* cb, byte* cr)
    {
        Vector128<int> c128 = Vector128.Create(128), half = Vector128.Create(OneHalf);
        Vector128<int> yi = Load4(y), bi = Load4(cb) - c128, ri = Load4(cr) - c128;
        Vector128<int> r = yi + Vector128.ShiftRightArithmetic(ri * FixCrR + half, ScaleBits);
        Vector128<int> g = yi + Vector128.ShiftRightArithmetic(bi * -FixCbG + half + ri * -FixCrG, ScaleBits);
        Vector128<int> b = yi + Vector128.ShiftRightArithmetic(bi * FixCbB + half, ScaleBits);
        return (r, g, b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Load4(byte* p) =>
        Vector128.WidenLower(Vector128.WidenLower(Vector128.CreateScalarUnsafe(*(uint*)p).AsByte())).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Pack16(Vector128<int> a, Vector128<int> b, Vector128<int> c, Vector128<int> d)
    {
        Vector128<int> zero = Vector128<int>.Zero, max = Vector128.Create(255);
        a = Vector128.Min(Vector128.Max(a, zero), max);
        b = Vector128.Min(Vector128.Max(b, zero), max);
        c = Vector128.Min(Vector128.Max(c, zero), max);
        d = Vector128.Min(Vector128.Max(d, zero), max);
        return Vector128.Narrow(Vector128.Narrow(a.AsUInt32(), b.AsUInt32()), Vector128.Narrow(c.AsUInt32(), d.AsUInt32()));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<int> R, Vector256<int> G, Vector256<int> B) Convert8(byte* y, byte* cb, byte* cr)
    {
        Vector256<int> c128 = Vector256.Create(128), half = Vector256.Create(OneHalf);
        Vector256<int> yi = Load8(y), bi = Load8(cb) - c128, ri = Load8(cr) - c128;
        Vector256<int> r = yi + Vector256.ShiftRightArithmetic(ri * FixCrR + half, ScaleBits);
        Vector256<int> g = yi + Vector256.ShiftRightArithmetic(bi * -FixCbG + half + ri * -FixCrG, ScaleBits);
        Vector256<int> b = yi + Vector256.ShiftRightArithmetic(bi * FixCbB + half, ScaleBits);
        return (r, g, b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Load8(byte* p) =>
        Vector256.WidenLower(Vector128.WidenLower(Vector128.CreateScalarUnsafe(*(ulong*)p).AsByte()).ToVector256Unsafe()).AsInt32();

    // Two int32 vectors → 16 bytes, each value clamped to [0, 255] (the range limit).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Pack16(Vector256<int> a, Vector256<int> b)
    {
        Vector256<int> zero = Vector256<int>.Zero, max = Vector256.Create(255);
        a = Vector256.Min(Vector256.Max(a, zero), max);
        b = Vector256.Min(Vector256.Max(b, zero), max);
        Vector256<ushort> s = Vector256.Narrow(a.AsUInt32(), b.AsUInt32());
        return Vector128.Narrow(s.GetLower(), s.GetUpper());
    }

    // 16 R, G, B bytes → 48 interleaved bytes (three byte shuffles per output vector; index 0xFF selects zero).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleave(Vector128<byte> r, Vector128<byte> g, Vector128<byte> b, byte* o)
    {
        const byte Z = 0xFF;
        Vector128<byte> o0 = Vector128.Shuffle(r, Vector128.Create((byte)0, Z, Z, 1, Z, Z, 2, Z, Z, 3, Z, Z, 4, Z, Z, 5))
                           | Vector128.Shuffle(g, Vector128.Create(Z, (byte)0, Z, Z, 1, Z, Z, 2, Z, Z, 3, Z, Z, 4, Z, Z))
                           | Vector128.Shuffle(b, Vector128.Create(Z, Z, (byte)0, Z, Z, 1, Z, Z, 2, Z, Z, 3, Z, Z, 4, Z));
        Vector128<byte> o1 = Vector128.Shuffle(r, Vector128.Create(Z, Z, (byte)6, Z, Z, 7, Z, Z, 8, Z, Z, 9, Z, Z, 10, Z))
                           | Vector128.Shuffle(g, Vector128.Create((byte)5, Z, Z, 6, Z, Z, 7, Z, Z, 8, Z, Z, 9, Z, Z, 10))
                           | Vector128.Shuffle(b, Vector128.Create(Z, (byte)5, Z, Z, 6, Z, Z, 7, Z, Z, 8, Z, Z, 9, Z, Z));
        Vector128<byte> o2 = Vector128.Shuffle(r, Vector128.Create(Z, (byte)11, Z, Z, 12, Z, Z, 13, Z, Z, 14, Z, Z, 15, Z, Z))
                           | Vector128.Shuffle(g, Vector128.Create(Z, Z, (byte)11, Z, Z, 12, Z, Z, 13, Z, Z, 14, Z, Z, 15, Z))
                           | Vector128.Shuffle(b, Vector128.Create((byte)10, Z, Z, 11, Z, Z, 12, Z, Z, 13, Z, Z, 14, Z, Z, 15));
        o0.Store(o);
        o1.Store(o + 16);
        o2.Store(o + 32);
    }

    /// <summary>RGB JPEG: components copied.</summary>
    public static void PlanarToRgb(byte* c0, byte* c1, byte* c2, byte* rgb, int x0, int x1)
    {
        for (int x = x0; x < x1; x++)
        {
            rgb[3 * x] = c0[x];
            rgb[3 * x + 1] = c1[x];
            rgb[3 * x + 2] = c2[x];
        }
    }

    /// <summary>Grey → RGB (Pillow's L → RGB).</summary>
    public static void GreyToRgb(byte* g, byte* rgb, int x0, int x1)
    {
        for (int x = x0; x < x1; x++)
        {
            byte v = g[x];
            rgb[3 * x] = v;
            rgb[3 * x + 1] = v;
            rgb[3 * x + 2] = v;
        }
    }

    /// <summary>4 components (CMYK, or YCCK when <paramref name="ycck"/>) → RGB as libjpeg then Pillow's
    /// "CMYK;I" unpacking and cmyk2rgb do it.</summary>
    public static void CmykToRgb(byte* c0, byte* c1, byte* c2, byte* k, byte* rgb, int x0, int x1, bool ycck)
    {
        for (int x = x0; x < x1; x++)
        {
            int c, m, yy;
            if (ycck)
            {
                int lum = c0[x], b = c1[x], r = c2[x];
                c = Clamp(255 - (lum + CrR[r]));
                m = Clamp(255 - (lum + ((CbG[b] + CrG[r]) >> ScaleBits)));
                yy = Clamp(255 - (lum + CbB[b]));
            }
            else
            {
                c = c0[x];
                m = c1[x];
                yy = c2[x];
            }
            // Pillow's pixel is (255 − c, 255 − m, 255 − y, 255 − k); cmyk2rgb's nk = 255 − (255 − k) = k.
            int nk = k[x];
            rgb[3 * x] = Clamp(nk - MulDiv255(255 - c, nk));
            rgb[3 * x + 1] = Clamp(nk - MulDiv255(255 - m, nk));
            rgb[3 * x + 2] = Clamp(nk - MulDiv255(255 - yy, nk));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int MulDiv255(int a, int b)
    {
        int t = a * b + 128;
        return ((t >> 8) + t) >> 8;
    }
}
