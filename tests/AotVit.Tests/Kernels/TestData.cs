// Shared helpers for the kernel tests: deterministic random buffers in native memory and tolerance checks.
using AotVit.Runtime.Threading;
using Xunit;

namespace AotVit.Tests.Kernels;

internal static unsafe class TestData
{
    /// <summary>A NativeBuffer of uniform values in [−scale, scale), from a fixed seed.</summary>
    public static NativeBuffer Random(long floats, int seed, float scale = 1f)
    {
        NativeBuffer buffer = new(floats);
        Random random = new(seed);
        for (long i = 0; i < floats; i++)
        {
            buffer.Pointer[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        }

        return buffer;
    }

    public static float[] RandomArray(int floats, int seed, float scale = 1f)
    {
        float[] values = new float[floats];
        Random random = new(seed);
        for (int i = 0; i < floats; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        }

        return values;
    }

    /// <summary>Asserts |actual − expected| ≤ tolerance·(1 + |expected|) element by element.</summary>
    public static void AssertClose(float* expected, float* actual, long count, double tolerance, string what)
    {
        for (long i = 0; i < count; i++)
        {
            double error = Math.Abs((double)actual[i] - expected[i]);
            if (!(error <= tolerance * (1 + Math.Abs(expected[i]))))
            {
                Assert.Fail($"{what}: element {i}: expected {expected[i]:R}, actual {actual[i]:R} (error {error:E2}, tolerance {tolerance:E2}).");
            }
        }
    }

    // xunit runs test classes in parallel and a pool runs one For at a time, so each test thread gets its own pool.
    [ThreadStatic] private static WorkerPool? t_twoThreads;

    /// <summary>The pool to run a parallel kernel with: null for 1 thread, else a 2-thread pool owned by this test thread.</summary>
    public static WorkerPool? Pool(int threads) => threads == 1 ? null : t_twoThreads ??= new WorkerPool(2);
}
