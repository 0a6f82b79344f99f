// `torch-bin`: structure-aware mutation of pytorch_model.bin files (torch.save zips) from the committed fixtures
// (tests/AotVit.Tests/data/torch/*.bin, good and hostile).
// * The seed's entries are taken apart (System.IO.Compression reads them) and changed at one of three levels:
//   - the pickle: byte mutations, ints rewritten (offsets, sizes, strides, numels to 0 / -1 / 2^31 / 2^62 / huge),
//     storage classes renamed, snippets spliced in (forbidden globals, deep marks, memo reads past the memo, oversized
//     string lengths, LONG1 of 9 bytes, STACK_GLOBAL on non-strings, REDUCE / BUILD / NEWOBJ on wrong shapes,
//     BINPERSID of non-tuples), truncation;
//   - the entries: storage data cut short or grown, an entry dropped, duplicated or renamed, the folder renamed, a
//     byteorder entry added ('little', 'big', garbage), a TorchScript constants.pkl added, an entry deflated;
//   - the archive: written back by our own writer, with or without ZIP64 records, with comments, local header names
//     that differ, sizes / offsets / counts in the central directory or end records set to edges;
//   and then, for a third of the inputs, raw byte mutations of the whole file.
// * Each file is opened from memory (CheckpointFile.FromMemory), every tensor read as bytes and, for floating-point
//   dtypes, as floats. Invariants: a tensor's bytes lie inside the file and have the length its shape and dtype give.
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using AotVit.Runtime.Weights;

namespace AotVit.Fuzzing;

public sealed class TorchBinTarget : FuzzTarget
{
    private static readonly CheckpointLimits Limits = new() { MaxHeaderBytes = 1 << 20, MaxTensors = 10_000, MaxPickleItems = 100_000 };
    private readonly List<(string Name, List<(string Name, byte[] Data)> Entries, byte[] Raw)> _seeds = [];

    public TorchBinTarget(string fixtureFolder)
    {
        foreach (string path in Directory.GetFiles(fixtureFolder, "*.bin").Order(StringComparer.Ordinal))
        {
            byte[] raw = File.ReadAllBytes(path);
            var entries = new List<(string, byte[])>();
            try
            {
                using var zip = new ZipArchive(new MemoryStream(raw), ZipArchiveMode.Read);
                foreach (ZipArchiveEntry e in zip.Entries)
                {
                    using var s = e.Open();
                    var m = new MemoryStream();
                    s.CopyTo(m);
                    entries.Add((e.FullName, m.ToArray()));
                }
            }
            catch (InvalidDataException)
            {
                // Not a zip (legacy format, a truncated file): a raw-mutation seed only.
            }
            _seeds.Add((Path.GetFileNameWithoutExtension(path), entries, raw));
        }
        if (_seeds.Count == 0) throw new InvalidOperationException($"no *.bin fixtures in {fixtureFolder}");
    }

    public override string Name => "torch-bin";

    public override string? ExpectedError(Exception exception) => exception is CheckpointException ? Bucket(exception) : null;

    public override FuzzCase Next(Random random, long index)
    {
        var seed = random.Pick(_seeds);
        var edits = new List<string> { seed.Name };
        byte[] file;
        if (seed.Entries.Count == 0)
        {
            file = Mutator.Mutate(random, seed.Raw, 4);
            edits.Add("bytes");
        }
        else
        {
            var entries = seed.Entries.Select(e => (e.Name, Data: (byte[])e.Data.Clone(), Deflate: false)).ToList();
            int changes = random.Next(0, 3);
            for (int c = 0; c < changes; c++)
            {
                if (random.Next(3) > 0) MutatePickle(random, entries, edits);
                else MutateEntries(random, entries, edits);
            }
            file = WriteZip(random, entries, edits);
            if (random.Next(3) == 0)
            {
                file = Mutator.Mutate(random, file, 4);
                edits.Add("bytes");
            }
        }
        string kind = string.Join("+", edits);
        return new FuzzCase(kind, file, ".bin", () => OpenAndRead(file));
    }

    // ---- the pickle ----

    private static byte[] L(string latin1) => Encoding.Latin1.GetBytes(latin1);

