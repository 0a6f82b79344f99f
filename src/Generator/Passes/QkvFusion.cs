// Pass 4, QkvFusion. Contract: an AttentionOp whose q, k and v come from three Linears of one input, without activation
// or residual, all with or all without bias, reads them from one Linear with N = 3·D (weights and biases concatenated
// q | k | v along N at load); the attention op then addresses q, k, v as column offsets 0, D, 2D of one value.
using System;
using System.Collections.Generic;
using System.Linq;
using AotVit.Generator.Ir;
using static AotVit.Generator.Passes.PassPipeline;

namespace AotVit.Generator.Passes
{
    internal static class QkvFusion
    {
        public static void Run(Graph g)
        {
            int fused = 0;
            foreach (var block in g.Blocks)
                foreach (var att in block.Ops.OfType<AttentionOp>().ToList())
                {
                    var ops = new[] { att.Q, att.K, att.V }.Select(v => block.Ops.OfType<LinearOp>().FirstOrDefault(l => l.Output == v)).ToArray();
                    if (ops.Any(o => o is null || o.Activation != Activation.None || o.Residual is not null) || ops.Select(o => o!.Input).Distinct().Count() != 1)
                        continue;
                    var q = ops[0]!; var k = ops[1]!; var v = ops[2]!;
                    int d = q.Weight.N;
                    string module = att.Module;
                    var weight = g.AddParam(new Param(Lowering.LoweringHelpers.Field(module + ".qkv"), ParamKind.PackedOutIn,
                        ops.SelectMany(o => o!.Weight.Sources).ToList(), null, 3L * d * q.Weight.K, 3 * d, q.Weight.K));
                    Param? bias = null;
                    if (ops.All(o => o!.Bias is not null))
                        bias = g.AddParam(new Param(Lowering.LoweringHelpers.Field(module + ".qkv_bias"), ParamKind.Vector,
                            ops.SelectMany(o => o!.Bias!.Sources).ToList(), null, 3L * d));
                    else if (ops.Any(o => o!.Bias is not null))
                        continue;
                    var qkv = new Value(module + ".qkv", q.RowsPerImage, 3 * d);
                    var fusedOp = new LinearOp(module + ".{query,key,value}", q.Input, weight, bias, qkv, q.RowsPerImage, q.Lda);
                    int at = block.Ops.IndexOf(q);
                    foreach (var o in ops) { block.Ops.Remove(o!); g.Params.Remove(o!.Weight); if (o.Bias is not null) g.Params.Remove(o.Bias); }
                    block.Ops.Insert(at, fusedOp);
                    att.Q = att.K = att.V = qkv;
                    att.QCol = 0; att.KCol = d; att.VCol = 2 * d;
                    fused++;
                }
            if (fused > 0) g.PassLog.Add(FormattableString.Invariant($"QkvFusion: {fused} attention layers read q, k, v from one GEMM (N = 3·D)"));
        }
    }
}
