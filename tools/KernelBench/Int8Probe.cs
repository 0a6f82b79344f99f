// int8: issue 20's "measure first". Multiply-accumulates per second of an int8 GEMM microkernel (u8 activations ×
// s8 weights → s32) against a float32 FMA microkernel of the same shape, one thread, operands in L1, in one process,
// batches interleaved, medians of the calling thread's CPU time (the host is shared). Both tiles are 4 rows × 64
// columns with 16 accumulators:
//   fp32          4 broadcasts of A, 4 loads of B, 16 vfmadd231ps zmm per k (16 MACs each).
//   int8 maddubs  per k-quad: 4 broadcasts of A's 4 bytes, 4 loads of B (64 bytes = 16 columns × 4 k), and per
//                 accumulator vpmaddubsw (u8 × s8 → 32 s16, pairs of k summed) + vpmaddwd by ones (→ 16 s32, the two
//                 pairs summed) + vpaddd: 64 MACs for 3 instructions. vpmaddubsw saturates an s16 pair sum, so exact
//                 results need activations in [0, 127] (u7), which the probe uses; a quantizer would too.
//   int8 VNNI     vpdpbusd (AvxVnni, 256-bit; 32 MACs per instruction): run only where AvxVnni.IsSupported.
// The probe checks every variant's sums against a scalar loop before timing it. Then whole GEMMs on ViT-B/32's shapes:
// the product's fp32 Gemm.Run against an int8 GEMM made of the maddubs tile (see WholeGemms).
// Usage: dotnet run -c Release --project tools/KernelBench -- SECONDS int8
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

