using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using AotVit.Runtime;
using AotVit.Runtime.Diagnostics;
using AotVit.Runtime.Imaging;
using AotVit.Runtime.Interop;
using AotVit.Runtime.Model;
using AotVit.Runtime.Weights;

namespace AotVit.Cli;

internal static partial class Commands
{
    private static ModelOptions ModelOptions(Options o) => o.Get("--calibration") is not null && Precision(o) != ModelPrecision.Int8
        ? throw new UsageException("--calibration applies to --precision int8")
        : new()
    {
        Threads = o.GetInt("--threads", Math.Clamp(Environment.ProcessorCount, 1, 8), 1, 256),
        ApplyExifOrientation = !o.Has("--no-exif-transpose"),
        Precision = Precision(o),
        CalibrationImages = CalibrationImages(o),
    };

    /// <summary>--precision float32|int8 (default float32).</summary>
    internal static ModelPrecision Precision(Options o) => o.Get("--precision") switch
    {
        null or "float32" or "fp32" => ModelPrecision.Float32,
        "int8" => ModelPrecision.Int8,
        var p => throw new UsageException($"--precision must be float32 or int8, got '{p}'"),
    };

    /// <summary>--calibration PATH: an image file, a comma-separated list of them, or a folder (its image files as an INPUT
    /// folder lists them, not its subfolders; at most 64); null when absent.
    /// Only meaningful with --precision int8.</summary>
    internal static IReadOnlyList<string>? CalibrationImages(Options o)
    {
        string? value = o.Get("--calibration");
        if (value is null) return null;
        var files = new List<string>();
        if (UserFiles.IsDirectory(value))
        {
            foreach (string f in Inputs.ImagesIn(value))
            {
                files.Add(f);
                if (files.Count == 64) break;
            }
            if (files.Count == 0) throw new UsageException($"--calibration: no image files in folder '{value}'");
            return files;
        }
        foreach (string part in value.Split(','))
        {
            if (part.Length == 0) continue;
            if (!File.Exists(part)) throw new UsageException($"--calibration: '{part}' is neither an image file nor a folder");
            files.Add(part);
        }
        if (files.Count == 0) throw new UsageException("--calibration needs an image file, a comma-separated list or a folder");
        if (files.Count > 64) throw new UsageException($"--calibration lists {files.Count} images; at most 64");
        return files;
    }

    /// <summary>int8: how far the int8 model is from float32 on the calibration images, on stderr.</summary>
    private static void PrintQuantization(VisionModel model)
    {
        if (model.QuantizationReport is { } report) StdStream.Error.WriteLine($"aotvit: {report}");
    }

