// KernelBench: GFLOP/s of Gemm.Run on the ViT-B/32 and MobileViT shapes, 1 and 2 threads, reported as the median
// of several timed batches (the VM is shared and noisy). Usage: dotnet run -c Release --project tools/KernelBench [seconds-per-case] [gemm|stream|seq|int8|int8gemm|attention|depthwise|conv|mv2|vitlayers|pool|ukernel|all]
// KERNELBENCH_SHAPES=MxNxK[:act],... runs the gemm suite on those shapes instead of the model ones.
// seq: ViT attention timed right after the QKV GEMM that wrote its input, against a second call (where the data lies).
// vitlayers [interOffset]: the ViT-B/32 encoder chain at batch 1 (12 layers, distinct weights), time per op kind, 1T and 2T.
//   Variants to find where 2-thread time goes: VITLAYERS_OUT_A=separate (output.dense reads a buffer nobody writes),
//   VITLAYERS_INTER_A=separate (same for intermediate.dense), VITLAYERS_LN=inline (LayerNorm on the caller only).
// pool: the cost of one WorkerPool.For.
// ukernel: the 10x32 AVX-512 microkernel alone on one thread, with A and B in L1 against A streamed from L2 (ViT's 50 rows).
// attention/depthwise/conv report the best (minimum) time per call in ms, 1 and 2 threads, on the model shapes.
using System.Diagnostics;
using AotVit.Runtime.Kernels;
using AotVit.Runtime.Threading;

