using System;
using System.Collections.Generic;
using System.Linq;
using AotVit.Generator.Emit;
using static AotVit.Generator.Helpers.IndentedTextWriter;

namespace AotVit.Generator.Ir
{
    /// <summary>A kxk convolution in NHWC over one input or the channel concatenation of two. Kernel: Conv2d.Run,
    /// Conv2d.RunDirect16 or Conv2d.RunWinograd (<see cref="Variant"/>).</summary>
    internal sealed class ConvOp : Op, IWeightedOp
    {
        public ConvOp(string module, Value in0, Value? in1, Param weight, Param? bias, Value output, int h, int w, int kernel, int stride)
            : base(module) { In0 = in0; In1 = in1; Weight = weight; Bias = bias; Output = output; H = h; W = w; Kernel = kernel; Stride = stride; }
        public Value In0 { get; }
        public Value? In1 { get; }
        public Param Weight { get; set; }
        public Param? Bias { get; set; }
        public Value Output { get; set; }
        public Activation Activation { get; set; }
        public int H { get; }
        public int W { get; }
        public int Kernel { get; }
        public int Stride { get; }
        public int C0 => In0.Shape[2];
        public int C1 => In1?.Shape[2] ?? 0;
        public bool CanTakeActivation => Activation == Activation.None;
        public override IEnumerable<Value> Inputs => In1 is null ? new[] { In0 } : new[] { In0, In1 };
        public override IEnumerable<Value> Outputs => new[] { Output };
        /// <summary>The direct convolution's multiply-adds, whatever the variant (Winograd runs 16 of every 36).</summary>
        public override long Macs => Output.Floats * Kernel * Kernel * (C0 + C1);
        public override IEnumerable<Param?> Params => new[] { Weight, Bias };
        public override string ProfileKind => "Conv";

        /// <summary>The Conv2d kernel variant this op calls, chosen from its static shape (see <see cref="ChooseVariant"/>).</summary>
        public string Variant => ChooseVariant(C0, C1, Weight.N, Kernel, Stride);

        /// <summary>
        /// RunDirect16 (vectorised over the output channels, one output pixel per 16 channels) for a k×k convolution
        /// (k &gt; 1) of one input with at most 4 channels into exactly 16: MobileViT's stem (3 → 16, 3×3 stride 2), which
        /// as an im2col GEMM would fill half of each 32-column panel with nothing and gather 27-float rows.
        /// RunWinograd (F(2×2, 3×3): 16 multiply-adds where the direct convolution has 36, as 16 GEMMs over the channels)
        /// for a 3×3 stride-1 convolution with at least <see cref="WinogradMinChannels"/> input and output channels: with
        /// fewer, the GEMMs are too short for the transforms to pay. Run (the implicit-im2col GEMM) for everything else.
        /// </summary>
        public static string ChooseVariant(int c0, int c1, int cout, int kernel, int stride) =>
            c1 == 0 && cout == 16 && kernel > 1 && c0 <= 4 ? "RunDirect16"
            : kernel == 3 && stride == 1 && c0 + c1 >= WinogradMinChannels && cout >= WinogradMinChannels ? "RunWinograd"
            : "Run";

        public const int WinogradMinChannels = 8;

        public override void Emit(OpWriter w)
        {
            string input = In1 is null ? In0.ShapeText : $"concat({In0.ShapeText}, {In1.ShapeText})";
            w.Line($"// {Module}: {Kernel}×{Kernel} stride {Stride} conv over {input}, + b, {Activation} → {Output.ShapeText}; {Variant}");
            if (Variant == "RunDirect16")
            {
                w.Line($"Conv2d.RunDirect16(_pool, batch, {H}, {W}, {w.Ptr(In0)}, {C0}, " +
                       $"{Kernel}, {Stride}, {Weight.Field}, {OpWriter.C(Bias)}, {OpWriter.Act(Activation)}, {w.Ptr(Output)});");
                return;
            }

            if (Variant == "RunWinograd")
            {
                w.Line($"Conv2d.RunWinograd(_pool, batch, {H}, {W}, {w.Ptr(In0)}, {C0}, {(In1 is null ? "null" : w.Ptr(In1))}, {C1}, " +
                       $"{Weight.Field}, {Weight.N}, {OpWriter.C(Bias)}, {OpWriter.Act(Activation)}, {w.Ptr(Output)});");
                return;
            }

            w.Line($"Conv2d.Run(_pool, batch, {H}, {W}, {w.Ptr(In0)}, {C0}, {(In1 is null ? "null" : w.Ptr(In1))}, {C1}, " +
                   $"{Kernel}, {Stride}, {Weight.Field}, {OpWriter.C(Bias)}, {OpWriter.Act(Activation)}, {w.Ptr(Output)});");
        }
    }
}
