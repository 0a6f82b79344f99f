// WorkerPool: a fixed set of persistent threads that run one parallel loop at a time.
// Why not Parallel.For: on 2 cores a ~0.5 ms GEMM gains nothing from the thread pool (the worker wakes too late),
// while a worker spinning on a volatile job slot gives 2x (docs/PLATFORM.md).
// It is deliberately not a general scheduler: no nesting, one For at a time.
//
// Affinity first, then stealing. Thread t (the caller is 0) owns the t-th 1/T of the items and claims `grain` of them at a
// time from the front of its range; a thread whose range is empty steals `grain` items from the back of another's.
// Consecutive kernels split their items the same way (rows, or row chunks, in order), so in the common case a thread
// reads what it wrote in the previous op from its own L2. Claiming from one shared counter instead scattered rows
// across both cores; owned shares keep them local (MobileViT-S, 2 threads: 20.4 → 17.5 ms, ViT-B/32 29.4 → 28.6).
// Stealing keeps what the shared counter gave: a worker that wakes late or is descheduled by the OS (2 cores, other
// processes) costs at most the `grain` items it holds, not its whole share.
// Each range is one 64-bit word (generation << 32 | front << 16 | back), claimed by compare-exchange, so a thread still
// looking at an earlier job cannot claim from this one: its compare-exchange carries the old generation and fails.
using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace AotVit.Runtime.Threading;

/// <summary>
/// Persistent workers (spin briefly, then sleep: no CPU burnt when idle). <see cref="ThreadCount"/> includes the caller.
/// </summary>
public sealed unsafe class WorkerPool : IDisposable
{
    private const int RangeStride = 16;
    // Claim units per job fit in 16 bits; a For with more than this many grains gets a coarser grain.
    private const int MaxUnits = ushort.MaxValue;

    /// <summary>How long an idle worker polls the job slot before it blocks, in Stopwatch ticks (~50 µs).</summary>
    private static readonly long SpinTicks = Math.Max(1, Stopwatch.Frequency / 20_000);

    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _wakeEvents;
    // _sleeping[w] == 1 while worker w is (about to be) blocked on _wakeEvents[w].
    private readonly int[] _sleeping;

    // The job, written by the caller only while no item of the previous job is unclaimed or running, then
    // published by the release writes of the ranges. A reader uses what it read only if its claim then succeeds.
    private delegate*<void*, int, int, void> _body;
    private void* _context;
    private int _count;
    private int _grain;
    private int _generation;          // written by the caller only
    private int _published;           // the generation workers wait for; written after the ranges
    // Range of thread t at _ranges[t · RangeStride], in claim units (unit u = items [u·grain, min(count, (u + 1)·grain))):
    // (generation << 32) | (front unit << 16) | back unit (exclusive).
    // RangeStride longs apart (128 bytes) so that no two ranges share a cache line or an adjacent-line prefetch pair.
    private readonly long[] _ranges;
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
        _ranges = new long[threadCount * RangeStride];
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
    /// <paramref name="grain"/> items long (0: about count / (8·ThreadCount); raised when count / grain would exceed
    /// 65,535), on the caller and the workers; returns when every item is done. Thread t (the caller is 0) starts on
    /// the t-th 1/ThreadCount of the items, in order, and then helps with the others' from their ends, so which thread
    /// runs which range is not fixed. Not re-entrant: one For at a time per pool. An exception thrown by any range is
    /// rethrown here after every claimed range has finished.
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
        int units = (count + grain - 1) / grain;
        if (units > MaxUnits)
        {
            grain = (count + MaxUnits - 1) / MaxUnits;
            units = (count + grain - 1) / grain;
        }

        _body = body;
        _context = context;
        _count = count;
        _grain = grain;
        _failure = null;
        _done = 0;
        int generation = ++_generation;
        int threads = ThreadCount;
        for (int t = 0; t < threads; t++)
        {
            long front = (long)t * units / threads, back = (long)(t + 1) * units / threads;
            Volatile.Write(ref _ranges[t * RangeStride], ((long)generation << 32) | (front << 16) | back);
        }

        Volatile.Write(ref _published, generation);
        for (int worker = 0; worker < _threads.Length; worker++)
        {
            if (Interlocked.Exchange(ref _sleeping[worker], 0) == 1)
            {
                _wakeEvents[worker].Set();
            }
        }

        RunClaims(generation, 0);
        SpinWait spinner = default;
        while (Volatile.Read(ref _done) != count)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }

        // Every unit is claimed and finished, so every range is empty (front = back): a thread holding an older read
        // of a range fails its compare-exchange (front only grows, back only shrinks, and the next job has a new
        // generation), and no range needs closing.
        Exception? failure = _failure;
        if (failure != null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    // Runs units of job `generation`: first from the front of this thread's own range, then from the back of the
    // others' (the next thread's first), until every range is empty or a newer job has replaced this one.
    // The first exception of the job is kept for the caller; the remaining ranges still run.
    private void RunClaims(int generation, int self)
    {
        int threads = ThreadCount;
        for (int step = 0; step < threads; step++)
        {
            int owner = (self + step) % threads;
            bool own = step == 0;
            ref long range = ref _ranges[owner * RangeStride];
            while (true)
            {
                long state = Volatile.Read(ref range);
                if ((int)(state >> 32) != generation)
                {
                    return;
                }

                int front = (int)(state >> 16) & 0xFFFF, back = (int)state & 0xFFFF;
                if (front >= back)
                {
                    break;
                }

                // Valid only if the claim below succeeds: the caller writes the next job only after every unit is
                // done, so a successful claim (same generation) proves these were this job's.
                int unit = own ? front : back - 1;
                long claimed = own ? state + (1L << 16) : state - 1;
                int grain = _grain;
                int count = _count;
                var body = _body;
                void* context = _context;
                if (Interlocked.CompareExchange(ref range, claimed, state) != state)
                {
                    continue;
                }

                int begin = unit * grain;
                int end = Math.Min(count, begin + grain);
                try
                {
                    body(context, begin, end);
                }
                catch (Exception exception)
                {
                    Interlocked.CompareExchange(ref _failure, exception, null);
                }

                Interlocked.Add(ref _done, end - begin);
            }
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
        Volatile.Write(ref _published, _generation + 1);
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

    private int PublishedGeneration => Volatile.Read(ref _published);

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

            RunClaims(seenGeneration, worker + 1);
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
