// A validated, read-only view of a safetensors checkpoint: memory-mapped from disk (Open) or over caller memory (FromMemory).
// The header is parsed and fully validated up front; tensor data is only touched when asked for, so opening a
// multi-gigabyte file costs the header parse plus a lazy mapping. No reflection: fine under NativeAOT.
using System.Buffers;
using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using AotVit.Runtime.Interop;

namespace AotVit.Runtime.Weights;

/// <summary>
/// A safetensors file whose header has been validated (see <see cref="SafeTensorsLimits"/>). Spans returned by
/// <see cref="GetBytes(TensorInfo)"/> and zero-copy <see cref="GetFloats(TensorInfo)"/> point into the mapping and
/// are valid until <see cref="Dispose"/>. Reading is thread-safe; Dispose must not race with reads.
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    private readonly SafeTensorsHeader _header;
    private readonly byte* _base;              // first byte of the file (mapped or pinned)
    private readonly long _length;             // bytes available at _base
    private readonly IDisposable? _owner;      // releases the mapping or the pin
    private int _disposed;

    private SafeTensorsFile(string fileName, byte* @base, long length, IDisposable? owner, SafeTensorsLimits limits)
    {
        FileName = fileName;
        _base = @base;
        _length = length;
        _owner = owner;
        // The parser sees at most the first 2 GB (a span's limit); the header must fit there, the data need not.
        _header = SafeTensorsHeader.Parse(new ReadOnlySpan<byte>(@base, (int)Math.Min(length, int.MaxValue)), length, fileName, limits);
    }

    /// <summary>The path given to <see cref="Open"/>, or the display name given to <see cref="FromMemory"/>.</summary>
    public string FileName { get; }

    /// <summary>All tensors, in data-offset order.</summary>
    public IReadOnlyList<TensorInfo> Tensors => _header.Tensors;

    /// <summary>The <c>__metadata__</c> string map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata => _header.Metadata;

    /// <summary>Harmless oddities found while validating: gaps between tensors, unused trailing bytes, unaligned F32 data.</summary>
    public IReadOnlyList<string> Warnings => _header.Warnings;

    /// <summary>Byte offset of the data buffer in the file (8 + header length).</summary>
    public long DataStart => _header.DataStart;

    /// <summary>
    /// Memory-maps <paramref name="path"/> read-only and validates its header.
    /// Throws <see cref="SafeTensorsException"/> for malformed files and the usual IO exceptions, with plain messages
    /// ("checkpoint not found: …", "… is a directory, not a file"; <see cref="UserFiles.OpenRead"/>), when it cannot be opened.
    /// </summary>
    public static SafeTensorsFile Open(string path, SafeTensorsLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        limits ??= SafeTensorsLimits.Default;
        FileStream stream = UserFiles.OpenRead(path, "checkpoint", FileOptions.RandomAccess);
        if (!stream.CanSeek)
        {
            // A pipe (`--weights <(curl …)`) or a socket: there is nothing to map, and Length would throw.
            stream.Dispose();
            throw new SafeTensorsException("not a regular file (a pipe?): a checkpoint is memory-mapped, so save it to a file first", path);
        }

        long length = stream.Length;
        if (length < 8)
        {
            // Cannot map an empty file, and nothing shorter than the length prefix is valid anyway.
            stream.Dispose();
            throw new SafeTensorsException(
                $"file is {length} bytes, shorter than the 8-byte header length prefix (truncated or not a safetensors file)", path);
        }

        MappedView? view = null;
        try
        {
            view = new MappedView(stream); // takes ownership of the stream
            return new SafeTensorsFile(path, view.Pointer, length, view, limits);
        }
        catch
        {
            if (view is null) stream.Dispose();
            view?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Validates a safetensors image held in memory (tests, fuzzing, embedded resources). The memory is pinned until
    /// <see cref="Dispose"/> and must not be modified meanwhile.
    /// </summary>
    public static SafeTensorsFile FromMemory(ReadOnlyMemory<byte> bytes, SafeTensorsLimits? limits = null, string displayName = "<memory>")
    {
        limits ??= SafeTensorsLimits.Default;
        if (bytes.Length < 8)
        {
            throw new SafeTensorsException(
                $"file is {bytes.Length} bytes, shorter than the 8-byte header length prefix (truncated or not a safetensors file)", displayName);
        }
        MemoryHandle pin = bytes.Pin();
        var owner = new PinOwner(pin);
        try
        {
            return new SafeTensorsFile(displayName, (byte*)pin.Pointer, bytes.Length, owner, limits);
        }
        catch
        {
            owner.Dispose();
            throw;
        }
    }

    public bool TryGetInfo(string name, out TensorInfo info)
    {
        ThrowIfDisposed();
        return _header.ByName.TryGetValue(name, out info!);
    }

    /// <summary>The info for <paramref name="name"/>; <see cref="SafeTensorsException"/> when the file has no such tensor.</summary>
    public TensorInfo GetInfo(string name) =>
        TryGetInfo(name, out TensorInfo info) ? info : throw new SafeTensorsException("no such tensor in the file", FileName, name);

    /// <summary>The raw little-endian bytes of a tensor (zero-copy).</summary>
    public ReadOnlySpan<byte> GetBytes(TensorInfo t)
    {
        TensorInfo own = Own(t);
        if (own.ByteLength > int.MaxValue)
        {
            throw new SafeTensorsException($"{own.ByteLength} bytes is too large for a single span (2 GB limit)", FileName, own.Name);
        }
        return new ReadOnlySpan<byte>(_base + _header.DataStart + own.Offset, (int)own.ByteLength);
    }

    public ReadOnlySpan<byte> GetBytes(string name) => GetBytes(GetInfo(name));

    /// <summary>
    /// The tensor as float32: zero-copy for little-endian F32 data at a 4-byte aligned address; otherwise (F16, BF16, F64,
    /// unaligned F32) a newly allocated converted copy on every call. Integer and bool tensors are rejected.
    /// </summary>
    public ReadOnlySpan<float> GetFloats(TensorInfo t)
    {
        TensorInfo own = Own(t);
        if (!own.DType.IsFloatingPoint())
        {
            throw new SafeTensorsException($"dtype {own.DType.ToSafeTensorsName()} is not a floating-point type; cannot read it as floats", FileName, own.Name);
        }
        long count = own.ElementCount;
        if (count > Array.MaxLength || own.ByteLength > int.MaxValue)
        {
            throw new SafeTensorsException($"{count} elements is too large for a single span", FileName, own.Name);
        }
        byte* data = _base + _header.DataStart + own.Offset;
        if (own.DType == DType.F32 && BitConverter.IsLittleEndian && ((nuint)data & 3) == 0)
        {
            return new ReadOnlySpan<float>(data, (int)count);
        }
        var result = GC.AllocateUninitializedArray<float>((int)count);
        FloatConversion.ToSingle(own.DType, new ReadOnlySpan<byte>(data, (int)own.ByteLength), result);
        return result;
    }

    public ReadOnlySpan<float> GetFloats(string name) => GetFloats(GetInfo(name));

    /// <summary>
    /// Drops the whole pages inside the tensor's bytes from this process's resident set (Linux, memory-mapped files
    /// only: <c>madvise(MADV_DONTNEED)</c> on the read-only shared mapping, so the file and the page cache are
    /// untouched). Spans handed out earlier stay valid: reading them faults the pages in again. Loading a model calls
    /// it for each tensor once packed, so the load's peak RSS is the packed weights plus a tensor or two rather than
    /// the packed weights plus the whole mapped checkpoint. Advisory: does nothing elsewhere or when the kernel refuses.
    /// </summary>
    public void ReleasePages(TensorInfo t)
    {
        TensorInfo own = Own(t);
        if (_owner is not MappedView || own.ByteLength <= 0)   // LinuxMemory does nothing off Linux
        {
            return;
        }

        long page = Environment.SystemPageSize;
        long start = (long)(_base + _header.DataStart + own.Offset);
        long first = (start + page - 1) / page * page;        // whole pages only: neighbours keep theirs
        long end = (start + own.ByteLength) / page * page;
        if (end > first)
        {
            _ = LinuxMemory.Advise((void*)first, (nuint)(end - first), LinuxMemory.DontNeed);
        }
    }

    /// <summary>Releases the mapping (or the pin). Spans handed out earlier must not be used afterwards.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _owner?.Dispose();
    }

    /// <summary>Maps a caller's TensorInfo to this file's own entry, so forged offsets can never reach raw memory.</summary>
    private TensorInfo Own(TensorInfo t)
    {
        ArgumentNullException.ThrowIfNull(t);
        ThrowIfDisposed();
        if (!_header.ByName.TryGetValue(t.Name, out TensorInfo? own) || (!ReferenceEquals(own, t) && !own.Equals(t)))
        {
            throw new ArgumentException($"TensorInfo '{t.Name}' does not belong to safetensors file '{FileName}'", nameof(t));
        }
        return own;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    /// <summary>Read-only mapping of a whole file with its pointer acquired for the lifetime of the view.</summary>
    private sealed class MappedView : IDisposable
    {
        private readonly MemoryMappedFile _file;
        private readonly MemoryMappedViewAccessor _accessor;
        public readonly byte* Pointer;

        public MappedView(FileStream stream)
        {
            _file = MemoryMappedFile.CreateFromFile(stream, mapName: null, capacity: 0, MemoryMappedFileAccess.Read,
                                                    HandleInheritability.None, leaveOpen: false);
            try
            {
                _accessor = _file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
                byte* pointer = null;
                _accessor.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
                Pointer = pointer + _accessor.PointerOffset;
            }
            catch
            {
                _accessor?.Dispose();
                _file.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            _accessor.SafeMemoryMappedViewHandle.ReleasePointer();
            _accessor.Dispose();
            _file.Dispose();
        }
    }

    private sealed class PinOwner(MemoryHandle pin) : IDisposable
    {
        private MemoryHandle _pin = pin;
        public void Dispose() => _pin.Dispose();
    }
}
