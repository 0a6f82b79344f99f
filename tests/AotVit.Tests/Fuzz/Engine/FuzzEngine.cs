// The fuzz driver shared by tools/Fuzz (long runs, CLI) and tests/AotVit.Tests/Fuzz (short CI runs).
//
// Every input is derived from (seed, index) alone, so any finding can be replayed with `--seed S --index I`.
// Each input runs under a watchdog: past the target's per-input time bound it is a HANG and the run stops (the
// stuck thread cannot be killed). Outcomes are classified as success, an expected error (bucketed by exception
// type + normalised message prefix, or by diagnostic id), or a CRASH (any exception the target does not declare,
// or a broken invariant reported as FuzzInvariantException). What it is not: coverage-guided. The mutators are
// structure-aware instead (JSON fields, image header fields, API argument edges).
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using AotVit.Runtime.Weights;

namespace AotVit.Fuzzing;

/// <summary>One generated input: what it is (for reports), its bytes (saved on a crash) and how to run it.</summary>
/// <param name="Execute">Runs the input; returns the success label or throws.</param>
public sealed record FuzzCase(string Kind, byte[] Artifact, string ArtifactExtension, Func<FuzzResult> Execute);

/// <summary>The result of one input that did not crash: a success, or an expected error in a named bucket.</summary>
public readonly record struct FuzzResult(bool Success, string Bucket)
{
    public static FuzzResult Ok(string label = "ok") => new(true, label);
    public static FuzzResult Error(string bucket) => new(false, bucket);
}

/// <summary>Thrown by a target when an input breaks an invariant (wrong size, non-determinism, missing error): always a crash.</summary>
public sealed class FuzzInvariantException(string message) : Exception(message);

public abstract class FuzzTarget : IDisposable
{
    public abstract string Name { get; }

    /// <summary>Watchdog bound for one input.</summary>
    public virtual TimeSpan PerInputTimeout => TimeSpan.FromSeconds(20);

    /// <summary>
    /// Builds input number <c>index</c> from its own random stream. The case (kind, artifact, and what Execute does)
    /// must be a pure function of (random, index): every random draw happens here, not in Execute, and nothing may
    /// depend on earlier inputs, hashing, the clock or threads. The artifact describes the whole input (data that
    /// is too big to write out is named by its Fingerprint).
    /// </summary>
    public abstract FuzzCase Next(Random random, long index);

    /// <summary>The bucket of an exception this target's API documents for bad input, or null when it is a crash.</summary>
    public abstract string? ExpectedError(Exception exception);

    public virtual void Dispose() => GC.SuppressFinalize(this);

    /// <summary>The first 16 hex digits of the SHA-256 of <paramref name="data"/>: names generated data in a text artifact.</summary>
    public static string Fingerprint(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data))[..16];

    /// <summary>"Type: message prefix" with file names, quoted text and numbers blanked, so that buckets are error kinds.</summary>
    public static string Bucket(Exception e)
    {
        string message = e.Message;
        message = Regex.Replace(message, "^checkpoint '[^']*': ", "");
        message = Regex.Replace(message, "^tensor '[^']*': ", "");
        message = Regex.Replace(message, "'[^']*'", "'*'");
        message = Regex.Replace(message, "\"[^\"]*\"", "\"*\"");
        message = Regex.Replace(message, @"-?\d+(\.\d+)?([eE][+-]?\d+)?", "#");
        message = Regex.Replace(message, @"[^\x20-\x7E]", "");
        message = Regex.Replace(message, @"\s+", " ");
        int cut = message.IndexOfAny(['(', '\n', ';']);
        if (cut > 0) message = message[..cut];
        if (message.Length > 56) message = message[..56];
        return $"{e.GetType().Name}: {message.TrimEnd(' ', ':', ',', '.')}";
    }
}

public sealed record FuzzFinding(string Outcome, long Index, string Kind, string Detail, string? ArtifactPath);

public sealed class FuzzReport
{
    public required string Target { get; init; }
    public required int Seed { get; init; }
    public long Inputs { get; set; }
    public long Successes { get; set; }
    public TimeSpan Elapsed { get; set; }
    public SortedDictionary<string, long> ErrorBuckets { get; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, long> SuccessLabels { get; } = new(StringComparer.Ordinal);
    public List<FuzzFinding> Crashes { get; } = [];
    public List<FuzzFinding> Hangs { get; } = [];

    public bool Clean => Crashes.Count == 0 && Hangs.Count == 0;

    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine($"target {Target}  seed {Seed}  inputs {Inputs}  in {Elapsed.TotalSeconds:F1} s  " +
                        $"successes {Successes}  crashes {Crashes.Count}  hangs {Hangs.Count}  error buckets {ErrorBuckets.Count}");
        foreach (var (label, count) in SuccessLabels) text.AppendLine($"  ok     {count,8}  {label}");
        foreach (var (bucket, count) in ErrorBuckets) text.AppendLine($"  error  {count,8}  {bucket}");
        foreach (var f in Crashes.Concat(Hangs))
            text.AppendLine($"  {f.Outcome} index {f.Index} ({f.Kind}): {f.Detail}" + (f.ArtifactPath is null ? "" : $"  -> {f.ArtifactPath}"));
        return text.ToString();
    }
}

