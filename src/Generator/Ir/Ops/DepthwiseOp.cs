using System;
using System.Collections.Generic;
using System.Linq;
using AotVit.Generator.Emit;
using static AotVit.Generator.Helpers.IndentedTextWriter;

namespace AotVit.Generator.Ir
{
    /// <summary>Depthwise 3×3 convolution in NHWC, stride 1 or 2, taps from the constants block. Kernel: Conv2d.Depthwise3x3.</summary>
    internal sealed class DepthwiseOp : Op, IWeightedOp
    {
        public DepthwiseOp(string module, Value input, Param weight, Param? bias, Value output, int stride)
            : base(module) { Input = input; Weight = weight; Bias = bias; Output = output; Stride = stride; }
        public Value Input { get; }
        public Param Weight { get; set; }
        public Param? Bias { get; set; }
        public Value Output { get; set; }
        public Activation Activation { get; set; }
        public int Stride { get; }
        public bool CanTakeActivation => Activation == Activation.None;
        public override IEnumerable<Value> Inputs => new[] { Input };
        public override IEnumerable<Value> Outputs => new[] { Output };
        public override long Macs => Output.Floats * 9;
        public override IEnumerable<Param?> Params => new[] { Weight, Bias };
        public override string ProfileKind => "Depthwise";

        public override void Emit(OpWriter w)
        {
            w.Line($"// {Module}: depthwise 3×3 stride {Stride} over {Input.ShapeText}, + b, {Activation} → {Output.ShapeText}");
            w.Line($"Conv2d.Depthwise3x3(_pool, batch, {Input.Shape[0]}, {Input.Shape[1]}, {Input.Shape[2]}, {w.Ptr(Input)}, {Stride}, " +
                   $"{OpWriter.C(Weight)}, {OpWriter.C(Bias)}, {OpWriter.Act(Activation)}, {w.Ptr(Output)});");
        }
    }
}