unsafe
{
    double secondsPerCase = args.Length > 0 ? double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1.0;
    string suite = args.Length > 1 ? args[1] : "gemm";
    if (suite == "int8")
    {
        Int8Probe.Run(secondsPerCase);
        Int8Bench.Run(secondsPerCase);
        return;
    }
    if (suite == "int8gemm")
    {
        Int8Bench.Run(secondsPerCase);
        return;
    }
    if (suite is "attention" or "depthwise" or "conv" or "winograd" or "mv2" or "all")
    {
        OtherKernels.Run(secondsPerCase, suite);
        if (suite != "all")
        {
            return;
        }
    }

    if (suite == "ukernel")
    {
        // The 10x32 microkernel with a 256x32 B block (32 KiB, in L1) on one thread, the two ways the driver feeds it:
        //   l1: one 10-row A slice (10 KiB) against the block again and again: A and B in L1, the loop's own ceiling;
        //   l2: ViT's 50 rows (stride 768): per 256-deep k-block, 5 row blocks against the block, A (150 KiB) from L2;
        //   driver: Gemm.Run of 50x128x768 (4 panels, B 384 KiB in L2): the same work plus the driver, tile and epilogue.
        // Interleaved batch by batch (the same FLOPs each); medians (the host is noisy).
        if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            Console.WriteLine("ukernel: needs AVX-512");
            return;
        }

        const int kc = 256, rows = 50, lda = 768;
        using NativeBuffer block = new(kc * 32), aRows = new((long)rows * lda), tile = new(rows * 32);
        Random ur = new(3);
        for (long i = 0; i < block.Length; i++) block.Pointer[i] = (float)ur.NextDouble() - 0.5f;
        for (long i = 0; i < aRows.Length; i++) aRows.Pointer[i] = ((float)ur.NextDouble() - 0.5f) * 1e-3f;
        float[] weights = new float[128 * lda];
        for (int i = 0; i < weights.Length; i++) weights[i] = (float)ur.NextDouble() - 0.5f;
        using PackedMatrix small = PackedMatrix.FromOutIn(weights, 128, lda);
        using NativeBuffer output = new(rows * 128L);
        string[] cases = { "A, B in L1 (10 rows)", "A from L2 (50 rows)", "driver, B in L2" };
        var rates = cases.Select(_ => new List<double>()).ToArray();
        void Batch(int variant)
        {
            if (variant == 2)
            {
                Gemm.Run(null, rows, aRows.Pointer, lda, small, null, Activation.None, null, 0, output.Pointer, 128);
                Gemm.Run(null, rows, aRows.Pointer, lda, small, null, Activation.None, null, 0, output.Pointer, 128);
                return;
            }

            for (int it = 0; it < 8; it++)
            {
                for (int k0 = 0; k0 < lda; k0 += kc)
                {
                    for (int r = 0; r < rows; r += 10)
                    {
                        float* a = variant == 0 ? aRows.Pointer : aRows.Pointer + r * lda + k0;
                        Gemm.Gemm_f32_10x32_Fma512Broadcast(kc, a, lda, block.Pointer, tile.Pointer + r * 32, k0 > 0, block.Pointer);
                    }
                }
            }
        }

        Stopwatch warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < 0.5) { Batch(0); Batch(1); Batch(2); }   // tier-up
        Stopwatch timer = Stopwatch.StartNew();
        while (timer.Elapsed.TotalSeconds < secondsPerCase * cases.Length || rates[0].Count < 50)
        {
            for (int v = 0; v < cases.Length; v++)
            {
                long start = Stopwatch.GetTimestamp();
                Batch(v);
                rates[v].Add(8 * 2.0 * rows * lda * 32 / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e9);
            }
        }

        double peak = AotVit.Runtime.Diagnostics.MachineInfo.MeasureFmaPeakGflops(1);
        Console.WriteLine($"measured FMA peak, 1 thread: {peak:F1} GFLOP/s");
        for (int v = 0; v < cases.Length; v++)
        {
            rates[v].Sort();
            double median = rates[v][rates[v].Count / 2];
            Console.WriteLine($"ukernel 10x32 {cases[v],-22} {median,7:F1} GFLOP/s ({median / peak:P0} of peak)  [p25 {rates[v][rates[v].Count / 4]:F1}, p75 {rates[v][rates[v].Count * 3 / 4]:F1}]");
        }

        return;
    }

    if (suite == "vitlayers")
    {
        // The ViT-B/32 encoder at batch 1 as the generated code runs it (12 layers of distinct weights, same arena offsets),
        // timed per op kind: what does each kernel cost inside the chain rather than alone?
        using WorkerPool layerPool = new(2);
        Random random = new(1);
        PackedMatrix Make(int n, int k)
        {
            float[] w = new float[n * k];
            for (int i = 0; i < w.Length; i++) w[i] = ((float)random.NextDouble() - 0.5f) * 0.05f;
            return PackedMatrix.FromOutIn(w, n, k);
        }
        var qkv = new PackedMatrix[12]; var ao = new PackedMatrix[12]; var inter = new PackedMatrix[12]; var outp = new PackedMatrix[12];
        for (int l = 0; l < 12; l++) { qkv[l] = Make(2304, 768); ao[l] = Make(768, 768); inter[l] = Make(3072, 768); outp[l] = Make(768, 3072); }
        using NativeBuffer other = new(50L * 3072);
        bool separate = Environment.GetEnvironmentVariable("VITLAYERS_OUT_A") == "separate";
        bool lnInline = Environment.GetEnvironmentVariable("VITLAYERS_LN") == "inline";
        bool separateInterA = Environment.GetEnvironmentVariable("VITLAYERS_INTER_A") == "separate";
        for (long i = 0; i < other.Length; i++) other.Pointer[i] = (float)random.NextDouble() - 0.5f;
        using NativeBuffer arena = new(188928L + 50 * 3072 + 4096), bias = new(4096), gamma = new(768), beta = new(768);
        for (int i = 0; i < 768; i++) gamma.Pointer[i] = 1;
        for (long i = 0; i < 38400; i++) arena.Pointer[150528 + i] = (float)random.NextDouble() - 0.5f;
        long interOffset = args.Length > 2 ? long.Parse(args[2]) : 188928;
        if (interOffset < 0 || interOffset + 50L * 3072 > arena.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(args), $"interOffset {interOffset}: the [50, 3072] output must fit in the {arena.Length}-float arena");
        }

        float* ln = arena.Pointer, hidden = arena.Pointer + 150528, wide = arena.Pointer + 188928, wideInter = arena.Pointer + interOffset;
        foreach (WorkerPool? p in new[] { null, layerPool, null, layerPool })
        {
            double[] sums = new double[7];
            int reps = 0;
            Stopwatch total = Stopwatch.StartNew();
            while (total.Elapsed.TotalSeconds < secondsPerCase || reps < 5)
            {
                for (int l = 0; l < 12; l++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    LayerNorm.Run(lnInline ? null : p, 50, 768, hidden, 768, gamma.Pointer, beta.Pointer, 1e-12f, ln, 768);
                    long t1 = Stopwatch.GetTimestamp();
                    Gemm.Run(p, 50, ln, 768, qkv[l], bias.Pointer, Activation.None, null, 2304, wide, 2304);
                    long t2 = Stopwatch.GetTimestamp();
                    Attention.RunKeyPanels(p, 1, 50, 12, 64, 0.125f, wide, wide + 768, wide + 1536, 2304, ln, 768);
                    long t3 = Stopwatch.GetTimestamp();
                    Gemm.Run(p, 50, ln, 768, ao[l], bias.Pointer, Activation.None, hidden, 768, hidden, 768);
                    long t4 = Stopwatch.GetTimestamp();
                    LayerNorm.Run(lnInline ? null : p, 50, 768, hidden, 768, gamma.Pointer, beta.Pointer, 1e-12f, ln, 768);
                    long t5 = Stopwatch.GetTimestamp();
                    Gemm.Run(p, 50, separateInterA ? other.Pointer : ln, 768, inter[l], bias.Pointer, Activation.Gelu, null, 3072, wideInter, 3072);
                    long t6 = Stopwatch.GetTimestamp();
                    Gemm.Run(p, 50, separate ? other.Pointer : wideInter, 3072, outp[l], bias.Pointer, Activation.None, hidden, 768, hidden, 768);
                    long t7 = Stopwatch.GetTimestamp();
                    long[] ts = { t0, t1, t2, t3, t4, t5, t6, t7 };
                    for (int i = 0; i < 7; i++) sums[i] += (ts[i + 1] - ts[i]) * 1e3 / Stopwatch.Frequency;
                }
                reps++;
            }
            string[] names = { "ln_before", "qkv", "attention", "attn_out", "ln_after", "intermediate", "output" };
            Console.WriteLine($"{(p == null ? 1 : 2)}T per forward (12 layers): " + string.Join("  ", names.Select((n, i) => $"{n} {sums[i] / reps:F2}")) + $"  total {sums.Sum() / reps:F2} ms");
        }
        return;
    }

    if (suite == "pool")
    {
        // Cost of one WorkerPool.For at 2 threads: empty items, and 16 items of ~5 µs of spinning each.
        using WorkerPool forPool = new(2);
        foreach (int spin in new[] { 0, 1000 })
        {
            for (int round = 0; round < 3; round++)
            {
                int n = spin == 0 ? 200_000 : 5_000;
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < n; i++) forPool.For(16, &PoolProbe.Spin, &spin, 1);
                double us = Stopwatch.GetElapsedTime(start).TotalMilliseconds * 1000 / n;
                long single = Stopwatch.GetTimestamp();
                for (int i = 0; i < n; i++) PoolProbe.Spin(&spin, 0, 16);
                double usSingle = Stopwatch.GetElapsedTime(single).TotalMilliseconds * 1000 / n;
                Console.WriteLine($"For(16 items, spin {spin}): {us:F2} us per For at 2T, {usSingle:F2} us inline");
            }
        }
        return;
    }

    if (suite == "seq")
    {
        // Attention right after the QKV GEMM that wrote its input, as in the model (12 distinct QKV weights, streamed like
        // a forward's): where did the GEMM leave q/k/v? Both attention variants, after the GEMM and again right after.
        // SEQ_SHAPE=tokens,heads,headDim (default 50,12,64: ViT-B/32; DeiT-S is 198,6,64).
        int[] shape = (Environment.GetEnvironmentVariable("SEQ_SHAPE") ?? "50,12,64").Split(',').Select(int.Parse).ToArray();
        int tokens = shape[0], heads = shape[1], headDim = shape[2], width = heads * headDim;
        float scale = 1f / MathF.Sqrt(headDim);
        using WorkerPool seqPool = new(2);
        Random random = new(1);
        float[] weight = new float[3 * width * width];
        for (int i = 0; i < weight.Length; i++) weight[i] = ((float)random.NextDouble() - 0.5f) * 0.1f;
        var qkvWeights = new PackedMatrix[12];
        for (int i = 0; i < qkvWeights.Length; i++) qkvWeights[i] = PackedMatrix.FromOutIn(weight, 3 * width, width);
        using NativeBuffer x = new((long)tokens * width), qkv = new((long)tokens * 3 * width), o = new((long)tokens * width);
        for (long i = 0; i < x.Length; i++) x.Pointer[i] = (float)random.NextDouble() - 0.5f;
        string[] names = { "key-panels", "query-lanes" };
        foreach (WorkerPool? p in new[] { null, seqPool })
        {
            List<double> g = new();
            List<double>[] after = { new(), new() }, again = { new(), new() };
            for (int rep = 0; rep < Math.Max(240, 60_000 / tokens); rep++)
            {
                for (int variant = 0; variant < 2; variant++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    Gemm.Run(p, tokens, x.Pointer, width, qkvWeights[rep % qkvWeights.Length], null, Activation.None, null, 0, qkv.Pointer, 3 * width);
                    long t1 = Stopwatch.GetTimestamp();
                    for (int call = 0; call < 2; call++)
                    {
                        if (variant == 0) Attention.RunKeyPanels(p, 1, tokens, heads, headDim, scale, qkv.Pointer, qkv.Pointer + width, qkv.Pointer + 2 * width, 3 * width, o.Pointer, width);
                        else Attention.RunQueryLanes(p, 1, tokens, heads, headDim, scale, qkv.Pointer, qkv.Pointer + width, qkv.Pointer + 2 * width, 3 * width, o.Pointer, width);
                        long t2 = Stopwatch.GetTimestamp();
                        (call == 0 ? after : again)[variant].Add((t2 - t1) * 1e3 / Stopwatch.Frequency);
                        t1 = t2;
                    }

                    g.Add((t1 - t0) * 1e3 / Stopwatch.Frequency);
                }
            }

            string line = string.Join("  ", names.Select((name, v) => $"{name} after-gemm {OtherKernels.Median(after[v]):F3} again {OtherKernels.Median(again[v]):F3}"));
            Console.WriteLine($"seq t={tokens} h={heads} d={headDim} {(p == null ? 1 : 2)}T  {line} ms (medians)");
        }

        foreach (PackedMatrix m in qkvWeights) m.Dispose();
        return;
    }

    if (suite == "stream")
    {
        // The model case: every weight matrix is used once per forward, so B streams from DRAM (40 matrices ≫ L3).
        using WorkerPool streamPool = new(2);
        (int, int, int, Activation)[] streamShapes = { (50, 3072, 768, Activation.Gelu), (50, 3072, 768, Activation.None), (50, 768, 3072, Activation.None), (50, 2304, 768, Activation.None), (50, 768, 768, Activation.None) };
        // KERNELBENCH_SHAPES=MxNxK[:act],... replaces the list here too (DeiT-S: 198x1152x384,198x384x384,198x1536x384:gelu,198x384x1536).
        if (Environment.GetEnvironmentVariable("KERNELBENCH_SHAPES") is { Length: > 0 } streamCustom)
        {
            streamShapes = streamCustom.Split(',').Select(item =>
            {
                string[] parts = item.Split(':');
                int[] dims = parts[0].Split('x').Select(int.Parse).ToArray();
                return (dims[0], dims[1], dims[2], parts.Length > 1 ? Enum.Parse<Activation>(parts[1], ignoreCase: true) : Activation.None);
            }).ToArray();
        }

        foreach ((int M, int N, int K, Activation act) in streamShapes)
        {
            int count = (int)Math.Max(8, 360_000_000L / (4L * N * K));
            Random random = new(1);
            float[] weight = new float[N * K];
            for (int i = 0; i < weight.Length; i++) weight[i] = (float)random.NextDouble() - 0.5f;
            var matrices = new PackedMatrix[count];
            for (int i = 0; i < count; i++) matrices[i] = PackedMatrix.FromOutIn(weight, N, K);
            using NativeBuffer a = new((long)M * K), c = new((long)M * N), bias = new(N);
            for (long i = 0; i < a.Length; i++) a.Pointer[i] = (float)random.NextDouble() - 0.5f;
            foreach (WorkerPool? p in new[] { null, streamPool })
            {
                List<double> rates = new();
                Stopwatch total = Stopwatch.StartNew();
                while (total.Elapsed.TotalSeconds < secondsPerCase || rates.Count < 5)
                {
                    long start = Stopwatch.GetTimestamp();
                    foreach (PackedMatrix b in matrices) Gemm.Run(p, M, a.Pointer, K, b, bias.Pointer, act, null, 0, c.Pointer, N);
                    rates.Add(2.0 * M * N * K * count / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e9);
                }
                rates.Sort();
                Console.WriteLine($"stream {count} x {M}x{N}x{K} {act,-5} {(p == null ? 1 : 2)}T  {rates[rates.Count / 2],7:F1}  [{rates[0]:F1}..{rates[^1]:F1}]");
            }
            foreach (PackedMatrix b in matrices) b.Dispose();
        }
        return;
    }

    (int M, int N, int K, Activation Act)[] shapes =
    {
        (50, 3072, 768, Activation.Gelu), (400, 3072, 768, Activation.Gelu), (400, 768, 3072, Activation.None), (50, 768, 3072, Activation.None), (50, 2304, 768, Activation.None),
        (768, 768, 768, Activation.None), (1024, 432, 144, Activation.None), (4096, 96, 64, Activation.Silu),
        (16384, 128, 32, Activation.Silu), (16384, 128, 32, Activation.None), (4096, 256, 64, Activation.Silu), (4096, 64, 256, Activation.None),
    };
    // KERNELBENCH_SHAPES=MxNxK[:gelu|silu],... replaces the list (e.g. B small enough for L2: 50x256x768).
    if (Environment.GetEnvironmentVariable("KERNELBENCH_SHAPES") is { Length: > 0 } custom)
    {
        shapes = custom.Split(',').Select(item =>
        {
            string[] parts = item.Split(':');
            int[] dims = parts[0].Split('x').Select(int.Parse).ToArray();
            Activation act = parts.Length > 1 ? Enum.Parse<Activation>(parts[1], ignoreCase: true) : Activation.None;
            return (dims[0], dims[1], dims[2], act);
        }).ToArray();
    }

    using WorkerPool pool = new(2);
    Console.WriteLine($"V512={System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated} V256={System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated} V128={System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated}  shape  threads  GFLOP/s(median)  [min..max]");
    foreach ((int m, int n, int k, Activation act) in shapes)
    {
        Random random = new(1);
        float[] weight = new float[n * k];
        for (int i = 0; i < weight.Length; i++) weight[i] = (float)random.NextDouble() - 0.5f;
        using PackedMatrix packed = PackedMatrix.FromOutIn(weight, n, k);
        using NativeBuffer a = new((long)m * k);
        using NativeBuffer c = new((long)m * n);
        using NativeBuffer bias = new(n);
        for (long i = 0; i < a.Length; i++) a.Pointer[i] = (float)random.NextDouble() - 0.5f;
        foreach (WorkerPool? p in new[] { null, pool })
        {
            double flops = 2.0 * m * n * k;
            int reps = Math.Max(1, (int)(2e8 / flops));
            for (int i = 0; i < reps * 20; i++) Gemm.Run(p, m, a.Pointer, k, packed, bias.Pointer, act, null, 0, c.Pointer, n);
            List<double> rates = new();
            Stopwatch total = Stopwatch.StartNew();
            while (total.Elapsed.TotalSeconds < secondsPerCase || rates.Count < 5)
            {
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < reps; i++) Gemm.Run(p, m, a.Pointer, k, packed, bias.Pointer, act, null, 0, c.Pointer, n);
                double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                rates.Add(flops * reps / seconds / 1e9);
            }

            rates.Sort();
            Console.WriteLine($"{m}x{n}x{k} {act,-5} {(p == null ? 1 : 2)}T  {rates[rates.Count / 2],7:F1}  [{rates[0]:F1}..{rates[^1]:F1}]");
        }
    }
}

