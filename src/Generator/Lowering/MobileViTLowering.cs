// Lowering of HF MobileViTForImageClassification (modeling_mobilevit.py) to the graph IR.
// Feature maps are NHWC ([H, W, C] per image) so that a 1x1 convolution is a GEMM over H·W rows and
// a depthwise convolution vectorises over channels. Every conv layer is lowered as HF builds it
// (conv → BatchNorm → SiLU, each optional); the passes fold BatchNorm and fuse activations and residuals.
using System;
using AotVit.Generator.Ir;
using AotVit.Generator.Model;
using static AotVit.Generator.Lowering.LoweringHelpers;

namespace AotVit.Generator.Lowering
{
    internal sealed class MobileViTLowering
    {
        private readonly MobileViTSpec _s;
        private readonly Graph _g;
        private Block _block = null!;

        private MobileViTLowering(MobileViTSpec s) { _s = s; _g = new Graph(s.Folder, s.ClassName) { Kind = "Classifier" }; }

        /// <summary>HF make_divisible(value, 8): round to the nearest multiple of 8, never down by more than 10 %.</summary>
        internal static int MakeDivisible(double value, int divisor = 8)
        {
            int v = Math.Max(divisor, (int)(value + divisor / 2.0) / divisor * divisor);
            if (v < 0.9 * value) v += divisor;
            return v;
        }

        public static Graph Lower(MobileViTSpec s) => new MobileViTLowering(s).Build();

        private Graph Build()
        {
            var s = _s;
            var neck = s.NeckHiddenSizes;
            _g.Labels.AddRange(s.Labels);
            var pixels = new Value("pixel_values", s.Channels, s.ImageSize, s.ImageSize) { ExternalName = "pixelValues" };
            _g.Input = pixels;

            Begin("Stem", "mobilevit.conv_stem", $"NCHW → NHWC, conv_stem 3×3 stride 2 {s.Channels}→{neck[0]}, BatchNorm, SiLU");
            var nhwc = new Value("pixel_values.nhwc", s.ImageSize, s.ImageSize, s.Channels);
            _block.Ops.Add(new LayoutOp("pixel_values (NCHW → NHWC)", LayoutKind.NchwToNhwc, pixels, nhwc, s.Channels, s.ImageSize, s.ImageSize));
            var x = ConvLayer("mobilevit.conv_stem", nhwc, null, neck[0], 3, 2, depthwise: false, norm: true, act: true);

            // encoder.layer.0 and .1: MobileNetV2 stages (MobileViTMobileNetLayer).
            Begin("EncoderLayer0", "mobilevit.encoder.layer.0", $"MobileViTMobileNetLayer: 1 inverted residual {neck[0]}→{neck[1]}");
            x = InvertedResidual("mobilevit.encoder.layer.0.layer.0", x, neck[1], 1);
            for (int i = 0; i < 3; i++)
            {
                Begin($"EncoderLayer1Block{i}", $"mobilevit.encoder.layer.1.layer.{i}", $"MobileViTInvertedResidual {(i == 0 ? neck[1] : neck[2])}→{neck[2]}, stride {(i == 0 ? 2 : 1)}");
                x = InvertedResidual($"mobilevit.encoder.layer.1.layer.{i}", x, neck[2], i == 0 ? 2 : 1);
            }

            // encoder.layer.2..4: MobileViT blocks with 2, 4 and 3 transformer layers (fixed in HF's MobileViTEncoder).
            int[] stages = { 2, 4, 3 };
            for (int l = 0; l < 3; l++)
                x = MobileViTBlock($"mobilevit.encoder.layer.{l + 2}", l + 2, x, neck[l + 3], s.HiddenSizes[l], stages[l]);

            Begin("Head", "mobilevit.conv_1x1_exp, classifier", $"conv_1x1_exp {neck[5]}→{neck[6]} + BatchNorm + SiLU, global average pool, classifier {neck[6]}→{s.Labels.Count}");
            x = ConvLayer("mobilevit.conv_1x1_exp", x, null, neck[6], 1, 1, depthwise: false, norm: true, act: true);
            var pooled = new Value("mobilevit.pooler_output", neck[6]);
            _block.Ops.Add(new GlobalAveragePoolOp("mobilevit (torch.mean over H, W)", x, pooled));
            var logits = new Value("logits", s.Labels.Count) { ExternalName = "logits" };
            _block.Ops.Add(new LinearOp("classifier", pooled, Linear(_g, "classifier", s.Labels.Count, neck[6]),
                                        Vector(_g, "classifier.bias", s.Labels.Count), logits, 1, neck[6]));
            _g.Outputs.Add(new GraphOutput("logits", logits));
            return _g;
        }

        private void Begin(string method, string module, string summary)
        {
            _block = new Block(method, module, summary);
            _g.Blocks.Add(_block);
        }

