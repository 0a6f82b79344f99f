using System.Diagnostics;
using System.Globalization;
using System.Text;
using AotVit.Runtime.Diagnostics;
using AotVit.Runtime.Interop;

namespace AotVit.Cli;

/// <summary>
/// `aotvit bench`: median latency per (model, threads, batch), GFLOP/s from the generator's MAC count, the fraction of
/// this machine's FMA peak measured in the same process with the same thread count, load time, first-run time and peak RSS.
/// </summary>
internal static class Bench
{
    // A class, not a record: a record's synthesized Equals, GetHashCode and ToString (never used) cost executable size.
    private sealed class Row(string model, int threads, int batch, double loadMs, double firstMs, double medianMs, double p10Ms, double p90Ms,
                             int runs, double gflops, double peakGflops, long nativeBytes)
    {
        public string Model { get; } = model;
        public int Threads { get; } = threads;
        public int Batch { get; } = batch;
        public double LoadMs { get; } = loadMs;
        public double FirstMs { get; } = firstMs;
        public double MedianMs { get; } = medianMs;
        public double P10Ms { get; } = p10Ms;
        public double P90Ms { get; } = p90Ms;
        public int Runs { get; } = runs;
        public double Gflops { get; } = gflops;
        public double PeakGflops { get; } = peakGflops;
        public long NativeBytes { get; } = nativeBytes;
    }

    public static int Run(Options o)
    {
        string which = o.Get("--model") ?? "all";
        var models = new List<ModelCatalog.Entry>();
        foreach (string name in which.Split(','))
        {
            if (name == "all") models.AddRange(ModelCatalog.All);
            else models.Add(name switch
            {
                "vit" => ModelCatalog.Find("vit-base-patch32-224-in21k"),
                "mobilevit" => ModelCatalog.Find("mobilevit-small"),
                _ => ModelCatalog.TryFind(name) ?? throw new UsageException($"--model: unknown model '{name}'; compiled models: {ModelCatalog.Names()} (or all)"),
            });
        }
        for (int i = models.Count - 1; i > 0; i--)
            if (models.IndexOf(models[i]) < i) models.RemoveAt(i);   // keep the first mention of each model
        string? weights = o.Get("--weights");
        var precision = Commands.Precision(o);
        if (weights is not null && models.Count != 1) throw new UsageException("--weights applies to one model: give --model NAME too");
        var threads = new List<int>();
        foreach (int t in o.GetInts("--threads", [1, Math.Min(2, Environment.ProcessorCount)], 1, 64))
            if (!threads.Contains(t)) threads.Add(t);
        int[] batches = o.GetInts("--batch", [1], 1, 256);
        double seconds = o.GetInt("--seconds", 3, 1, 600);
        string image = Path.Combine(AppContext.BaseDirectory, "chelsea.png");
        // Created now, written at the end: a path that cannot be written fails before minutes of timing, not after.
        using FileStream? markdown = o.Get("--markdown") is { } markdownPath ? UserFiles.Create(markdownPath, "markdown file") : null;

        int maxBatch = 1;
        foreach (int b in batches) maxBatch = Math.Max(maxBatch, b);
        // The date by hand: DateTime's format-string machinery (with time zones) is ~80 KB of the NativeAOT executable.
        var now = DateTime.UtcNow;
        StdStream.Out.WriteLine($"aotvit bench — {(MachineInfo.IsNativeAot ? "NativeAOT" : "JIT")}, SIMD {MachineInfo.SimdDescription}, {Environment.ProcessorCount} cores, " +
                                $"{now.Year:D4}-{now.Month:D2}-{now.Day:D2} {now.Hour:D2}:{now.Minute:D2} UTC" +
                                (precision == ModelPrecision.Int8 ? ", precision int8 (nn.Linear layers)" : ""));
        var peaks = new Dictionary<int, double>();
        foreach (int t in threads)
        {
            double p = MachineInfo.MeasureFmaPeakGflops(t);
            peaks[t] = p;
            StdStream.Out.WriteLine($"measured FMA peak, {t} thread(s): {p:F1} GFLOP/s");
        }

        var rows = new List<Row>();
        foreach (var entry in models)
        {
            foreach (int t in threads)
            {
                var options = new ModelOptions { Threads = t, MaxBatch = maxBatch, Precision = precision };
                var sw = Stopwatch.StartNew();
                using VisionModel model = entry.Kind == Runtime.Model.ModelKind.Classifier
                    ? (weights is null ? ImageClassifier.CreateSynthetic(entry.Name, options) : ImageClassifier.Load(entry.Name, weights, options))
                    : (weights is null ? FeatureExtractor.CreateSynthetic(entry.Name, options) : FeatureExtractor.Load(entry.Name, weights, options));
                double loadMs = sw.Elapsed.TotalMilliseconds;
                var single = File.Exists(image) ? model.Preprocess(model.LoadImage(image)) : Gradient(model.InputFloatsPerImage);
                foreach (int b in batches)
                {
                    var pixels = new float[(long)b * single.Length];
                    for (int i = 0; i < b; i++) single.CopyTo(pixels, (long)i * single.Length);
                    var outputs = new float[model.Descriptor.Outputs.Count][];
                    for (int i = 0; i < outputs.Length; i++) outputs[i] = new float[(long)b * model.Descriptor.Outputs[i].FloatsPerImage];
                    void Once() => model.Run(b, pixels, outputs[0], outputs.Length > 1 ? outputs[1] : default);
                    sw.Restart();
                    Once();
                    double firstMs = sw.Elapsed.TotalMilliseconds;
                    Once();
                    var times = new List<double>();
                    var budget = Stopwatch.StartNew();
                    while (times.Count < 5 || (budget.Elapsed.TotalSeconds < seconds && times.Count < 10_000))
                    {
                        sw.Restart();
                        Once();
                        times.Add(sw.Elapsed.TotalMilliseconds);
                    }
                    times.Sort();
                    double median = times[times.Count / 2];
                    double gflops = 2.0 * model.Descriptor.MacsPerImage * b / (median / 1e3) / 1e9;
                    var row = new Row(model.Descriptor.Name, t, b, loadMs, firstMs, median, times[times.Count / 10], times[times.Count * 9 / 10],
                                      times.Count, gflops, peaks[t], model.NativeBytes);
                    rows.Add(row);
                    StdStream.Out.WriteLine($"{row.Model,-28} threads {t}  batch {b,3}  median {median,8:F2} ms  (p10 {row.P10Ms:F2}, p90 {row.P90Ms:F2}, {row.Runs} runs)  " +
                                      $"{gflops,6:F1} GFLOP/s = {100 * gflops / peaks[t],5:F1} % of peak  load {loadMs:F0} ms  first run {firstMs:F1} ms");
                    if (o.Has("--profile") || o.Has("--profile-all")) Profile(Once, median, o.Has("--profile-all") ? int.MaxValue : 12);
                }
            }
        }
        long rss = MachineInfo.PeakRssBytes;
        StdStream.Out.WriteLine($"peak RSS {rss / 1048576.0:F1} MiB");
        markdown?.Write(Encoding.UTF8.GetBytes(Markdown(rows, rss)));
        return 0;
    }

