// Pass 7, MemoryPlan. Contract: every value that is not caller-owned gets a per-image offset (floats, aligned to
// PassPipeline.Alignment) in one arena such that no two values whose lifetimes overlap share a float. A value lives from
// the op that writes it to the last op that reads it, in op order; a Linear whose residual dies at that Linear and has
// the output's size writes its output over the residual (in place). Images are laid out one after another, so the plan
// for one image scales with the batch: value v of image b is at arena + offset·batch + b·floats.
using System;
using System.Collections.Generic;
using System.Linq;
using AotVit.Generator.Ir;
using static AotVit.Generator.Passes.PassPipeline;

namespace AotVit.Generator.Passes
{
    internal static class MemoryPlan
    {
        /// <summary>
        /// Greedy first-fit over op order. A value lives from the op that writes it to the last op that reads it.
        /// A GEMM whose residual input dies at that GEMM writes its output over the residual (in place).
        /// </summary>
        public static void Run(Graph g)
        {
            var ops = g.AllOps.ToList();
            var lastUse = new Dictionary<Value, int>();
            for (int i = 0; i < ops.Count; i++)
            {
                foreach (var v in ops[i].Inputs) lastUse[v] = i;
                foreach (var v in ops[i].Outputs) if (!lastUse.ContainsKey(v)) lastUse[v] = i;
            }
            var live = new List<(long Start, long End, Value Value)>();
            long top = 0;
            int inPlace = 0;
            for (int i = 0; i < ops.Count; i++)
            {
                live.RemoveAll(a => lastUse[a.Value] < i);
                foreach (var output in ops[i].Outputs)
                {
                    if (output.ExternalName is not null || output.Offset >= 0) continue;
                    if (ops[i] is LinearOp l && l.Residual is { } r && r.ExternalName is null && lastUse[r] == i && r.Floats == output.Floats)
                    {
                        output.Offset = r.Offset;
                        live.Add((r.Offset, r.Offset + Align(output.Floats), output));
                        inPlace++;
                        continue;
                    }
                    long size = Align(output.Floats);
                    long start = 0;
                    foreach (var a in live.OrderBy(a => a.Start))
                    {
                        if (start + size <= a.Start) break;
                        start = Math.Max(start, a.End);
                    }
                    output.Offset = start;
                    live.Add((start, start + size, output));
                    top = Math.Max(top, start + size);
                }
            }
            g.ArenaFloatsPerImage = top;
            long naive = g.AllOps.SelectMany(o => o.Outputs).Where(v => v.ExternalName is null).Distinct().Sum(v => Align(v.Floats));
            g.PassLog.Add(FormattableString.Invariant($"MemoryPlan: {top:N0} floats per image in one arena ({top * 4 / 1024.0:F1} KiB; {naive * 4 / 1024.0:F1} KiB without reuse), {inPlace} in-place residual GEMMs"));
        }
    }
}
