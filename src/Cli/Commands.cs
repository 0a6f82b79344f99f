using System.Globalization;
using AotVit.Runtime.Diagnostics;
using AotVit.Runtime.Imaging;
using AotVit.Runtime.Weights;

namespace AotVit.Cli;

internal static class Commands
{
    private static ModelOptions ModelOptions(Options o) => new() { Threads = o.GetInt("--threads", Math.Clamp(Environment.ProcessorCount, 1, 8), 1, 256) };

    /// <summary>Loud notice on stderr: synthetic weights produce meaningless numbers.</summary>
    private static void WarnIfSynthetic(VisionModel model)
    {
        if (!model.IsSynthetic) return;
        Console.Error.WriteLine("aotvit: WARNING: no --weights given, so this runs a SYNTHETIC checkpoint (random weights from seed 0).");
        Console.Error.WriteLine("aotvit: WARNING: the numbers below test the pipeline; they say nothing about the image. Pass --weights model.safetensors.");
    }

    private static void PrintWarnings(VisionModel model)
    {
        foreach (var w in model.Warnings) Console.Error.WriteLine($"aotvit: checkpoint warning: {w}");
    }

    private static List<RgbImage> LoadImages(VisionModel model, List<string> paths)
    {
        if (paths.Count == 0) throw new UsageException("no IMAGE given");
        var images = new List<RgbImage>(paths.Count);
        foreach (var p in paths)
        {
            try { images.Add(model.LoadImage(p)); }
            catch (ImageDecodeException e) { throw new ImageDecodeException($"{p}: {e.Message}", e); }
        }
        return images;
    }

    public static int Classify(Options o)
    {
        int top = o.GetInt("--top", 5, 1, 1000);
        var weights = o.Get("--weights");
        using var model = weights is null ? MobileViTClassifier.CreateSynthetic(ModelOptions(o)) : MobileViTClassifier.Load(weights, ModelOptions(o));
        WarnIfSynthetic(model);
        PrintWarnings(model);
        var images = LoadImages(model, o.Positional);
        var results = model.ClassifyBatch(images, Math.Min(top, model.ClassCount));
        if (o.Has("--json"))
        {
            var json = new JsonOut(indented: true).StartObject()
                .String("model", model.Descriptor.Name).String("weights", model.WeightsDescription).Bool("synthetic", model.IsSynthetic)
                .StartArray("results");
            for (int i = 0; i < results.Length; i++)
            {
                json.StartObject().String("image", o.Positional[i]).StartArray("top");
                foreach (var p in results[i].Top)
                    json.StartObject().Number("index", p.ClassIndex).String("label", p.Label)
                        .Number("probability", p.Probability).Number("logit", p.Logit).EndObject();
                json.EndArray().EndObject();
            }
            Console.WriteLine(json.EndArray().EndObject().ToString());
            return 0;
        }
        for (int i = 0; i < results.Length; i++)
        {
            Console.WriteLine($"{o.Positional[i]}  ({images[i].Width}×{images[i].Height})");
            foreach (var p in results[i].Top)
                Console.WriteLine($"  {p.Probability,8:P2}  {p.ClassIndex,4}  {p.Label}");
        }
        if (model.IsSynthetic) Console.WriteLine("(synthetic checkpoint: labels above are arbitrary)");
        return 0;
    }

    public static int Embed(Options o)
    {
        var weights = o.Get("--weights");
        using var model = weights is null ? ViTEmbedder.CreateSynthetic(ModelOptions(o)) : ViTEmbedder.Load(weights, ModelOptions(o));
        WarnIfSynthetic(model);
        PrintWarnings(model);
        var images = LoadImages(model, o.Positional);
        var results = model.EmbedBatch(images);
        if (o.Has("--json"))
        {
            var json = new JsonOut(indented: false).StartObject()
                .String("model", model.Descriptor.Name).String("weights", model.WeightsDescription).Bool("synthetic", model.IsSynthetic)
                .StartArray("results");
            for (int i = 0; i < results.Length; i++)
            {
                json.StartObject().String("image", o.Positional[i]);
                WriteArray(json, "pooler_output", results[i].PoolerOutput);
                if (o.Has("--full"))
                {
                    json.StartArray("last_hidden_state_shape").Number(results[i].Tokens).Number(results[i].HiddenSize).EndArray();
                    WriteArray(json, "last_hidden_state", results[i].LastHiddenState);
                }
                json.EndObject();
            }
            Console.WriteLine(json.EndArray().EndObject().ToString());
            return 0;
        }
        for (int i = 0; i < results.Length; i++)
        {
            var p = results[i].PoolerOutput;
            double norm = Math.Sqrt(p.Sum(v => (double)v * v));
            Console.WriteLine($"{o.Positional[i]}  ({images[i].Width}×{images[i].Height})");
            Console.WriteLine($"  pooler_output [{p.Length}]  L2 norm {norm:F4}  first 8: {string.Join(" ", p.Take(8).Select(v => v.ToString("F5", CultureInfo.InvariantCulture)))}");
            Console.WriteLine($"  last_hidden_state [{results[i].Tokens}, {results[i].HiddenSize}]  CLS first 4: {string.Join(" ", results[i].LastHiddenState.Take(4).Select(v => v.ToString("F5", CultureInfo.InvariantCulture)))}");
        }
        return 0;
    }

