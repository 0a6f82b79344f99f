using System.Globalization;
using System.Text;
using AotVit.Runtime.Diagnostics;
using AotVit.Runtime.Imaging;
using AotVit.Runtime.Interop;
using AotVit.Runtime.Model;
using AotVit.Runtime.Weights;

namespace AotVit.Cli;

internal static class Commands
{
    private static ModelOptions ModelOptions(Options o) => new()
    {
        Threads = o.GetInt("--threads", Math.Clamp(Environment.ProcessorCount, 1, 8), 1, 256),
        ApplyExifOrientation = !o.Has("--no-exif-transpose"),
    };

    /// <summary>Loud notice on stderr: synthetic weights produce meaningless numbers.</summary>
    private static void WarnIfSynthetic(VisionModel model)
    {
        if (!model.IsSynthetic) return;
        StdStream.Error.WriteLine(model.WeightsDescription.StartsWith("synthetic checkpoint (", StringComparison.Ordinal)
            ? "aotvit: WARNING: no --weights given, so this runs a SYNTHETIC checkpoint (random weights from seed 0)."
            : $"aotvit: WARNING: --weights is a SYNTHETIC checkpoint: {model.WeightsDescription}.");
        StdStream.Error.WriteLine("aotvit: WARNING: the numbers below test the pipeline; they say nothing about the image. Pass --weights with a real checkpoint (a file, a folder or a hub repo id in the local Hugging Face cache).");
    }

    private static void PrintWarnings(VisionModel model)
    {
        if (!model.IsSynthetic || !model.WeightsDescription.StartsWith("synthetic checkpoint (", StringComparison.Ordinal))
            StdStream.Error.WriteLine($"aotvit: weights: {model.WeightsDescription}");
        foreach (var w in model.Warnings) StdStream.Error.WriteLine($"aotvit: checkpoint warning: {w}");
    }

    /// <summary>Every image preprocessed into one [n, C, H, W] batch, with each image's size as the model sees it
    /// (after EXIF orientation).</summary>
    private static (float[] Pixels, List<(int Width, int Height)> Sizes) LoadImages(VisionModel model, List<string> paths)
    {
        if (paths.Count == 0) throw new UsageException("no IMAGE given");
        int per = model.InputFloatsPerImage;
        var pixels = new float[(long)paths.Count * per];
        var sizes = new List<(int, int)>(paths.Count);
        for (int i = 0; i < paths.Count; i++)
        {
            try
            {
                byte[] encoded = ImageDecoder.ReadFile(paths[i], model.Options.ImageLimits);
                var (width, height, _) = ImageDecoder.ReadInfo(encoded, model.Options.ImageLimits, model.ApplyExifOrientation);
                model.PreprocessEncoded(encoded, pixels.AsSpan(i * per, per));
                sizes.Add((width, height));
            }
            catch (ImageDecodeException e) { throw new ImageDecodeException($"{paths[i]}: {e.Message}", e); }
        }
        return (pixels, sizes);
    }

    /// <summary>The --model entry (a catalog name or hub repo id, else <paramref name="fallback"/>) of the task a command
    /// serves, checked before anything loads: an unknown name or a model of the other task is a usage error.</summary>
    internal static ModelCatalog.Entry ModelFor(Options o, ModelKind kind, string fallback, string command)
    {
        string name = o.Get("--model") ?? fallback;
        var entry = ModelCatalog.TryFind(name)
            ?? throw new UsageException($"unknown model '{name}'; compiled models: {ModelCatalog.Names()}");
        if (entry.Kind != kind)
        {
            var fitting = ModelCatalog.All.Where(e => e.Kind == kind).Select(e => e.Name);
            throw new UsageException($"'{command}' needs {(kind == ModelKind.Classifier ? "an image classifier" : "a feature extractor")}; " +
                                     $"'{entry.Name}' is {(entry.Kind == ModelKind.Classifier ? "an image classifier (use classify)" : "a feature extractor (use embed)")}; " +
                                     $"compiled ones: {string.Join(", ", fitting)}");
        }
        return entry;
    }

