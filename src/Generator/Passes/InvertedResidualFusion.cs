// Pass 3, InvertedResidualFusion. Contract: within one block, an expand Linear over whole feature-map rows → depthwise
// 3x3 (stride 1 or 2) → reduce Linear without activation, whose two intermediates have exactly one reader and are not
// caller-owned, becomes one InvertedResidualOp at the expand's position. Values and params are unchanged; the two
// intermediates simply stop being read or written, so MemoryPlan never places them.
using System;
using System.Collections.Generic;
using System.Linq;
using AotVit.Generator.Ir;
using static AotVit.Generator.Passes.PassPipeline;

namespace AotVit.Generator.Passes
{
    internal static class InvertedResidualFusion
    {
        /// <summary>
        /// A 1x1 expand GEMM over whole feature-map rows whose output only a depthwise 3x3 reads, whose output only a 1x1
        /// reduce GEMM (no activation) reads, becomes one InvertedResidualOp: the runtime kernel runs it over bands of
        /// output rows, so the two intermediates (up to H·W·Cexp floats) never reach the arena.
        /// </summary>
        public static void Run(Graph g)
        {
            int fused = 0;
            long saved = 0;
            var consumers = Consumers(g);
            foreach (var block in g.Blocks)
                foreach (var depthwise in block.Ops.OfType<DepthwiseOp>().ToList())
                {
                    var expand = block.Ops.OfType<LinearOp>().FirstOrDefault(l => l.Output == depthwise.Input);
                    var reduce = block.Ops.OfType<LinearOp>().FirstOrDefault(l => l.Input == depthwise.Output);
                    if (expand is null || reduce is null || expand.Residual is not null || reduce.Activation != Activation.None
                        || expand.Input.Shape.Length != 3 || expand.Lda != expand.Weight.K || expand.RowsPerImage != expand.Input.Shape[0] * expand.Input.Shape[1]
                        || reduce.Lda != reduce.Weight.K || depthwise.Stride is not (1 or 2)
                        || consumers[expand.Output].Count != 1 || consumers[depthwise.Output].Count != 1
                        || expand.Output.ExternalName is not null || depthwise.Output.ExternalName is not null)
                        continue;
                    string module = CommonPrefix(expand.Module, depthwise.Module, reduce.Module);
                    var op = new InvertedResidualOp(module.Length > 0 ? module : expand.Module, expand, depthwise, reduce);
                    int at = block.Ops.IndexOf(expand);
                    block.Ops.Remove(expand); block.Ops.Remove(depthwise); block.Ops.Remove(reduce);
                    block.Ops.Insert(at, op);
                    saved += expand.Output.Floats + depthwise.Output.Floats;
                    fused++;
                }
            if (fused > 0) g.PassLog.Add(FormattableString.Invariant($"InvertedResidualFusion: {fused} expand → depthwise → reduce chains run as banded kernels ({saved * 4 / 1024.0:F1} KiB per image of intermediates never stored)"));
        }

        /// <summary>The longest common prefix of dotted module paths, whole segments only ("a.b.c", "a.b.d" → "a.b").</summary>
        private static string CommonPrefix(params string[] modules)
        {
            var parts = modules.Select(m => m.Split('.')).ToArray();
            int n = 0;
            while (parts.All(p => p.Length > n && p[n] == parts[0][n])) n++;
            return string.Join(".", parts[0].Take(n));
        }
    }
}
