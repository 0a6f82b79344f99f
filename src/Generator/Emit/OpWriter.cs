using System.Collections.Generic;
using AotVit.Generator.Helpers;
using AotVit.Generator.Ir;
using static AotVit.Generator.Helpers.IndentedTextWriter;

namespace AotVit.Generator.Emit
{
    /// <summary>
    /// What an op's Emit writes with: the text writer, and the C# expression for each buffer. Every activation an op
    /// touches is a named local of its block's method (<c>float* attention_qkv = arena + 188928L * batch;</c>), declared
    /// once before the first op; caller-owned buffers are the model's fields; params are offsets into the constants block
    /// (<c>c + 1536</c>) or packed-matrix fields.
    /// </summary>
    internal sealed class OpWriter
    {
        private readonly IndentedTextWriter _w;
        private readonly IReadOnlyDictionary<Value, string> _names;

        public OpWriter(IndentedTextWriter w, IReadOnlyDictionary<Value, string> names) { _w = w; _names = names; }

        public void Line(string text = "") => _w.Line(text);

        public IndentedTextWriter.Scope Block(string header) => _w.Block(header);

        /// <summary>The expression for a value's first float of image 0.</summary>
        public string Ptr(Value v) => v.ExternalName is not null ? "_" + v.ExternalName : _names[v];

        /// <summary>The expression for a param in the constants block, or "null".</summary>
        public static string C(Param? p) => p is null ? "null" : $"c + {I(p.ConstOffset)}";

        public static string Act(Activation a) => "Activation." + a;
    }
}
