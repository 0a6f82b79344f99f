// Pass 2, EpilogueFusion. Contract: every ActivationOp and AddOp is folded into the weighted op that produces one of its
// inputs, which must have no other reader and not be caller-owned: activations into any weighted op whose epilogue has
// none yet, adds into a Linear as its residual. Afterwards none is left (the runtime has no stand-alone kernels for
// them in the plan); a graph where one cannot be fused is a generator error reported as a diagnostic.
using System;
using System.Collections.Generic;
using System.Linq;
using AotVit.Generator.Ir;
using static AotVit.Generator.Passes.PassPipeline;

namespace AotVit.Generator.Passes
{
    internal static class EpilogueFusion
    {
        public static void Run(Graph g)
        {
            int activations = 0, residuals = 0;
            var consumers = Consumers(g);
            foreach (var act in g.AllOps.OfType<ActivationOp>().ToList())
            {
                if (consumers.TryGetValue(act.Input, out var users) && users.Count == 1 && act.Input.ExternalName is null)
                {
                    if (Producer(g, act.Input) is not IWeightedOp producer || !producer.CanTakeActivation) continue;
                    producer.Activation = act.Activation;
                    producer.Output = act.Output;
                    Remove(g, act);
                    activations++;
                }
            }
            consumers = Consumers(g);
            foreach (var add in g.AllOps.OfType<AddOp>().ToList())
            {
                foreach (var (produced, other) in new[] { (add.A, add.B), (add.B, add.A) })
                {
                    if (Producer(g, produced) is LinearOp l && l.Residual is null && consumers[produced].Count == 1 && produced.ExternalName is null)
                    {
                        l.Residual = other;
                        l.Output = add.Output;
                        Remove(g, add);
                        residuals++;
                        break;
                    }
                }
            }
            if (g.AllOps.Any(o => o is ActivationOp || o is AddOp))
                throw new InvalidOperationException("an activation or residual add could not be fused; the runtime has no standalone kernel in the plan for it");
            g.PassLog.Add(FormattableString.Invariant($"EpilogueFusion: {activations} activations and {residuals} residual adds fused into GEMM/conv epilogues"));
        }
    }
}
