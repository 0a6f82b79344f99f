// AArch64 int8 microkernel: u7 activations are also valid s8, so both operands are signed bytes. One 4-byte k-quad of
// a row is broadcast to every 32-bit lane; a weight vector holds 4 consecutive k of 4 columns. With the dot-product
// extension, SDOT adds each lane's four byte products into its s32 (exact). Without it: SMULL/SMULL2 (s8 × s8 → s16,
// |product| ≤ 127·127), ADDP (adjacent s16 pairs: |sum| ≤ 2·127·127 < 32767, exact) and SADALP (adjacent s16 pairs
// widened and added to the s32 lanes), which leaves the same per-column sums.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace AotVit.Runtime.Kernels;

public static unsafe partial class Int8Gemm
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> DotNeon(Vector128<int> acc, Vector128<sbyte> a, Vector128<sbyte> b)
    {
        if (Dp.IsSupported)
        {
            return Dp.DotProduct(acc, a, b);
        }

        Vector128<short> low = AdvSimd.MultiplyWideningLower(a.GetLower(), b.GetLower());
        Vector128<short> high = AdvSimd.MultiplyWideningUpper(a, b);
        return AdvSimd.AddPairwiseWideningAndAdd(acc, AdvSimd.Arm64.AddPairwise(low, high));
    }

    // 4 rows × 8 columns (two vectors of 4 columns), 8 accumulators.
    private static void Tile4x8_Neon(int kq, byte* a0, byte* a1, byte* a2, byte* a3, sbyte* b, int stride, int* c)
    {
        Vector128<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        for (int q = 0; q < kq; q++, b += stride)
        {
            Vector128<sbyte> b0 = Vector128.Load(b), b1 = Vector128.Load(b + 16);
            int offset = 4 * q;
            Vector128<sbyte> x = Vector128.Create(Unsafe.ReadUnaligned<uint>(a0 + offset)).AsSByte();
            c00 = DotNeon(c00, x, b0); c01 = DotNeon(c01, x, b1);
            x = Vector128.Create(Unsafe.ReadUnaligned<uint>(a1 + offset)).AsSByte();
            c10 = DotNeon(c10, x, b0); c11 = DotNeon(c11, x, b1);
            x = Vector128.Create(Unsafe.ReadUnaligned<uint>(a2 + offset)).AsSByte();
            c20 = DotNeon(c20, x, b0); c21 = DotNeon(c21, x, b1);
            x = Vector128.Create(Unsafe.ReadUnaligned<uint>(a3 + offset)).AsSByte();
            c30 = DotNeon(c30, x, b0); c31 = DotNeon(c31, x, b1);
        }

        c00.Store(c); c01.Store(c + 4);
        c10.Store(c + PanelWidth); c11.Store(c + PanelWidth + 4);
        c20.Store(c + 2 * PanelWidth); c21.Store(c + 2 * PanelWidth + 4);
        c30.Store(c + 3 * PanelWidth); c31.Store(c + 3 * PanelWidth + 4);
    }
}
