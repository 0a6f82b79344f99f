// One test per bug the fuzz targets found (docs/FUZZING.md, "Bugs found"), named after the bug.
using System.Diagnostics;
using AotVit.Fuzzing;
using AotVit.Runtime;
using AotVit.Runtime.Imaging;
using AotVit.Tests.Models;
using Xunit;

namespace AotVit.Tests.Fuzz;

[Trait("Category", "Fuzz")]
public sealed class FoundBugTests(MobileViTFixture mobileViT) : IClassFixture<MobileViTFixture>
{
    [Fact]
    public void Png_zlib_stream_asking_for_a_preset_dictionary_is_a_decode_error()
    {
        // Found by the image target (index 427 of seed 7 once data/images held the golden JPEG photos): a zlib header
        // with FDICT set makes zlib return Z_NEED_DICT, which the BCL throws as its internal ZLibException (an
        // IOException), not InvalidDataException; it escaped PngDecoder. Pillow reports a broken data stream.
        byte[] zlib = [0x78, 0x20, 0, 0, 0, 1, 0x63, 0, 0, 0, 0, 0];   // (0x78·256 + 0x20) % 31 == 0, FDICT bit set
        byte[] png = ImageTarget.Png(4, 4, colorType: 2, zlib);
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(png));
        Assert.Contains("broken data stream", e.Message);
    }

    [Fact]
    public void Png_zlib_bomb_costs_no_more_than_its_image()
    {
        // 64x64 RGB needs 64·(1 + 192) = 12352 inflated bytes; this ~65 KB file inflated to 64 MiB in stb. Pillow
        // stops inflating at the last row (ZipDecode.c) and decodes it (all black), and so does PngDecoder now:
        // the rest of the stream is never inflated, so time and memory stay those of a 64x64 image.
        byte[] bomb = ImageTarget.Png(64, 64, colorType: 2, ImageTarget.ZlibOfZeros(64 << 20));
        Assert.True(bomb.Length < 100_000);
        ImageDecoder.Decode(bomb);   // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        RgbImage image = ImageDecoder.Decode(bomb);
        Assert.True(clock.ElapsedMilliseconds < 500, $"decoding took {clock.ElapsedMilliseconds} ms");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "decoding the bomb allocated more than 1 MiB");
        Assert.Equal((64, 64), (image.Width, image.Height));
        Assert.All(image.Pixels, b => Assert.Equal(0, b));
    }

    [Fact]
    public void Png_whose_stream_inflates_to_exactly_its_size_still_decodes()
    {
        byte[] png = ImageTarget.Png(64, 48, colorType: 2, ImageTarget.ZlibOfZeros(48 * (1 + 64 * 3)));
        var image = ImageDecoder.Decode(png);
        Assert.Equal((64, 48), (image.Width, image.Height));
    }

    [Fact]
    public void Png_size_bomb_is_refused_by_the_pixel_limit()
    {
        byte[] png = ImageTarget.Png(100_000, 100_000, colorType: 2, ImageTarget.ZlibOfZeros(16));
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(png));
        Assert.Contains("ImageLimits.MaxPixels", e.Message);
    }

    [Fact]
    public void Encoded_input_above_MaxEncodedBytes_is_refused()
    {
        byte[] png = ImageTarget.Png(4, 4, colorType: 2, ImageTarget.ZlibOfZeros(4 * 13));
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(png, new ImageLimits { MaxEncodedBytes = 16 }));
        Assert.Contains("ImageLimits.MaxEncodedBytes", e.Message);
        Assert.Throws<ImageDecodeException>(() => ImageDecoder.ReadInfo(png, new ImageLimits { MaxEncodedBytes = 16 }));
    }

    [Fact]
    public void Extreme_aspect_ratio_is_refused_instead_of_resizing_to_a_gigabyte()
    {
        // MobileViT: shortest edge 288 made 1x4000 a 288x1152000 intermediate (1 GB, 13 s) before its 256² crop,
        // and 1x65535 overflowed the buffer size (OverflowException).
        var clock = Stopwatch.StartNew();
        foreach (var (w, h) in new[] { (1, 4000), (4000, 1), (1, 65535) })
        {
            var image = new RgbImage(w, h, new byte[w * h * 3]);
            var e = Assert.Throws<LimitExceededException>(() => mobileViT.Model.Preprocess(image));
            Assert.Contains("aspect ratio is too extreme", e.Message);
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        // Wide but reasonable images still work: 4000x30 → 38400x288 intermediate.
        Assert.Equal(mobileViT.Model.InputFloatsPerImage, mobileViT.Model.Preprocess(new RgbImage(4000, 30, new byte[4000 * 30 * 3])).Length);
    }

    [Fact]
    public void Negative_or_huge_batch_is_an_input_error_not_OverflowException()
    {
        // ClassifyPixelsBatch allocated new float[batch · 1000] before validating: -1 and int.MaxValue threw
        // OverflowException; 1e6 allocated 4 GB before the pixel-length check refused it.
        var model = mobileViT.Model;
        foreach (int batch in new[] { -1, 0, int.MinValue })
            Assert.Throws<InputException>(() => model.ClassifyPixelsBatch(batch, new float[1]));
        var e = Assert.Throws<LimitExceededException>(() => model.ClassifyPixelsBatch(int.MaxValue, new float[1]));
        Assert.Contains("MaxBatchPerCall", e.Message);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<ArgumentException>(() => model.ClassifyPixelsBatch(1000, new float[model.InputFloatsPerImage]));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "allocated outputs for a request it then refused");
        Assert.Throws<LimitExceededException>(() => model.Run(1025, new float[1], new float[1]));
    }

    [Fact]
    public void ClassifyBatch_and_ExtractBatch_of_null_are_ArgumentNullException_not_NullReferenceException()
    {
        Assert.Throws<ArgumentNullException>(() => mobileViT.Model.ClassifyBatch(null!));
        Assert.Throws<ArgumentNullException>(() => mobileViT.Model.ClassifyBatch([new RgbImage(2, 2, new byte[12]), null!]));
    }

    [Fact]
    public void TopK_rejects_logits_of_the_wrong_length()
    {
        // 999 logits were ranked silently (wrong probabilities); 1001 logits indexed past Labels for k > 1000.
        var model = mobileViT.Model;
        Assert.Throws<ArgumentException>(() => model.TopK(new float[999], 5));
        Assert.Throws<ArgumentException>(() => model.TopK(new float[1001], 1001));
        Assert.Throws<InputException>(() => model.TopK(new float[1000], -1));
        Assert.Equal(5, model.TopK(new float[1000], 5).Count);
    }

    [Fact]
    public void MaxBatchPerCall_must_be_positive()
    {
        var e = Assert.Throws<InputException>(() => ImageClassifier.CreateSynthetic("mobilevit-small", new ModelOptions { MaxBatchPerCall = 0 }));
        Assert.Equal("ModelOptions.MaxBatchPerCall is 0; it must be at least 1", e.Message);
    }
}
