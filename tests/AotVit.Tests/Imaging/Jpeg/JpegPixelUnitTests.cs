// Unit checks of the JPEG pixel half's pieces against straightforward reference loops written from libjpeg-turbo
// 2.1.5's C code: the ISLOW IDCT on every implementation (Vector256, Vector128, scalar) including range-limit and
// int32-bound cases, the fancy upsamplers against the C loops with their first/last-column special cases, and the
// SIMD YCbCr conversion against the table form; plus region decoding equal to the full decode inside the region.
using AotVit.Runtime.Imaging.Jpeg;
using Xunit;

namespace AotVit.Tests.Imaging.Jpeg;

public sealed unsafe class JpegPixelUnitTests
{
    // jidctint.c's formulas, one 1-D pass at a time, no shortcuts, 64-bit.
    private static void Idct1D(long[] v, long[] o, int shift)
    {
        long z2 = v[2], z3 = v[6];
        long z1 = (z2 + z3) * 4433;
        long tmp2 = z1 + z3 * -15137, tmp3 = z1 + z2 * 6270;
        long tmp0 = (v[0] + v[4]) << 13, tmp1 = (v[0] - v[4]) << 13;
        long tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
        tmp0 = v[7]; tmp1 = v[5]; tmp2 = v[3]; tmp3 = v[1];
        z1 = tmp0 + tmp3; z2 = tmp1 + tmp2; z3 = tmp0 + tmp2; long z4 = tmp1 + tmp3;
        long z5 = (z3 + z4) * 9633;
        tmp0 *= 2446; tmp1 *= 16819; tmp2 *= 25172; tmp3 *= 12299;
        z1 *= -7373; z2 *= -20995; z3 *= -16069; z4 *= -3196;
        z3 += z5; z4 += z5;
        tmp0 += z1 + z3; tmp1 += z2 + z4; tmp2 += z2 + z3; tmp3 += z1 + z4;
        long r = 1L << (shift - 1);
        o[0] = (tmp10 + tmp3 + r) >> shift; o[7] = (tmp10 - tmp3 + r) >> shift;
        o[1] = (tmp11 + tmp2 + r) >> shift; o[6] = (tmp11 - tmp2 + r) >> shift;
        o[2] = (tmp12 + tmp1 + r) >> shift; o[5] = (tmp12 - tmp1 + r) >> shift;
        o[3] = (tmp13 + tmp0 + r) >> shift; o[4] = (tmp13 - tmp0 + r) >> shift;
    }

    private static byte[] ReferenceIdct(short[] block, ushort[] quant, out bool inRange)
    {
        inRange = true;
        var ws = new int[64];
        long[] v = new long[8], o = new long[8];
        for (int c = 0; c < 8; c++)
        {
            for (int r = 0; r < 8; r++) v[r] = block[r * 8 + c] * (short)quant[r * 8 + c];
            Idct1D(v, o, 11);
            for (int r = 0; r < 8; r++) ws[r * 8 + c] = (int)o[r];
        }
        var result = new byte[64];
        for (int r = 0; r < 8; r++)
        {
            for (int c = 0; c < 8; c++) v[c] = ws[r * 8 + c];
            Idct1D(v, o, 18);
            for (int c = 0; c < 8; c++)
            {
                // range_limit table: index (x & 1023) of the post-IDCT table = clamp(10-bit signed + 128).
                inRange &= o[c] >= -512 && o[c] <= 511;
                int t = (int)o[c] & 1023;
                result[r * 8 + c] = (byte)(t < 128 ? t + 128 : t < 512 ? 255 : t < 896 ? 0 : t - 896);
            }
        }
        return result;
    }

    // simd/x86_64/jidctint-avx2.asm, operation by operation on int16 lanes (what Pillow runs on x86-64).
    private static short W(int x) => (short)x;                                     // paddw / pmullw: wrap
    private static short S16(int x) => (short)Math.Clamp(x, short.MinValue, short.MaxValue);   // packssdw
    private static int Madd(int a, int fa, int b, int fb) => a * fa + b * fb;     // pmaddwd (exact here)

