// StreamingPreprocessor: the preprocessed tensor from stored rows given in bands, for every EXIF orientation, equals
// Preprocessor.Run on the image transposed as ImageOps.exif_transpose does (the reference transpose below is the
// mapping read off Pillow 9.4's Image.transpose), bit for bit, with BILINEAR and BICUBIC plans; and the stored region
// it reports is all it reads. With BICUBIC it is also checked against Pillow itself: oriented_bicubic.bin.gz holds
// Pillow's transpose + BICUBIC resize of seeded images in all 8 orientations (tools/pil_goldens.py).
using AotVit.Runtime;
using AotVit.Runtime.Imaging;
using Xunit;

namespace AotVit.Tests.Imaging;

[Trait("Category", "Imaging")]
public sealed class StreamingPreprocessorTests
{
    /// <summary>The oriented image: out(x', y') = in(sx, sy) with Pillow's FLIP_LEFT_RIGHT (2), ROTATE_180 (3),
    /// FLIP_TOP_BOTTOM (4), TRANSPOSE (5), ROTATE_270 (6), TRANSVERSE (7), ROTATE_90 (8).</summary>
    internal static RgbImage Orient(RgbImage image, int orientation)
    {
        int w = image.Width, h = image.Height;
        bool transpose = orientation >= 5;
        int ow = transpose ? h : w, oh = transpose ? w : h;
        var pixels = new byte[ow * oh * 3];
        for (int y = 0; y < oh; y++)
        {
            for (int x = 0; x < ow; x++)
            {
                (int sx, int sy) = orientation switch
                {
                    1 => (x, y),
                    2 => (w - 1 - x, y),
                    3 => (w - 1 - x, h - 1 - y),
                    4 => (x, h - 1 - y),
                    5 => (y, x),
                    6 => (y, h - 1 - x),
                    7 => (w - 1 - y, h - 1 - x),
                    _ => (w - 1 - y, x),
                };
                for (int c = 0; c < 3; c++) pixels[(y * ow + x) * 3 + c] = image.Pixels[(sy * w + sx) * 3 + c];
            }
        }
        return new RgbImage(ow, oh, pixels);
    }

    private static float[] Streamed(RgbImage image, PreprocessPlan plan, int orientation, int band, bool poisonOutsideRegion)
    {
        using var s = new StreamingPreprocessor(plan, image.Width, image.Height, orientation);
        var (x0, x1, y0, y1) = s.StoredRegion;
        byte[] rows = image.Pixels;
        if (poisonOutsideRegion)
        {
            // Pixels outside the region must not matter: overwrite them.
            rows = (byte[])rows.Clone();
            for (int y = 0; y < image.Height; y++)
                for (int x = 0; x < image.Width; x++)
                    if (x < x0 || x >= x1 || y < y0 || y >= y1)
                        for (int c = 0; c < 3; c++) rows[(y * image.Width + x) * 3 + c] = (byte)(x * 7 + y * 13 + c);
        }
        for (int y = 0; y < image.Height; y += band)
        {
            int count = Math.Min(band, image.Height - y);
            s.OnRows(y, count, rows.AsSpan(y * image.Width * 3), image.Width * 3);
        }
        var output = new float[3 * s.OutputHeight * s.OutputWidth];
        s.Finish(output);
        return output;
    }

