// Checkpoint: the tensors of a checkpoint, whatever its format (safetensors, a torch zip `pytorch_model.bin`, a sharded
// safetensors index), behind one interface: names, dtypes, shapes, and reads converted to float32. Every format's
// parser validates its whole index up front (each tensor's bytes lie inside its file) and hands this class the located
// tensors; data is read only when asked for, by position, so nothing here can fault on a file that shrinks meanwhile.
using System.Collections.ObjectModel;

namespace AotVit.Runtime.Weights;

/// <summary>
/// A validated checkpoint. Reads are thread-safe; <see cref="Dispose"/> must not race with them. Open one with
/// <see cref="CheckpointFile.Open"/> (any format, recognised by content) or a format's own Open.
/// </summary>
public abstract class Checkpoint : IDisposable
{
    /// <summary>Where a tensor's bytes are: a source and the absolute offset of its first byte there.</summary>
    internal readonly record struct Located(TensorInfo Info, ByteSource Source, long Offset);

    private readonly Dictionary<string, Located> _byName;
    private IReadOnlyList<ByteSource> _owned;
    private int _disposed;

    /// <param name="owned">Sources this checkpoint disposes (a file, the shards of an index).</param>
    private protected Checkpoint(string fileName, string format, IReadOnlyList<Located> tensors,
                                 IReadOnlyDictionary<string, string> metadata, IReadOnlyList<string> warnings,
                                 IReadOnlyList<ByteSource> owned)
    {
        FileName = fileName;
        Format = format;
        _owned = owned;
        _byName = new Dictionary<string, Located>(tensors.Count, StringComparer.Ordinal);
        var infos = new TensorInfo[tensors.Count];
        for (int i = 0; i < tensors.Count; i++)
        {
            infos[i] = tensors[i].Info;
            if (!_byName.TryAdd(tensors[i].Info.Name, tensors[i]))
            {
                throw new CheckpointException("the tensor appears twice", fileName, tensors[i].Info.Name);
            }
        }
        Tensors = Array.AsReadOnly(infos);
        Metadata = new ReadOnlyDictionary<string, string>(new Dictionary<string, string>(metadata, StringComparer.Ordinal));
        Warnings = warnings;
    }

    /// <summary>The path given to Open, or the display name of in-memory data.</summary>
    public string FileName { get; }

    /// <summary>What the file is, in words: "safetensors", "PyTorch zip (torch.save)", "sharded safetensors (N files)".</summary>
    public string Format { get; }

    /// <summary>All tensors, in the file's order.</summary>
    public IReadOnlyList<TensorInfo> Tensors { get; }

    /// <summary>String metadata: a safetensors <c>__metadata__</c> map or an index's <c>metadata</c> (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Harmless oddities found while validating (gaps, unused bytes, unaligned data).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>True for a checkpoint written by <c>aotvit make-weights</c> (its metadata names the seed): random
    /// weights whose outputs mean nothing.</summary>
    public bool IsSynthetic => Metadata.ContainsKey(SyntheticWeights.SeedMetadataKey);

    public bool TryGetInfo(string name, out TensorInfo info)
    {
        ThrowIfDisposed();
        if (_byName.TryGetValue(name, out Located located))
        {
            info = located.Info;
            return true;
        }
        info = null!;
        return false;
    }

    /// <summary>The info for <paramref name="name"/>; <see cref="CheckpointException"/> when there is no such tensor.</summary>
    public TensorInfo GetInfo(string name) =>
        TryGetInfo(name, out TensorInfo info) ? info : throw new CheckpointException("no such tensor in the file", FileName, name);

    /// <summary>The raw little-endian bytes of a tensor: a view of in-memory data, a fresh copy read from a file.</summary>
    public ReadOnlySpan<byte> GetBytes(TensorInfo t)
    {
        Located own = Own(t);
        if (own.Source.TryGetSpan(own.Offset, own.Info.ByteLength, out ReadOnlySpan<byte> span))
        {
            return span;
        }
        var bytes = GC.AllocateUninitializedArray<byte>(CheckedSpanLength(own.Info, own.Info.ByteLength));
        own.Source.ReadExactly(own.Offset, bytes);
        return bytes;
    }

    public ReadOnlySpan<byte> GetBytes(string name) => GetBytes(GetInfo(name));

