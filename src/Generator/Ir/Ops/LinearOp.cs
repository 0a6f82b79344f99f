using System;
using System.Collections.Generic;
using System.Linq;
using AotVit.Generator.Emit;
using static AotVit.Generator.Helpers.IndentedTextWriter;

namespace AotVit.Generator.Ir
{
    /// <summary>out[r, :] = act(in[r, :K] · Wᵀ + b) + residual[r, :], r over RowsPerImage rows of each image. Kernel: Gemm.Run.</summary>
    internal sealed class LinearOp : Op, IWeightedOp
    {
        public LinearOp(string module, Value input, Param weight, Param? bias, Value output, int rowsPerImage, int lda)
            : base(module) { Input = input; Weight = weight; Bias = bias; Output = output; RowsPerImage = rowsPerImage; Lda = lda; }
        public Value Input { get; set; }
        public Param Weight { get; set; }
        public Param? Bias { get; set; }
        public Value Output { get; set; }
        public Activation Activation { get; set; }
        public Value? Residual { get; set; }
        public int RowsPerImage { get; set; }
        /// <summary>Input row stride in floats; when RowsPerImage is 1 this is the per-image stride (e.g. the pooler reads token 0).</summary>
        public int Lda { get; set; }
        /// <summary>Floats from the start of each image's input to its first row (a head reading token 1: the hidden size).</summary>
        public int InputOffset { get; set; }
        public bool CanTakeActivation => Activation == Activation.None && Residual is null;
        public override IEnumerable<Value> Inputs => Residual is null ? new[] { Input } : new[] { Input, Residual };
        public override IEnumerable<Value> Outputs => new[] { Output };
        public override long Macs => (long)RowsPerImage * Weight.N * Weight.K;
        public override IEnumerable<Param?> Params => new[] { Weight, Bias };
        public override string ProfileKind => "Gemm";

        public override void Emit(OpWriter w)
        {
            string epilogue = (Bias is null ? "" : " + b") + (Activation == Activation.None ? "" : $", {Activation}") +
                              (Residual is null ? "" : ", + residual" + (Residual.Offset == Output.Offset && Residual.ExternalName is null ? " (in place)" : ""));
            string rows = RowsPerImage == 1 && Lda != Weight.K ? $" (token {InputOffset / Weight.K})" : "";
            string scaled = Weight.Scale == 1 ? "" : $" (weights and bias × {D(Weight.Scale)})";
            w.Line($"// {Module}: {Input.ShapeText}{rows} · [{Weight.K}×{Weight.N}]{scaled}{epilogue} → {Output.ShapeText}");
            w.Line($"Gemm.Run(_pool, batch * {RowsPerImage}, {w.Ptr(Input)}{(InputOffset == 0 ? "" : $" + {InputOffset}")}, {Lda}, {Weight.Field}, {OpWriter.C(Bias)}, {OpWriter.Act(Activation)}, " +
                   $"{(Residual is null ? "null" : w.Ptr(Residual))}, {Weight.N}, {w.Ptr(Output)}, {Weight.N});");
        }
    }
}