    private static void AsmPass(short[] v, short[] o, int n)
    {
        const int F0298 = 2446, F0390 = 3196, F0541 = 4433, F0765 = 6270, F0899 = 7373, F1175 = 9633, F1501 = 12299,
                  F1847 = 15137, F1961 = 16069, F2053 = 16819, F2562 = 20995, F3072 = 25172;
        int tmp3 = Madd(v[2], F0541 + F0765, v[6], F0541), tmp2 = Madd(v[6], F0541 - F1847, v[2], F0541);
        int tmp0 = W(v[0] + v[4]) << 13, tmp1 = W(v[0] + W(-v[4])) << 13;
        int tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
        short z3 = W(v[7] + v[3]), z4 = W(v[5] + v[1]);
        int z3p = Madd(z3, F1175 - F1961, z4, F1175), z4p = Madd(z4, F1175 - F0390, z3, F1175);
        int t0 = Madd(v[7], F0298 - F0899, v[1], -F0899) + z3p, t1 = Madd(v[5], F2053 - F2562, v[3], -F2562) + z4p;
        int t3 = Madd(v[7], -F0899, v[1], F1501 - F0899) + z4p, t2 = Madd(v[5], -F2562, v[3], F3072 - F2562) + z3p;
        int r = 1 << (n - 1);
        o[0] = S16((tmp10 + t3 + r) >> n); o[7] = S16((tmp10 - t3 + r) >> n);
        o[1] = S16((tmp11 + t2 + r) >> n); o[6] = S16((tmp11 - t2 + r) >> n);
        o[2] = S16((tmp12 + t1 + r) >> n); o[5] = S16((tmp12 - t1 + r) >> n);
        o[3] = S16((tmp13 + t0 + r) >> n); o[4] = S16((tmp13 - t0 + r) >> n);
    }

    private static byte[] ReferenceSimdIdct(short[] block, ushort[] quant)
    {
        var ws = new short[64];
        short[] v = new short[8], o = new short[8];
        bool acZero = block.Skip(8).All(c => c == 0);
        for (int c = 0; c < 8; c++)
        {
            for (int r = 0; r < 8; r++) v[r] = W(block[r * 8 + c] * quant[r * 8 + c]);
            if (acZero) Array.Fill(o, W(v[0] << 2));
            else AsmPass(v, o, 11);
            for (int r = 0; r < 8; r++) ws[r * 8 + c] = o[r];
        }
        var result = new byte[64];
        for (int r = 0; r < 8; r++)
        {
            for (int c = 0; c < 8; c++) v[c] = ws[r * 8 + c];
            AsmPass(v, o, 18);
            for (int c = 0; c < 8; c++) result[r * 8 + c] = (byte)(Math.Clamp((int)o[c], -128, 127) + 128);   // packsswb + 128
        }
        return result;
    }

    public static TheoryData<int> Amplitudes => new() { 0, 1, 8, 64, 300, 1023, 4000, 32767 };

