// KernelBench: GFLOP/s of Gemm.Run on the ViT-B/32 and MobileViT shapes, 1 and 2 threads, reported as the median
// of several timed batches (the VM is shared and noisy). Usage: dotnet run -c Release --project tools/KernelBench [seconds-per-case]
using System.Diagnostics;
using AotVit.Runtime.Kernels;
using AotVit.Runtime.Threading;

unsafe
{
    double secondsPerCase = args.Length > 0 ? double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1.0;
    (int M, int N, int K, Activation Act)[] shapes =
    {
        (50, 3072, 768, Activation.Gelu), (50, 768, 3072, Activation.None), (50, 2304, 768, Activation.None),
        (768, 768, 768, Activation.None), (1024, 432, 144, Activation.None), (4096, 96, 64, Activation.Silu),
    };
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
