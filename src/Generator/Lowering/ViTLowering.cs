// Lowering of HF ViT and DeiT (modeling_vit.py, modeling_deit.py) to the graph IR, module by module and unfused:
// q, k and v stay three Linears, activations and residual adds stay separate ops. The passes fuse them.
//   embeddings   patches (Conv2d, kernel = stride = patch) + [CLS] (+ DeiT's distillation token) + position embeddings
//   encoder      ViTLayer / DeiTLayer (the same module): pre-norm attention and GELU MLP with residuals
//   layernorm    the final LayerNorm → last_hidden_state
//   head         ViTModel / DeiTModel: pooler (tanh(dense(token 0))) → pooler_output
//                *ForImageClassification: classifier(token 0) → logits
//                DeiTForImageClassificationWithTeacher: (cls_classifier(token 0) + distillation_classifier(token 1)) / 2 → logits
// Tensor names are the checkpoint's own: the backbone under the class's prefix ("vit.", "deit."; none for the base
// models, which also accept a prefixed checkpoint), the heads without one.
using AotVit.Generator.Ir;
using AotVit.Generator.Model;
using static AotVit.Generator.Lowering.LoweringHelpers;

namespace AotVit.Generator.Lowering
{
    internal static class ViTLowering
    {
        public static Graph Lower(ViTSpec s)
        {
            var g = new Graph(s.Folder, s.ClassName) { Kind = s.IsClassifier ? "Classifier" : "FeatureExtractor" };
            string family = s.DistillationToken ? "DeiT" : "ViT";
            string pre = s.Prefix;
            if (pre.Length == 0) g.OptionalPrefixes.Add(s.DistillationToken ? "deit." : "vit.");
            g.Labels.AddRange(s.Labels);
            int d = s.HiddenSize, t = s.Tokens, p = s.PatchSize, c = s.Channels, patchCount = t - s.PrefixTokens;

            var pixels = new Value("pixel_values", c, s.ImageSize, s.ImageSize) { ExternalName = "pixelValues" };
            g.Input = pixels;

            string tokens = s.DistillationToken ? "CLS, distillation token" : "CLS";
            var embed = new Block("Embeddings", pre + "embeddings", $"{family}Embeddings: patches {s.PatchesPerSide}×{s.PatchesPerSide} of {p}×{p}, {tokens}, position embeddings → [{t}×{d}]");
            var patches = new Value("embeddings.patches", patchCount, c * p * p);
            var x = new Value("embeddings.output", t, d);
            string e = pre + "embeddings";
            var weight = g.AddParam(new Param(Field(e + ".patch_embeddings.projection"), ParamKind.PackedOutIn,
                new[] { g.Tensor(e + ".patch_embeddings.projection.weight", d, c, p, p) }, null, (long)d * c * p * p, d, c * p * p));
            var bias = Vector(g, e + ".patch_embeddings.projection.bias", d);
            var cls = Vector(g, e + ".cls_token", 1, 1, d);
            var distillation = s.DistillationToken ? Vector(g, e + ".distillation_token", 1, 1, d) : null;
            var pos = Vector(g, e + ".position_embeddings", 1, t, d);
            embed.Ops.Add(new PatchEmbeddingOp(e, pixels, patches, x, weight, bias, cls, distillation, pos, c, s.ImageSize, p));
            g.Blocks.Add(embed);

            for (int i = 0; i < s.Layers; i++)
            {
                string m = $"{pre}encoder.layer.{i}";
                var b = new Block($"EncoderLayer{i}", m, $"{family}Layer {i}: pre-norm attention ({s.Heads} heads × {s.HeadDim}) and GELU MLP ({d}→{s.IntermediateSize}→{d}), residuals");
                x = TransformerLayer(g, b, m, x, sequences: 1, tokens: t, d, s.Heads, s.IntermediateSize, Activation.Gelu, s.LayerNormEps, s.QkvBias);
                g.Blocks.Add(b);
            }

            var last = new Value("last_hidden_state", t, d);
            switch (s.Head)
            {
                case ViTHead.Pooler:
                {
                    var final = new Block("FinalNormAndPooler", $"{pre}layernorm, {pre}pooler", "final LayerNorm → last_hidden_state; pooler: tanh(dense(token 0)) → pooler_output");
                    last.ExternalName = "lastHiddenState";
                    final.Ops.Add(LayerNorm(g, pre + "layernorm", x, last, s.LayerNormEps));
                    var pooled = new Value("pooler.dense", d);
                    final.Ops.Add(new LinearOp(pre + "pooler.dense", last, Linear(g, pre + "pooler.dense", d, d), Vector(g, pre + "pooler.dense.bias", d), pooled, 1, t * d));
                    var pooler = new Value("pooler_output", d) { ExternalName = "poolerOutput" };
                    final.Ops.Add(new ActivationOp(pre + "pooler.activation", Activation.Tanh, pooled, pooler));
                    g.Blocks.Add(final);
                    g.Outputs.Add(new GraphOutput("last_hidden_state", last));
                    g.Outputs.Add(new GraphOutput("pooler_output", pooler));
                    break;
                }
                case ViTHead.Classifier:
                {
                    int labels = s.Labels.Count;
                    var final = new Block("FinalNormAndClassifier", $"{pre}layernorm, classifier", $"final LayerNorm; classifier on token 0 ([CLS]) → logits [{labels}]");
                    final.Ops.Add(LayerNorm(g, pre + "layernorm", x, last, s.LayerNormEps));
                    var logits = new Value("logits", labels) { ExternalName = "logits" };
                    final.Ops.Add(new LinearOp("classifier", last, Linear(g, "classifier", labels, d), Vector(g, "classifier.bias", labels), logits, 1, t * d));
                    g.Blocks.Add(final);
                    g.Outputs.Add(new GraphOutput("logits", logits));
                    break;
                }
                case ViTHead.DistilledClassifier:
                {
                    // (cls_classifier(x0) + distillation_classifier(x1)) / 2 as two GEMMs with their weights and biases
                    // halved at load: halving is exact in float32, so each sum is PyTorch's halved, the second adding
                    // onto the first as its residual.
                    int labels = s.Labels.Count;
                    var final = new Block("FinalNormAndClassifiers", $"{pre}layernorm, cls_classifier, distillation_classifier",
                                          $"final LayerNorm; logits = (cls_classifier(token 0) + distillation_classifier(token 1)) / 2 → [{labels}]");
                    final.Ops.Add(LayerNorm(g, pre + "layernorm", x, last, s.LayerNormEps));
                    var half = new Value("cls_classifier", labels);
                    var clsHead = Linear(g, "cls_classifier", labels, d);
                    var clsBias = Vector(g, "cls_classifier.bias", labels);
                    clsHead.Scale = clsBias.Scale = 0.5;
                    final.Ops.Add(new LinearOp("cls_classifier", last, clsHead, clsBias, half, 1, t * d));
                    var logits = new Value("logits", labels) { ExternalName = "logits" };
                    var distHead = Linear(g, "distillation_classifier", labels, d);
                    var distBias = Vector(g, "distillation_classifier.bias", labels);
                    distHead.Scale = distBias.Scale = 0.5;
                    final.Ops.Add(new LinearOp("distillation_classifier", last, distHead, distBias, logits, 1, t * d) { InputOffset = d, Residual = half });
                    g.Blocks.Add(final);
                    g.Outputs.Add(new GraphOutput("logits", logits));
                    break;
                }
            }
            return g;
        }
    }
}