    private static void WriteArray(JsonOut json, string name, float[] values)
    {
        json.StartArray(name);
        foreach (float v in values) json.Number(v);
        json.EndArray();
    }

    public static int Info(Options o)
    {
        Console.WriteLine($"aot-vit  runtime {(MachineInfo.IsNativeAot ? "NativeAOT" : "JIT")}  SIMD: {MachineInfo.SimdDescription}  cores: {Environment.ProcessorCount}");
        foreach (var e in ModelCatalog.All)
        {
            var d = e.Descriptor;
            Console.WriteLine();
            Console.WriteLine($"{d.Name}  ({d.Kind})");
            Console.WriteLine($"  input   pixel_values [batch, {string.Join(", ", d.InputShape)}]");
            foreach (var output in d.Outputs) Console.WriteLine($"  output  {output.Name} [batch, {string.Join(", ", output.Shape)}]");
            Console.WriteLine($"  cost    {d.MacsPerImage / 1e9:F3} GMAC per image; arena {d.ArenaFloatsPerImage * 4 / 1024.0:F0} KiB per image; constants {d.ConstantFloats * 4 / 1024.0:F0} KiB");
            Console.WriteLine($"  weights {d.Tensors.Count} tensors, {d.Tensors.Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b)):N0} parameters");
            var p = d.Preprocess;
            Console.WriteLine($"  preprocess {(p.Resize == AotVit.Runtime.Model.ResizeKind.Exact ? $"resize {p.ResizeHeight}×{p.ResizeWidth}" : $"shortest edge {p.ShortestEdge}")}" +
                              $"{(p.CenterCrop ? $", center crop {p.CropHeight}×{p.CropWidth}" : "")}{(p.Rescale ? $", rescale {p.RescaleFactor:G6}" : "")}" +
                              $"{(p.Normalize ? $", normalize mean {string.Join("/", p.Mean)} std {string.Join("/", p.Std)}" : "")}{(p.FlipChannelOrder ? ", RGB→BGR" : "")}");
            if (d.Labels is not null) Console.WriteLine($"  labels  {d.Labels.Count} ({d.Labels[0]} … {d.Labels[^1]})");
        }
        return 0;
    }

    public static int MakeWeights(Options o)
    {
        if (o.Positional.Count != 2) throw new UsageException("make-weights needs MODEL and OUT");
        string model = o.Positional[0] switch
        {
            "vit" => "vit-base-patch32-224-in21k",
            "mobilevit" => "mobilevit-small",
            var name => name,
        };
        var dtype = (o.Get("--dtype") ?? "f32").ToLowerInvariant() switch
        {
            "f32" => DType.F32,
            "f16" => DType.F16,
            "bf16" => DType.BF16,
            var d => throw new UsageException($"--dtype must be f32, f16 or bf16, got '{d}'"),
        };
        string? seedText = o.Get("--seed");
        ulong seed = 0;
        if (seedText is not null && !ulong.TryParse(seedText, out seed)) throw new UsageException($"--seed must be a non-negative integer, got '{seedText}'");
        SyntheticCheckpoint.Write(model, o.Positional[1], seed, dtype);
        Console.WriteLine($"wrote {o.Positional[1]} ({new FileInfo(o.Positional[1]).Length:N0} bytes): synthetic {model}, seed {seed}, {dtype}");
        return 0;
    }
}
