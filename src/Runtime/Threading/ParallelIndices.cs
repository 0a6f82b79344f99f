// One-off bulk work on all cores (weight loading, synthetic weights): the calling thread plus short-lived helper threads
// pull indices from a shared counter. Not for kernels (WorkerPool), and not System.Threading.Tasks.Parallel: the TPL
// and the thread pool add ~130 KB to a NativeAOT executable (docs/ARCHITECTURE.md, "Keeping the NativeAOT binaries small").
using System.Runtime.ExceptionServices;

namespace AotVit.Runtime.Threading;

internal static class ParallelIndices
{
    /// <summary>
    /// Runs body(i) for every i in [0, count), each exactly once, on up to Environment.ProcessorCount threads (the caller
    /// included). After the first failure no new index is started; it is rethrown as itself once every thread has stopped.
    /// </summary>
    public static void For(int count, Action<int> body, string threadName)
    {
        int next = -1;
        ExceptionDispatchInfo? failure = null;
        void Work()
        {
            int i;
            while (Volatile.Read(ref failure) is null && (i = Interlocked.Increment(ref next)) < count)
            {
                try { body(i); }
                catch (Exception e) { Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null); }
            }
        }
        int helpers = Math.Min(Environment.ProcessorCount, count) - 1;
        var threads = new Thread[Math.Max(0, helpers)];
        for (int t = 0; t < threads.Length; t++)
        {
            threads[t] = new Thread(Work, maxStackSize: 256 * 1024) { IsBackground = true, Name = threadName };
            threads[t].Start();
        }
        Work();
        foreach (var thread in threads) thread.Join();
        failure?.Throw();
    }
}
