// Graph IR: what the lowering stage builds from a ModelSpec and what the passes rewrite.
//
// Shapes are static and per image: the batch is the only run-time dimension, and it multiplies every
// activation uniformly ([batch, ...] contiguous), so a memory plan made for one image scales to any batch.
// Activations are Values; trained tensors are Params (how to build them from the checkpoint at load time);
// Ops are grouped into Blocks, and every Block becomes one emitted method named after the HF module.
using System.Collections.Generic;
using System.Linq;

namespace AotVit.Generator.Ir
{
    internal enum Activation { None, Gelu, Silu, Tanh }

    /// <summary>A per-image activation tensor. Offset is assigned by the memory planner (in floats per image).</summary>
    internal sealed class Value
    {
        public Value(string name, params int[] shape) { Name = name; Shape = shape; }
        public string Name { get; }
        public int[] Shape { get; }
        public long Floats => Shape.Aggregate(1L, (a, b) => a * b);
        /// <summary>Caller-owned: the model input or an output written straight into the caller's buffer.</summary>
        public string? ExternalName { get; set; }
        public long Offset { get; set; } = -1;
        public string ShapeText => "[" + string.Join("×", Shape) + "]";
    }

    internal enum ParamKind
    {
        /// <summary>Raw floats copied into the constants block (biases, norms, embeddings); Sources concatenated.</summary>
        Vector,
        /// <summary>BatchNorm folded into a bias: beta − mean·gamma/sqrt(var + eps).</summary>
        FoldedBias,
        /// <summary>A Linear / 1x1-conv weight [N, K] (Sources concatenated along N), optionally BN-scaled, packed for the GEMM.</summary>
        PackedOutIn,
        /// <summary>A kxk conv weight [Cout, Cin, k, k], optionally BN-scaled, reordered to [(ky, kx, cin), cout] and packed.</summary>
        PackedConv,
        /// <summary>A depthwise 3x3 weight [C, 1, 3, 3], BN-scaled, reordered tap-major [9, C] into the constants block.</summary>
        DepthwiseTaps,
    }

    /// <summary>A checkpoint tensor the model reads, with its exact expected shape.</summary>
    internal sealed record TensorRef(string Name, int[] Shape)
    {
        public long Floats => Shape.Aggregate(1L, (a, b) => a * b);
    }

    internal sealed class Param
    {
        public Param(string field, ParamKind kind, IReadOnlyList<TensorRef> sources, string? batchNorm, long floats, int n = 0, int k = 0)
        {
            Field = field; Kind = kind; Sources = sources; BatchNorm = batchNorm; Floats = floats; N = n; K = k;
        }
        public string Field { get; }
        public ParamKind Kind { get; }
        public IReadOnlyList<TensorRef> Sources { get; set; }
        /// <summary>Prefix of a BatchNorm2d (".weight/.bias/.running_mean/.running_var") folded into this param, or null.</summary>
        public string? BatchNorm { get; set; }
        public int BatchNormChannels { get; set; }
        /// <summary>A factor every value is multiplied by at load (exact when a power of two); 1 for none.</summary>
        public double Scale { get; set; } = 1;
        public long Floats { get; set; }
        public int N { get; set; }
        public int K { get; set; }
        /// <summary>Offset in the constants block (floats), for Vector/FoldedBias/DepthwiseTaps.</summary>
        public long ConstOffset { get; set; } = -1;
        public bool IsPacked => Kind == ParamKind.PackedOutIn || Kind == ParamKind.PackedConv;
        public string Describe => Kind == ParamKind.FoldedBias ? $"{BatchNorm} (folded BatchNorm)" : string.Join(" + ", Sources.Select(s => s.Name)) + (BatchNorm is null ? "" : $" ⊙ {BatchNorm}");
    }

    internal abstract class Op
    {
        protected Op(string module) { Module = module; }
        /// <summary>The HF module path this op implements, e.g. "encoder.layer.3.attention.attention".</summary>
        public string Module { get; set; }
        public abstract IEnumerable<Value> Inputs { get; }
        public abstract IEnumerable<Value> Outputs { get; }
        /// <summary>Multiply-accumulates per image (for GFLOP/s reporting).</summary>
        public virtual long Macs => 0;
    }

    /// <summary>out[r, :] = act(in[r, :K] · Wᵀ + b) + residual[r, :], r over RowsPerImage rows of each image.</summary>
    internal sealed class LinearOp : Op
    {
        public LinearOp(string module, Value input, Param weight, Param? bias, Value output, int rowsPerImage, int lda)
            : base(module) { Input = input; Weight = weight; Bias = bias; Output = output; RowsPerImage = rowsPerImage; Lda = lda; }
        public Value Input { get; set; }
        public Param Weight { get; set; }
        public Param? Bias { get; set; }
        public Value Output { get; set; }
        public Activation Activation { get; set; }
        public Value? Residual { get; set; }
        public int RowsPerImage { get; }
        /// <summary>Input row stride in floats; when RowsPerImage is 1 this is the per-image stride (e.g. the pooler reads token 0).</summary>
        public int Lda { get; }
        /// <summary>Floats from the start of each image's input to its first row (a head reading token 1: the hidden size).</summary>
        public int InputOffset { get; set; }
        public override IEnumerable<Value> Inputs => Residual is null ? new[] { Input } : new[] { Input, Residual };
        public override IEnumerable<Value> Outputs => new[] { Output };
        public override long Macs => (long)RowsPerImage * Weight.N * Weight.K;
    }

