// WorkerPool semantics (chunking, repeated use, exceptions, idle sleep) and the no-allocation guarantee of the hot kernels.
using AotVit.Runtime.Kernels;
using AotVit.Runtime.Threading;
using Xunit;

namespace AotVit.Tests.Kernels;

[Trait("Category", "Kernels")]
public sealed unsafe class WorkerPoolTests
{
    [Fact]
    public void For_right_after_construction_is_not_lost()
    {
        // Regression: a worker that started after the first For read that job's generation as already seen,
        // and the caller spun for ever (aotvit bench hung in its FMA probe). New pool, immediate For, many times.
        var task = Task.Run(() =>
        {
            for (int i = 0; i < 300; i++)
            {
                using var pool = new WorkerPool(2 + i % 3);
                int calls = 0;
                pool.For(pool.ThreadCount, &CountChunks, &calls);
                Assert.Equal(pool.ThreadCount, calls);
            }
        });
        Assert.True(task.Wait(TimeSpan.FromSeconds(60)), "WorkerPool.For on a fresh pool never returned");
        task.GetAwaiter().GetResult();
    }

    private static void CountChunks(void* context, int begin, int end) => Interlocked.Add(ref *(int*)context, end - begin);

    [Fact]
    public void ForCoversEveryIndexOnceOverManyCalls()
    {
        using WorkerPool pool = new(3);
        int[] hits = new int[1000];
        fixed (int* counts = hits)
        {
            for (int call = 0; call < 500; call++)
            {
                pool.For(call % 17 + (call % 3 == 0 ? 983 : 0), &Count, counts);
            }
        }

        int expected = 0;
        for (int call = 0; call < 500; call++)
        {
            expected += call % 17 + (call % 3 == 0 ? 983 : 0);
        }

        Assert.Equal(expected, hits.Sum());
    }

    [Fact]
    public void BackToBackSmallJobsNeverRunARangeTwice()
    {
        // Regression: a worker that had read the exhausted counter of one job compared it against the next job's
        // larger count, claimed, and ran a range twice; the extra count made the caller spin for ever. Found by
        // a stress loop (1 in ~15,000 jobs on a loaded machine): many short jobs of growing size on fresh pools.
        var task = Task.Run(() =>
        {
            int[] hits = new int[64];
            var random = new Random(5);
            fixed (int* counts = hits)
            {
                for (int round = 0; round < 4000; round++)
                {
                    using var pool = new WorkerPool(2 + round % 3);
                    for (int call = 0; call < 4; call++)
                    {
                        Array.Clear(hits);
                        int count = random.Next(2, 64);
                        pool.For(count, &Count, counts, random.Next(0, 3));
                        for (int i = 0; i < 64; i++)
                        {
                            Assert.Equal(i < count ? 1 : 0, hits[i]);
                        }
                    }
                }
            }
        });
        Assert.True(task.Wait(TimeSpan.FromSeconds(120)), "WorkerPool.For never returned (a range was counted twice)");
        task.GetAwaiter().GetResult();
    }

    [Fact]
    public void WorkerExceptionIsRethrownAndPoolStaysUsable()
    {
        using WorkerPool pool = new(2);
        InvalidOperationException thrown = Assert.Throws<InvalidOperationException>(() => pool.For(10, &ThrowInSecondHalf, null));
        Assert.Contains("range starting at ", thrown.Message);
        Assert.Throws<InvalidOperationException>(() => pool.For(10, &ThrowInSecondHalf, null));
        int[] hits = new int[10];
        fixed (int* counts = hits)
        {
            pool.For(10, &Count, counts);
        }

        Assert.All(hits, hit => Assert.Equal(1, hit));
    }