    /// <summary>The raw little-endian bytes of a tensor into <paramref name="destination"/>, which must hold exactly its
    /// byte length.</summary>
    public void ReadBytes(TensorInfo t, Span<byte> destination)
    {
        Located own = Own(t);
        if (destination.Length != own.Info.ByteLength)
        {
            throw new ArgumentException($"tensor '{t.Name}' has {own.Info.ByteLength} bytes, the destination holds {destination.Length}", nameof(destination));
        }
        if (own.Source.TryGetSpan(own.Offset, own.Info.ByteLength, out ReadOnlySpan<byte> span))
        {
            span.CopyTo(destination);
            return;
        }
        own.Source.ReadExactly(own.Offset, destination);
    }

    /// <summary>The tensor as float32, in a new array (F16, BF16 and F64 converted exactly as <see cref="FloatConversion"/>
    /// does). Integer and bool tensors are refused.</summary>
    public float[] GetFloats(TensorInfo t)
    {
        Located own = Own(t);
        var result = GC.AllocateUninitializedArray<float>(CheckedSpanLength(own.Info, own.Info.ElementCount));
        ReadFloats(own, result);
        return result;
    }

    public float[] GetFloats(string name) => GetFloats(GetInfo(name));

    /// <summary>The tensor as float32 into <paramref name="destination"/>, which must hold exactly its element count.</summary>
    public void ReadFloats(TensorInfo t, Span<float> destination)
    {
        Located own = Own(t);
        if (destination.Length != own.Info.ElementCount)
        {
            throw new ArgumentException($"tensor '{t.Name}' has {own.Info.ElementCount} elements, the destination holds {destination.Length}", nameof(destination));
        }
        ReadFloats(own, destination);
    }

    /// <summary>Throws when a file this checkpoint reads changed since it was opened (<see cref="ByteSource.CheckUnchanged"/>):
    /// call it after the last read, so that what was read is known to be one version of the file.</summary>
    public void CheckUnchanged()
    {
        ThrowIfDisposed();
        foreach (ByteSource source in _owned) source.CheckUnchanged();
    }

    /// <summary>Where this checkpoint's own tensor <paramref name="t"/> is (for an index that combines shards).</summary>
    internal Located Locate(TensorInfo t) => Own(t);

    /// <summary>Hands the sources this checkpoint owns to the caller, which disposes them from now on.</summary>
    internal IReadOnlyList<ByteSource> DetachSources()
    {
        IReadOnlyList<ByteSource> sources = _owned;
        _owned = [];
        return sources;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        foreach (ByteSource source in _owned) source.Dispose();
    }

    private void ReadFloats(Located own, Span<float> destination)
    {
        TensorInfo info = own.Info;
        if (!info.DType.IsFloatingPoint())
        {
            throw new CheckpointException($"dtype {info.DType.ToSafeTensorsName()} is not a floating-point type; cannot read it as floats", FileName, info.Name);
        }
        if (info.DType == DType.F32 && BitConverter.IsLittleEndian)
        {
            // Straight into the destination: no staging copy for the common case.
            own.Source.ReadExactly(own.Offset, System.Runtime.InteropServices.MemoryMarshal.AsBytes(destination));
            return;
        }
        if (own.Source.TryGetSpan(own.Offset, info.ByteLength, out ReadOnlySpan<byte> span))
        {
            FloatConversion.ToSingle(info.DType, span, destination);
            return;
        }
        // Converted in chunks, so a half-precision tensor needs no staging buffer of its own size.
        int size = info.DType.SizeInBytes();
        int chunkElements = Math.Max(1, (1 << 20) / size);
        byte[] staging = System.Buffers.ArrayPool<byte>.Shared.Rent(chunkElements * size);
        try
        {
            for (int at = 0; at < destination.Length; at += chunkElements)
            {
                int count = Math.Min(chunkElements, destination.Length - at);
                Span<byte> bytes = staging.AsSpan(0, count * size);
                own.Source.ReadExactly(own.Offset + (long)at * size, bytes);
                FloatConversion.ToSingle(info.DType, bytes, destination.Slice(at, count));
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(staging);
        }
    }

    private int CheckedSpanLength(TensorInfo info, long length)
    {
        if (length > Array.MaxLength)
        {
            throw new CheckpointException($"{length} elements is too large for a single array", FileName, info.Name);
        }
        return (int)length;
    }

    /// <summary>Maps a caller's TensorInfo to this checkpoint's own entry, so forged offsets can never be read.</summary>
    private Located Own(TensorInfo t)
    {
        ArgumentNullException.ThrowIfNull(t);
        ThrowIfDisposed();
        if (!_byName.TryGetValue(t.Name, out Located own) || (!ReferenceEquals(own.Info, t) && !own.Info.Equals(t)))
        {
            throw new ArgumentException($"TensorInfo '{t.Name}' does not belong to checkpoint '{FileName}'", nameof(t));
        }
        return own;
    }

    private protected void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}
