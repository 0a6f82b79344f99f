// Pass 6, WinogradConvolution. Contract: every ConvOp whose variant (ConvOp.ChooseVariant, from its static shape) is
// RunWinograd reads a weight of kind WinogradConv: the same checkpoint tensor and folded BatchNorm, transformed at load
// into 16 matrices [Cin, Cout] (WeightPrep.PackWinograd) instead of the im2col matrix [9·Cin, Cout]. Runs after
// BatchNormFolding (the BatchNorm scale is applied before the transform) and before ConstantLayout (packed weights are
// not in the constants block). A weight read by any other op keeps its kind.
using System.Linq;
using AotVit.Generator.Ir;
using static AotVit.Generator.Passes.PassPipeline;

namespace AotVit.Generator.Passes
{
    internal static class WinogradConvolution
    {
        public static void Run(Graph g)
        {
            var readers = g.AllOps.SelectMany(op => op.Params.Where(p => p is not null).Select(p => (Param: p!, Op: op)))
                .ToLookup(x => x.Param, x => x.Op);
            int converted = 0;
            long directMacs = 0;
            foreach (var conv in g.AllOps.OfType<ConvOp>())
            {
                if (conv.Variant != "RunWinograd" || conv.Weight.Kind != ParamKind.PackedConv || readers[conv.Weight].Count() != 1)
                    continue;
                var weight = conv.Weight;
                int cin = conv.C0 + conv.C1, cout = weight.N;
                weight.Kind = ParamKind.WinogradConv;
                weight.K = cin;
                weight.Floats = 16L * cin * cout;
                converted++;
                directMacs += conv.Macs;
            }

            if (converted > 0)
                g.PassLog.Add(System.FormattableString.Invariant(
                    $"WinogradConvolution: {converted} 3x3 stride-1 convolutions as Winograd F(2x2, 3x3) ({directMacs / 1e6:F1} M direct MACs per image, 16/36 of them run)"));
        }
    }
}
