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
// * Every LoadEvery-th input is a whole MobileViT-small checkpoint (the seed-0 synthetic weights) written as a torch
//   zip by this target's own pickle and zip writers, with valid-looking edits (F16/BF16 tensors, Parameters,
//   all tensors views of one shared storage, a module's `_metadata` BUILD, a dropped or transposed tensor, a
//   non-finite value, a counter), loaded through WeightBinder → the generated model's constructor → one forward pass.
//   When the edits keep the values, the logits must equal those of the synthetic model bit for bit.
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.IO.Compression;
using System.Text;
using AotVit.Runtime.Model;
using AotVit.Runtime.Weights;

namespace AotVit.Fuzzing;

public sealed unsafe class TorchBinTarget : FuzzTarget
{
    private static readonly CheckpointLimits Limits = new() { MaxHeaderBytes = 1 << 20, MaxTensors = 10_000, MaxPickleItems = 100_000 };
    private readonly List<(string Name, List<(string Name, byte[] Data)> Entries, byte[] Raw)> _seeds = [];
    private readonly int _loadEvery;
    private readonly string? _calibrationPath;
    private List<(string Name, long[] Shape, float[] Values)>? _mobileViT;
    private float[]? _referenceLogits;

    /// <param name="fixtureFolder">The *.bin seeds (tests/AotVit.Tests/data/torch).</param>
    /// <param name="repoRoot">For the MobileViT calibration file of the whole-model inputs.</param>
    /// <param name="loadEvery">Every n-th input is a whole MobileViT checkpoint through the model's load path (0: never).</param>
    public TorchBinTarget(string fixtureFolder, string? repoRoot = null, int loadEvery = 0)
    {
        _loadEvery = loadEvery;
        _calibrationPath = repoRoot is null ? null : Path.Combine(repoRoot, "src/Graphs/mobilevit-small/synthetic-bn-calibration.safetensors");
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

    public override TimeSpan PerInputTimeout => TimeSpan.FromSeconds(60);

    public override string? ExpectedError(Exception exception) => exception is CheckpointException ? Bucket(exception) : null;

    public override FuzzCase Next(Random random, long index)
    {
        if (_loadEvery > 0 && index % _loadEvery == _loadEvery - 1) return NextModelLoad(random);
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
            file = WriteZip(random, entries, edits, allowEdits: true);
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

    private static byte[] WriteZip(Random random, List<(string Name, byte[] Data, bool Deflate)> entries, List<string> edits, bool allowEdits)
    {
        bool zip64 = random.Next(2) == 0;
        int edit = allowEdits && random.Next(4) == 0 ? random.Next(9) : -1;
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

    // ---- whole MobileViT checkpoints through the model's load path ----

    private sealed record Tensor(string Name, DType DType, long[] Shape, float[] Values, bool Transposed = false, bool Parameter = false);

    private FuzzCase NextModelLoad(Random random)
    {
        EnsureMobileViT();
        var tensors = _mobileViT!.Select(t => new Tensor(t.Name, DType.F32, t.Shape, t.Values)).ToList();
        bool valuesKept = true, shared = false, metadata = false;
        var edits = new List<string>();
        for (int m = random.Next(1, 4); m > 0; m--)
        {
            int i = random.Next(tensors.Count);
            Tensor t = tensors[i];
            switch (random.Next(8))
            {
                case 0: tensors[i] = t with { DType = random.Next(2) == 0 ? DType.F16 : DType.BF16 }; valuesKept = false; edits.Add("F16/BF16"); break;
                case 1: tensors = tensors.Select(x => x with { Parameter = random.Next(2) == 0 }).ToList(); edits.Add("parameters"); break;
                case 2: shared = true; edits.Add("shared storage"); break;
                case 3: metadata = true; edits.Add("_metadata"); break;
                case 4: tensors.RemoveAt(i); edits.Add("drop"); break;
                case 5 when t.Shape.Length >= 2 && t.Shape[0] > 1 && t.Shape[1] > 1: tensors[i] = t with { Transposed = true }; edits.Add("transposed"); break;
                case 6:
                    {
                        var values = (float[])t.Values.Clone();
                        values[random.Next(values.Length)] = random.Pick(new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity });
                        tensors[i] = t with { Values = values };
                        valuesKept = false;
                        edits.Add("non-finite");
                        break;
                    }
                default: tensors.Add(new Tensor(t.Name + ".num_batches_tracked", DType.I64, [], [3])); edits.Add("counter"); break;
            }
        }
        tensors = tensors.DistinctBy(t => t.Name, StringComparer.Ordinal).ToList();
        var (pickle, storages) = WriteStateDict(tensors, shared, metadata);
        var entries = new List<(string Name, byte[] Data, bool Deflate)> { ("archive/data.pkl", pickle, false) };
        entries.AddRange(storages.Select(s => ($"archive/data/{s.Key}", s.Data, false)));
        entries.Add(("archive/version", "3\n"u8.ToArray(), false));
        byte[] bytes = WriteZip(random, entries, edits, allowEdits: false);
        string kind = "mobilevit load: " + string.Join("+", edits.Distinct().Order(StringComparer.Ordinal));
        bool compare = valuesKept;
        return new FuzzCase(kind, bytes, ".bin", () => LoadAndRun(bytes, compare));
    }

    /// <summary>A protocol-2 pickle of an OrderedDict of _rebuild_tensor_v2 calls, as torch.save writes a state dict,
    /// and the storage entries it names.</summary>
    private static (byte[] Pickle, List<(string Key, byte[] Data)> Storages) WriteStateDict(List<Tensor> tensors, bool shared, bool metadata)
    {
        var p = new List<byte> { 0x80, 2 };
        void Bytes(ReadOnlySpan<byte> b) { foreach (byte x in b) p.Add(x); }
        void Text(string text)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(text);
            p.Add((byte)'X');
            Span<byte> n = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(n, utf8.Length);
            Bytes(n);
            Bytes(utf8);
        }
        void Int(long v)
        {
            Span<byte> b = stackalloc byte[8];
            if (v is >= 0 and < 256) { p.Add((byte)'K'); p.Add((byte)v); }
            else if (v is >= int.MinValue and <= int.MaxValue) { p.Add((byte)'J'); BinaryPrimitives.WriteInt32LittleEndian(b, (int)v); Bytes(b[..4]); }
            else { p.Add(0x8a); p.Add(8); BinaryPrimitives.WriteInt64LittleEndian(b, v); Bytes(b); }
        }
        void EmptyOrderedDict() { Bytes("ccollections\nOrderedDict\n)R"u8); }

        var storages = new List<(string Key, byte[] Data)>();
        var sharedData = new List<byte>();
        EmptyOrderedDict();
        p.Add((byte)'(');
        foreach (Tensor t in tensors)
        {
            byte[] data = Encode(t.DType, t.Values);
            string key;
            long offset = 0, numel = t.Values.Length;
            if (shared && t.DType == DType.F32)
            {
                key = "shared";
                offset = sharedData.Count / 4;
                sharedData.AddRange(data);
                numel = -1;   // filled in below, once the shared storage is complete
            }
            else
            {
                key = storages.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
                storages.Add((key, data));
            }
            long[] shape = t.Shape, stride = new long[shape.Length];
            long step = 1;
            for (int d = shape.Length - 1; d >= 0; d--) { stride[d] = step; step *= shape[d]; }
            if (t.Transposed)
            {
                (shape, stride) = ([shape[1], shape[0], .. shape[2..]], [stride[1], stride[0], .. stride[2..]]);
            }
            Text(t.Name);
            if (t.Parameter) Bytes("ctorch._utils\n_rebuild_parameter\n("u8);
            Bytes("ctorch._utils\n_rebuild_tensor_v2\n("u8);
            p.Add((byte)'(');
            Text("storage");
            Bytes(Encoding.ASCII.GetBytes("ctorch\n" + t.DType switch { DType.F16 => "HalfStorage", DType.BF16 => "BFloat16Storage", DType.I64 => "LongStorage", _ => "FloatStorage" } + "\n"));
            Text(key);
            Text("cpu");
            if (numel < 0) { p.Add(0x8a); p.Add(8); p.AddRange(new byte[8]); }   // a slot patched below
            else Int(numel);
            Bytes("tQ"u8);
            Int(offset);
            p.Add((byte)'('); foreach (long d in shape) Int(d); p.Add((byte)'t');
            p.Add((byte)'('); foreach (long d in stride) Int(d); p.Add((byte)'t');
            p.Add(0x89);
            EmptyOrderedDict();
            Bytes("tR"u8);
            if (t.Parameter)
            {
                p.Add(0x88);
                EmptyOrderedDict();
                Bytes("tR"u8);
            }
        }
        p.Add((byte)'u');
        if (metadata)
        {
            Bytes("}"u8); Text("_metadata"); EmptyOrderedDict();
            Bytes("("u8); Text(""); Bytes("}"u8); Text("version"); Int(1); Bytes("su"u8);
            Bytes("sb"u8);
        }
        p.Add((byte)'.');
        byte[] pickle = [.. p];
        if (sharedData.Count > 0)
        {
            // Patch every shared numel slot (LONG1 of 8 zero bytes after the "cpu" string) with the final count.
            byte[] slot = [.. Encoding.ASCII.GetBytes("cpu"), 0x8a, 8, 0, 0, 0, 0, 0, 0, 0, 0];
            long count = sharedData.Count / 4;
            for (int at = pickle.AsSpan().IndexOf(slot); at >= 0;)
            {
                BinaryPrimitives.WriteInt64LittleEndian(pickle.AsSpan(at + 5), count);
                int next = pickle.AsSpan(at + 1).IndexOf(slot);
                at = next < 0 ? -1 : at + 1 + next;
            }
            storages.Add(("shared", [.. sharedData]));
        }
        return (pickle, storages);
    }

    private static byte[] Encode(DType dtype, float[] values)
    {
        var bytes = new byte[values.Length * dtype.SizeInBytes()];
        for (int i = 0; i < values.Length; i++)
        {
            switch (dtype)
            {
                case DType.F32: BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]); break;
                case DType.F16: BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(i * 2), (Half)values[i]); break;
                case DType.BF16: BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), (ushort)(BitConverter.SingleToUInt32Bits(values[i]) >> 16)); break;
                case DType.I64: BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), (long)values[i]); break;
            }
        }
        return bytes;
    }

    private FuzzResult LoadAndRun(byte[] bytes, bool mustMatchReference)
    {
        var entry = ModelCatalog.Find("mobilevit-small");
        using Checkpoint file = CheckpointFile.FromMemory(bytes, Limits);
        var binder = WeightBinder.Bind(file, SafeTensorsTarget.ModelSpecs(entry.Descriptor), entry.Descriptor.OptionalPrefixes, entry.Descriptor.Name);
        using var model = entry.Create(new BinderSource(binder), null);
        float[] logits = SafeTensorsTarget.RunOnce(model);
        if (mustMatchReference && !logits.AsSpan().SequenceEqual(_referenceLogits))
            throw new FuzzInvariantException("a torch checkpoint with the reference values produced different logits");
        return FuzzResult.Ok(mustMatchReference ? "mobilevit loaded, logits = reference" : "mobilevit loaded");
    }

    private void EnsureMobileViT()
    {
        if (_mobileViT is not null) return;
        var entry = ModelCatalog.Find("mobilevit-small");
        var specs = SafeTensorsTarget.ModelSpecs(entry.Descriptor);
        using var calibration = _calibrationPath is not null && File.Exists(_calibrationPath) ? SafeTensorsFile.Open(_calibrationPath) : null;
        var values = SyntheticWeights.Generate(specs, 0, calibration);
        _mobileViT = specs.Select(s => (s.Name, s.Shape.ToArray(), values[s.Name])).ToList();
        using var model = entry.Create(new DictionarySource(values), null);
        _referenceLogits = SafeTensorsTarget.RunOnce(model);
    }

    private sealed class BinderSource(WeightBinder binder) : ITensorSource
    {
        public ReadOnlySpan<float> Get(string name) => binder.Get(name);
    }

    private sealed class DictionarySource(Dictionary<string, float[]> tensors) : ITensorSource
    {
        public ReadOnlySpan<float> Get(string name) => tensors[name];
    }
}
