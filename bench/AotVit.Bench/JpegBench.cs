// The aot-vit side of tools/jpeg_bench.py (decode, decode + HF preprocessing, file -> top-5 against Pillow + ORT).
// The Python script drives it so that Pillow and aot-vit repetitions interleave in one run:
//   AotVit.Bench --jpeg-serve --cache DIR --onnx-dir DIR
//     reads commands on stdin, one per line, answers one line each ("ok ..." or "error MESSAGE"):
//       decode PATH                 ImageDecoder.ReadFile + DecodeStored (no orientation, as Pillow's open + load)     -> ok MS
//       pre MODEL PATH              the product's file -> pixel_values path on one thread (VisionModel.PreprocessEncoded:
//                                   ReadFile, DecodeStreaming, Finish)                  -> ok TOTAL_MS READ_MS DECODE_STREAM_MS
//       e2e THREADS PATH            ImageClassifier.Classify(path, 5), MobileViT-S warm   -> ok MS TOP5(comma-separated)
//       model THREADS PATH          the model alone on PATH's pixel_values (ClassifyPixelsBatch)   -> ok MS TOP5
//       pixels MODEL PATH OUT.f32   writes the pixel_values of `pre` (float32, for the script's comparison with HF's), and
//                                   for mobilevit-small checks them against ImageClassifier.PreprocessFile (the product
//                                   API itself)                                             -> ok SAME_AS_PRODUCT(1/0/-)
//       ort THREADS PIXELS.f32      ONNX Runtime on float32 [1,3,256,256] pixel_values written by the script  -> ok MS TOP5
//       ortbatch THREADS PIXELS.f32 ONNX Runtime on a batch [N,3,256,256] (N from the file's size; tools/folder_bench.py)
//                                   -> ok MS TOP1(comma-separated, one per image)
//   AotVit.Bench --jpeg-rss pre MODEL PATH | e2e THREADS PATH  --cache DIR
//     one measurement in a fresh process: setup (and, for e2e, a warm-up on a small image), then the peak RSS is reset
//     (/proc/self/clear_refs) and the case runs once -> "ok RSS_BEFORE_MIB PEAK_MIB"
// MODEL: a catalog name (mobilevit-small, vit-base-patch32-224-in21k). The checkpoint is the seed-0 synthetic one of
// `aotvit make-weights mobilevit-small` (SyntheticCheckpoint.Write), kept in DIR/mobilevit-small/model.safetensors.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using AotVit.Runtime.Diagnostics;
using AotVit.Runtime.Imaging;

namespace AotVit.Bench;

internal static class JpegBench
{
    private const string Classifier = "mobilevit-small";

