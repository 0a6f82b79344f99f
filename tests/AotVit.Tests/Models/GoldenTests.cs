using AotVit.Runtime.Imaging;
using AotVit.Runtime.Weights;
using Xunit;
using Xunit.Abstractions;

namespace AotVit.Tests.Models;

/// <summary>
/// End-to-end against PyTorch: tools/reference.py (Debian python3-torch, our implementation of HF's ViTModel /
/// MobileViTForImageClassification) ran the same synthetic checkpoint (seed 0) on the sample images and wrote
/// tests/AotVit.Tests/data/golden/*.safetensors. Tolerance: 5e-5 max abs (a tanh
/// GELU or a wrong LayerNorm eps moves outputs by 3e-4 or more). Pixels must be bit-identical.
/// </summary>
[Trait("Category", "Golden")]
public sealed class ViTGoldenTests(ViTFixture fixture, ITestOutputHelper output) : IClassFixture<ViTFixture>
{
    private const float Tolerance = 5e-5f;

    public static TheoryData<string> Images => new() { "chelsea", "astronaut", "rocket", "photo_exif6", "phone_420_q85", "progressive" };

    /// <summary>JPEG photos (issue 15): the reference was fed Pillow's decode (load_image: exif_transpose + convert RGB).</summary>
    public static TheoryData<string> JpegPhotos => new() { "photo_exif6", "phone_420_q85", "progressive" };

