// ResampleKernels: the inner loops of Pillow's 8-bit resample (ResampleAxis) with SIMD, computing exactly the same
// integer sums as the scalar loops: every product pixel·coefficient and every partial sum is an int32, as in Pillow
// (no overflow: coefficients sum to about 2^22 and pixels are below 2^8).
//
// First pass over an interleaved RGB row: for output j the taps are the 3·Count[j] consecutive bytes from 3·First[j].
// A vector of L int32 lanes takes T = ⌊L/3⌋ taps at a time (L = 16: 5 taps, 8: 2 taps, 4: 1 tap), lane l holding byte
// l of the group (channel l mod 3) times tap ⌊l/3⌋'s coefficient, and the lanes past 3T multiplied by 0; the
// interleaved coefficient table (ResampleAxis.InterleavedWeights) is laid out that way, one row of groups per output.
// Lanes of one channel are then summed with lane shifts, so lanes 0, 1, 2 end as R, G, B.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AotVit.Runtime.Imaging;

internal static unsafe class ResampleKernels
{
    /// <summary>int32 lanes of the widest accelerated vector with a byte→int32 widening load: 16, 8, 4, or 0 (scalar).</summary>
    public static int Lanes { get; } =
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? 16
        : Vector256.IsHardwareAccelerated && Avx2.IsSupported ? 8
        : Vector128.IsHardwareAccelerated ? 4
        : 0;

