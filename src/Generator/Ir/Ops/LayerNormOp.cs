using System;
using System.Collections.Generic;
using System.Linq;
using AotVit.Generator.Emit;
using static AotVit.Generator.Helpers.IndentedTextWriter;

namespace AotVit.Generator.Ir
{
    /// <summary>LayerNorm over the last dimension (biased variance, as torch). Kernel: LayerNorm.Run.</summary>
    internal sealed class LayerNormOp : Op
    {
        public LayerNormOp(string module, Value input, Value output, Param gamma, Param beta, double eps, int rows, int cols)
            : base(module) { Input = input; Output = output; Gamma = gamma; Beta = beta; Eps = eps; Rows = rows; Cols = cols; }
        public Value Input { get; set; }
        public Value Output { get; set; }
        public Param Gamma { get; }
        public Param Beta { get; }
        public double Eps { get; }
        public int Rows { get; set; }
        public int Cols { get; }
        public override IEnumerable<Value> Inputs => new[] { Input };
        public override IEnumerable<Value> Outputs => new[] { Output };
        public override IEnumerable<Param?> Params => new[] { Gamma, Beta };
        public override string ProfileKind => "LayerNorm";

        public override void Emit(OpWriter w)
        {
            w.Line($"// {Module} (LayerNorm, eps {D(Eps)}): {Input.ShapeText} → {Output.ShapeText}");
            w.Line($"LayerNorm.Run(_pool, batch * {Rows}, {Cols}, {w.Ptr(Input)}, {Cols}, {OpWriter.C(Gamma)}, {OpWriter.C(Beta)}, {F((float)Eps)}, {w.Ptr(Output)}, {Cols});");
        }
    }
}