    /// <summary>Runs a few profiled passes and prints where the time goes, by op kind and the <paramref name="slowest"/> slowest ops.</summary>
    private static void Profile(Action once, double medianMs, int slowest)
    {
        const int runs = 10;
        OpProfiler.Reset();
        OpProfiler.Enabled = true;
        try { for (int i = 0; i < runs; i++) once(); }
        finally { OpProfiler.Enabled = false; }
        var entries = OpProfiler.Snapshot(); // slowest first
        double total = 0;
        foreach (var e in entries) total += e.Milliseconds;
        total /= runs;
        StdStream.Out.WriteLine($"    profile ({runs} runs): {total:F2} ms in kernels per run, {Math.Max(0, medianMs - total):F2} ms outside (median {medianMs:F2})");
        // Per op kind, in order of first appearance; then slowest kind first (a stable sort: ties keep that order).
        var kinds = new List<KindTotal>();
        foreach (var e in entries)
        {
            var kind = kinds.Find(k => k.Kind == e.Kind);
            if (kind is null) kinds.Add(kind = new KindTotal { Kind = e.Kind });
            kind.Milliseconds += e.Milliseconds;
            kind.Calls += e.Calls;
        }
        for (int i = 1; i < kinds.Count; i++)
            for (int j = i; j > 0 && kinds[j].Milliseconds > kinds[j - 1].Milliseconds; j--) (kinds[j], kinds[j - 1]) = (kinds[j - 1], kinds[j]);
        foreach (var g in kinds)
            StdStream.Out.WriteLine($"      {OpProfiler.Name(g.Kind),-10} {g.Milliseconds / runs,8:F2} ms  {100 * g.Milliseconds / runs / total,5:F1} %  ({g.Calls / runs} calls)");
        StdStream.Out.WriteLine(slowest < entries.Count ? "      slowest ops:" : "      every op, slowest first:");
        for (int i = 0; i < Math.Min(slowest, entries.Count); i++)
            StdStream.Out.WriteLine($"        {entries[i].Milliseconds / runs,7:F3} ms  {OpProfiler.Name(entries[i].Kind),-10} {entries[i].Module}");
    }

    // A class, not a tuple: a generic collection of tuples holding an enum keeps enum reflection metadata in NativeAOT.
    private sealed class KindTotal
    {
        public OpKind Kind;
        public double Milliseconds;
        public long Calls;
    }

    private static float[] Gradient(int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (i % 255) / 255f;
        return a;
    }

    private static string Markdown(List<Row> rows, long rss)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores, SIMD {MachineInfo.SimdDescription}, {(MachineInfo.IsNativeAot ? "NativeAOT" : "JIT")}; peak RSS {rss / 1048576.0:F0} MiB.");
        sb.AppendLine();
        sb.AppendLine("| model | threads | batch | median ms | p10 | p90 | GFLOP/s | % FMA peak | load ms | first run ms |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {r.Model} | {r.Threads} | {r.Batch} | {r.MedianMs:F2} | {r.P10Ms:F2} | {r.P90Ms:F2} | {r.Gflops:F1} | {100 * r.Gflops / r.PeakGflops:F1} | {r.LoadMs:F0} | {r.FirstMs:F1} |");
        return sb.ToString();
    }
}
