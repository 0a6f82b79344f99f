using System;
using System.Collections.Generic;
using System.Linq;
using AotVit.Generator.Emit;
using static AotVit.Generator.Helpers.IndentedTextWriter;

namespace AotVit.Generator.Ir
{
    /// <summary>BatchNorm2d in eval mode; the BatchNormFolding pass removes every one of these (no kernel).</summary>
    internal sealed class BatchNormOp : Op
    {
        public BatchNormOp(string module, Value input, Value output, int channels, double eps) : base(module) { Input = input; Output = output; Channels = channels; Eps = eps; }
        public Value Input { get; }
        public Value Output { get; }
        public int Channels { get; }
        /// <summary>The module's eps (added to the running variance), as the HF module constructs it.</summary>
        public double Eps { get; }
        public override IEnumerable<Value> Inputs => new[] { Input };
        public override IEnumerable<Value> Outputs => new[] { Output };
    }
}
