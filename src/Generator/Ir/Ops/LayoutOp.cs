using System;
using System.Collections.Generic;
using System.Linq;
using AotVit.Generator.Emit;
using static AotVit.Generator.Helpers.IndentedTextWriter;

namespace AotVit.Generator.Ir
{
    internal enum LayoutKind { NchwToNhwc, Unfold2x2, Fold2x2 }

    /// <summary>A pure data movement between layouts. Kernels: Layout.NchwToNhwc, Layout.Unfold2x2, Layout.Fold2x2.</summary>
    internal sealed class LayoutOp : Op
    {
        public LayoutOp(string module, LayoutKind kind, Value input, Value output, int c, int h, int w) : base(module)
        { Kind = kind; Input = input; Output = output; C = c; H = h; W = w; }
        public LayoutKind Kind { get; }
        public Value Input { get; }
        public Value Output { get; }
        public int C { get; }
        public int H { get; }
        public int W { get; }
        public override IEnumerable<Value> Inputs => new[] { Input };
        public override IEnumerable<Value> Outputs => new[] { Output };
        public override string ProfileKind => "Layout";

        public override void Emit(OpWriter w)
        {
            switch (Kind)
            {
                case LayoutKind.NchwToNhwc:
                    w.Line($"// {Module}: {Input.ShapeText} → {Output.ShapeText}");
                    w.Line($"Layout.NchwToNhwc(_pool, batch, {C}, {H}, {W}, {w.Ptr(Input)}, {w.Ptr(Output)});");
                    break;
                case LayoutKind.Unfold2x2:
                    w.Line($"// {Module}: {Input.ShapeText} → 4 sequences {Output.ShapeText} (sequence = position in the 2×2 patch)");
                    w.Line($"Layout.Unfold2x2(_pool, batch, {H}, {W}, {C}, {w.Ptr(Input)}, {w.Ptr(Output)});");
                    break;
                case LayoutKind.Fold2x2:
                    w.Line($"// {Module}: 4 sequences {Input.ShapeText} → {Output.ShapeText}");
                    w.Line($"Layout.Fold2x2(_pool, batch, {H}, {W}, {C}, {w.Ptr(Input)}, {w.Ptr(Output)});");
                    break;
                default:
                    throw new InvalidOperationException(Kind.ToString());
            }
        }
    }
}
