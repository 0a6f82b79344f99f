// What one run writes (JSON, source-generated serialiser so the NativeAOT build can read and write it too).
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AotVit.Bench;

internal sealed record LatencyRow(string Model, string Engine, int Threads, int Batch, double MedianMs, double P10Ms, double P90Ms,
                                  int Runs, double Gflops, double PeakPercent);

internal sealed record AgreementRow(string Model, int Threads, int Batch, string Output, double MaxAbsDiff, double MaxAbsValue);

internal sealed record ColdRow(string Model, string Engine, int Threads, int Reps, double LoadMs, double FirstRunMs, double ColdStartMs,
                               double ExecToFirstResultMs, double PeakRssMiBAfterFirst, double PeakRssMiBAfterBatch8);

/// <summary>Milliseconds per run spent in one op kind (aot-vit: OpProfiler kind; ORT: ONNX op type), batch-1 profiled runs.</summary>
internal sealed record ProfileRow(string Model, string Engine, int Threads, int Batch, string Op, double MsPerRun, double CallsPerRun);

internal sealed record PeakRow(int Threads, double Gflops);

internal sealed record RunResults
{
    public string Build { get; init; } = "";
    public string DateUtc { get; init; } = "";
    public string Cpu { get; init; } = "";
    public int Cores { get; init; }
    public string Simd { get; init; } = "";
    public string Dotnet { get; init; } = "";
    public string? OrtVersion { get; init; }
    public string? OrtSkipped { get; init; }
    public string LoadAvgStart { get; init; } = "";
    public string LoadAvgEnd { get; set; } = "";
    public double SecondsPerEngine { get; init; }
    public List<PeakRow> FmaPeak { get; init; } = [];
    public List<LatencyRow> Latency { get; init; } = [];
    public List<AgreementRow> Agreement { get; init; } = [];
    public List<ColdRow> Cold { get; init; } = [];
    /// <summary>Per-op-kind profiles of both engines, batch 1 (empty with --profile-runs 0).</summary>
    public List<ProfileRow> Profile { get; init; } = [];
    /// <summary>VmHWM of a child that only starts the runtime and reads the preprocessed pixels: the floor under every engine's RSS.</summary>
    public double BaselineRssMiB { get; set; }
}

/// <summary>One cold-start child's report (printed as a single "COLD {json}" line).</summary>
internal sealed record ColdSample(double LoadMs, double FirstRunMs, double SinceExecMs, double PeakRssMiBAfterFirst, double PeakRssMiBAfterBatch8, float[] Head);

internal sealed record TorchRow(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("threads")] int Threads,
    [property: JsonPropertyName("batch")] int Batch,
    [property: JsonPropertyName("median_ms")] double MedianMs,
    [property: JsonPropertyName("p10_ms")] double P10Ms,
    [property: JsonPropertyName("p90_ms")] double P90Ms,
    [property: JsonPropertyName("runs")] int Runs);

internal sealed record TorchResults(
    [property: JsonPropertyName("torch_version")] string TorchVersion,
    [property: JsonPropertyName("rows")] List<TorchRow> Rows);

[JsonSourceGenerationOptions(WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(RunResults))]
[JsonSerializable(typeof(ColdSample))]
[JsonSerializable(typeof(TorchResults))]
[JsonSerializable(typeof(Int8Results))]
internal sealed partial class BenchJson : JsonSerializerContext
{
    public static RunResults ReadRun(string path) => JsonSerializer.Deserialize(File.ReadAllText(path), Default.RunResults)!;
    public static TorchResults ReadTorch(string path) => JsonSerializer.Deserialize(File.ReadAllText(path), Default.TorchResults)!;
}