    /// <summary>File -> ImageDecoder -> preprocessing -> model against PyTorch fed Pillow's decode of the same JPEG.
    /// Needs the Pillow-exact JPEG decoder of issue 15 (fails with the StbImageSharp decoder).</summary>
    [Theory]
    [Trait("Category", "GoldenJpeg")]
    [MemberData(nameof(JpegPhotos))]
    public void Jpeg_photo_file_matches_pytorch(string image)
    {
        using var golden = SafeTensorsFile.Open(Golden.File($"vit-base-patch32-224-in21k_{image}.safetensors"));
        string path = TestPaths.Data("images", image + ".jpg");
        var decoded = ImageDecoder.Load(path);
        var info = golden.GetInfo("decoded_rgb");
        Assert.Equal(((int)info.Shape[1], (int)info.Shape[0]), (decoded.Width, decoded.Height));
        var features = fixture.Model.Extract(path);
        float last = Golden.MaxAbsDiff(features.LastHiddenState, golden.GetFloats("last_hidden_state"));
        float pooled = Golden.MaxAbsDiff(features.PoolerOutput, golden.GetFloats("pooler_output"));
        output.WriteLine($"{image}.jpg: last_hidden_state max |Δ| = {last:E2}, pooler_output max |Δ| = {pooled:E2}");
        Assert.True(decoded.Pixels.AsSpan().SequenceEqual(golden.GetBytes("decoded_rgb")), $"{image}.jpg: decoded pixels differ from Pillow's");
        Assert.True(last <= Tolerance, $"last_hidden_state max abs error {last:E3} > {Tolerance:E1}");
        Assert.True(pooled <= Tolerance, $"pooler_output max abs error {pooled:E3} > {Tolerance:E1}");
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Embedding_matches_pytorch(string image)
    {
        using var golden = SafeTensorsFile.Open(Golden.File($"vit-base-patch32-224-in21k_{image}.safetensors"));
        var embedding = fixture.Model.ExtractPixels(golden.GetFloats("pixel_values"));
        float last = Golden.MaxAbsDiff(embedding.LastHiddenState, golden.GetFloats("last_hidden_state"));
        float pooled = Golden.MaxAbsDiff(embedding.PoolerOutput, golden.GetFloats("pooler_output"));
        output.WriteLine($"{image}: last_hidden_state max |Δ| = {last:E2}, pooler_output max |Δ| = {pooled:E2}");
        Assert.True(last <= Tolerance, $"last_hidden_state max abs error {last:E3} > {Tolerance:E1}");
        Assert.True(pooled <= Tolerance, $"pooler_output max abs error {pooled:E3} > {Tolerance:E1}");
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Preprocessing_is_bit_exact_from_identical_decoded_pixels(string image)
    {
        using var golden = SafeTensorsFile.Open(Golden.File($"vit-base-patch32-224-in21k_{image}.safetensors"));
        var decoded = golden.GetInfo("decoded_rgb");
        var rgb = new RgbImage((int)decoded.Shape[1], (int)decoded.Shape[0], golden.GetBytes(decoded).ToArray());
        var pixels = fixture.Model.Preprocess(rgb);
        Assert.True(pixels.AsSpan().SequenceEqual(golden.GetFloats("pixel_values")), "pixel_values differ from the HF/PIL pipeline");
    }

    [Fact]
    public void Png_decodes_to_the_pixels_PIL_decodes()
    {
        using var golden = SafeTensorsFile.Open(Golden.File("vit-base-patch32-224-in21k_chelsea.safetensors"));
        var image = ImageDecoder.Load(TestPaths.Data("images", "chelsea.png"));
        Assert.True(image.Pixels.AsSpan().SequenceEqual(golden.GetBytes("decoded_rgb")));
        var fromFile = fixture.Model.Extract(TestPaths.Data("images", "chelsea.png"));
        Assert.True(Golden.MaxAbsDiff(fromFile.PoolerOutput, golden.GetFloats("pooler_output")) <= Tolerance);
    }

    [Fact]
    public void Batch_equals_single_runs()
    {
        var images = new[] { "chelsea", "astronaut", "rocket" };
        var pixels = new List<float>();
        var singles = new List<Features>();
        foreach (var name in images)
        {
            using var golden = SafeTensorsFile.Open(Golden.File($"vit-base-patch32-224-in21k_{name}.safetensors"));
            var px = golden.GetFloats("pixel_values").ToArray();
            pixels.AddRange(px);
            singles.Add(fixture.Model.ExtractPixels(px));
        }
        var batch = fixture.Model.ExtractPixelsBatch(images.Length, pixels.ToArray());
        for (int i = 0; i < images.Length; i++)
        {
            Assert.True(Golden.MaxAbsDiff(batch[i].LastHiddenState, singles[i].LastHiddenState) <= 1e-5f);
            Assert.True(Golden.MaxAbsDiff(batch[i].PoolerOutput, singles[i].PoolerOutput) <= 1e-5f);
        }
    }
}

[Trait("Category", "Golden")]
public sealed class MobileViTGoldenTests(MobileViTFixture fixture, ITestOutputHelper output) : IClassFixture<MobileViTFixture>
{
    private const float Tolerance = 5e-5f;

    public static TheoryData<string> Images => new() { "chelsea", "coffee", "rocket", "small", "photo_exif6", "phone_420_q85", "progressive" };

    public static TheoryData<string> JpegPhotos => ViTGoldenTests.JpegPhotos;

    /// <summary>File -> ImageClassifier.Classify against PyTorch fed Pillow's decode of the same JPEG (issue 15; fails
    /// with the StbImageSharp decoder).</summary>
    [Theory]
    [Trait("Category", "GoldenJpeg")]
    [MemberData(nameof(JpegPhotos))]
    public void Jpeg_photo_file_matches_pytorch(string image)
    {
        using var golden = SafeTensorsFile.Open(Golden.File($"mobilevit-small_{image}.safetensors"));
        string path = TestPaths.Data("images", image + ".jpg");
        var decoded = ImageDecoder.Load(path);
        var result = fixture.Model.Classify(path, top: 5);
        float diff = Golden.MaxAbsDiff(result.Logits, golden.GetFloats("logits"));
        output.WriteLine($"{image}.jpg: logits max |Δ| = {diff:E2}; top-5 {string.Join(", ", result.Top.Select(p => p.ClassIndex))} (PyTorch {string.Join(", ", Top5(golden))})");
        Assert.True(decoded.Pixels.AsSpan().SequenceEqual(golden.GetBytes("decoded_rgb")), $"{image}.jpg: decoded pixels differ from Pillow's");
        Assert.True(diff <= Tolerance, $"logits max abs error {diff:E3} > {Tolerance:E1}");
        Assert.Equal(Top5(golden), result.Top.Select(p => p.ClassIndex).ToArray());
    }

    private static int[] Top5(SafeTensorsFile golden) =>
        golden.Metadata["top5"].Trim('[', ']').Split(',').Select(s => int.Parse(s.Trim())).ToArray();

    [Theory]
    [MemberData(nameof(Images))]
    public void Logits_match_pytorch(string image)
    {
        using var golden = SafeTensorsFile.Open(Golden.File($"mobilevit-small_{image}.safetensors"));
        var result = fixture.Model.ClassifyPixelsBatch(1, golden.GetFloats("pixel_values"), top: 5)[0];
        float diff = Golden.MaxAbsDiff(result.Logits, golden.GetFloats("logits"));
        output.WriteLine($"{image}: logits max |Δ| = {diff:E2}; top-5 {string.Join(", ", result.Top.Select(p => $"{p.ClassIndex} {p.Label} {p.Probability:P1}"))}");
        Assert.True(diff <= Tolerance, $"logits max abs error {diff:E3} > {Tolerance:E1}");
        Assert.Equal(Top5(golden), result.Top.Select(p => p.ClassIndex).ToArray());
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Preprocessing_is_bit_exact_from_identical_decoded_pixels(string image)
    {
        using var golden = SafeTensorsFile.Open(Golden.File($"mobilevit-small_{image}.safetensors"));
        var decoded = golden.GetInfo("decoded_rgb");
        var rgb = new RgbImage((int)decoded.Shape[1], (int)decoded.Shape[0], golden.GetBytes(decoded).ToArray());
        var pixels = fixture.Model.Preprocess(rgb);
        Assert.True(pixels.AsSpan().SequenceEqual(golden.GetFloats("pixel_values")), "pixel_values differ from the HF/PIL pipeline");
    }

    [Fact]
    public void Batch_of_two_matches_pytorch_batch()
    {
        using var batchGolden = SafeTensorsFile.Open(Golden.File("mobilevit-small_batch.safetensors"));
        var images = new[] { "chelsea", "coffee" }
            .Select(n => ImageDecoder.Load(TestPaths.Data("images", n + ".png"))).ToList();
        var results = fixture.Model.ClassifyBatch(images, top: 5);
        var expected = batchGolden.GetFloats("logits");
        for (int i = 0; i < 2; i++)
            Assert.True(Golden.MaxAbsDiff(results[i].Logits, expected.AsSpan(i * 1000, 1000)) <= Tolerance);
    }

    [Fact]
    public void Labels_come_from_the_hub_config()
    {
        Assert.Equal(1000, fixture.Model.Labels.Count);
        Assert.Equal("tench, Tinca tinca", fixture.Model.Labels[0]);
        Assert.Equal("tabby, tabby cat", fixture.Model.Labels[281]);
        Assert.Equal("toilet tissue, toilet paper, bathroom tissue", fixture.Model.Labels[999]);
    }
}

[Trait("Category", "Golden")]
public sealed class SyntheticCheckpointTests
{
    [Theory]
    [InlineData("vit-base-patch32-224-in21k_chelsea.safetensors")]
    [InlineData("mobilevit-small_chelsea.safetensors")]
    public void Csharp_synthetic_checkpoint_equals_the_reference_one(string goldenFile)
    {
        using var golden = SafeTensorsFile.Open(Golden.File(goldenFile));
        var entry = ModelCatalog.Find(golden.Metadata["model"]);
        var specs = WeightSources.Specs(entry.Descriptor);
        using var calibration = entry.Descriptor.Name == "mobilevit-small"
            ? SafeTensorsFile.Open(TestPaths.Repo("src", "Graphs", "mobilevit-small", "synthetic-bn-calibration.safetensors")) : null;
        var tensors = SyntheticWeights.Generate(specs, 0, calibration);
        double expected = double.Parse(golden.Metadata["weights_fingerprint"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(expected, SyntheticFingerprint.Of(tensors), 1e-6 * Math.Abs(expected));
    }
}
