// Transformer pieces shared by the plain C# references (ViT and MobileViT use the same HF layer structure):
// rows are tokens, double precision, weights looked up by HF tensor name.
namespace AotVit.Tests.Reference;

internal static class ReferenceOps
{
    /// <summary>nn.Linear: y[r, o] = b[o] + Σ_i x[r, i]·W[o, i].</summary>
    public static double[][] Linear(Func<string, float[]> weight, double[][] x, string m)
    {
        var w = weight(m + ".weight");
        var b = weight(m + ".bias");
        int outputs = b.Length, inputs = w.Length / outputs;
        return x.Select(row => Enumerable.Range(0, outputs).Select(o =>
        {
            double s = b[o];
            for (int i = 0; i < inputs; i++) s += row[i] * w[o * inputs + i];
            return s;
        }).ToArray()).ToArray();
    }

    /// <summary>nn.LayerNorm over each row (biased variance).</summary>
    public static double[][] LayerNorm(Func<string, float[]> weight, double[][] x, string m, double eps)
    {
        var g = weight(m + ".weight");
        var b = weight(m + ".bias");
        return x.Select(row =>
        {
            double mean = row.Average(), variance = row.Select(v => (v - mean) * (v - mean)).Average();
            return row.Select((v, i) => (v - mean) / Math.Sqrt(variance + eps) * g[i] + b[i]).ToArray();
        }).ToArray();
    }

    /// <summary>HF *SelfAttention: q, k, v Linears, per head softmax(q·kᵀ/√d_h)·v, heads concatenated.</summary>
    public static double[][] SelfAttention(Func<string, float[]> weight, double[][] x, string m, int width, int heads)
    {
        var q = Linear(weight, x, m + ".query");
        var k = Linear(weight, x, m + ".key");
        var v = Linear(weight, x, m + ".value");
        int dh = width / heads;
        var context = x.Select(_ => new double[width]).ToArray();
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < x.Length; i++)
            {
                var scores = new double[x.Length];
                for (int j = 0; j < x.Length; j++)
                {
                    double s = 0;
                    for (int e = 0; e < dh; e++) s += q[i][h * dh + e] * k[j][h * dh + e];
                    scores[j] = s / Math.Sqrt(dh);
                }
                double max = scores.Max(), total = scores.Sum(s => Math.Exp(s - max));
                for (int j = 0; j < x.Length; j++)
                {
                    double p = Math.Exp(scores[j] - max) / total;
                    for (int e = 0; e < dh; e++) context[i][h * dh + e] += p * v[j][h * dh + e];
                }
            }
        return context;
    }

    public static double[][] Add(double[][] a, double[][] b) => a.Select((r, i) => r.Select((v, j) => v + b[i][j]).ToArray()).ToArray();
}
