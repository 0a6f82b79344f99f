// Pass 5, RowNarrowing. Contract: a row-wise op whose output is read only in its first R of T rows per image computes
// only those rows, into a compact [R, cols] value (images still follow each other). Row-wise ops: a Linear applied row
// by row (its residual added row by row), a LayerNorm, and an attention with one sequence per image, whose output row i
// is query i (all T tokens stay keys and values, so it needs every row of its inputs). The rows a value needs are found
// backwards from the graph outputs, which need all of theirs: a row-wise op needs of its inputs the rows its output
// needs; a Linear that reads one row per image (a classifier head on token r) needs rows 0..r; every other op needs all
// rows of every input. So in a token classifier the last encoder layer, from the attention's queries to the final
// LayerNorm, runs on the rows the heads read, while its q/k/v GEMM and everything before stay whole; a graph whose
// output is a whole hidden state (ViTModel's last_hidden_state, MobileViT's feature maps) is left as it was.
// A narrowed op reads a narrowed input as it is; an input with more rows (the residual stream entering the layer) is
// compacted by a FirstRowsOp first; a one-row reader of a narrowed value gets the value's new per-image stride as lda.
// The kept rows hold the same floats as without the pass: every kernel involved computes each row on its own.
// Op.Macs of a narrowed op counts the rows it still computes (the pass log's GMAC figures); the descriptor's MacsPerImage
// is the model's count, taken before this pass (Graph.ModelMacs).
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using AotVit.Generator.Ir;

namespace AotVit.Generator.Passes
{
    internal static class RowNarrowing
    {
        private const int All = int.MaxValue;

        public static void Run(Graph g)
        {
            var ops = g.AllOps.ToList();
            long macsBefore = ops.Sum(o => o.Macs);
            var needed = RowsNeeded(g, ops);
            var readers = ops.OfType<LinearOp>().Where(l => !IsRowWise(l) && ReadsOneRow(l) && Need(needed, l.Input) < l.Input.Shape[0])
                             .Select(l => $"{l.Module} reads token {l.InputOffset / l.Input.Shape[1]}").ToList();

            var narrowed = new Dictionary<Value, Value>();
            var compacted = new Dictionary<(Value, int), Value>();
            var modules = new List<string>();
            int narrowedOps = 0, gathers = 0;
            var counts = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var block in g.Blocks)
            {
                bool explained = false;
                for (int i = 0; i < block.Ops.Count; i++)
                {
                    var op = block.Ops[i];
                    var output = NarrowedRows(op) ? op.Outputs.Single() : null;
                    int r = output is null ? All : Need(needed, output);
                    if (output is not null && r < output.Shape[0])
                    {
                        // Inputs with other than r rows per image: their first r rows, compacted just before this op.
                        Value Rows(Value v, string role)
                        {
                            var source = narrowed.TryGetValue(v, out var n) ? n : v;
                            if (source.Shape[0] == r) return source;
                            if (!compacted.TryGetValue((source, r), out var rows))
                            {
                                rows = new Value(source.Name + ".rows", r, source.Shape[1]);
                                block.Ops.Insert(i++, new FirstRowsOp($"{op.Module} ({role})", source, rows));
                                compacted[(source, r)] = rows;
                                gathers++;
                            }
                            return rows;
                        }

                        var compact = new Value(output.Name, r, output.Shape[1]);
                        narrowed[output] = compact;
                        int tokens = output.Shape[0];
                        switch (op)
                        {
                            case LinearOp l:
                                l.Input = Rows(l.Input, "input");
                                if (l.Residual is not null) l.Residual = Rows(l.Residual, "residual");
                                l.RowsPerImage = r;
                                l.Output = compact;
                                break;
                            case LayerNormOp ln:
                                ln.Input = Rows(ln.Input, "input");
                                ln.Rows = r;
                                ln.Output = compact;
                                break;
                            case AttentionOp a:
                                a.Queries = r;   // q, k and v stay whole: the kernel queries the first r tokens of each sequence
                                a.Output = compact;
                                break;
                        }
                        // The reason once per method, then the row range alone.
                        op.Note = string.Format(CultureInfo.InvariantCulture, explained
                            ? "Rows 0..{0} of {1} only (RowNarrowing, as above)."
                            : "Only rows 0..{0} of {1} per image are computed from here on (RowNarrowing): the outputs depend on no other row ({2}).",
                            r - 1, tokens, string.Join(", ", readers));
                        explained = true;
                        modules.Add(op.Module);
                        counts.Add($"{r} of {tokens}");
                        narrowedOps++;
                        continue;
                    }

                    // Not narrowed: only a one-row reader may read a narrowed value (any other reader needs all its rows).
                    foreach (var v in op.Inputs.Where(narrowed.ContainsKey).ToList())
                    {
                        if (op is LinearOp l && l.Input == v && l.Residual != v && ReadsOneRow(l))
                        {
                            l.Input = narrowed[v];
                            l.Lda = checked((int)l.Input.Floats);
                        }
                        else
                        {
                            throw new InvalidOperationException($"{op.Module} reads all of {v.Name}, whose rows were narrowed");
                        }
                    }
                }
            }
            if (narrowedOps == 0) return;
            long macsAfter = g.AllOps.Sum(o => o.Macs);
            g.PassLog.Add(string.Format(CultureInfo.InvariantCulture,
                "RowNarrowing: {0} ops from {1} to {2} compute only the first {3} rows per image, the rows the outputs depend on ({4}); {5} row gather(s); {6:F3} → {7:F3} GMAC per image",
                narrowedOps, modules[0], modules[modules.Count - 1], string.Join(", ", counts), string.Join(", ", readers), gathers,
                macsBefore / 1e9, macsAfter / 1e9));
        }