        /// <summary>MobileViTConvLayer: Conv2d (no bias) → BatchNorm2d (eps 1e-5)? → SiLU?. Feature maps are NHWC.</summary>
        private Value ConvLayer(string m, Value input, Value? second, int cout, int kernel, int stride, bool depthwise, bool norm, bool act)
        {
            int h = input.Shape[0], w = input.Shape[1], cin = input.Shape[2] + (second?.Shape[2] ?? 0);
            int pad = (kernel - 1) / 2;
            int ho = (h + 2 * pad - kernel) / stride + 1, wo = (w + 2 * pad - kernel) / stride + 1;
            var conv = new Value(m + ".convolution", ho, wo, cout);
            string weight = m + ".convolution";
            if (depthwise)
                _block.Ops.Add(new DepthwiseOp(weight, input, Depthwise(_g, weight, cout), null, conv, stride));
            else if (kernel == 1 && stride == 1 && second is null)
                _block.Ops.Add(new LinearOp(weight, input, Linear(_g, weight, cout, cin, conv1x1: true), null, conv, h * w, cin));
            else
                _block.Ops.Add(new ConvOp(weight, input, second, Conv(_g, weight, cout, cin, kernel), null, conv, h, w, kernel, stride));
            var y = conv;
            if (norm)
            {
                var bn = new Value(m + ".normalization", ho, wo, cout);
                // HF MobileViTConvLayer: nn.BatchNorm2d(num_features=out_channels, eps=1e-5, ...), not from the config.
                _block.Ops.Add(BatchNorm(_g, m + ".normalization", y, bn, eps: 1e-5));
                y = bn;
            }
            if (act)
            {
                var a = new Value(m + ".activation", ho, wo, cout);
                _block.Ops.Add(new ActivationOp(m + ".activation", Activation.Silu, y, a));
                y = a;
            }
            return y;
        }

        /// <summary>MobileViTInvertedResidual: expand 1x1 → depthwise 3x3 (stride) → reduce 1x1 (no activation), + x when stride 1 and cin == cout.</summary>
        private Value InvertedResidual(string m, Value x, int cout, int stride)
        {
            int cin = x.Shape[2];
            int expanded = MakeDivisible(Math.Round(cin * _s.ExpandRatio, MidpointRounding.ToEven));
            var e = ConvLayer(m + ".expand_1x1", x, null, expanded, 1, 1, depthwise: false, norm: true, act: true);
            var d = ConvLayer(m + ".conv_3x3", e, null, expanded, 3, stride, depthwise: true, norm: true, act: true);
            var r = ConvLayer(m + ".reduce_1x1", d, null, cout, 1, 1, depthwise: false, norm: true, act: false);
            if (stride != 1 || cin != cout) return r;
            var sum = new Value(m + ".output", r.Shape);
            _block.Ops.Add(new AddOp(m + " (residual)", r, x, sum));
            return sum;
        }

        /// <summary>MobileViTLayer: downsample, local conv_kxk + conv_1x1, unfold 2×2, transformers, LayerNorm, fold, projection, fusion.</summary>
        private Value MobileViTBlock(string m, int index, Value x, int cout, int d, int layers)
        {
            Begin($"EncoderLayer{index}Downsample", m + ".downsampling_layer", $"MobileViTInvertedResidual {x.Shape[2]}→{cout}, stride 2");
            x = InvertedResidual(m + ".downsampling_layer", x, cout, 2);
            var residual = x;
            int h = x.Shape[0], w = x.Shape[1], c = cout, tokens = (h / 2) * (w / 2);

            Begin($"EncoderLayer{index}Local", m, $"local representation: conv_kxk 3×3 {c}→{c} + BN + SiLU, conv_1x1 {c}→{d}; unfold into 4 sequences × {tokens} tokens");
            var local = ConvLayer(m + ".conv_kxk", x, null, c, 3, 1, depthwise: false, norm: true, act: true);
            var projected = ConvLayer(m + ".conv_1x1", local, null, d, 1, 1, depthwise: false, norm: false, act: false);
            var seq = new Value(m + ".unfolded", 4 * tokens, d);
            _block.Ops.Add(new LayoutOp(m + " (unfolding)", LayoutKind.Unfold2x2, projected, seq, d, h, w));

            int intermediate = (int)(d * _s.MlpRatio);
            for (int j = 0; j < layers; j++)
            {
                string tm = $"{m}.transformer.layer.{j}";
                Begin($"EncoderLayer{index}Transformer{j}", tm, $"MobileViTTransformerLayer: {_s.Heads} heads × {d / _s.Heads}, SiLU MLP {d}→{intermediate}→{d}, over 4 × {tokens} tokens");
                seq = TransformerLayer(_g, _block, tm, seq, sequences: 4, tokens, d, _s.Heads, intermediate, Activation.Silu, _s.LayerNormEps, _s.QkvBias);
            }

            Begin($"EncoderLayer{index}Fusion", m, $"LayerNorm, fold to {h}×{w}×{d}, conv_projection 1×1 {d}→{c} + BN + SiLU, fusion 3×3 over concat(residual, features) {2 * c}→{c}");
            var normed = new Value(m + ".layernorm", 4 * tokens, d);
            _block.Ops.Add(LayerNorm(_g, m + ".layernorm", seq, normed, _s.LayerNormEps));
            var folded = new Value(m + ".folded", h, w, d);
            _block.Ops.Add(new LayoutOp(m + " (folding)", LayoutKind.Fold2x2, normed, folded, d, h, w));
            var proj = ConvLayer(m + ".conv_projection", folded, null, c, 1, 1, depthwise: false, norm: true, act: true);
            return ConvLayer(m + ".fusion", residual, proj, c, 3, 1, depthwise: false, norm: true, act: true);
        }
    }
}