    /// <summary>
    /// First pass over one RGB row: outputs [j0, j1) into output[(j − j0)·3 ..]. row: rowBytes bytes, pixel x at 3x.
    /// </summary>
    public static void HorizontalRgb(ResampleAxis axis, byte* row, int rowBytes, int j0, int j1, byte* output)
    {
        int lanes = Lanes;
        if (lanes == 0)
        {
            for (int j = j0; j < j1; j++) ScalarOutput(axis, row, j, output + (j - j0) * 3);
            return;
        }
        int tapsPerGroup = lanes / 3;
        int groups = axis.GroupsPerOutput(lanes);
        int* weights = axis.InterleavedWeights(lanes);
        for (int j = j0; j < j1; j++)
        {
            byte* o = output + (j - j0) * 3;
            int start = axis.First[j] * 3;
            int used = (axis.Count[j] + tapsPerGroup - 1) / tapsPerGroup;
            // The last group reads `lanes` bytes (its own and up to 3T..lanes − 1 beyond, times 0): only where the row has them.
            if (start + (used - 1) * tapsPerGroup * 3 + lanes > rowBytes)
            {
                ScalarOutput(axis, row, j, o);
                continue;
            }
            int* w = weights + (long)j * groups * lanes;
            if (lanes == 16) Output512(row + start, w, used, o);
            else if (lanes == 8) Output256(row + start, w, used, o);
            else Output128(row + start, w, used, o);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Output512(byte* taps, int* w, int groups, byte* o)
    {
        Vector512<int> sum = Vector512<int>.Zero;
        for (int g = 0; g < groups; g++)
        {
            Vector512<int> pixels = Avx512F.ConvertToVector512Int32(Vector128.Load(taps + g * 15));
            sum += pixels * Vector512.Load(w + g * 16);
        }
        // Lanes 0..14 are 5 pixels of 3 channels: fold the groups of 3 onto lanes 0..2.
        Vector512<int> s = sum + Vector512.Shuffle(sum, Vector512.Create(3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 15, 15, 15));
        s += Vector512.Shuffle(s, Vector512.Create(6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 15, 15, 15, 15, 15, 15));
        s += Vector512.Shuffle(sum, Vector512.Create(12, 13, 14, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15));
        Store3(s.GetElement(0), s.GetElement(1), s.GetElement(2), o);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Output256(byte* taps, int* w, int groups, byte* o)
    {
        Vector256<int> sum = Vector256<int>.Zero;
        for (int g = 0; g < groups; g++)
        {
            Vector256<int> pixels = Avx2.ConvertToVector256Int32(taps + g * 6);
            sum += pixels * Vector256.Load(w + g * 8);
        }
        // Lanes 0..5 are 2 pixels of 3 channels.
        Vector256<int> s = sum + Vector256.Shuffle(sum, Vector256.Create(3, 4, 5, 7, 7, 7, 7, 7));
        Store3(s.GetElement(0), s.GetElement(1), s.GetElement(2), o);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Output128(byte* taps, int* w, int groups, byte* o)
    {
        Vector128<int> sum = Vector128<int>.Zero;
        for (int g = 0; g < groups; g++)
        {
            // 4 bytes (one pixel and the next pixel's first byte, times 0) widened to 4 int32 lanes.
            Vector128<byte> bytes = Vector128.CreateScalar(Unsafe.ReadUnaligned<uint>(taps + g * 3)).AsByte();
            Vector128<int> pixels = Vector128.WidenLower(Vector128.WidenLower(bytes)).AsInt32();
            sum += pixels * Vector128.Load(w + g * 4);
        }
        Store3(sum.GetElement(0), sum.GetElement(1), sum.GetElement(2), o);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store3(int r, int g, int b, byte* o)
    {
        o[0] = ResampleAxis.Clip8(r + ResampleAxis.Half);
        o[1] = ResampleAxis.Clip8(g + ResampleAxis.Half);
        o[2] = ResampleAxis.Clip8(b + ResampleAxis.Half);
    }

    private static void ScalarOutput(ResampleAxis axis, byte* row, int j, byte* o)
    {
        int* k = null;
        int count = axis.Count[j];
        byte* taps = row + axis.First[j] * 3;
        int r = ResampleAxis.Half, g = ResampleAxis.Half, b = ResampleAxis.Half;
        fixed (int* weights = &axis.Weights[j * axis.KernelSize])
        {
            k = weights;
            for (int t = 0; t < count; t++)
            {
                int w = k[t];
                r += taps[t * 3] * w;
                g += taps[t * 3 + 1] * w;
                b += taps[t * 3 + 2] * w;
            }
        }
        o[0] = ResampleAxis.Clip8(r);
        o[1] = ResampleAxis.Clip8(g);
        o[2] = ResampleAxis.Clip8(b);
    }

    /// <summary>sums[i] += bytes[i] · weight for i in [0, count): one tap of a pass that runs across rows.</summary>
    public static void AccumulateRow(int* sums, byte* bytes, int count, int weight)
    {
        int i = 0;
        if (Lanes == 16)
        {
            Vector512<int> w = Vector512.Create(weight);
            for (; i <= count - 16; i += 16)
            {
                Vector512<int> pixels = Avx512F.ConvertToVector512Int32(Vector128.Load(bytes + i));
                (Vector512.Load(sums + i) + pixels * w).Store(sums + i);
            }
        }
        else if (Lanes == 8)
        {
            Vector256<int> w = Vector256.Create(weight);
            for (; i <= count - 8; i += 8)
            {
                Vector256<int> pixels = Avx2.ConvertToVector256Int32(bytes + i);
                (Vector256.Load(sums + i) + pixels * w).Store(sums + i);
            }
        }
        else if (Lanes == 4)
        {
            Vector128<int> w = Vector128.Create(weight);
            for (; i <= count - 16; i += 16)
            {
                Vector128<byte> v = Vector128.Load(bytes + i);
                Vector128<ushort> low = Vector128.WidenLower(v), high = Vector128.WidenUpper(v);
                (Vector128.Load(sums + i) + Vector128.WidenLower(low).AsInt32() * w).Store(sums + i);
                (Vector128.Load(sums + i + 4) + Vector128.WidenUpper(low).AsInt32() * w).Store(sums + i + 4);
                (Vector128.Load(sums + i + 8) + Vector128.WidenLower(high).AsInt32() * w).Store(sums + i + 8);
                (Vector128.Load(sums + i + 12) + Vector128.WidenUpper(high).AsInt32() * w).Store(sums + i + 12);
            }
        }
        for (; i < count; i++) sums[i] += bytes[i] * weight;
    }
}
