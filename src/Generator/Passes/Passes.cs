// Graph passes, run in order by PassPipeline.Run:
//   1. BatchNormFolding  conv → BatchNorm(eval) becomes one conv with scaled weights and a folded bias (done at load).
//   2. EpilogueFusion    activation and residual-add ops merge into the GEMM/conv that produces their input.
//   3. InvertedResidualFusion  expand 1x1 → depthwise 3x3 → reduce 1x1 chains become one banded kernel.
//   4. QkvFusion         the three q/k/v Linears of an attention read one input: one GEMM with N = 3·D.
//   5. MemoryPlan        liveness-based offsets for every activation in one arena (in-place residuals).
//   6. ConstantLayout    offsets of every small constant (biases, norms, embeddings, depthwise taps) in one block.
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
            BatchNormFolding(g);
            EpilogueFusion(g);
            InvertedResidualFusion(g);
            QkvFusion(g);
            MemoryPlan(g);
            ConstantLayout(g);
            return g;
        }

        private static Dictionary<Value, List<Op>> Consumers(Graph g)
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

        private static Op? Producer(Graph g, Value v) => g.AllOps.FirstOrDefault(o => o.Outputs.Contains(v));

        private static void Remove(Graph g, Op op)
        {
            foreach (var b in g.Blocks) b.Ops.Remove(op);
        }

        public static void BatchNormFolding(Graph g)
        {
            int folded = 0;
            foreach (var bn in g.AllOps.OfType<BatchNormOp>().ToList())
            {
                var producer = Producer(g, bn.Input);
                var bias = g.AddParam(new Param(LoweringFieldBias(bn.Module), ParamKind.FoldedBias, Array.Empty<TensorRef>(), bn.Module, bn.Channels, bn.Channels)
                { BatchNormChannels = bn.Channels });
                switch (producer)
                {
                    case ConvOp c when c.Bias is null: c.Weight.BatchNorm = bn.Module; c.Bias = bias; c.Output = bn.Output; break;
                    case LinearOp l when l.Bias is null: l.Weight.BatchNorm = bn.Module; l.Bias = bias; l.Output = bn.Output; break;
                    case DepthwiseOp d when d.Bias is null: d.Weight.BatchNorm = bn.Module; d.Bias = bias; d.Output = bn.Output; break;
                    default: throw new InvalidOperationException($"BatchNorm {bn.Module} does not follow a bias-free convolution");
                }
                producer!.Weight().BatchNormChannels = bn.Channels;
                Remove(g, bn);
                folded++;
            }
            if (folded > 0) g.PassLog.Add($"BatchNormFolding: {folded} BatchNorm2d layers folded into their convolutions");
        }

        private static string LoweringFieldBias(string bnModule) => Lowering.LoweringHelpers.Field(bnModule) + "_folded_bias";

        private static Param Weight(this Op op) => op switch
        {
            ConvOp c => c.Weight,
            LinearOp l => l.Weight,
            DepthwiseOp d => d.Weight,
            _ => throw new InvalidOperationException(op.Module),
        };

        public static void EpilogueFusion(Graph g)
        {
            int activations = 0, residuals = 0;
            var consumers = Consumers(g);
            foreach (var act in g.AllOps.OfType<ActivationOp>().ToList())
            {
                if (consumers.TryGetValue(act.Input, out var users) && users.Count == 1 && act.Input.ExternalName is null)
                {
                    switch (Producer(g, act.Input))
                    {
                        case LinearOp l when l.Activation == Activation.None && l.Residual is null: l.Activation = act.Activation; l.Output = act.Output; break;
                        case ConvOp c when c.Activation == Activation.None: c.Activation = act.Activation; c.Output = act.Output; break;
                        case DepthwiseOp d when d.Activation == Activation.None: d.Activation = act.Activation; d.Output = act.Output; break;
                        default: continue;
                    }
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
            g.PassLog.Add($"EpilogueFusion: {activations} activations and {residuals} residual adds fused into GEMM/conv epilogues");
        }

        /// <summary>
        /// A 1x1 expand GEMM over whole feature-map rows whose output only a depthwise 3x3 reads, whose output only a 1x1
        /// reduce GEMM (no activation) reads, becomes one InvertedResidualOp: the runtime kernel runs it over bands of
        /// output rows, so the two intermediates (up to H·W·Cexp floats) never reach the arena.
        /// </summary>
        public static void InvertedResidualFusion(Graph g)
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
            if (fused > 0) g.PassLog.Add($"InvertedResidualFusion: {fused} expand → depthwise → reduce chains run as banded kernels ({saved * 4 / 1024.0:F1} KiB per image of intermediates never stored)");
        }

        /// <summary>The longest common prefix of dotted module paths, whole segments only ("a.b.c", "a.b.d" → "a.b").</summary>
        private static string CommonPrefix(params string[] modules)
        {
            var parts = modules.Select(m => m.Split('.')).ToArray();
            int n = 0;
            while (parts.All(p => p.Length > n && p[n] == parts[0][n])) n++;
            return string.Join(".", parts[0].Take(n));
        }

        public static void QkvFusion(Graph g)
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
            if (fused > 0) g.PassLog.Add($"QkvFusion: {fused} attention layers read q, k, v from one GEMM (N = 3·D)");
        }

        /// <summary>
        /// Greedy first-fit over op order. A value lives from the op that writes it to the last op that reads it.
        /// A GEMM whose residual input dies at that GEMM writes its output over the residual (in place).
        /// </summary>
        public static void MemoryPlan(Graph g)
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
            g.PassLog.Add($"MemoryPlan: {top:N0} floats per image in one arena ({top * 4 / 1024.0:F1} KiB; {naive * 4 / 1024.0:F1} KiB without reuse), {inPlace} in-place residual GEMMs");
        }

        public static void ConstantLayout(Graph g)
        {
            long offset = 0;
            foreach (var p in g.Params.Where(p => !p.IsPacked))
            {
                p.ConstOffset = offset;
                offset += Align(p.Floats);
            }
            g.ConstantFloats = offset;
            long packed = g.Params.Where(p => p.IsPacked).Sum(p => p.Floats);
            g.PassLog.Add($"ConstantLayout: {g.Params.Count(p => !p.IsPacked)} constants in one block of {offset * 4 / 1024.0:F1} KiB; {g.Params.Count(p => p.IsPacked)} packed GEMM weights ({packed * 4 / 1048576.0:F1} MiB)");
        }

        private static long Align(long floats) => (floats + Alignment - 1) / Alignment * Alignment;
    }
}