    public static int Quantize(Options o)
    {
        if (o.Positional.Count != 2) throw new UsageException("quantize needs IN (a float checkpoint: file, folder or hub repo id) and OUT.safetensors");
        if (o.Get("--precision") is not (null or "int8")) throw new UsageException("quantize writes int8; --precision must be int8 or absent");
        string name = o.Get("--model") ?? throw new UsageException($"quantize needs --model M (compiled models: {ModelCatalog.Names()})");
        var entry = ModelCatalog.TryFind(name) ?? throw new UsageException($"unknown model '{name}'; compiled models: {ModelCatalog.Names()}");
        var options = new ModelOptions
        {
            Threads = o.GetInt("--threads", Math.Clamp(Environment.ProcessorCount, 1, 8), 1, 256),
            Precision = ModelPrecision.Int8,
            CalibrationImages = CalibrationImages(o),
        };
        var report = Int8Quantization.WriteCheckpoint(entry.Name, o.Positional[0], o.Positional[1], options);
        long bytes = new FileInfo(o.Positional[1]).Length;
        StdStream.Out.WriteLine($"wrote {o.Positional[1]} ({bytes:N0} bytes): {entry.Name}, {entry.Descriptor.Int8Tensors.Count} nn.Linear weights in int8 (per output channel), the rest float32");
        StdStream.Out.WriteLine(report.ToString());
        return 0;
    }

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
        PrintQuantization(model);
        if (!model.IsSynthetic || !model.WeightsDescription.StartsWith("synthetic checkpoint (", StringComparison.Ordinal))
            StdStream.Error.WriteLine($"aotvit: weights: {model.WeightsDescription}");
        foreach (var w in model.Warnings) StdStream.Error.WriteLine($"aotvit: checkpoint warning: {w}");
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
            var fitting = new List<string>();
            foreach (var e in ModelCatalog.All)
            {
                if (e.Kind == kind) fitting.Add(e.Name);
            }
            throw new UsageException($"'{command}' needs {(kind == ModelKind.Classifier ? "an image classifier" : "a feature extractor")}; " +
                                     $"'{entry.Name}' is {(entry.Kind == ModelKind.Classifier ? "an image classifier (use classify)" : "a feature extractor (use embed)")}; " +
                                     $"compiled ones: {string.Join(", ", fitting)}");
        }
        return entry;
    }

    /// <summary>Everything a classify or embed run needs from the command line, checked before the model loads.</summary>
    private sealed class ImageRun
    {
        public required ModelCatalog.Entry Entry { get; init; }
        public required List<InputItem> Inputs { get; init; }
        public required string Format { get; init; }
        public required string? Output { get; init; }
        public required int Batch { get; init; }
        public required int Decoders { get; init; }
        public required ModelOptions ModelOptions { get; init; }
    }

    private static ImageRun ParseImageRun(Options o, ModelKind kind, string fallback, string command, NpyArray[] arrays)
    {
        var entry = ModelFor(o, kind, fallback, command);
        string? format = o.Get("--format");
        if (format is not (null or "text" or "json" or "jsonl" or "npy")) throw new UsageException($"--format must be text, json, jsonl or npy, got '{format}'");
        if (o.Has("--json"))
        {
            if (format is not (null or "json")) throw new UsageException($"--json and --format {format} disagree: give one");
            format = "json";
        }
        format ??= "text";
        string? output = o.Get("-o");
        if (output is not null && output.Length == 0) throw new UsageException("-o needs a file name, got ''");
        if (format == "npy" && output is null) throw new UsageException("--format npy needs -o FILE (it writes FILE.npy and FILE.index.tsv)");
        int batch = o.GetInt("--batch", 8, 1, 64);   // the ring holds 2·batch preprocessed images (0.6–0.8 MB each)
        int decoders = o.GetInt("--decoders", Math.Clamp(Environment.ProcessorCount, 1, 16), 1, 64);
        var modelOptions = ModelOptions(o);
        if (o.Positional.Count == 0) throw new UsageException("no INPUT given");
        if (o.Positional.Contains("-") && Terminal.IsTerminal(0)) throw new UsageException("'-' reads an image from stdin, but stdin is a terminal: pipe or redirect an image into it");
        var inputs = Inputs.Expand(o.Positional, o.Has("--recursive"), out var skipped);
        foreach (string file in ResultWriter.OutputFiles(format, output, arrays)) UserFiles.CheckOutputPath(file, "output file");
        if (skipped.NotImages > 0)
            StdStream.Error.WriteLine($"aotvit: skipped {skipped.NotImages} file(s) in the given directories whose names are not image names (.jpg, .png, …); name them to read them");
        if (skipped.Special > 0)
            StdStream.Error.WriteLine($"aotvit: skipped {skipped.Special} FIFO(s), socket(s) or device(s) with image names in the given directories and patterns; name one to read it");
        return new ImageRun { Entry = entry, Inputs = inputs, Format = format, Output = output, Batch = batch, Decoders = decoders, ModelOptions = modelOptions with { MaxBatch = Math.Max(batch, 16) } };
    }

    /// <summary>Decodes and runs every input of <paramref name="run"/> through <paramref name="model"/>, writing each result
    /// as it finishes. Exit status: 0 all inputs done, 2 one or more failed, 3 an internal error on some input, 130 when
    /// SIGINT (Ctrl-C) or SIGTERM stopped the run: the batch under way is finished and every output file is closed
    /// complete and consistent (json closed, .npy header counting the rows written, index listing them); a second
    /// signal ends the process at once. A run waiting for an input that never comes (a FIFO with no writer) stops too:
    /// the decoders get <see cref="InterruptGrace"/> to finish, after which the process exits with 130 without them.</summary>
    private static int RunImages(VisionModel model, ImageRun run, NpyArray[] arrays, Func<float[], float[]?, int, ImageRecord> record, string? textFooter)
    {
        var outputs = model.Descriptor.Outputs;
        int per0 = outputs[0].FloatsPerImage, per1 = outputs.Count > 1 ? outputs[1].FloatsPerImage : 0;
        var out0 = new float[(long)run.Batch * per0];
        var out1 = per1 > 0 ? new float[(long)run.Batch * per1] : null;
        int total = run.Inputs.Count, failed = 0;
        bool internalError = false;
        long collectedAt = GC.GetTotalAllocatedBytes();
        using var writer = new ResultWriter(run.Format, run.Output, arrays, total, model);
        var progress = new Progress(total, writer.ToStdout);
        int next = 0;
        using var interrupt = new Interrupt();
        Func<bool> interrupted = () => interrupt.Requested;
        bool decodersEnded;
        using (var pipeline = new DecodePipeline(model, run.Inputs, run.Batch, run.Decoders))
        {
            while (!writer.Closed && !interrupt.Requested && pipeline.Take(next, interrupted, out var unit))
            {
                string path = pipeline.Item(unit.First).Path;
                if (unit.Error is { } error)
                {
                    pipeline.Release(unit);
                    progress.Clear();
                    StdStream.Error.WriteLine(unit.InternalError ? $"aotvit: internal error: {error}" : $"aotvit: error: {error}");
                    writer.Failed(path, error);
                    failed++;
                    internalError |= unit.InternalError;
                }
                else
                {
                    int n = unit.Count;
                    model.Run(n, pipeline.Pixels(unit), out0.AsSpan(0, n * per0), out1 is null ? default : out1.AsSpan(0, n * per1));
                    var sizes = new (int Width, int Height)[n];
                    for (int k = 0; k < n; k++) sizes[k] = pipeline.Size(unit, k);
                    pipeline.Release(unit);   // the decoders refill these slots while the results are written
                    progress.ClearForOutput();
                    for (int k = 0; k < n; k++)
                        writer.Result(pipeline.Item(unit.First + k).Path, sizes[k].Width, sizes[k].Height, record(out0, out1, k));
                }
                writer.Flush();
                CollectDecodedImages(ref collectedAt);
                next = unit.First + unit.Count;
                progress.Update(next);
            }
            // After a signal a decoder may be blocked for good (reading a FIFO that no one writes): wait for the decoders
            // a bounded time only.
            decodersEnded = pipeline.Stop(interrupt.Requested ? InterruptGrace : Timeout.InfiniteTimeSpan);
        }
        progress.Clear();
        if (interrupt.Requested)
        {
            writer.End(next, failed, null);
            writer.Dispose();   // the output files complete before a possible exit below
            StdStream.Error.WriteLine($"aotvit: interrupted: stopped after {next} of {total} images ({failed} failed); " +
                                      (run.Output is null ? "their results are above" : "the output files hold their results"));
            if (!decodersEnded)
            {
                // A decoder may still use the model: end the process rather than let the caller dispose it.
                StdStream.Error.WriteLine("aotvit: a decoder is still reading its input (a FIFO with no writer?); exiting without it");
                Environment.Exit(130);
            }
            return 130;
        }
        writer.End(total, failed, model.IsSynthetic ? textFooter : null);
        if (failed > 0) StdStream.Error.WriteLine($"aotvit: {failed} of {total} images failed");
        return internalError ? 3 : failed > 0 ? 2 : 0;
    }

    /// <summary>How long an interrupted run waits for its decoders to finish the images they are on.</summary>
    private static readonly TimeSpan InterruptGrace = TimeSpan.FromSeconds(2);

    /// <summary>
    /// SIGINT and SIGTERM while a run is under way: the first sets <see cref="Requested"/> and keeps the process alive so
    /// the run can stop between batches; a later one gets the default action (the process ends). Through the runtime's
    /// own signal thread (libSystem.Native, as Terminal uses it), which calls <see cref="OnSignal"/> outside signal
    /// context; PosixSignalRegistration would do the same but dispatches through the task library, ~90 KB of the
    /// NativeAOT executable. Installed once per process; nothing else in the CLI handles signals.
    /// </summary>
    private sealed unsafe partial class Interrupt : IDisposable
    {
        private const int SIGINT = 2, SIGTERM = 15;   // Linux signal numbers
        private static volatile int s_requested, s_active;

        public Interrupt()
        {
            if (InitializeTerminalAndSignalHandling() == 0) return;   // no signal thread: signals keep their default action
            SetPosixSignalHandler(&OnSignal);
            EnablePosixSignalHandling(SIGINT);
            EnablePosixSignalHandling(SIGTERM);
            s_requested = 0;
            s_active = 1;
        }

        public bool Requested => s_requested != 0;

        /// <summary>Nonzero: the signal is handled here; zero: the runtime applies its default action.</summary>
        [UnmanagedCallersOnly]
        private static int OnSignal(int signalCode, int signal)
        {
            if (s_active == 0 || s_requested != 0) return 0;
            s_requested = 1;
            return 1;
        }

        public void Dispose() => s_active = 0;

        [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_InitializeTerminalAndSignalHandling")]
        private static partial int InitializeTerminalAndSignalHandling();

        [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_SetPosixSignalHandler")]
        private static partial void SetPosixSignalHandler(delegate* unmanaged<int, int, int> handler);

        [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_EnablePosixSignalHandling")]
        private static partial int EnablePosixSignalHandling(int signalCode);
    }

    /// <summary>Bytes allocated between two full collections in a classify/embed run.</summary>
    private const long CollectEvery = 64L << 20;

    /// <summary>
    /// A full collection once <see cref="CollectEvery"/> bytes have been allocated since the last one. Each image
    /// allocates its encoded file and decoded pixels (megabytes, on the large object heap), which the runtime collects
    /// only when its own budget, which grows with the workload, runs out: peak RSS rose from 220 to 339 MiB between
    /// 100 and 1,000 photos. Collecting by allocated bytes keeps the garbage below this bound whatever the number of
    /// images; a collection of the few live megabytes takes about a millisecond, per tens of images.
    /// </summary>
    private static void CollectDecodedImages(ref long collectedAt)
    {
        long allocated = GC.GetTotalAllocatedBytes();
        if (allocated - collectedAt < CollectEvery) return;
        GC.Collect();
        collectedAt = GC.GetTotalAllocatedBytes();
    }

    public static int Classify(Options o)
    {
        int top = o.GetInt("--top", 5, 1, 1000);
        var entry = ModelFor(o, ModelKind.Classifier, "mobilevit-small", "classify");
        int classes = entry.Descriptor.Outputs[0].Shape[0];
        NpyArray[] arrays = [new("", [classes])];
        var run = ParseImageRun(o, ModelKind.Classifier, "mobilevit-small", "classify", arrays);
        var weights = o.Get("--weights");
        using var model = weights is null ? ImageClassifier.CreateSynthetic(entry.Name, run.ModelOptions) : ImageClassifier.Load(entry.Name, weights, run.ModelOptions);
        WarnIfSynthetic(model);
        PrintWarnings(model);
        var record = new ClassifyRecord(model, Math.Min(top, classes), o.Has("--logits"));
        return RunImages(model, run, arrays, (out0, _, k) => record.Set(out0, k), "(synthetic checkpoint: labels above are arbitrary)");
    }

    private sealed class ClassifyRecord(ImageClassifier model, int top, bool logits) : ImageRecord
    {
        private float[] _out = [];
        private int _k;
        private IReadOnlyList<Prediction> _top = [];

        public ImageRecord Set(float[] output, int k)
        {
            _out = output;
            _k = k;
            _top = model.TopK(Logits, top);
            return this;
        }

        private ReadOnlySpan<float> Logits => _out.AsSpan(_k * model.ClassCount, model.ClassCount);

        public override void Json(JsonOut json)
        {
            json.StartArray("top");
            foreach (var p in _top)
                json.StartObject().Number("index", p.ClassIndex).String("label", p.Label).Number("probability", p.Probability).Number("logit", p.Logit).EndObject();
            json.EndArray();
            if (logits) json.Numbers("logits", Logits);
        }

        public override void Text(StringBuilder text)
        {
            foreach (var p in _top) text.Append($"  {p.Probability,8:P2}  {p.ClassIndex,4}  {p.Label}\n");
        }

        public override ReadOnlySpan<float> Row(int array) => Logits;
    }

    public static int Embed(Options o)
    {
        var entry = ModelFor(o, ModelKind.FeatureExtractor, "vit-base-patch32-224-in21k", "embed");
        bool full = o.Has("--full");
        var d = entry.Descriptor;
        int last = OutputIndex(d, "last_hidden_state"), pooler = OutputIndex(d, "pooler_output");
        int tokens = d.Outputs[last].Shape[0], hidden = d.Outputs[last].Shape[1];
        NpyArray[] arrays = full ? [new("", [hidden]), new(".last_hidden_state", [tokens, hidden])] : [new("", [hidden])];
        var run = ParseImageRun(o, ModelKind.FeatureExtractor, "vit-base-patch32-224-in21k", "embed", arrays);
        var weights = o.Get("--weights");
        using var model = weights is null ? FeatureExtractor.CreateSynthetic(entry.Name, run.ModelOptions) : FeatureExtractor.Load(entry.Name, weights, run.ModelOptions);
        WarnIfSynthetic(model);
        PrintWarnings(model);
        var record = new EmbedRecord(tokens, hidden, last, pooler, full);
        return RunImages(model, run, arrays, record.Set, null);
    }

    private static int OutputIndex(ModelDescriptor d, string name)
    {
        for (int i = 0; i < d.Outputs.Count; i++)
        {
            if (d.Outputs[i].Name == name) return i;
        }
        return -1;
    }

    /// <summary>An embedding: pooler_output, or the CLS token's last hidden state for a model without a pooler.</summary>
    private sealed class EmbedRecord(int tokens, int hidden, int lastIndex, int poolerIndex, bool full) : ImageRecord
    {
        private float[] _last = [];
        private float[]? _pooled;
        private int _k;

        public ImageRecord Set(float[] out0, float[]? out1, int k)
        {
            _last = lastIndex == 0 ? out0 : out1!;
            _pooled = poolerIndex < 0 ? null : poolerIndex == 0 ? out0 : out1;
            _k = k;
            return this;
        }

        private ReadOnlySpan<float> Last => _last.AsSpan(_k * tokens * hidden, tokens * hidden);

        private ReadOnlySpan<float> Embedding => _pooled is null ? Last[..hidden] : _pooled.AsSpan(_k * hidden, hidden);

        public override void Json(JsonOut json)
        {
            json.Numbers(_pooled is null ? "cls_token" : "pooler_output", Embedding);
            if (!full) return;
            json.StartArray("last_hidden_state_shape").Number(tokens).Number(hidden).EndArray();
            json.Numbers("last_hidden_state", Last);
        }

        public override void Text(StringBuilder text)
        {
            var e = Embedding;
            double squares = 0;
            foreach (float v in e) squares += (double)v * v;
            text.Append($"  {(_pooled is null ? "last_hidden_state[0] (CLS)" : "pooler_output")} [{e.Length}]  L2 norm {Math.Sqrt(squares):F4}  first 8: {Join(e, 8)}\n");
            text.Append($"  last_hidden_state [{tokens}, {hidden}]  CLS first 4: {Join(Last, 4)}\n");
        }

        public override ReadOnlySpan<float> Row(int array) => array == 0 ? Embedding : Last;
    }

    /// <summary>The first <paramref name="count"/> values (or all, if fewer), "F5", separated by spaces.</summary>
    private static string Join(ReadOnlySpan<float> values, int count)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < Math.Min(count, values.Length); i++)
        {
            if (i > 0) sb.Append(' ');
            sb.Append(values[i].ToString("F5", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
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
        catch (LimitExceededException e) { throw new InputException($"{path}: {e.Message}", e); }
    }

    public static int Info(Options o)
    {
        StdStream.Out.WriteLine($"aot-vit  runtime {(MachineInfo.IsNativeAot ? "NativeAOT" : "JIT")}  SIMD: {MachineInfo.SimdDescription}  cores: {Environment.ProcessorCount}");
        foreach (var e in ModelCatalog.All)
        {
            var d = e.Descriptor;
            StdStream.Out.WriteLine();
            StdStream.Out.WriteLine($"{d.Name}  ({d.Kind.Name()}: HF {d.Architecture}{(d.RepoId is null ? "" : $", hub {d.RepoId}")})");
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
            string resize = p.Resize switch
            {
                ResizeMode.Exact exact => $"resize {exact.Height}×{exact.Width}",
                ResizeMode.ShortestEdge edge => $"shortest edge {edge.Size}",
                _ => "no resize",
            };
            StdStream.Out.WriteLine($"  preprocess {resize}" +
                              $"{(p.CenterCrop is { } crop ? $", center crop {crop.Height}×{crop.Width}" : "")}{(p.RescaleFactor is { } factor ? $", rescale {factor:G6}" : "")}" +
                              $"{(p.Normalize is { } norm ? $", normalize mean {string.Join("/", norm.Mean)} std {string.Join("/", norm.Std)}" : "")}{(p.FlipChannelOrder ? ", RGB→BGR" : "")}" +
                              $"{(p.Resize?.Filter == ResampleFilter.Bicubic ? ", PIL BICUBIC" : ", PIL BILINEAR")}");
            if (d.Labels is not null) StdStream.Out.WriteLine($"  labels  {d.Labels.Count} ({d.Labels[0]} … {d.Labels[^1]})");
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
