using System;
using System.Collections.Generic;
using System.Linq;
using AotVit.Generator.Emit;
using static AotVit.Generator.Helpers.IndentedTextWriter;

namespace AotVit.Generator.Ir
{
    /// <summary>ViT/DeiT patch embedding + CLS (+ distillation token) + position embeddings: x[0] = cls + pos[0];
    /// DeiT x[1] = distillation + pos[1]; x[P+p] = patch_p · Wᵀ + b + pos[P+p] with P = 1 or 2 prefix tokens.
    /// Kernels: Layout.Patches (im2col), Gemm.Run with the position embeddings as residual, Elementwise.Add.</summary>
    internal sealed class PatchEmbeddingOp : Op
    {
        public PatchEmbeddingOp(string module, Value pixels, Value patches, Value output, Param weight, Param bias, Param cls, Param? distillation,
                                Param position, int channels, int imageSize, int patchSize)
            : base(module)
        {
            Pixels = pixels; Patches = patches; Output = output; Weight = weight; Bias = bias; Cls = cls; Distillation = distillation; Position = position;
            Channels = channels; ImageSize = imageSize; PatchSize = patchSize;
        }
        public Param? Distillation { get; }
        public int PrefixTokens => Distillation is null ? 1 : 2;
        public Value Pixels { get; }
        public Value Patches { get; }
        public Value Output { get; }
        public Param Weight { get; }
        public Param Bias { get; }
        public Param Cls { get; }
        public Param Position { get; }
        public int Channels { get; }
        public int ImageSize { get; }
        public int PatchSize { get; }
        public int PatchCount => (ImageSize / PatchSize) * (ImageSize / PatchSize);
        public override IEnumerable<Value> Inputs => new[] { Pixels };
        public override IEnumerable<Value> Outputs => new[] { Patches, Output };
        public override long Macs => (long)PatchCount * Weight.N * Weight.K;
        public override IEnumerable<Param?> Params => new[] { Weight, Bias, Cls, Distillation, Position };
        public override string ProfileKind => "Embedding";

        public override void Emit(OpWriter w)
        {
            int d = Weight.N, k = Weight.K, t = PatchCount + PrefixTokens, first = PrefixTokens;
            string patches = w.Ptr(Patches), output = w.Ptr(Output);
            w.Line($"// {Module}.patch_embeddings: Conv2d({Channels}→{d}, kernel = stride = {PatchSize}) as im2col {Pixels.ShapeText} → {Patches.ShapeText}, then a GEMM");
            w.Line($"Layout.Patches(_pool, batch, {Channels}, {ImageSize}, {ImageSize}, {PatchSize}, {w.Ptr(Pixels)}, {patches});");
            using (w.Block("for (int image = 0; image < batch; image++)"))
            {
                w.Line($"float* x = {output} + image * {t * d};");
                w.Line($"// rows {first}..{t - 1}: patch · Wᵀ + b + position_embeddings[{first}..{t - 1}]");
                w.Line($"Gemm.Run(_pool, {PatchCount}, {patches} + image * {PatchCount * k}, {k}, {Weight.Field}, {OpWriter.C(Bias)}, Activation.None, {OpWriter.C(Position)} + {first * d}, {d}, x + {first * d}, {d});");
                w.Line("// row 0: cls_token + position_embeddings[0]");
                w.Line($"Elementwise.Add({d}, {OpWriter.C(Cls)}, {OpWriter.C(Position)}, x);");
                if (Distillation is not null)
                {
                    w.Line("// row 1: distillation_token + position_embeddings[1]");
                    w.Line($"Elementwise.Add({d}, {OpWriter.C(Distillation)}, {OpWriter.C(Position)} + {d}, x + {d});");
                }
            }
        }
    }
}
