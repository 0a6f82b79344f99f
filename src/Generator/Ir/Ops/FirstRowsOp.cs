using System;
using System.Collections.Generic;
using System.Linq;
using AotVit.Generator.Emit;

namespace AotVit.Generator.Ir
{
    /// <summary>out[r, :] = in[r, :] for r &lt; Rows of each image: the leading rows of a [tokens, cols] value, compacted for
    /// an op that computes only those rows (added by Passes.RowNarrowing). Kernel: Layout.FirstRows.</summary>
    internal sealed class FirstRowsOp : Op
    {
        public FirstRowsOp(string module, Value input, Value output) : base(module) { Input = input; Output = output; }
        public Value Input { get; }
        public Value Output { get; }
        public override IEnumerable<Value> Inputs => new[] { Input };
        public override IEnumerable<Value> Outputs => new[] { Output };
        public override string ProfileKind => "Layout";

        public override void Emit(OpWriter w)
        {
            w.Line($"// {Module}: rows 0..{Output.Shape[0] - 1} of {Input.Name} {Input.ShapeText} → {Output.ShapeText}");
            w.Line($"Layout.FirstRows(_pool, batch, {Input.Shape[0]}, {Output.Shape[0]}, {Output.Shape[1]}, {w.Ptr(Input)}, {w.Ptr(Output)});");
        }
    }
}
