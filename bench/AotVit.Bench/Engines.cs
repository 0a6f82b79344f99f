// The two engines behind one small interface: prepare buffers for a batch once, then Run() with no allocation.
using AotVit.Runtime.Model;
using Microsoft.ML.OnnxRuntime;

namespace AotVit.Bench;

internal interface IEngine : IDisposable
{
    string Name { get; }
    /// <summary>Binds the input [batch, C, H, W] and allocates the outputs (Descriptor.Outputs order).</summary>
    void Prepare(int batch, float[] pixels);
    void Run();
    float[][] Outputs { get; }
}

internal static class Models
{
    /// <summary>"vit" and "mobilevit" name the seed models; any other name is a compiled model's folder name or repo id.</summary>
    public static ModelCatalog.Entry Entry(string name) => name switch
    {
        "vit" => ModelCatalog.Find("vit-base-patch32-224-in21k"),
        "mobilevit" => ModelCatalog.Find("mobilevit-small"),
        _ => ModelCatalog.TryFind(name)
             ?? throw new ArgumentException($"model must be vit, mobilevit or a compiled model ({ModelCatalog.Names()}), got '{name}'"),
    };

    /// <summary>A --models value: comma-separated names, or "all" for every compiled model.</summary>
    public static string[] List(string value) =>
        value == "all" ? ModelCatalog.All.Select(e => e.Name).ToArray() : value.Split(',', StringSplitOptions.RemoveEmptyEntries);

    public static string CheckpointPath(string cache, ModelDescriptor d) => Path.Combine(cache, d.Name, "model.safetensors");
    public static string OnnxPath(string onnxDir, ModelDescriptor d) => Path.Combine(onnxDir, d.Name + ".onnx");
    /// <summary>The dynamically quantized export (tools/onnx_quantize.py: ORT quantize_dynamic's rewrite) next to the float32 one.</summary>
    public static string OnnxInt8Path(string onnxDir, ModelDescriptor d) => Path.Combine(onnxDir, d.Name + ".int8.onnx");
    public static string PixelsPath(string cache, ModelDescriptor d) => Path.Combine(cache, d.Name, "chelsea.pixel_values.f32");

    public static VisionModel LoadAotVit(ModelCatalog.Entry entry, string checkpoint, int threads, int maxBatch)
    {
        var options = new ModelOptions { Threads = threads, MaxBatch = maxBatch };
        return entry.Kind == ModelKind.FeatureExtractor
            ? FeatureExtractor.Load(entry.Name, checkpoint, options)
            : ImageClassifier.Load(entry.Name, checkpoint, options);
    }

    /// <summary>aot-vit in int8 (ModelOptions.Precision = Int8, calibrated on the built-in images), or null with the reason.</summary>
    public static VisionModel? TryLoadAotVitInt8(ModelCatalog.Entry entry, string checkpoint, int threads, int maxBatch, out string? unavailable)
    {
        var options = new ModelOptions { Threads = threads, MaxBatch = maxBatch, Precision = ModelPrecision.Int8 };
        unavailable = null;
        return entry.Kind == ModelKind.FeatureExtractor
            ? FeatureExtractor.Load(entry.Name, checkpoint, options)
            : ImageClassifier.Load(entry.Name, checkpoint, options);
    }

    public static float[] Replicate(float[] single, int batch)
    {
        var pixels = new float[(long)batch * single.Length];
        for (int i = 0; i < batch; i++) single.CopyTo(pixels, (long)i * single.Length);
        return pixels;
    }
}

internal sealed class AotVitEngine(VisionModel model, string name = "aot-vit") : IEngine
{
    private float[] _pixels = [];
    private int _batch;

    public string Name => name;
    public VisionModel Model => model;
    public float[][] Outputs { get; private set; } = [];

    public void Prepare(int batch, float[] pixels)
    {
        _batch = batch;
        _pixels = pixels;
        Outputs = model.Descriptor.Outputs.Select(o => new float[(long)batch * o.FloatsPerImage]).ToArray();
    }

    public void Run() => model.Run(_batch, _pixels, Outputs[0], Outputs.Length > 1 ? Outputs[1] : default);

    public void Dispose() => model.Dispose();
}

/// <summary>
/// ONNX Runtime CPU session as configured for the comparison: ORT_ENABLE_ALL, IntraOpNumThreads = threads,
/// InterOpNumThreads = 1, sequential execution. Inputs and outputs are OrtValues over pinned managed arrays, so
/// Run() measures inference, not output allocation.
/// </summary>
internal sealed class OrtEngine : IEngine
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly ModelDescriptor _descriptor;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private OrtValue[] _inputs = [];
    private OrtValue[] _outputs = [];

    /// <param name="profilePrefix">when set, ORT's own profiler writes a trace (see <see cref="EndProfiling"/>)</param>
    /// <param name="name">engine label in reports ("ORT" unless given, e.g. "ORT int8")</param>
    public OrtEngine(string onnxPath, ModelDescriptor descriptor, int threads, string? profilePrefix = null, string name = "ORT")
    {
        _descriptor = descriptor;
        Name = name;
        using var so = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        if (profilePrefix is not null)
        {
            // The prefix first: the EnableProfiling setter hands ORT the prefix it holds at that moment.
            so.ProfileOutputPathPrefix = profilePrefix;
            so.EnableProfiling = true;
        }
        _session = new InferenceSession(onnxPath, so);
        _inputNames = [_session.InputNames.Single()];
        var names = _session.OutputNames;
        // Match our output names (HF's); fall back to position if the export named them differently.
        _outputNames = descriptor.Outputs.Select((o, i) => names.Contains(o.Name) ? o.Name : names[i]).ToArray();
    }

    public string Name { get; }
    public float[][] Outputs { get; private set; } = [];

    public void Prepare(int batch, float[] pixels)
    {
        DisposeValues();
        _inputs = [OrtValue.CreateTensorValueFromMemory(pixels, [batch, .. _descriptor.InputShape.Select(d => (long)d)])];
        Outputs = _descriptor.Outputs.Select(o => new float[(long)batch * o.FloatsPerImage]).ToArray();
        _outputs = _descriptor.Outputs.Select((o, i) => OrtValue.CreateTensorValueFromMemory(Outputs[i], [batch, .. o.Shape.Select(d => (long)d)])).ToArray();
    }

    public void Run() => _session.Run(_runOptions, _inputNames, _inputs, _outputNames, _outputs);

    /// <summary>Stops ORT's profiler (session created with a profile prefix) and returns the path of its JSON trace.</summary>
    public string EndProfiling() => _session.EndProfiling();

    private void DisposeValues()
    {
        foreach (var v in _inputs) v.Dispose();
        foreach (var v in _outputs) v.Dispose();
        _inputs = _outputs = [];
    }

    public void Dispose()
    {
        DisposeValues();
        _runOptions.Dispose();
        _session.Dispose();
    }

    public static string Version => OrtEnv.Instance().GetVersionString();
}
