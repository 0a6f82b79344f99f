// The JPEG corpus of issue 15 (tools/jpeg_corpus.py -> data/jpeg/corpus): every file decoded by ImageDecoder must give
// exactly Pillow 9.4's RGB bytes (libjpeg-turbo 2.1.5: ISLOW IDCT, fancy upsampling, block smoothing, its colour
// tables, Pillow's CMYK conversion), with and without exif_transpose, or throw ImageDecodeException where Pillow
// raises. Pillow's results are committed as SHA-256 in manifest.tsv, so no Pillow is needed here.
//   on  = Image.open -> ImageOps.exif_transpose -> convert("RGB")  = ImageDecoder.Decode(bytes) (the default)
//   off = Image.open -> convert("RGB")                              = ImageDecoder.Decode(bytes, applyExifOrientation: false)
// and the streaming path's stage: DecodeStored gives the stored pixels ("off") and the orientation whose
// ExifOrientation.Apply gives "on".
// Run: dotnet test tests/AotVit.Tests -c Release --filter "Category=JpegCorpus"
// The same checks run on harness.tsv (the repo's PNGs, which our own decoder already matches) to prove the harness.

using System.Diagnostics;
using System.Security.Cryptography;
using AotVit.Runtime.Imaging;
using Xunit;
using Xunit.Abstractions;

namespace AotVit.Tests.Imaging.Jpeg;

/// <summary>One manifest line (see tools/jpeg_corpus.py for the columns).</summary>
public sealed record JpegCorpusEntry(string File, string Category, string Covers, string Mode, int Width, int Height,
                                     int? Orientation, string On, string Off, bool AllowError)
{
    public static string CorpusDirectory => TestPaths.Data("jpeg", "corpus");

    public string Path => System.IO.Path.GetFullPath(System.IO.Path.Combine(CorpusDirectory, File));

    public static IReadOnlyList<JpegCorpusEntry> Read(string manifest)
    {
        var list = new List<JpegCorpusEntry>();
        foreach (string line in System.IO.File.ReadLines(manifest))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            string[] f = line.Split('\t');
            if (f.Length != 10)
            {
                throw new InvalidDataException($"{manifest}: expected 10 tab-separated fields, got {f.Length}: {line}");
            }
            list.Add(new JpegCorpusEntry(f[0], f[1], f[2], f[3], f[4] == "-" ? 0 : int.Parse(f[4]), f[5] == "-" ? 0 : int.Parse(f[5]),
                                         f[6] == "-" ? null : int.Parse(f[6]), f[7], f[8], f[9] == "1"));
        }
        return list;
    }

    public static readonly Lazy<IReadOnlyList<JpegCorpusEntry>> Corpus =
        new(() => Read(System.IO.Path.Combine(CorpusDirectory, "manifest.tsv")));

    public static readonly Lazy<IReadOnlyList<JpegCorpusEntry>> Harness =
        new(() => Read(TestPaths.Data("jpeg", "harness.tsv")));

    public override string ToString() => File;
}

[Trait("Category", "JpegCorpus")]
public sealed class JpegCorpusTests(ITestOutputHelper output)
{
    public static TheoryData<string> CorpusFiles()
    {
        var data = new TheoryData<string>();
        foreach (var e in JpegCorpusEntry.Corpus.Value) data.Add(e.File);
        return data;
    }

    public static TheoryData<string> HarnessFiles()
    {
        var data = new TheoryData<string>();
        foreach (var e in JpegCorpusEntry.Harness.Value) data.Add(e.File);
        return data;
    }

    /// <summary>One case per corpus file: Decode with and without orientation, and DecodeStored + orientation,
    /// equal Pillow's bytes (or ImageDecodeException where Pillow raises); ReadInfo gives Pillow's size.</summary>
    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void DecodesAsPillow(string file) =>
        Check(JpegCorpusEntry.Corpus.Value.Single(e => e.File == file));

