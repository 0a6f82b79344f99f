// ImageDecoder against Pillow 9.4 on the files of tools/pil_formats.py (data/imaging/formats): every PNG colour type
// and bit depth (plain and Adam7), palettes, tRNS, IDAT splits, early stream ends, CRC and chunk errors; EXIF
// orientation 1..8 from PNG eXIf / tEXt / raw-profile zTXt / XMP and JPEG APP1, hostile EXIF IFDs; GIF, BMP, TGA.
// "on" = Image.open -> ImageOps.exif_transpose -> convert("RGB") (Decode's default), "off" = without exif_transpose.
// Where Pillow raises, Decode must throw ImageDecodeException; where Pillow succeeds, the pixels must be identical
// (JPEG: the orientation must be the same permutation of our own unrotated decode, and the pixels within the
// decoder's known ±3 of libjpeg-turbo).

using System.Text.Json;
using AotVit.Runtime.Imaging;
using Xunit;

namespace AotVit.Tests.Imaging;

[Trait("Category", "Imaging")]
public sealed class FormatGoldenTests
{
    private static readonly Lazy<GoldenFile> Golden = new(() => GoldenFile.Load("formats.bin.gz"));

    private static string FormatPath(string file) => Path.Combine(GoldenFile.DataDirectory, "imaging", "formats", file);

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (JsonElement e in Golden.Value.Meta.GetProperty("files").EnumerateArray())
        {
            data.Add(e.GetProperty("file").GetString()!);
        }
        return data;
    }

    private static JsonElement Entry(string file) =>
        Golden.Value.Meta.GetProperty("files").EnumerateArray().Single(e => e.GetProperty("file").GetString() == file);

    [Theory]
    [MemberData(nameof(Files))]
    public void DecodesAsPillow(string file)
    {
        JsonElement entry = Entry(file);
        byte[] bytes = File.ReadAllBytes(FormatPath(file));
        GoldenFile golden = Golden.Value;
        foreach (bool on in new[] { true, false })
        {
            bool pillowOk = entry.GetProperty(on ? "on" : "off").GetBoolean();
            string what = $"{file} ({(on ? "exif_transpose" : "no exif_transpose")})";
            if (!pillowOk)
            {
                var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(bytes, null, on));
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
                continue;
            }
            RgbImage image;
            try
            {
                image = ImageDecoder.Decode(bytes, null, on);
            }
            catch (ImageDecodeException e)
            {
                Assert.Fail($"{what}: Pillow decodes it ({entry.GetProperty("mode")}), we refused: {e.Message}");
                return;
            }
            string name = file + (on || !golden.Has(file + ".off") ? ".on" : ".off");
            int[] shape = golden.Shape(name);
            Assert.Equal((shape[1], shape[0]), (image.Width, image.Height));
            Assert.Equal((image.Width, image.Height, 0), Info(ImageDecoder.ReadInfo(bytes, null, on)));
            if (file.EndsWith(".jpg", StringComparison.Ordinal))
            {
                // Same permutation as Pillow's, applied to our own pixels; pixels close to libjpeg-turbo's.
                if (on)
                {
                    var orientation = (ImageOrientation)entry.GetProperty("orientation").GetInt32();
                    RgbImage stored = ImageDecoder.Decode(bytes, null, applyExifOrientation: false);
                    Assert.Equal(ExifOrientation.Apply(stored, orientation).Pixels, image.Pixels);
                    Assert.Equal(orientation == ImageOrientation.TopLeft ? null : orientation, ImageDecoder.ReadOrientation(bytes));
                }
                byte[] pillow = golden.Bytes(name);
                int max = 0;
                for (int i = 0; i < pillow.Length; i++) max = Math.Max(max, Math.Abs(pillow[i] - image.Pixels[i]));
                Assert.True(max <= 3, $"{what}: max |diff| {max} to Pillow");
            }
            else
            {
                PillowResizeTests.AssertBytesEqual(golden.Bytes(name), image.Pixels, image.Width * 3, what);
            }
        }
    }

    private static (int, int, int) Info((int Width, int Height, string Format) info) => (info.Width, info.Height, 0);

    public static TheoryData<string> PrefixFiles()
    {
        var data = new TheoryData<string>();
        foreach (JsonElement e in GoldenFile.Load("prefixes.bin.gz").Meta.GetProperty("files").EnumerateArray())
        {
            data.Add(e.GetString()!);
        }
        return data;
    }

    /// <summary>Every prefix of small files: we decode exactly the prefixes Pillow decodes (truncation detection).</summary>
    [Theory]
    [MemberData(nameof(PrefixFiles))]
    public void TruncatedPrefixesAreRefusedExactlyWherePillowRefusesThem(string file)
    {
        byte[] expected = GoldenFile.Load("prefixes.bin.gz").Bytes(file);
        string path = Path.Combine(GoldenFile.DataDirectory, "imaging", "fuzz", file);
        byte[] bytes = File.ReadAllBytes(File.Exists(path) ? path : FormatPath(file));
        Assert.Equal(bytes.Length + 1, expected.Length);
        var mismatches = new List<string>();
        for (int n = 0; n <= bytes.Length; n++)
        {
            bool ok;
            try
            {
                ImageDecoder.Decode(bytes.AsSpan(0, n));
                ok = true;
            }
            catch (ImageDecodeException)
            {
                ok = false;
            }
            if (ok != (expected[n] == 1))
            {
                mismatches.Add($"{n}:{(ok ? "we decode" : "we refuse")}");
            }
        }
        Assert.True(mismatches.Count == 0, $"{file} ({bytes.Length} bytes): {mismatches.Count} prefixes differ from Pillow: {string.Join(", ", mismatches.Take(12))}");
    }
}
