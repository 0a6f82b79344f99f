// `jpeg`: ImageDecoder on JPEG-aware mutations of the JPEG corpus (tests/AotVit.Tests/data/jpeg/corpus, made by
// tools/jpeg_corpus.py: every sampling factor set, progressive scripts incl. incomplete ones, restart intervals,
// grey, RGB, CMYK, YCCK, EXIF, arithmetic, odd sizes) and the JPEGs of data/images. The file is parsed into its
// marker segments and one to three structure-aware edits are applied:
//   entropy      bit flips / random bytes / inserted marker bytes (RSTn, EOI, SOS, 0xFF00 stuffing removed) in the
//                entropy-coded data of a random scan
//   truncate     cut at a segment boundary, inside a segment, or inside the entropy data
//   length       a segment's length field set to 0, 1, 2, ±1, ±k, 0xFFFF or random
//   dht          Huffman table: code counts (BITS) raised / zeroed / made to oversubscribe, symbols replaced or
//                duplicated, class/id byte changed, table cut short
//   sof          width / height (0, 1, 65535, random), precision (0, 1, 8, 12, 16, 255), component count,
//                component ids, sampling factors (0-15), quantisation table selectors (0-15)
//   sos          component count / selectors, DC/AC table selectors, Ss / Se / Ah / Al
//   dqt          precision / id nibble, values 0 or 65535, table cut short
//   dri          restart interval 0 / 1 / random, a DRI inserted into a file without RST markers, RST markers removed
//   segments     a segment removed, duplicated, moved or taken from another seed (e.g. a progressive DHT into a
//                baseline file, a second SOF)
//   bytes        the generic Mutator
// Invariants on success (as the `image` target): size within the limit, ReadInfo = Decode (oriented size), decode
// allocation proportional to input and output; plus: decoding the same bytes twice gives the same pixels (no state
// kept between decodes, no uninitialised pooled memory), and DecodeStored + ExifOrientation.Apply equals Decode.
// On every input, success or not: the two-thread decode (JpegOverlap, forced whatever the size) gives the one-thread
// decode's pixels or its error message.
using System.Buffers.Binary;
using System.Security.Cryptography;
using AotVit.Runtime.Imaging;
using AotVit.Runtime.Imaging.Jpeg;
using AotVit.Runtime.Threading;

namespace AotVit.Fuzzing;

public sealed class JpegTarget : FuzzTarget
{
    private readonly List<(string Name, byte[] Bytes)> _seeds;
    private readonly ImageLimits _limits = new() { MaxPixels = 16_000_000 };

    private readonly bool _checkDeterminism;

    /// <param name="seedDirectories">Folders whose .jpg files are the seeds (the corpus, data/images, data/imaging/fuzz).</param>
    /// <param name="checkDeterminism">false skips the decode-twice invariant (tools/Fuzz: FUZZ_JPEG_SKIP_DETERMINISM=1),
    /// to look for other failures of a decoder known to break it (StbImageSharp returns varying pixels, apparently uninitialised memory, for
    /// some corrupt JPEGs: two decodes of the same bytes differ).</param>
    public JpegTarget(IEnumerable<string> seedDirectories, bool checkDeterminism = true)
    {
        _checkDeterminism = checkDeterminism;
        _seeds = seedDirectories.Where(Directory.Exists)
            .SelectMany(d => Directory.GetFiles(d, "*.jpg"))
            .Select(f => (Name: Path.GetFileName(f), Bytes: File.ReadAllBytes(f)))
            .Where(s => s.Bytes.Length > 4 && s.Bytes[0] == 0xFF && s.Bytes[1] == 0xD8)
            .OrderBy(s => s.Name, StringComparer.Ordinal)
            .ToList();
        if (_seeds.Count == 0) throw new InvalidOperationException("no JPEG seeds found");
    }

    public override string Name => "jpeg";

    public int SeedCount => _seeds.Count;

    public override string? ExpectedError(Exception exception) => exception is ImageDecodeException ? Bucket(exception) : null;

    private static readonly string[] Kinds = ["entropy", "truncate", "length", "dht", "sof", "sos", "dqt", "dri", "segments", "bytes"];

    public override FuzzCase Next(Random random, long index)
    {
        var (name, seed) = random.Pick(_seeds);
        byte[] bytes = seed;
        int edits = 1 + (random.Next(4) == 0 ? random.Next(3) : 0);
        var kinds = new List<string>();
        for (int e = 0; e < edits; e++)
        {
            string kind = Kinds[random.Next(Kinds.Length)];
            kinds.Add(kind);
            bytes = Apply(random, kind, bytes);
        }
        return new FuzzCase($"{string.Join("+", kinds)} {name}", bytes, ".jpg", () => Decode(bytes));
    }