    /// <summary>The same checks on files our own decoders already match (PNG): the harness itself is right.</summary>
    [Theory]
    [MemberData(nameof(HarnessFiles))]
    public void HarnessMatchesPillowOnFilesDecodedExactlyToday(string file) =>
        Check(JpegCorpusEntry.Harness.Value.Single(e => e.File == file));

    private static void Check(JpegCorpusEntry e)
    {
        byte[] bytes = File.ReadAllBytes(e.Path);
        var failures = new List<string>();
        foreach (bool on in new[] { true, false })
        {
            string expected = on ? e.On : e.Off;
            string what = on ? "Decode (exif_transpose)" : "Decode (applyExifOrientation: false)";
            string? got = Outcome(() => ImageDecoder.Decode(bytes, applyExifOrientation: on), out RgbImage? image);
            string? failure = Compare(e, expected, got, image, what);
            if (failure is not null) failures.Add(failure);
        }

        // The stage the streaming preprocessor consumes: the stored pixels and the orientation it applies.
        (RgbImage Stored, ImageOrientation Orientation) stored = default;
        string? storedOutcome = Outcome(() =>
        {
            stored = ImageDecoder.DecodeStored(bytes, applyExifOrientation: true);
            return stored.Stored;
        }, out RgbImage? storedImage);
        if (e.On.StartsWith("sha256:", StringComparison.Ordinal) && e.Off.StartsWith("sha256:", StringComparison.Ordinal))
        {
            string? f1 = Compare(e, e.Off, storedOutcome, storedImage, "DecodeStored: stored pixels");
            if (f1 is not null) failures.Add(f1);
            if (storedImage is not null)
            {
                RgbImage turned = ExifOrientation.Apply(storedImage, stored.Orientation);
                string? f2 = Compare(e, e.On, "sha256:" + Sha256(turned), turned, $"DecodeStored + ExifOrientation.Apply({stored.Orientation})");
                if (f2 is not null) failures.Add(f2);
                var expectedOrientation = e.Orientation is >= 2 and <= 8 ? (ImageOrientation)e.Orientation.Value : ImageOrientation.TopLeft;
                if (stored.Orientation != expectedOrientation)
                {
                    failures.Add($"DecodeStored orientation {stored.Orientation}, Pillow's tag gives {expectedOrientation}");
                }
            }
        }
        else if (e.On.StartsWith("error:", StringComparison.Ordinal) && !e.AllowError && storedOutcome is not null && !storedOutcome.StartsWith("error:", StringComparison.Ordinal))
        {
            failures.Add($"DecodeStored: Pillow raises ({e.On}), we decoded");
        }

        // The header-only path agrees with Pillow's size (stored, and oriented as exif_transpose turns it).
        foreach (bool on in new[] { false, true })
        {
            string expected = on ? e.On : e.Off;
            if (!expected.StartsWith("sha256:", StringComparison.Ordinal) || e.Width == 0) continue;
            bool swap = on && e.Orientation is >= 5 and <= 8;
            var want = swap ? (e.Height, e.Width) : (e.Width, e.Height);
            try
            {
                var (w, h, _) = ImageDecoder.ReadInfo(bytes, applyExifOrientation: on);
                if ((w, h) != want) failures.Add($"ReadInfo(applyExifOrientation: {on}) says {w}x{h}, Pillow {want.Item1}x{want.Item2}");
            }
            catch (ImageDecodeException x) when (!e.AllowError)
            {
                failures.Add($"ReadInfo(applyExifOrientation: {on}) threw: {x.Message}");
            }
            catch (ImageDecodeException)
            {
                // allowed to refuse (arithmetic coding)
            }
        }

        Assert.True(failures.Count == 0,
            $"{e.File} [{e.Category}: {e.Covers}; Pillow mode {e.Mode} {e.Width}x{e.Height}]:\n  " + string.Join("\n  ", failures));
    }

    // "sha256:<hex>" of the decoded pixels, or "error:<message>" for ImageDecodeException; any other exception escapes.
    private static string Outcome(Func<RgbImage> decode, out RgbImage? image)
    {
        image = null;
        try
        {
            image = decode();
            return "sha256:" + Sha256(image);
        }
        catch (ImageDecodeException x)
        {
            return "error:" + x.Message;
        }
    }

