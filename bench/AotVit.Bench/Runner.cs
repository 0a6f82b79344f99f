// The measuring run: one process, both engines loaded side by side, interleaved timing, output agreement,
// then cold start and peak RSS per engine measured in child processes of this executable.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using AotVit.Runtime.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace AotVit.Bench;

internal static class Runner
{
    private const ulong Seed = 0;
    private const int MinRounds = 3, MaxRounds = 2000, BlockRuns = 4;

    /// <summary>
    /// Timed runs of engines loaded side by side: rounds of blocks, the order reversed every other round (ABBA), so drift
    /// and noise bursts hit every engine alike, until each has had <paramref name="seconds"/> (at least MinRounds rounds).
    /// Each block is one untimed run, then BlockRuns timed runs back to back: ORT's intra-op threads keep spinning for
    /// more than 20 ms after a Run, and timing every run right after the other engine's (the earlier A B A B with a
    /// 20 ms pause) gave aot-vit a bimodal 2-thread time, MobileViT 16.8 ms after its own run and 23.4 ms after ORT's,
    /// 21.4 with ORT's spinning switched off; ORT itself barely cared (18.5 / 19.1). The untimed run absorbs that
    /// hand-over. Returns each engine's times in milliseconds, unsorted.
    /// </summary>
    public static List<double>[] Interleave(IEngine[] engines, double seconds, int settleMilliseconds)
    {
        var times = engines.Select(_ => new List<double>()).ToArray();
        var budget = Stopwatch.StartNew();
        for (int round = 0; round < MinRounds || (budget.Elapsed.TotalSeconds < seconds * engines.Length && round < MaxRounds); round++)
            for (int k = 0; k < engines.Length; k++)
            {
                int i = round % 2 == 0 ? k : engines.Length - 1 - k;
                Thread.Sleep(settleMilliseconds);
                engines[i].Run();
                for (int run = 0; run < BlockRuns; run++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    engines[i].Run();
                    times[i].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                }
            }
        return times;
    }

    /// <summary>The FMA peak for each thread count, measured now and printed.</summary>
    public static List<PeakRow> MeasurePeaks(int[] threads)
    {
        var peaks = new List<PeakRow>();
        foreach (int t in threads)
        {
            double peak = MachineInfo.MeasureFmaPeakGflops(t);
            peaks.Add(new PeakRow(t, peak));
            Console.WriteLine($"measured FMA peak, {t} thread(s): {peak:F1} GFLOP/s");
        }
        return peaks;
    }

    public static int Run(Args a)
    {
        string cache = Path.GetFullPath(a.Get("--cache") ?? Path.Combine("artifacts", "bench"));
        string onnxDir = Path.GetFullPath(a.Get("--onnx-dir") ?? Path.Combine(cache, "onnx"));
        double seconds = double.Parse(a.Get("--seconds") ?? "3", CultureInfo.InvariantCulture);
        int warmup = int.Parse(a.Get("--warmup") ?? "3", CultureInfo.InvariantCulture);
        int settleMilliseconds = int.Parse(a.Get("--settle-ms") ?? "20", CultureInfo.InvariantCulture);
        int coldReps = int.Parse(a.Get("--cold-reps") ?? "3", CultureInfo.InvariantCulture);
        int profileRuns = int.Parse(a.Get("--profile-runs") ?? "20", CultureInfo.InvariantCulture);
        string[] models = Models.List(a.Get("--models") ?? "vit,mobilevit");
        int[] threads = Ints(a.Get("--threads") ?? "1,2");
        int[] batches = Ints(a.Get("--batch") ?? "1,8");
        string image = a.Get("--image") ?? Path.Combine(AppContext.BaseDirectory, "chelsea.png");
        string build = MachineInfo.IsNativeAot ? "NativeAOT" : "JIT";

        string? ortSkip = models.Select(m => Models.OnnxPath(onnxDir, Models.Entry(m).Descriptor)).Where(p => !File.Exists(p)).ToArray() is { Length: > 0 } missing
            ? $"ONNX file(s) absent: {string.Join(", ", missing)} (export them with `/usr/bin/python3 tools/reference.py --export-onnx {onnxDir}` for the seed models and `tools/reference_family.py --export-onnx {onnxDir}` for the others, needs torch)"
            : null;
        string? ortVersion = null;
        try { ortVersion = OrtEngine.Version; }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            ortSkip = $"ONNX Runtime native library not loadable: {e.Message}";
        }
        if (ortSkip is not null) Console.WriteLine($"ORT skipped: {ortSkip}");

