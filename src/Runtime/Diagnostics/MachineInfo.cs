// Facts about the machine a benchmark runs on: which SIMD paths are compiled in and accelerated, the
// measured FMA peak (the yardstick for "fraction of peak"), and the process's peak resident memory.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using AotVit.Runtime.Threading;

namespace AotVit.Runtime.Diagnostics;

public static unsafe class MachineInfo
{
    /// <summary>e.g. "Vector512 (AVX-512F), FMA" "Vector128 (NEON)" (arm64) or "Vector128 only (SSE)" — what the kernels will actually use.</summary>
    public static string SimdDescription =>
        Vector512.IsHardwareAccelerated ? "Vector512 (AVX-512F" + (Avx512BW.IsSupported ? ", BW" : "") + ")" + (Fma.IsSupported ? ", FMA" : "")
        : Vector256.IsHardwareAccelerated ? "Vector256 (AVX2)" + (Fma.IsSupported ? ", FMA" : "")
        : Vector128.IsHardwareAccelerated && AdvSimd.Arm64.IsSupported ? "Vector128 (NEON)"
        : Vector128.IsHardwareAccelerated ? "Vector128 only (SSE)"
        : "scalar (no hardware intrinsics)";

    /// <summary>
    /// True in a NativeAOT binary: no method was ever JIT-compiled (with a JIT, this code itself was). Not
    /// Assembly.Location (asking an assembly anything keeps the reflection runtime in the NativeAOT executable), and not
    /// RuntimeFeature.IsDynamicCodeCompiled (PublishAot turns dynamic code off under `dotnet run` too).
    /// </summary>
    public static bool IsNativeAot => System.Runtime.JitInfo.GetCompiledMethodCount() == 0;

    /// <summary>Peak resident set size of this process (VmHWM), or -1 where /proc is unavailable.</summary>
    public static long PeakRssBytes => ReadStatus("VmHWM:");

    public static long CurrentRssBytes => ReadStatus("VmRSS:");

    private static long ReadStatus(string key)
    {
        try
        {
            // The file's bytes, not File.ReadLines: its StreamReader would keep BOM detection and the UTF-16/UTF-32
            // decoders in the binaries for this one ASCII file ('\n'-separated lines, as ReadLines splits them).
            foreach (var line in System.Text.Encoding.UTF8.GetString(File.ReadAllBytes("/proc/self/status")).Split('\n'))
                if (line.StartsWith(key, StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(key.Length).Trim().ToString().Split(' ')[0]) * 1024;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return -1;
    }

    /// <summary>
    /// Measured single-precision FMA throughput (GFLOP/s) of the widest accelerated vector type, with
    /// <paramref name="threads"/> threads: 12 independent accumulator chains, so latency is hidden and the
    /// FMA pipes are the only limit. Median of <paramref name="repeats"/> runs of about 20 ms each.
    /// </summary>
    public static double MeasureFmaPeakGflops(int threads = 1, int repeats = 5)
    {
        using var pool = threads > 1 ? new WorkerPool(threads) : null;
        var results = new double[repeats];
        long iterations = 8_000_000;
        for (int r = 0; r < repeats; r++)
        {
            var sw = Stopwatch.StartNew();
            if (pool is null) FmaLoop(null, 0, 1, iterations);
            else
            {
                // 64 ranges per thread: claimed dynamically, so every thread stays busy until the end.
                long it = iterations / 64;
                pool.For(threads * 64, &Body, &it, grain: 1);
            }
            double seconds = sw.Elapsed.TotalSeconds;
            results[r] = threads * iterations * 12.0 * 2 * LaneCount / seconds / 1e9;
        }
        Array.Sort(results);
        return results[repeats / 2];
    }

    private static int LaneCount => Vector512.IsHardwareAccelerated ? 16 : Vector256.IsHardwareAccelerated ? 8 : Vector128.IsHardwareAccelerated ? 4 : 1;

    private static void Body(void* context, int begin, int end)
    {
        for (int i = begin; i < end; i++) FmaLoop(null, i, 1, *(long*)context);
    }

    private static float _sink;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FmaLoop(object? unused, int seed, int step, long iterations)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            var m = Vector512.Create(0.999f); var a = Vector512.Create(0.001f);
            Vector512<float> x0 = Vector512.Create(seed + 1f), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0, x6 = x0, x7 = x0, x8 = x0, x9 = x0, x10 = x0, x11 = x0;
            for (long i = 0; i < iterations; i++)
            {
                x0 = Vector512.FusedMultiplyAdd(x0, m, a); x1 = Vector512.FusedMultiplyAdd(x1, m, a); x2 = Vector512.FusedMultiplyAdd(x2, m, a);
                x3 = Vector512.FusedMultiplyAdd(x3, m, a); x4 = Vector512.FusedMultiplyAdd(x4, m, a); x5 = Vector512.FusedMultiplyAdd(x5, m, a);
                x6 = Vector512.FusedMultiplyAdd(x6, m, a); x7 = Vector512.FusedMultiplyAdd(x7, m, a); x8 = Vector512.FusedMultiplyAdd(x8, m, a);
                x9 = Vector512.FusedMultiplyAdd(x9, m, a); x10 = Vector512.FusedMultiplyAdd(x10, m, a); x11 = Vector512.FusedMultiplyAdd(x11, m, a);
            }
            _sink = Vector512.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var m = Vector256.Create(0.999f); var a = Vector256.Create(0.001f);
            Vector256<float> x0 = Vector256.Create(seed + 1f), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0, x6 = x0, x7 = x0, x8 = x0, x9 = x0, x10 = x0, x11 = x0;
            for (long i = 0; i < iterations; i++)
            {
                x0 = Vector256.FusedMultiplyAdd(x0, m, a); x1 = Vector256.FusedMultiplyAdd(x1, m, a); x2 = Vector256.FusedMultiplyAdd(x2, m, a);
                x3 = Vector256.FusedMultiplyAdd(x3, m, a); x4 = Vector256.FusedMultiplyAdd(x4, m, a); x5 = Vector256.FusedMultiplyAdd(x5, m, a);
                x6 = Vector256.FusedMultiplyAdd(x6, m, a); x7 = Vector256.FusedMultiplyAdd(x7, m, a); x8 = Vector256.FusedMultiplyAdd(x8, m, a);
                x9 = Vector256.FusedMultiplyAdd(x9, m, a); x10 = Vector256.FusedMultiplyAdd(x10, m, a); x11 = Vector256.FusedMultiplyAdd(x11, m, a);
            }
            _sink = Vector256.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11);
        }
        else
        {
            var m = Vector128.Create(0.999f); var a = Vector128.Create(0.001f);
            Vector128<float> x0 = Vector128.Create(seed + 1f), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0, x6 = x0, x7 = x0, x8 = x0, x9 = x0, x10 = x0, x11 = x0;
            for (long i = 0; i < iterations; i++)
            {
                x0 = x0 * m + a; x1 = x1 * m + a; x2 = x2 * m + a; x3 = x3 * m + a; x4 = x4 * m + a; x5 = x5 * m + a;
                x6 = x6 * m + a; x7 = x7 * m + a; x8 = x8 * m + a; x9 = x9 * m + a; x10 = x10 * m + a; x11 = x11 * m + a;
            }
            _sink = Vector128.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11);
        }
    }
}
