// The JPEG entropy decoder (JpegReader) against libjpeg-turbo 2.1.5: every fixture of
// tools/jpeg/make_entropy_fixtures.py decodes to the coefficients, quantisation tables, coef_bits, sizes and colour
// space libjpeg's jpeg_read_coefficients gives (SHA-256 of tools/jpeg/coefdump.c's layout, committed), both whole-image
// and streamed; hostile, truncated and corrupt input is refused with ImageDecodeException and nothing else.
using System.Diagnostics;
using System.Security.Cryptography;
using AotVit.Runtime.Imaging;
using AotVit.Runtime.Imaging.Jpeg;
using AotVit.Runtime.Threading;
using Xunit;

namespace AotVit.Tests.Imaging.Jpeg;

[Trait("Category", "Imaging")]
public sealed class JpegEntropyTests
{
    private static string Dir => Path.Combine(GoldenFile.DataDirectory, "jpeg", "entropy");

    private static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(Dir, name));

    public static TheoryData<string, string> Fixtures()
    {
        var data = new TheoryData<string, string>();
        foreach (string line in File.ReadAllLines(Path.Combine(Dir, "coefdump.sha256")))
        {
            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 2)
                data.Add(parts[1], parts[0]);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void CoefficientsEqualLibjpeg(string file, string sha256)
    {
        byte[] data = Fixture(file);
        JpegCoefficients all = JpegReader.DecodeCoefficients(data);
        Assert.Equal(sha256, Hash(JpegCoefDump.Write(all)));
        Assert.Equal(0, all.FirstMcuRow);
        Assert.Equal(all.Frame.McusHigh, all.McuRows);

        JpegReader reader = JpegReader.ReadHeader(data);
        if (reader.IsSingleScan)
        {
            var rows = new JpegCoefDump.RowCollector(reader.Frame);
            reader.DecodeRows(data, rows);
            Assert.Equal(reader.Frame.McusHigh, rows.Rows);
            Assert.Equal(sha256, Hash(rows.Dump(reader.Frame)));
        }
        else
        {
            Assert.Throws<InvalidOperationException>(() => reader.DecodeRows(data, new JpegCoefDump.RowCollector(reader.Frame)));
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void ParallelDecodeEqualsLibjpeg(string file, string sha256)
    {
        byte[] data = Fixture(file);
        using var pool = new WorkerPool(2);
        Assert.Equal(sha256, Hash(JpegCoefDump.Write(JpegReader.ReadHeader(data).DecodeAllParallel(data, pool))));
    }

    [Theory]
    [InlineData("rst_row_420.jpg", true)]
    [InlineData("rst_1b_444.jpg", true)]
    [InlineData("rst_7b_422.jpg", true)]       // 7 MCUs per interval, 66 per row: bands start every 7 rows
    [InlineData("rst_grey_5b.jpg", true)]      // non-interleaved: an MCU is a block
    [InlineData("surg_extraneous.jpg", true)]  // garbage and fill bytes before RST markers
    [InlineData("surg_ff_fill_in_data_rst.jpg", true)] // FF FF 00 inside intervals
    [InlineData("base_420_100x75.jpg", false)] // no restart interval
    [InlineData("prog_rst_3b.jpg", false)]     // several scans
    public void BandsDecodeInAnyOrder(string file, bool bands)
    {
        byte[] data = Fixture(file);
        string expected = Hash(JpegCoefDump.Write(JpegReader.DecodeCoefficients(data)));
        JpegReader r = JpegReader.ReadHeader(data);
        JpegRestartSegment[]? segments = r.FindRestartSegments(data);
        int[]? starts = r.PrepareBands(data);
        Assert.Equal(bands, starts is not null);
        if (starts is null)
            return;
        Assert.NotNull(segments);
        Assert.Equal(0, segments![0].FirstMcu);
        Assert.True(segments.All(s => s.McuCount > 0 && s.McuCount <= r.RestartInterval && s.Length >= 0));
        for (int i = 1; i < segments.Length; i++)
        {
            Assert.Equal(segments[i - 1].FirstMcu + segments[i - 1].McuCount, segments[i].FirstMcu);
            Assert.True(segments[i].Offset >= segments[i - 1].Offset + segments[i - 1].Length + 2);
        }
        Assert.Equal(0, starts[0]);
        Assert.Equal(r.Frame.McusHigh, starts[^1]);

        // Each band into its own zeroed buffer, last band first; then copied into a whole-image buffer.
        JpegFrame f = r.Frame;
        var whole = new JpegCoefficients
        {
            Frame = f,
            Blocks = f.Components.Select(c => new short[c.BlocksPerLine * c.BlockLines * 64]).ToArray(),
            McuRows = f.McusHigh,
        };
        for (int b = starts.Length - 2; b >= 0; b--)
        {
            int rows = starts[b + 1] - starts[b];
            var band = new JpegCoefficients
            {
                Frame = f,
                Blocks = f.Components.Select(c => new short[c.BlocksPerLine * c.V * rows * 64]).ToArray(),
                FirstMcuRow = starts[b],
                McuRows = rows,
            };
            r.DecodeBand(data, starts[b], starts[b + 1], band);
            for (int c = 0; c < f.Components.Length; c++)
            {
                int rowShorts = f.Components[c].BlocksPerLine * f.Components[c].V * 64;
                band.Blocks[c].CopyTo(whole.Blocks[c], starts[b] * rowShorts);
            }
        }
        r.FinishBands(data);
        Assert.Equal(expected, Hash(JpegCoefDump.Write(whole)));
        Assert.Throws<ArgumentException>(() => r.DecodeBand(data, starts[1] + 1 == starts[2] ? starts[^1] : starts[1] + 1, f.McusHigh, whole));
        var small = new JpegCoefficients
        {
            Frame = f,
            Blocks = f.Components.Select(c => new short[c.BlocksPerLine * c.V * 64]).ToArray(),
            McuRows = f.McusHigh, // claims every row but holds one
        };
        Assert.Throws<ArgumentException>(() => r.DecodeBand(data, 0, f.McusHigh, small));
    }

    [Fact]
    public void ParallelDecodeRefusesCorruptRestartData()
    {
        byte[] data = Fixture("rst_row_420.jpg");
        int[] rst = Enumerable.Range(0, data.Length - 1).Where(i => data[i] == 0xFF && data[i + 1] is >= 0xD0 and <= 0xD7).ToArray();
        using var pool = new WorkerPool(2);
        byte[] wrong = (byte[])data.Clone();
        wrong[rst[2] + 1] = 0xD7;
        Assert.Throws<ImageDecodeException>(() => JpegReader.ReadHeader(wrong).DecodeAllParallel(wrong, pool));
        byte[] corrupt = (byte[])data.Clone();
        for (int i = rst[1] + 2; i < rst[2]; i++)
            corrupt[i] = 0; // zero bits decode as ±1 coefficients of 3 bits each: the interval runs out of data
        Assert.Throws<ImageDecodeException>(() => JpegReader.ReadHeader(corrupt).DecodeAllParallel(corrupt, pool));
        Assert.Throws<ImageDecodeException>(() => JpegReader.ReadHeader(data[..^2]).DecodeAllParallel(data[..^2], pool));
    }

    [Fact]
    public void FixtureSetCoversTheCases()
    {
        var names = Fixtures().Select(row => (string)row[0]).ToArray();
        Assert.True(names.Length >= 45, $"{names.Length} fixtures");
        int progressive = 0, single = 0, multi = 0, restart = 0;
        var spaces = new HashSet<JpegColorSpace>();
        foreach (string name in names)
        {
            byte[] data = Fixture(name);
            JpegReader r = JpegReader.ReadHeader(data);
            spaces.Add(r.Frame.ColorSpace);
            if (r.Frame.Progressive)
                progressive++;
            else if (r.IsSingleScan)
                single++;
            else
                multi++;
            if (r.RestartInterval != 0)
                restart++;
        }
        Assert.True(progressive >= 10 && single >= 20 && multi >= 3 && restart >= 6,
                    $"progressive {progressive}, single-scan {single}, multi-scan sequential {multi}, restart {restart}");
        Assert.Equal(5, spaces.Count); // grey, YCbCr, RGB, CMYK, YCCK
    }

    [Fact]
    public void FrameFieldsOfA420File()
    {
        JpegReader r = JpegReader.ReadHeader(Fixture("base_7x9_420.jpg"));
        JpegFrame f = r.Frame;
        Assert.Equal((7, 9, 8, 0xC0, false), (f.Width, f.Height, f.Precision, f.SofMarker, f.Progressive));
        Assert.Equal((2, 2, 1, 1), (f.MaxH, f.MaxV, f.McusWide, f.McusHigh));
        Assert.True(f.HasJfif);
        Assert.Equal(-1, f.AdobeTransform);
        Assert.Equal(JpegColorSpace.YCbCr, f.ColorSpace);
        JpegComponent y = f.Components[0], cb = f.Components[1];
        Assert.Equal((1, 2, 2, 0, 7, 9, 1, 2, 2, 2), (y.Id, y.H, y.V, y.Index, y.DownsampledWidth, y.DownsampledHeight, y.WidthInBlocks, y.HeightInBlocks, y.BlocksPerLine, y.BlockLines));
        Assert.Equal((2, 1, 1, 1, 4, 5, 1, 1, 1, 1), (cb.Id, cb.H, cb.V, cb.Index, cb.DownsampledWidth, cb.DownsampledHeight, cb.WidthInBlocks, cb.HeightInBlocks, cb.BlocksPerLine, cb.BlockLines));
        Assert.Null(y.Quant); // latched at the component's first scan
        JpegCoefficients all = r.DecodeAll(Fixture("base_7x9_420.jpg"));
        Assert.NotNull(y.Quant);
        Assert.Equal(2 * 2 * 64, all.Blocks[0].Length);
        Assert.Equal(64, all.Blocks[1].Length);
    }

    [Theory]
    [InlineData("arith_420.jpg", "Arithmetic")]
    [InlineData("arith_prog.jpg", "Arithmetic")]
    [InlineData("corrupt_ff_fill_in_data.jpg", "fill bytes")] // FF FF 00 in sequential data without restarts:
                                                               // libjpeg's result depends on its buffering
    public void UnsupportedOrUndecidableFilesAreRefused(string file, string words)
    {
        var e = Assert.Throws<ImageDecodeException>(() => DecodeBothWays(Fixture(file)));
        Assert.Contains(words, e.Message);
        using var pool = new WorkerPool(2);
        Assert.Throws<ImageDecodeException>(() => JpegReader.ReadHeader(Fixture(file)).DecodeAllParallel(Fixture(file), pool));
    }

    // ---- hostile and corrupt input ----

    private static void Refused(byte[] data, string? words = null, ImageLimits? limits = null)
    {
        var e = Assert.Throws<ImageDecodeException>(() => DecodeBothWays(data, limits));
        if (words is not null)
            Assert.Contains(words, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    private static void DecodeBothWays(byte[] data, ImageLimits? limits = null)
    {
        JpegReader r = JpegReader.ReadHeader(data, limits);
        if (r.IsSingleScan)
            r.DecodeRows(data, new NullSink());
        JpegReader.ReadHeader(data, limits).DecodeAll(data);
    }

    private sealed class NullSink : IJpegMcuRowSink
    {
        public void OnMcuRows(JpegCoefficients rows)
        {
        }
    }

    [Theory]
    [InlineData("base_1x1.jpg", 1)]
    [InlineData("base_7x9_420.jpg", 1)]
    [InlineData("grey_7x9.jpg", 1)]
    [InlineData("prog_grey_sa.jpg", 1)]
    [InlineData("rst_1b_444.jpg", 1)]
    [InlineData("prog_rst_3b.jpg", 7)]
    [InlineData("seq_3scans_rst.jpg", 5)]
    [InlineData("cmyk_prog.jpg", 3)]
    public void EveryPrefixIsRefused(string file, int step)
    {
        byte[] data = Fixture(file);
        var sw = Stopwatch.StartNew();
        for (int length = 0; length < data.Length; length += step)
        {
            byte[] prefix = data.AsSpan(0, length).ToArray();
            try
            {
                DecodeBothWays(prefix);
                Assert.Fail($"{file}: prefix of {length} of {data.Length} bytes was accepted");
            }
            catch (ImageDecodeException)
            {
            }
        }
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30));
        DecodeBothWays(data);
    }

    [Fact]
    public void TruncationMessagesSayTruncated()
    {
        byte[] data = Fixture("base_420_100x75.jpg");
        Refused(data.AsSpan(0, data.Length - 2).ToArray(), "truncated");            // no EOI
        Refused(data.AsSpan(0, data.Length / 2).ToArray(), "truncated");            // inside the scan
        Refused(data.AsSpan(0, 300).ToArray(), "truncated");                        // inside the header
    }

    [Fact]
    public void MutatedFilesDecodeOrFailCleanly()
    {
        string[] files = ["base_420_100x75.jpg", "prog_sa.jpg", "prog_deep_sa_rst.jpg", "rst_7b_422.jpg",
                          "seq_2plus1_422.jpg", "ext_16bit_qt.jpg", "ycck_base.jpg", "prog_incomplete.jpg"];
        byte[][] seeds = files.Select(Fixture).ToArray();
        var random = new Random(20261207);
        var limits = new ImageLimits { MaxPixels = 4_000_000 };
        int decoded = 0, refused = 0;
        for (int iteration = 0; iteration < 3000; iteration++)
        {
            byte[] data = (byte[])seeds[random.Next(seeds.Length)].Clone();
            int edits = 1 + random.Next(4);
            for (int e = 0; e < edits; e++)
            {
                int at = random.Next(data.Length);
                switch (random.Next(4))
                {
                    case 0: data[at] ^= (byte)(1 << random.Next(8)); break;
                    case 1: data[at] = (byte)random.Next(256); break;
                    case 2: data[at] = 0xFF; break;
                    default:
                        data = data.AsSpan(0, at).ToArray().Concat(data.AsSpan(Math.Min(data.Length, at + 1 + random.Next(8))).ToArray()).ToArray();
                        break;
                }
                if (data.Length == 0)
                    break;
            }
            var sw = Stopwatch.StartNew();
            try
            {
                DecodeBothWays(data, limits);
                decoded++;
            }
            catch (ImageDecodeException)
            {
                refused++;
            }
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"iteration {iteration} took {sw.Elapsed}");
        }
        Assert.True(refused > 1000, $"decoded {decoded}, refused {refused}");
    }

    // Builds a file from marker segments, for header cases.
    private static byte[] Seg(int marker, params byte[] body)
    {
        var s = new byte[4 + body.Length];
        s[0] = 0xFF;
        s[1] = (byte)marker;
        s[2] = (byte)((body.Length + 2) >> 8);
        s[3] = (byte)(body.Length + 2);
        body.CopyTo(s, 4);
        return s;
    }

    private static byte[] Sof(int marker, int precision, int width, int height, params (int Id, int H, int V, int Q)[] comps)
    {
        var body = new List<byte> { (byte)precision, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, (byte)comps.Length };
        foreach (var c in comps)
            body.AddRange([(byte)c.Id, (byte)((c.H << 4) | c.V), (byte)c.Q]);
        return Seg(marker, body.ToArray());
    }

    private static readonly byte[] Soi = [0xFF, 0xD8];
    private static readonly byte[] Eoi = [0xFF, 0xD9];

    private static byte[] Dqt(int index) => Seg(0xDB, [(byte)index, .. Enumerable.Repeat((byte)1, 64)]);

    private static byte[] Sos(int ss, int se, int ahal, params (int Id, int Tables)[] comps)
    {
        var body = new List<byte> { (byte)comps.Length };
        foreach (var c in comps)
            body.AddRange([(byte)c.Id, (byte)c.Tables]);
        body.AddRange([(byte)ss, (byte)se, (byte)ahal]);
        return Seg(0xDA, body.ToArray());
    }

    private static byte[] Dht(int index, byte[] countsFromLength1, byte[] values)
    {
        var counts = new byte[16];
        countsFromLength1.CopyTo(counts, 0);
        return Seg(0xC4, [(byte)index, .. counts, .. values]);
    }

    private static byte[] Cat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    // A one-block grey baseline image using the standard tables: DC diff 0 (code 00), EOB (code 1010), padding 1s.
    private static byte[] GreyPixel(byte[]? sof = null, byte[]? extraBeforeSos = null, byte[]? sos = null) =>
        Cat(Soi, Dqt(0), sof ?? Sof(0xC0, 8, 1, 1, (1, 1, 1, 0)), extraBeforeSos ?? [], sos ?? Sos(0, 63, 0, (1, 0x00)),
            [0b0010_1011, 0xFF, 0x00], Eoi);

    [Fact]
    public void HandMadeBaselineWithStandardTablesDecodes()
    {
        JpegCoefficients c = JpegReader.DecodeCoefficients(GreyPixel());
        Assert.Equal(JpegColorSpace.Grayscale, c.Frame.ColorSpace);
        Assert.All(c.Blocks[0], v => Assert.Equal(0, v));
    }

    [Fact]
    public void HeaderErrorsAreRefused()
    {
        Refused([0xFF, 0xD8], "Not a JPEG");
        Refused([0x89, 0x50, 0x4E, 0x47], "Not a JPEG");
        Refused(GreyPixel(sof: Sof(0xC0, 8, 0, 1, (1, 1, 1, 0))), "empty image");
        Refused(GreyPixel(sof: Sof(0xC0, 8, 1, 0, (1, 1, 1, 0))), "empty image");
        Refused(GreyPixel(sof: Sof(0xC0, 12, 1, 1, (1, 1, 1, 0))), "12-bit");
        Refused(GreyPixel(sof: Sof(0xC3, 8, 1, 1, (1, 1, 1, 0))), "Lossless");
        Refused(GreyPixel(sof: Sof(0xC5, 8, 1, 1, (1, 1, 1, 0))), "Hierarchical");
        Refused(GreyPixel(sof: Sof(0xC9, 8, 1, 1, (1, 1, 1, 0))), "Arithmetic");
        Refused(GreyPixel(sof: Sof(0xC0, 8, 65535, 65535, (1, 1, 1, 0))), "too big");
        Refused(GreyPixel(sof: Sof(0xC0, 8, 65000, 65000, (1, 1, 1, 0))), "limit");
        Refused(GreyPixel(sof: Sof(0xC0, 8, 300, 300, (1, 1, 1, 0))), "limit", new ImageLimits { MaxPixels = 10_000 });
        Refused(GreyPixel(sof: Sof(0xC0, 8, 1, 1, (1, 1, 1, 0), (2, 1, 1, 0))), "2 components");
        Refused(GreyPixel(sof: Sof(0xC0, 8, 1, 1, (1, 5, 1, 0))), "sampling");
        Refused(GreyPixel(sof: Sof(0xC0, 8, 1, 1, (1, 0, 1, 0))), "sampling");
        Refused(GreyPixel(sof: Sof(0xC0, 8, 1, 1, (1, 1, 1, 2))), "quantisation table 2");
        Refused(GreyPixel(sos: Sos(0, 63, 0, (9, 0x00))), "component id 9");
        Refused(GreyPixel(sos: Sos(0, 63, 0, (1, 0x22))), "Huffman table");
        Refused(GreyPixel(extraBeforeSos: Dht(0x00, [3], [1, 2, 3])), "valid code");          // three 1-bit codes
        Refused(GreyPixel(extraBeforeSos: Dht(0x00, [0, 1], [16])), "above 15");               // DC symbol 16
        Refused(GreyPixel(extraBeforeSos: Dht(0x04, [1], [0])), "index");
        Refused(GreyPixel(extraBeforeSos: Dht(0x00, [0, 1], [])), "Huffman table definition"); // fewer values than codes
        Refused(GreyPixel(extraBeforeSos: Seg(0xDB, [0x05, .. Enumerable.Repeat((byte)1, 64)])), "index");
        Refused(GreyPixel(extraBeforeSos: Seg(0xDB, [0x00, 1, 2, 3])), "DQT");
        Refused(GreyPixel(extraBeforeSos: Seg(0xDD, [0, 1, 2])), "DRI");
        Refused(GreyPixel(extraBeforeSos: [0xFF, 0x02]), "marker");
        Refused(GreyPixel(extraBeforeSos: [0xFF, 0xF0, 0x00, 0x02]), "marker");
        Refused(GreyPixel(extraBeforeSos: [0xFF, 0xD8]), "SOI");
        Refused(GreyPixel(extraBeforeSos: Sof(0xC0, 8, 1, 1, (1, 1, 1, 0))), "second frame");
        Refused(Cat(Soi, Dqt(0), Sos(0, 63, 0, (1, 0x00)), [0x2B], Eoi), "before the frame");
        Refused(Cat(Soi, Dqt(0), Sof(0xC0, 8, 1, 1, (1, 1, 1, 0)), Eoi), "end of image");
        Refused(Cat(Soi, Dqt(0), Eoi), "no image");
        Refused(Cat(Soi, [0xFF, 0xE1, 0x7F, 0xFF, 0x00]), "truncated"); // segment longer than the file
        // an MCU of 16 + 1 blocks
        Refused(Cat(Soi, Dqt(0), Sof(0xC0, 8, 64, 64, (1, 4, 4, 0), (2, 1, 1, 0), (3, 1, 1, 0)),
                    Sos(0, 63, 0, (1, 0x00), (2, 0x11), (3, 0x11)), [0x00], Eoi), "10 blocks");
        // progressive: bad Ss/Se/Ah/Al, an interleaved AC scan, and no standard Huffman tables
        byte[] prog = Sof(0xC2, 8, 8, 8, (1, 1, 1, 0), (2, 1, 1, 0), (3, 1, 1, 0));
        Refused(Cat(Soi, Dqt(0), prog, Sos(5, 2, 0, (1, 0x00)), [0x00], Eoi), "progressive scan parameters");
        Refused(Cat(Soi, Dqt(0), prog, Sos(0, 0, 0x0E, (1, 0x00)), [0x00], Eoi), "progressive scan parameters");
        Refused(Cat(Soi, Dqt(0), prog, Sos(0, 0, 0x20, (1, 0x00)), [0x00], Eoi), "progressive scan parameters");
        Refused(Cat(Soi, Dqt(0), prog, Sos(1, 63, 0, (1, 0x00), (2, 0x00)), [0x00], Eoi), "progressive scan parameters");
        Refused(Cat(Soi, Dqt(0), prog, Sos(0, 0, 0, (1, 0x00), (2, 0x00), (3, 0x00)), [0x00], Eoi), "Huffman table");
    }

    [Theory]
    [InlineData(0xC0)]
    [InlineData(0xC2)]
    public void SmallFilesDeclaringHugeImagesAreRefusedBeforeAllocating(int sofMarker)
    {
        // 9000 x 9000 x 3 components in a file of a hundred bytes: the scan cannot be there, so no coefficient buffer
        // (some 480 MB) is allocated.
        byte[] data = Cat(Soi, Dqt(0), Sof(sofMarker, 8, 9000, 9000, (1, 1, 1, 0), (2, 1, 1, 0), (3, 1, 1, 0)),
                          sofMarker == 0xC2 ? Dht(0x00, [1], [0]) : [],
                          Sos(0, sofMarker == 0xC2 ? 0 : 63, 0, (1, 0x00), (2, 0x00), (3, 0x00)), new byte[64], Eoi);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ImageDecodeException>(() => JpegReader.DecodeCoefficients(data));
        Assert.Contains("truncated", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
    }

    [Fact]
    public void ScanCountIsBounded()
    {
        // An 8x8 grey progressive image: a DC first scan, then DC refinement scans of one bit each (1000 is the cap).
        byte[] header = Cat(Soi, Dqt(0), Sof(0xC2, 8, 8, 8, (1, 1, 1, 0)), Dht(0x00, [1], [0]));
        byte[] first = Cat(Sos(0, 0, 0x0D, (1, 0x00)), [0x7F]);
        byte[] refine = Cat(Sos(0, 0, 0x10, (1, 0x00)), [0x7F]);
        byte[] Build(int refinements) => Cat([header, first, .. Enumerable.Repeat(refine, refinements), Eoi]);
        JpegReader.DecodeCoefficients(Build(999));
        Refused(Build(1000), "more than 1000 scans");
    }

    [Theory]
    [InlineData("rst_7b_422.jpg")]
    [InlineData("base_420_100x75.jpg")]
    [InlineData("grey_100x75.jpg")]
    public void StreamingAllocatesNothingPerRow(string file)
    {
        // Tables are built when the scan starts; from the first row to the last nothing is allocated.
        byte[] data = Fixture(file);
        JpegReader.ReadHeader(data).DecodeRows(data, new NullSink()); // JIT warm-up
        var sink = new AllocationSink();
        JpegReader r = JpegReader.ReadHeader(data);
        r.DecodeRows(data, sink);
        Assert.Equal(r.Frame.McusHigh, sink.Rows);
        Assert.True(sink.Rows >= 5);
        Assert.Equal(0, sink.Last - sink.First);
    }

    [Fact]
    public void StreamingSurvivesASinkThatReplacesTheBuffers()
    {
        byte[] data = Fixture("base_420_100x75.jpg");
        string expected = Hash(JpegCoefDump.Write(JpegReader.DecodeCoefficients(data)));
        JpegReader r = JpegReader.ReadHeader(data);
        var sink = new VandalSink(new JpegCoefDump.RowCollector(r.Frame));
        r.DecodeRows(data, sink);
        Assert.Equal(expected, Hash(sink.Inner.Dump(r.Frame)));
    }

    private sealed class VandalSink(JpegCoefDump.RowCollector inner) : IJpegMcuRowSink
    {
        public readonly JpegCoefDump.RowCollector Inner = inner;

        public void OnMcuRows(JpegCoefficients rows)
        {
            Inner.OnMcuRows(rows);
            rows.Blocks[0] = new short[1];
            rows.FirstMcuRow = -7;
            rows.McuRows = 1000;
        }
    }

    private sealed class AllocationSink : IJpegMcuRowSink
    {
        public long First, Last;
        public int Rows;

        public void OnMcuRows(JpegCoefficients rows)
        {
            long now = GC.GetAllocatedBytesForCurrentThread();
            if (Rows++ == 0)
                First = now;
            Last = now;
        }
    }

    [Fact]
    public void ScanComponentOrderFollowsLibjpeg()
    {
        // libjpeg 2.1.5 matches the i-th scan component only among frame components with index ≥ i, so a scan listing
        // Cr before Y is refused, and a component may not appear twice.
        byte[] sof = Sof(0xC0, 8, 8, 8, (1, 1, 1, 0), (2, 1, 1, 0), (3, 1, 1, 0));
        Refused(Cat(Soi, Dqt(0), sof, Sos(0, 63, 0, (3, 0x00), (1, 0x00)), [0x00], Eoi), "component id 1");
        Refused(Cat(Soi, Dqt(0), sof, Sos(0, 63, 0, (2, 0x00), (2, 0x00)), [0x00], Eoi), "component id 2");
    }

    [Fact]
    public void CorruptEntropyDataIsRefused()
    {
        // A bad Huffman code: sixteen 1 bits are no code of the standard DC table.
        Refused(Cat(Soi, Dqt(0), Sof(0xC0, 8, 1, 1, (1, 1, 1, 0)), Sos(0, 63, 0, (1, 0x00)), [0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00], Eoi), "bad Huffman code");
        // The segment ends before the block does (libjpeg pads with zeros and warns).
        Refused(Cat(Soi, Dqt(0), Sof(0xC0, 8, 16, 8, (1, 1, 1, 0)), Sos(0, 63, 0, (1, 0x00)), [0b0010_1011], Eoi), "premature end");
        // A second scan after a single scan holding every component.
        Refused(Cat(GreyPixel()[..^2], Sos(0, 63, 0, (1, 0x00)), [0x2B], Eoi), "second scan");
    }

    [Fact]
    public void RestartMarkerErrorsAreRefused()
    {
        byte[] data = Fixture("rst_row_420.jpg");
        int[] rst = Enumerable.Range(0, data.Length - 1).Where(i => data[i] == 0xFF && data[i + 1] is >= 0xD0 and <= 0xD7).ToArray();
        Assert.True(rst.Length > 3);

        byte[] wrong = (byte[])data.Clone();
        wrong[rst[1] + 1] = 0xD5; // RST5 where RST1 is due
        Refused(wrong, "expected restart marker RST1");

        byte[] missing = data.AsSpan(0, rst[2]).ToArray().Concat(data.AsSpan(rst[2] + 2).ToArray()).ToArray();
        Refused(missing);

        byte[] swapped = (byte[])data.Clone();
        (swapped[rst[0] + 1], swapped[rst[1] + 1]) = (swapped[rst[1] + 1], swapped[rst[0] + 1]);
        Refused(swapped, "restart marker");
    }

    [Fact]
    public void TrailingBytesAfterEndOfImageAreIgnored()
    {
        byte[] data = Fixture("prog_420.jpg");
        string expected = Hash(JpegCoefDump.Write(JpegReader.DecodeCoefficients(data)));
        byte[] longer = [.. data, 0x00, 0x12, 0xFF, 0xD8, 0xFF];
        Assert.Equal(expected, Hash(JpegCoefDump.Write(JpegReader.DecodeCoefficients(longer))));
    }

    [Fact]
    public void ReaderDecodesOnce()
    {
        byte[] data = Fixture("base_1x1.jpg");
        JpegReader r = JpegReader.ReadHeader(data);
        r.DecodeAll(data);
        Assert.Throws<InvalidOperationException>(() => r.DecodeAll(data));
    }

    private static string Hash(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
