// WorkerPool: a fixed set of persistent threads that run one parallel loop at a time.
// Why not Parallel.For: on 2 cores a ~0.5 ms GEMM gains nothing from the thread pool (the worker wakes too late),
// while a worker spinning on a volatile job slot gives 2x (docs/PLATFORM-NOTES, SGEMM section).
// It is deliberately not a general scheduler: no work stealing, no nesting, one For at a time.
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

    // The job slot, written by the caller before _generation is bumped and read by workers after they see it.
    private delegate*<void*, int, int, void> _body;
    private void* _context;
    private int _count;
    private volatile int _generation;
    private volatile int _pending;
    private volatile bool _disposed;
    private int _busy;
    private Exception? _workerException;

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
    /// Runs body(context, begin, end) over [0, count) split into ThreadCount contiguous chunks; the caller
    /// runs chunk 0; returns when all chunks are done. Not re-entrant: one For at a time per pool.
    /// An exception thrown by any chunk is rethrown here after every chunk has finished.
    /// </summary>
    public void For(int count, delegate*<void*, int, int, void> body, void* context)
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
                RunParallel(count, body, context);
            }
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    private void RunParallel(int count, delegate*<void*, int, int, void> body, void* context)
    {
        _body = body;
        _context = context;
        _count = count;
        _workerException = null;
        _pending = _threads.Length;
        Interlocked.Increment(ref _generation);
        for (int worker = 0; worker < _threads.Length; worker++)
        {
            if (Interlocked.Exchange(ref _sleeping[worker], 0) == 1)
            {
                _wakeEvents[worker].Set();
            }
        }

        Exception? callerException = null;
        try
        {
            int end = ChunkStart(count, 1);
            if (end > 0)
            {
                body(context, 0, end);
            }
        }
        catch (Exception exception)
        {
            callerException = exception;
        }

        SpinWait spinner = default;
        while (_pending != 0)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }

        Exception? failure = callerException ?? _workerException;
        if (failure != null)
        {
            ExceptionDispatchInfo.Throw(failure);
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
        Interlocked.Increment(ref _generation);
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

    // Chunk c of ThreadCount covers [ChunkStart(count, c), ChunkStart(count, c + 1)).
    private int ChunkStart(int count, int chunk) => (int)((long)count * chunk / ThreadCount);

    private void WorkerLoop(int worker)
    {
        // Generation 0 is the one the constructor saw. Reading _generation here instead lost the first job whenever
        // For ran before this thread started: the worker took that job's generation as "already seen", the caller
        // spun on _pending for ever (found as a hang of `aotvit bench`, whose FMA probe calls For on a new pool).
        int seenGeneration = 0;
        while (true)
        {
            WaitForJob(worker, seenGeneration);
            seenGeneration = _generation;
            if (_disposed)
            {
                return;
            }

            int chunk = worker + 1;
            int begin = ChunkStart(_count, chunk);
            int end = ChunkStart(_count, chunk + 1);
            try
            {
                if (end > begin)
                {
                    _body(_context, begin, end);
                }
            }
            catch (Exception exception)
            {
                Interlocked.CompareExchange(ref _workerException, exception, null);
            }

            Interlocked.Decrement(ref _pending);
        }
    }

    // Polls the job slot for ~SpinTicks, then blocks. The Exchange/re-check pair with the caller's
    // Increment/Exchange pair guarantees that a job published while the worker goes to sleep wakes it.
    private void WaitForJob(int worker, int seenGeneration)
    {
        long deadline = Stopwatch.GetTimestamp() + SpinTicks;
        while (true)
        {
            for (int poll = 0; poll < 64; poll++)
            {
                if (_generation != seenGeneration)
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

        while (_generation == seenGeneration)
        {
            Interlocked.Exchange(ref _sleeping[worker], 1);
            if (_generation != seenGeneration)
            {
                Interlocked.Exchange(ref _sleeping[worker], 0);
                return;
            }

            _wakeEvents[worker].Wait();
            _wakeEvents[worker].Reset();
        }
    }
}
