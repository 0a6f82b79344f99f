// Every compiled model end to end against PyTorch: tools/reference_family.py builds each model from its folder's
// config.json (and the slow image processor of its model_type from preprocessor_config.json), runs the same seeded
// synthetic checkpoint (seed 0, BatchNorm statistics from the folder's calibration file) on sample PNGs and writes
// data/golden/<model>_<image>.safetensors: the outputs, and SHA-256 digests of the decoded, resized and preprocessed
// pixels in the metadata. Here the C# synthetic checkpoint runs the same images from the files: pixels must be
// bit-identical (equal digests) and outputs within 5e-5 max abs. The seed models' own goldens are in GoldenTests.cs.
using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using AotVit.Runtime.Imaging;
using AotVit.Runtime.Model;
using AotVit.Runtime.Weights;
using Xunit;
using Xunit.Abstractions;

namespace AotVit.Tests.Models;

/// <summary>One synthetic (seed 0) instance per model, built on first use and shared by the tests of a class.</summary>
public sealed class FamilyFixture : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<VisionModel>> _models = new(StringComparer.Ordinal);

    public VisionModel Get(string name) => _models.GetOrAdd(name, n => new Lazy<VisionModel>(() => Create(n))).Value;

    private static VisionModel Create(string name)
    {
        var options = new ModelOptions { Threads = 2 };
        return ModelCatalog.Find(name).Kind == ModelKind.FeatureExtractor
            ? FeatureExtractor.CreateSynthetic(name, options)
            : ImageClassifier.CreateSynthetic(name, options);
    }

    public void Dispose()
    {
        foreach (var model in _models.Values)
        {
            if (model.IsValueCreated) model.Value.Dispose();
        }
    }
}

[Trait("Category", "Golden")]
public sealed class FamilyGoldenTests(FamilyFixture fixture, ITestOutputHelper output) : IClassFixture<FamilyFixture>
{
    private const float Tolerance = 5e-5f;

    /// <summary>The seed models, whose goldens tools/reference.py writes and GoldenTests.cs checks.</summary>
    private static readonly string[] Seeds = ["vit-base-patch32-224-in21k", "mobilevit-small"];

    /// <summary>Every other compiled model: tools/reference_family.py writes its goldens, on these images.</summary>
    private static readonly string[] Models =
        ModelCatalog.All.Select(e => e.Name).Where(n => !Seeds.Contains(n)).ToArray();

