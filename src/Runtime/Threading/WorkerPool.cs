// WorkerPool: a fixed set of persistent threads that run one parallel loop at a time.
// Why not Parallel.For: on 2 cores a ~0.5 ms GEMM gains nothing from the thread pool (the worker wakes too late),
// while a worker spinning on a volatile job slot gives 2x (docs/PLATFORM-NOTES, SGEMM section).
// It is deliberately not a general scheduler: no nesting, one For at a time.
//
// Work is claimed, not assigned: the caller and the workers take ranges of `grain` items from one shared counter
// until none are left. A worker that wakes late, or is descheduled by the OS (2 cores, other processes), costs at
// most the range it holds; with static halves the caller used to wait for the whole missing half.
// The counter packs (generation << 32 | next item), so a worker still looking at an earlier job cannot claim from
// this one: its compare-exchange carries the old generation and fails.
using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace AotVit.Runtime.Threading;

/// <summary>
/// Persistent workers (spin briefly, then sleep: no CPU burnt when idle). <see cref="ThreadCount"/> includes the caller.
/// </summary>
public sealed unsafe class WorkerPool : IDisposable
{
    /// <summary>How long an idle worker polls the job slot before it blocks, in Stopwatch ticks (~50 µs).</summary>
    private static readonly long SpinTicks = Math.Max(1, Stopwatch.Frequency / 20_000);

    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _wakeEvents;
    // _sleeping[w] == 1 while worker w is (about to be) blocked on _wakeEvents[w].
    private readonly int[] _sleeping;

    // The job, written by the caller only while no item of the previous job is unclaimed or running, then
    // published by the release write of _claim. A reader uses what it read only if its claim then succeeds.
    private delegate*<void*, int, int, void> _body;
    private void* _context;
    private int _count;
    private int _grain;
    private int _generation;          // written by the caller only
    private long _claim;              // (generation << 32) | next unclaimed item; next = int.MaxValue: closed
    private int _done;                // items finished in the current generation
    private volatile bool _disposed;
    private int _busy;
    private Exception? _failure;

