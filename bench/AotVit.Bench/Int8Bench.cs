// `--int8`: the precision comparison of issue 20. Per model and thread count, up to four engines side by side in one
// process — aot-vit float32, aot-vit int8, ORT float32 (DIR/<model>.onnx), ORT int8 (DIR/<model>.int8.onnx, made by
// tools/onnx_quantize.py the way ORT's quantize_dynamic does it with its defaults, Conv -> ConvInteger included) and
// ORT int8 MatMul-only (DIR/<model>.int8-matmul.onnx: op_types_to_quantize=["MatMul"], convs float) — timed interleaved per batch, medians and speed-ups
// against ORT float32 from the same run; then every engine's outputs against aot-vit float32 on the golden images
// (cosine, max abs diff, top-5 agreement). `--int8-report RUN.json --md OUT` rewrites the page from a saved run.
//   AotVit.Bench --int8 [--models vit,mobilevit] [--threads 1,2] [--batch 1,8] [--seconds S] [--images DIR]
//                [--cache DIR] [--onnx-dir DIR] [--json OUT] [--md OUT] [--note TEXT]
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using AotVit.Runtime.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace AotVit.Bench;

internal sealed record Int8LatencyRow(string Model, string Engine, int Threads, int Batch, double MedianMs, double P10Ms, double P90Ms, int Runs);

/// <summary>One engine's outputs against a reference engine's over the golden images (one output tensor).</summary>
internal sealed record DeviationRow(string Model, string Engine, string Reference, string Output, int Images, double MinCosine,
                                   double MeanCosine, double MaxAbsDiff, double MaxAbsReference, int Top5Identical, int Top1Equal);

internal sealed record Int8Results
{
    public string Build { get; init; } = "";
    public string DateUtc { get; init; } = "";
    public string Cpu { get; init; } = "";
    public int Cores { get; init; }
    public string Simd { get; init; } = "";
    public string Dotnet { get; init; } = "";
    public string? OrtVersion { get; init; }
    public string LoadAvgStart { get; init; } = "";
    public string LoadAvgEnd { get; set; } = "";
    public double SecondsPerEngine { get; init; }
    public List<PeakRow> FmaPeak { get; init; } = [];
    public List<string> Engines { get; init; } = [];
    /// <summary>Engine → why it did not run (e.g. "aot-vit int8: not available in this build").</summary>
    public Dictionary<string, string> Unavailable { get; init; } = [];
    public List<string> Images { get; init; } = [];
    public int DeviationThreads { get; init; }
    public List<Int8LatencyRow> Latency { get; init; } = [];
    public List<DeviationRow> Deviation { get; init; } = [];
}

internal static class Int8Bench
{
    public const string AotFp32 = "aot-vit fp32", AotInt8 = "aot-vit int8", OrtFp32 = "ORT fp32", OrtInt8 = "ORT int8", OrtInt8MatMul = "ORT int8 MatMul-only";
    private static readonly string[] EngineOrder = [AotFp32, AotInt8, OrtFp32, OrtInt8MatMul, OrtInt8];
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The golden images of tools/reference.py (VIT_IMAGES ∪ MOBILEVIT_IMAGES), every model gets all of them.</summary>
    private static readonly string[] GoldenImages =
        ["chelsea.png", "astronaut.png", "coffee.png", "rocket.jpg", "small.png", "photo_exif6.jpg", "phone_420_q85.jpg", "progressive.jpg"];

    public static int Run(Args a)
    {
        string cache = Path.GetFullPath(a.Get("--cache") ?? Path.Combine("artifacts", "bench"));
        string onnxDir = Path.GetFullPath(a.Get("--onnx-dir") ?? Path.Combine(cache, "onnx"));
        string imagesDir = Path.GetFullPath(a.Get("--images") ?? Path.Combine("tests", "AotVit.Tests", "data", "images"));
        double seconds = double.Parse(a.Get("--seconds") ?? "2", Inv);
        int warmup = int.Parse(a.Get("--warmup") ?? "3", Inv);
        int settleMs = int.Parse(a.Get("--settle-ms") ?? "20", Inv);
        string[] models = Models.List(a.Get("--models") ?? "vit,mobilevit");
        int[] threads = Runner.Ints(a.Get("--threads") ?? "1,2");
        int[] batches = Runner.Ints(a.Get("--batch") ?? "1,8");
        var images = GoldenImages.Select(i => Path.Combine(imagesDir, i)).Where(File.Exists).ToList();
        if (images.Count == 0) throw new FileNotFoundException($"no golden images in {imagesDir} (--images DIR)");

        string? ortVersion = null, ortSkip = null;
        try { ortVersion = OrtEngine.Version; }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            ortSkip = $"ONNX Runtime native library not loadable: {e.Message}";
        }

