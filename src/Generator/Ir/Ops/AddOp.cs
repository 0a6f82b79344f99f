using System;
using System.Collections.Generic;
using System.Linq;
using AotVit.Generator.Emit;
using static AotVit.Generator.Helpers.IndentedTextWriter;

namespace AotVit.Generator.Ir
{
    /// <summary>out = a + b; the EpilogueFusion pass turns it into a GEMM residual (no kernel).</summary>
    internal sealed class AddOp : Op
    {
        public AddOp(string module, Value a, Value b, Value output) : base(module) { A = a; B = b; Output = output; }
        public Value A { get; }
        public Value B { get; }
        public Value Output { get; }
        public override IEnumerable<Value> Inputs => new[] { A, B };
        public override IEnumerable<Value> Outputs => new[] { Output };
    }
}