    [Fact]
    public void CallerFinishesAloneWhenTheWorkerIsStalled()
    {
        // The worker takes the first range and blocks in it; the caller must claim every other range itself
        // instead of waiting for a fixed half. The worker is released only after the caller has run the rest.
        using WorkerPool pool = new(2);
        nint address = (nint)System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)sizeof(StallState));
        try
        {
            Task<bool> release = Task.Run(() =>
            {
                StallState* shared = (StallState*)address;
                bool sawCallerFinish = SpinWait.SpinUntil(
                    () => Volatile.Read(ref shared->CallerItems) + Volatile.Read(ref shared->WorkerStalled) == 64, TimeSpan.FromSeconds(20));
                Volatile.Write(ref shared->Release, 1);
                return sawCallerFinish;
            });
            StallState* state = (StallState*)address;
            pool.For(64, &StallFirstClaimOfWorker, state, grain: 1);
            Assert.True(release.Result, "the caller did not run the ranges the stalled worker left");
            Assert.Equal(64, state->CallerItems + state->WorkerItems);
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.Free((void*)address);
        }
    }

    private struct StallState
    {
        public int CallerItems, WorkerItems, Release, WorkerStalled;
    }

    private static void StallFirstClaimOfWorker(void* context, int begin, int end)
    {
        StallState* state = (StallState*)context;
        if (Thread.CurrentThread.Name?.StartsWith("AotVit worker", StringComparison.Ordinal) == true)
        {
            if (Interlocked.Exchange(ref state->WorkerStalled, 1) == 0)
            {
                SpinWait.SpinUntil(() => Volatile.Read(ref state->Release) == 1, TimeSpan.FromSeconds(30));
            }

            Interlocked.Add(ref state->WorkerItems, end - begin);
        }
        else
        {
            Interlocked.Add(ref state->CallerItems, end - begin);
        }
    }

    [Fact]
    public void EachThreadStartsAtTheFrontOfItsOwnShare()
    {
        // Affinity: thread t owns items [t·count/T, (t+1)·count/T) and runs them front first; the others steal from
        // its back only. So within each share the items its owner ran form a prefix (empty if all were stolen).
        using WorkerPool pool = new(3);
        const int count = 300;
        int[] runBy = new int[count];
        int ownedFronts = 0;
        fixed (int* owners = runBy)
        {
            for (int round = 0; round < 50; round++)
            {
                Array.Fill(runBy, -1);
                pool.For(count, &RecordThread, owners, grain: 1);
                Assert.DoesNotContain(-1, runBy);
                for (int thread = 0; thread < 3; thread++)
                {
                    int begin = thread * count / 3, end = (thread + 1) * count / 3;
                    int prefix = begin;
                    while (prefix < end && runBy[prefix] == thread) prefix++;
                    for (int i = prefix; i < end; i++)
                    {
                        Assert.NotEqual(thread, runBy[i]);
                    }

                    ownedFronts += prefix > begin ? 1 : 0;
                }
            }
        }

        Assert.True(ownedFronts > 0, "no thread ever ran the front of its own share");
    }

    private static void RecordThread(void* context, int begin, int end)
    {
        string? name = Thread.CurrentThread.Name;
        int thread = name != null && name.StartsWith("AotVit worker ", StringComparison.Ordinal) ? int.Parse(name["AotVit worker ".Length..]) : 0;
        for (int i = begin; i < end; i++)
        {
            ((int*)context)[i] = thread;
            Thread.SpinWait(50);
        }
    }

    [Fact]
    public void MoreThan65535GrainsStillCoverEveryItemOnce()
    {
        // Ranges count claim units in 16 bits: a For of 200,000 single items runs with a coarser grain.
        using WorkerPool pool = new(2);
        int[] hits = new int[200_000];
        fixed (int* counts = hits)
        {
            pool.For(hits.Length, &CountAll, counts, grain: 1);
        }

        Assert.All(hits, hit => Assert.Equal(1, hit));
    }

    private static void CountAll(void* context, int begin, int end)
    {
        for (int i = begin; i < end; i++)
        {
            Interlocked.Increment(ref ((int*)context)[i]);
        }
    }

    [Fact]
    public void CallerExceptionWaitsForWorkersThenThrows()
    {
        using WorkerPool pool = new(2);
        Assert.Throws<InvalidOperationException>(() => pool.For(10, &ThrowInFirstHalf, null));
    }

    [Fact]
    public void IdleWorkersSleepAndWakeUp()
    {
        using WorkerPool pool = new(2);
        int[] hits = new int[4];
        Thread.Sleep(50);   // workers are past their spin phase and blocked
        fixed (int* counts = hits)
        {
            pool.For(4, &Count, counts);
        }

        Assert.All(hits, hit => Assert.Equal(1, hit));
    }

    [Fact]
    public void ConcurrentForIsRejected()
    {
        using WorkerPool pool = new(2);
        s_nestedPool = pool;
        InvalidOperationException thrown = Assert.Throws<InvalidOperationException>(() => pool.For(2, &ForFromInside, null));
        Assert.Contains("one For at a time", thrown.Message);
    }

    [Fact]
    public void DisposeStopsThreads()
    {
        WorkerPool pool = new(4);
        pool.Dispose();
        pool.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pool.For(1, &Count, null));
    }

    [Fact]
    public void NativeBufferIsAlignedAndZeroed()
    {
        using NativeBuffer buffer = new(1001);
        Assert.Equal(0, (long)buffer.Pointer % 64);
        Assert.All(buffer.AsSpan().ToArray(), value => Assert.Equal(0f, value));
        buffer.Dispose();
        Assert.True(buffer.Pointer == null);
    }

    [Fact]
    public void WarmKernelsDoNotAllocate()
    {
        using WorkerPool pool = new(2);
        const int m = 50, n = 96, k = 72, heads = 2, headDim = 48;
        using PackedMatrix packed = PackedMatrix.FromKN(TestData.RandomArray(k * n, 1), k, n);
        using NativeBuffer a = TestData.Random(m * k, 2);
        using NativeBuffer c = new(m * n * 3);
        using NativeBuffer output = new(m * n);
        using NativeBuffer gamma = TestData.Random(n, 3);
        using NativeBuffer image = TestData.Random(8 * 8 * 16, 4);
        using NativeBuffer imageOut = new(8 * 8 * 32);
        using PackedMatrix convWeight = PackedMatrix.FromKN(TestData.RandomArray(9 * 16 * 32, 5), 9 * 16, 32);
        WorkerPool?[] pools = { null, pool };
        for (int round = 0; round < 2; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++)
            {
                foreach (WorkerPool? p in pools)
                {
                    Gemm.Run(p, m, a.Pointer, k, packed, gamma.Pointer, Activation.Gelu, c.Pointer, n, c.Pointer, n);
                    LayerNorm.Run(p, m, n, c.Pointer, n, gamma.Pointer, gamma.Pointer, 1e-5f, output.Pointer, n);
                    Attention.RunKeyPanels(p, 1, m, heads, headDim, 0.1f, c.Pointer, c.Pointer + n, c.Pointer + 2 * n, 3 * n / 3, output.Pointer, n);
                    Attention.RunQueryLanes(p, 1, m, heads, headDim, 0.1f, c.Pointer, c.Pointer + n, c.Pointer + 2 * n, 3 * n / 3, output.Pointer, n);
                    Conv2d.Run(p, 1, 8, 8, image.Pointer, 16, null, 0, 3, 1, convWeight, null, Activation.Silu, imageOut.Pointer);
                    Conv2d.Depthwise3x3(p, 1, 8, 8, 16, image.Pointer, 1, image.Pointer, null, Activation.Silu, imageOut.Pointer);
                }
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (round == 1)
            {
                Assert.Equal(0, allocated);
            }
        }
    }

    private static void Count(void* context, int begin, int end)
    {
        int* counts = (int*)context;
        for (int i = begin; i < end; i++)
        {
            Interlocked.Increment(ref counts[i % 1000]);
        }
    }

    private static void ThrowInSecondHalf(void* context, int begin, int end)
    {
        if (begin >= 5)
        {
            throw new InvalidOperationException($"range starting at {begin}");
        }
    }

    private static WorkerPool? s_nestedPool;

    private static void ForFromInside(void* context, int begin, int end)
    {
        if (begin == 0)
        {
            s_nestedPool!.For(2, &Count, null);
        }
    }

    private static void ThrowInFirstHalf(void* context, int begin, int end)
    {
        if (begin == 0)
        {
            throw new InvalidOperationException("caller chunk");
        }
    }
}
