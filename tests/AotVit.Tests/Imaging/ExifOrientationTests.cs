// ImageOrientation geometry (the pure coordinate maps a streaming pipeline uses) and the work bounds of the new
// decoders on tiny hostile files. Pixel agreement with Pillow's exif_transpose is in FormatGoldenTests.

using System.Diagnostics;
using AotVit.Runtime.Imaging;
using Xunit;

namespace AotVit.Tests.Imaging;

[Trait("Category", "Imaging")]
public sealed class ExifOrientationTests
{
    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(3)] [InlineData(4)] [InlineData(5)] [InlineData(6)] [InlineData(7)] [InlineData(8)]
    public void CoordinateMapsAreInverseBijectionsAndMatchApply(int value)
    {
        var o = (ImageOrientation)value;
        const int W = 5, H = 3;
        RgbImage stored = new(W, H, SeededBytes.Generate((ulong)value, W * H * 3));
        RgbImage oriented = ExifOrientation.Apply(stored, o);
        Assert.Equal(o.OrientedSize(W, H), (oriented.Width, oriented.Height));
        Assert.Equal(value >= 5, o.SwapsAxes());
        var seen = new HashSet<(int, int)>();
        for (int y = 0; y < oriented.Height; y++)
        {
            for (int x = 0; x < oriented.Width; x++)
            {
                var (sx, sy) = o.ToStored(W, H, x, y);
                Assert.InRange(sx, 0, W - 1);
                Assert.InRange(sy, 0, H - 1);
                Assert.True(seen.Add((sx, sy)));
                Assert.Equal((x, y), o.ToOriented(W, H, sx, sy));
                for (int c = 0; c < 3; c++)
                {
                    Assert.Equal(stored.Pixels[(sy * W + sx) * 3 + c], oriented.Pixels[(y * oriented.Width + x) * 3 + c]);
                }
            }
        }
        Assert.Equal(W * H, seen.Count);
        if (o == ImageOrientation.TopLeft)
        {
            Assert.Same(stored, oriented);
        }
    }

    [Fact]
    public void InvalidOrientationIsArgumentOutOfRange()
    {
        RgbImage image = new(1, 1, new byte[3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => ExifOrientation.Apply(image, (ImageOrientation)9));
        Assert.Throws<ArgumentOutOfRangeException>(() => ((ImageOrientation)0).OrientedSize(1, 1));
        Assert.Null(ExifOrientation.FromTagValue(0));
        Assert.Equal(ImageOrientation.RightTop, ExifOrientation.FromTagValue(6));
    }

    [Fact]
    public void RleTgaDeclaring9000x9000In34BytesFailsAtOnceWithoutAllocatingTheImage()
    {
        byte[] bomb = File.ReadAllBytes(Path.Combine(GoldenFile.DataDirectory, "imaging", "formats", "tga_rle_bomb.tga"));
        Assert.Equal(34, bomb.Length);
        Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(bomb));   // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(bomb));
        Assert.True(clock.ElapsedMilliseconds < 50, $"took {clock.ElapsedMilliseconds} ms");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 * 1024);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void TinyGifAndPngDeclaringHugeFramesFailWithoutAllocatingThem()
    {
        // GIF: 65535x1000 screen and frame, 3 bytes of LZW data. PNG: 9000x9000 grey with a 12-byte IDAT.
        byte[] gif = [.. "GIF89a"u8, 0xFF, 0xFF, 0xE8, 0x03, 0, 0, 0, (byte)',', 0, 0, 0, 0, 0xFF, 0xFF, 0xE8, 0x03, 0, 8, 2, 0x00, 0x01, 0, (byte)';'];
        byte[] png = Fuzzing.ImageTarget.Png(9000, 9000, colorType: 0, Fuzzing.ImageTarget.ZlibOfZeros(8));
        foreach (byte[] file in new[] { gif, png })
        {
            Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(file));
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(file));
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 256 * 1024, e.Message);
            Assert.Contains("truncated", e.Message);
        }
    }

    [Fact]
    public void OrientationOffGivesTheStoredPixels()
    {
        byte[] png = File.ReadAllBytes(Path.Combine(GoldenFile.DataDirectory, "imaging", "formats", "exif_png_o6.png"));
        RgbImage stored = ImageDecoder.Decode(png, applyExifOrientation: false);
        RgbImage shown = ImageDecoder.Decode(png);
        Assert.Equal((5, 3), (stored.Width, stored.Height));
        Assert.Equal((3, 5), (shown.Width, shown.Height));
        Assert.Equal(ImageOrientation.RightTop, ImageDecoder.ReadOrientation(png));
        Assert.Equal((3, 5, "PNG"), ImageDecoder.ReadInfo(png));
        Assert.Equal((5, 3, "PNG"), ImageDecoder.ReadInfo(png, applyExifOrientation: false));
        Assert.Equal(ExifOrientation.Apply(stored, ImageOrientation.RightTop).Pixels, shown.Pixels);
    }
}
