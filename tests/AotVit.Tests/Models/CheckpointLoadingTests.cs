// Loading a model from checkpoints as users have them: a make-weights file is reported as synthetic and loads without a
// warning; NaN and infinite weights are refused naming the tensor; a folder's config.json must match the model; the
// values a folder, a file and a shard index give are the same model.
using AotVit.Runtime.Imaging;
using AotVit.Runtime.Weights;
using Xunit;

namespace AotVit.Tests.Models;

[Trait("Category", "Weights")]
public sealed class CheckpointLoadingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aotvit-load-").FullName;
    private static readonly ModelOptions OneThread = new() { Threads = 1 };

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string MobileViTFile(string name = "model.safetensors", string? folder = null)
    {
        string path = Path.Combine(folder ?? _dir, name);
        SyntheticCheckpoint.Write("mobilevit-small", path);
        return path;
    }

    [Fact]
    public void A_make_weights_file_is_reported_as_synthetic_and_loads_without_warnings()
    {
        string path = MobileViTFile();
        using var model = ImageClassifier.Load("mobilevit-small", path, OneThread);
        Assert.True(model.IsSynthetic);
        Assert.Contains("a synthetic checkpoint file, seed 0", model.WeightsDescription);
        Assert.Empty(model.Warnings);   // no "both 'X' and 'X' are present" for MobileViT's names
        using var built = ImageClassifier.CreateSynthetic("mobilevit-small", OneThread);
        var pixels = built.Preprocess(ImageDecoder.Load(TestPaths.Data("images", "chelsea.png")));
        Assert.Equal(built.ClassifyPixelsBatch(1, pixels)[0].Logits, model.ClassifyPixelsBatch(1, pixels)[0].Logits);
    }

    [Fact]
    public void NaN_or_infinite_weights_are_refused_naming_the_tensor_and_the_count()
    {
        string path = MobileViTFile();
        long at;
        string tensor = "mobilevit.encoder.layer.2.downsampling_layer.expand_1x1.convolution.weight";
        using (var file = SafeTensorsFile.Open(path)) at = file.DataStart + file.GetInfo(tensor).Offset;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            stream.Position = at + 4 * 3;
            stream.Write(BitConverter.GetBytes(float.NaN));
            stream.Write(BitConverter.GetBytes(float.NaN));
            stream.Position = at + 4 * 10;
            stream.Write(BitConverter.GetBytes(float.NegativeInfinity));
        }
        var e = Assert.Throws<CheckpointException>(() => ImageClassifier.Load("mobilevit-small", path, OneThread).Dispose());
        Assert.Equal(tensor, e.TensorName);
        Assert.Contains($"tensor '{tensor}': 2 NaN and 1 infinite values of ", e.Message);
        Assert.Contains("(the first at flat index 3)", e.Message);
    }

    [Fact]
    public void A_folder_loads_its_weights_and_its_config_must_match()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_dir, "mobilevit-small")).FullName;
        MobileViTFile(folder: folder);
        string config = Path.Combine(folder, "config.json");
        File.Copy(TestPaths.Repo("src", "Graphs", "mobilevit-small", "config.json"), config);
        using (var model = ImageClassifier.Load("mobilevit-small", folder, OneThread))
        {
            Assert.Equal($"{Path.Combine(folder, "model.safetensors")} (folder {folder}; safetensors) (a synthetic checkpoint file, seed 0: random weights, outputs are meaningless)", model.WeightsDescription);
        }

        File.WriteAllText(config, File.ReadAllText(config).Replace("\"num_attention_heads\": 4", "\"num_attention_heads\": 2"));
        var e = Assert.Throws<CheckpointException>(() => ImageClassifier.Load("mobilevit-small", folder, OneThread).Dispose());
        Assert.Contains("describes another model than mobilevit-small: num_attention_heads is 2 there, 4 in the compiled model", e.Message);
    }

    [Fact]
    public void A_file_changed_after_it_was_opened_is_refused()
    {
        string path = MobileViTFile();
        using Checkpoint file = CheckpointFile.Open(path);
        TensorInfo first = file.Tensors[0];
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write)) stream.SetLength(stream.Length / 2);
        TensorInfo last = file.Tensors.MaxBy(t => t.Offset)!;
        var ended = Assert.Throws<CheckpointException>(() => file.GetFloats(last));
        Assert.Contains("it was truncated or replaced while it was being read", ended.Message);
        Assert.Contains("changed while it was being read", Assert.Throws<CheckpointException>(file.CheckUnchanged).Message);
        _ = first;
    }
}