    /// <summary>A kxk convolution in NHWC over one input or the channel concatenation of two.</summary>
    internal sealed class ConvOp : Op
    {
        public ConvOp(string module, Value in0, Value? in1, Param weight, Param? bias, Value output, int h, int w, int kernel, int stride)
            : base(module) { In0 = in0; In1 = in1; Weight = weight; Bias = bias; Output = output; H = h; W = w; Kernel = kernel; Stride = stride; }
        public Value In0 { get; }
        public Value? In1 { get; }
        public Param Weight { get; set; }
        public Param? Bias { get; set; }
        public Value Output { get; set; }
        public Activation Activation { get; set; }
        public int H { get; }
        public int W { get; }
        public int Kernel { get; }
        public int Stride { get; }
        public int C0 => In0.Shape[2];
        public int C1 => In1?.Shape[2] ?? 0;
        public override IEnumerable<Value> Inputs => In1 is null ? new[] { In0 } : new[] { In0, In1 };
        public override IEnumerable<Value> Outputs => new[] { Output };
        public override long Macs => Output.Floats * Weight.K;
    }

    internal sealed class DepthwiseOp : Op
    {
        public DepthwiseOp(string module, Value input, Param weight, Param? bias, Value output, int stride)
            : base(module) { Input = input; Weight = weight; Bias = bias; Output = output; Stride = stride; }
        public Value Input { get; }
        public Param Weight { get; set; }
        public Param? Bias { get; set; }
        public Value Output { get; set; }
        public Activation Activation { get; set; }
        public int Stride { get; }
        public override IEnumerable<Value> Inputs => new[] { Input };
        public override IEnumerable<Value> Outputs => new[] { Output };
        public override long Macs => Output.Floats * 9;
    }

    /// <summary>
    /// MobileNetV2's inverted residual as one kernel (made by the InvertedResidualFusion pass): expand 1x1 → depthwise 3x3 →
    /// reduce 1x1 (+ residual), the expanded and depthwise tensors never materialised. Keeps the three ops it replaces.
    /// </summary>
    internal sealed class InvertedResidualOp : Op
    {
        public InvertedResidualOp(string module, LinearOp expand, DepthwiseOp depthwise, LinearOp reduce)
            : base(module) { Expand = expand; Depthwise = depthwise; Reduce = reduce; }
        public LinearOp Expand { get; }
        public DepthwiseOp Depthwise { get; }
        public LinearOp Reduce { get; }
        public Value Input => Expand.Input;
        public Value Output => Reduce.Output;
        public override IEnumerable<Value> Inputs => Reduce.Residual is null || Reduce.Residual == Input ? new[] { Input } : new[] { Input, Reduce.Residual };
        public override IEnumerable<Value> Outputs => new[] { Output };
        public override long Macs => Expand.Macs + Depthwise.Macs + Reduce.Macs;
    }

    /// <summary>BatchNorm2d in eval mode; the BN-folding pass removes every one of these.</summary>
    internal sealed class BatchNormOp : Op
    {
        public BatchNormOp(string module, Value input, Value output, int channels) : base(module) { Input = input; Output = output; Channels = channels; }
        public Value Input { get; }
        public Value Output { get; }
        public int Channels { get; }
        public override IEnumerable<Value> Inputs => new[] { Input };
        public override IEnumerable<Value> Outputs => new[] { Output };
    }

    /// <summary>An element-wise activation; the epilogue-fusion pass folds it into its producer.</summary>
    internal sealed class ActivationOp : Op
    {
        public ActivationOp(string module, Activation activation, Value input, Value output) : base(module) { Activation = activation; Input = input; Output = output; }
        public Activation Activation { get; }
        public Value Input { get; }
        public Value Output { get; }
        public override IEnumerable<Value> Inputs => new[] { Input };
        public override IEnumerable<Value> Outputs => new[] { Output };
    }

    /// <summary>out = a + b; the epilogue-fusion pass turns it into a GEMM/conv residual where it can.</summary>
    internal sealed class AddOp : Op
    {
        public AddOp(string module, Value a, Value b, Value output) : base(module) { A = a; B = b; Output = output; }
        public Value A { get; }
        public Value B { get; }
        public Value Output { get; }
        public override IEnumerable<Value> Inputs => new[] { A, B };
        public override IEnumerable<Value> Outputs => new[] { Output };
    }

