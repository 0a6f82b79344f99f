// Full-size parity of the two checkpoint formats: tools/reference.py --write-checkpoint DIR --torch-bin writes the
// seeded synthetic weights of both seed models as model.safetensors and (torch.save, torch 1.13) pytorch_model.bin.
// Loaded through the public API, both give bit-identical tensors and bit-identical model outputs. The files are
// 375 MB and need torch to make, so CI has none: these tests pass vacuously (and say so) without them; the committed
// evidence in CI is TorchZipTests on the small torch.save fixtures.
//   /usr/bin/python3 tools/reference.py --write-checkpoint artifacts/reference-checkpoints --torch-bin
using AotVit.Runtime.Weights;
using Xunit;
using Xunit.Abstractions;

namespace AotVit.Tests.Models;

[Trait("Category", "Weights")]
public sealed class TorchBinParityTests(ITestOutputHelper output)
{
    private static readonly ModelOptions Options = new() { Threads = 2 };

    private static string Folder(string model) => Path.Combine(
        Environment.GetEnvironmentVariable("AOTVIT_REFERENCE_CHECKPOINTS") ?? TestPaths.Repo("artifacts", "reference-checkpoints"), model);

    private bool Available(string model)
    {
        string folder = Folder(model);
        bool found = File.Exists(Path.Combine(folder, "model.safetensors")) && File.Exists(Path.Combine(folder, "pytorch_model.bin"));
        if (!found) output.WriteLine($"not run: no model.safetensors + pytorch_model.bin in {folder} (tools/reference.py --write-checkpoint DIR --torch-bin)");
        return found;
    }

    private static void AssertSameTensors(string folder)
    {
        using Checkpoint st = CheckpointFile.Open(Path.Combine(folder, "model.safetensors"));
        using Checkpoint bin = CheckpointFile.Open(Path.Combine(folder, "pytorch_model.bin"));
        Assert.Equal("PyTorch zip (torch.save)", bin.Format);
        Assert.Equal(st.Tensors.Select(t => t.Name), bin.Tensors.Select(t => t.Name));
        foreach (TensorInfo t in st.Tensors)
        {
            TensorInfo b = bin.GetInfo(t.Name);
            Assert.Equal(t.DType, b.DType);
            Assert.Equal(t.ShapeText, b.ShapeText);
            Assert.True(st.GetBytes(t).SequenceEqual(bin.GetBytes(b)), t.Name);
        }
    }

    [Fact]
    public void MobileViT_from_pytorch_model_bin_equals_the_safetensors_bit_for_bit()
    {
        const string model = "mobilevit-small";
        if (!Available(model)) return;
        string folder = Folder(model);
        AssertSameTensors(folder);
        using var st = ImageClassifier.Load(model, Path.Combine(folder, "model.safetensors"), Options);
        using var bin = ImageClassifier.Load(model, Path.Combine(folder, "pytorch_model.bin"), Options);
        Assert.Empty(bin.Warnings);
        foreach (string image in new[] { "chelsea.png", "coffee.png", "astronaut.png" })
        {
            float[] pixels = st.PreprocessFile(TestPaths.Data("images", image));
            float[] a = st.ClassifyPixelsBatch(1, pixels)[0].Logits, b = bin.ClassifyPixelsBatch(1, pixels)[0].Logits;
            Assert.Equal(a.Select(BitConverter.SingleToInt32Bits), b.Select(BitConverter.SingleToInt32Bits));
        }
        output.WriteLine($"{model}: {bin.WeightsDescription}; logits bit-identical on 3 images");
    }

    [Fact]
    public void ViT_from_pytorch_model_bin_equals_the_safetensors_bit_for_bit()
    {
        const string model = "vit-base-patch32-224-in21k";
        if (!Available(model)) return;
        string folder = Folder(model);
        AssertSameTensors(folder);
        using var st = FeatureExtractor.Load(model, Path.Combine(folder, "model.safetensors"), Options);
        using var bin = FeatureExtractor.Load(model, Path.Combine(folder, "pytorch_model.bin"), Options);
        Assert.Empty(bin.Warnings);
        float[] pixels = st.PreprocessFile(TestPaths.Data("images", "chelsea.png"));
        Features a = st.ExtractPixels(pixels), b = bin.ExtractPixels(pixels);
        Assert.Equal(a.LastHiddenState.Select(BitConverter.SingleToInt32Bits), b.LastHiddenState.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(a.PoolerOutput!.Select(BitConverter.SingleToInt32Bits), b.PoolerOutput!.Select(BitConverter.SingleToInt32Bits));
        output.WriteLine($"{model}: {bin.WeightsDescription}; last_hidden_state and pooler_output bit-identical");
    }
}