    [Theory]
    [MemberData(nameof(Amplitudes))]
    public void IdctImplementationsEqualTheX86SimdReference(int amplitude)
    {
        var rng = new Random(amplitude + 1);
        var block = new short[64];
        var quant = new ushort[64];
        for (int trial = 0; trial < 3000; trial++)
        {
            int mode = trial % 5;
            for (int k = 0; k < 64; k++)
            {
                quant[k] = mode == 4 ? (ushort)rng.Next(1, 65536) : (ushort)rng.Next(1, trial % 2 == 0 ? 4 : 256);
                int v = rng.Next(-amplitude, amplitude + 1);
                block[k] = mode switch
                {
                    0 => (short)v,
                    1 => (short)(rng.Next(6) == 0 ? v : 0),                   // sparse
                    2 => (short)(k == 0 ? v : 0),                             // DC only: both shortcuts
                    3 => (short)(k % 8 == 0 || k < 8 ? v : 0),                // first row and column
                    _ => (short)(rng.Next(3) == 0 ? v : 0),
                };
            }
            byte[] expected = ReferenceSimdIdct(block, quant);
            long magnitude = 0;
            for (int k = 0; k < 64; k++) magnitude += Math.Abs(block[k] * (long)(short)quant[k]);
            byte[] fromC = ReferenceIdct(block, quant, out bool inRange);
            if (magnitude <= 16384 && inRange)
            {
                // Encoder-range blocks (samples within the range limit's clamping span, no 16-bit overflow): the C
                // code (jidctint.c) gives the same samples.
                Assert.Equal(fromC, expected);
            }
            int[] dq = JpegIdct.DequantTable(quant);
            var scalar = new byte[64 * 2];
            var v256 = new byte[64 * 2];
            var v128 = new byte[64 * 2];
            fixed (short* b = block)
            fixed (int* q = dq)
            fixed (byte* s = scalar, a = v256, c = v128)
            {
                JpegIdct.TransformScalar(b, q, s, 16);
                if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated) JpegIdct.Transform256(b, q, a, 16);
                else JpegIdct.TransformScalar(b, q, a, 16);
                if (System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated) JpegIdct.Transform128(b, q, c, 16);
                else JpegIdct.TransformScalar(b, q, c, 16);
            }
            for (int r = 0; r < 8; r++)
            {
                for (int k = 0; k < 8; k++)
                {
                    Assert.Equal(expected[r * 8 + k], scalar[r * 16 + k]);
                    Assert.Equal(expected[r * 8 + k], v256[r * 16 + k]);
                    Assert.Equal(expected[r * 8 + k], v128[r * 16 + k]);
                }
            }
        }
    }

    // jdsample.c's loops, literally (first/last column special cases), for a whole row.
    private static byte[] CH2V1(byte[] input, int dw)
    {
        var o = new byte[2 * dw];
        int ip = 0, op = 0;
        int inv = input[ip++];
        o[op++] = (byte)inv;
        o[op++] = (byte)((inv * 3 + input[ip] + 2) >> 2);
        for (int n = dw - 2; n > 0; n--)
        {
            inv = input[ip++] * 3;
            o[op++] = (byte)((inv + input[ip - 2] + 1) >> 2);
            o[op++] = (byte)((inv + input[ip] + 2) >> 2);
        }
        inv = input[ip];
        o[op++] = (byte)((inv * 3 + input[ip - 1] + 1) >> 2);
        o[op] = (byte)inv;
        return o;
    }

    private static byte[] CH2V2(byte[] near, byte[] far, int dw)
    {
        var o = new byte[2 * dw];
        int p = 0, op = 0;
        int thiscolsum = near[p] * 3 + far[p]; p++;
        int nextcolsum = near[p] * 3 + far[p]; p++;
        o[op++] = (byte)((thiscolsum * 4 + 8) >> 4);
        o[op++] = (byte)((thiscolsum * 3 + nextcolsum + 7) >> 4);
        int lastcolsum = thiscolsum; thiscolsum = nextcolsum;
        for (int n = dw - 2; n > 0; n--)
        {
            nextcolsum = near[p] * 3 + far[p]; p++;
            o[op++] = (byte)((thiscolsum * 3 + lastcolsum + 8) >> 4);
            o[op++] = (byte)((thiscolsum * 3 + nextcolsum + 7) >> 4);
            lastcolsum = thiscolsum; thiscolsum = nextcolsum;
        }
        o[op++] = (byte)((thiscolsum * 3 + lastcolsum + 8) >> 4);
        o[op] = (byte)((thiscolsum * 4 + 7) >> 4);
        return o;
    }

    [Fact]
    public void FancyUpsamplersEqualTheCLoops()
    {
        var rng = new Random(5);
        // Every width up to 90, then widths where the 64-, 32- and 16-pair SIMD steps and the scalar tail all run.
        int[] widths = [.. Enumerable.Range(3, 87), 97, 113, 127, 128, 129, 145, 161, 190, 257, 300];
        foreach (int dw in widths)
        {
            for (int trial = 0; trial < 12; trial++)
            {
                var near = new byte[2 * dw + 8];
                var far = new byte[2 * dw + 8];
                rng.NextBytes(near);
                rng.NextBytes(far);
                if (trial % 3 == 0) { Array.Fill(near, (byte)255); Array.Fill(far, (byte)255); }
                int width = 2 * dw - (trial & 1);   // output width 2·dw or 2·dw − 1
                int x0 = trial < 4 ? 0 : rng.Next(width), x1 = trial < 4 ? width : rng.Next(x0, width) + 1;
                byte[] h2v1 = CH2V1(near, dw), h2v2 = CH2V2(near, far, dw);
                var out1 = new byte[width + 2];
                var out2 = new byte[width + 2];
                var out3 = new byte[width + 2];
                fixed (byte* n = near, f = far, o1 = out1, o2 = out2, o3 = out3)
                {
                    JpegUpsample.FancyH2V1(n, o1, x0, x1, dw);
                    JpegUpsample.FancyH2V2(n, f, o2, x0, x1, dw);
                    JpegUpsample.FancyH1V2(n, f, o3, x0, x1, 1 + (trial & 1));
                }
                for (int x = x0; x < x1; x++)
                {
                    Assert.Equal(h2v1[x], out1[x]);
                    Assert.Equal(h2v2[x], out2[x]);
                    Assert.Equal((byte)((3 * near[x] + far[x] + 1 + (trial & 1)) >> 2), out3[x]);
                }
            }
        }
    }

    [Fact]
    public void SimdColourConversionEqualsTables()
    {
        var rng = new Random(9);
        const int n = 4096;
        var y = new byte[n]; var cb = new byte[n]; var cr = new byte[n];
        rng.NextBytes(y); rng.NextBytes(cb); rng.NextBytes(cr);
        for (int i = 0; i < 256; i++) { y[i] = (byte)i; cb[i] = (byte)(255 - i); cr[i] = (byte)(i * 7); }
        var a = new byte[3 * n]; var b = new byte[3 * n];
        fixed (byte* py = y, pb = cb, pr = cr, pa = a, pbb = b)
        {
            JpegColor.YccToRgb(py, pb, pr, pa, 3, n - 5);
            JpegColor.YccToRgbScalar(py, pb, pr, pbb, 3, n - 5);
        }
        Assert.Equal(b, a);
    }

    private sealed class Collector(int width, int height) : IRgbRowSink
    {
        public readonly byte[] Pixels = new byte[width * height * 3];
        public int NextRow = -1;
        public void OnRows(int y, int count, ReadOnlySpan<byte> rgb, int strideBytes)
        {
            Assert.True(y >= NextRow, "rows arrive in order");
            NextRow = y + count;
            for (int r = 0; r < count; r++) rgb.Slice(r * strideBytes, width * 3).CopyTo(Pixels.AsSpan((y + r) * width * 3));
        }
    }

    public static TheoryData<string> RegionFixtures()
    {
        var data = new TheoryData<string>();
        foreach (var f in CoefDump.Manifest())
        {
            if (f.Width >= 16 && f.Height >= 16) data.Add(f.Name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(RegionFixtures))]
    public void RegionDecodeEqualsFullDecodeInsideTheRegion(string name)
    {
        JpegCoefficients coefficients = CoefDump.LoadFixture(name);
        JpegFrame frame = coefficients.Frame;
        byte[] full = JpegPixelPipeline.DecodeImage(coefficients);
        var rng = new Random(name.GetHashCode(StringComparison.Ordinal));
        for (int trial = 0; trial < 6; trial++)
        {
            int x0 = rng.Next(frame.Width), x1 = rng.Next(x0, frame.Width) + 1;
            int y0 = rng.Next(frame.Height), y1 = rng.Next(y0, frame.Height) + 1;
            var sink = new Collector(frame.Width, frame.Height);
            var pipeline = new JpegPixelPipeline(frame, (x0, x1, y0, y1), sink, null);
            if (JpegSmoothing.IsActive(frame) || trial % 2 == 0)
            {
                pipeline.ProcessMcuRows(coefficients);
            }
            else
            {
                // Streaming: one MCU row at a time in a reused buffer, as the entropy side hands them out.
                for (int m = 0; m < frame.McusHigh; m++) pipeline.ProcessMcuRows(Slice(coefficients, m));
            }
            Assert.True(pipeline.Done);
            for (int y = y0; y < y1; y++)
            {
                for (int x = x0; x < x1; x++)
                {
                    int at = (y * frame.Width + x) * 3;
                    if (full[at] != sink.Pixels[at] || full[at + 1] != sink.Pixels[at + 1] || full[at + 2] != sink.Pixels[at + 2])
                    {
                        Assert.Fail($"region [{x0},{x1})x[{y0},{y1}): pixel ({x},{y}) differs from the full decode");
                    }
                }
            }
        }
    }

    private static JpegCoefficients Slice(JpegCoefficients all, int mcuRow)
    {
        var blocks = new short[all.Blocks.Length][];
        for (int c = 0; c < blocks.Length; c++)
        {
            JpegComponent comp = all.Frame.Components[c];
            int n = comp.BlocksPerLine * comp.V * 64;
            blocks[c] = new short[n];
            Array.Copy(all.Blocks[c], (long)mcuRow * n, blocks[c], 0, n);
        }
        return new JpegCoefficients { Frame = all.Frame, Blocks = blocks, FirstMcuRow = mcuRow, McuRows = 1 };
    }
}
