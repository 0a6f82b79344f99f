// ZipArchiveIndex: the entries of a zip archive (name, where its bytes start, how many), read from the central
// directory and checked against each entry's local header. Only what torch.save writes is accepted: one disk, stored
// (uncompressed) entries, ZIP64 records where present. Every offset and size comes from the file, so each is checked
// against the file's length with checked arithmetic before it is used; nothing is decompressed, so an entry's cost is
// its central-directory record and one local-header read.
using System.Buffers.Binary;
using System.Text;

namespace AotVit.Runtime.Weights;

internal sealed class ZipArchiveIndex
{
    /// <summary>One stored entry: its bytes are [DataOffset, DataOffset + Size) of the file.</summary>
    internal readonly record struct Entry(string Name, long DataOffset, long Size);

    private const uint LocalHeaderSignature = 0x04034b50;
    private const uint CentralHeaderSignature = 0x02014b50;
    private const uint EndSignature = 0x06054b50;
    private const uint Zip64EndSignature = 0x06064b50;
    private const uint Zip64LocatorSignature = 0x07064b50;
    private const int EndRecordSize = 22, Zip64LocatorSize = 20, Zip64EndRecordSize = 56;
    private const int CentralHeaderSize = 46, LocalHeaderSize = 30;

    private readonly Dictionary<string, Entry> _byName;

    private ZipArchiveIndex(List<Entry> entries, Dictionary<string, Entry> byName)
    {
        Entries = entries;
        _byName = byName;
    }

    /// <summary>Entries in central-directory order; names are unique.</summary>
    public IReadOnlyList<Entry> Entries { get; }

    public bool TryGet(string name, out Entry entry) => _byName.TryGetValue(name, out entry);

