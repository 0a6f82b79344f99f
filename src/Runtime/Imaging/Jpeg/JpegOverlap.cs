// JpegOverlap: a single-scan JPEG decoded by two threads of a WorkerPool, the entropy decoder running ahead of the
// pixel stage (JpegPixelPipeline: IDCT, upsampling, colour, the row sink) through a ring of MCU-row coefficient
// buffers, so the two stages overlap instead of adding up.
//
// Invariants:
// * Two roles, each held by at most one thread at a time. The entropy role (JpegReader.DecodeRows) is taken once, by
//   the first participant to arrive, and kept to the end of the scan: the bit reader's state lives on that thread's
//   stack. The pixel role (ProcessMcuRows of the next decoded rows) is taken and released by whichever participant is
//   free. Each stage sees the rows in order, so the output equals the one-thread decode's, byte for byte.
// * Ring slot r % Slots belongs to row r from Acquire(r) until the pixel stage has finished row r: Acquire(r) waits
//   until processed > r − Slots. While it waits, the entropy thread runs the pixel stage itself whenever the role is
//   free, so the decode completes whatever the pool does with the second participant (a worker that wakes late or never,
//   the caller running both items one after the other).
// * Hand-over: Publish releases `decoded` after the row's coefficients are written; the pixel stage acquires it before
//   reading them and releases `processed` after it is done with the slot; role release/acquire orders the pipeline's
//   own state between the threads that hold the pixel role in turn.
// * Failure on either side is recorded (the first one wins) and every wait checks it, so no thread waits for a row the
//   other will not produce; the caller rethrows the recorded exception once both participants have returned. A pixel
//   stage failure is recorded while the failing thread still holds the role, so nobody runs the pipeline after it.
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using AotVit.Runtime.Threading;

namespace AotVit.Runtime.Imaging.Jpeg;

internal sealed unsafe class JpegOverlap : IJpegMcuRowTarget
{
    /// <summary>MCU rows of coefficients in flight: enough that neither stage waits on the other's row-to-row jitter.</summary>
    internal const int Slots = 4;

    private readonly JpegReader _reader;
    private readonly JpegPixelPipeline _pipeline;
    private readonly byte* _data;
    private readonly int _length;
    private readonly short[][][] _ring = new short[Slots][][];
    private readonly JpegCoefficients _view;
    private readonly int _rows;
    private int _decoded;     // rows published by the entropy decoder
    private int _processed;   // rows the pixel stage has finished
    private int _entropyTaken;
    private int _pixelRole;
    private Exception? _failure;
    private volatile bool _failed;

    private JpegOverlap(JpegReader reader, byte* data, int length, JpegPixelPipeline pipeline)
    {
        _reader = reader;
        _pipeline = pipeline;
        _data = data;
        _length = length;
        _rows = reader.Frame.McusHigh;
        for (int i = 0; i < Slots; i++) _ring[i] = reader.AllocateMcuRow();
        _view = new JpegCoefficients { Frame = reader.Frame, Blocks = [] };
    }

    /// <summary>Whether overlapping pays for an image (given a pool with a second thread): enough rows that the ring
    /// fills and enough pixels that the worker's wake-up is small against the decode.</summary>
    public static bool Worthwhile(JpegFrame frame) => frame.McusHigh >= 2 * Slots && (long)frame.Width * frame.Height >= 1L << 18;

    /// <summary>Decodes the scan into <paramref name="pipeline"/> on the caller and one worker of
    /// <paramref name="pool"/> (not running another For; ThreadCount > 1), for a single-scan file. Same result and errors as <c>reader.DecodeRows(data, pipeline)</c>.</summary>
    public static void Run(JpegReader reader, ReadOnlySpan<byte> data, JpegPixelPipeline pipeline, WorkerPool pool)
    {
        fixed (byte* p = data)
        {
            var job = new JpegOverlap(reader, p, data.Length, pipeline);
            GCHandle handle = GCHandle.Alloc(job);
            try
            {
                pool.For(2, &Participate, (void*)GCHandle.ToIntPtr(handle), 1);
            }
            finally
            {
                handle.Free();
            }
            if (job._failure is not null)
                ExceptionDispatchInfo.Throw(job._failure);
        }
    }

    private static void Participate(void* context, int begin, int end)
    {
        var job = (JpegOverlap)GCHandle.FromIntPtr((IntPtr)context).Target!;
        try
        {
            if (Interlocked.Exchange(ref job._entropyTaken, 1) == 0)
                job._reader.DecodeRows(new ReadOnlySpan<byte>(job._data, job._length), job);
            var spin = new SpinWait();
            while (!job._failed && Volatile.Read(ref job._processed) < job._rows)
            {
                if (job.TryPixelStage(int.MaxValue))
                    spin.Reset();
                else
                    spin.SpinOnce(sleep1Threshold: -1);
            }
        }
        catch (Abandoned)
        {
        }
        catch (Exception e)
        {
            job.Fail(e);
        }
    }

    short[][] IJpegMcuRowTarget.Acquire(int row)
    {
        var spin = new SpinWait();
        while (row - Volatile.Read(ref _processed) >= Slots)
        {
            if (_failed)
                throw new Abandoned();
            if (TryPixelStage(1))
                spin.Reset();
            else
                spin.SpinOnce(sleep1Threshold: -1);
        }
        return _ring[row % Slots];
    }

    void IJpegMcuRowTarget.Publish(int row) => Volatile.Write(ref _decoded, row + 1);

    // Runs the pixel stage on up to maxRows decoded rows if the role is free; false when it did nothing.
    private bool TryPixelStage(int maxRows)
    {
        if (Volatile.Read(ref _processed) >= Volatile.Read(ref _decoded) || Interlocked.CompareExchange(ref _pixelRole, 1, 0) != 0)
            return false;
        int done = 0;
        try
        {
            int r;
            while (done < maxRows && !_failed && (r = _processed) < Volatile.Read(ref _decoded))
            {
                _view.Frame = _reader.Frame;
                _view.Blocks = _ring[r % Slots];
                _view.FirstMcuRow = r;
                _view.McuRows = 1;
                _pipeline.ProcessMcuRows(_view);
                Volatile.Write(ref _processed, r + 1);
                done++;
            }
        }
        catch (Exception e)
        {
            // Recorded before the role is released: otherwise the other participant could take the role in between
            // and run the half-done row again on the pipeline's inconsistent state, and its error could win.
            Fail(e);
            throw;
        }
        finally
        {
            Volatile.Write(ref _pixelRole, 0);
        }
        return done > 0;
    }

    private void Fail(Exception e)
    {
        Interlocked.CompareExchange(ref _failure, e, null);
        _failed = true;
    }

    /// <summary>Unwinds a participant after the other one failed; never recorded.</summary>
    private sealed class Abandoned : Exception;
}