        var results = new RunResults
        {
            Build = build,
            DateUtc = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            Cpu = MachineFacts.CpuModel(),
            Cores = Environment.ProcessorCount,
            Simd = MachineInfo.SimdDescription,
            Dotnet = RuntimeInformation.FrameworkDescription,
            OrtVersion = ortVersion,
            OrtSkipped = ortSkip,
            LoadAvgStart = MachineFacts.LoadAverage(),
            SecondsPerEngine = seconds,
        };
        Console.WriteLine($"AotVit.Bench — {build}, {results.Cpu}, {results.Cores} cores, SIMD {results.Simd}, {results.Dotnet}, ORT {ortVersion ?? "n/a"}, load average {results.LoadAvgStart}");

        // Same seed-0 synthetic checkpoint as tools/reference.py exports to ONNX, as a real file (rewritten every run: cheap,
        // and it keeps the file in step with the generator).
        foreach (string m in models)
        {
            var d = Models.Entry(m).Descriptor;
            string path = Models.CheckpointPath(cache, d);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var sw = Stopwatch.StartNew();
            SyntheticCheckpoint.Write(d.Name, path + ".tmp", Seed);
            File.Move(path + ".tmp", path, overwrite: true);
            Console.WriteLine($"checkpoint {path} ({new FileInfo(path).Length / 1048576.0:F1} MiB, seed {Seed}, {sw.ElapsedMilliseconds} ms)");
        }

        results.FmaPeak.AddRange(MeasurePeaks(threads));

        foreach (string m in models)
        {
            var entry = Models.Entry(m);
            var d = entry.Descriptor;
            float[]? single = null;
            foreach (int t in threads)
            {
                using var aot = new AotVitEngine(Models.LoadAotVit(entry, Models.CheckpointPath(cache, d), t, batches.Max()));
                if (single is null)
                {
                    single = aot.Model.Preprocess(aot.Model.LoadImage(image));
                    File.WriteAllBytes(Models.PixelsPath(cache, d), MemoryMarshal.AsBytes(single.AsSpan()).ToArray());
                }
                using var ort = ortSkip is null ? new OrtEngine(Models.OnnxPath(onnxDir, d), d, t) : null;
                IEngine[] engines = ort is null ? [aot] : [aot, ort];
                foreach (int b in batches)
                {
                    var pixels = Models.Replicate(single, b);
                    foreach (var e in engines) e.Prepare(b, pixels);
                    for (int i = 0; i < warmup; i++)
                        foreach (var e in engines) e.Run();
                    if (ort is not null)
                        for (int o = 0; o < d.Outputs.Count; o++)
                        {
                            var (diff, max) = MaxAbsDiff(aot.Outputs[o], ort.Outputs[o]);
                            results.Agreement.Add(new AgreementRow(d.Name, t, b, d.Outputs[o].Name, diff, max));
                            Console.WriteLine($"  agreement {d.Name} threads {t} batch {b} {d.Outputs[o].Name}: max |aot-vit − ORT| = {diff:E2} (max |x| {max:F3})");
                        }

                    var times = Interleave(engines, seconds, settleMilliseconds);
                    for (int i = 0; i < engines.Length; i++)
                    {
                        var s = times[i];
                        s.Sort();
                        double median = Percentile(s, 0.5);
                        double gflops = 2.0 * d.MacsPerImage * b / (median / 1e3) / 1e9;
                        double peak = results.FmaPeak.First(p => p.Threads == t).Gflops;
                        var row = new LatencyRow(d.Name, engines[i].Name, t, b, median, Percentile(s, 0.1), Percentile(s, 0.9), s.Count, gflops, 100 * gflops / peak);
                        results.Latency.Add(row);
                        Console.WriteLine($"  {d.Name,-27} {row.Engine,-7} threads {t} batch {b}  median {median,8:F2} ms (p10 {row.P10Ms:F2}, p90 {row.P90Ms:F2}, {s.Count} runs)  {gflops,6:F1} GFLOP/s = {row.PeakPercent,5:F1} % of peak");
                    }
                    if (ort is not null)
                    {
                        var last = results.Latency.TakeLast(2).ToArray();
                        Console.WriteLine($"  → ORT / aot-vit = {last[1].MedianMs / last[0].MedianMs:F2}");
                    }

                    // Where the time goes (batch 1 only): each engine's own per-op profiler, same warm-up and run count.
                    if (profileRuns > 0 && b == 1)
                    {
                        var rows = Profiles.AotVit(aot, d.Name, t, b, profileRuns);
                        if (ort is not null)
                        {
                            try
                            {
                                rows.AddRange(Profiles.Ort(Models.OnnxPath(onnxDir, d), d, d.Name, t, b, pixels, warmup, profileRuns));
                            }
                            catch (Exception e) when (e is OnnxRuntimeException or IOException or InvalidOperationException or JsonException)
                            {
                                // A profile is extra: the timings above stand without it.
                                Console.WriteLine($"  ORT profile skipped for {d.Name} threads {t}: {e.Message}");
                            }
                            ort.Run(); // the timed session again, so its threads are warm for the next configuration
                        }
                        results.Profile.AddRange(rows);
                        foreach (var g in rows.GroupBy(r => r.Engine))
                            Console.WriteLine($"  profile {d.Name} {g.Key} threads {t} batch {b} ({profileRuns} runs): " + string.Join(", ", g.Select(Profiles.Format)));
                    }
                }
            }
        }

