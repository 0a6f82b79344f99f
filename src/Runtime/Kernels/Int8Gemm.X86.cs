// x86 int8 microkernels: u7 activations × s8 weights by pmaddubsw (u8 × s8 → s16, adjacent pairs summed: exact, as
// |pair| ≤ 2·127·127 < 32767) and pmaddwd by ones (s16 pairs → s32), accumulated with paddd. One 4-byte k-quad of a
// row is broadcast to every 32-bit lane; a weight vector holds 4 consecutive k of 16 (zmm), 8 (ymm) or 4 (xmm) columns,
// so each s32 lane ends as one column's dot product over the quad. The whole K runs in registers; tiles are [4][64].
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AotVit.Runtime.Kernels;

public static unsafe partial class Int8Gemm
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Dot512(Vector512<byte> a, Vector512<sbyte> b, Vector512<short> ones) =>
        Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a, b), ones);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Broadcast512(byte* a) => Vector512.Create(Unsafe.ReadUnaligned<uint>(a)).AsByte();

    // 4 rows × 64 columns, 16 zmm accumulators; b is a full panel (256 bytes per k-quad).
    private static void Tile4x64_Avx512(int kq, byte* a0, byte* a1, byte* a2, byte* a3, sbyte* b, int* c)
    {
        Vector512<short> ones = Vector512.Create((short)1);
        Vector512<int> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<int> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        for (int q = 0; q < kq; q++, b += 4 * PanelWidth)
        {
            Vector512<sbyte> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 64), b2 = Vector512.Load(b + 128), b3 = Vector512.Load(b + 192);
            int offset = 4 * q;
            Vector512<byte> x = Broadcast512(a0 + offset);
            c00 += Dot512(x, b0, ones); c01 += Dot512(x, b1, ones); c02 += Dot512(x, b2, ones); c03 += Dot512(x, b3, ones);
            x = Broadcast512(a1 + offset);
            c10 += Dot512(x, b0, ones); c11 += Dot512(x, b1, ones); c12 += Dot512(x, b2, ones); c13 += Dot512(x, b3, ones);
            x = Broadcast512(a2 + offset);
            c20 += Dot512(x, b0, ones); c21 += Dot512(x, b1, ones); c22 += Dot512(x, b2, ones); c23 += Dot512(x, b3, ones);
            x = Broadcast512(a3 + offset);
            c30 += Dot512(x, b0, ones); c31 += Dot512(x, b1, ones); c32 += Dot512(x, b2, ones); c33 += Dot512(x, b3, ones);
        }

        c00.Store(c); c01.Store(c + 16); c02.Store(c + 32); c03.Store(c + 48);
        c10.Store(c + 64); c11.Store(c + 80); c12.Store(c + 96); c13.Store(c + 112);
        c20.Store(c + 128); c21.Store(c + 144); c22.Store(c + 160); c23.Store(c + 176);
        c30.Store(c + 192); c31.Store(c + 208); c32.Store(c + 224); c33.Store(c + 240);
    }

    // 5 rows × 64 columns, 20 zmm accumulators (of 32: 4 weight vectors, the broadcast, a product and the ones remain).
    private static void Tile5x64_Avx512(int kq, byte* a0, byte* a1, byte* a2, byte* a3, byte* a4, sbyte* b, int* c)
    {
        Vector512<short> ones = Vector512.Create((short)1);
        Vector512<int> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<int> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        Vector512<int> c40 = default, c41 = default, c42 = default, c43 = default;
        for (int q = 0; q < kq; q++, b += 4 * PanelWidth)
        {
            Vector512<sbyte> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 64), b2 = Vector512.Load(b + 128), b3 = Vector512.Load(b + 192);
            int offset = 4 * q;
            Vector512<byte> x = Broadcast512(a0 + offset);
            c00 += Dot512(x, b0, ones); c01 += Dot512(x, b1, ones); c02 += Dot512(x, b2, ones); c03 += Dot512(x, b3, ones);
            x = Broadcast512(a1 + offset);
            c10 += Dot512(x, b0, ones); c11 += Dot512(x, b1, ones); c12 += Dot512(x, b2, ones); c13 += Dot512(x, b3, ones);
            x = Broadcast512(a2 + offset);
            c20 += Dot512(x, b0, ones); c21 += Dot512(x, b1, ones); c22 += Dot512(x, b2, ones); c23 += Dot512(x, b3, ones);
            x = Broadcast512(a3 + offset);
            c30 += Dot512(x, b0, ones); c31 += Dot512(x, b1, ones); c32 += Dot512(x, b2, ones); c33 += Dot512(x, b3, ones);
            x = Broadcast512(a4 + offset);
            c40 += Dot512(x, b0, ones); c41 += Dot512(x, b1, ones); c42 += Dot512(x, b2, ones); c43 += Dot512(x, b3, ones);
        }

        c00.Store(c); c01.Store(c + 16); c02.Store(c + 32); c03.Store(c + 48);
        c10.Store(c + 64); c11.Store(c + 80); c12.Store(c + 96); c13.Store(c + 112);
        c20.Store(c + 128); c21.Store(c + 144); c22.Store(c + 160); c23.Store(c + 176);
        c30.Store(c + 192); c31.Store(c + 208); c32.Store(c + 224); c33.Store(c + 240);
        c40.Store(c + 256); c41.Store(c + 272); c42.Store(c + 288); c43.Store(c + 304);
    }

    // 4 rows × 16 columns (a narrow last panel); b advances by stride bytes per k-quad.
    private static void Tile4x16_Avx512(int kq, byte* a0, byte* a1, byte* a2, byte* a3, sbyte* b, int stride, int* c)
    {
        Vector512<short> ones = Vector512.Create((short)1);
        Vector512<int> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int q = 0; q < kq; q++, b += stride)
        {
            Vector512<sbyte> w = Vector512.Load(b);
            int offset = 4 * q;
            c0 += Dot512(Broadcast512(a0 + offset), w, ones);
            c1 += Dot512(Broadcast512(a1 + offset), w, ones);
            c2 += Dot512(Broadcast512(a2 + offset), w, ones);
            c3 += Dot512(Broadcast512(a3 + offset), w, ones);
        }

        c0.Store(c); c1.Store(c + PanelWidth); c2.Store(c + 2 * PanelWidth); c3.Store(c + 3 * PanelWidth);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot256(Vector256<byte> a, Vector256<sbyte> b, Vector256<short> ones) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a, b), ones);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Broadcast256(byte* a) => Vector256.Create(Unsafe.ReadUnaligned<uint>(a)).AsByte();

    // AVX2: 4 rows × 16 columns (two ymm of 8 columns), 8 accumulators of the 16 ymm registers.
    private static void Tile4x16_Avx2(int kq, byte* a0, byte* a1, byte* a2, byte* a3, sbyte* b, int stride, int* c)
    {
        Vector256<short> ones = Vector256.Create((short)1);
        Vector256<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        for (int q = 0; q < kq; q++, b += stride)
        {
            Vector256<sbyte> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 32);
            int offset = 4 * q;
            Vector256<byte> x = Broadcast256(a0 + offset);
            c00 += Dot256(x, b0, ones); c01 += Dot256(x, b1, ones);
            x = Broadcast256(a1 + offset);
            c10 += Dot256(x, b0, ones); c11 += Dot256(x, b1, ones);
            x = Broadcast256(a2 + offset);
            c20 += Dot256(x, b0, ones); c21 += Dot256(x, b1, ones);
            x = Broadcast256(a3 + offset);
            c30 += Dot256(x, b0, ones); c31 += Dot256(x, b1, ones);
        }

        c00.Store(c); c01.Store(c + 8);
        c10.Store(c + PanelWidth); c11.Store(c + PanelWidth + 8);
        c20.Store(c + 2 * PanelWidth); c21.Store(c + 2 * PanelWidth + 8);
        c30.Store(c + 3 * PanelWidth); c31.Store(c + 3 * PanelWidth + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Dot128(Vector128<byte> a, Vector128<sbyte> b, Vector128<short> ones) =>
        Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(a, b), ones);

    // SSSE3: 4 rows × 8 columns (two xmm of 4 columns), 8 accumulators.
    private static void Tile4x8_Ssse3(int kq, byte* a0, byte* a1, byte* a2, byte* a3, sbyte* b, int stride, int* c)
    {
        Vector128<short> ones = Vector128.Create((short)1);
        Vector128<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        for (int q = 0; q < kq; q++, b += stride)
        {
            Vector128<sbyte> b0 = Vector128.Load(b), b1 = Vector128.Load(b + 16);
            int offset = 4 * q;
            Vector128<byte> x = Vector128.Create(Unsafe.ReadUnaligned<uint>(a0 + offset)).AsByte();
            c00 += Dot128(x, b0, ones); c01 += Dot128(x, b1, ones);
            x = Vector128.Create(Unsafe.ReadUnaligned<uint>(a1 + offset)).AsByte();
            c10 += Dot128(x, b0, ones); c11 += Dot128(x, b1, ones);
            x = Vector128.Create(Unsafe.ReadUnaligned<uint>(a2 + offset)).AsByte();
            c20 += Dot128(x, b0, ones); c21 += Dot128(x, b1, ones);
            x = Vector128.Create(Unsafe.ReadUnaligned<uint>(a3 + offset)).AsByte();
            c30 += Dot128(x, b0, ones); c31 += Dot128(x, b1, ones);
        }

        c00.Store(c); c01.Store(c + 4);
        c10.Store(c + PanelWidth); c11.Store(c + PanelWidth + 4);
        c20.Store(c + 2 * PanelWidth); c21.Store(c + 2 * PanelWidth + 4);
        c30.Store(c + 3 * PanelWidth); c31.Store(c + 3 * PanelWidth + 4);
    }
}
