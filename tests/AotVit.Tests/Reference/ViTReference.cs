// A plain C# reference of HF ViTModel (modeling_vit.py), in the style of llm.c: one method per layer, readable
// loops, double accumulation, no intrinsics, no kernels from src/Runtime. It is the oracle for generated models
// of configs we have no PyTorch goldens for (tiny and other-sized ViTs), and is itself checked against the
// PyTorch goldens of the real ViT-B/32.
using AotVit.Runtime.Kernels;

namespace AotVit.Tests.Reference;

internal sealed class ViTReference(Func<string, float[]> weight, int hidden, int layers, int heads, int intermediate, int imageSize, int patchSize, double eps)
{
    private int Side => imageSize / patchSize;
    private int Tokens => Side * Side + 1;

    /// <summary>pixels [3, S, S] → (last_hidden_state [T, D], pooler_output [D]).</summary>
    public (float[] LastHiddenState, float[] PoolerOutput) Forward(float[] pixels)
    {
        var x = Embeddings(pixels);
        for (int l = 0; l < layers; l++) x = Layer(x, $"encoder.layer.{l}");
        var last = LayerNorm(x, "layernorm");
        var pooled = Linear(new[] { last[0] }, "pooler.dense")[0].Select(Math.Tanh).ToArray();
        return (last.SelectMany(r => r.Select(v => (float)v)).ToArray(), pooled.Select(v => (float)v).ToArray());
    }

    // embeddings: Conv2d(3→D, kernel = stride = P) over patches in row-major order, CLS first, + position embeddings
    private double[][] Embeddings(float[] pixels)
    {
        var w = weight("embeddings.patch_embeddings.projection.weight"); // [D, 3, P, P]
        var b = weight("embeddings.patch_embeddings.projection.bias");
        var cls = weight("embeddings.cls_token");
        var pos = weight("embeddings.position_embeddings");              // [1, T, D]
        var x = new double[Tokens][];
        x[0] = Enumerable.Range(0, hidden).Select(d => (double)cls[d] + pos[d]).ToArray();
        for (int py = 0; py < Side; py++)
            for (int px = 0; px < Side; px++)
            {
                int t = 1 + py * Side + px;
                x[t] = new double[hidden];
                for (int d = 0; d < hidden; d++)
                {
                    double sum = b[d];
                    for (int c = 0; c < 3; c++)
                        for (int ky = 0; ky < patchSize; ky++)
                            for (int kx = 0; kx < patchSize; kx++)
                                sum += (double)w[((d * 3 + c) * patchSize + ky) * patchSize + kx] *
                                       pixels[(c * imageSize + py * patchSize + ky) * imageSize + px * patchSize + kx];
                    x[t][d] = sum + pos[t * hidden + d];
                }
            }
        return x;
    }

    // ViTLayer: x = x + attention(LN_before(x)); x = x + MLP(LN_after(x)), GELU exact (erf)
    private double[][] Layer(double[][] x, string m)
    {
        var attn = Linear(Attention(LayerNorm(x, m + ".layernorm_before"), m + ".attention.attention"), m + ".attention.output.dense");
        var h = Add(x, attn);
        var up = Linear(LayerNorm(h, m + ".layernorm_after"), m + ".intermediate.dense")
            .Select(r => r.Select(v => 0.5 * v * (1 + Elementwise.ReferenceErf(v / Math.Sqrt(2)))).ToArray()).ToArray();
        return Add(h, Linear(up, m + ".output.dense"));
    }

    private double[][] Attention(double[][] x, string m) => ReferenceOps.SelfAttention(weight, x, m, hidden, heads);
    private double[][] Linear(double[][] x, string m) => ReferenceOps.Linear(weight, x, m);
    private double[][] LayerNorm(double[][] x, string m) => ReferenceOps.LayerNorm(weight, x, m, eps);
    private static double[][] Add(double[][] a, double[][] b) => ReferenceOps.Add(a, b);
}