        // Cold start and peak RSS: each engine alone in a fresh child process (--cold-reps 0: skipped).
        string someModel = models[0];
        if (coldReps > 0)
        {
            var baseline = Enumerable.Range(0, coldReps).Select(_ => Child("none", someModel, 1, cache, onnxDir).Sample.PeakRssMiBAfterFirst).Order().ToList();
            results.BaselineRssMiB = Percentile(baseline, 0.5);
            Console.WriteLine($"baseline child (runtime + pixels only): peak RSS {results.BaselineRssMiB:F1} MiB");
            foreach (string m in models)
                foreach (int t in threads)
                    foreach (string engine in ortSkip is null ? new[] { "aotvit", "ort" } : ["aotvit"])
                    {
                        var samples = Enumerable.Range(0, coldReps).Select(_ => Child(engine, m, t, cache, onnxDir)).ToList();
                        double Med(Func<(ColdSample Sample, double WallMs), double> f) => Percentile(samples.Select(f).Order().ToList(), 0.5);
                        var row = new ColdRow(Models.Entry(m).Descriptor.Name, engine == "ort" ? "ORT" : "aot-vit", t, coldReps,
                            Med(s => s.Sample.LoadMs), Med(s => s.Sample.FirstRunMs), Med(s => s.Sample.LoadMs + s.Sample.FirstRunMs), Med(s => s.Sample.SinceExecMs),
                            Med(s => s.Sample.PeakRssMiBAfterFirst), Med(s => s.Sample.PeakRssMiBAfterBatch8));
                        results.Cold.Add(row);
                        Console.WriteLine($"  cold {row.Model,-27} {row.Engine,-7} threads {t}: load {row.LoadMs:F0} ms + first run {row.FirstRunMs:F1} ms = {row.ColdStartMs:F0} ms (exec → first result {row.ExecToFirstResultMs:F0} ms); " +
                                          $"peak RSS {row.PeakRssMiBAfterFirst:F0} MiB after first result, {row.PeakRssMiBAfterBatch8:F0} MiB after a batch-8 run");
                    }
        }

