// JpegUpsample: one output row of a subsampled component, as libjpeg-turbo 2.1.5's jdsample.c computes it with
// do_fancy_upsampling, for output columns [x0, x1) only (callers give rows with the vertical neighbour already chosen
// and clamped). Each fancy filter equals its C loop's first/last-column special cases when the horizontal neighbour
// index is clamped to [0, dw − 1]:
//   h2v1: out[2i] = (3·in[i] + in[i−1] + 1) >> 2,       out[2i+1] = (3·in[i] + in[i+1] + 2) >> 2
//   h1v2: out[x]  = (3·near[x] + far[x] + bias) >> 2,   bias 1 for the upper output row of a pair, 2 for the lower
//   h2v2: s[i] = 3·near[i] + far[i];  out[2i] = (3·s[i] + s[i−1] + 8) >> 4,  out[2i+1] = (3·s[i] + s[i+1] + 7) >> 4
// Box (int_upsample, and h2v1/h2v2_upsample for narrow components): out[x] = in[x / hExpand].
// The fancy h2 forms may also write out[x0 − 1] and out[x1] (the pair's other half); output buffers have room for
// one column beyond the image width.
using System.Runtime.Intrinsics;

namespace AotVit.Runtime.Imaging.Jpeg;

internal static unsafe class JpegUpsample
{
    public static void Box(byte* input, byte* output, int x0, int x1, int hExpand)
    {
        if (hExpand == 1)
        {
            new ReadOnlySpan<byte>(input + x0, x1 - x0).CopyTo(new Span<byte>(output + x0, x1 - x0));
            return;
        }
        for (int x = x0; x < x1; x++) output[x] = input[x / hExpand];
    }

    public static void FancyH2V1(byte* input, byte* output, int x0, int x1, int dw)
    {
        int i0 = x0 >> 1, i1 = (x1 - 1) >> 1;
        int i = i0;
        if (Vector128.IsHardwareAccelerated)
        {
            // Interior pairs with both neighbours inside [0, dw): i in [max(i0, 1), min(i1, dw − 2)].
            int lo = Math.Max(i0, 1), hi = Math.Min(i1, dw - 2);
            for (; i < lo; i++) PairH2V1(input, output, i, dw);
            if (Vector512.IsHardwareAccelerated) i = FancyH2V1Vector512(input, output, i, hi);
            if (Vector256.IsHardwareAccelerated) i = FancyH2V1Vector256(input, output, i, hi);
            i = FancyH2V1Vector(input, output, i, hi);
        }
        for (; i <= i1; i++) PairH2V1(input, output, i, dw);
    }

    private static void PairH2V1(byte* input, byte* output, int i, int dw)
    {
        int c = 3 * input[i];
        output[2 * i] = (byte)((c + input[Math.Max(i - 1, 0)] + 1) >> 2);
        output[2 * i + 1] = (byte)((c + input[Math.Min(i + 1, dw - 1)] + 2) >> 2);
    }

    // Pairs i in [lo, hi] (all with in-range neighbours), 16 at a time; returns the first pair not done.
    private static int FancyH2V1Vector(byte* input, byte* output, int lo, int hi)
    {
        int i = lo;
        Vector128<ushort> one = Vector128.Create((ushort)1), two = Vector128.Create((ushort)2), three = Vector128.Create((ushort)3);
        for (; i + 16 <= hi + 1; i += 16)
        {
            var (cLo, cHi) = Vector128.Widen(Vector128.Load(input + i));
            var (lLo, lHi) = Vector128.Widen(Vector128.Load(input + i - 1));
            var (rLo, rHi) = Vector128.Widen(Vector128.Load(input + i + 1));
            Vector128<ushort> c3Lo = cLo * three, c3Hi = cHi * three;
            Vector128<ushort> evenLo = (c3Lo + lLo + one) >> 2, evenHi = (c3Hi + lHi + one) >> 2;
            Vector128<ushort> oddLo = (c3Lo + rLo + two) >> 2, oddHi = (c3Hi + rHi + two) >> 2;
            // Interleave even/odd: out[2i + 2k] = even[k], out[2i + 2k + 1] = odd[k]; both fit in a byte.
            Vector128<ushort> pairsLo = evenLo | (oddLo << 8), pairsHi = evenHi | (oddHi << 8);
            pairsLo.AsByte().Store(output + 2 * i);
            pairsHi.AsByte().Store(output + 2 * i + 16);
        }
        return i;
    }

