using System;
using System.Collections.Generic;
using System.Linq;
using AotVit.Generator.Emit;
using static AotVit.Generator.Helpers.IndentedTextWriter;

namespace AotVit.Generator.Ir
{
    /// <summary>An element-wise activation; the EpilogueFusion pass folds it into its producer (no kernel).</summary>
    internal sealed class ActivationOp : Op
    {
        public ActivationOp(string module, Activation activation, Value input, Value output) : base(module) { Activation = activation; Input = input; Output = output; }
        public Activation Activation { get; }
        public Value Input { get; }
        public Value Output { get; }
        public override IEnumerable<Value> Inputs => new[] { Input };
        public override IEnumerable<Value> Outputs => new[] { Output };
    }
}
