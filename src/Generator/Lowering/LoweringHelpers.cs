using System.Linq;
using AotVit.Generator.Ir;

namespace AotVit.Generator.Lowering
{
    /// <summary>Builders shared by the model lowerings: params named after their HF module, tensors registered with exact shapes.</summary>
    internal static class LoweringHelpers
    {
        public static string Field(string module) => "_" + new string(module.Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray());

        public static Param Vector(Graph g, string tensor, params int[] shape) =>
            g.AddParam(new Param(Field(tensor), ParamKind.Vector, new[] { g.Tensor(tensor, shape) }, null, shape.Aggregate(1L, (a, b) => a * b)));

        /// <summary>nn.Linear(in=k, out=n) weight [n, k] (or a 1x1 Conv2d weight [n, k, 1, 1]).</summary>
        public static Param Linear(Graph g, string module, int n, int k, bool conv1x1 = false)
        {
            var shape = conv1x1 ? new[] { n, k, 1, 1 } : new[] { n, k };
            return g.AddParam(new Param(Field(module), ParamKind.PackedOutIn, new[] { g.Tensor(module + ".weight", shape) }, null, (long)n * k, n, k));
        }

        public static Param Conv(Graph g, string module, int cout, int cin, int kernel) =>
            g.AddParam(new Param(Field(module), ParamKind.PackedConv, new[] { g.Tensor(module + ".weight", cout, cin, kernel, kernel) }, null,
                                 (long)cout * cin * kernel * kernel, cout, cin * kernel * kernel));

        public static Param Depthwise(Graph g, string module, int channels) =>
            g.AddParam(new Param(Field(module), ParamKind.DepthwiseTaps, new[] { g.Tensor(module + ".weight", channels, 1, 3, 3) }, null, 9L * channels, channels, 9));

        /// <summary>Registers a BatchNorm2d's four tensors and returns the (unfused) op with the module's eps.</summary>
        public static BatchNormOp BatchNorm(Graph g, string module, Value input, Value output, double eps)
        {
            int c = input.Shape[input.Shape.Length - 1];
            foreach (var suffix in new[] { "weight", "bias", "running_mean", "running_var" }) g.Tensor($"{module}.{suffix}", c);
            return new BatchNormOp(module, input, output, c, eps);
        }

        public static LayerNormOp LayerNorm(Graph g, string module, Value input, Value output, double eps)
        {
            int cols = input.Shape[input.Shape.Length - 1];
            int rows = (int)(input.Floats / cols);
            return new LayerNormOp(module, input, output, Vector(g, module + ".weight", cols), Vector(g, module + ".bias", cols), eps, rows, cols);
        }
    
        /// <summary>
        /// One pre-norm transformer layer as HF ViTLayer / MobileViTTransformerLayer implement it:
        /// x = x + out(attn(LN_before(x))); x = x + down(act(up(LN_after(x)))). Rows are sequences·tokens per image.
        /// </summary>
        public static Value TransformerLayer(Graph g, Block b, string m, Value x, int sequences, int tokens, int d, int heads,
                                             int intermediate, Activation act, double eps, bool qkvBias)
        {
            int rows = sequences * tokens;
            var ln1 = new Value($"{m}.layernorm_before", rows, d);
            b.Ops.Add(LayerNorm(g, $"{m}.layernorm_before", x, ln1, eps));
            string a = $"{m}.attention.attention";
            var q = new Value($"{a}.query", rows, d);
            var k = new Value($"{a}.key", rows, d);
            var v = new Value($"{a}.value", rows, d);
            foreach (var (name, value) in new[] { ("query", q), ("key", k), ("value", v) })
                b.Ops.Add(new LinearOp($"{a}.{name}", ln1, Linear(g, $"{a}.{name}", d, d), qkvBias ? Vector(g, $"{a}.{name}.bias", d) : null, value, rows, d));
            var context = new Value($"{a}.context", rows, d);
            b.Ops.Add(new AttentionOp(a, q, k, v, context, sequences, tokens, heads, d / heads));
            var attnOut = new Value($"{m}.attention.output.dense", rows, d);
            b.Ops.Add(new LinearOp($"{m}.attention.output.dense", context, Linear(g, $"{m}.attention.output.dense", d, d),
                                   Vector(g, $"{m}.attention.output.dense.bias", d), attnOut, rows, d));
            var x1 = new Value($"{m}.attention_residual", rows, d);
            b.Ops.Add(new AddOp($"{m} (attention residual)", attnOut, x, x1));
            var ln2 = new Value($"{m}.layernorm_after", rows, d);
            b.Ops.Add(LayerNorm(g, $"{m}.layernorm_after", x1, ln2, eps));
            var hidden = new Value($"{m}.intermediate.dense", rows, intermediate);
            b.Ops.Add(new LinearOp($"{m}.intermediate.dense", ln2, Linear(g, $"{m}.intermediate.dense", intermediate, d),
                                   Vector(g, $"{m}.intermediate.dense.bias", intermediate), hidden, rows, d));
            var activated = new Value($"{m}.intermediate.act", rows, intermediate);
            b.Ops.Add(new ActivationOp($"{m}.intermediate.intermediate_act_fn", act, hidden, activated));
            var mlpOut = new Value($"{m}.output.dense", rows, d);
            b.Ops.Add(new LinearOp($"{m}.output.dense", activated, Linear(g, $"{m}.output.dense", d, intermediate),
                                   Vector(g, $"{m}.output.dense.bias", d), mlpOut, rows, intermediate));
            var x2 = new Value($"{m}.output", rows, d);
            b.Ops.Add(new AddOp($"{m}.output (residual)", mlpOut, x1, x2));
            return x2;
        }
    }
}