    private static string? Compare(JpegCorpusEntry e, string expected, string? got, RgbImage? image, string what)
    {
        bool pillowRaises = expected.StartsWith("error:", StringComparison.Ordinal);
        bool weRaise = got!.StartsWith("error:", StringComparison.Ordinal);
        if (pillowRaises)
        {
            return weRaise ? null : $"{what}: Pillow raises ({expected[6..]}), we decoded {image}";
        }
        if (weRaise)
        {
            return e.AllowError ? null : $"{what}: Pillow decodes it, we threw ImageDecodeException: {got[6..]}";
        }
        if (image!.Width * image.Height != 0 && got == expected)
        {
            return null;
        }
        return $"{what}: {image.Width}x{image.Height} SHA-256 {got[7..19]}…, Pillow's {expected[7..19]}…";
    }

    private static string Sha256(RgbImage image) => Convert.ToHexStringLower(SHA256.HashData(image.Pixels));

    [Fact]
    public void ManifestDescribesEveryCorpusFile()
    {
        var entries = JpegCorpusEntry.Corpus.Value;
        Assert.True(entries.Count >= 300, $"{entries.Count} entries");
        // The repository's folder (the build output keeps files deleted from it): every file has a line, every line a file.
        string source = TestPaths.Repo("tests", "AotVit.Tests", "data", "jpeg", "corpus");
        var files = Directory.GetFiles(Directory.Exists(source) ? source : JpegCorpusEntry.CorpusDirectory, "*.jpg")
            .Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(files, entries.Select(e => e.File).Order(StringComparer.Ordinal).ToArray());
        foreach (var e in entries.Concat(JpegCorpusEntry.Harness.Value))
        {
            foreach (string r in new[] { e.On, e.Off })
            {
                Assert.True((r.StartsWith("sha256:", StringComparison.Ordinal) && r.Length == 71) || r.StartsWith("error:", StringComparison.Ordinal), $"{e.File}: {r}");
            }
        }
        string[] categories = ["quality", "sampling", "progressive", "smoothing", "sequential-scans", "optimize", "restart", "size",
                               "grey", "rgb", "cmyk", "ycck", "exif", "content", "markers", "transform", "arithmetic",
                               "unsupported", "truncated", "corrupt"];
        foreach (string c in categories) Assert.Contains(entries, e => e.Category == c);
        for (int o = 1; o <= 8; o++) Assert.Contains(entries, e => e.Orientation == o);
    }

    /// <summary>The whole corpus (484 files, both modes) decodes in a few seconds and never throws anything but
    /// ImageDecodeException; reports how many files already match Pillow.</summary>
    [Fact]
    public void WholeCorpusRunsInAFewSecondsWithOnlyImageDecodeExceptions()
    {
        var entries = JpegCorpusEntry.Corpus.Value;
        var blobs = entries.Select(e => File.ReadAllBytes(e.Path)).ToArray();
        var sw = Stopwatch.StartNew();
        int matching = 0, refusedAsPillow = 0;
        for (int i = 0; i < entries.Count; i++)
        {
            foreach (bool on in new[] { true, false })
            {
                string got = Outcome(() => ImageDecoder.Decode(blobs[i], applyExifOrientation: on), out _);
                string expected = on ? entries[i].On : entries[i].Off;
                if (got == expected) matching++;
                else if (got.StartsWith("error:", StringComparison.Ordinal) && expected.StartsWith("error:", StringComparison.Ordinal)) refusedAsPillow++;
            }
        }
        sw.Stop();
        output.WriteLine($"{entries.Count} files x 2 modes in {sw.Elapsed.TotalSeconds:F2} s: {matching} decodes identical to Pillow, " +
                         $"{refusedAsPillow} refused where Pillow raises, {2 * entries.Count - matching - refusedAsPillow} differ");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), $"corpus took {sw.Elapsed.TotalSeconds:F1} s");
    }
}
