// Pass 8, ConstantLayout. Contract: every param that is not a packed GEMM operand (biases, norms, embeddings, folded
// BatchNorm biases, depthwise taps) gets an offset in one constants block, each aligned to PassPipeline.Alignment floats;
// packed params stay separate PackedMatrix objects.
using System;
using System.Collections.Generic;
using System.Linq;
using AotVit.Generator.Ir;
using static AotVit.Generator.Passes.PassPipeline;

namespace AotVit.Generator.Passes
{
    internal static class ConstantLayout
    {
        public static void Run(Graph g)
        {
            long offset = 0;
            foreach (var p in g.Params.Where(p => !p.IsPacked))
            {
                p.ConstOffset = offset;
                offset += Align(p.Floats);
            }
            g.ConstantFloats = offset;
            long packed = g.Params.Where(p => p.IsPacked).Sum(p => p.Floats);
            g.PassLog.Add(FormattableString.Invariant($"ConstantLayout: {g.Params.Count(p => !p.IsPacked)} constants in one block of {offset * 4 / 1024.0:F1} KiB; {g.Params.Count(p => p.IsPacked)} packed GEMM weights ({packed * 4 / 1048576.0:F1} MiB)"));
        }
    }
}
