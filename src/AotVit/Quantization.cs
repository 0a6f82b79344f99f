// int8 mode: what it is, what it measures about itself, and the int8 checkpoint.
//   - ModelPrecision.Int8 stores the weights of every nn.Linear (the generator's Int8Tensors) in int8, symmetric per
//     output channel; Gemm.Run quantizes each activation row on the fly (asymmetric, 7 bits) and sums exactly in int32.
//     LayerNorm, softmax, GELU/SiLU, residuals, convolutions and the patch embedding stay float32.
//   - Loading a float checkpoint in int8 runs the calibration images through the float32 weights, quantizes, runs them
//     again and keeps the comparison (QuantizationReport). An int8 checkpoint has no float32 weights to compare with:
//     it carries the report measured when it was written, in its metadata.
//   - An int8 checkpoint (aotvit quantize) is a safetensors file: each Int8Tensors weight as I8 plus "<name>_scale" F32
//     [rows], every other tensor F32, and metadata naming the model, the scheme and the report.
using System.Globalization;
using System.Text;
using AotVit.Runtime;
using AotVit.Runtime.Imaging;
using AotVit.Runtime.Interop;
using AotVit.Runtime.Kernels;
using AotVit.Runtime.Model;
using AotVit.Runtime.Weights;

namespace AotVit;

/// <summary>Arithmetic of the nn.Linear layers.</summary>
public enum ModelPrecision
{
    /// <summary>float32 everywhere: matches PyTorch float32 (the default).</summary>
    Float32,
    /// <summary>int8 weights (per output channel, symmetric) × 7-bit activations (per row, asymmetric) in the nn.Linear
    /// layers; everything else float32. Faster; deviates from float32 by what <see cref="QuantizationReport"/> states.</summary>
    Int8,
}

/// <summary>How one output of the int8 model deviates from the float32 model on the calibration images.</summary>
/// <param name="Name">The output (e.g. "logits", "last_hidden_state").</param>
/// <param name="MinCosine">Smallest cosine similarity over the images (each image's whole output as one vector).</param>
/// <param name="MeanCosine">Mean cosine similarity over the images.</param>
/// <param name="MaxAbsError">Largest |int8 − float32| over every value of every image.</param>
/// <param name="MaxAbsValue">Largest |float32| over every value (the scale MaxAbsError is relative to).</param>
public sealed class OutputDeviation(string name, double minCosine, double meanCosine, double maxAbsError, double maxAbsValue)
{
    public string Name { get; } = name;
    public double MinCosine { get; } = minCosine;
    public double MeanCosine { get; } = meanCosine;
    public double MaxAbsError { get; } = maxAbsError;
    public double MaxAbsValue { get; } = maxAbsValue;
}

