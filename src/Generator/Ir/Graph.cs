// Graph IR: what the lowering stage builds from a ModelSpec and what the passes rewrite.
//
// Shapes are static and per image: the batch is the only run-time dimension, and it multiplies every
// activation uniformly ([batch, ...] contiguous), so a memory plan made for one image scales to any batch.
// Activations are Values; trained tensors are Params (how to build them from the checkpoint at load time);
// Ops are grouped into Blocks, and every Block becomes one emitted method named after the HF module.
using System;
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
        /// <summary>A 3x3 conv weight [Cout, Cin, 3, 3], optionally BN-scaled, Winograd-transformed (U = G g Gᵀ, 16 × [Cin, Cout])
        /// and packed for Conv2d.RunWinograd (set by Passes.WinogradConvolution).</summary>
        WinogradConv,
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
        public ParamKind Kind { get; set; }
        public IReadOnlyList<TensorRef> Sources { get; set; }
        /// <summary>Prefix of a BatchNorm2d (".weight/.bias/.running_mean/.running_var") folded into this param, or null.</summary>
        public string? BatchNorm { get; set; }
        public int BatchNormChannels { get; set; }
        /// <summary>The folded BatchNorm's eps (meaningful when <see cref="BatchNorm"/> is set).</summary>
        public double BatchNormEps { get; set; }
        /// <summary>A factor every value is multiplied by at load (exact when a power of two); 1 for none.</summary>
        public double Scale { get; set; } = 1;
        public long Floats { get; set; }
        public int N { get; set; }
        public int K { get; set; }
        /// <summary>Offset in the constants block (floats), for Vector/FoldedBias/DepthwiseTaps.</summary>
        public long ConstOffset { get; set; } = -1;
        /// <summary>An nn.Linear weight that int8 mode stores in int8 (set by Passes.Int8Eligibility).</summary>
        public bool Int8 { get; set; }
        public bool IsPacked => Kind == ParamKind.PackedOutIn || Kind == ParamKind.PackedConv || Kind == ParamKind.WinogradConv;
        public string Describe => Kind == ParamKind.FoldedBias ? $"{BatchNorm} (folded BatchNorm)" : string.Join(" + ", Sources.Select(s => s.Name)) + (BatchNorm is null ? "" : $" ⊙ {BatchNorm}");
    }

    /// <summary>
    /// One step of the graph. An op owns everything about itself: the values it reads and writes, the params it needs
    /// loaded, its cost, and the kernel call it emits, so adding an op is adding one type (see Ir/Ops).
    /// Ops that only exist between lowering and the passes (BatchNorm, activation, add) have no kernel: the passes
    /// fold them into their producers, and emitting one is a generator bug.
    /// </summary>
    internal abstract class Op
    {
        protected Op(string module) { Module = module; }
        /// <summary>The HF module path this op implements, e.g. "encoder.layer.3.attention.attention".</summary>
        public string Module { get; set; }
        public abstract IEnumerable<Value> Inputs { get; }
        public abstract IEnumerable<Value> Outputs { get; }
        /// <summary>Multiply-accumulates per image that the emitted kernel call executes (for GFLOP/s reporting).</summary>
        public virtual long Macs => 0;
        /// <summary>Why a pass changed what this op computes, written as a comment line before the op's own; null for none.</summary>
        public string? Note { get; set; }
        /// <summary>The params this op reads at run time, loaded by its block's Load method (null entries allowed).</summary>
        public virtual IEnumerable<Param?> Params => Array.Empty<Param?>();
        /// <summary>The runtime's OpKind member its time is profiled under; null for ops without a kernel.</summary>
        public virtual string? ProfileKind => null;
        /// <summary>Writes the kernel call(s), preceded by a comment naming the HF module and the shapes.</summary>
        public virtual void Emit(Emit.OpWriter w) =>
            throw new InvalidOperationException($"{GetType().Name} {Module} has no kernel: a pass should have removed it");
    }

    /// <summary>An op with a weight and an epilogue (bias, activation): what BatchNorm folding and epilogue fusion rewrite.</summary>
    internal interface IWeightedOp
    {
        Param Weight { get; }
        Param? Bias { get; set; }
        Value Output { get; set; }
        Activation Activation { get; set; }
        /// <summary>True when an activation may still be appended to the epilogue.</summary>
        bool CanTakeActivation { get; }
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
        /// <summary>The model's multiply-adds per image before any pass skips work (set by PassPipeline before RowNarrowing;
        /// ConvOp counts the direct convolution whatever its variant).</summary>
        public long ModelMacs { get; set; }
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
