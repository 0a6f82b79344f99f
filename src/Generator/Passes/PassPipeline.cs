// Graph passes, run in order by PassPipeline.Run:
//   1. BatchNormFolding  conv → BatchNorm(eval) becomes one conv with scaled weights and a folded bias (done at load).
//   2. EpilogueFusion    activation and residual-add ops merge into the GEMM/conv that produces their input.
//   3. InvertedResidualFusion  expand 1x1 → depthwise 3x3 → reduce 1x1 chains become one banded kernel.
//   4. QkvFusion         the three q/k/v Linears of an attention read one input: one GEMM with N = 3·D.
//   5. RowNarrowing      row-wise ops whose outputs are read only in their first rows compute only those: in a token
//                        classifier, the last layer from the attention's queries to the final LayerNorm (K, V stay whole).
//   6. WinogradConvolution  3x3 stride-1 convolutions take Winograd-transformed weights (Conv2d.RunWinograd).
//   7. MemoryPlan        liveness-based offsets for every activation in one arena (in-place residuals).
//   8. ConstantLayout    offsets of every small constant (biases, norms, embeddings, depthwise taps) in one block.
//   9. Int8Eligibility   marks the nn.Linear weights that int8 mode quantizes (read only by Gemm.Run).
// Each pass logs what it did into Graph.PassLog, which the emitter writes into the generated file header.
using System;
using System.Collections.Generic;
using System.Linq;
using AotVit.Generator.Ir;

namespace AotVit.Generator.Passes
{
    internal static class PassPipeline
    {
        public const int Alignment = 16; // floats: 64-byte aligned activations

        public static Graph Run(Graph g)
        {
            BatchNormFolding.Run(g);
            EpilogueFusion.Run(g);
            InvertedResidualFusion.Run(g);
            QkvFusion.Run(g);
            g.ModelMacs = g.AllOps.Sum(o => o.Macs);
            RowNarrowing.Run(g);
            WinogradConvolution.Run(g);
            MemoryPlan.Run(g);
            ConstantLayout.Run(g);
            Int8Eligibility.Run(g);
            return g;
        }

        internal static Dictionary<Value, List<Op>> Consumers(Graph g)
        {
            var map = new Dictionary<Value, List<Op>>();
            foreach (var op in g.AllOps)
                foreach (var v in op.Inputs)
                {
                    if (!map.TryGetValue(v, out var list)) map[v] = list = new List<Op>();
                    list.Add(op);
                }
            return map;
        }

        internal static Op? Producer(Graph g, Value v) => g.AllOps.FirstOrDefault(o => o.Outputs.Contains(v));

        internal static void Remove(Graph g, Op op)
        {
            foreach (var b in g.Blocks) b.Ops.Remove(op);
        }

        internal static long Align(long floats) => (floats + Alignment - 1) / Alignment * Alignment;
    }
}
