// A plain C# reference of HF MobileViTForImageClassification (modeling_mobilevit.py): NCHW feature maps as
// double[C][H·W], direct convolution loops, unfold/fold written as HF's reshapes mean them, no runtime kernels.
// Oracle for MobileViT configs without PyTorch goldens (x-small, xx-small, tiny); itself checked against the
// goldens of mobilevit-small.
namespace AotVit.Tests.Reference;

internal sealed class MobileViTReference(Func<string, float[]> weight, int[] neck, int[] hiddenSizes, int heads, double expandRatio, double mlpRatio, int imageSize)
{
    private sealed record Map(double[][] C, int H, int W);

    /// <summary>pixels [3, S, S] (BGR, as the processor outputs) → logits.</summary>
    public float[] Forward(float[] pixels)
    {
        int s = imageSize;
        var x = new Map(Enumerable.Range(0, 3).Select(c => Enumerable.Range(0, s * s).Select(i => (double)pixels[c * s * s + i]).ToArray()).ToArray(), s, s);
        x = ConvLayer(x, "mobilevit.conv_stem", neck[0], 3, 2, 1, norm: true, act: true);
        x = InvertedResidual(x, "mobilevit.encoder.layer.0.layer.0", neck[1], 1);
        for (int i = 0; i < 3; i++) x = InvertedResidual(x, $"mobilevit.encoder.layer.1.layer.{i}", neck[2], i == 0 ? 2 : 1);
        int[] stages = { 2, 4, 3 };
        for (int l = 0; l < 3; l++) x = MobileViTBlock(x, $"mobilevit.encoder.layer.{l + 2}", neck[l + 3], hiddenSizes[l], stages[l]);
        x = ConvLayer(x, "mobilevit.conv_1x1_exp", neck[6], 1, 1, 1, norm: true, act: true);
        var pooled = x.C.Select(ch => ch.Average()).ToArray();
        var w = weight("classifier.weight");
        var b = weight("classifier.bias");
        return Enumerable.Range(0, b.Length).Select(o =>
        {
            double sum = b[o];
            for (int i = 0; i < pooled.Length; i++) sum += pooled[i] * w[o * pooled.Length + i];
            return (float)sum;
        }).ToArray();
    }

    private static double Silu(double v) => v / (1 + Math.Exp(-v));

    // MobileViTConvLayer: Conv2d(bias=False, padding=(k-1)/2, groups) → BatchNorm2d(eps 1e-5)? → SiLU?
    private Map ConvLayer(Map x, string m, int cout, int k, int stride, int groups, bool norm, bool act)
    {
        var w = weight(m + ".convolution.weight"); // [cout, cin/groups, k, k]
        int cin = x.C.Length, pad = (k - 1) / 2, cinPerGroup = cin / groups, coutPerGroup = cout / groups;
        int ho = (x.H + 2 * pad - k) / stride + 1, wo = (x.W + 2 * pad - k) / stride + 1;
        var y = new double[cout][];
        for (int o = 0; o < cout; o++)
        {
            y[o] = new double[ho * wo];
            int g = o / coutPerGroup;
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                {
                    double sum = 0;
                    for (int ci = 0; ci < cinPerGroup; ci++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++)
                            {
                                int iy = oy * stride + ky - pad, ix = ox * stride + kx - pad;
                                if (iy < 0 || iy >= x.H || ix < 0 || ix >= x.W) continue;
                                sum += w[((o * cinPerGroup + ci) * k + ky) * k + kx] * x.C[g * cinPerGroup + ci][iy * x.W + ix];
                            }
                    y[o][oy * wo + ox] = sum;
                }
        }
        if (norm)
        {
            var gamma = weight(m + ".normalization.weight");
            var beta = weight(m + ".normalization.bias");
            var mean = weight(m + ".normalization.running_mean");
            var variance = weight(m + ".normalization.running_var");
            for (int o = 0; o < cout; o++)
                for (int i = 0; i < y[o].Length; i++) y[o][i] = (y[o][i] - mean[o]) / Math.Sqrt(variance[o] + 1e-5) * gamma[o] + beta[o];
        }
        if (act)
            foreach (var ch in y)
                for (int i = 0; i < ch.Length; i++) ch[i] = Silu(ch[i]);
        return new Map(y, ho, wo);
    }