internal static unsafe class Int8Probe
{
    private const int Rows = 4, Cols = 64;

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, long* timespec);

    private static double ThreadCpuSeconds()
    {
        long* ts = stackalloc long[2];
        ClockGetTime(3, ts);   // CLOCK_THREAD_CPUTIME_ID
        return ts[0] + ts[1] / 1e9;
    }

    public static void Run(double seconds)
    {
        Console.WriteLine($"int8 probe: Avx512BW {Avx512BW.IsSupported}, AvxVnni {AvxVnni.IsSupported}, Vector512 {Vector512.IsHardwareAccelerated}");
        if (!Avx512BW.IsSupported)
        {
            Console.WriteLine("int8 probe: needs AVX-512BW");
            return;
        }
        const int kFloat = 128, kInt8 = 512;          // B panels: 128 × 64 × 4 B = 32 KiB; 512 × 64 × 1 B = 32 KiB
        var rng = new Random(20);
        float* af = (float*)NativeMemory.AlignedAlloc(Rows * kFloat * 4, 64), bf = (float*)NativeMemory.AlignedAlloc(kFloat * Cols * 4, 64);
        float* cf = (float*)NativeMemory.AlignedAlloc(Rows * Cols * 4, 64);
        byte* a8 = (byte*)NativeMemory.AlignedAlloc(Rows * kInt8, 64);
        sbyte* b8 = (sbyte*)NativeMemory.AlignedAlloc(kInt8 * Cols, 64);
        int* c8 = (int*)NativeMemory.AlignedAlloc(Rows * Cols * 4, 64);
        for (int i = 0; i < Rows * kFloat; i++) af[i] = (float)rng.NextDouble() - 0.5f;
        for (int i = 0; i < kFloat * Cols; i++) bf[i] = (float)rng.NextDouble() - 0.5f;
        for (int i = 0; i < Rows * kInt8; i++) a8[i] = (byte)rng.Next(128);          // u7
        for (int i = 0; i < kInt8 * Cols; i++) b8[i] = (sbyte)rng.Next(-128, 128);

        CheckFloat(af, bf, cf, kFloat);
        CheckInt8(a8, b8, c8, kInt8, vnni: false);
        if (AvxVnni.IsSupported) CheckInt8(a8, b8, c8, kInt8, vnni: true);

        const int calls = 2000;
        var cases = new List<(string Name, double MacsPerBatch, Action Batch)>
        {
            ("fp32 FMA, 4x64 tile (zmm)", (double)calls * Rows * Cols * kFloat, () => { for (int i = 0; i < calls; i++) Float4x64(af, bf, cf, kFloat); }),
            ("int8 maddubs+maddwd+add, 4x64 tile (zmm)", (double)calls * Rows * Cols * kInt8, () => { for (int i = 0; i < calls; i++) Maddubs4x64(a8, b8, c8, kInt8); }),
        };
        if (AvxVnni.IsSupported)
            cases.Add(("int8 VNNI vpdpbusd, 4x32 tile (ymm)", (double)calls * Rows * 32 * kInt8, () => { for (int i = 0; i < calls; i++) Vnni4x32(a8, b8, c8, kInt8); }));
        var rates = cases.Select(_ => new List<double>()).ToList();
        foreach (var c in cases) c.Batch();
        double end = ThreadCpuSeconds() + seconds * cases.Count;
        while (ThreadCpuSeconds() < end)
        {
            for (int i = 0; i < cases.Count; i++)
            {
                double t0 = ThreadCpuSeconds();
                cases[i].Batch();
                rates[i].Add(cases[i].MacsPerBatch / (ThreadCpuSeconds() - t0) / 1e9);
            }
        }
        double fp32 = Median(rates[0]);
        for (int i = 0; i < cases.Count; i++)
        {
            double m = Median(rates[i]);
            Console.WriteLine($"  {cases[i].Name,-44} {m,7:F1} GMAC/s  ({m / fp32:F2}x fp32; median of {rates[i].Count} batches, min {rates[i].Min():F1}, max {rates[i].Max():F1})");
        }
        if (!AvxVnni.IsSupported)
            Console.WriteLine("  int8 VNNI (AvxVnni, vpdpbusd): not supported by this CPU/runtime; .NET 10 has no API for 512-bit AVX512_VNNI");
        WholeGemms(seconds);
    }

    // Whole GEMMs on ViT-B/32's shapes (50 tokens), one thread: the product's fp32 Gemm.Run against an int8 GEMM built
    // from the maddubs tile: per call, each row of A is quantized (asymmetric, u7: scale and zero point from its min
    // and max) into a buffer, every 4-row × 64-column tile runs the microkernel over the whole K, and the epilogue
    // writes C = rowScale · colScale · (acc − rowZero · colSum). B (s8 per output channel, symmetric) is packed once.
    private static void WholeGemms(double seconds)
    {
        (int N, int K, string Name)[] shapes = [(2304, 768, "attention.qkv 50x768 -> 2304"), (3072, 768, "intermediate.dense 50x768 -> 3072"), (768, 3072, "output.dense 50x3072 -> 768")];
        const int m = 50, mPadded = 52;
        float* rowScale = stackalloc float[mPadded];
        int* rowZero = stackalloc int[mPadded];
        foreach (var (n, k, name) in shapes)
        {
            var rng = new Random(n + k);
            float* a = (float*)NativeMemory.AlignedAlloc((nuint)(m * k * 4), 64);
            for (int i = 0; i < m * k; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
            float[] w = new float[n * k];
            for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() - 0.5) * 0.1f;
            using var packed = AotVit.Runtime.Kernels.PackedMatrix.FromOutIn(w, n, k);
            float* cf = (float*)NativeMemory.AlignedAlloc((nuint)(m * n * 4), 64);
            // int8 B: per output channel j, scale = max|w| / 127; layout [panel][k / 4][64 columns][4 k].
            sbyte* bq = (sbyte*)NativeMemory.AlignedAlloc((nuint)(n * k), 64);
            float* colScale = (float*)NativeMemory.AlignedAlloc((nuint)(n * 4), 64);
            int* colSum = (int*)NativeMemory.AlignedAlloc((nuint)(n * 4), 64);
            for (int j = 0; j < n; j++)
            {
                float mx = 0;
                for (int p = 0; p < k; p++) mx = Math.Max(mx, Math.Abs(w[j * k + p]));
                colScale[j] = mx / 127;
                int sum = 0;
                for (int p = 0; p < k; p++)
                {
                    sbyte q = (sbyte)Math.Clamp((int)MathF.Round(w[j * k + p] / colScale[j]), -127, 127);
                    bq[(long)(j / 64) * k * 64 + (p / 4) * 256 + (j % 64 / 16) * 64 + (j % 16) * 4 + p % 4] = q;
                    sum += q;
                }
                colSum[j] = sum;
            }
            byte* aq = (byte*)NativeMemory.AlignedAlloc((nuint)(mPadded * k), 64);
            new Span<byte>(aq, mPadded * k).Clear();
            float* c8 = (float*)NativeMemory.AlignedAlloc((nuint)(m * n * 4), 64);
            int* tile = (int*)NativeMemory.AlignedAlloc(Rows * Cols * 4, 64);

            void Fp32() => AotVit.Runtime.Kernels.Gemm.Run(null, m, a, k, packed, null, AotVit.Runtime.Kernels.Activation.None, null, 0, cf, n);
            void Int8()
            {
                for (int r = 0; r < m; r++)
                {
                    float* row = a + r * k;
                    Vector512<float> lo = Vector512.Load(row), hi = lo;
                    for (int p = 16; p < k; p += 16) { var v = Vector512.Load(row + p); lo = Vector512.Min(lo, v); hi = Vector512.Max(hi, v); }
                    float mn = Math.Min(0, Vector512.Min(lo, lo).ToScalar()), mx = Math.Max(0, hi.ToScalar());
                    for (int e = 1; e < 16; e++) { mn = Math.Min(mn, lo.GetElement(e)); mx = Math.Max(mx, hi.GetElement(e)); }
                    float scale = (mx - mn) / 127;
                    if (scale == 0) scale = 1;
                    int zero = (int)MathF.Round(-mn / scale);
                    rowScale[r] = scale;
                    rowZero[r] = zero;
                    Vector512<float> inv = Vector512.Create(1 / scale), z = Vector512.Create((float)zero);
                    for (int p = 0; p < k; p += 16)
                    {
                        Vector512<int> q = Vector512.ConvertToInt32(Vector512.Round(Vector512.Load(row + p) * inv) + z);
                        q = Vector512.Min(Vector512.Max(q, Vector512<int>.Zero), Vector512.Create(127));
                        Avx512F.ConvertToVector128Byte(q).Store(aq + r * k + p);
                    }
                }
                for (int panel = 0; panel < n / 64; panel++)
                {
                    sbyte* bp = bq + (long)panel * k * 64;
                    for (int r0 = 0; r0 < m; r0 += Rows)
                    {
                        Maddubs4x64(aq + r0 * k, bp, tile, k);
                        for (int r = r0; r < Math.Min(r0 + Rows, m); r++)
                        {
                            Vector512<float> rs = Vector512.Create(rowScale[r]), rz = Vector512.Create((float)rowZero[r]);
                            for (int j = 0; j < Cols; j += 16)
                            {
                                int col = panel * 64 + j;
                                Vector512<float> acc = Vector512.ConvertToSingle(Vector512.Load(tile + (r - r0) * Cols + j));
                                Vector512<float> corrected = acc - rz * Vector512.ConvertToSingle(Vector512.Load(colSum + col));
                                (corrected * rs * Vector512.Load(colScale + col)).Store(c8 + r * n + col);
                            }
                        }
                    }
                }
            }

            Fp32();
            Int8();
            double err = 0, refMax = 0;
            for (int i = 0; i < m * n; i++) { err = Math.Max(err, Math.Abs(cf[i] - c8[i])); refMax = Math.Max(refMax, Math.Abs(cf[i])); }
            var tf = new List<double>();
            var t8 = new List<double>();
            double end = ThreadCpuSeconds() + 2 * seconds;
            double macs = (double)m * n * k;
            while (ThreadCpuSeconds() < end)
            {
                double t0 = ThreadCpuSeconds();
                for (int i = 0; i < 20; i++) Fp32();
                double t1 = ThreadCpuSeconds();
                for (int i = 0; i < 20; i++) Int8();
                double t2 = ThreadCpuSeconds();
                tf.Add(20 * macs / (t1 - t0) / 1e9);
                t8.Add(20 * macs / (t2 - t1) / 1e9);
            }
            double f = Median(tf), q8 = Median(t8);
            Console.WriteLine($"  {name,-36} fp32 Gemm.Run {f,6:F1} GMAC/s   int8 {q8,6:F1} GMAC/s   {q8 / f:F2}x   (max |int8 - fp32| {err:G3} of max |C| {refMax:G3}; {tf.Count} rounds)");
            NativeMemory.AlignedFree(a); NativeMemory.AlignedFree(cf); NativeMemory.AlignedFree(bq); NativeMemory.AlignedFree(colScale);
            NativeMemory.AlignedFree(colSum); NativeMemory.AlignedFree(aq); NativeMemory.AlignedFree(c8); NativeMemory.AlignedFree(tile);
        }
    }

    private static double Median(List<double> v)
    {
        var s = v.OrderBy(x => x).ToList();
        return s[s.Count / 2];
    }

    // B panel layout (fp32): [k][64 columns]; A: [row][k].
    private static void Float4x64(float* a, float* b, float* c, int k)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        for (int p = 0; p < k; p++)
        {
            float* bp = b + p * Cols;
            Vector512<float> b0 = Vector512.Load(bp), b1 = Vector512.Load(bp + 16), b2 = Vector512.Load(bp + 32), b3 = Vector512.Load(bp + 48);
            Vector512<float> a0 = Vector512.Create(a[p]), a1 = Vector512.Create(a[k + p]), a2 = Vector512.Create(a[2 * k + p]), a3 = Vector512.Create(a[3 * k + p]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00); c01 = Vector512.FusedMultiplyAdd(a0, b1, c01); c02 = Vector512.FusedMultiplyAdd(a0, b2, c02); c03 = Vector512.FusedMultiplyAdd(a0, b3, c03);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10); c11 = Vector512.FusedMultiplyAdd(a1, b1, c11); c12 = Vector512.FusedMultiplyAdd(a1, b2, c12); c13 = Vector512.FusedMultiplyAdd(a1, b3, c13);
            c20 = Vector512.FusedMultiplyAdd(a2, b0, c20); c21 = Vector512.FusedMultiplyAdd(a2, b1, c21); c22 = Vector512.FusedMultiplyAdd(a2, b2, c22); c23 = Vector512.FusedMultiplyAdd(a2, b3, c23);
            c30 = Vector512.FusedMultiplyAdd(a3, b0, c30); c31 = Vector512.FusedMultiplyAdd(a3, b1, c31); c32 = Vector512.FusedMultiplyAdd(a3, b2, c32); c33 = Vector512.FusedMultiplyAdd(a3, b3, c33);
        }
        c00.Store(c); c01.Store(c + 16); c02.Store(c + 32); c03.Store(c + 48);
        c10.Store(c + 64); c11.Store(c + 80); c12.Store(c + 96); c13.Store(c + 112);
        c20.Store(c + 128); c21.Store(c + 144); c22.Store(c + 160); c23.Store(c + 176);
        c30.Store(c + 192); c31.Store(c + 208); c32.Store(c + 224); c33.Store(c + 240);
    }

    // B panel layout (int8): [k / 4][64 columns][4 k] (each zmm: 16 columns × 4 consecutive k); A: [row][k] u7.
    private static void Maddubs4x64(byte* a, sbyte* b, int* c, int k)
    {
        Vector512<short> ones = Vector512.Create((short)1);
        Vector512<int> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<int> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        for (int q = 0; q < k / 4; q++)
        {
            sbyte* bp = b + q * Cols * 4;
            Vector512<sbyte> b0 = Vector512.Load(bp), b1 = Vector512.Load(bp + 64), b2 = Vector512.Load(bp + 128), b3 = Vector512.Load(bp + 192);
            Vector512<byte> a0 = Vector512.Create(*(uint*)(a + 4 * q)).AsByte(), a1 = Vector512.Create(*(uint*)(a + k + 4 * q)).AsByte();
            Vector512<byte> a2 = Vector512.Create(*(uint*)(a + 2 * k + 4 * q)).AsByte(), a3 = Vector512.Create(*(uint*)(a + 3 * k + 4 * q)).AsByte();
            c00 += Dot(a0, b0, ones); c01 += Dot(a0, b1, ones); c02 += Dot(a0, b2, ones); c03 += Dot(a0, b3, ones);
            c10 += Dot(a1, b0, ones); c11 += Dot(a1, b1, ones); c12 += Dot(a1, b2, ones); c13 += Dot(a1, b3, ones);
            c20 += Dot(a2, b0, ones); c21 += Dot(a2, b1, ones); c22 += Dot(a2, b2, ones); c23 += Dot(a2, b3, ones);
            c30 += Dot(a3, b0, ones); c31 += Dot(a3, b1, ones); c32 += Dot(a3, b2, ones); c33 += Dot(a3, b3, ones);
        }
        c00.Store(c); c01.Store(c + 16); c02.Store(c + 32); c03.Store(c + 48);
        c10.Store(c + 64); c11.Store(c + 80); c12.Store(c + 96); c13.Store(c + 112);
        c20.Store(c + 128); c21.Store(c + 144); c22.Store(c + 160); c23.Store(c + 176);
        c30.Store(c + 192); c31.Store(c + 208); c32.Store(c + 224); c33.Store(c + 240);
    }

    private static Vector512<int> Dot(Vector512<byte> a, Vector512<sbyte> b, Vector512<short> ones) =>
        Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a, b), ones);

    // VNNI, 256-bit: B layout as Maddubs4x64 but read as 32-byte halves (8 columns × 4 k); tile 4 × 32 columns.
    private static void Vnni4x32(byte* a, sbyte* b, int* c, int k)
    {
        Vector256<int> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        Vector256<int> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        for (int q = 0; q < k / 4; q++)
        {
            sbyte* bp = b + q * Cols * 4;
            Vector256<sbyte> b0 = Vector256.Load(bp), b1 = Vector256.Load(bp + 32), b2 = Vector256.Load(bp + 64), b3 = Vector256.Load(bp + 96);
            Vector256<byte> a0 = Vector256.Create(*(uint*)(a + 4 * q)).AsByte(), a1 = Vector256.Create(*(uint*)(a + k + 4 * q)).AsByte();
            Vector256<byte> a2 = Vector256.Create(*(uint*)(a + 2 * k + 4 * q)).AsByte(), a3 = Vector256.Create(*(uint*)(a + 3 * k + 4 * q)).AsByte();
            c00 = AvxVnni.MultiplyWideningAndAdd(c00, a0, b0); c01 = AvxVnni.MultiplyWideningAndAdd(c01, a0, b1);
            c02 = AvxVnni.MultiplyWideningAndAdd(c02, a0, b2); c03 = AvxVnni.MultiplyWideningAndAdd(c03, a0, b3);
            c10 = AvxVnni.MultiplyWideningAndAdd(c10, a1, b0); c11 = AvxVnni.MultiplyWideningAndAdd(c11, a1, b1);
            c12 = AvxVnni.MultiplyWideningAndAdd(c12, a1, b2); c13 = AvxVnni.MultiplyWideningAndAdd(c13, a1, b3);
            c20 = AvxVnni.MultiplyWideningAndAdd(c20, a2, b0); c21 = AvxVnni.MultiplyWideningAndAdd(c21, a2, b1);
            c22 = AvxVnni.MultiplyWideningAndAdd(c22, a2, b2); c23 = AvxVnni.MultiplyWideningAndAdd(c23, a2, b3);
            c30 = AvxVnni.MultiplyWideningAndAdd(c30, a3, b0); c31 = AvxVnni.MultiplyWideningAndAdd(c31, a3, b1);
            c32 = AvxVnni.MultiplyWideningAndAdd(c32, a3, b2); c33 = AvxVnni.MultiplyWideningAndAdd(c33, a3, b3);
        }
        c00.Store(c); c01.Store(c + 8); c02.Store(c + 16); c03.Store(c + 24);
        c10.Store(c + 64); c11.Store(c + 72); c12.Store(c + 80); c13.Store(c + 88);
        c20.Store(c + 128); c21.Store(c + 136); c22.Store(c + 144); c23.Store(c + 152);
        c30.Store(c + 192); c31.Store(c + 200); c32.Store(c + 208); c33.Store(c + 216);
    }

    private static void CheckFloat(float* a, float* b, float* c, int k)
    {
        Float4x64(a, b, c, k);
        for (int r = 0; r < Rows; r++)
        {
            for (int j = 0; j < Cols; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double)a[r * k + p] * b[p * Cols + j];
                if (Math.Abs(s - c[r * Cols + j]) > 1e-3) throw new InvalidOperationException($"fp32 kernel wrong at ({r}, {j}): {c[r * Cols + j]} vs {s}");
            }
        }
    }

    private static void CheckInt8(byte* a, sbyte* b, int* c, int k, bool vnni)
    {
        if (vnni) Vnni4x32(a, b, c, k); else Maddubs4x64(a, b, c, k);
        int cols = vnni ? 32 : Cols;
        for (int r = 0; r < Rows; r++)
        {
            for (int j = 0; j < cols; j++)
            {
                // Column j's 4 weights of k-quad q sit at b[q · 256 + (j / 16) · 64 + (j % 16) · 4 + 0..3] (maddubs
                // layout); the VNNI kernel reads the same bytes as 32-byte halves, so its column j maps to j / 8, j % 8.
                int vec = vnni ? j / 8 : j / 16, lane = vnni ? j % 8 : j % 16, width = vnni ? 32 : 64;
                long s = 0;
                for (int p = 0; p < k; p++) s += a[r * k + p] * (long)b[(p / 4) * Cols * 4 + vec * width + lane * 4 + p % 4];
                int got = vnni ? c[r * 64 + (j / 8) * 8 + j % 8] : c[r * Cols + j];
                if (s != got) throw new InvalidOperationException($"int8 {(vnni ? "VNNI" : "maddubs")} kernel wrong at ({r}, {j}): {got} vs {s}");
            }
        }
    }
}