internal static unsafe class OtherKernels
{
    public static void Run(double seconds, string suite)
    {
        using WorkerPool pool = new(2);
        Random random = new(2);
        if (suite is "attention" or "all")
        {
            // Both variants on the models' shapes (MobileViT-S/XS/XXS stages, ViT-B/32, ViT-B/16, DeiT-S), interleaved call by
            // call: medians in ms and the key-panel / query-lane ratio. ATTENTION_SHAPES=SxTxHxD,... replaces the list.
            (int, int, int, int)[] attentionShapes =
            {
                (4, 256, 4, 36), (4, 64, 4, 48), (4, 16, 4, 60), (4, 256, 4, 24), (4, 64, 4, 30), (4, 16, 4, 36),
                (4, 256, 4, 16), (4, 64, 4, 20), (4, 16, 4, 24), (1, 50, 12, 64), (1, 197, 12, 64), (1, 198, 6, 64),
            };
            if (Environment.GetEnvironmentVariable("ATTENTION_SHAPES") is { Length: > 0 } custom)
            {
                attentionShapes = custom.Split(',').Select(item => item.Split('x').Select(int.Parse).ToArray()).Select(x => (x[0], x[1], x[2], x[3])).ToArray();
            }

            foreach ((int s, int t, int h, int d) in attentionShapes)
            {
                int width = h * d;
                using NativeBuffer qkv = Fill(random, (long)s * t * 3 * width);
                using NativeBuffer o = new((long)s * t * width);
                double flops = 4.0 * s * h * t * t * d;
                float scale = 1f / MathF.Sqrt(d);
                Compare($"attention s={s} t={t} h={h} d={d}", flops, seconds, pool,
                    ("key-panels", p => Attention.RunKeyPanels(p, s, t, h, d, scale, qkv.Pointer, qkv.Pointer + width, qkv.Pointer + 2 * width, 3 * width, o.Pointer, width)),
                    ("query-lanes", p => Attention.RunQueryLanes(p, s, t, h, d, scale, qkv.Pointer, qkv.Pointer + width, qkv.Pointer + 2 * width, 3 * width, o.Pointer, width)));
            }
        }

        if (suite is "depthwise" or "all")
        {
            foreach ((int hh, int c, int stride) in new[] { (128, 64, 1), (128, 128, 2), (64, 256, 1), (64, 256, 2), (32, 384, 2), (16, 512, 2) })
            {
                using NativeBuffer input = Fill(random, (long)hh * hh * c);
                using NativeBuffer weight = Fill(random, 9L * c);
                using NativeBuffer bias = Fill(random, c);
                int ho = (hh - 1) / stride + 1;
                using NativeBuffer output = new((long)ho * ho * c);
                Time($"depthwise {hh}x{hh}x{c} s{stride}", 18.0 * ho * ho * c, seconds, pool, p =>
                    Conv2d.Depthwise3x3(p, 1, hh, hh, c, input.Pointer, stride, weight.Pointer, bias.Pointer, Activation.Silu, output.Pointer));
            }
        }

        if (suite is "conv" or "all")
        {
            // c1 > 0: MobileViT's fusion convolutions, 3x3 over the concatenation of two inputs (c0 + c1 channels).
            foreach ((int hh, int cin, int c1, int cout, int k, int stride) in new[] { (256, 3, 0, 16, 3, 2), (32, 192, 0, 96, 3, 1), (32, 96, 0, 144, 3, 1), (16, 320, 0, 160, 3, 1), (128, 16, 0, 64, 1, 1), (128, 32, 0, 128, 1, 1),
                                                                                     (32, 96, 96, 96, 3, 1), (16, 128, 128, 128, 3, 1), (8, 160, 160, 160, 3, 1) })
            {
                using NativeBuffer input = Fill(random, (long)hh * hh * cin);
                using NativeBuffer second = Fill(random, Math.Max(1L, (long)hh * hh * c1));
                int kTotal = k * k * (cin + c1);
                float[] w = new float[kTotal * cout];
                for (int i = 0; i < w.Length; i++) w[i] = (float)random.NextDouble() - 0.5f;
                using PackedMatrix packed = PackedMatrix.FromKN(w, kTotal, cout);
                int ho = (hh + 2 * ((k - 1) / 2) - k) / stride + 1;
                using NativeBuffer output = new((long)ho * ho * cout);
                Time($"conv {hh}x{hh}x{cin}{(c1 > 0 ? $"+{c1}" : "")}->{cout} k{k} s{stride}", 2.0 * ho * ho * cout * kTotal, seconds, pool, p =>
                    Conv2d.Run(p, 1, hh, hh, input.Pointer, cin, c1 > 0 ? second.Pointer : null, c1, k, stride, packed, null, Activation.Silu, output.Pointer));
                if (cout == 16 && c1 == 0 && cin <= 4)
                {
                    Time($"direct16 {hh}x{hh}x{cin}->{cout} k{k} s{stride}", 2.0 * ho * ho * cout * kTotal, seconds, pool, p =>
                        Conv2d.RunDirect16(p, 1, hh, hh, input.Pointer, cin, k, stride, packed, null, Activation.Silu, output.Pointer));
                    Time($"direct16 {hh}x{hh}x{cin}->{cout} k{k} s{stride} no act", 2.0 * ho * ho * cout * kTotal, seconds, pool, p =>
                        Conv2d.RunDirect16(p, 1, hh, hh, input.Pointer, cin, k, stride, packed, null, Activation.None, output.Pointer));
                }
            }
        }

        if (suite is "winograd" or "all")
        {
            // The MobileViT family's 3×3 stride-1 convolutions (conv_kxk: C → C; fusion: C + C → C) at 32, 16 and 8 pixels:
            // the implicit-im2col GEMM (Run) against Winograd F(2×2, 3×3) (RunWinograd), interleaved call by call.
            // GFLOP/s counts the direct convolution's MACs for both. WINOGRAD_SHAPES=HxC0xC1xCOUT,... replaces the list.
            (int, int, int, int)[] shapes =
            {
                (32, 96, 0, 96), (32, 96, 96, 96), (16, 128, 0, 128), (16, 128, 128, 128), (8, 160, 0, 160), (8, 160, 160, 160),
                (32, 64, 0, 64), (32, 64, 64, 64), (16, 80, 0, 80), (16, 80, 80, 80), (8, 96, 0, 96), (8, 96, 96, 96),
                (32, 48, 0, 48), (32, 48, 48, 48), (16, 64, 0, 64), (16, 64, 64, 64), (8, 80, 0, 80), (8, 80, 80, 80),
            };
            if (Environment.GetEnvironmentVariable("WINOGRAD_SHAPES") is { Length: > 0 } custom)
            {
                shapes = custom.Split(',').Select(item => item.Split('x').Select(int.Parse).ToArray()).Select(x => (x[0], x[1], x[2], x[3])).ToArray();
            }

            foreach ((int hh, int c0, int c1, int cout) in shapes)
            {
                int cin = c0 + c1;
                using NativeBuffer in0 = Fill(random, (long)hh * hh * c0);
                using NativeBuffer in1 = Fill(random, Math.Max(1L, (long)hh * hh * c1));
                double[] w = new double[9 * cin * cout];
                for (int i = 0; i < w.Length; i++) w[i] = random.NextDouble() - 0.5;
                using PackedMatrix direct = PackedMatrix.FromKN(Array.ConvertAll(w, x => (float)x), 9 * cin, cout);
                using PackedMatrix filter = Conv2d.PackWinograd(w, cin, cout);
                using NativeBuffer bias = Fill(random, cout);
                using NativeBuffer output = new((long)hh * hh * cout);
                float* second = c1 > 0 ? in1.Pointer : null;
                Compare($"3x3 {hh}x{hh}x{c0}{(c1 > 0 ? $"+{c1}" : "")}->{cout}", 2.0 * hh * hh * cout * 9 * cin, seconds, pool,
                    ("direct", p => Conv2d.Run(p, 1, hh, hh, in0.Pointer, c0, second, c1, 3, 1, direct, bias.Pointer, Activation.Silu, output.Pointer)),
                    ("winograd", p => Conv2d.RunWinograd(p, 1, hh, hh, in0.Pointer, c0, second, c1, filter, cout, bias.Pointer, Activation.Silu, output.Pointer)));
            }
        }

        if (suite is "mv2" or "all")
        {
            // MobileViT-S's inverted residuals: the three kernels one after another, then InvertedResidual.Run.
            // MV2_SHAPES=HxCINxCEXPxCOUTxSTRIDE,... replaces the list.
            (int, int, int, int, int)[] mv2Shapes = { (128, 16, 64, 32, 1), (128, 32, 128, 64, 2), (64, 64, 256, 64, 1), (64, 64, 256, 96, 2), (32, 96, 384, 128, 2), (16, 128, 512, 160, 2) };
            if (Environment.GetEnvironmentVariable("MV2_SHAPES") is { Length: > 0 } custom)
            {
                mv2Shapes = custom.Split(',').Select(item => item.Split('x').Select(int.Parse).ToArray()).Select(x => (x[0], x[1], x[2], x[3], x[4])).ToArray();
            }

            foreach ((int hh, int cin, int cexp, int cout, int stride) in mv2Shapes)
            {
                int ho = (hh - 1) / stride + 1;
                using NativeBuffer input = Fill(random, (long)hh * hh * cin);
                using PackedMatrix expand = PackedMatrix.FromKN(Array.ConvertAll(new float[cin * cexp], _ => (float)random.NextDouble() - 0.5f), cin, cexp);
                using PackedMatrix reduce = PackedMatrix.FromKN(Array.ConvertAll(new float[cexp * cout], _ => (float)random.NextDouble() - 0.5f), cexp, cout);
                using NativeBuffer taps = Fill(random, 9L * cexp);
                using NativeBuffer b1 = Fill(random, cexp);
                using NativeBuffer b2 = Fill(random, cexp);
                using NativeBuffer b3 = Fill(random, cout);
                using NativeBuffer expanded = new((long)hh * hh * cexp);
                using NativeBuffer depthwise = new((long)ho * ho * cexp);
                using NativeBuffer output = new((long)ho * ho * cout);
                float* residual = stride == 1 && cin == cout ? input.Pointer : null;
                double flops = 2.0 * hh * hh * cin * cexp + 18.0 * ho * ho * cexp + 2.0 * ho * ho * cexp * cout;
                string name = $"mv2 {hh}x{hh} {cin}-{cexp}-{cout} s{stride}";
                Time(name + " 3 kernels", flops, seconds, pool, p =>
                {
                    Gemm.Run(p, hh * hh, input.Pointer, cin, expand, b1.Pointer, Activation.Silu, null, 0, expanded.Pointer, cexp);
                    Conv2d.Depthwise3x3(p, 1, hh, hh, cexp, expanded.Pointer, stride, taps.Pointer, b2.Pointer, Activation.Silu, depthwise.Pointer);
                    Gemm.Run(p, ho * ho, depthwise.Pointer, cexp, reduce, b3.Pointer, Activation.None, residual, cout, output.Pointer, cout);
                });
                Time(name + " fused", flops, seconds, pool, p =>
                    InvertedResidual.Run(p, 1, hh, hh, input.Pointer, expand, b1.Pointer, Activation.Silu, stride, taps.Pointer, b2.Pointer,
                                         Activation.Silu, reduce, b3.Pointer, residual, output.Pointer));
                if (Environment.GetEnvironmentVariable("MV2_PARTS") == "1")
                {
                    Time(name + " expand", 2.0 * hh * hh * cin * cexp, seconds, pool, p => Gemm.Run(p, hh * hh, input.Pointer, cin, expand, b1.Pointer, Activation.Silu, null, 0, expanded.Pointer, cexp));
                    Time(name + " expand no act", 2.0 * hh * hh * cin * cexp, seconds, pool, p => Gemm.Run(p, hh * hh, input.Pointer, cin, expand, b1.Pointer, Activation.None, null, 0, expanded.Pointer, cexp));
                    Time(name + " depthwise", 18.0 * ho * ho * cexp, seconds, pool, p => Conv2d.Depthwise3x3(p, 1, hh, hh, cexp, expanded.Pointer, stride, taps.Pointer, b2.Pointer, Activation.Silu, depthwise.Pointer));
                    Time(name + " depthwise no act", 18.0 * ho * ho * cexp, seconds, pool, p => Conv2d.Depthwise3x3(p, 1, hh, hh, cexp, expanded.Pointer, stride, taps.Pointer, b2.Pointer, Activation.None, depthwise.Pointer));
                    Time(name + " reduce", 2.0 * ho * ho * cexp * cout, seconds, pool, p => Gemm.Run(p, ho * ho, depthwise.Pointer, cexp, reduce, b3.Pointer, Activation.None, residual, cout, output.Pointer, cout));
                }

                if (Environment.GetEnvironmentVariable("MV2_NOACT") == "1")
                    Time(name + " fused, no SiLU", flops, seconds, pool, p =>
                        InvertedResidual.Run(p, 1, hh, hh, input.Pointer, expand, b1.Pointer, Activation.None, stride, taps.Pointer, b2.Pointer,
                                             Activation.None, reduce, b3.Pointer, residual, output.Pointer));
            }
        }
    }

