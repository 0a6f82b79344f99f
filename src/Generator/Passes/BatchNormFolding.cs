// Pass 1, BatchNormFolding. Contract: every BatchNormOp (eval-mode BatchNorm2d) directly follows a bias-free weighted op
// (conv, 1x1 conv as Linear, depthwise); afterwards none is left. The producer's weight is marked to be scaled by
// gamma/sqrt(var + eps) per output channel at load, and it gains a FoldedBias param (beta - mean·gamma/sqrt(var + eps));
// its output becomes the BatchNorm's output. (The scale and bias are computed at load, in double, by WeightPrep.)
using System;
using System.Collections.Generic;
using System.Linq;
using AotVit.Generator.Ir;
using static AotVit.Generator.Passes.PassPipeline;

namespace AotVit.Generator.Passes
{
    internal static class BatchNormFolding
    {
        public static void Run(Graph g)
        {
            int folded = 0;
            foreach (var bn in g.AllOps.OfType<BatchNormOp>().ToList())
            {
                var producer = Producer(g, bn.Input);
                var bias = g.AddParam(new Param(LoweringFieldBias(bn.Module), ParamKind.FoldedBias, Array.Empty<TensorRef>(), bn.Module, bn.Channels, bn.Channels)
                { BatchNormChannels = bn.Channels, BatchNormEps = bn.Eps });
                if (producer is not IWeightedOp weighted || weighted.Bias is not null)
                    throw new InvalidOperationException($"BatchNorm {bn.Module} does not follow a bias-free convolution");
                weighted.Weight.BatchNorm = bn.Module;
                weighted.Weight.BatchNormChannels = bn.Channels;
                weighted.Weight.BatchNormEps = bn.Eps;
                weighted.Bias = bias;
                weighted.Output = bn.Output;
                Remove(g, bn);
                folded++;
            }
            if (folded > 0) g.PassLog.Add(FormattableString.Invariant($"BatchNormFolding: {folded} BatchNorm2d layers folded into their convolutions"));
        }

        private static string LoweringFieldBias(string bnModule) => Lowering.LoweringHelpers.Field(bnModule) + "_folded_bias";
    }
}