    private static readonly byte[][] Snippets =
    [
        L("cposix\nsystem\n"), L("cbuiltins\neval\n"), L("\u008c\u0005posix\u008c\u0006system\u0093"),
        L("ctorch\nUntypedStorage\n"), L("ctorch._utils\n_rebuild_tensor_v3\n"), L("ccollections\nOrderedDict\n"),
        L("ctorch\nFloatStorage\n"), L("ctorch._utils\n_rebuild_parameter\n"),
        [.. Enumerable.Repeat((byte)'(', 40)], [.. Enumerable.Repeat((byte)']', 40)], [.. Enumerable.Repeat((byte)')', 40), .. Enumerable.Repeat((byte)0x85, 39)],
        [(byte)'h', 250], [(byte)'j', 0xFF, 0xFF, 0xFF, 0x7F], [(byte)'X', 0xFF, 0xFF, 0xFF, 0xFF], [0x8d, 0, 0, 0, 0, 0, 0, 0, 0x80],
        [0x8a, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9], [0x8a, 8, 0, 0, 0, 0, 0, 0, 0, 0x80], [(byte)'K', 1, (byte)'K', 2, 0x93],
        L("N)R"), L("}b"), L("N)\u0081"), L("KQ"), L(")Q"), L("."), L("0"),
        L("(X\u0007\u0000\u0000\u0000storagectorch\nFloatStorage\nX\u0001\u0000\u0000\u00000X\u0003\u0000\u0000\u0000cpu\u008a\u0008\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u003ftQ"),
        [0x80, 0x06], [0x95, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], L("ri\u0000\u0000\u0000"),
    ];

    private static readonly long[] Ints = [0, 1, 2, 3, -1, 255, 256, 65535, 1L << 31, (1L << 31) - 1, 1L << 32, 1L << 62, long.MaxValue, long.MinValue, 6, 7, 100];

    private static readonly string[] StorageNames = ["FloatStorage", "HalfStorage", "BFloat16Storage", "DoubleStorage", "LongStorage", "IntStorage", "ByteStorage", "BoolStorage", "UntypedStorage", "Storage"];

    private static void MutatePickle(Random random, List<(string Name, byte[] Data, bool Deflate)> entries, List<string> edits)
    {
        int at = entries.FindIndex(e => e.Name.EndsWith("/data.pkl", StringComparison.Ordinal));
        if (at < 0) return;
        var p = new List<byte>(entries[at].Data);
        switch (random.Next(6))
        {
            case 0:
                p = [.. Mutator.Mutate(random, [.. p], 3)];
                edits.Add("pickle bytes");
                break;
            case 1:
                {
                    // An int argument (BININT1 / BININT2 / BININT) becomes an interesting 64-bit value (LONG1 8).
                    var places = Enumerable.Range(0, p.Count).Where(i => p[i] is (byte)'K' or (byte)'M' or (byte)'J').ToList();
                    if (places.Count == 0) break;
                    int i = random.Pick(places);
                    int width = p[i] switch { (byte)'K' => 1, (byte)'M' => 2, _ => 4 };
                    if (i + width >= p.Count) break;
                    var value = new byte[8];
                    BinaryPrimitives.WriteInt64LittleEndian(value, random.Pick(Ints));
                    p.RemoveRange(i, 1 + width);
                    p.InsertRange(i, [0x8a, 8, .. value]);
                    edits.Add("int");
                    break;
                }
            case 2:
                {
                    string text = Encoding.Latin1.GetString([.. p]);
                    string from = StorageNames.FirstOrDefault(n => text.Contains(n, StringComparison.Ordinal)) ?? "FloatStorage";
                    string to = random.Pick(StorageNames);
                    // Same-length swaps keep BINUNICODE lengths right; others exercise the length checks.
                    p = [.. Encoding.Latin1.GetBytes(text.Replace(from, to, StringComparison.Ordinal))];
                    edits.Add("storage class");
                    break;
                }
            case 3:
            case 4:
                p.InsertRange(random.Next(p.Count + 1), random.Pick(Snippets));
                edits.Add("snippet");
                break;
            default:
                p = p.GetRange(0, random.Next(p.Count + 1));
                edits.Add("pickle cut");
                break;
        }
        entries[at] = (entries[at].Name, p.ToArray(), entries[at].Deflate);
    }