        var results = new Int8Results
        {
            Build = MachineInfo.IsNativeAot ? "NativeAOT" : "JIT",
            DateUtc = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", Inv),
            Cpu = MachineFacts.CpuModel(),
            Cores = Environment.ProcessorCount,
            Simd = MachineInfo.SimdDescription,
            Dotnet = RuntimeInformation.FrameworkDescription,
            OrtVersion = ortVersion,
            LoadAvgStart = MachineFacts.LoadAverage(),
            SecondsPerEngine = seconds,
            Images = images.Select(Path.GetFileName).ToList()!,
            DeviationThreads = threads[0],
        };
        Console.WriteLine($"AotVit.Bench --int8 — {results.Build}, {results.Cpu}, {results.Cores} cores, SIMD {results.Simd}, ORT {ortVersion ?? "n/a"}, load average {results.LoadAvgStart}");

        results.FmaPeak.AddRange(Runner.MeasurePeaks(threads));

        foreach (string m in models)
        {
            var entry = Models.Entry(m);
            var d = entry.Descriptor;
            string checkpoint = Models.CheckpointPath(cache, d);
            Directory.CreateDirectory(Path.GetDirectoryName(checkpoint)!);
            SyntheticCheckpoint.Write(d.Name, checkpoint + ".tmp", 0);
            File.Move(checkpoint + ".tmp", checkpoint, overwrite: true);
            string fp32Onnx = Models.OnnxPath(onnxDir, d), int8Onnx = Models.OnnxInt8Path(onnxDir, d);
            string int8MatMulOnnx = Path.Combine(onnxDir, d.Name + ".int8-matmul.onnx");
            float[]? single = null;
            List<float[]>? golden = null;

            foreach (int t in threads)
            {
                var engines = new List<IEngine>();
                try
                {
                    engines.Add(new AotVitEngine(Models.LoadAotVit(entry, checkpoint, t, batches.Max()), AotFp32));
                    var aot = (AotVitEngine)engines[0];
                    single ??= aot.Model.Preprocess(aot.Model.LoadImage(images[0]));
                    golden ??= images.Select(p => aot.Model.Preprocess(aot.Model.LoadImage(p))).ToList();
                    Add(engines, results, AotInt8, () =>
                    {
                        var model = Models.TryLoadAotVitInt8(entry, checkpoint, t, batches.Max(), out string? why);
                        return model is null ? throw new NotSupportedException(why) : new AotVitEngine(model, AotInt8);
                    });
                    Add(engines, results, OrtFp32, () => ortSkip is not null ? throw new NotSupportedException(ortSkip)
                        : File.Exists(fp32Onnx) ? new OrtEngine(fp32Onnx, d, t, name: OrtFp32)
                        : throw new NotSupportedException($"ORT fp32: {fp32Onnx} absent (tools/reference.py --export-onnx)"));
                    Add(engines, results, OrtInt8, () => ortSkip is not null ? throw new NotSupportedException(ortSkip)
                        : File.Exists(int8Onnx) ? new OrtEngine(int8Onnx, d, t, name: OrtInt8)
                        : throw new NotSupportedException($"ORT int8: {int8Onnx} absent (tools/onnx_quantize.py)"));
                    Add(engines, results, OrtInt8MatMul, () => ortSkip is not null ? throw new NotSupportedException(ortSkip)
                        : File.Exists(int8MatMulOnnx) ? new OrtEngine(int8MatMulOnnx, d, t, name: OrtInt8MatMul)
                        : throw new NotSupportedException($"ORT int8 MatMul-only: {int8MatMulOnnx} absent (tools/onnx_quantize.py --dir)"));
                    engines.Sort((x, y) => Array.IndexOf(EngineOrder, x.Name).CompareTo(Array.IndexOf(EngineOrder, y.Name)));
                    foreach (var e in engines)
                        if (!results.Engines.Contains(e.Name)) results.Engines.Add(e.Name);
                    Console.WriteLine($"{d.Name}, {t} thread(s): engines {string.Join(", ", engines.Select(e => e.Name))}");

                    if (t == threads[0]) Deviations(results, d, engines, golden!);

                    var arr = engines.ToArray();
                    foreach (int b in batches)
                    {
                        var pixels = Models.Replicate(single!, b);
                        foreach (var e in arr) e.Prepare(b, pixels);
                        for (int i = 0; i < warmup; i++)
                            foreach (var e in arr) e.Run();
                        var times = Runner.Interleave(arr, seconds, settleMs);
                        for (int i = 0; i < arr.Length; i++)
                        {
                            var s = times[i];
                            s.Sort();
                            var row = new Int8LatencyRow(d.Name, arr[i].Name, t, b, Runner.Percentile(s, 0.5), Runner.Percentile(s, 0.1), Runner.Percentile(s, 0.9), s.Count);
                            results.Latency.Add(row);
                        }
                        var ortRow = results.Latency.LastOrDefault(r => r.Model == d.Name && r.Threads == t && r.Batch == b && r.Engine == OrtFp32);
                        foreach (var row in results.Latency.TakeLast(arr.Length))
                            Console.WriteLine($"  {d.Name,-27} {row.Engine,-13} threads {t} batch {b}  median {row.MedianMs,8:F2} ms (p10 {row.P10Ms:F2}, p90 {row.P90Ms:F2}, {row.Runs} runs)" +
                                              (ortRow is null ? "" : $"  ×{ortRow.MedianMs / row.MedianMs:F2} vs ORT fp32"));
                    }
                }
                finally
                {
                    foreach (var e in engines) e.Dispose();
                }
            }
        }

