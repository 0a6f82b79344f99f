// `preprocess`: random images from 1x1 to 4000x30 / 30x4000 (and random sizes between) through both models'
// PreprocessPlans and through random plans (exact or shortest-edge resize with BILINEAR or BICUBIC, crops larger
// than the image, odd rescale factors, normalisation). Invariants on success: the output size is what OutputSize promised (and the
// model's input shape for the model plans), every value is finite and inside the range the plan can produce.
using AotVit.Runtime;
using AotVit.Runtime.Imaging;
using AotVit.Runtime.Model;

namespace AotVit.Fuzzing;

public sealed class PreprocessTarget : FuzzTarget
{
    private readonly List<(string Name, PreprocessPlan Plan, int[] InputShape)> _models;

    public PreprocessTarget()
    {
        _models = ModelCatalog.All.Select(e => (e.Descriptor.Name, e.Descriptor.Preprocess, e.Descriptor.InputShape)).ToList();
    }

    public override string Name => "preprocess";

    public override string? ExpectedError(Exception exception) =>
        exception is InputException or ArgumentException ? Bucket(exception) : null;   // too large to resize; destination too small (slack)

    private static readonly (int W, int H)[] Extremes =
        [(1, 1), (1, 2), (2, 1), (4000, 30), (30, 4000), (4000, 1), (1, 4000), (1, 224), (224, 1), (223, 225), (256, 256), (3, 4000), (1500, 1500)];

    public override FuzzCase Next(Random random, long index)
    {
        var (w, h) = random.Next(3) switch
        {
            0 => random.Pick(Extremes),
            1 => (1 + random.Next(64), 1 + random.Next(64)),
            _ => (1 + random.Next(1200), 1 + random.Next(1200)),
        };
        var pixels = new byte[(long)w * h * 3];
        switch (random.Next(3))
        {
            case 0: random.NextBytes(pixels); break;
            case 1: Array.Fill(pixels, (byte)(random.Next(2) * 255)); break;
            default: for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)((i / 3 % w) * 255 / Math.Max(1, w - 1)); break;
        }
        var image = new RgbImage(w, h, pixels);
        bool modelPlan = random.Next(2) == 0;
        PreprocessPlan plan;
        int[]? expected = null;
        string kind;
        if (modelPlan)
        {
            var m = random.Pick(_models);
            (plan, expected, kind) = (m.Plan, m.InputShape, $"{m.Name} {w}x{h}");
        }
        else
        {
            plan = RandomPlan(random);
            kind = $"random plan {w}x{h}";
        }
        int slack = random.Next(8) == 0 ? random.Next(-2, 3) : 0;
        byte[] artifact = System.Text.Encoding.UTF8.GetBytes($"{kind}; pixels {Fingerprint(pixels)}; {Describe(plan)}; slack {slack}");
        return new FuzzCase(kind, artifact, ".txt", () => Run(image, plan, expected, slack));
    }

    private static PreprocessPlan RandomPlan(Random random)
    {
        ResampleFilter filter = random.Next(2) == 0 ? ResampleFilter.Bilinear : ResampleFilter.Bicubic;
        ResizeMode? resize = random.Next(3) switch
        {
            0 => null,
            1 => new ResizeMode.Exact(1 + random.Next(600), 1 + random.Next(600), filter),
            _ => new ResizeMode.ShortestEdge(1 + random.Next(600), filter),
        };
        (int, int)? crop = random.Next(2) == 0 ? null : (1 + random.Next(700), 1 + random.Next(700));
        double? rescale = random.Next(2) == 0 ? null : random.Pick([1 / 255.0, 1.0, -1.0, 1e-30, 1e30]);
        ChannelNormalization? normalize = random.Next(2) == 0 ? null
            : new ChannelNormalization([random.NextDouble(), 0.5, -3], [random.Pick([0.5, 1e-3, 1e3, -0.25]), 0.5, 1]);
        return new PreprocessPlan(resize, crop, rescale, normalize, random.Next(2) == 0);
    }

    /// <summary>Every parameter of a plan, doubles round-trip (the record's ToString leaves out the normalisation values).</summary>
    private static string Describe(PreprocessPlan plan)
    {
        static string D(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        string resize = plan.Resize switch
        {
            ResizeMode.Exact e => $"exact {e.Height}x{e.Width} {e.Filter.Name()}",
            ResizeMode.ShortestEdge s => $"shortest edge {s.Size} {s.Filter.Name()}",
            _ => "none",
        };
        string crop = plan.CenterCrop is { } c ? $"{c.Height}x{c.Width}" : "none";
        string rescale = plan.RescaleFactor is double r ? D(r) : "none";
        string normalize = plan.Normalize is { } n
            ? $"mean [{string.Join(", ", n.Mean.Select(D))}] std [{string.Join(", ", n.Std.Select(D))}]" : "none";
        return $"resize {resize}, crop {crop}, rescale {rescale}, normalize {normalize}, flip {plan.FlipChannelOrder}";
    }

    private static FuzzResult Run(RgbImage image, PreprocessPlan plan, int[]? expectedShape, int slack)
    {
        var (c, h, w) = Preprocessor.OutputSize(plan, image.Width, image.Height);
        if (expectedShape is not null && (c != expectedShape[0] || h != expectedShape[1] || w != expectedShape[2]))
            throw new FuzzInvariantException($"model plan made [{c}, {h}, {w}] from {image.Width}x{image.Height}, the model needs [{string.Join(", ", expectedShape)}]");
        long length = (long)c * h * w;
        if (length > 8_000_000) return FuzzResult.Error("output above 8M floats (not run)");
        var output = new float[length + Math.Max(slack, 0) + 1];
        float canary = output[^1] = 12345.678f;
        Preprocessor.Run(image, plan, output.AsSpan(0, (int)length + slack));
        if (output[^1] != canary && slack <= 0)
            throw new FuzzInvariantException("Preprocessor.Run wrote past the destination it was given");
        // Range: every output is (p · rescale - mean) / std for an integer pixel p in [0, 255] and one channel's
        // mean and std (the union over channels: the BGR flip may pair channels either way).
        double scale = plan.RescaleFactor ?? 1;
        double lo = Math.Min(0, 255 * scale), hi = Math.Max(0, 255 * scale);
        if (plan.Normalize is { } n)
        {
            double min = double.MaxValue, max = double.MinValue;
            for (int channel = 0; channel < 3; channel++)
            {
                double a = (lo - n.Mean[channel]) / n.Std[channel], b = (hi - n.Mean[channel]) / n.Std[channel];
                min = Math.Min(min, Math.Min(a, b));
                max = Math.Max(max, Math.Max(a, b));
            }
            (lo, hi) = (min, max);
        }
        double tolerance = 1e-4 * Math.Max(1, Math.Max(Math.Abs(lo), Math.Abs(hi)));
        bool representable = Math.Max(Math.Abs(lo), Math.Abs(hi)) < 1e37;
        foreach (float v in output.AsSpan(0, (int)length))
        {
            if (!float.IsFinite(v) && representable)
                throw new FuzzInvariantException($"non-finite output {v}");
            if (float.IsFinite(v) && (v < lo - tolerance || v > hi + tolerance))
                throw new FuzzInvariantException($"output {v} outside [{lo}, {hi}]");
        }
        return FuzzResult.Ok(expectedShape is null ? "random plan" : "model plan");
    }
}