    // ---- the entries ----

    private static void MutateEntries(Random random, List<(string Name, byte[] Data, bool Deflate)> entries, List<string> edits)
    {
        if (entries.Count == 0) return;
        int i = random.Next(entries.Count);
        var e = entries[i];
        string folder = entries[0].Name.Contains('/') ? entries[0].Name[..entries[0].Name.IndexOf('/')] : "archive";
        switch (random.Next(9))
        {
            case 0: entries[i] = (e.Name, e.Data[..random.Next(e.Data.Length + 1)], e.Deflate); edits.Add("entry cut"); break;
            case 1: entries[i] = (e.Name, [.. e.Data, .. new byte[1 + random.Next(64)]], e.Deflate); edits.Add("entry grown"); break;
            case 2: entries.RemoveAt(i); edits.Add("entry dropped"); break;
            case 3: entries.Add(e); edits.Add("entry twice"); break;
            case 4: entries[i] = (random.Pick(new[] { e.Name + "x", e.Name.Replace("/data/", "/Data/"), "data.pkl", e.Name.Replace("/", "//"), "" }), e.Data, e.Deflate); edits.Add("entry renamed"); break;
            case 5:
                {
                    string other = random.Pick(new[] { "", "a/b", "x", new string('f', 300) });
                    for (int k = 0; k < entries.Count; k++)
                    {
                        var x = entries[k];
                        int slash = x.Name.IndexOf('/');
                        entries[k] = (slash < 0 ? x.Name : other + x.Name[slash..], x.Data, x.Deflate);
                    }
                    edits.Add("folder renamed");
                    break;
                }
            case 6: entries.Add((folder + "/byteorder", random.Pick(new[] { "little"u8.ToArray(), "big"u8.ToArray(), "littlee"u8.ToArray(), new byte[40], [] }), false)); edits.Add("byteorder"); break;
            case 7: entries.Add((folder + "/constants.pkl", [0x80, 2, (byte)')', (byte)'.'], false)); edits.Add("torchscript"); break;
            default: entries[i] = (e.Name, e.Data, true); edits.Add("deflated"); break;
        }
    }

    // ---- the archive ----

