using System;
using System.Collections.Generic;
using System.Linq;
using AotVit.Generator.Emit;
using static AotVit.Generator.Helpers.IndentedTextWriter;

namespace AotVit.Generator.Ir
{
    /// <summary>Mean over H·W of an NHWC map per image. Kernel: Pooling.GlobalAverage.</summary>
    internal sealed class GlobalAveragePoolOp : Op
    {
        public GlobalAveragePoolOp(string module, Value input, Value output) : base(module) { Input = input; Output = output; }
        public Value Input { get; }
        public Value Output { get; }
        public override IEnumerable<Value> Inputs => new[] { Input };
        public override IEnumerable<Value> Outputs => new[] { Output };
        public override string ProfileKind => "Pooling";

        public override void Emit(OpWriter w)
        {
            w.Line($"// {Module}: {Input.ShapeText} → {Output.ShapeText}");
            w.Line($"Pooling.GlobalAverage(batch, {Input.Shape[0] * Input.Shape[1]}, {Input.Shape[2]}, {w.Ptr(Input)}, {w.Ptr(Output)});");
        }
    }
}
