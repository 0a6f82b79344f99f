using System;
using System.Collections.Generic;
using System.Linq;
using AotVit.Generator.Emit;
using static AotVit.Generator.Helpers.IndentedTextWriter;

namespace AotVit.Generator.Ir
{
    /// <summary>Multi-head self-attention core: softmax(q·kᵀ·scale)·v per sequence and head.
    /// q, k, v are column slices (offsets QCol, KCol, VCol) of Values with row stride Ld each; only the first Queries tokens
    /// of each sequence are queried (all of them unless a pass narrowed the output), and the output holds those rows.
    /// Kernel: Attention.RunKeyPanels or Attention.RunQueryLanes (<see cref="Variant"/>).</summary>
    internal sealed class AttentionOp : Op
    {
        public AttentionOp(string module, Value q, Value k, Value v, Value output, int sequences, int tokens, int heads, int headDim)
            : base(module) { Q = q; K = k; V = v; Output = output; Sequences = sequences; Tokens = tokens; Queries = tokens; Heads = heads; HeadDim = headDim; }
        public Value Q { get; set; }
        public Value K { get; set; }
        public Value V { get; set; }
        public int QCol { get; set; }
        public int KCol { get; set; }
        public int VCol { get; set; }
        public Value Output { get; set; }
        public int Sequences { get; }
        public int Tokens { get; }
        /// <summary>Query rows per sequence: the first Queries of its Tokens (Tokens unless Passes.RowNarrowing cut them).</summary>
        public int Queries { get; set; }
        public int Heads { get; }
        public int HeadDim { get; }
        public int Ld => Q.Shape[Q.Shape.Length - 1];
        public override IEnumerable<Value> Inputs => new[] { Q, K, V }.Distinct();
        public override IEnumerable<Value> Outputs => new[] { Output };
        public override long Macs => 2L * Sequences * Heads * Queries * Tokens * HeadDim;
        public override string ProfileKind => "Attention";

        /// <summary>The Attention kernel variant this op calls, chosen from its static shape (see <see cref="ChooseVariant"/>).</summary>
        public string Variant => ChooseVariant(Tokens, HeadDim);

        /// <summary>
        /// RunQueryLanes (one query per vector lane, k and v broadcast from their rows, nothing packed or padded), except
        /// for a head dimension that is a multiple of 32 with at most 64 tokens: there the key-panel kernel pads nothing
        /// but the keys, while blocks of one vector of queries leave a large share of the last block's lanes empty
        /// (50 tokens: 14 of 64 with 16 lanes). RunKeyPanels then (ViT-B/32: 50 tokens × 64).
        /// </summary>
        public static string ChooseVariant(int tokens, int headDim) =>
            headDim % 32 == 0 && tokens <= 64 ? "RunKeyPanels" : "RunQueryLanes";

        public override void Emit(OpWriter w)
        {
            float scale = (float)(1.0 / Math.Sqrt(HeadDim));
            string queries = Queries == Tokens ? "" : $", queries: tokens 0..{Queries - 1}";
            w.Line($"// {Module}: softmax(q·kᵀ / √{HeadDim})·v, {Heads} heads, {Sequences} sequence(s) × {Tokens} tokens per image{queries} → {Output.ShapeText}; {Variant}");
            w.Line($"Attention.{Variant}(_pool, batch * {Sequences}, {Tokens}, {(Queries == Tokens ? "" : $"queries: {Queries}, ")}{Heads}, {HeadDim}, {F(scale)}, " +
                   $"{w.Ptr(Q)} + {QCol}, {w.Ptr(K)} + {KCol}, {w.Ptr(V)} + {VCol}, {Ld}, {w.Ptr(Output)}, {Output.Shape[Output.Shape.Length - 1]});");
        }
    }
}
