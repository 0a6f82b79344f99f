using System;
using System.Collections.Generic;
using System.Linq;
using AotVit.Generator.Emit;
using static AotVit.Generator.Helpers.IndentedTextWriter;

namespace AotVit.Generator.Ir
{
    /// <summary>
    /// MobileNetV2's inverted residual as one kernel (made by the InvertedResidualFusion pass): expand 1x1 → depthwise 3x3 →
    /// reduce 1x1 (+ residual), the expanded and depthwise tensors never materialised. Keeps the three ops it replaces.
    /// Kernel: InvertedResidual.Run.
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
        public override IEnumerable<Param?> Params => Expand.Params.Concat(Depthwise.Params).Concat(Reduce.Params);
        public override string ProfileKind => "InvertedResidual";

        public override void Emit(OpWriter w)
        {
            LinearOp e = Expand, re = Reduce;
            DepthwiseOp d = Depthwise;
            var x = Input;
            w.Line($"// {Module} (inverted residual, one pass over bands of output rows):");
            w.Line($"//   {e.Module}: {x.ShapeText} · [{e.Weight.K}×{e.Weight.N}]{(e.Bias is null ? "" : " + b")}, {e.Activation}");
            w.Line($"//   {d.Module}: depthwise 3×3 stride {d.Stride}{(d.Bias is null ? "" : " + b")}, {d.Activation}");
            w.Line($"//   {re.Module}: · [{re.Weight.K}×{re.Weight.N}]{(re.Bias is null ? "" : " + b")}{(re.Residual is null ? "" : re.Residual == x ? ", + the block's input (residual)" : $", + {re.Residual.Name}")} → {re.Output.ShapeText}");
            w.Line($"InvertedResidual.Run(_pool, batch, {x.Shape[0]}, {x.Shape[1]}, {w.Ptr(x)}, {e.Weight.Field}, {OpWriter.C(e.Bias)}, {OpWriter.Act(e.Activation)}, " +
                   $"{d.Stride}, {OpWriter.C(d.Weight)}, {OpWriter.C(d.Bias)}, {OpWriter.Act(d.Activation)}, {re.Weight.Field}, {OpWriter.C(re.Bias)}, " +
                   $"{(re.Residual is null ? "null" : w.Ptr(re.Residual))}, {w.Ptr(re.Output)});");
        }
    }
}
