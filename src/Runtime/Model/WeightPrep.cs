// Load-time weight transforms that generated models call from their constructors: copy vectors into the
// constants block, fold eval-mode BatchNorm into the preceding convolution, reorder conv weights for the
// NHWC kernels and pack GEMM operands. Runs once per model load; allocation here is fine.
using AotVit.Runtime.Kernels;
using AotVit.Runtime.Threading;
using AotVit.Runtime.Weights;

namespace AotVit.Runtime.Model;

/// <summary>An eval-mode BatchNorm2d folded into the convolution before it: the module whose weight, bias, running_mean
/// and running_var tensors are read, and the eps its HF module adds to the variance (named by the generator).</summary>
/// <remarks>Infrastructure for the generated model code (AotVit.Models.*), public because that code lives in another
/// assembly; not part of the supported API (use VisionModel, ImageClassifier, FeatureExtractor).</remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public readonly record struct FoldedBatchNorm(string Module, double Eps);

/// <remarks>Infrastructure for the generated model code (AotVit.Models.*), public because that code lives in another
/// assembly; not part of the supported API (use VisionModel, ImageClassifier, FeatureExtractor).</remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static unsafe class WeightPrep
{
    /// <summary>destination[0..floats) = tensor · factor (factor 1: a plain copy).</summary>
    public static void Copy(ITensorSource weights, string name, long floats, float* destination, double factor = 1)
    {
        var src = weights.Get(name);
        if (src.Length != floats) throw new CheckpointException($"tensor '{name}' has {src.Length} values, expected {floats}", tensorName: name);
        if (factor == 1)
        {
            src.CopyTo(new Span<float>(destination, src.Length));
            return;
        }
        for (int i = 0; i < src.Length; i++) destination[i] = (float)(src[i] * factor);
    }

    /// <summary>Per-channel scale gamma / sqrt(var + eps), computed in double.</summary>
    private static double[] BatchNormScale(ITensorSource weights, FoldedBatchNorm bn, int channels)
    {
        string m = bn.Module;
        var gamma = Vector(weights, m + ".weight", channels);
        var variance = Vector(weights, m + ".running_var", channels);
        var scale = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            if (!(variance[c] + bn.Eps > 0))
                throw new CheckpointException($"tensor '{m}.running_var'[{c}] = {variance[c]} makes BatchNorm undefined", tensorName: m + ".running_var");
            scale[c] = gamma[c] / Math.Sqrt(variance[c] + bn.Eps);
        }
        return scale;
    }

    private static ReadOnlySpan<float> Vector(ITensorSource weights, string name, int length)
    {
        var v = weights.Get(name);
        if (v.Length != length) throw new CheckpointException($"tensor '{name}' has {v.Length} values, expected {length}", tensorName: name);
        return v;
    }

    /// <summary>bias[c] = beta[c] − mean[c]·gamma[c]/sqrt(var[c] + eps): the BatchNorm of a bias-free conv as a bias.</summary>
    public static void FoldedBatchNormBias(ITensorSource weights, FoldedBatchNorm bn, int channels, float* destination)
    {
        var scale = BatchNormScale(weights, bn, channels);
        var beta = Vector(weights, bn.Module + ".bias", channels);
        var mean = Vector(weights, bn.Module + ".running_mean", channels);
        for (int c = 0; c < channels; c++) destination[c] = (float)(beta[c] - mean[c] * scale[c]);
    }

    /// <summary>
    /// Packs Linear / 1x1-conv weights [N, K] (several tensors concatenated along N, e.g. q, k, v), each output
    /// row scaled by its BatchNorm factor when <paramref name="batchNorm"/> is given, and every value by
    /// <paramref name="factor"/> (a head averaged with another is packed halved).
    /// </summary>
    public static PackedMatrix PackOutIn(ITensorSource weights, string[] names, FoldedBatchNorm? batchNorm, int n, int k, double factor = 1)
    {
        var scale = batchNorm is { } bnN ? BatchNormScale(weights, bnN, n) : null;
        if (factor != 1)
        {
            if (scale is null) { scale = new double[n]; Array.Fill(scale, 1.0); }
            for (int i = 0; i < n; i++) scale[i] *= factor;
        }
        var packed = PackedMatrix.AllocateOutIn(n, k);
        try
        {
            int row = 0;
            foreach (var name in names)
            {
                var part = weights.Get(name);
                if (part.Length % k != 0 || row + part.Length / k > n)
                    throw new CheckpointException($"tensor '{name}' ({part.Length} values) does not fit rows {row}.. of a [{n}, {k}] weight", tensorName: name);
                int count = part.Length / k;
                packed.PackOutInRows(row, part, scale is null ? default : scale.AsSpan(row, count));
                row += count;
            }
            if (row != n) throw new CheckpointException($"tensors {string.Join(", ", names)} hold {row} rows, expected {n}");
            return packed;
        }
        catch
        {
            packed.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Packs an nn.Linear weight [N, K] (several tensors concatenated along N, e.g. q, k, v) that int8 mode may quantize:
    /// from an int8 checkpoint (every part int8, the scales multiplied by <paramref name="factor"/>) straight into an
    /// int8 matrix; otherwise as <see cref="PackOutIn"/>. A mix of int8 and float parts is a checkpoint error.
    /// </summary>
    public static PackedMatrix PackLinear(ITensorSource weights, string[] names, int n, int k, double factor = 1)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(names);
        if (!weights.TryGetInt8(names[0], out sbyte[] first, out float[] firstScales))
        {
            for (int i = 1; i < names.Length; i++)
            {
                if (weights.TryGetInt8(names[i], out _, out _))
                    throw new CheckpointException($"tensor '{names[i]}' is int8 but '{names[0]}', fused with it, is not", tensorName: names[i]);
            }
            return PackOutIn(weights, names, null, n, k, factor);
        }

        // One part (not fused) that fills the matrix: its array is the matrix's, no copy (checked below like any part).
        var q = names.Length == 1 && first.Length == (long)n * k ? first : new sbyte[(long)n * k];
        var scales = new float[n];
        int row = 0;
        for (int i = 0; i < names.Length; i++)
        {
            sbyte[] part; float[] partScales;
            if (i == 0) { part = first; partScales = firstScales; }
            else if (!weights.TryGetInt8(names[i], out part, out partScales))
                throw new CheckpointException($"tensor '{names[i]}' is not int8 but '{names[0]}', fused with it, is", tensorName: names[i]);
            int count = partScales.Length;
            if ((long)count * k != part.Length || row + count > n)
                throw new CheckpointException($"int8 tensor '{names[i]}' ({part.Length} values, {count} scales) does not fit rows {row}.. of a [{n}, {k}] weight", tensorName: names[i]);
            if (!ReferenceEquals(part, q)) part.CopyTo(q, (long)row * k);
            for (int r = 0; r < count; r++) scales[row + r] = (float)(partScales[r] * factor);
            row += count;
        }
        if (row != n) throw new CheckpointException($"tensors {string.Join(", ", names)} hold {row} rows, expected {n}");
        try
        {
            return PackedMatrix.FromInt8(Int8Matrix.FromQuantized(q, scales, n, k));
        }
        catch (ArgumentException e)
        {
            throw new CheckpointException($"int8 weights {string.Join(", ", names)}: {e.Message}", tensorName: names[0]);
        }
    }

    /// <summary>
    /// Runs a generated model's per-block loaders on all cores: each writes its own packed matrices and its own
    /// slices of the constants block, so they are independent. The first failure is rethrown as itself.
    /// </summary>
    public static void LoadInParallel(ITensorSource weights, params Action<ITensorSource>[] loaders)
    {
        ParallelIndices.For(loaders.Length, i => loaders[i](weights), "aotvit-load");
    }

    /// <summary>Quantizes each matrix to int8 (PackedMatrix.QuantizeToInt8), on all cores: the matrices are independent.</summary>
    public static void QuantizeInParallel(params PackedMatrix[] matrices)
    {
        ArgumentNullException.ThrowIfNull(matrices);
        ParallelIndices.For(matrices.Length, i => matrices[i].QuantizeToInt8(), "aotvit-quantize");
    }

    /// <summary>
    /// Conv2d weight [Cout, Cin, k, k] → GEMM B operand [(ky, kx, cin), cout] for the NHWC implicit-im2col convolution,
    /// BatchNorm-scaled per output channel.
    /// </summary>
    public static PackedMatrix PackConv(ITensorSource weights, string name, FoldedBatchNorm? batchNorm, int outChannels, int inChannels, int kernel)
    {
        var w = weights.Get(name);
        long expected = (long)outChannels * inChannels * kernel * kernel;
        if (w.Length != expected) throw new CheckpointException($"tensor '{name}' has {w.Length} values, expected {expected}", tensorName: name);
        var scale = batchNorm is { } bnC ? BatchNormScale(weights, bnC, outChannels) : null;
        int kk = kernel * kernel * inChannels;
        var b = new float[(long)kk * outChannels];
        for (int o = 0; o < outChannels; o++)
            for (int i = 0; i < inChannels; i++)
                for (int ky = 0; ky < kernel; ky++)
                    for (int kx = 0; kx < kernel; kx++)
                    {
                        float v = w[((o * inChannels + i) * kernel + ky) * kernel + kx];
                        int row = (ky * kernel + kx) * inChannels + i;
                        b[(long)row * outChannels + o] = scale is null ? v : (float)(v * scale[o]);
                    }
        return PackedMatrix.FromKN(b, kk, outChannels);
    }

    /// <summary>
    /// Conv2d weight [Cout, Cin, 3, 3] → the Winograd F(2×2, 3×3) filter of Conv2d.RunWinograd (16 × [Cin, Cout]),
    /// BatchNorm-scaled per output channel; scale and transform in double, rounded to float once.
    /// </summary>
    public static PackedMatrix PackWinograd(ITensorSource weights, string name, FoldedBatchNorm? batchNorm, int outChannels, int inChannels)
    {
        var w = weights.Get(name);
        long expected = 9L * outChannels * inChannels;
        if (w.Length != expected) throw new CheckpointException($"tensor '{name}' has {w.Length} values, expected {expected}", tensorName: name);
        var scale = batchNorm is { } bnW ? BatchNormScale(weights, bnW, outChannels) : null;
        var filter = Conv2d.NewWinogradFilter(inChannels, outChannels);
        Span<double> g = stackalloc double[9];
        for (int o = 0; o < outChannels; o++)
            for (int i = 0; i < inChannels; i++)
            {
                double factor = scale is null ? 1 : scale[o];
                for (int tap = 0; tap < 9; tap++) g[tap] = w[(o * inChannels + i) * 9 + tap] * factor;
                Conv2d.SetWinogradFilter(filter, i, o, g);
            }
        return filter;
    }

    /// <summary>Depthwise weight [C, 1, 3, 3] → tap-major [9, C], BatchNorm-scaled per channel.</summary>
    public static void DepthwiseTaps(ITensorSource weights, string name, FoldedBatchNorm? batchNorm, int channels, float* destination)
    {
        var w = weights.Get(name);
        if (w.Length != 9L * channels) throw new CheckpointException($"tensor '{name}' has {w.Length} values, expected {9L * channels}", tensorName: name);
        var scale = batchNorm is { } bnD ? BatchNormScale(weights, bnD, channels) : null;
        for (int c = 0; c < channels; c++)
            for (int tap = 0; tap < 9; tap++)
                destination[tap * channels + c] = scale is null ? w[c * 9 + tap] : (float)(w[c * 9 + tap] * scale[c]);
    }
}