    private static byte[] WriteZip(Random random, List<(string Name, byte[] Data, bool Deflate)> entries, List<string> edits)
    {
        bool zip64 = random.Next(2) == 0;
        int edit = random.Next(4) == 0 ? random.Next(9) : -1;
        var output = new MemoryStream();
        var w = new BinaryWriter(output);
        var offsets = new List<long>();
        foreach (var (name, data, deflate) in entries)
        {
            offsets.Add(output.Position);
            byte[] n = Encoding.UTF8.GetBytes(name);
            if (edit == 0 && offsets.Count == 1) n = [.. n, (byte)'z'];   // local name differs from the central one
            w.Write(0x04034b50u); w.Write((ushort)20); w.Write((ushort)0); w.Write((ushort)(deflate ? 8 : 0));
            w.Write(0u); w.Write(0u); w.Write((uint)data.Length); w.Write((uint)data.Length);
            int pad = (int)((64 - (output.Position + 4 + n.Length) % 64) % 64);   // torch aligns data to 64 bytes
            w.Write((ushort)n.Length); w.Write((ushort)(pad >= 4 ? pad : 0)); w.Write(n);
            if (pad >= 4) { w.Write((ushort)0x4246); w.Write((ushort)(pad - 4)); w.Write(new byte[pad - 4]); }
            w.Write(data);
        }
        long directory = output.Position;
        for (int i = 0; i < entries.Count; i++)
        {
            var (name, data, deflate) = entries[i];
            byte[] n = Encoding.UTF8.GetBytes(name);
            ulong size = (ulong)data.Length, offset = (ulong)offsets[i];
            if (edit == 1 && i == 0) size = random.Pick(new ulong[] { 0, size + 1, uint.MaxValue - 1, 1UL << 40, ulong.MaxValue });
            if (edit == 2 && i == 0) offset = random.Pick(new ulong[] { 1, offset + 1, (ulong)directory, 1UL << 40, ulong.MaxValue });
            bool big = zip64 && (random.Next(2) == 0 || size > uint.MaxValue || offset > uint.MaxValue);
            byte[] extra = big ? [1, 0, 24, 0, .. BitConverter.GetBytes(size), .. BitConverter.GetBytes(size), .. BitConverter.GetBytes(offset)] : [];
            if (edit == 3 && i == 0) extra = [1, 0, 24, 0, 1, 2];   // a ZIP64 field cut short
            w.Write(0x02014b50u); w.Write((ushort)20); w.Write((ushort)20); w.Write((ushort)0); w.Write((ushort)(deflate ? 8 : 0));
            w.Write(0u); w.Write(0u);
            w.Write(big ? uint.MaxValue : (uint)size); w.Write(big ? uint.MaxValue : (uint)size);
            w.Write((ushort)n.Length); w.Write((ushort)extra.Length); w.Write((ushort)0); w.Write((ushort)0); w.Write((ushort)0); w.Write(0u);
            w.Write(big ? uint.MaxValue : (uint)offset); w.Write(n); w.Write(extra);
        }
        long directorySize = output.Position - directory;
        ulong count = (ulong)entries.Count;
        if (edit == 4) count = random.Pick(new ulong[] { 0, count + 1, 0xFFFF, 1UL << 40 });
        if (edit == 5) directorySize = random.Pick(new long[] { 0, directorySize + 1, directorySize - 1, 1L << 40 });
        if (edit == 6) directory = random.Pick(new long[] { 0, directory + 1, 1L << 40, -1 });
        if (zip64)
        {
            long record = output.Position;
            w.Write(0x06064b50u); w.Write(44UL); w.Write((ushort)45); w.Write((ushort)45); w.Write(0u); w.Write(0u);
            w.Write(count); w.Write(count); w.Write((ulong)directorySize); w.Write((ulong)directory);
            w.Write(0x07064b50u); w.Write(0u); w.Write(edit == 7 ? (ulong)random.Pick(new long[] { 0, record + 1, 1L << 40 }) : (ulong)record); w.Write(1u);
        }
        w.Write(0x06054b50u); w.Write((ushort)0); w.Write((ushort)0);
        w.Write(zip64 ? (ushort)0xFFFF : (ushort)count); w.Write(zip64 ? (ushort)0xFFFF : (ushort)count);
        w.Write(zip64 ? uint.MaxValue : (uint)directorySize); w.Write(zip64 ? uint.MaxValue : (uint)directory);
        byte[] comment = edit == 8 ? Encoding.ASCII.GetBytes("PK\u0005\u0006 a comment that looks like an end record") : [];
        w.Write((ushort)comment.Length); w.Write(comment);
        if (edit >= 0) edits.Add("zip edit " + edit);
        if (zip64) edits.Add("zip64");
        return output.ToArray();
    }

    private static FuzzResult OpenAndRead(byte[] bytes)
    {
        using Checkpoint file = CheckpointFile.FromMemory(bytes, Limits);
        foreach (TensorInfo t in file.Tensors)
        {
            long expected = ShapeProduct(t) * t.DType.SizeInBytes();
            if (t.ByteLength != expected) throw new FuzzInvariantException($"tensor {t.Name}: {t.ByteLength} bytes for shape {t.ShapeText} of {t.DType.Name()}");
            if (file.Format.StartsWith("PyTorch", StringComparison.Ordinal) && (t.Offset < 0 || t.Offset + t.ByteLength > bytes.Length))
                throw new FuzzInvariantException($"tensor {t.Name} at [{t.Offset}, {t.Offset + t.ByteLength}) leaves the {bytes.Length}-byte file");
            if (file.GetBytes(t).Length != t.ByteLength) throw new FuzzInvariantException($"GetBytes({t.Name}) has the wrong length");
            if (t.DType.IsFloatingPoint() && file.GetFloats(t).Length != t.ElementCount) throw new FuzzInvariantException($"GetFloats({t.Name}) has the wrong length");
        }
        return FuzzResult.Ok($"{file.Format}: {(file.Tensors.Count == 0 ? "empty" : "tensors")}");
    }

    private static long ShapeProduct(TensorInfo t)
    {
        long n = 1;
        foreach (long d in t.Shape) n = checked(n * d);
        return n;
    }
}