        /// <summary>For every value, the leading rows per image that some reader needs (All for whole or non-row values).</summary>
        private static Dictionary<Value, int> RowsNeeded(Graph g, List<Op> ops)
        {
            var needed = new Dictionary<Value, int>();
            void Require(Value v, int rows) => needed[v] = Math.Max(needed.TryGetValue(v, out int n) ? n : 0, Math.Min(rows, RowCount(v)));
            foreach (var o in g.Outputs) Require(o.Value, All);
            for (int i = ops.Count - 1; i >= 0; i--)
            {
                var op = ops[i];
                int outputRows = op.Outputs.Max(v => needed.TryGetValue(v, out int n) ? n : 0);
                if (outputRows == 0) outputRows = All;   // read by nobody: left as it is
                foreach (var input in op.Inputs)
                {
                    int rows = op switch
                    {
                        LinearOp l when IsRowWise(l) => outputRows,
                        LinearOp l when ReadsOneRow(l) && input == l.Input => l.InputOffset / l.Input.Shape[1] + 1,
                        LayerNormOp ln when IsRowWise(ln) => outputRows,
                        _ => All,   // attention: keys and values are every token; anything else: assumed to read everything
                    };
                    Require(input, rows);
                }
            }
            return needed;
        }

        private static int Need(Dictionary<Value, int> needed, Value v) => needed.TryGetValue(v, out int n) ? n : All;

        private static int RowCount(Value v) => v.Shape.Length == 2 ? v.Shape[0] : All;

        private static bool IsRows(Value v, int rows, int cols) => v.Shape.Length == 2 && v.Shape[0] == rows && v.Shape[1] == cols;

        /// <summary>out[r] = f(in[r]) (+ residual[r]) for each of the input's rows.</summary>
        private static bool IsRowWise(LinearOp l) =>
            l.InputOffset == 0 && IsRows(l.Input, l.RowsPerImage, l.Lda) && l.Weight.K == l.Lda && IsRows(l.Output, l.RowsPerImage, l.Weight.N) &&
            (l.Residual is null || IsRows(l.Residual, l.RowsPerImage, l.Weight.N));

        /// <summary>One row per image: row InputOffset / cols of a [tokens, cols] input (lda = the per-image stride).</summary>
        private static bool ReadsOneRow(LinearOp l) =>
            l.RowsPerImage == 1 && l.Input.Shape.Length == 2 && l.Lda == l.Input.Floats && l.Weight.K == l.Input.Shape[1] &&
            l.InputOffset % l.Input.Shape[1] == 0;

        private static bool IsRowWise(LayerNormOp ln) => IsRows(ln.Input, ln.Rows, ln.Cols) && IsRows(ln.Output, ln.Rows, ln.Cols);

        /// <summary>Ops that can compute fewer than all their output rows.</summary>
        private static bool NarrowedRows(Op op) => op switch
        {
            LinearOp l => IsRowWise(l),
            LayerNormOp ln => IsRowWise(ln),
            AttentionOp a => a.Sequences == 1 && a.Queries == a.Tokens && IsRows(a.Output, a.Tokens, a.Output.Shape.Length == 2 ? a.Output.Shape[1] : -1),
            _ => false,
        };
    }
}