/// <summary>
/// int8 against float32 on one checkpoint, measured on the calibration images: per output cosine and error and, for a
/// classifier, how often the top-1 class and the top-5 set agree.
/// </summary>
/// <param name="Images">Number of calibration images.</param>
/// <param name="Inputs">What the images were ("4 built-in synthetic images", or the files' names).</param>
/// <param name="Outputs">One entry per model output.</param>
/// <param name="Top1Agreement">Fraction of images whose top-1 class is the same (classifiers; null otherwise).</param>
/// <param name="Top5Agreement">Fraction of images whose top-5 classes are the same set (classifiers; null otherwise).</param>
/// <param name="FromCheckpoint">True when read from an int8 checkpoint's metadata (measured when it was written).</param>
/// <remarks>A class, not a record: a record's generated equality and printing cost the NativeAOT executable ~5 KB.</remarks>
public sealed class QuantizationReport(int images, string inputs, IReadOnlyList<OutputDeviation> outputs,
                                       double? top1Agreement, double? top5Agreement, bool fromCheckpoint)
{
    public int Images { get; } = images;
    public string Inputs { get; } = inputs;
    public IReadOnlyList<OutputDeviation> Outputs { get; } = outputs;
    public double? Top1Agreement { get; } = top1Agreement;
    public double? Top5Agreement { get; } = top5Agreement;
    public bool FromCheckpoint { get; } = fromCheckpoint;

    /// <summary>Metadata key of the serialised report in an int8 checkpoint.</summary>
    internal const string MetadataKey = "aotvit.int8.report";

    /// <summary>One line per output plus the top-k agreement, for logs and the CLI.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"int8 vs float32 on {Images} calibration image{(Images == 1 ? "" : "s")} ({Inputs}){(FromCheckpoint ? ", measured when the int8 checkpoint was written" : "")}:");
        foreach (var o in Outputs)
        {
            text.Append(CultureInfo.InvariantCulture, $" {o.Name}: cosine min {o.MinCosine:F6} mean {o.MeanCosine:F6}, max abs error {o.MaxAbsError:G4} (max |value| {o.MaxAbsValue:G4});");
        }
        if (Top1Agreement is { } top1) text.Append(CultureInfo.InvariantCulture, $" top-1 agreement {top1:P0}, top-5 agreement {Top5Agreement:P0}");
        return text.ToString().TrimEnd(';');
    }

    internal string Serialize()
    {
        var s = new StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"images={Images}\ninputs={Inputs.Replace('\n', ' ')}\n");
        foreach (var o in Outputs)
            s.Append(CultureInfo.InvariantCulture, $"output={o.Name},{o.MinCosine:R},{o.MeanCosine:R},{o.MaxAbsError:R},{o.MaxAbsValue:R}\n");
        if (Top1Agreement is { } t1) s.Append(CultureInfo.InvariantCulture, $"top1={t1:R}\ntop5={Top5Agreement:R}\n");
        return s.ToString();
    }

    /// <summary>The report stored by <see cref="Serialize"/>, or null when the text is not one (never throws).</summary>
    internal static QuantizationReport? TryParse(string text)
    {
        int images = -1;
        string inputs = "";
        double? top1 = null, top5 = null;
        var outputs = new List<OutputDeviation>();
        foreach (string line in text.Split('\n'))
        {
            int eq = line.IndexOf('=');
            if (eq <= 0) continue;
            string key = line[..eq], value = line[(eq + 1)..];
            switch (key)
            {
                case "images" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n): images = n; break;
                case "inputs": inputs = value; break;
                case "top1" when TryDouble(value, out double a): top1 = a; break;
                case "top5" when TryDouble(value, out double b): top5 = b; break;
                case "output":
                    string[] f = value.Split(',');
                    if (f.Length != 5 || !TryDouble(f[1], out double min) || !TryDouble(f[2], out double mean) ||
                        !TryDouble(f[3], out double err) || !TryDouble(f[4], out double max)) return null;
                    outputs.Add(new OutputDeviation(f[0], min, mean, err, max));
                    break;
            }
        }
        return images < 1 || outputs.Count == 0 ? null : new QuantizationReport(images, inputs, outputs, top1, top5, fromCheckpoint: true);
    }

    private static bool TryDouble(string s, out double value) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
}

/// <summary>The calibration run of int8 mode and the int8 checkpoint writer.</summary>
public static class Int8Quantization
{
    /// <summary>Number of built-in calibration images used when ModelOptions.CalibrationImages is not set.</summary>
    public const int BuiltInImages = 4;

    /// <summary>Metadata key naming the precision of an int8 checkpoint ("int8").</summary>
    internal const string PrecisionKey = "aotvit.precision";