    // The same as FancyH2V1Vector with 32 and 64 pairs per step.
    private static int FancyH2V1Vector256(byte* input, byte* output, int lo, int hi)
    {
        int i = lo;
        Vector256<ushort> one = Vector256.Create((ushort)1), two = Vector256.Create((ushort)2), three = Vector256.Create((ushort)3);
        for (; i + 32 <= hi + 1; i += 32)
        {
            var (cLo, cHi) = Vector256.Widen(Vector256.Load(input + i));
            var (lLo, lHi) = Vector256.Widen(Vector256.Load(input + i - 1));
            var (rLo, rHi) = Vector256.Widen(Vector256.Load(input + i + 1));
            Vector256<ushort> c3Lo = cLo * three, c3Hi = cHi * three;
            Vector256<ushort> evenLo = (c3Lo + lLo + one) >> 2, evenHi = (c3Hi + lHi + one) >> 2;
            Vector256<ushort> oddLo = (c3Lo + rLo + two) >> 2, oddHi = (c3Hi + rHi + two) >> 2;
            (evenLo | (oddLo << 8)).AsByte().Store(output + 2 * i);
            (evenHi | (oddHi << 8)).AsByte().Store(output + 2 * i + 32);
        }
        return i;
    }

    private static int FancyH2V1Vector512(byte* input, byte* output, int lo, int hi)
    {
        int i = lo;
        Vector512<ushort> one = Vector512.Create((ushort)1), two = Vector512.Create((ushort)2), three = Vector512.Create((ushort)3);
        for (; i + 64 <= hi + 1; i += 64)
        {
            var (cLo, cHi) = Vector512.Widen(Vector512.Load(input + i));
            var (lLo, lHi) = Vector512.Widen(Vector512.Load(input + i - 1));
            var (rLo, rHi) = Vector512.Widen(Vector512.Load(input + i + 1));
            Vector512<ushort> c3Lo = cLo * three, c3Hi = cHi * three;
            Vector512<ushort> evenLo = (c3Lo + lLo + one) >> 2, evenHi = (c3Hi + lHi + one) >> 2;
            Vector512<ushort> oddLo = (c3Lo + rLo + two) >> 2, oddHi = (c3Hi + rHi + two) >> 2;
            (evenLo | (oddLo << 8)).AsByte().Store(output + 2 * i);
            (evenHi | (oddHi << 8)).AsByte().Store(output + 2 * i + 64);
        }
        return i;
    }

