// A validated safetensors checkpoint: a file read by position (Open) or caller memory (FromMemory).
// The header is parsed and fully validated up front; tensor data is read only when asked for, so opening a
// multi-gigabyte file costs the header read and parse. No reflection: fine under NativeAOT.
using System.Buffers.Binary;

namespace AotVit.Runtime.Weights;

/// <summary>A safetensors file whose header has been validated (see <see cref="CheckpointLimits"/>).</summary>
public sealed class SafeTensorsFile : Checkpoint
{
    private SafeTensorsFile(ByteSource source, SafeTensorsHeader header, bool owned)
        : base(source.Name, "safetensors", Locate(source, header), header.Metadata, header.Warnings, owned ? [source] : [])
    {
        DataStart = header.DataStart;
    }

    /// <summary>Byte offset of the data buffer in the file (8 + header length); <see cref="TensorInfo.Offset"/> counts from there.</summary>
    public long DataStart { get; }

    /// <summary>
    /// Opens <paramref name="path"/> and validates its header. Throws <see cref="CheckpointException"/> for malformed
    /// files and the usual IO exceptions, with plain messages ("checkpoint not found: …", "… is a directory, not a file";
    /// <see cref="Interop.UserFiles.OpenRead"/>), when it cannot be opened.
    /// </summary>
    public static SafeTensorsFile Open(string path, CheckpointLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ByteSource source = ByteSource.OpenFile(path);
        try
        {
            return Open(source, limits, owned: true);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>Validates a safetensors image held in memory (tests, fuzzing, embedded resources). The memory must not be
    /// modified while the file is used.</summary>
    public static SafeTensorsFile FromMemory(ReadOnlyMemory<byte> bytes, CheckpointLimits? limits = null, string displayName = "<memory>") =>
        Open(ByteSource.FromMemory(bytes, displayName), limits, owned: true);

    /// <summary>Validates the safetensors file in <paramref name="source"/>; disposes the source with the file when
    /// <paramref name="owned"/>.</summary>
    internal static SafeTensorsFile Open(ByteSource source, CheckpointLimits? limits, bool owned)
    {
        limits ??= CheckpointLimits.Default;
        long length = source.Length;
        if (length < 8)
        {
            throw new CheckpointException(
                $"file is {length} bytes, shorter than the 8-byte header length prefix (truncated or not a safetensors file)", source.Name);
        }
        Span<byte> prefix = stackalloc byte[8];
        source.ReadExactly(0, prefix);
        ulong declared = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        // Read no more than the header can be: the parser reports a length above the limit or past the end itself.
        long headerBytes = (long)Math.Min(declared, (ulong)Math.Min(Math.Max(0, limits.MaxHeaderBytes), length - 8));
        byte[] head = new byte[8 + headerBytes];
        source.ReadExactly(0, head);
        SafeTensorsHeader header = SafeTensorsHeader.Parse(head, length, source.Name, limits);
        return new SafeTensorsFile(source, header, owned);
    }

    private static List<Located> Locate(ByteSource source, SafeTensorsHeader header)
    {
        var located = new List<Located>(header.Tensors.Count);
        foreach (TensorInfo t in header.Tensors) located.Add(new Located(t, source, header.DataStart + t.Offset));
        return located;
    }
}
