// The managed API in a few lines (samples/csharp): the same work as samples/c/classify.c and embed.c.
//
//   dotnet run --project samples/csharp -- classify <checkpoint.safetensors | -> <image> [--dump logits.f32]
//   dotnet run --project samples/csharp -- embed    <checkpoint.safetensors | -> <image> [--dump features.f32]
//   dotnet run --project samples/csharp -- make-weights <model name> <out.safetensors>
//
// "-" = synthetic checkpoint (seed 0). --dump writes the outputs as raw float32, like the C samples, so that
// tools/native_check.sh can compare the C ABI with the managed API bit for bit.
// make-weights writes the synthetic checkpoint to a file (for MobileViT including the embedded BatchNorm
// calibration), so loading that file gives exactly the synthetic model.
using System.Runtime.InteropServices;
using AotVit;
using AotVit.Runtime.Weights;

if (args.Length < 3) return Usage();
string command = args[0];
string? dump = args.Length == 5 && args[3] == "--dump" ? args[4] : null;
string? checkpoint = args[1] == "-" ? null : args[1];
string source = checkpoint ?? "synthetic checkpoint (seed 0)";

switch (command)
{
    case "classify":
    {
        using var model = checkpoint is null ? ImageClassifier.CreateSynthetic("mobilevit-small") : ImageClassifier.Load("mobilevit-small", checkpoint);
        var result = model.Classify(args[2], top: 5);
        Console.WriteLine($"managed AotVit, mobilevit-small, {source}");
        for (int i = 0; i < result.Top.Count; i++)
        {
            var p = result.Top[i];
            Console.WriteLine($"{i + 1}. {100 * p.Probability,5:F2}%  logit {p.Logit,9:F5}  [{p.ClassIndex,3}] {p.Label}");
        }
        if (dump is not null) File.WriteAllBytes(dump, MemoryMarshal.AsBytes(result.Logits.AsSpan()).ToArray());
        return 0;
    }
    case "embed":
    {
        using var model = checkpoint is null ? FeatureExtractor.CreateSynthetic("vit-base-patch32-224-in21k") : FeatureExtractor.Load("vit-base-patch32-224-in21k", checkpoint);
        var e = model.Extract(args[2]);
        Console.WriteLine($"managed AotVit, vit-base-patch32-224-in21k, {source}");
        Console.WriteLine($"last_hidden_state [{e.Tokens}, {e.HiddenSize}]: CLS[0:4] = {F(e.ClsToken[0])} {F(e.ClsToken[1])} {F(e.ClsToken[2])} {F(e.ClsToken[3])}  |CLS| = {L2(e.ClsToken)}");
        Console.WriteLine($"pooler_output [{e.HiddenSize}]: [0:4] = {F(e.PoolerOutput[0])} {F(e.PoolerOutput[1])} {F(e.PoolerOutput[2])} {F(e.PoolerOutput[3])}  |pooled| = {L2(e.PoolerOutput)}");
        if (dump is not null)
        {
            using var file = File.Create(dump);
            file.Write(MemoryMarshal.AsBytes(e.LastHiddenState.AsSpan()));
            file.Write(MemoryMarshal.AsBytes(e.PoolerOutput.AsSpan()));
        }
        return 0;
    }
    case "make-weights":
    {
        var entry = ModelCatalog.Find(args[1]);
        var specs = entry.Descriptor.Tensors.Select(t => new TensorSpec(t.Name, [.. t.Shape])).ToList();
        // MobileViT's synthetic model uses calibrated BatchNorm statistics embedded in AotVit.dll (seed 0).
        using var stream = typeof(ModelCatalog).Assembly.GetManifestResourceStream(entry.Descriptor.Name + ".synthetic-bn-calibration.safetensors");
        SafeTensorsFile? calibration = null;
        if (stream is not null)
        {
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            calibration = SafeTensorsFile.FromMemory(bytes, displayName: "calibration");
        }
        using (calibration) SyntheticWeights.Write(args[2], specs, seed: 0, calibration);
        Console.WriteLine($"wrote {args[2]} ({new FileInfo(args[2]).Length:N0} bytes): {entry.Descriptor.Name}, synthetic seed 0");
        return 0;
    }
    default:
        return Usage();
}

static string F(float x) => x.ToString("F6", System.Globalization.CultureInfo.InvariantCulture);

static string L2(ReadOnlySpan<float> x)
{
    double sum = 0;
    foreach (float v in x) sum += (double)v * v;
    return Math.Sqrt(sum).ToString("F6", System.Globalization.CultureInfo.InvariantCulture);
}

static int Usage()
{
    Console.Error.WriteLine("usage: AotVitSample classify|embed <checkpoint | -> <image> [--dump out.f32]\n       AotVitSample make-weights <model> <out.safetensors>");
    return 2;
}
