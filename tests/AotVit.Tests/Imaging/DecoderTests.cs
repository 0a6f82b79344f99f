// ImageDecoder: agreement with Pillow's decode + convert("RGB") (grey, grey+alpha, palette, palette+tRNS, RGBA,
// 1-bit, BMP, TGA, GIF first frame), the measured JPEG difference to libjpeg-turbo, and the limit checks.

using AotVit.Runtime.Imaging;
using Xunit;
using Xunit.Abstractions;

namespace AotVit.Tests.Imaging;

[Trait("Category", "Imaging")]
public sealed class DecoderTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("grey")]
    [InlineData("grey_alpha")]
    [InlineData("palette")]
    [InlineData("palette_trns")]
    [InlineData("rgba")]
    [InlineData("bilevel")]
    public void ConvertsLikePillowConvertRgb(string variant)
    {
        var golden = GoldenFile.Load($"convert_{variant}.bin.gz");
        int[] shape = golden.Shape("rgb");
        RgbImage image = ImageDecoder.Load(GoldenFile.ImagePath(variant + ".png"));
        Assert.Equal((shape[1], shape[0]), (image.Width, image.Height));
        PillowResizeTests.AssertBytesEqual(golden.Bytes("rgb"), image.Pixels, image.Width * 3, variant);
    }

    [Theory]
    [InlineData("seed.png")]
    [InlineData("seed.bmp")]
    [InlineData("seed.tga")]
    [InlineData("seed_rle.tga")]
    [InlineData("seed.gif")]
    [InlineData("seed_animated.gif")]   // first frame only
    public void LosslessFormatsMatchPillow(string file)
    {
        var golden = GoldenFile.Load("seed_formats.bin.gz");
        RgbImage image = ImageDecoder.Load(Path.Combine(GoldenFile.DataDirectory, "imaging", "fuzz", file));
        int[] shape = golden.Shape(file);
        Assert.Equal((shape[1], shape[0]), (image.Width, image.Height));
        PillowResizeTests.AssertBytesEqual(golden.Bytes(file), image.Pixels, image.Width * 3, file);
    }

    [Theory]
    [InlineData("seed.jpg")]
    [InlineData("seed_progressive.jpg")]
    public void SmallJpegsMatchPillow(string file)
    {
        var golden = GoldenFile.Load("seed_formats.bin.gz");
        RgbImage image = ImageDecoder.Load(Path.Combine(GoldenFile.DataDirectory, "imaging", "fuzz", file));
        PillowResizeTests.AssertBytesEqual(golden.Bytes(file), image.Pixels, image.Width * 3, file);
    }

    [Fact]
    public void RocketJpegMatchesPillow()
    {
        // Our JPEG decoder reproduces libjpeg-turbo's ISLOW IDCT, fancy upsampling and YCbCr tables as Pillow runs
        // them, so the decoded pixels are Pillow's exactly, and so is the preprocessing built on them.
        var golden = GoldenFile.Load("preprocess_rocket.bin.gz");
        RgbImage image = ImageDecoder.Load(GoldenFile.ImagePath("rocket.jpg"));
        Assert.Equal((640, 427), (image.Width, image.Height));
        PillowResizeTests.AssertBytesEqual(golden.Bytes("decoded"), image.Pixels, image.Width * 3, "rocket.jpg");

        var fromOurs = new float[3 * 256 * 256];
        var fromPillow = new float[3 * 256 * 256];
        Preprocessor.Run(image, PreprocessorTests.MobileVit, fromOurs);
        Preprocessor.Run(ImageDecoder.DecodeRgb(golden.Bytes("decoded"), 640, 427), PreprocessorTests.MobileVit, fromPillow);
        Assert.Equal(fromPillow, fromOurs);

        // The streaming route (MCU rows, only the crop's pixels) gives the same pixel_values.
        byte[] encoded = File.ReadAllBytes(GoldenFile.ImagePath("rocket.jpg"));
        using var stream = ImageDecoder.DecodeStreaming(encoded, PreprocessorTests.MobileVit);
        var streamed = new float[3 * 256 * 256];
        stream.Finish(streamed);
        Assert.Equal(fromPillow, streamed);
    }

    [Fact]
    public void PngHeaderClaimingHugeImageFailsFastWithoutAllocating()
    {
        byte[] png = TinyPng(100_000, 100_000);
        ImageDecoder.Decode(TinyPng(1, 1));   // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(png));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("100000x100000", e.Message);
        Assert.Contains("limit", e.Message);
        Assert.True(allocated < 256 * 1024, $"allocated {allocated} bytes before refusing");
    }

    [Fact]
    public void LimitIsConfigurable()
    {
        byte[] png = File.ReadAllBytes(GoldenFile.ImagePath("small.png"));   // 200x150 = 30000 pixels
        Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(png, new ImageLimits { MaxPixels = 29_999 }));
        Assert.Equal(200, ImageDecoder.Decode(png, new ImageLimits { MaxPixels = 30_000 }).Width);
        Assert.Equal((200, 150, "PNG"), ImageDecoder.ReadInfo(png));
        Assert.Equal("ImageLimits.MaxPixels is 0; it must be positive", Assert.Throws<AotVit.Runtime.InputException>(() => new ImageLimits { MaxPixels = 0 }).Message);
        Assert.Equal(89_478_485, ImageLimits.Default.MaxPixels);
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(10, 0)]
    public void ZeroDimensionIsRefused(int width, int height)
    {
        Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(TinyPng(width, height)));
    }

    [Fact]
    public void EmptyAndGarbageInputsAreRefused()
    {
        Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(Array.Empty<byte>()));
        Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(ReadOnlySpan<byte>.Empty));
        Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(SeededBytes.Generate(3, 4096)));
        Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(new byte[1000]));
        Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode("8BPS\0\u0001"u8.ToArray()));
        Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode("P6\n2 2\n255\n"u8.ToArray()));
        Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode("#?RADIANCE\n"u8.ToArray()));
        Assert.Throws<ArgumentNullException>(() => ImageDecoder.Decode((byte[])null!));
    }

    [Fact]
    public void DecodeRgbValidatesAndCopies()
    {
        var raw = new byte[] { 1, 2, 3, 4, 5, 6 };
        RgbImage image = ImageDecoder.DecodeRgb(raw, 2, 1);
        raw[0] = 99;
        Assert.Equal(1, image.Pixels[0]);
        Assert.Throws<ArgumentException>(() => ImageDecoder.DecodeRgb(raw, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageDecoder.DecodeRgb(raw, 0, 2));
        Assert.Throws<ArgumentException>(() => new RgbImage(2, 2, new byte[11]));
    }

    private static (int Differing, int Max, int[] Histogram) Compare(byte[] expected, byte[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var histogram = new int[256];
        int differing = 0, max = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            int d = Math.Abs(expected[i] - actual[i]);
            histogram[d]++;
            if (d != 0)
            {
                differing++;
                max = Math.Max(max, d);
            }
        }
        return (differing, max, histogram);
    }

    /// <summary>A valid PNG (8-bit RGB) whose IHDR claims width x height; the pixel data is a single empty row.</summary>
    internal static byte[] TinyPng(int width, int height)
    {
        using var stream = new MemoryStream();
        stream.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;   // bit depth
        ihdr[9] = 2;   // colour type RGB
        WriteChunk(stream, "IHDR", ihdr);
        // zlib stream of one filter byte + one black pixel: enough for a 1x1 image, far too little otherwise.
        WriteChunk(stream, "IDAT", [0x78, 0x01, 0x63, 0x60, 0x60, 0x60, 0x00, 0x00, 0x00, 0x04, 0x00, 0x01]);
        WriteChunk(stream, "IEND", []);
        return stream.ToArray();
    }

    private static void WriteChunk(Stream stream, string type, byte[] data)
    {
        var header = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        System.Text.Encoding.ASCII.GetBytes(type, 0, 4, header, 4);
        stream.Write(header);
        stream.Write(data);
        uint crc = Crc32(header.AsSpan(4), 0xFFFFFFFFu);
        crc = Crc32(data, crc) ^ 0xFFFFFFFFu;
        var trailer = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(trailer, crc);
        stream.Write(trailer);
    }

    private static uint Crc32(ReadOnlySpan<byte> data, uint crc)
    {
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }
        return crc;
    }
}