    private static NativeBuffer Fill(Random random, long n)
    {
        NativeBuffer buffer = new(n);
        for (long i = 0; i < n; i++) buffer.Pointer[i] = (float)random.NextDouble() - 0.5f;
        return buffer;
    }

    // Variants timed alternately call by call (1 thread, then 2), so that load from other processes falls on all of them
    // alike; medians, and each variant's median relative to the first's.
    private static void Compare(string name, double flops, double seconds, WorkerPool pool, params (string Name, Action<WorkerPool?> Call)[] variants)
    {
        foreach (WorkerPool? p in new[] { null, pool })
        {
            var times = variants.Select(_ => new List<double>()).ToArray();
            for (int i = 0; i < 3; i++) foreach (var variant in variants) variant.Call(p);
            Stopwatch total = Stopwatch.StartNew();
            while (total.Elapsed.TotalSeconds < seconds * variants.Length || times[0].Count < 11)
            {
                for (int v = 0; v < variants.Length; v++)
                {
                    long start = Stopwatch.GetTimestamp();
                    variants[v].Call(p);
                    times[v].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
            }

            double first = Median(times[0]);
            string line = string.Join("  ", variants.Select((variant, v) =>
                $"{variant.Name} {Median(times[v]),8:F3} ms {flops / Median(times[v]) / 1e6,6:F1} GFLOP/s x{first / Median(times[v]):F2}"));
            Console.WriteLine($"{name,-32} {(p == null ? 1 : 2)}T  {line}");
        }
    }

    internal static double Median(List<double> values)
    {
        List<double> sorted = new(values);
        sorted.Sort();
        return sorted[sorted.Count / 2];
    }

    private static void Time(string name, double flops, double seconds, WorkerPool pool, Action<WorkerPool?> call)
    {
        foreach (WorkerPool? p in new[] { null, pool })
        {
            for (int i = 0; i < 5; i++) call(p);
            double best = double.MaxValue;
            Stopwatch total = Stopwatch.StartNew();
            int runs = 0;
            while (total.Elapsed.TotalSeconds < seconds || runs < 5)
            {
                long start = Stopwatch.GetTimestamp();
                call(p);
                best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                runs++;
            }

            Console.WriteLine($"{name,-36} {(p == null ? 1 : 2)}T  best {best,8:F3} ms  {flops / best / 1e6,7:F1} GFLOP/s");
        }
    }
}

internal static unsafe class PoolProbe
{
    public static void Spin(void* context, int begin, int end)
    {
        int spin = *(int*)context;
        for (int i = begin; i < end; i++) Thread.SpinWait(spin);
    }
}
