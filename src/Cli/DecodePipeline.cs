// DecodePipeline: decoder threads read, decode and preprocess the inputs while the caller's thread runs the model, with
// bounded memory and the input order kept.
//
// Invariants (all state below is guarded by _sync):
// - Item i is preprocessed into ring slot i % Capacity. A decoder claims items in input order and claims item i only
//   when i < _released + Capacity, so the slot is free (every item before i − Capacity has been released).
// - Because claims are in order and need only a free slot, the item the consumer waits for (the lowest unreleased
//   one) is always either claimed — its decoder will finish it — or claimable: no deadlock, whatever the capacity.
// - _slotItem[s] == i exactly when item i is finished (decoded or failed) and not yet released.
// - The consumer takes units in input order: one failed item, or up to `batch` consecutive decoded items whose slots
//   are consecutive (a unit never wraps around the ring), so their pixels are one [n, C, H, W] span.
// - With one input the model is idle while it is decoded, so the decode may borrow the model's threads
//   (VisionModel.PreprocessEncoded useModelThreads); with more, decoders never take them from a running forward pass.
// Memory: Capacity · InputFloatsPerImage floats of pixels plus, per decoder, one encoded file and its decoded RGB.
// The pipeline depends only on VisionModel.PreprocessEncoded and ImageDecoder.ReadInfo, not on a decoder's internals.
using System.Runtime.InteropServices;
using AotVit.Runtime;
using AotVit.Runtime.Imaging;
using Microsoft.Win32.SafeHandles;

namespace AotVit.Cli;

/// <summary>Items [First, First + Count) taken together: all decoded (Error null), or one failed input.</summary>
internal readonly struct PipelineUnit(int first, int count, int slot, string? error, bool internalError)
{
    public int First { get; } = first;
    public int Count { get; } = count;
    public int Slot { get; } = slot;
    public string? Error { get; } = error;
    /// <summary>The failure was not the input's fault (a bug): exit status 3 rather than 2.</summary>
    public bool InternalError { get; } = internalError;
}

internal sealed class DecodePipeline : IDisposable
{
    private readonly VisionModel _model;
    private readonly List<InputItem> _items;
    private readonly int _batch;
    private readonly int _per;
    private readonly float[] _pixels;
    private readonly int[] _slotItem;
    private readonly int[] _width, _height;
    private readonly string?[] _error;
    private readonly bool[] _internal;
    private readonly Thread[] _threads;
    private readonly object _sync = new();
    private int _nextClaim, _released;
    private bool _stopped;

    public DecodePipeline(VisionModel model, List<InputItem> items, int batch, int decoders)
    {
        _model = model;
        _items = items;
        _batch = batch;
        _per = model.InputFloatsPerImage;
        // Two batches in flight (one running, one being decoded), and room for every decoder beyond that.
        Capacity = Math.Max(2 * batch, batch + decoders);
        _pixels = new float[(long)Capacity * _per];
        _slotItem = new int[Capacity];
        Array.Fill(_slotItem, -1);
        _width = new int[Capacity];
        _height = new int[Capacity];
        _error = new string?[Capacity];
        _internal = new bool[Capacity];
        _threads = new Thread[Math.Min(decoders, Math.Max(1, items.Count))];
        for (int t = 0; t < _threads.Length; t++)
        {
            _threads[t] = new Thread(DecodeLoop) { IsBackground = true, Name = $"aotvit decoder {t}" };
            _threads[t].Start();
        }
    }

    public int Capacity { get; }

    public int Count => _items.Count;

    public InputItem Item(int index) => _items[index];

    /// <summary>Pixel rows of a decoded unit: [Count, C, H, W].</summary>
    public ReadOnlySpan<float> Pixels(PipelineUnit unit) => _pixels.AsSpan(unit.Slot * _per, unit.Count * _per);

    /// <summary>The size the model saw (after EXIF orientation) of item First + k of a decoded unit.</summary>
    public (int Width, int Height) Size(PipelineUnit unit, int k) => (_width[unit.Slot + k], _height[unit.Slot + k]);

    /// <summary>Waits for the next unit in input order; false when every item has been taken, or as soon as
    /// <paramref name="stop"/> returns true while waiting (asked every 100 ms: the item may never come, as when its
    /// decoder reads a FIFO that no one writes).</summary>
    public bool Take(int next, Func<bool> stop, out PipelineUnit unit)
    {
        unit = default;
        if (next >= _items.Count) return false;
        int slot = next % Capacity;
        lock (_sync)
        {
            while (_slotItem[slot] != next)
            {
                if (stop()) return false;
                Monitor.Wait(_sync, 100);
            }
            if (_error[slot] is { } error)
            {
                unit = new PipelineUnit(next, 1, slot, error, _internal[slot]);
                return true;
            }
            int count = 1;
            while (count < _batch && next + count < _items.Count && slot + count < Capacity
                   && _slotItem[slot + count] == next + count && _error[slot + count] is null)
                count++;
            unit = new PipelineUnit(next, count, slot, null, false);
            return true;
        }
    }