    /// <summary>Reads and validates the directory of the zip archive in <paramref name="source"/>.</summary>
    /// <exception cref="CheckpointException">Not a zip archive, a truncated or inconsistent one, or one using a feature
    /// torch.save never writes (compression, encryption, several disks).</exception>
    /// <param name="inspectNames">Sees every entry name before the entries are checked one by one, so a caller can
    /// say what an archive is (a TorchScript program) before an entry it would never read fails a check.</param>
    public static ZipArchiveIndex Read(ByteSource source, CheckpointLimits limits, Action<IReadOnlyList<string>>? inspectNames = null)
    {
        string file = source.Name;
        long length = source.Length;
        if (length < EndRecordSize)
        {
            throw new CheckpointException($"file is {length} bytes, too short for a zip archive (truncated?)", file);
        }

        // The end record is the last 22 bytes plus a comment of up to 65535 bytes.
        int tailLength = (int)Math.Min(length, EndRecordSize + 0xFFFF);
        byte[] tail = new byte[tailLength];
        long tailStart = length - tailLength;
        source.ReadExactly(tailStart, tail);
        int end = FindEndRecord(tail);
        if (end < 0)
        {
            throw new CheckpointException(
                "no zip end-of-central-directory record at the end of the file: it is truncated, or not a zip archive", file);
        }
        long endOffset = tailStart + end;
        ReadOnlySpan<byte> record = tail.AsSpan(end, EndRecordSize);
        uint disk = BinaryPrimitives.ReadUInt16LittleEndian(record[4..]);
        uint directoryDisk = BinaryPrimitives.ReadUInt16LittleEndian(record[6..]);
        ulong entriesHere = BinaryPrimitives.ReadUInt16LittleEndian(record[8..]);
        ulong entryCount = BinaryPrimitives.ReadUInt16LittleEndian(record[10..]);
        ulong directorySize = BinaryPrimitives.ReadUInt32LittleEndian(record[12..]);
        ulong directoryOffset = BinaryPrimitives.ReadUInt32LittleEndian(record[16..]);
        // Where the central directory must end: at the ZIP64 end record if there is one, else at the end record.
        long directoryLimit = endOffset;

        if (endOffset >= Zip64LocatorSize && ReadUInt32(source, endOffset - Zip64LocatorSize) == Zip64LocatorSignature)
        {
            Span<byte> locator = stackalloc byte[Zip64LocatorSize];
            source.ReadExactly(endOffset - Zip64LocatorSize, locator);
            ulong zip64Offset = BinaryPrimitives.ReadUInt64LittleEndian(locator[8..]);
            uint totalDisks = BinaryPrimitives.ReadUInt32LittleEndian(locator[16..]);
            if (totalDisks > 1)
            {
                throw new CheckpointException($"the zip archive spans {totalDisks} disks; only single-file archives are read", file);
            }
            long locatorOffset = endOffset - Zip64LocatorSize;
            if (zip64Offset > (ulong)locatorOffset || (ulong)locatorOffset - zip64Offset < Zip64EndRecordSize)
            {
                throw new CheckpointException(
                    $"the ZIP64 end record offset {zip64Offset} does not leave room for the record before its locator at {locatorOffset} (damaged archive)", file);
            }
            Span<byte> zip64 = stackalloc byte[Zip64EndRecordSize];
            source.ReadExactly((long)zip64Offset, zip64);
            if (BinaryPrimitives.ReadUInt32LittleEndian(zip64) != Zip64EndSignature)
            {
                throw new CheckpointException($"the ZIP64 locator points at offset {zip64Offset}, where there is no ZIP64 end record (damaged archive)", file);
            }
            disk = BinaryPrimitives.ReadUInt32LittleEndian(zip64[16..]);
            directoryDisk = BinaryPrimitives.ReadUInt32LittleEndian(zip64[20..]);
            entriesHere = BinaryPrimitives.ReadUInt64LittleEndian(zip64[24..]);
            entryCount = BinaryPrimitives.ReadUInt64LittleEndian(zip64[32..]);
            directorySize = BinaryPrimitives.ReadUInt64LittleEndian(zip64[40..]);
            directoryOffset = BinaryPrimitives.ReadUInt64LittleEndian(zip64[48..]);
            directoryLimit = (long)zip64Offset;
        }
        else if (entryCount == 0xFFFF || directorySize == 0xFFFFFFFF || directoryOffset == 0xFFFFFFFF)
        {
            throw new CheckpointException("the zip end record defers to a ZIP64 record that is missing (damaged archive)", file);
        }

        if (disk != 0 || directoryDisk != 0 || entriesHere != entryCount)
        {
            throw new CheckpointException("the zip archive spans several disks; only single-file archives are read", file);
        }
        if (entryCount > (ulong)Math.Max(0, limits.MaxTensors))
        {
            throw new CheckpointException($"the zip archive declares {entryCount} entries, more than the limit of {limits.MaxTensors} (CheckpointLimits.MaxTensors)", file);
        }
        if (directorySize > (ulong)Math.Max(0, limits.MaxHeaderBytes))
        {
            throw new CheckpointException($"the zip central directory is {directorySize} bytes, more than the limit of {limits.MaxHeaderBytes} (CheckpointLimits.MaxHeaderBytes)", file);
        }
        if (directoryOffset > (ulong)directoryLimit || directorySize > (ulong)directoryLimit - directoryOffset)
        {
            throw new CheckpointException(
                $"the zip central directory [{directoryOffset}, +{directorySize}) does not lie before its end record at {directoryLimit} (truncated or damaged archive)", file);
        }
        if (directorySize > (ulong)Array.MaxLength)
        {
            throw new CheckpointException($"the zip central directory is {directorySize} bytes, too large to read", file);
        }

        byte[] directory = new byte[(int)directorySize];
        source.ReadExactly((long)directoryOffset, directory);
        var records = new List<CentralRecord>((int)Math.Min(entryCount, 4096));
        int at = 0;
        for (ulong i = 0; i < entryCount; i++) records.Add(ReadCentralRecord(directory, ref at, i, file));
        inspectNames?.Invoke(records.ConvertAll(r => r.Name));

        var entries = new List<Entry>(records.Count);
        var byName = new Dictionary<string, Entry>(StringComparer.Ordinal);
        byte[] localHeader = new byte[0xFFFF];
        foreach (CentralRecord central in records)
        {
            Entry entry = Locate(central, file, source, (long)directoryOffset, localHeader);
            if (!byName.TryAdd(entry.Name, entry))
            {
                throw new CheckpointException($"the zip archive has two entries named '{entry.Name}'", file);
            }
            entries.Add(entry);
        }
        return new ZipArchiveIndex(entries, byName);
    }

