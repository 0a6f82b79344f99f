// Pass 9, Int8Eligibility. Contract: marks Param.Int8 on every packed nn.Linear weight (a PackedOutIn param with no
// folded BatchNorm) that only LinearOps read, none of which writes a model output; those run through Gemm.Run, which
// takes int8 weights. A Linear that writes a model output (a classifier head, ViT's pooler) stays float32: it is a
// fraction of a percent of the MACs and its error would land on the answer unattenuated. Convolutions,
// fused inverted residuals and the patch embedding keep float32 weights whatever the precision. The emitter loads a
// marked param with WeightPrep.PackLinear (which also reads int8 checkpoints), lists it in the descriptor's
// Int8Tensors and in QuantizeLinearWeights. Runs last: it changes no value, offset or op.
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using AotVit.Generator.Ir;

namespace AotVit.Generator.Passes
{
    internal static class Int8Eligibility
    {
        public static void Run(Graph g)
        {
            var readers = new Dictionary<Param, List<Op>>();
            foreach (var op in g.AllOps)
                foreach (var p in op.Params)
                {
                    if (p is null) continue;
                    if (!readers.TryGetValue(p, out var list)) readers[p] = list = new List<Op>();
                    list.Add(op);
                }

            var outputs = new HashSet<Value>(g.Outputs.Select(o => o.Value));
            int marked = 0;
            long macs = 0;
            foreach (var pair in readers)
            {
                Param p = pair.Key;
                if (p.Kind != ParamKind.PackedOutIn || p.BatchNorm is not null || !pair.Value.All(o => o is LinearOp l && l.Weight == p && !outputs.Contains(l.Output))) continue;
                p.Int8 = true;
                marked++;
                macs += pair.Value.Sum(o => o.Macs);
            }
            long total = g.AllOps.Sum(o => o.Macs);
            string share = (total == 0 ? 0 : 100.0 * macs / total).ToString("F1", CultureInfo.InvariantCulture);
            g.PassLog.Add($"Int8Eligibility: {marked} nn.Linear weights may run in int8 ({share} % of the MACs)");
        }
    }
}