    private Map InvertedResidual(Map x, string m, int cout, int stride)
    {
        int cin = x.C.Length;
        // HF: make_divisible(int(round(in_channels * expand_ratio)), 8); Python's round() rounds half to even.
        int expanded = MakeDivisible((long)Math.Round(cin * expandRatio, MidpointRounding.ToEven), 8);
        var y = ConvLayer(x, m + ".expand_1x1", expanded, 1, 1, 1, norm: true, act: true);
        y = ConvLayer(y, m + ".conv_3x3", expanded, 3, stride, expanded, norm: true, act: true);
        y = ConvLayer(y, m + ".reduce_1x1", cout, 1, 1, 1, norm: true, act: false);
        if (stride != 1 || cin != cout) return y;
        return new Map(y.C.Select((ch, c) => ch.Select((v, i) => v + x.C[c][i]).ToArray()).ToArray(), y.H, y.W);
    }

    /// <summary>modeling_mobilevit.make_divisible with min_value = divisor: the nearest multiple of the divisor, at least
    /// the divisor, raised by one divisor when rounding down lost more than 10 %. Written from the HF source, not shared
    /// with the generator's lowering, so this reference checks it.</summary>
    private static int MakeDivisible(long value, int divisor)
    {
        long rounded = (value + divisor / 2) / divisor * divisor;   // int(value + divisor / 2) // divisor * divisor, value ≥ 0
        long v = Math.Max(divisor, rounded);
        if (v < 0.9 * value) v += divisor;
        return checked((int)v);
    }

    private Map MobileViTBlock(Map x, string m, int cout, int d, int layers)
    {
        x = InvertedResidual(x, m + ".downsampling_layer", cout, 2);
        var residual = x;
        var y = ConvLayer(x, m + ".conv_kxk", cout, 3, 1, 1, norm: true, act: true);
        y = ConvLayer(y, m + ".conv_1x1", d, 1, 1, 1, norm: false, act: false);
        // unfolding: patches[ph·2+pw][n = iy·(W/2)+ix][c] = y[c][(2iy+ph)·W + 2ix+pw]
        int npw = y.W / 2, nph = y.H / 2, n = npw * nph;
        var sequences = new double[4][][];
        for (int p = 0; p < 4; p++)
        {
            sequences[p] = new double[n][];
            for (int t = 0; t < n; t++)
            {
                int iy = t / npw, ix = t % npw, py = 2 * iy + p / 2, px = 2 * ix + p % 2;
                sequences[p][t] = Enumerable.Range(0, d).Select(c => y.C[c][py * y.W + px]).ToArray();
            }
        }
        for (int p = 0; p < 4; p++)
        {
            for (int j = 0; j < layers; j++) sequences[p] = TransformerLayer(sequences[p], $"{m}.transformer.layer.{j}", d);
            sequences[p] = LayerNorm(sequences[p], m + ".layernorm");
        }
        var folded = new double[d][];
        for (int c = 0; c < d; c++) folded[c] = new double[y.H * y.W];
        for (int p = 0; p < 4; p++)
            for (int t = 0; t < n; t++)
            {
                int iy = t / npw, ix = t % npw, py = 2 * iy + p / 2, px = 2 * ix + p % 2;
                for (int c = 0; c < d; c++) folded[c][py * y.W + px] = sequences[p][t][c];
            }
        var projected = ConvLayer(new Map(folded, y.H, y.W), m + ".conv_projection", cout, 1, 1, 1, norm: true, act: true);
        var concat = new Map(residual.C.Concat(projected.C).ToArray(), y.H, y.W); // torch.cat((residual, features), dim=1)
        return ConvLayer(concat, m + ".fusion", cout, 3, 1, 1, norm: true, act: true);
    }

    private double[][] TransformerLayer(double[][] x, string m, int d)
    {
        var attention = ReferenceOps.Linear(weight, ReferenceOps.SelfAttention(weight, LayerNorm(x, m + ".layernorm_before"), m + ".attention.attention", d, heads), m + ".attention.output.dense");
        var h = ReferenceOps.Add(x, attention);
        var up = ReferenceOps.Linear(weight, LayerNorm(h, m + ".layernorm_after"), m + ".intermediate.dense").Select(r => r.Select(Silu).ToArray()).ToArray();
        return ReferenceOps.Add(h, ReferenceOps.Linear(weight, up, m + ".output.dense"));
    }

    private double[][] LayerNorm(double[][] x, string m) => ReferenceOps.LayerNorm(weight, x, m, 1e-5);
}
