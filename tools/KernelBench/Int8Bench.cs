// int8gemm: the runtime W8A8 GEMM (Int8Gemm.Run, activation quantization and epilogue included) against the product's
// fp32 Gemm.Run on ViT-B/32 (50 and 400 rows) and MobileViT-S transformer shapes, in one process, batches interleaved.
// 1 thread: medians of the calling thread's CPU time (the host is shared and loaded); 2 threads: medians of wall time
// (CPU time of one thread says nothing about the other), reported as such. Each shape's int8 result is first compared
// with the fp32 one (max |difference| over max |C|).
// Usage: dotnet run -c Release --project tools/KernelBench -- SECONDS int8gemm   (also run by the int8 suite, after the probe)
using System.Diagnostics;
using System.Runtime.InteropServices;
using AotVit.Runtime.Kernels;
using AotVit.Runtime.Threading;

internal static unsafe class Int8Bench
{
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
        // As the models call them: bias everywhere, GELU (ViT) / SiLU (MobileViT) on fc1, the residual add on out and fc2.
        const int none = 0, gelu = 1, silu = 2, residual = 8;
        (string Name, int M, int K, int N, int Epilogue)[] shapes =
        [
            ("ViT-B/32 qkv", 50, 768, 2304, none), ("ViT-B/32 fc1", 50, 768, 3072, gelu), ("ViT-B/32 fc2", 50, 3072, 768, residual),
            ("ViT-B/32 b8 qkv", 400, 768, 2304, none), ("ViT-B/32 b8 fc1", 400, 768, 3072, gelu), ("ViT-B/32 b8 fc2", 400, 3072, 768, residual),
            ("MViT-S L2 qkv", 1024, 144, 432, none), ("MViT-S L2 fc1", 1024, 144, 288, silu), ("MViT-S L2 fc2", 1024, 288, 144, residual),
            ("MViT-S L3 qkv", 256, 192, 576, none), ("MViT-S L3 fc2", 256, 384, 192, residual),
            ("MViT-S L4 qkv", 64, 240, 720, none), ("MViT-S L4 out", 64, 240, 240, residual), ("MViT-S L4 fc2", 64, 480, 240, residual),
        ];
        string? only = Environment.GetEnvironmentVariable("INT8BENCH_SHAPES");   // e.g. "qkv" to run the shapes whose name contains it
        Console.WriteLine($"int8gemm: Int8Gemm.Run ({Int8Gemm.MicrokernelName}) vs Gemm.Run, {seconds} s per shape and thread count");
        Console.WriteLine("| GEMM | M×K→N | 1T fp32 | 1T int8 | 1T ratio | 2T fp32 (wall) | 2T int8 (wall) | 2T ratio | max err / max abs C |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---|");
        using WorkerPool pool = new(2);
        foreach (var (name, m, k, n, epilogue) in shapes)
        {
            Activation act = (Activation)(epilogue & 7);
            if (only != null && !name.Contains(only, StringComparison.OrdinalIgnoreCase)) continue;
            Random random = new(m + k + n);
            using NativeBuffer a = new((long)m * k), c32 = new((long)m * n), c8 = new((long)m * n), bias = new(n), res = new((long)m * n);
            for (long i = 0; i < a.Length; i++) a.Pointer[i] = (float)(random.NextDouble() * 2 - 1);
            for (int j = 0; j < n; j++) bias.Pointer[j] = (float)(random.NextDouble() - 0.5);
            float[] w = new float[n * k];
            for (int i = 0; i < w.Length; i++) w[i] = (float)(random.NextDouble() - 0.5) * 0.1f;
            using PackedMatrix fp32 = PackedMatrix.FromOutIn(w, n, k);
            using Int8Matrix int8 = Int8Matrix.FromOutIn(w, n, k);
            for (long i = 0; i < res.Length; i++) res.Pointer[i] = (float)(random.NextDouble() - 0.5);
            float* ap = a.Pointer, bp = bias.Pointer, cf = c32.Pointer, cq = c8.Pointer, rp = (epilogue & residual) != 0 ? res.Pointer : null;

            Gemm.Run(null, m, ap, k, fp32, bp, act, rp, n, cf, n);
            Int8Gemm.Run(null, m, ap, k, int8, bp, act, rp, n, cq, n);
            double err = 0, max = 0;
            for (long i = 0; i < (long)m * n; i++) { err = Math.Max(err, Math.Abs(cf[i] - cq[i])); max = Math.Max(max, Math.Abs(cf[i])); }

            double macs = (double)m * k * n;
            int reps = (int)Math.Clamp(2e8 / macs, 1, 1000);   // ~2-4 ms per batch at 1 thread
            var (f1, q1) = Measure(seconds, macs * reps, cpu: true,
                () => { for (int r = 0; r < reps; r++) Gemm.Run(null, m, ap, k, fp32, bp, act, rp, n, cf, n); },
                () => { for (int r = 0; r < reps; r++) Int8Gemm.Run(null, m, ap, k, int8, bp, act, rp, n, cq, n); });
            var (f2, q2) = Measure(seconds, macs * reps, cpu: false,
                () => { for (int r = 0; r < reps; r++) Gemm.Run(pool, m, ap, k, fp32, bp, act, rp, n, cf, n); },
                () => { for (int r = 0; r < reps; r++) Int8Gemm.Run(pool, m, ap, k, int8, bp, act, rp, n, cq, n); });
            string epi = (act == Activation.None ? "" : act.ToString()) + (rp != null ? "+res" : "");
            Console.WriteLine($"| {name}{(epi.Length > 0 ? " (" + epi + ")" : "")} | {m}×{k}→{n} | {f1:F1} | {q1:F1} | **{q1 / f1:F2}×** | {f2:F1} | {q2:F1} | **{q2 / f2:F2}×** | {err:G2} / {max:G3} |");
        }

        Console.WriteLine("(GMAC/s; medians of interleaved batches)");
    }

    // Interleaves batches of the two cases for `seconds` each; returns their median rates in GMAC/s.
    private static (double Fp32, double Int8) Measure(double seconds, double macsPerBatch, bool cpu, Action fp32, Action int8)
    {
        fp32();
        int8();
        List<double> rf = [], rq = [];
        Stopwatch wall = Stopwatch.StartNew();
        double Now() => cpu ? ThreadCpuSeconds() : wall.Elapsed.TotalSeconds;
        double end = Now() + 2 * seconds;
        while (Now() < end || rf.Count < 5)
        {
            double t0 = Now();
            fp32();
            double t1 = Now();
            int8();
            double t2 = Now();
            rf.Add(macsPerBatch / (t1 - t0) / 1e9);
            rq.Add(macsPerBatch / (t2 - t1) / 1e9);
        }

        rf.Sort();
        rq.Sort();
        return (rf[rf.Count / 2], rq[rq.Count / 2]);
    }
}