    public static int Classify(Options o)
    {
        int top = o.GetInt("--top", 5, 1, 1000);
        var entry = ModelFor(o, ModelKind.Classifier, "mobilevit-small", "classify");
        var weights = o.Get("--weights");
        using var model = weights is null ? ImageClassifier.CreateSynthetic(entry.Name, ModelOptions(o)) : ImageClassifier.Load(entry.Name, weights, ModelOptions(o));
        WarnIfSynthetic(model);
        PrintWarnings(model);
        var (pixels, sizes) = LoadImages(model, o.Positional);
        var results = model.ClassifyPixelsBatch(sizes.Count, pixels, Math.Min(top, model.ClassCount));
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
            StdStream.Out.WriteLine(json.EndArray().EndObject().ToString());
            return 0;
        }
        for (int i = 0; i < results.Length; i++)
        {
            StdStream.Out.WriteLine($"{o.Positional[i]}  ({sizes[i].Width}×{sizes[i].Height})");
            foreach (var p in results[i].Top)
                StdStream.Out.WriteLine($"  {p.Probability,8:P2}  {p.ClassIndex,4}  {p.Label}");
        }
        if (model.IsSynthetic) StdStream.Out.WriteLine("(synthetic checkpoint: labels above are arbitrary)");
        return 0;
    }

    public static int Embed(Options o)
    {
        var entry = ModelFor(o, ModelKind.FeatureExtractor, "vit-base-patch32-224-in21k", "embed");
        var weights = o.Get("--weights");
        using var model = weights is null ? FeatureExtractor.CreateSynthetic(entry.Name, ModelOptions(o)) : FeatureExtractor.Load(entry.Name, weights, ModelOptions(o));
        WarnIfSynthetic(model);
        PrintWarnings(model);
        var (pixels, sizes) = LoadImages(model, o.Positional);
        var results = model.ExtractPixelsBatch(sizes.Count, pixels);
        if (o.Has("--json"))
        {
            var json = new JsonOut(indented: false).StartObject()
                .String("model", model.Descriptor.Name).String("weights", model.WeightsDescription).Bool("synthetic", model.IsSynthetic)
                .StartArray("results");
            for (int i = 0; i < results.Length; i++)
            {
                json.StartObject().String("image", o.Positional[i]);
                if (results[i].PoolerOutput is { } pooled) WriteArray(json, "pooler_output", pooled);
                else WriteArray(json, "cls_token", results[i].ClsToken.ToArray());
                if (o.Has("--full"))
                {
                    json.StartArray("last_hidden_state_shape").Number(results[i].Tokens).Number(results[i].HiddenSize).EndArray();
                    WriteArray(json, "last_hidden_state", results[i].LastHiddenState);
                }
                json.EndObject();
            }
            StdStream.Out.WriteLine(json.EndArray().EndObject().ToString());
            return 0;
        }
        for (int i = 0; i < results.Length; i++)
        {
            var p = results[i].PoolerOutput ?? results[i].ClsToken.ToArray();
            double squares = 0;
            foreach (float v in p) squares += (double)v * v;
            double norm = Math.Sqrt(squares);
            StdStream.Out.WriteLine($"{o.Positional[i]}  ({sizes[i].Width}×{sizes[i].Height})");
            StdStream.Out.WriteLine($"  {(results[i].PoolerOutput is null ? "last_hidden_state[0] (CLS)" : "pooler_output")} [{p.Length}]  L2 norm {norm:F4}  first 8: {Join(p, 8)}");
            StdStream.Out.WriteLine($"  last_hidden_state [{results[i].Tokens}, {results[i].HiddenSize}]  CLS first 4: {Join(results[i].LastHiddenState, 4)}");
        }
        return 0;
    }

    /// <summary>The first <paramref name="count"/> values (or all, if fewer), "F5", separated by spaces.</summary>
    private static string Join(float[] values, int count)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < Math.Min(count, values.Length); i++)
        {
            if (i > 0) sb.Append(' ');
            sb.Append(values[i].ToString("F5", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    private static void WriteArray(JsonOut json, string name, float[] values)
    {
        json.StartArray(name);
        foreach (float v in values) json.Number(v);
        json.EndArray();
    }

    /// <summary>
    /// `aotvit preprocess IMAGE [--model M] [--stage decoded|pixel_values] -o OUT.npy`: what a model is given, for parity
    /// checks against Pillow and transformers; needs no weights.
    /// </summary>
    public static int Preprocess(Options o)
    {
        if (o.Positional.Count != 1) throw new UsageException("preprocess needs one IMAGE");
        string output = o.Get("-o") ?? throw new UsageException("preprocess needs -o OUT.npy");
        string stage = o.Get("--stage") ?? "pixel_values";
        if (stage is not ("decoded" or "pixel_values")) throw new UsageException($"--stage must be decoded or pixel_values, got '{stage}'");
        string name = o.Get("--model") ?? "mobilevit-small";
        var entry = ModelCatalog.TryFind(name) ?? throw new UsageException($"unknown model '{name}'; compiled models: {ModelCatalog.Names()}");
        UserFiles.CheckOutputPath(output, ".npy file");
        var limits = ImageLimits.Default;
        bool orient = !o.Has("--no-exif-transpose");
        string path = o.Positional[0];
        try
        {
            byte[] encoded = ImageDecoder.ReadFile(path, limits);
            if (stage == "decoded")
            {
                RgbImage image = ImageDecoder.Decode(encoded, limits, orient);
                Npy.Write(output, image.Pixels, [image.Height, image.Width, 3]);
                StdStream.Out.WriteLine($"wrote {output}: uint8 [{image.Height}, {image.Width}, 3], {path} decoded{(orient ? " and EXIF-oriented" : " (stored orientation)")}");
                return 0;
            }
            var plan = entry.Plan;
            using var stream = ImageDecoder.DecodeStreaming(encoded, plan, limits, orient);
            var pixels = new float[3L * stream.OutputHeight * stream.OutputWidth];
            stream.Finish(pixels);
            Npy.Write(output, pixels, [1, 3, stream.OutputHeight, stream.OutputWidth]);
            StdStream.Out.WriteLine($"wrote {output}: float32 [1, 3, {stream.OutputHeight}, {stream.OutputWidth}], pixel_values of {path} for {entry.Name}");
            return 0;
        }
        catch (ImageDecodeException e) { throw new ImageDecodeException($"{path}: {e.Message}", e); }
    }

    public static int Info(Options o)
    {
        StdStream.Out.WriteLine($"aot-vit  runtime {(MachineInfo.IsNativeAot ? "NativeAOT" : "JIT")}  SIMD: {MachineInfo.SimdDescription}  cores: {Environment.ProcessorCount}");
        foreach (var e in ModelCatalog.All)
        {
            var d = e.Descriptor;
            StdStream.Out.WriteLine();
            StdStream.Out.WriteLine($"{d.Name}  ({KindName(d.Kind)}: HF {d.Architecture}{(d.RepoId is null ? "" : $", hub {d.RepoId}")})");
            StdStream.Out.WriteLine($"  input   pixel_values [batch, {string.Join(", ", d.InputShape)}]");
            foreach (var output in d.Outputs) StdStream.Out.WriteLine($"  output  {output.Name} [batch, {string.Join(", ", output.Shape)}]");
            StdStream.Out.WriteLine($"  cost    {d.MacsPerImage / 1e9:F3} GMAC per image; arena {d.ArenaFloatsPerImage * 4 / 1024.0:F0} KiB per image; constants {d.ConstantFloats * 4 / 1024.0:F0} KiB");
            long parameters = 0;
            foreach (var t in d.Tensors)
            {
                long n = 1;
                foreach (long dim in t.Shape) n *= dim;
                parameters += n;
            }
            StdStream.Out.WriteLine($"  weights {d.Tensors.Count} tensors, {parameters:N0} parameters");
            var p = d.Preprocess;
            StdStream.Out.WriteLine($"  preprocess {(p.Resize == ResizeKind.Exact ? $"resize {p.ResizeHeight}×{p.ResizeWidth}" : $"shortest edge {p.ShortestEdge}")}" +
                              $"{(p.CenterCrop ? $", center crop {p.CropHeight}×{p.CropWidth}" : "")}{(p.Rescale ? $", rescale {p.RescaleFactor:G6}" : "")}" +
                              $"{(p.Normalize ? $", normalize mean {string.Join("/", p.Mean)} std {string.Join("/", p.Std)}" : "")}{(p.FlipChannelOrder ? ", RGB→BGR" : "")}" +
                              $"{(p.Resample == ResampleFilter.Bicubic ? ", PIL BICUBIC" : ", PIL BILINEAR")}");
            if (d.Labels is not null) StdStream.Out.WriteLine($"  labels  {d.Labels.Count} ({d.Labels[0]} … {d.Labels[^1]})");
        }
        return 0;
    }

    // Spelled out: formatting an enum value needs the runtime's reflection metadata for enums (~30 KB in NativeAOT).
    private static string KindName(ModelKind kind) => kind switch
    {
        ModelKind.FeatureExtractor => nameof(ModelKind.FeatureExtractor),
        ModelKind.Classifier => nameof(ModelKind.Classifier),
        _ => ((int)kind).ToString(CultureInfo.InvariantCulture),
    };

    public static int MakeWeights(Options o)
    {
        if (o.Positional.Count != 2) throw new UsageException("make-weights needs MODEL and OUT");
        string model = o.Positional[0] switch
        {
            "vit" => "vit-base-patch32-224-in21k",
            "mobilevit" => "mobilevit-small",
            var name => ModelCatalog.TryFind(name)?.Name ?? throw new UsageException($"unknown model '{name}'; compiled models: {ModelCatalog.Names()}"),
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
        StdStream.Out.WriteLine($"wrote {o.Positional[1]} ({new FileInfo(o.Positional[1]).Length:N0} bytes): synthetic {model}, seed {seed}, {dtype.Name()}");
        return 0;
    }
}