    internal sealed class LayerNormOp : Op
    {
        public LayerNormOp(string module, Value input, Value output, Param gamma, Param beta, double eps, int rows, int cols)
            : base(module) { Input = input; Output = output; Gamma = gamma; Beta = beta; Eps = eps; Rows = rows; Cols = cols; }
        public Value Input { get; }
        public Value Output { get; }
        public Param Gamma { get; }
        public Param Beta { get; }
        public double Eps { get; }
        public int Rows { get; }
        public int Cols { get; }
        public override IEnumerable<Value> Inputs => new[] { Input };
        public override IEnumerable<Value> Outputs => new[] { Output };
    }

    /// <summary>Multi-head self-attention core: softmax(q·kᵀ·scale)·v per sequence and head.
    /// q, k, v are column slices (offsets QCol, KCol, VCol) of Values with row stride Ld each.</summary>
    internal sealed class AttentionOp : Op
    {
        public AttentionOp(string module, Value q, Value k, Value v, Value output, int sequences, int tokens, int heads, int headDim)
            : base(module) { Q = q; K = k; V = v; Output = output; Sequences = sequences; Tokens = tokens; Heads = heads; HeadDim = headDim; }
        public Value Q { get; set; }
        public Value K { get; set; }
        public Value V { get; set; }
        public int QCol { get; set; }
        public int KCol { get; set; }
        public int VCol { get; set; }
        public Value Output { get; }
        public int Sequences { get; }
        public int Tokens { get; }
        public int Heads { get; }
        public int HeadDim { get; }
        public int Ld => Q.Shape[Q.Shape.Length - 1];
        public override IEnumerable<Value> Inputs => new[] { Q, K, V }.Distinct();
        public override IEnumerable<Value> Outputs => new[] { Output };
        public override long Macs => 2L * Sequences * Heads * Tokens * Tokens * HeadDim;
    }

    /// <summary>ViT/DeiT patch embedding + CLS (+ distillation token) + position embeddings: x[0] = cls + pos[0];
    /// DeiT x[1] = distillation + pos[1]; x[P+p] = patch_p · Wᵀ + b + pos[P+p] with P = 1 or 2 prefix tokens.</summary>
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
    }

    internal enum LayoutKind { NchwToNhwc, Unfold2x2, Fold2x2 }

    internal sealed class LayoutOp : Op
    {
        public LayoutOp(string module, LayoutKind kind, Value input, Value output, int c, int h, int w) : base(module)
        { Kind = kind; Input = input; Output = output; C = c; H = h; W = w; }
        public LayoutKind Kind { get; }
        public Value Input { get; }
        public Value Output { get; }
        public int C { get; }
        public int H { get; }
        public int W { get; }
        public override IEnumerable<Value> Inputs => new[] { Input };
        public override IEnumerable<Value> Outputs => new[] { Output };
    }

    internal sealed class GlobalAveragePoolOp : Op
    {
        public GlobalAveragePoolOp(string module, Value input, Value output) : base(module) { Input = input; Output = output; }
        public Value Input { get; }
        public Value Output { get; }
        public override IEnumerable<Value> Inputs => new[] { Input };
        public override IEnumerable<Value> Outputs => new[] { Output };
    }

    internal sealed class Block
    {
        public Block(string method, string module, string summary) { Method = method; Module = module; Summary = summary; }
        public string Method { get; }
        public string Module { get; }
        public string Summary { get; }
        public List<Op> Ops { get; } = new List<Op>();
    }

    internal sealed record GraphOutput(string Name, Value Value);

    internal sealed class Graph
    {
        public Graph(string name, string className) { Name = name; ClassName = className; }
        public string Name { get; }
        public string ClassName { get; }
        public string Kind { get; set; } = "";
        public Value Input { get; set; } = null!;
        public List<GraphOutput> Outputs { get; } = new List<GraphOutput>();
        public List<Block> Blocks { get; } = new List<Block>();
        public List<Param> Params { get; } = new List<Param>();
        /// <summary>Every checkpoint tensor read, in first-use order, deduplicated by the emitter.</summary>
        public List<TensorRef> Tensors { get; } = new List<TensorRef>();
        public List<string> OptionalPrefixes { get; } = new List<string>();
        public List<string> Labels { get; } = new List<string>();
        public long ArenaFloatsPerImage { get; set; }
        public long ConstantFloats { get; set; }
        public List<string> PassLog { get; } = new List<string>();

        public IEnumerable<Op> AllOps => Blocks.SelectMany(b => b.Ops);

        public TensorRef Tensor(string name, params int[] shape)
        {
            var t = new TensorRef(name, shape);
            if (!Tensors.Any(x => x.Name == name)) Tensors.Add(t);
            return t;
        }

        public Param AddParam(Param p) { Params.Add(p); return p; }
    }
}