    private static readonly WorkerPool TwoThreads = new(2);

    private FuzzResult Decode(byte[] bytes)
    {
        if (_checkDeterminism)
        {
            string one = JpegOutcome(bytes, null), two = JpegOutcome(bytes, TwoThreads);
            if (one != two)
                throw new FuzzInvariantException($"one-thread decode {one}, two-thread decode {two}");
        }
        var (image, format) = ImageTarget.DecodeChecked(bytes, _limits);
        if (!_checkDeterminism) return FuzzResult.Ok($"decoded {format}");
        byte[] first = SHA256.HashData(image.Pixels);
        var (stored, orientation) = ImageDecoder.DecodeStored(bytes, _limits);
        RgbImage turned = ExifOrientation.Apply(stored, orientation);
        if (!SHA256.HashData(turned.Pixels).AsSpan().SequenceEqual(first))
            throw new FuzzInvariantException($"a second decode (DecodeStored + Apply({orientation})) gave different pixels");
        return FuzzResult.Ok($"decoded {format}");
    }

    // The JPEG decoder alone (stored orientation): "sha256:…" of the pixels or "error:…".
    private string JpegOutcome(byte[] bytes, WorkerPool? pool)
    {
        try
        {
            JpegReader reader = JpegDecoder.ReadHeader(bytes, _limits);
            return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(JpegDecoder.Decode(reader, bytes, pool, overlapAnySize: true).Pixels));
        }
        catch (ImageDecodeException e)
        {
            return "error:" + e.Message;
        }
    }

    // ---- JPEG structure ----

    /// <summary>A marker segment: Offset of its 0xFF, Marker byte, Length of the whole segment (marker included);
    /// for SOS, EntropyEnd is where its entropy-coded data ends (the next marker that is not RSTn or stuffing).</summary>
    private readonly record struct Segment(int Offset, byte Marker, int Length, int EntropyEnd);

    private static List<Segment> Parse(byte[] b)
    {
        var list = new List<Segment>();
        int i = 2;
        while (i + 1 < b.Length)
        {
            if (b[i] != 0xFF) break;
            byte m = b[i + 1];
            if (m == 0xFF) { i++; continue; }
            if (m == 0xD9 || (m >= 0xD0 && m <= 0xD7) || m == 0x01)
            {
                list.Add(new Segment(i, m, 2, i + 2));
                i += 2;
                continue;
            }
            if (i + 3 >= b.Length) break;
            int length = BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(i + 2)) + 2;
            if (i + length > b.Length || length < 4) break;
            int end = i + length;
            if (m == 0xDA)
            {
                int j = end;
                while (j + 1 < b.Length && !(b[j] == 0xFF && b[j + 1] != 0x00 && (b[j + 1] < 0xD0 || b[j + 1] > 0xD7))) j++;
                if (j + 1 >= b.Length) j = b.Length;
                list.Add(new Segment(i, m, length, j));
                i = j;
                continue;
            }
            list.Add(new Segment(i, m, length, end));
            i = end;
        }
        return list;
    }

    private static bool Pick(Random random, List<Segment> segments, Func<Segment, bool> which, out Segment segment)
    {
        var hits = segments.Where(which).ToList();
        segment = hits.Count > 0 ? hits[random.Next(hits.Count)] : default;
        return hits.Count > 0;
    }

    private static bool IsSof(byte m) => m is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC;

    private static readonly int[] Edge16 = [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 255, 256, 4095, 4096, 32767, 32768, 65534, 65535];

    private byte[] Apply(Random random, string kind, byte[] src)
    {
        var seg = Parse(src);
        byte[] b = (byte[])src.Clone();
        switch (kind)
        {
            case "entropy" when Pick(random, seg, s => s.Marker == 0xDA && s.EntropyEnd > s.Offset + s.Length, out var sos):
                {
                    int start = sos.Offset + sos.Length, end = sos.EntropyEnd;
                    int n = 1 + random.Next(6);
                    var list = new List<byte>(b);
                    for (int k = 0; k < n; k++)
                    {
                        int at = start + random.Next(Math.Max(1, Math.Min(end, list.Count) - start));
                        if (at >= list.Count) break;
                        switch (random.Next(5))
                        {
                            case 0: list[at] ^= (byte)(1 << random.Next(8)); break;
                            case 1: list[at] = (byte)random.Next(256); break;
                            case 2: list.InsertRange(at, [0xFF, (byte)(0xD0 + random.Next(8))]); break;
                            case 3: list.InsertRange(at, [0xFF, random.Pick(new byte[] { 0xD9, 0xDA, 0xC4, 0xDB, 0xDD, 0xFE, 0x01, 0xFF })]); break;
                            default:
                                {
                                    int stuffed = list.IndexOf(0xFF, at);
                                    if (stuffed >= 0 && stuffed + 1 < list.Count && list[stuffed + 1] == 0) list.RemoveAt(stuffed + 1);
                                    else list[at] = 0xFF;
                                    break;
                                }
                        }
                    }
                    return list.ToArray();
                }
            case "truncate":
                {
                    if (seg.Count > 0 && random.Next(3) == 0)
                    {
                        var s = random.Pick(seg);
                        return b[..Math.Min(b.Length, s.Offset + random.Next(Math.Max(1, s.Length + 1)))];
                    }
                    if (Pick(random, seg, s => s.Marker == 0xDA, out var sos) && random.Next(2) == 0)
                        return b[..Math.Min(b.Length, sos.Offset + sos.Length + random.Next(Math.Max(1, sos.EntropyEnd - sos.Offset - sos.Length + 2)))];
                    return Mutator.Truncate(random, b);
                }
            case "length" when Pick(random, seg, s => s.Length > 2, out var s):
                {
                    int old = s.Length - 2;
                    int[] values = [0, 1, 2, 3, old - 1, old + 1, old - 2, old + 2, old - 17, old + 64, 0xFFFF, random.Next(65536)];
                    BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(s.Offset + 2), (ushort)random.Pick(values));
                    return b;
                }
            case "dht" when Pick(random, seg, s => s.Marker == 0xC4 && s.Length >= 4 + 17, out var s):
                {
                    int table = s.Offset + 4;   // first table of the segment (later tables: via the class byte edits)
                    int counts = table + 1;
                    switch (random.Next(6))
                    {
                        case 0: b[counts + random.Next(16)] = (byte)random.Next(256); break;
                        case 1: for (int k = 0; k < 16; k++) b[counts + k] = 0; break;
                        case 2: b[counts + random.Next(3)] += (byte)(1 + random.Next(4)); break;   // oversubscribed short codes
                        case 3: b[table] = random.Pick(new byte[] { 0x00, 0x01, 0x02, 0x03, 0x04, 0x10, 0x11, 0x13, 0x14, 0x20, 0xFF }); break;
                        case 4:
                            {
                                int symbols = s.Offset + s.Length - (counts + 16);
                                if (symbols > 0)
                                {
                                    int at = counts + 16 + random.Next(symbols);
                                    b[at] = random.Next(2) == 0 ? (byte)random.Next(256) : b[counts + 16];
                                }
                                break;
                            }
                        default:
                            {
                                int cut = 5 + random.Next(Math.Max(1, s.Length - 5));
                                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(s.Offset + 2), (ushort)(cut - 2));
                                return [.. b.AsSpan(0, s.Offset + cut), .. b.AsSpan(s.Offset + s.Length)];
                            }
                    }
                    return b;
                }
            case "sof" when Pick(random, seg, s => IsSof(s.Marker) && s.Length >= 10, out var s):
                {
                    int p = s.Offset + 4;
                    int ncomp = b[p + 5];
                    switch (random.Next(7))
                    {
                        case 0: BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(p + 1), (ushort)(random.Next(3) == 0 ? random.Next(65536) : random.Pick(Edge16))); break;
                        case 1: BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(p + 3), (ushort)(random.Next(3) == 0 ? random.Next(65536) : random.Pick(Edge16))); break;
                        case 2: b[p] = random.Pick(new byte[] { 0, 1, 7, 8, 9, 12, 16, 255 }); break;
                        case 3: b[p + 5] = (byte)random.Pick(new[] { 0, 1, 2, 3, 4, 5, 255, ncomp + 1, Math.Max(0, ncomp - 1) }); break;
                        case 4 when ncomp > 0 && p + 6 + 3 * ncomp <= s.Offset + s.Length:
                            b[p + 6 + 3 * random.Next(ncomp) + 1] = random.Next(2) == 0 ? (byte)random.Next(256) : (byte)((1 + random.Next(4)) << 4 | (1 + random.Next(4))); break;
                        case 5 when ncomp > 0 && p + 6 + 3 * ncomp <= s.Offset + s.Length:
                            b[p + 6 + 3 * random.Next(ncomp) + 2] = (byte)random.Next(random.Next(2) == 0 ? 4 : 256); break;
                        case 6 when ncomp > 0 && p + 6 + 3 * ncomp <= s.Offset + s.Length:
                            b[p + 6 + 3 * random.Next(ncomp)] = random.Next(2) == 0 ? b[p + 6] : (byte)random.Next(256); break;   // duplicate / random id
                        default: b[s.Offset + 1] = random.Pick(new byte[] { 0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC9, 0xCA, 0xCB, 0xCF }); break;
                    }
                    return b;
                }
            case "sos" when Pick(random, seg, s => s.Marker == 0xDA && s.Length >= 8, out var s):
                {
                    int p = s.Offset + 4;
                    int ns = b[p];
                    int tail = p + 1 + 2 * ns;
                    switch (random.Next(5))
                    {
                        case 0: b[p] = (byte)random.Pick(new[] { 0, 1, 2, 3, 4, 5, 255, ns + 1 }); break;
                        case 1 when ns > 0 && tail <= s.Offset + s.Length: b[p + 1 + 2 * random.Next(ns)] = (byte)random.Next(random.Next(2) == 0 ? 6 : 256); break;
                        case 2 when ns > 0 && tail <= s.Offset + s.Length: b[p + 2 + 2 * random.Next(ns)] = (byte)random.Next(256); break;
                        case 3 when tail + 3 <= s.Offset + s.Length: b[tail + random.Next(2)] = (byte)random.Pick(new[] { 0, 1, 5, 6, 62, 63, 64, 255, random.Next(256) }); break;
                        case 4 when tail + 3 <= s.Offset + s.Length: b[tail + 2] = (byte)random.Next(256); break;   // Ah/Al
                        default: b[p] = (byte)random.Next(256); break;
                    }
                    return b;
                }
            case "dqt" when Pick(random, seg, s => s.Marker == 0xDB && s.Length >= 4 + 65, out var s):
                {
                    int p = s.Offset + 4;
                    switch (random.Next(4))
                    {
                        case 0: b[p] = random.Pick(new byte[] { 0x00, 0x01, 0x03, 0x04, 0x10, 0x11, 0x20, 0xFF }); break;
                        case 1: for (int k = 1; k < 65; k++) b[p + k] = 0; break;
                        case 2: b[p + 1 + random.Next(64)] = random.Next(2) == 0 ? (byte)0 : (byte)255; break;
                        default:
                            {
                                int cut = 5 + random.Next(s.Length - 5);
                                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(s.Offset + 2), (ushort)(cut - 2));
                                return [.. b.AsSpan(0, s.Offset + cut), .. b.AsSpan(s.Offset + s.Length)];
                            }
                    }
                    return b;
                }
            case "dri":
                {
                    if (Pick(random, seg, s => s.Marker == 0xDD && s.Length == 6, out var dri) && random.Next(3) != 0)
                    {
                        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(dri.Offset + 4), (ushort)random.Pick(new[] { 0, 1, 2, 3, 65535, random.Next(65536) }));
                        return b;
                    }
                    if (random.Next(2) == 0 && Pick(random, seg, s => s.Marker is >= 0xD0 and <= 0xD7, out var rst))
                        return [.. b.AsSpan(0, rst.Offset), .. b.AsSpan(rst.Offset + 2)];   // a restart marker lost
                    if (Pick(random, seg, s => s.Marker == 0xDA, out var sos))
                    {
                        byte[] segment = [0xFF, 0xDD, 0x00, 0x04, 0x00, (byte)(1 + random.Next(8))];
                        return [.. b.AsSpan(0, sos.Offset), .. segment, .. b.AsSpan(sos.Offset)];
                    }
                    return b;
                }
            case "segments" when seg.Count > 0:
                {
                    var s = random.Pick(seg);
                    int end = s.Marker == 0xDA ? s.EntropyEnd : s.Offset + s.Length;
                    switch (random.Next(4))
                    {
                        case 0: return [.. b.AsSpan(0, s.Offset), .. b.AsSpan(end)];                         // removed
                        case 1: return [.. b.AsSpan(0, end), .. b.AsSpan(s.Offset, end - s.Offset), .. b.AsSpan(end)];   // duplicated
                        case 2:
                            {
                                var t = random.Pick(seg);                                                       // moved before another
                                if (t.Offset == s.Offset) return b;
                                byte[] piece = b[s.Offset..end];
                                var rest = new List<byte>(b);
                                rest.RemoveRange(s.Offset, end - s.Offset);
                                int at = t.Offset > s.Offset ? t.Offset - piece.Length : t.Offset;
                                rest.InsertRange(Math.Clamp(at, 2, rest.Count), piece);
                                return rest.ToArray();
                            }
                        default:
                            {
                                var (_, other) = random.Pick(_seeds);                                           // from another file
                                var oseg = Parse(other).Where(o => o.Marker != 0xDA).ToList();
                                if (oseg.Count == 0) return b;
                                var o = random.Pick(oseg);
                                return [.. b.AsSpan(0, s.Offset), .. other.AsSpan(o.Offset, o.Length), .. b.AsSpan(random.Next(2) == 0 ? s.Offset : end)];
                            }
                    }
                }
            default:
                {
                    var (_, other) = random.Pick(_seeds);
                    return Mutator.Mutate(random, b, maxMutations: 4, spliceFrom: other);
                }
        }
    }
}