        results.LoadAvgEnd = MachineFacts.LoadAverage();
        Console.WriteLine($"load average at the end: {results.LoadAvgEnd}");
        if (a.Get("--json") is { } json)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(json))!);
            File.WriteAllText(json, JsonSerializer.Serialize(results, BenchJson.Default.RunResults));
            Console.WriteLine($"wrote {json}");
        }
        return 0;
    }

    /// <summary>Child mode: `--cold ENGINE MODEL THREADS`; loads, runs once on the cached pixels, reports one "COLD {json}" line.</summary>
    public static int Cold(Args a, string engine, string model, int threads)
    {
        string cache = Path.GetFullPath(a.Get("--cache") ?? Path.Combine("artifacts", "bench"));
        string onnxDir = Path.GetFullPath(a.Get("--onnx-dir") ?? Path.Combine(cache, "onnx"));
        var entry = Models.Entry(model);
        var d = entry.Descriptor;
        float[] single = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Models.PixelsPath(cache, d))).ToArray();
        if (engine == "none")
        {
            double rss = MachineInfo.PeakRssBytes / 1048576.0;
            Console.WriteLine("COLD " + JsonSerializer.Serialize(new ColdSample(0, 0, SinceExec(), rss, rss, []), BenchJson.Default.ColdSample).ReplaceLineEndings(""));
            return 0;
        }
        var sw = Stopwatch.StartNew();
        using IEngine e = engine switch
        {
            "aotvit" => new AotVitEngine(Models.LoadAotVit(entry, Models.CheckpointPath(cache, d), threads, 8)),
            "ort" => new OrtEngine(Models.OnnxPath(onnxDir, d), d, threads),
            _ => throw new ArgumentException($"engine must be aotvit, ort or none, got '{engine}'"),
        };
        double loadMs = sw.Elapsed.TotalMilliseconds;
        e.Prepare(1, single);
        sw.Restart();
        e.Run();
        double firstMs = sw.Elapsed.TotalMilliseconds;
        double sinceExec = SinceExec();
        double rssFirst = MachineInfo.PeakRssBytes / 1048576.0;
        float[] head = e.Outputs[^1].Take(4).ToArray();
        e.Prepare(8, Models.Replicate(single, 8));
        e.Run();
        double rss8 = MachineInfo.PeakRssBytes / 1048576.0;
        Console.WriteLine("COLD " + JsonSerializer.Serialize(new ColdSample(loadMs, firstMs, sinceExec, rssFirst, rss8, head), BenchJson.Default.ColdSample).ReplaceLineEndings(""));
        return 0;
    }

    /// <summary>Milliseconds since this process was exec'd (kernel start time; ~10 ms resolution): runtime start-up included.</summary>
    private static double SinceExec() => (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds;

    private static (ColdSample Sample, double WallMs) Child(string engine, string model, int threads, string cache, string onnxDir)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "AotVit.Bench.dll")); // only under the JIT: `dotnet AotVit.Bench.dll`
        foreach (var s in new[] { "--cold", engine, model, threads.ToString(CultureInfo.InvariantCulture), "--cache", cache, "--onnx-dir", onnxDir })
            psi.ArgumentList.Add(s);
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        double wall = sw.Elapsed.TotalMilliseconds;
        string? line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith("COLD ", StringComparison.Ordinal));
        if (p.ExitCode != 0 || line is null)
            throw new InvalidOperationException($"cold child {engine} {model} {threads} failed (exit {p.ExitCode}): {stdout}{stderr.Result}");
        return (JsonSerializer.Deserialize(line[5..], BenchJson.Default.ColdSample)!, wall);
    }

    private static (double Diff, double Max) MaxAbsDiff(float[] a, float[] b)
    {
        double diff = 0, max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs((double)a[i] - b[i]));
            max = Math.Max(max, Math.Abs((double)a[i]));
        }
        return (diff, max);
    }

    /// <summary>Linear interpolation between order statistics of a sorted list.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double q)
    {
        if (sorted.Count == 0) return double.NaN;
        double pos = q * (sorted.Count - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    public static int[] Ints(string s) => s.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray();
}

internal static class MachineFacts
{
    public static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    public static string LoadAverage()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "n/a"; }
    }
}
