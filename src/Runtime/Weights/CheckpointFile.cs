// CheckpointFile: opens a checkpoint file by what it contains, not by its name: safetensors, a PyTorch zip
// (`pytorch_model.bin` as torch >= 1.6 saves it), or a sharded index (`*.index.json`) whose shards are either.
// Files that are weights in a format aot-vit does not read (TensorFlow HDF5, the legacy torch format, GGUF) get an
// error that says what the file is and how to get a supported one.
using System.Buffers.Binary;

namespace AotVit.Runtime.Weights;

public static class CheckpointFile
{
    /// <summary>The formats <see cref="Open"/> tells apart by content.</summary>
    public enum Kind { SafeTensors, TorchZip, ShardIndex, Unknown }

    /// <summary>Opens <paramref name="path"/> as whichever checkpoint format its first bytes show.</summary>
    /// <exception cref="CheckpointException">Not a checkpoint aot-vit reads (the message says what it looks like), or a
    /// malformed one.</exception>
    /// <exception cref="IOException">The file cannot be opened (plain messages; see <see cref="Interop.UserFiles.OpenRead"/>).</exception>
    public static Checkpoint Open(string path, CheckpointLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ByteSource source = ByteSource.OpenFile(path);
        try
        {
            Span<byte> head = stackalloc byte[(int)Math.Min(source.Length, 64)];
            source.ReadExactly(0, head);
            switch (Sniff(head, path))
            {
                case Kind.TorchZip:
                    return TorchZip(source, limits);
                case Kind.ShardIndex:
                    source.Dispose();
                    return ShardedCheckpoint.Open(path, limits);
                default:
                    // SafeTensors, and anything unrecognised: the safetensors parser says precisely what is wrong.
                    return SafeTensorsFile.Open(source, limits, owned: true);
            }
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>Which format <paramref name="head"/> (the file's first bytes, up to 64) belongs to. Throws for files that
    /// are recognisably weights in a format aot-vit does not read.</summary>
    internal static Kind Sniff(ReadOnlySpan<byte> head, string fileName)
    {
        if (head.StartsWith("PK\u0003\u0004"u8) || head.StartsWith("PK\u0005\u0006"u8))
        {
            return Kind.TorchZip;
        }
        if (head.Length >= 9 && head[8] == (byte)'{' && BinaryPrimitives.ReadUInt64LittleEndian(head) is > 1 and < (1UL << 40))
        {
            return Kind.SafeTensors;
        }
        int first = head.IndexOfAnyExcept(" \t\r\n"u8);
        if (first >= 0 && head[first] == (byte)'{' && fileName.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            return Kind.ShardIndex;
        }
        if (head.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            throw new CheckpointException(
                "this is an HDF5 file (TensorFlow/Keras weights, tf_model.h5); aot-vit reads PyTorch weights: use the repository's model.safetensors or pytorch_model.bin", fileName);
        }
        if (head.StartsWith("GGUF"u8))
        {
            throw new CheckpointException("this is a GGUF file (llama.cpp format); aot-vit reads model.safetensors or pytorch_model.bin", fileName);
        }
        // torch.save before 1.6 (or with _use_new_zipfile_serialization=False): a pickle (PROTO 2) whose first object
        // is the magic number 0x1950a86a20f9469cfc6c as a LONG1 of 10 bytes.
        if (head.StartsWith((ReadOnlySpan<byte>)[0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]))
        {
            throw new CheckpointException(
                "this is a checkpoint in torch's legacy (pre-1.6) format, which is a pickle program that aot-vit does not run; convert it once with torch: " +
                "python -c \"import torch; torch.save(torch.load('OLD.bin'), 'pytorch_model.bin')\" (or save it as safetensors)", fileName);
        }
        return Kind.Unknown;
    }

    /// <summary>Opens a checkpoint image held in memory (tests, fuzzing, embedded resources) by its content: safetensors or
    /// a torch zip. The memory must not be modified while the checkpoint is used. A sharded index needs its shard files:
    /// open it by path.</summary>
    public static Checkpoint FromMemory(ReadOnlyMemory<byte> bytes, CheckpointLimits? limits = null, string displayName = "<memory>")
    {
        ByteSource source = ByteSource.FromMemory(bytes, displayName);
        ReadOnlySpan<byte> head = bytes.Span[..Math.Min(bytes.Length, 64)];
        return Sniff(head, displayName) switch
        {
            Kind.TorchZip => TorchZip(source, limits),
            Kind.ShardIndex => throw new CheckpointException("a sharded checkpoint index names its shard files: open it by path", displayName),
            _ => SafeTensorsFile.Open(source, limits, owned: true),
        };
    }

    private static Checkpoint TorchZip(ByteSource source, CheckpointLimits? limits) => TorchZipCheckpoint.Open(source, limits, owned: true);
}