    /// <summary>The position in <paramref name="tail"/> of the last end record whose comment length fits, or -1.</summary>
    private static int FindEndRecord(ReadOnlySpan<byte> tail)
    {
        for (int p = tail.Length - EndRecordSize; p >= 0; p--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail[p..]) != EndSignature) continue;
            int comment = BinaryPrimitives.ReadUInt16LittleEndian(tail[(p + 20)..]);
            if (p + EndRecordSize + comment <= tail.Length) return p;
        }
        return -1;
    }

    /// <summary>Replaces <paramref name="value"/> by the next ZIP64 field when the record saturated it.</summary>
    private static bool TakeZip64(ReadOnlySpan<byte> z, ref int p, ref ulong value, bool saturated, int width)
    {
        if (!saturated) return true;
        if (z.Length - p < width) return false;
        value = width == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(z[p..]) : BinaryPrimitives.ReadUInt32LittleEndian(z[p..]);
        p += width;
        return true;
    }

    private static uint ReadUInt32(ByteSource source, long offset)
    {
        Span<byte> bytes = stackalloc byte[4];
        source.ReadExactly(offset, bytes);
        return BinaryPrimitives.ReadUInt32LittleEndian(bytes);
    }

    /// <summary>A central-directory record with its ZIP64 values applied, not yet checked against the file.</summary>
    private readonly record struct CentralRecord(string Name, byte[] NameBytes, ushort Flags, ushort Method, ulong Compressed,
                                                 ulong Size, uint DiskStart, ulong LocalOffset);

    /// <summary>Parses the central-directory record at <paramref name="at"/> (advanced past it).</summary>
    private static CentralRecord ReadCentralRecord(byte[] directory, ref int at, ulong index, string file)
    {
        if (directory.Length - at < CentralHeaderSize ||
            BinaryPrimitives.ReadUInt32LittleEndian(directory.AsSpan(at)) != CentralHeaderSignature)
        {
            throw new CheckpointException($"zip central directory record {index} is missing or damaged (the directory ends early)", file);
        }
        ReadOnlySpan<byte> h = directory.AsSpan(at, CentralHeaderSize);
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(h[8..]);
        ushort method = BinaryPrimitives.ReadUInt16LittleEndian(h[10..]);
        ulong compressed = BinaryPrimitives.ReadUInt32LittleEndian(h[20..]);
        ulong size = BinaryPrimitives.ReadUInt32LittleEndian(h[24..]);
        int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(h[28..]);
        int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(h[30..]);
        int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(h[32..]);
        uint diskStart = BinaryPrimitives.ReadUInt16LittleEndian(h[34..]);
        ulong localOffset = BinaryPrimitives.ReadUInt32LittleEndian(h[42..]);
        int recordLength = CentralHeaderSize + nameLength + extraLength + commentLength;
        if (directory.Length - at < recordLength)
        {
            throw new CheckpointException($"zip central directory record {index} runs past the end of the directory (damaged archive)", file);
        }
        ReadOnlySpan<byte> nameBytes = directory.AsSpan(at + CentralHeaderSize, nameLength);
        string name;
        try
        {
            name = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(nameBytes);
        }
        catch (DecoderFallbackException)
        {
            throw new CheckpointException($"zip entry {index} has a name that is not valid UTF-8", file);
        }
        ReadOnlySpan<byte> extra = directory.AsSpan(at + CentralHeaderSize + nameLength, extraLength);
        at += recordLength;

        // ZIP64 extended information (header id 1) holds, in this order, the 64-bit values of whichever of the
        // uncompressed size, compressed size, local header offset and start disk are saturated in the record.
        for (int e = 0; e + 4 <= extra.Length;)
        {
            ushort id = BinaryPrimitives.ReadUInt16LittleEndian(extra[e..]);
            int dataLength = BinaryPrimitives.ReadUInt16LittleEndian(extra[(e + 2)..]);
            if (extra.Length - (e + 4) < dataLength)
            {
                throw new CheckpointException($"zip entry '{name}' has an extra field that runs past its record (damaged archive)", file);
            }
            if (id == 1)
            {
                ReadOnlySpan<byte> z = extra.Slice(e + 4, dataLength);
                int p = 0;
                ulong disk64 = diskStart;
                if (!TakeZip64(z, ref p, ref size, size == 0xFFFFFFFF, 8) || !TakeZip64(z, ref p, ref compressed, compressed == 0xFFFFFFFF, 8) ||
                    !TakeZip64(z, ref p, ref localOffset, localOffset == 0xFFFFFFFF, 8) || !TakeZip64(z, ref p, ref disk64, diskStart == 0xFFFF, 4))
                {
                    throw new CheckpointException($"zip entry '{name}' has a ZIP64 field too short for the values it must hold (damaged archive)", file);
                }
                diskStart = (uint)disk64;
            }
            e += 4 + dataLength;
        }
        return new CentralRecord(name, nameBytes.ToArray(), flags, method, compressed, size, diskStart, localOffset);
    }

    /// <summary>Checks a record (stored, one disk) and finds its data through the local header it points to; the data
    /// must end before the central directory starts.</summary>
    private static Entry Locate(CentralRecord record, string file, ByteSource source, long directoryOffset, byte[] localHeader)
    {
        var (name, nameBytes, flags, method, compressed, size, diskStart, localOffset) = record;
        int nameLength = nameBytes.Length;
        if ((flags & 1) != 0)
        {
            throw new CheckpointException($"zip entry '{name}' is encrypted; torch.save never encrypts", file);
        }
        if (method != 0)
        {
            string what = method == 8 ? "deflate" : $"method {method}";
            throw new CheckpointException(
                $"zip entry '{name}' is compressed ({what}); torch.save stores entries uncompressed, so this archive was rewritten by another tool: load it with torch and save it again with torch.save", file);
        }
        if (compressed != size)
        {
            throw new CheckpointException($"zip entry '{name}' is stored but declares {compressed} compressed and {size} uncompressed bytes (damaged archive)", file);
        }
        if (diskStart != 0)
        {
            throw new CheckpointException($"zip entry '{name}' starts on disk {diskStart}; only single-file archives are read", file);
        }
        if (localOffset > (ulong)directoryOffset || (ulong)directoryOffset - localOffset < LocalHeaderSize)
        {
            throw new CheckpointException($"zip entry '{name}' has its local header at offset {localOffset}, not before the central directory at {directoryOffset} (damaged archive)", file);
        }

        // The local header repeats the name; its extra field (torch pads it for alignment) decides where data starts.
        Span<byte> local = stackalloc byte[LocalHeaderSize];
        source.ReadExactly((long)localOffset, local);
        if (BinaryPrimitives.ReadUInt32LittleEndian(local) != LocalHeaderSignature)
        {
            throw new CheckpointException($"zip entry '{name}': no local header at offset {localOffset} (damaged archive)", file);
        }
        int localNameLength = BinaryPrimitives.ReadUInt16LittleEndian(local[26..]);
        int localExtraLength = BinaryPrimitives.ReadUInt16LittleEndian(local[28..]);
        long dataOffset = (long)localOffset + LocalHeaderSize + localNameLength + localExtraLength;   // localOffset ≤ directoryOffset, a file position: no overflow
        if (localNameLength != nameLength || dataOffset > directoryOffset)
        {
            throw new CheckpointException($"zip entry '{name}': its local header at offset {localOffset} does not match the central directory (damaged archive)", file);
        }
        Span<byte> localName = localHeader.AsSpan(0, localNameLength);
        source.ReadExactly((long)localOffset + LocalHeaderSize, localName);
        if (!localName.SequenceEqual(nameBytes))
        {
            throw new CheckpointException($"zip entry '{name}': its local header names another file (damaged archive)", file);
        }
        if (size > (ulong)(directoryOffset - dataOffset))
        {
            throw new CheckpointException(
                $"zip entry '{name}' declares {size} bytes at offset {dataOffset}, past the start of the central directory at {directoryOffset} (truncated or damaged archive)", file);
        }
        return new Entry(name, dataOffset, (long)size);
    }
}