    private static string Checkpoint(string cache)
    {
        string path = Path.Combine(cache, Classifier, "model.safetensors");
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            SyntheticCheckpoint.Write(Classifier, path + ".tmp", 0);
            File.Move(path + ".tmp", path, overwrite: true);
        }
        return path;
    }

    /// <summary>VisionModel.PreprocessEncoded for any catalog model without loading its weights; returns the
    /// read+decode and streaming times.</summary>
    // The product's file -> pixel_values path on the calling thread (VisionModel.PreprocessEncoded without the model's
    // threads): ReadFile, then DecodeStreaming (a JPEG is decoded MCU row by MCU row straight into the streaming
    // resize, only the stored pixels the output depends on) and Finish. Returns (read, decode + streamed preprocessing).
    private static (double Read, double DecodeAndStream) Preprocess(PreprocessPlan plan, string path, Span<float> destination)
    {
        long t0 = Stopwatch.GetTimestamp();
        byte[] encoded = ImageDecoder.ReadFile(path);
        long t1 = Stopwatch.GetTimestamp();
        using (var stream = ImageDecoder.DecodeStreaming(encoded, plan))
            stream.Finish(destination);
        long t2 = Stopwatch.GetTimestamp();
        return (Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds, Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds);
    }

    private static string Top5(ImageClassifier c, ReadOnlySpan<float> logits) =>
        string.Join(",", c.TopK(logits, 5).Select(p => p.ClassIndex.ToString(CultureInfo.InvariantCulture)));

    private static string F(double v) => v.ToString("F3", CultureInfo.InvariantCulture);

    public static int Serve(Args a)
    {
        string cache = a.Get("--cache") ?? "artifacts/bench";
        string onnxDir = a.Get("--onnx-dir") ?? Path.Combine(cache, "onnx");
        var classifiers = new Dictionary<int, ImageClassifier>();
        var orts = new Dictionary<int, OrtEngine>();
        var pixelsOf = new Dictionary<string, float[]>();
        ImageClassifier ClassifierFor(int threads)
        {
            if (!classifiers.TryGetValue(threads, out var c))
            {
                c = ImageClassifier.Load(Classifier, Checkpoint(cache), new ModelOptions { Threads = threads, MaxBatch = 1 });
                classifiers[threads] = c;
            }
            return c;
        }
        var descriptor = ModelCatalog.Find(Classifier).Descriptor;
        Console.Out.WriteLine($"ready {(MachineInfo.IsNativeAot ? "NativeAOT" : "JIT")} {MachineInfo.SimdDescription.Replace(' ', '_')}");
        Console.Out.Flush();
        string? line;
        while ((line = Console.In.ReadLine()) is not null)
        {
            string[] p = line.Split(' ', 3);
            string reply;
            try
            {
                switch (p[0])
                {
                    case "decode":
                        {
                            long t0 = Stopwatch.GetTimestamp();
                            var (img, _) = ImageDecoder.DecodeStored(ImageDecoder.ReadFile(p[1]), applyExifOrientation: false);
                            double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                            GC.KeepAlive(img);
                            reply = $"ok {F(ms)}";
                            break;
                        }
                    case "pre":
                        {
                            var plan = ModelCatalog.Find(p[1]).Plan;
                            var dest = new float[ModelCatalog.Find(p[1]).Descriptor.InputFloatsPerImage];
                            var (d, s) = Preprocess(plan, p[2], dest);
                            reply = $"ok {F(d + s)} {F(d)} {F(s)}";
                            break;
                        }
                    case "pixels":
                        {
                            string[] q = p[2].Split(' ', 2);
                            var dest = new float[ModelCatalog.Find(p[1]).Descriptor.InputFloatsPerImage];
                            Preprocess(ModelCatalog.Find(p[1]).Plan, q[0], dest);
                            File.WriteAllBytes(q[1], MemoryMarshal.AsBytes(dest.AsSpan()).ToArray());
                            string same = "-";
                            if (p[1] == Classifier)
                            {
                                var product = ClassifierFor(1).PreprocessFile(q[0]);
                                same = product.AsSpan().SequenceEqual(dest) ? "1" : "0";
                            }
                            reply = $"ok {same}";
                            break;
                        }
                    case "e2e":
                        {
                            var c = ClassifierFor(int.Parse(p[1], CultureInfo.InvariantCulture));
                            long t0 = Stopwatch.GetTimestamp();
                            var result = c.Classify(p[2], 5);
                            double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                            reply = $"ok {F(ms)} {string.Join(",", result.Top.Select(t => t.ClassIndex))}";
                            break;
                        }
                    case "model":
                        {
                            var c = ClassifierFor(int.Parse(p[1], CultureInfo.InvariantCulture));
                            if (!pixelsOf.TryGetValue(p[2], out var px)) pixelsOf[p[2]] = px = c.PreprocessFile(p[2]);
                            long t0 = Stopwatch.GetTimestamp();
                            var result = c.ClassifyPixelsBatch(1, px, 5)[0];
                            double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                            reply = $"ok {F(ms)} {string.Join(",", result.Top.Select(t => t.ClassIndex))}";
                            break;
                        }
                    case "ort":
                        {
                            int threads = int.Parse(p[1], CultureInfo.InvariantCulture);
                            if (!orts.TryGetValue(threads, out var ort))
                            {
                                ort = new OrtEngine(Models.OnnxPath(onnxDir, descriptor), descriptor, threads);
                                orts[threads] = ort;
                            }
                            float[] px = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(p[2])).ToArray();
                            ort.Prepare(1, px);
                            long t0 = Stopwatch.GetTimestamp();
                            ort.Run();
                            double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                            reply = $"ok {F(ms)} {Top5(ClassifierFor(1), ort.Outputs[0])}";
                            break;
                        }
                    case "ortbatch":
                        {
                            int threads = int.Parse(p[1], CultureInfo.InvariantCulture);
                            if (!orts.TryGetValue(threads, out var ort))
                            {
                                ort = new OrtEngine(Models.OnnxPath(onnxDir, descriptor), descriptor, threads);
                                orts[threads] = ort;
                            }
                            float[] px = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(p[2])).ToArray();
                            int per = descriptor.InputFloatsPerImage, n = px.Length / per;
                            if (n == 0 || n * per != px.Length) throw new InvalidDataException($"{p[2]}: {px.Length} floats is not a batch of [3, 256, 256] images");
                            ort.Prepare(n, px);
                            long t0 = Stopwatch.GetTimestamp();
                            ort.Run();
                            double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                            int classes = ort.Outputs[0].Length / n;
                            var top1 = new string[n];
                            for (int i = 0; i < n; i++)
                            {
                                var row = ort.Outputs[0].AsSpan(i * classes, classes);
                                int best = 0;
                                for (int k = 1; k < classes; k++) if (row[k] > row[best]) best = k;
                                top1[i] = best.ToString(CultureInfo.InvariantCulture);
                            }
                            reply = $"ok {F(ms)} {string.Join(",", top1)}";
                            break;
                        }
                    default:
                        reply = $"error unknown command '{p[0]}'";
                        break;
                }
            }
            catch (Exception e)
            {
                reply = "error " + e.GetType().Name + ": " + e.Message.ReplaceLineEndings(" ");
            }
            Console.Out.WriteLine(reply);
            Console.Out.Flush();
        }
        foreach (var c in classifiers.Values) c.Dispose();
        foreach (var o in orts.Values) o.Dispose();
        return 0;
    }

    public static int Rss(Args a, string[] what)
    {
        string cache = a.Get("--cache") ?? "artifacts/bench";
        Action run;
        ImageClassifier? classifier = null;
        if (what[0] == "pre")
        {
            var plan = ModelCatalog.Find(what[1]).Plan;
            var dest = new float[ModelCatalog.Find(what[1]).Descriptor.InputFloatsPerImage];
            run = () => Preprocess(plan, what[2], dest);
        }
        else if (what[0] == "e2e")
        {
            classifier = ImageClassifier.Load(Classifier, Checkpoint(cache),
                                              new ModelOptions { Threads = int.Parse(what[1], CultureInfo.InvariantCulture), MaxBatch = 1 });
            var warm = new byte[64 * 48 * 3];
            classifier.Classify(new RgbImage(64, 48, warm), 5);
            run = () => classifier.Classify(what[2], 5);
        }
        else
        {
            throw new ArgumentException($"--jpeg-rss: pre MODEL PATH or e2e THREADS PATH, got {what[0]}");
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        File.WriteAllText("/proc/self/clear_refs", "5");
        double before = MachineInfo.CurrentRssBytes / 1048576.0;
        run();
        double peak = MachineInfo.PeakRssBytes / 1048576.0;
        Console.WriteLine($"ok {F(before)} {F(peak)}");
        classifier?.Dispose();
        return 0;
    }
}
