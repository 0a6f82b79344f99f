// Encoded JPEG → ImageDecoder (JpegReader + JpegPixelPipeline) against Pillow 9.4's convert("RGB") SHA-256
// (tests/AotVit.Tests/data/jpeg/pixels/e2e_manifest.txt, made by tools/jpeg/make_pixel_fixtures.py): every sampling
// layout, odd sizes, grey, RGB, Adobe CMYK/YCCK, progressive with block smoothing, extreme coefficients, and the
// entropy half's files (restart intervals, multi-scan sequential, table surgery). Arithmetic coding is refused with a
// clear error (Pillow decodes it), and so may be the entropy half's corrupt_* files (see JpegReader's header). The streaming route into StreamingPreprocessor equals Preprocessor.Run on the
// full decode.
using System.Security.Cryptography;
using AotVit.Runtime.Imaging;
using Xunit;

namespace AotVit.Tests.Imaging.Jpeg;

public sealed class JpegEndToEndTests
{
    private static string DataDirectory => Path.Combine(AppContext.BaseDirectory, "data", "jpeg");

    public static TheoryData<string, int, int, string> Files()
    {
        var data = new TheoryData<string, int, int, string>();
        foreach (string line in File.ReadAllLines(Path.Combine(DataDirectory, "pixels", "e2e_manifest.txt")))
        {
            if (line.Length == 0) continue;
            string[] p = line.Split(' ');
            data.Add(p[0], int.Parse(p[1]), int.Parse(p[2]), p[3]);
        }
        return data;
    }

    private static readonly PreprocessPlan Crop = new(new ResizeMode.ShortestEdge(20), (12, 14), 1 / 255.0, null, true);

    [Theory]
    [MemberData(nameof(Files))]
    public void DecodesAsPillow(string path, int width, int height, string sha256)
    {
        byte[] encoded = File.ReadAllBytes(Path.Combine(DataDirectory, path));
        if (Path.GetFileName(path).StartsWith("arith", StringComparison.Ordinal))
        {
            var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(encoded, applyExifOrientation: false));
            Assert.Contains("Arithmetic", e.Message);
            return;
        }
        Assert.NotEqual("error", sha256);
        RgbImage image;
        try
        {
            image = ImageDecoder.Decode(encoded, applyExifOrientation: false);
        }
        catch (ImageDecodeException) when (Path.GetFileName(path).StartsWith("corrupt_", StringComparison.Ordinal))
        {
            // The entropy half refuses data libjpeg would substitute or skip with a warning (JpegReader's header lists
            // these deliberate differences); Pillow decodes such files.
            return;
        }
        Assert.Equal((width, height), (image.Width, image.Height));
        Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(image.Pixels)));

        var whole = new float[3 * 12 * 14];
        Preprocessor.Run(image, Crop, whole);
        using var stream = ImageDecoder.DecodeStreaming(encoded, Crop, applyExifOrientation: false);
        var streamed = new float[3 * 12 * 14];
        stream.Finish(streamed);
        Assert.Equal(whole, streamed);
    }
}