    private static readonly string[] Images = ["chelsea", "coffee", "astronaut"];

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var model in Models)
        {
            foreach (var image in Images) data.Add(model, image);
        }
        return data;
    }

    public static TheoryData<string> ModelNames() => new(Models);

    private static SafeTensorsFile OpenGolden(string model, string image) =>
        SafeTensorsFile.Open(Golden.File($"{model}_{image}.safetensors"));

    private static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static int[] JsonInts(string json) => JsonSerializer.Deserialize<int[]>(json)!;

    /// <summary>The outputs in the order the golden file holds them (HF's output names).</summary>
    private static float[][] RunOutputs(VisionModel model, float[] pixels)
    {
        if (model is ImageClassifier classifier) return [classifier.ClassifyPixelsBatch(1, pixels)[0].Logits];
        var features = ((FeatureExtractor)model).ExtractPixels(pixels);
        return features.PoolerOutput is null ? [features.LastHiddenState] : [features.LastHiddenState, features.PoolerOutput];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Preprocessing_is_bit_exact(string modelName, string image)
    {
        using var golden = OpenGolden(modelName, image);
        var model = fixture.Get(modelName);
        var decoded = model.LoadImage(TestPaths.Data("images", image + ".png"));
        Assert.Equal(JsonInts(golden.Metadata["decoded_rgb_shape"]), new[] { decoded.Height, decoded.Width, 3 });
        Assert.True(Sha256(decoded.Pixels) == golden.Metadata["decoded_rgb_sha256"], "decoded pixels differ from PIL's");

        // The resize alone (size from the golden, filter from the compiled plan): localises a pixel_values mismatch.
        int[] resizedShape = JsonInts(golden.Metadata["resized_rgb_shape"]);
        var filter = model.Plan.Resize?.Filter ?? throw new InvalidOperationException($"{modelName} has no resize");
        var resized = PillowResize.Resize(decoded, resizedShape[1], resizedShape[0], filter);
        Assert.True(Sha256(resized.Pixels) == golden.Metadata["resized_rgb_sha256"],
                    $"{ResampleFilters.Name(filter)} resize to {resizedShape[0]}x{resizedShape[1]} differs from PIL's");

        var pixels = model.Preprocess(decoded);
        Assert.Equal(JsonInts(golden.Metadata["pixel_values_shape"]).Aggregate(1, (a, b) => a * b), pixels.Length);
        Assert.True(Sha256(MemoryMarshal.AsBytes(pixels.AsSpan())) == golden.Metadata["pixel_values_sha256"],
                    $"pixel_values differ from {golden.Metadata["preprocessing"]}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Outputs_match_pytorch(string modelName, string image)
    {
        using var golden = OpenGolden(modelName, image);
        var model = fixture.Get(modelName);
        var pixels = model.PreprocessFile(TestPaths.Data("images", image + ".png"));
        var outputs = RunOutputs(model, pixels);
        var names = model.Descriptor.Outputs.Select(o => o.Name).ToArray();
        Assert.Equal(names.Length, outputs.Length);
        for (int i = 0; i < names.Length; i++)
        {
            float diff = Golden.MaxAbsDiff(outputs[i], golden.GetFloats(names[i]));
            output.WriteLine($"{modelName} {image}: {names[i]} max |Δ| = {diff:E2}");
            Assert.True(diff <= Tolerance, $"{modelName} {image}: {names[i]} max abs error {diff:E3} > {Tolerance:E1}");
        }
        if (model is ImageClassifier classifier)
        {
            var top = classifier.TopK(outputs[0], 5).Select(p => p.ClassIndex).ToArray();
            Assert.Equal(JsonInts(golden.Metadata["top5"]), top);
        }
    }

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void A_batch_of_all_images_matches_pytorch(string modelName)
    {
        var model = fixture.Get(modelName);
        var images = Images.Select(i => model.LoadImage(TestPaths.Data("images", i + ".png"))).ToList();
        var pixels = model.PreprocessBatch(images);
        var outputs = model.Descriptor.Outputs;
        var results = outputs.Select(o => new float[images.Count * o.FloatsPerImage]).ToArray();
        model.Run(images.Count, pixels, results[0], results.Length > 1 ? results[1] : default);
        for (int i = 0; i < Images.Length; i++)
        {
            using var golden = OpenGolden(modelName, Images[i]);
            for (int o = 0; o < outputs.Count; o++)
            {
                int n = outputs[o].FloatsPerImage;
                float diff = Golden.MaxAbsDiff(results[o].AsSpan(i * n, n), golden.GetFloats(outputs[o].Name));
                Assert.True(diff <= Tolerance, $"{modelName} batch item {i} ({Images[i]}) {outputs[o].Name}: max abs error {diff:E3} > {Tolerance:E1}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void Csharp_synthetic_checkpoint_equals_the_reference_one(string modelName)
    {
        using var golden = OpenGolden(modelName, Images[0]);
        var entry = ModelCatalog.Find(modelName);
        string calibrationPath = TestPaths.Repo("src", "Graphs", modelName, "synthetic-bn-calibration.safetensors");
        Assert.Equal(golden.Metadata.ContainsKey("calibration"), File.Exists(calibrationPath));
        using var calibration = File.Exists(calibrationPath) ? SafeTensorsFile.Open(calibrationPath) : null;
        var tensors = SyntheticWeights.Generate(WeightSources.Specs(entry.Descriptor), 0, calibration);
        double expected = double.Parse(golden.Metadata["weights_fingerprint"], CultureInfo.InvariantCulture);
        Assert.Equal(expected, SyntheticFingerprint.Of(tensors), 1e-6 * Math.Abs(expected));
        // The compiled-in calibration is the one in the folder: no "no BatchNorm calibration" warning.
        Assert.Empty(fixture.Get(modelName).Warnings);
    }

    [Fact]
    public void Every_compiled_model_has_golden_files()
    {
        var missing = ModelCatalog.All
            .Where(e => Directory.GetFiles(TestPaths.Data("golden"), e.Name + "_*.safetensors").Length < 2)
            .Select(e => e.Name).ToList();
        Assert.True(missing.Count == 0, "compiled models without goldens (run tools/reference_family.py --models ...): " + string.Join(", ", missing));
    }
}

/// <summary>The reference scripts' weights_fingerprint: Σ over tensors (ordinal name order) of Σ_i value_i·(1 + i mod 7), float64.</summary>
internal static class SyntheticFingerprint
{
    public static double Of(Dictionary<string, float[]> tensors)
    {
        double total = 0;
        foreach (var name in tensors.Keys.OrderBy(n => n, StringComparer.Ordinal))
        {
            var t = tensors[name];
            double sum = 0;
            for (int i = 0; i < t.Length; i++) sum += t[i] * (double)(1 + i % 7);
            total += sum;
        }
        return total;
    }
}