    /// <summary>
    /// Writes an int8 checkpoint of <paramref name="model"/> from the float checkpoint <paramref name="weights"/> (a
    /// file, folder or hub repo id, as Load takes): quantizes the model's nn.Linear weights per output channel, copies
    /// every other tensor as F32, measures int8 against float32 on the calibration images (options.CalibrationImages,
    /// or the built-in ones) and stores that report in the file. Returns the report.
    /// </summary>
    public static QuantizationReport WriteCheckpoint(string model, string weights, string output, ModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(output);
        options = (options ?? new ModelOptions()) with { Precision = ModelPrecision.Int8 };
        ModelCatalog.Entry entry = ModelCatalog.Find(model);
        // One open file serves both the model (its calibration report) and the tensors written: they are one version
        // of it, and a hub repo id is resolved once.
        List<TensorData> tensors = [];
        string source = "";
        QuantizationReport report;
        using (var loaded = new AnyModel(entry, weights, options, (resolved, binder) =>
        {
            if (binder.HasInt8) throw new InputException($"{weights} is already an int8 checkpoint; quantize the float checkpoint it came from");
            tensors = QuantizedTensors(entry, binder);
            source = Path.GetFileName(resolved.Path);
        }))
        {
            report = loaded.QuantizationReport ?? throw new InvalidOperationException("int8 load made no report");
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [PrecisionKey] = "int8",
            ["aotvit.model"] = entry.Name,
            ["aotvit.int8.scheme"] = "weights: int8 symmetric per output channel (scale = max|w| / 127, round half to even), " +
                                     "'<name>_scale' F32 per row; activations: quantized per row at run time (7-bit asymmetric)",
            ["aotvit.int8.source"] = source,
            [QuantizationReport.MetadataKey] = report.Serialize(),
        };
        string temporary = output + ".partial";
        try
        {
            SafeTensorsWriter.Write(temporary, tensors, metadata);
            UserFiles.Replace(temporary, output);
        }
        catch
        {
            try { UserFiles.DeleteIfExists(temporary); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
        return report;
    }

    /// <summary>Every tensor the model reads, in the binder's order: nn.Linear weights int8 per output channel with their
    /// "_scale" rows, the rest F32.</summary>
    private static List<TensorData> QuantizedTensors(ModelCatalog.Entry entry, WeightBinder binder)
    {
        var int8 = new HashSet<string>(entry.Descriptor.Int8Tensors, StringComparer.Ordinal);
        var tensors = new List<TensorData>();
        foreach (TensorSpec spec in binder.Expected)
        {
            float[] values = binder.Get(spec.Name);
            long[] shape = spec.Shape.AsSpan().ToArray();
            if (!int8.Contains(spec.Name))
            {
                tensors.Add(new TensorData(spec.Name, DType.F32, shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));
                continue;
            }
            int rows = checked((int)shape[0]);
            int k = values.Length / rows;
            var q = new sbyte[values.Length];
            var scales = new float[rows];
            Int8Matrix.QuantizeRows(values, rows, k, q, scales);
            tensors.Add(new TensorData(spec.Name, DType.I8, shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(q.AsSpan()).ToArray()));
            tensors.Add(new TensorData(ModelDescriptor.Int8ScaleName(spec.Name), DType.F32, [rows], System.Runtime.InteropServices.MemoryMarshal.AsBytes(scales.AsSpan()).ToArray()));
        }
        return tensors;
    }

    /// <summary>Preprocessed calibration pixels [n, C, H, W] and what they are.</summary>
    internal static (float[] Pixels, int Count, string Description) CalibrationPixels(VisionModel model)
    {
        var files = model.Options.CalibrationImages;
        if (files is { Count: > 0 })
        {
            var pixels = new float[(long)files.Count * model.InputFloatsPerImage];
            for (int i = 0; i < files.Count; i++)
                model.PreprocessFile(files[i], pixels.AsSpan(i * model.InputFloatsPerImage, model.InputFloatsPerImage));
            var names = new StringBuilder();
            for (int i = 0; i < files.Count && i < 3; i++) names.Append(i > 0 ? ", " : "").Append(Path.GetFileName(files[i]));
            if (files.Count > 3) names.Append(", … ").Append(Path.GetFileName(files[^1]));
            return (pixels, files.Count, names.ToString());
        }
        var built = new float[(long)BuiltInImages * model.InputFloatsPerImage];
        for (int i = 0; i < BuiltInImages; i++)
            model.Preprocess(SyntheticImage(i), built.AsSpan(i * model.InputFloatsPerImage, model.InputFloatsPerImage));
        return (built, BuiltInImages, $"{BuiltInImages} built-in synthetic images: gradients, shapes and noise; pass real photos for a meaningful figure");
    }

    /// <summary>
    /// A deterministic 320×240 test image: smooth colour gradients (different per index), a few filled discs and
    /// rectangles with hard edges, and pixel noise, so activations see both flat regions and texture.
    /// </summary>
    internal static RgbImage SyntheticImage(int index)
    {
        const int width = 320, height = 240;
        var pixels = new byte[width * height * 3];
        ulong state = 0x9E3779B97F4A7C15UL * (ulong)(index + 1);
        uint Next() { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return (uint)state; }
        int cx = 60 + index * 50, cy = 80 + index * 25, radius = 30 + index * 8;
        int rx = 200 - index * 30, ry = 30 + index * 20;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                double u = x / (double)width, v = y / (double)height;
                double r = 255 * (0.5 + 0.5 * Math.Sin(6.28 * (u * (index + 1) + 0.3 * v))),
                       g = 255 * v * (1 - 0.5 * u),
                       b = 255 * (0.5 + 0.5 * Math.Cos(6.28 * (v * (index + 2) - u)));
                int dx = x - cx, dy = y - cy;
                if (dx * dx + dy * dy < radius * radius) { r = 240 - 40 * index; g = 40 + 50 * index; b = 30; }
                if (x >= rx && x < rx + 70 && y >= ry && y < ry + 90) { r = 20; g = 20 + 60 * index; b = 220; }
                int noise = (int)(Next() % 41) - 20;
                int o = (y * width + x) * 3;
                pixels[o] = (byte)Math.Clamp((int)r + noise, 0, 255);
                pixels[o + 1] = (byte)Math.Clamp((int)g + noise, 0, 255);
                pixels[o + 2] = (byte)Math.Clamp((int)b + noise, 0, 255);
            }
        }
        return new RgbImage(width, height, pixels);
    }