        results.LoadAvgEnd = MachineFacts.LoadAverage();
        Console.WriteLine($"load average at the end: {results.LoadAvgEnd}");
        if (a.Get("--json") is { } json)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(json))!);
            File.WriteAllText(json, JsonSerializer.Serialize(results, BenchJson.Default.Int8Results));
            Console.WriteLine($"wrote {json}");
        }
        if (a.Get("--md") is { } md)
        {
            File.WriteAllText(md, Markdown(results, a.Get("--note")));
            Console.WriteLine($"wrote {md}");
        }
        return 0;
    }

    /// <summary>`--int8-report RUN.json --md OUT [--note TEXT]`: the page again from a saved run.</summary>
    public static int Report(Args a)
    {
        string json = a.Get("--int8-report") ?? throw new ArgumentException("--int8-report needs RUN.json");
        var r = JsonSerializer.Deserialize(File.ReadAllText(json), BenchJson.Default.Int8Results)!;
        string md = a.Get("--md") ?? Path.Combine("docs", "bench", "int8.md");
        File.WriteAllText(md, Markdown(r, a.Get("--note")));
        Console.WriteLine($"wrote {md}");
        return 0;
    }

    private static void Add(List<IEngine> engines, Int8Results results, string name, Func<IEngine> create)
    {
        try { engines.Add(create()); }
        catch (Exception e) when (e is NotSupportedException or OnnxRuntimeException or IOException or InvalidOperationException or ArgumentException)
        {
            string why = e is NotSupportedException ? e.Message : $"{name}: {e.GetType().Name}: {e.Message}";
            if (results.Unavailable.TryAdd(name, why)) Console.WriteLine($"  {why}");
        }
    }

    /// <summary>Each engine (and ORT int8 against ORT fp32) on every golden image, batch 1, against aot-vit fp32.</summary>
    private static void Deviations(Int8Results results, Runtime.Model.ModelDescriptor d, List<IEngine> engines, List<float[]> golden)
    {
        var outs = engines.ToDictionary(e => e.Name, _ => new List<float[][]>());
        foreach (var pixels in golden)
            foreach (var e in engines)
            {
                e.Prepare(1, pixels);
                e.Run();
                outs[e.Name].Add(e.Outputs.Select(o => o.ToArray()).ToArray());
            }
        var pairs = engines.Where(e => e.Name != AotFp32).Select(e => (e.Name, Ref: AotFp32)).ToList();
        for (int o = 0; o < d.Outputs.Count; o++)
            foreach (var (name, reference) in pairs)
            {
                double minCos = 1, sumCos = 0, maxDiff = 0, maxRef = 0;
                int top5 = 0, top1 = 0;
                for (int i = 0; i < golden.Count; i++)
                {
                    float[] x = outs[name][i][o], y = outs[reference][i][o];
                    double dot = 0, nx = 0, ny = 0;
                    for (int j = 0; j < x.Length; j++)
                    {
                        dot += (double)x[j] * y[j]; nx += (double)x[j] * x[j]; ny += (double)y[j] * y[j];
                        maxDiff = Math.Max(maxDiff, Math.Abs((double)x[j] - y[j]));
                        maxRef = Math.Max(maxRef, Math.Abs((double)y[j]));
                    }
                    double cos = dot / Math.Sqrt(nx * ny);
                    minCos = Math.Min(minCos, cos);
                    sumCos += cos;
                    if (o != d.Outputs.Count - 1) { top5 = top1 = -1; continue; } // top-5 of the last output only (pooler_output / logits)
                    int[] tx = Top(x, 5), ty = Top(y, 5);
                    if (tx.SequenceEqual(ty)) top5++;
                    if (tx[0] == ty[0]) top1++;
                }
                var row = new DeviationRow(d.Name, name, reference, d.Outputs[o].Name, golden.Count, minCos, sumCos / golden.Count, maxDiff, maxRef, top5, top1);
                results.Deviation.Add(row);
                Console.WriteLine($"  deviation {d.Name} {d.Outputs[o].Name}: {name} vs {reference}: cosine min {minCos:F6} mean {row.MeanCosine:F6}, max |Δ| {maxDiff:E2} (max |ref| {maxRef:F3}), " +
                                  (top5 < 0 ? "no top-5 (not the last output)" : $"top-5 identical {top5}/{golden.Count}, top-1 {top1}/{golden.Count}"));
            }
    }

    /// <summary>Indices of the k largest values, largest first (ties: lower index first, as np.argsort(-v, stable)).</summary>
    private static int[] Top(float[] v, int k) =>
        Enumerable.Range(0, v.Length).OrderByDescending(i => v[i]).ThenBy(i => i).Take(k).ToArray();

    private static string F(double v, int digits = 2) => double.IsNaN(v) ? "–" : v.ToString("F" + digits, Inv);

    private static string Markdown(Int8Results r, string? note)
    {
        var sb = new StringBuilder();
        void L(string s = "") => sb.Append(s).Append('\n');
        L("# int8 vs float32: aot-vit and ONNX Runtime (issue 20)");
        L();
        L($"Generated by `bash tools/int8_bench.sh` ({r.DateUtc}, {r.Build} build of `bench/AotVit.Bench --int8`); rerun it to refresh this page.");
        L("Same seed-0 synthetic checkpoint in every engine (`SyntheticCheckpoint.Write` for aot-vit, `tools/reference.py --export-onnx` for ORT);");
        L("the timed input is `chelsea.png` preprocessed by aot-vit (the batch repeats it).");
        L();
        L("## Machine");
        L();
        L($"- CPU: {r.Cpu}, {r.Cores} logical cores visible; aot-vit kernels use {r.Simd}");
        L($"- {r.Dotnet}; ONNX Runtime {r.OrtVersion ?? "not run"} (NuGet `Microsoft.ML.OnnxRuntime`, CPU execution provider)");
        L($"- measured FMA peak in the same process: {string.Join(", ", r.FmaPeak.Select(p => $"{F(p.Gflops, 1)} GFLOP/s with {p.Threads} thread(s)"))}");
        L($"- load average (1, 5, 15 min) at the start: **{r.LoadAvgStart}**, at the end: {r.LoadAvgEnd}. The VM is shared: absolute times move with the load,");
        L("  the engines are timed interleaved (rounds of blocks, one untimed run then 4 timed runs per block, engine order reversed every other round),");
        L("  so the ratios within one configuration are the meaningful numbers.");
        if (note is not null) { L(); L(note); }
        L();
        L("## Engines");
        L();
        L("- **aot-vit fp32**: `FeatureExtractor.Load` / `ImageClassifier.Load`, `ModelOptions { Threads = t, MaxBatch = 8 }`.");
        L("- **aot-vit int8**: the same with `Precision = ModelPrecision.Int8` (issue 20: per-output-channel symmetric int8 weights, activations quantized per row).");
        L("- **ORT fp32**: `<model>.onnx` from `tools/reference.py --export-onnx` (opset 17); `ORT_ENABLE_ALL`, `IntraOpNumThreads = t`, `InterOpNumThreads = 1`, sequential.");
        L("- **ORT int8 MatMul-only**: `<model>.int8-matmul.onnx` from `tools/onnx_quantize.py`, the rewrite ORT's `quantize_dynamic` makes with its defaults");
        L("  and `op_types_to_quantize=[\"MatMul\"]`: every MatMul with a weight initializer (and the Gemm of 2-D linears, rewritten to MatMul first) becomes");
        L("  DynamicQuantizeLinear (u8, per tensor) + MatMulInteger with int8 weights (per tensor, symmetric, full range: `weight_type=QInt8, per_channel=False,");
        L("  reduce_range=False`) + Cast + Mul by the two scales; bias Add, LayerNorm, softmax, GELU, attention's activation × activation MatMuls and all");
        L("  convolutions stay float. This is the issue's \"each weight MatMul rewritten\" peer.");
        L("- **ORT int8**: `<model>.int8.onnx`, `quantize_dynamic`'s full defaults: the same, plus every Conv → DynamicQuantizeLinear + ConvInteger (int8");
        L("  weights per tensor) + Cast + Mul + bias Add (ViT: the patch embedding; MobileViT: all 35 convolutions). Same session options as ORT fp32.");
        if (r.Unavailable.Count > 0)
        {
            L();
            foreach (var (engine, why) in r.Unavailable.OrderBy(kv => Array.IndexOf(EngineOrder, kv.Key)))
                L($"- **{engine}** did not run: {why}");
        }
        L();
        L("## Latency (ms, median of the interleaved runs; × = ORT fp32 median / this median, > 1 is faster than ORT fp32)");
        L();
        var engines = EngineOrder.Where(e => r.Engines.Contains(e) || r.Unavailable.ContainsKey(e)).ToList();
        L("| model | threads | batch | " + string.Join(" | ", engines.Select(e => $"{e} ms | ×")) + " |");
        L("|---|---:|---:|" + string.Concat(engines.Select(_ => "---:|---:|")));
        foreach (var g in r.Latency.GroupBy(x => (x.Model, x.Threads, x.Batch)))
        {
            var ort = g.FirstOrDefault(x => x.Engine == OrtFp32);
            var cells = engines.Select(e => g.FirstOrDefault(x => x.Engine == e) is { } row
                ? $"{F(row.MedianMs)} | {(ort is null ? "–" : F(ort.MedianMs / row.MedianMs))}"
                : "n/a | –");
            L($"| {g.Key.Model} | {g.Key.Threads} | {g.Key.Batch} | {string.Join(" | ", cells)} |");
        }
        L();
        L("p10–p90 and run counts are in the run's JSON (`docs/bench/int8.json`).");
        L();
        L($"## Output deviation on the golden images ({r.Images.Count}: {string.Join(", ", r.Images)}; batch 1, {r.DeviationThreads} thread(s))");
        L();
        L("Cosine of the flattened output against the reference engine (min and mean over the images), max abs difference over all images and elements");
        L("(with the reference's max |x| for scale), and on how many images the top-5 indices (order included) and the top-1 agree. For ViT's");
        L("`pooler_output` the top-5 is of the pooled embedding's components, as in the goldens. Synthetic seed-0 weights: no real accuracy is implied.");
        L();
        L("| model | output | engine | vs | cosine min | cosine mean | max abs diff | max abs ref | top-5 identical | top-1 equal |");
        L("|---|---|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var x in r.Deviation)
            L($"| {x.Model} | {x.Output} | {x.Engine} | {x.Reference} | {F(x.MinCosine, 6)} | {F(x.MeanCosine, 6)} | {x.MaxAbsDiff.ToString("E2", Inv)} | {F(x.MaxAbsReference, 3)} | {(x.Top5Identical < 0 ? "–" : $"{x.Top5Identical}/{x.Images}")} | {(x.Top1Equal < 0 ? "–" : $"{x.Top1Equal}/{x.Images}")} |");
        return sb.ToString();
    }

}