    public static TheoryData<int, int, int> Sizes() => new()
    {
        { 37, 23, 1 }, { 23, 37, 2 }, { 640, 480, 3 }, { 480, 640, 4 }, { 300, 200, 5 }, { 200, 300, 6 },
        { 224, 224, 7 }, { 1, 1, 8 }, { 5, 300, 9 }, { 288, 400, 10 }, { 400, 288, 11 }, { 100, 60, 12 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Every_orientation_and_plan_matches_transposing_then_preprocessing(int width, int height, int seed)
    {
        var image = new RgbImage(width, height, SeededBytes.Generate((ulong)seed, width * height * 3));
        var random = new Random(seed);
        var plans = new List<PreprocessPlan>
        {
            PreprocessorTests.Vit,
            PreprocessorTests.MobileVit,
            new(new ResizeMode.ShortestEdge(random.Next(8, 90)), (random.Next(4, 120), random.Next(4, 120)), 1 / 255.0,
                new ChannelNormalization([0.4, 0.5, 0.6], [0.2, 0.3, 0.4]), flipChannelOrder: random.Next(2) == 0),
            new(new ResizeMode.Exact(random.Next(1, 70), random.Next(1, 70)), null, null, null, false),
            new(new ResizeMode.Exact(height, width), (Math.Max(1, height / 2), width + 3), 1 / 255.0, null, false),   // no resize at all
            PreprocessorTests.Deit,
            new(new ResizeMode.ShortestEdge(random.Next(8, 90), ResampleFilter.Bicubic), (random.Next(4, 120), random.Next(4, 120)),
                1 / 255.0, new ChannelNormalization([0.4, 0.5, 0.6], [0.2, 0.3, 0.4]), flipChannelOrder: random.Next(2) == 0),
            new(new ResizeMode.Exact(random.Next(1, 70), random.Next(1, 70), ResampleFilter.Bicubic), null, null, null, false),
        };
        foreach (PreprocessPlan plan in plans)
        {
            for (int orientation = 1; orientation <= 8; orientation++)
            {
                RgbImage oriented = Orient(image, orientation);
                PreprocessPlan effective = plan.Resize is ResizeMode.Exact e && e.Height == height && e.Width == width && orientation >= 5
                    ? plan with { }   // the "no resize" plan resizes the transposed image: still a valid comparison
                    : plan;
                var (_, h, w) = Preprocessor.OutputSize(effective, oriented.Width, oriented.Height);
                var expected = new float[3 * h * w];
                Preprocessor.Run(oriented, effective, expected);
                foreach (int band in new[] { 1, 7, height })
                {
                    float[] actual = Streamed(image, effective, orientation, band, poisonOutsideRegion: band == 7);
                    Assert.True(expected.AsSpan().SequenceEqual(actual), $"{width}x{height} orientation {orientation} band {band} plan {effective}");
                }
            }
        }
    }

    private static readonly Lazy<GoldenFile> Oriented = new(() => GoldenFile.Load("oriented_bicubic.bin.gz"));

    public static TheoryData<int, int> OrientedCases()
    {
        var data = new TheoryData<int, int>();
        int images = Oriented.Value.Meta.GetProperty("images").GetArrayLength();
        for (int k = 0; k < images; k++)
            for (int orientation = 1; orientation <= 8; orientation++)
                data.Add(k, orientation);
        return data;
    }

    [Theory]
    [MemberData(nameof(OrientedCases))]
    public void Bicubic_streamed_from_stored_rows_equals_Pillow_transpose_then_resize(int index, int orientation)
    {
        var meta = Oriented.Value.Meta.GetProperty("images")[index];
        int w = meta.GetProperty("w").GetInt32(), h = meta.GetProperty("h").GetInt32();
        byte[] pixels = SeededBytes.Generate((ulong)meta.GetProperty("seed").GetInt32(), w * h * 3);
        Assert.Equal(meta.GetProperty("input_sha256").GetString(), SeededBytes.Sha256(pixels));
        var image = new RgbImage(w, h, pixels);
        var oriented = meta.GetProperty("orientations")[orientation - 1];

        // Exact size, no value mapping: the output floats are Pillow's bytes.
        int ew = meta.GetProperty("exact_w").GetInt32(), eh = meta.GetProperty("exact_h").GetInt32();
        byte[] exact = Oriented.Value.Bytes($"image{index}.o{orientation}.exact");
        var exactPlan = new PreprocessPlan(new ResizeMode.Exact(eh, ew, ResampleFilter.Bicubic), null, null, null, false);
        foreach (int band in new[] { 1, 5, h })
        {
            AssertWindow(exact, ew, eh, 0, 0, Streamed(image, exactPlan, orientation, band, poisonOutsideRegion: band == 5), ew, eh,
                         $"image {index} orientation {orientation} exact, band {band}");
        }

        // Shortest edge, then a centre crop one row shorter and two columns wider than the resized image (zero padding).
        int edge = meta.GetProperty("shortest_edge").GetInt32();
        int sw = oriented.GetProperty("shortest_edge_w").GetInt32(), sh = oriented.GetProperty("shortest_edge_h").GetInt32();
        byte[] shortEdge = Oriented.Value.Bytes($"image{index}.o{orientation}.shortest_edge");
        int ch = Math.Max(1, sh - 1), cw = sw + 2;
        var cropPlan = new PreprocessPlan(new ResizeMode.ShortestEdge(edge, ResampleFilter.Bicubic), (ch, cw), null, null, false);
        int top = (sh - ch) >> 1, left = (sw - cw) >> 1;
        foreach (int band in new[] { 1, 5, h })
        {
            AssertWindow(shortEdge, sw, sh, top, left, Streamed(image, cropPlan, orientation, band, poisonOutsideRegion: band == 5), cw, ch,
                         $"image {index} orientation {orientation} shortest edge {edge}, crop {ch}x{cw}, band {band}");
        }
        var whole = new float[3 * ch * cw];
        Preprocessor.Run(Orient(image, orientation), cropPlan, whole);
        AssertWindow(shortEdge, sw, sh, top, left, whole, cw, ch, $"image {index} orientation {orientation} Preprocessor.Run");
    }

    /// <summary>output [3, outH, outW] equals resized[y + top, x + left, c] (HWC bytes), and 0 outside the resized image.</summary>
    private static void AssertWindow(byte[] resized, int width, int height, int top, int left, float[] output, int outW, int outH, string what)
    {
        Assert.Equal(3 * outW * outH, output.Length);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < outH; y++)
                for (int x = 0; x < outW; x++)
                {
                    int sy = y + top, sx = x + left;
                    float expected = sy >= 0 && sy < height && sx >= 0 && sx < width ? resized[(sy * width + sx) * 3 + c] : 0f;
                    float actual = output[(c * outH + y) * outW + x];
                    if (expected != actual)
                        Assert.Fail($"{what}: channel {c} row {y} column {x}: Pillow {expected}, streamed {actual}");
                }
    }

    [Fact]
    public void The_region_is_what_the_crop_needs_and_rows_outside_it_may_be_skipped()
    {
        // A 4:3 photo through MobileViT: 4032x3024 -> 384x288 -> centre 256x256 keeps resized columns 64..320.
        using var s = new StreamingPreprocessor(PreprocessorTests.MobileVit, 4032, 3024);
        var (x0, x1, y0, y1) = s.StoredRegion;
        Assert.InRange(x0, 620, 700);
        Assert.InRange(x1, 3330, 3410);
        Assert.InRange(y0, 150, 200);
        Assert.InRange(y1, 2820, 2880);
        // The same photo stored landscape with orientation 6 is a portrait: 3024x4032 -> 288x384 -> 256x256 keeps
        // oriented columns 16..272 (stored rows, reversed) and rows 64..320 (stored columns).
        using var r = new StreamingPreprocessor(PreprocessorTests.MobileVit, 4032, 3024, orientation: 6);
        Assert.InRange(r.StoredRegion.X0, 620, 700);
        Assert.InRange(r.StoredRegion.X1, 3330, 3410);
        Assert.InRange(r.StoredRegion.Y0, 120, 200);
        Assert.InRange(r.StoredRegion.Y1, 2820, 2900);

        var image = new RgbImage(64, 48, SeededBytes.Generate(5, 64 * 48 * 3));
        using var t = new StreamingPreprocessor(new PreprocessPlan(new ResizeMode.ShortestEdge(24), (8, 8), 1 / 255.0, null, false), 64, 48);
        var (_, _, ty0, ty1) = t.StoredRegion;
        Assert.True(ty0 > 0 && ty1 < 48);
        t.OnRows(ty0, ty1 - ty0, image.Pixels.AsSpan(ty0 * 64 * 3), 64 * 3);   // only the rows it needs
        Assert.True(t.HasAllRows);
        t.Finish(new float[3 * 8 * 8]);
    }

    [Fact]
    public void The_reference_transpose_is_the_one_the_decoder_applies()
    {
        // ExifOrientation.Apply is checked against Pillow's exif_transpose by the format goldens; the streaming
        // mapping is checked against Orient above: both must be the same permutation.
        var image = new RgbImage(5, 3, SeededBytes.Generate(9, 5 * 3 * 3));
        for (int o = 1; o <= 8; o++)
        {
            RgbImage expected = ExifOrientation.Apply(image, (ImageOrientation)o), actual = Orient(image, o);
            Assert.Equal((expected.Width, expected.Height), (actual.Width, actual.Height));
            Assert.Equal(expected.Pixels, actual.Pixels);
        }
    }

    [Fact]
    public void Misuse_is_refused()
    {
        using var s = new StreamingPreprocessor(PreprocessorTests.Vit, 10, 10);
        var row = new byte[30];
        s.OnRows(0, 1, row, 30);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.OnRows(0, 1, row, 30));   // rows go forward only
        Assert.Throws<ArgumentOutOfRangeException>(() => s.OnRows(5, 6, new byte[180], 30));   // past the end
        Assert.Throws<ArgumentException>(() => s.OnRows(1, 2, new byte[59], 30));
        Assert.Throws<InvalidOperationException>(() => s.Finish(new float[3 * 224 * 224]));   // rows missing
        Assert.Throws<ArgumentOutOfRangeException>(() => new StreamingPreprocessor(PreprocessorTests.Vit, 10, 10, orientation: 9));
        Assert.Throws<LimitExceededException>(() => new StreamingPreprocessor(PreprocessorTests.MobileVit, 1, 4000));
    }
}