    /// <summary>Starts <paramref name="threadCount"/> − 1 background threads.</summary>
    public WorkerPool(int threadCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threadCount, 1);
        ThreadCount = threadCount;
        _threads = new Thread[threadCount - 1];
        _wakeEvents = new ManualResetEventSlim[threadCount - 1];
        _sleeping = new int[threadCount - 1];
        for (int worker = 0; worker < _threads.Length; worker++)
        {
            _wakeEvents[worker] = new ManualResetEventSlim(false, 0);
            int index = worker;
            _threads[worker] = new Thread(() => WorkerLoop(index))
            {
                IsBackground = true,
                Name = $"AotVit worker {worker + 1}",
            };
            _threads[worker].Start();
        }
    }

    /// <summary>Number of threads that run a <see cref="For"/>, the caller included.</summary>
    public int ThreadCount { get; }

    /// <summary>
    /// Runs body(context, begin, end) over disjoint ranges covering [0, count), each at most
    /// <paramref name="grain"/> items long (0: about count / (8·ThreadCount)), on the caller and the workers;
    /// returns when every item is done. Which thread runs which range is not fixed. Not re-entrant: one For
    /// at a time per pool. An exception thrown by any range is rethrown here after every claimed range has finished.
    /// </summary>
    public void For(int count, delegate*<void*, int, int, void> body, void* context, int grain = 0)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (count <= 0)
        {
            return;
        }

        if (Interlocked.Exchange(ref _busy, 1) != 0)
        {
            throw new InvalidOperationException("WorkerPool runs one For at a time; it was called again before the previous For returned.");
        }

        try
        {
            if (ThreadCount == 1 || count == 1)
            {
                body(context, 0, count);
            }
            else
            {
                RunParallel(count, body, context, grain > 0 ? grain : Math.Max(1, count / (8 * ThreadCount)));
            }
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    private void RunParallel(int count, delegate*<void*, int, int, void> body, void* context, int grain)
    {
        _body = body;
        _context = context;
        _count = count;
        _grain = grain;
        _failure = null;
        _done = 0;
        int generation = ++_generation;
        Volatile.Write(ref _claim, (long)generation << 32);
        for (int worker = 0; worker < _threads.Length; worker++)
        {
            if (Interlocked.Exchange(ref _sleeping[worker], 0) == 1)
            {
                _wakeEvents[worker].Set();
            }
        }

        RunClaims(generation);
        SpinWait spinner = default;
        while (Volatile.Read(ref _done) != count)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }

        // Close the job before anything of the next one is written. A worker may still hold a read of the exhausted
        // counter (generation, count); had the counter stayed so, that worker could compare it against the next
        // job's larger count, claim, and succeed: it would run a range twice and count it in the next job.
        Interlocked.Exchange(ref _claim, ((long)generation << 32) | int.MaxValue);
        Exception? failure = _failure;
        if (failure != null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    // Claims and runs ranges of job `generation` until none is left (or a newer job has replaced it).
    // The first exception of the job is kept for the caller; the remaining ranges still run.
    private void RunClaims(int generation)
    {
        while (true)
        {
            long state = Volatile.Read(ref _claim);
            if ((int)(state >> 32) != generation)
            {
                return;
            }

            // Valid only if the claim below succeeds: the caller writes the next job only after every item is done
            // and the counter is closed (next = int.MaxValue), so a successful claim proves these were this job's.
            int count = _count;
            int next = (int)state;
            if (next >= count)
            {
                return;
            }

            int end = Math.Min(count, next + _grain);
            var body = _body;
            void* context = _context;
            if (Interlocked.CompareExchange(ref _claim, ((long)generation << 32) | (uint)end, state) != state)
            {
                continue;
            }

            try
            {
                body(context, next, end);
            }
            catch (Exception exception)
            {
                Interlocked.CompareExchange(ref _failure, exception, null);
            }

            Interlocked.Add(ref _done, end - next);
        }
    }

    /// <summary>Stops and joins the worker threads.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Volatile.Write(ref _claim, (long)(_generation + 1) << 32);
        foreach (ManualResetEventSlim wakeEvent in _wakeEvents)
        {
            wakeEvent.Set();
        }

        foreach (Thread thread in _threads)
        {
            thread.Join();
        }

        foreach (ManualResetEventSlim wakeEvent in _wakeEvents)
        {
            wakeEvent.Dispose();
        }
    }

    private int PublishedGeneration => (int)(Volatile.Read(ref _claim) >> 32);

    private void WorkerLoop(int worker)
    {
        // Generation 0 is the one the constructor saw. Reading the counter here instead lost the first job whenever
        // For ran before this thread started: the worker took that job's generation as "already seen", the caller
        // spun for ever (found as a hang of `aotvit bench`, whose FMA probe calls For on a new pool).
        int seenGeneration = 0;
        while (true)
        {
            WaitForJob(worker, seenGeneration);
            seenGeneration = PublishedGeneration;
            if (_disposed)
            {
                return;
            }

            RunClaims(seenGeneration);
        }
    }

    // Polls the job slot for ~SpinTicks, then blocks. The Exchange/re-check pair with the caller's
    // publish/Exchange pair guarantees that a job published while the worker goes to sleep wakes it.
    private void WaitForJob(int worker, int seenGeneration)
    {
        long deadline = Stopwatch.GetTimestamp() + SpinTicks;
        while (true)
        {
            for (int poll = 0; poll < 64; poll++)
            {
                if (PublishedGeneration != seenGeneration)
                {
                    return;
                }

                Thread.SpinWait(4);
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                break;
            }
        }

        while (PublishedGeneration == seenGeneration)
        {
            Interlocked.Exchange(ref _sleeping[worker], 1);
            if (PublishedGeneration != seenGeneration)
            {
                Interlocked.Exchange(ref _sleeping[worker], 0);
                return;
            }

            _wakeEvents[worker].Wait();
            _wakeEvents[worker].Reset();
        }
    }
}