public sealed record FuzzRunOptions
{
    public int Seed { get; init; }
    public TimeSpan? Duration { get; init; }
    public long? MaxInputs { get; init; }
    /// <summary>Replay a single input.</summary>
    public long? OnlyIndex { get; init; }
    /// <summary>Where crashing inputs are saved; null: not saved.</summary>
    public string? ArtifactDirectory { get; init; }
    /// <summary>Stop at the first crash (the default for CI) instead of collecting up to 20.</summary>
    public bool StopOnFirstCrash { get; init; }
    /// <summary>Writes each input to ArtifactDirectory before running it, for crashes that kill the process.</summary>
    public bool SaveInFlight { get; init; }
}

public static class FuzzEngine
{
    /// <summary>
    /// The random stream of input <paramref name="index"/>: independent of every other input and the same in every
    /// process. The Random's seed is a fixed SplitMix64 mix of (seed, index). Never use HashCode here: HashCode.Combine
    /// is salted with a random per-process seed, so it gave each process different inputs for the same (seed, index).
    /// </summary>
    public static Random RandomFor(int seed, long index)
    {
        ulong z = SyntheticWeights.Mix(unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL) ^ SyntheticWeights.Mix(unchecked((ulong)index + 0x5eedUL)));
        return new Random(unchecked((int)(z ^ (z >> 32))));
    }

    /// <summary>
    /// A digest of input <paramref name="index"/> as generated (not run): SHA-256 over its kind, extension and artifact.
    /// Two processes, or two instances of a target, must give the same digest for the same (seed, index).
    /// </summary>
    public static string InputDigest(FuzzTarget target, int seed, long index)
    {
        FuzzCase input = target.Next(RandomFor(seed, index), index);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{input.Kind}\n{input.ArtifactExtension}\n"));
        hash.AppendData(input.Artifact);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public static FuzzReport Run(FuzzTarget target, FuzzRunOptions options, TextWriter? log = null)
    {
        var report = new FuzzReport { Target = target.Name, Seed = options.Seed };
        var clock = Stopwatch.StartNew();
        long first = options.OnlyIndex ?? 0;
        long last = options.OnlyIndex ?? (options.MaxInputs is long m ? m - 1 : long.MaxValue);
        TimeSpan nextLog = TimeSpan.FromSeconds(10);
        for (long index = first; index <= last; index++)
        {
            if (options.Duration is TimeSpan d && clock.Elapsed >= d && options.OnlyIndex is null) break;
            FuzzCase input;
            try
            {
                input = target.Next(RandomFor(options.Seed, index), index);
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"{target.Name}: the input generator itself failed at index {index}", e);
            }
            if (options.SaveInFlight && options.ArtifactDirectory is not null)
            {
                Directory.CreateDirectory(options.ArtifactDirectory);
                File.WriteAllBytes(Path.Combine(options.ArtifactDirectory, $"{target.Name}-inflight{input.ArtifactExtension}"), input.Artifact);
            }
            report.Inputs++;
            if (!RunOne(target, input, index, options, report)) break;
            if (log is not null && clock.Elapsed >= nextLog)
            {
                log.WriteLine($"  [{target.Name}] {clock.Elapsed.TotalSeconds:F0} s: {report.Inputs} inputs, {report.Crashes.Count} crashes, {report.ErrorBuckets.Count} buckets");
                nextLog += TimeSpan.FromSeconds(10);
            }
        }
        report.Elapsed = clock.Elapsed;
        return report;
    }

    /// <returns>false when the run must stop (hang, or a crash with StopOnFirstCrash, or too many crashes).</returns>
    private static bool RunOne(FuzzTarget target, FuzzCase input, long index, FuzzRunOptions options, FuzzReport report)
    {
        var task = Task.Factory.StartNew(input.Execute, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        bool finished;
        try
        {
            finished = task.Wait(target.PerInputTimeout);
        }
        catch (AggregateException)
        {
            finished = true;
        }
        if (!finished)
        {
            report.Hangs.Add(new FuzzFinding("HANG", index, input.Kind, $"no result after {target.PerInputTimeout.TotalSeconds:F0} s",
                                             Save(options, target, "hang", index, input)));
            return false;
        }
        if (task.IsCompletedSuccessfully)
        {
            FuzzResult result = task.Result;
            var counts = result.Success ? report.SuccessLabels : report.ErrorBuckets;
            if (result.Success) report.Successes++;
            counts[result.Bucket] = counts.GetValueOrDefault(result.Bucket) + 1;
            return true;
        }
        Exception e = task.Exception!.InnerException!;
        string? bucket = e is FuzzInvariantException ? null : target.ExpectedError(e);
        if (bucket is not null)
        {
            report.ErrorBuckets[bucket] = report.ErrorBuckets.GetValueOrDefault(bucket) + 1;
            return true;
        }
        report.Crashes.Add(new FuzzFinding("CRASH", index, input.Kind, $"{e.GetType().FullName}: {e.Message}\n{e.StackTrace}",
                                           Save(options, target, "crash", index, input)));
        return !options.StopOnFirstCrash && report.Crashes.Count < 20;
    }

    private static string? Save(FuzzRunOptions options, FuzzTarget target, string outcome, long index, FuzzCase input)
    {
        if (options.ArtifactDirectory is null) return null;
        Directory.CreateDirectory(options.ArtifactDirectory);
        string path = Path.Combine(options.ArtifactDirectory, $"{target.Name}-{outcome}-seed{options.Seed}-index{index}{input.ArtifactExtension}");
        File.WriteAllBytes(path, input.Artifact);
        return path;
    }
}