    public static void FancyH1V2(byte* near, byte* far, byte* output, int x0, int x1, int bias)
    {
        int x = x0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<ushort> b = Vector512.Create((ushort)bias), three = Vector512.Create((ushort)3);
            for (; x + 64 <= x1; x += 64)
            {
                var (nLo, nHi) = Vector512.Widen(Vector512.Load(near + x));
                var (fLo, fHi) = Vector512.Widen(Vector512.Load(far + x));
                Vector512.Narrow((nLo * three + fLo + b) >> 2, (nHi * three + fHi + b) >> 2).Store(output + x);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<ushort> b = Vector256.Create((ushort)bias), three = Vector256.Create((ushort)3);
            for (; x + 32 <= x1; x += 32)
            {
                var (nLo, nHi) = Vector256.Widen(Vector256.Load(near + x));
                var (fLo, fHi) = Vector256.Widen(Vector256.Load(far + x));
                Vector256.Narrow((nLo * three + fLo + b) >> 2, (nHi * three + fHi + b) >> 2).Store(output + x);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<ushort> b = Vector128.Create((ushort)bias), three = Vector128.Create((ushort)3);
            for (; x + 16 <= x1; x += 16)
            {
                var (nLo, nHi) = Vector128.Widen(Vector128.Load(near + x));
                var (fLo, fHi) = Vector128.Widen(Vector128.Load(far + x));
                Vector128<ushort> lo = (nLo * three + fLo + b) >> 2, hi = (nHi * three + fHi + b) >> 2;
                Vector128.Narrow(lo, hi).Store(output + x);
            }
        }
        for (; x < x1; x++) output[x] = (byte)((3 * near[x] + far[x] + bias) >> 2);
    }

    public static void FancyH2V2(byte* near, byte* far, byte* output, int x0, int x1, int dw)
    {
        int i0 = x0 >> 1, i1 = (x1 - 1) >> 1;
        int i = i0;
        if (Vector128.IsHardwareAccelerated)
        {
            int lo = Math.Max(i0, 1), hi = Math.Min(i1, dw - 2);
            for (; i < lo; i++) PairH2V2(near, far, output, i, dw);
            if (Vector512.IsHardwareAccelerated) i = FancyH2V2Vector512(near, far, output, i, hi);
            if (Vector256.IsHardwareAccelerated) i = FancyH2V2Vector256(near, far, output, i, hi);
            i = FancyH2V2Vector(near, far, output, i, hi);
        }
        for (; i <= i1; i++) PairH2V2(near, far, output, i, dw);
    }

    private static void PairH2V2(byte* near, byte* far, byte* output, int i, int dw)
    {
        int l = Math.Max(i - 1, 0), r = Math.Min(i + 1, dw - 1);
        int s = 3 * near[i] + far[i], sl = 3 * near[l] + far[l], sr = 3 * near[r] + far[r];
        output[2 * i] = (byte)((3 * s + sl + 8) >> 4);
        output[2 * i + 1] = (byte)((3 * s + sr + 7) >> 4);
    }

    private static int FancyH2V2Vector(byte* near, byte* far, byte* output, int lo, int hi)
    {
        int i = lo;
        Vector128<ushort> seven = Vector128.Create((ushort)7), eight = Vector128.Create((ushort)8), three = Vector128.Create((ushort)3);
        for (; i + 16 <= hi + 1; i += 16)
        {
            // Column sums ≤ 4·255, and 3·s + s' ≤ 16·255 + 8: all fit in 16 bits.
            var (cnLo, cnHi) = Vector128.Widen(Vector128.Load(near + i));
            var (cfLo, cfHi) = Vector128.Widen(Vector128.Load(far + i));
            var (lnLo, lnHi) = Vector128.Widen(Vector128.Load(near + i - 1));
            var (lfLo, lfHi) = Vector128.Widen(Vector128.Load(far + i - 1));
            var (rnLo, rnHi) = Vector128.Widen(Vector128.Load(near + i + 1));
            var (rfLo, rfHi) = Vector128.Widen(Vector128.Load(far + i + 1));
            Vector128<ushort> sLo = cnLo * three + cfLo, sHi = cnHi * three + cfHi;
            Vector128<ushort> slLo = lnLo * three + lfLo, slHi = lnHi * three + lfHi;
            Vector128<ushort> srLo = rnLo * three + rfLo, srHi = rnHi * three + rfHi;
            Vector128<ushort> s3Lo = sLo * three, s3Hi = sHi * three;
            Vector128<ushort> evenLo = (s3Lo + slLo + eight) >> 4, evenHi = (s3Hi + slHi + eight) >> 4;
            Vector128<ushort> oddLo = (s3Lo + srLo + seven) >> 4, oddHi = (s3Hi + srHi + seven) >> 4;
            (evenLo | (oddLo << 8)).AsByte().Store(output + 2 * i);
            (evenHi | (oddHi << 8)).AsByte().Store(output + 2 * i + 16);
        }
        return i;
    }
    // The same as FancyH2V2Vector with 32 and 64 pairs per step.
    private static int FancyH2V2Vector256(byte* near, byte* far, byte* output, int lo, int hi)
    {
        int i = lo;
        Vector256<ushort> seven = Vector256.Create((ushort)7), eight = Vector256.Create((ushort)8), three = Vector256.Create((ushort)3);
        for (; i + 32 <= hi + 1; i += 32)
        {
            var (cnLo, cnHi) = Vector256.Widen(Vector256.Load(near + i));
            var (cfLo, cfHi) = Vector256.Widen(Vector256.Load(far + i));
            var (lnLo, lnHi) = Vector256.Widen(Vector256.Load(near + i - 1));
            var (lfLo, lfHi) = Vector256.Widen(Vector256.Load(far + i - 1));
            var (rnLo, rnHi) = Vector256.Widen(Vector256.Load(near + i + 1));
            var (rfLo, rfHi) = Vector256.Widen(Vector256.Load(far + i + 1));
            Vector256<ushort> s3Lo = (cnLo * three + cfLo) * three, s3Hi = (cnHi * three + cfHi) * three;
            Vector256<ushort> slLo = lnLo * three + lfLo, slHi = lnHi * three + lfHi;
            Vector256<ushort> srLo = rnLo * three + rfLo, srHi = rnHi * three + rfHi;
            (((s3Lo + slLo + eight) >> 4) | (((s3Lo + srLo + seven) >> 4) << 8)).AsByte().Store(output + 2 * i);
            (((s3Hi + slHi + eight) >> 4) | (((s3Hi + srHi + seven) >> 4) << 8)).AsByte().Store(output + 2 * i + 32);
        }
        return i;
    }

    private static int FancyH2V2Vector512(byte* near, byte* far, byte* output, int lo, int hi)
    {
        int i = lo;
        Vector512<ushort> seven = Vector512.Create((ushort)7), eight = Vector512.Create((ushort)8), three = Vector512.Create((ushort)3);
        for (; i + 64 <= hi + 1; i += 64)
        {
            var (cnLo, cnHi) = Vector512.Widen(Vector512.Load(near + i));
            var (cfLo, cfHi) = Vector512.Widen(Vector512.Load(far + i));
            var (lnLo, lnHi) = Vector512.Widen(Vector512.Load(near + i - 1));
            var (lfLo, lfHi) = Vector512.Widen(Vector512.Load(far + i - 1));
            var (rnLo, rnHi) = Vector512.Widen(Vector512.Load(near + i + 1));
            var (rfLo, rfHi) = Vector512.Widen(Vector512.Load(far + i + 1));
            Vector512<ushort> s3Lo = (cnLo * three + cfLo) * three, s3Hi = (cnHi * three + cfHi) * three;
            Vector512<ushort> slLo = lnLo * three + lfLo, slHi = lnHi * three + lfHi;
            Vector512<ushort> srLo = rnLo * three + rfLo, srHi = rnHi * three + rfHi;
            (((s3Lo + slLo + eight) >> 4) | (((s3Lo + srLo + seven) >> 4) << 8)).AsByte().Store(output + 2 * i);
            (((s3Hi + slHi + eight) >> 4) | (((s3Hi + srHi + seven) >> 4) << 8)).AsByte().Store(output + 2 * i + 64);
        }
        return i;
    }
}
