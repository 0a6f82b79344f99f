// Lowering of HF ViTModel (modeling_vit.py) to the graph IR, module by module and unfused:
// q, k and v stay three Linears, activations and residual adds stay separate ops. The passes fuse them.
using AotVit.Generator.Ir;
using AotVit.Generator.Model;
using static AotVit.Generator.Lowering.LoweringHelpers;

namespace AotVit.Generator.Lowering
{
    internal static class ViTLowering
    {
        public static Graph Lower(ViTSpec s)
        {
            var g = new Graph(s.Folder, s.ClassName) { Kind = "FeatureExtractor" };
            g.OptionalPrefixes.Add("vit.");
            int d = s.HiddenSize, t = s.Tokens, p = s.PatchSize, c = s.Channels;

            var pixels = new Value("pixel_values", c, s.ImageSize, s.ImageSize) { ExternalName = "pixelValues" };
            g.Input = pixels;

            // embeddings (ViTEmbeddings): Conv2d(k = stride = patch) as im2col + GEMM, CLS token, position embeddings.
            var embed = new Block("Embeddings", "embeddings", $"ViTEmbeddings: patches {s.PatchesPerSide}×{s.PatchesPerSide} of {p}×{p}, CLS, position embeddings → [{t}×{d}]");
            var patches = new Value("embeddings.patches", t - 1, c * p * p);
            var x = new Value("embeddings.output", t, d);
            var weight = g.AddParam(new Param(Field("embeddings.patch_embeddings.projection"), ParamKind.PackedOutIn,
                new[] { g.Tensor("embeddings.patch_embeddings.projection.weight", d, c, p, p) }, null, (long)d * c * p * p, d, c * p * p));
            var bias = Vector(g, "embeddings.patch_embeddings.projection.bias", d);
            var cls = Vector(g, "embeddings.cls_token", 1, 1, d);
            var pos = Vector(g, "embeddings.position_embeddings", 1, t, d);
            embed.Ops.Add(new PatchEmbeddingOp("embeddings", pixels, patches, x, weight, bias, cls, pos, c, s.ImageSize, p));
            g.Blocks.Add(embed);

            for (int i = 0; i < s.Layers; i++)
            {
                string m = $"encoder.layer.{i}";
                var b = new Block($"EncoderLayer{i}", m, $"ViTLayer {i}: pre-norm attention ({s.Heads} heads × {s.HeadDim}) and GELU MLP ({d}→{s.IntermediateSize}→{d}), residuals");
                x = TransformerLayer(g, b, m, x, sequences: 1, tokens: t, d, s.Heads, s.IntermediateSize, Activation.Gelu, s.LayerNormEps, s.QkvBias);
                g.Blocks.Add(b);
            }

            var final = new Block("FinalNormAndPooler", "layernorm, pooler", "final LayerNorm → last_hidden_state; pooler: tanh(dense(token 0)) → pooler_output");
            var last = new Value("last_hidden_state", t, d) { ExternalName = "lastHiddenState" };
            final.Ops.Add(LayerNorm(g, "layernorm", x, last, s.LayerNormEps));
            var pooled = new Value("pooler.dense", d);
            final.Ops.Add(new LinearOp("pooler.dense", last, Linear(g, "pooler.dense", d, d), Vector(g, "pooler.dense.bias", d), pooled, 1, t * d));
            var pooler = new Value("pooler_output", d) { ExternalName = "poolerOutput" };
            final.Ops.Add(new ActivationOp("pooler.activation", Activation.Tanh, pooled, pooler));
            g.Blocks.Add(final);

            g.Outputs.Add(new GraphOutput("last_hidden_state", last));
            g.Outputs.Add(new GraphOutput("pooler_output", pooler));
            return g;
        }
    }
}
