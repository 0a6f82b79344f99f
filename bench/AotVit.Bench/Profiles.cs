// Where the time goes, per op kind, for both engines in the same process right after their timed blocks:
//   aot-vit: the generated code's OpProfiler (a timestamp after every kernel call);
//   ORT: its own session profiler (SessionOptions.EnableProfiling) on a second session with the same options, whose
//        JSON trace is summed per op type (the node's "op_name") over the timed runs only.
// Both are run the same number of times after the same warm-up. "outside kernels" is the run's wall time (aot-vit: the
// Stopwatch around Run; ORT: its "model_run" event) minus the kernels' sum: the engine's own overhead per run.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AotVit.Runtime.Diagnostics;
using AotVit.Runtime.Model;
using Microsoft.ML.OnnxRuntime;

namespace AotVit.Bench;

internal static class Profiles
{
    public const string Outside = "(outside kernels)";

    /// <summary>aot-vit: <paramref name="runs"/> profiled runs of an engine already prepared and warm.</summary>
    public static List<ProfileRow> AotVit(AotVitEngine engine, string model, int threads, int batch, int runs)
    {
        engine.Run(); // untimed: the other engine's spinning threads may still hold a core (see Runner's blocks)
        OpProfiler.Reset();
        double wallMs = 0;
        OpProfiler.Enabled = true;
        try
        {
            for (int i = 0; i < runs; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                engine.Run();
                wallMs += Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            }
        }
        finally
        {
            OpProfiler.Enabled = false;
        }

        var totals = new Dictionary<string, (double Ms, long Calls)>();
        foreach (var e in OpProfiler.Snapshot())
        {
            string kind = OpProfiler.Name(e.Kind);
            totals.TryGetValue(kind, out var t);
            totals[kind] = (t.Ms + e.Milliseconds, t.Calls + e.Calls);
        }
        OpProfiler.Reset();
        return Rows(model, engine.Name, threads, batch, runs, totals, wallMs);
    }

    /// <summary>
    /// ORT: a second session with the same options plus its profiler, run warmup + runs times on the same pixels; the
    /// trace's node events inside the last <paramref name="runs"/> "model_run" events are summed per op type.
    /// </summary>
    public static List<ProfileRow> Ort(string onnxPath, ModelDescriptor d, string model, int threads, int batch, float[] pixels, int warmup, int runs)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"aotvit-ort-profile-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        string trace;
        using (var engine = new OrtEngine(onnxPath, d, threads, Path.Combine(dir, "ort")))
        {
            engine.Prepare(batch, pixels);
            for (int i = 0; i < warmup + runs; i++) engine.Run();
            trace = engine.EndProfiling();
        }

        try
        {
            return SummariseOrtTrace(File.ReadAllText(trace), model, threads, batch, runs);
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
        }
    }

    /// <summary>
    /// Sums an ORT trace (a JSON array of Chrome trace events): "model_run" events (cat "Session") are the runs, "Node"
    /// events named "…_kernel_time" carry args.op_name and a duration in µs. Only the last <paramref name="runs"/> runs count.
    /// </summary>
    public static List<ProfileRow> SummariseOrtTrace(string json, string model, int threads, int batch, int runs)
    {
        using var doc = JsonDocument.Parse(json);
        var runWindows = new List<(long Ts, long Dur)>();
        var nodes = new List<(long Ts, long Dur, string Op)>();
        foreach (var ev in doc.RootElement.EnumerateArray())
        {
            if (!ev.TryGetProperty("name", out var nameEl) || nameEl.GetString() is not { } name) continue;
            if (!ev.TryGetProperty("ts", out var tsEl) || !ev.TryGetProperty("dur", out var durEl)) continue;
            long ts = tsEl.GetInt64(), dur = durEl.GetInt64();
            string cat = ev.TryGetProperty("cat", out var catEl) ? catEl.GetString() ?? "" : "";
            if (cat == "Session" && name == "model_run")
            {
                runWindows.Add((ts, dur));
            }
            else if (cat == "Node" && name.EndsWith("_kernel_time", StringComparison.Ordinal)
                     && ev.TryGetProperty("args", out var args) && args.TryGetProperty("op_name", out var op))
            {
                nodes.Add((ts, dur, op.GetString() ?? "?"));
            }
        }

        runWindows.Sort();
        if (runWindows.Count < runs)
            throw new InvalidOperationException($"ORT trace has {runWindows.Count} model_run events, expected at least {runs}");
        var kept = runWindows.Skip(runWindows.Count - runs).ToList();
        double wallMs = kept.Sum(w => w.Dur) / 1e3;
        var totals = new Dictionary<string, (double Ms, long Calls)>();
        foreach (var (ts, dur, op) in nodes)
        {
            if (!kept.Any(w => ts >= w.Ts && ts <= w.Ts + w.Dur)) continue;
            totals.TryGetValue(op, out var t);
            totals[op] = (t.Ms + dur / 1e3, t.Calls + 1);
        }
        return Rows(model, "ORT", threads, batch, runs, totals, wallMs);
    }

    private static List<ProfileRow> Rows(string model, string engine, int threads, int batch, int runs,
                                         Dictionary<string, (double Ms, long Calls)> totals, double wallMs)
    {
        double kernels = totals.Values.Sum(t => t.Ms);
        var rows = totals.OrderByDescending(kv => kv.Value.Ms)
            .Select(kv => new ProfileRow(model, engine, threads, batch, kv.Key, kv.Value.Ms / runs, (double)kv.Value.Calls / runs))
            .ToList();
        rows.Add(new ProfileRow(model, engine, threads, batch, Outside, Math.Max(0, wallMs - kernels) / runs, 0));
        return rows;
    }

    public static string Format(ProfileRow r) =>
        string.Create(CultureInfo.InvariantCulture, $"{r.Op} {r.MsPerRun:F2} ms");
}