    /// <summary>Frees the unit's slots for the decoders.</summary>
    public void Release(PipelineUnit unit)
    {
        lock (_sync)
        {
            for (int k = 0; k < unit.Count; k++)
            {
                _slotItem[unit.Slot + k] = -1;
                _error[unit.Slot + k] = null;
            }
            _released = unit.First + unit.Count;
            Monitor.PulseAll(_sync);
        }
    }

    private void DecodeLoop()
    {
        while (true)
        {
            int index;
            lock (_sync)
            {
                while (!_stopped && _nextClaim < _items.Count && _nextClaim >= _released + Capacity) Monitor.Wait(_sync);
                if (_stopped || _nextClaim >= _items.Count) return;
                index = _nextClaim++;
            }
            int slot = index % Capacity;
            string? error = null;
            bool internalError = false;
            int width = 0, height = 0;
            try
            {
                (width, height) = Prepare(_items[index], _pixels.AsSpan(slot * _per, _per));
            }
            catch (Exception e)
            {
                (error, internalError) = Describe(_items[index], e);
            }
            lock (_sync)
            {
                _width[slot] = width;
                _height[slot] = height;
                _error[slot] = error;
                _internal[slot] = internalError;
                _slotItem[slot] = index;
                Monitor.PulseAll(_sync);
            }
        }
    }

    private (int Width, int Height) Prepare(InputItem item, Span<float> destination)
    {
        if (item.Error is { } expansionError) throw new InputExpansionException(expansionError);
        var limits = _model.Options.ImageLimits;
        byte[] encoded = item.IsStdin ? ReadStdin(limits.MaxEncodedBytes) : ImageDecoder.ReadFile(item.Path, limits);
        var (width, height, _) = ImageDecoder.ReadInfo(encoded, limits, _model.ApplyExifOrientation);
        _model.PreprocessEncoded(encoded, destination, useModelThreads: _items.Count == 1);
        return (width, height);
    }

    /// <summary>The message for a failed input, naming it; internal is true for errors that are not the input's fault.</summary>
    private static (string Message, bool Internal) Describe(InputItem item, Exception e)
    {
        string name = item.IsStdin ? "stdin" : item.Path;
        return e switch
        {
            InputExpansionException => (e.Message, false),
            InputException => ($"{name}: {e.Message}", false),
            // UserFiles' messages already name the file ("image file not found: x.png").
            IOException or UnauthorizedAccessException => (item.IsStdin ? $"stdin: {e.Message}" : e.Message, false),
            _ => ($"{name}: internal error while decoding: {e}", true),
        };
    }

    /// <summary>Everything on stdin (fd 0), at most <paramref name="maxBytes"/>.</summary>
    private static byte[] ReadStdin(long maxBytes)
    {
        using var stream = new FileStream(new SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, maxBytes + 1 - buffer.Length))) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > maxBytes)
                throw new ImageDecodeException($"Encoded image has more than {maxBytes} bytes, the limit (ImageLimits.MaxEncodedBytes).");
        }
        if (buffer.Length == 0) throw new ImageDecodeException("no data (stdin was empty)");
        return buffer.ToArray();
    }

    /// <summary>Stops the decoders after the image each is working on and waits for them, at most
    /// <paramref name="grace"/> in all; true when every decoder has ended. A decoder still running after that is blocked
    /// in a read (a FIFO with no writer, a hung network file system) or on a very large image: its thread is a background
    /// one, and the caller must not dispose the model while it may still preprocess with it.</summary>
    public bool Stop(TimeSpan grace)
    {
        lock (_sync)
        {
            _stopped = true;
            Monitor.PulseAll(_sync);
        }
        long deadline = grace == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)grace.TotalMilliseconds;
        bool all = true;
        foreach (var t in _threads)
        {
            if (deadline == long.MaxValue) t.Join();
            else all &= t.Join(TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64)));
        }
        return all;
    }

    /// <summary>Stops the decoders and waits for them, unless <see cref="Stop"/> already has (or gave up on one).</summary>
    public void Dispose()
    {
        lock (_sync)
        {
            if (_stopped) return;
        }
        Stop(Timeout.InfiniteTimeSpan);
    }

    private sealed class InputExpansionException(string message) : Exception(message);
}

/// <summary>isatty(3) through the runtime's own wrapper (no System.Console: see StdStream).</summary>
internal static partial class Terminal
{
    public static bool IsTerminal(int fd) => IsATty(fd) != 0;

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_IsATty")]
    private static partial int IsATty(nint fd);
}