    /// <summary>int8 against float32 outputs of the same images (each [n, …] in Descriptor.Outputs order).</summary>
    internal static QuantizationReport Compare(ModelDescriptor d, int images, string inputs, float[][] reference, float[][] quantized)
    {
        var outputs = new List<OutputDeviation>();
        for (int o = 0; o < d.Outputs.Count; o++)
        {
            int per = d.Outputs[o].FloatsPerImage;
            double minCos = double.PositiveInfinity, sumCos = 0, maxErr = 0, maxAbs = 0;
            for (int i = 0; i < images; i++)
            {
                double dot = 0, na = 0, nb = 0;
                for (int j = 0; j < per; j++)
                {
                    double a = reference[o][(long)i * per + j], b = quantized[o][(long)i * per + j];
                    dot += a * b; na += a * a; nb += b * b;
                    maxErr = Math.Max(maxErr, Math.Abs(a - b));
                    maxAbs = Math.Max(maxAbs, Math.Abs(a));
                }
                double cos = na == 0 && nb == 0 ? 1 : dot / Math.Sqrt(na * nb);
                if (double.IsNaN(cos)) cos = -1;
                minCos = Math.Min(minCos, cos);
                sumCos += cos;
            }
            outputs.Add(new OutputDeviation(d.Outputs[o].Name, minCos, sumCos / images, maxErr, maxAbs));
        }
        double? top1 = null, top5 = null;
        if (d.Kind == ModelKind.Classifier)
        {
            int classes = d.Outputs[0].FloatsPerImage, same1 = 0, same5 = 0;
            for (int i = 0; i < images; i++)
            {
                int[] a = TopK(reference[0].AsSpan(i * classes, classes), 5), b = TopK(quantized[0].AsSpan(i * classes, classes), 5);
                if (a[0] == b[0]) same1++;
                Array.Sort(a); Array.Sort(b);
                if (a.AsSpan().SequenceEqual(b)) same5++;
            }
            top1 = same1 / (double)images;
            top5 = same5 / (double)images;
        }
        return new QuantizationReport(images, inputs, outputs, top1, top5, fromCheckpoint: false);
    }

    private static int[] TopK(ReadOnlySpan<float> values, int k)
    {
        k = Math.Min(k, values.Length);
        var best = new int[k];
        var taken = new bool[values.Length];
        for (int r = 0; r < k; r++)
        {
            int arg = -1;
            for (int j = 0; j < values.Length; j++)
                if (!taken[j] && (arg < 0 || values[j] > values[arg])) arg = j;
            best[r] = arg;
            taken[arg] = true;
        }
        return best;
    }

    /// <summary>Opens any catalog model whatever its task (the quantizer needs no task-specific output).</summary>
    private sealed class AnyModel(ModelCatalog.Entry entry, string weights, ModelOptions options,
                                  Action<ResolvedCheckpoint, WeightBinder> whileOpen) : VisionModel(entry, weights, options, whileOpen);
}
