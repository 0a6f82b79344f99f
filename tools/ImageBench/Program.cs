// ImageBench: preprocessing stages on a synthetic photo-sized image, medians of interleaved repetitions.
//   dotnet run -c Release --project tools/ImageBench -- preprocess [WIDTH HEIGHT] [--reps N]
//   dotnet run -c Release --project tools/ImageBench -- resize [WIDTH HEIGHT] [--reps N]
// preprocess: the ViT (BILINEAR 224x224), MobileViT (BILINEAR shortest edge 288, crop 256) and DeiT (BICUBIC 256x256,
// crop 224) plans, whole image and streamed (orientations 1 and 6). resize: PillowResize alone, BILINEAR against
// BICUBIC, to 224x224, to 256x256 and to a quarter of the image (the same output sizes for both filters).
using System.Diagnostics;
using AotVit.Runtime.Imaging;

string mode = args.Length > 0 ? args[0] : "preprocess";
int width = args.Length > 2 ? int.Parse(args[1]) : 4032, height = args.Length > 2 ? int.Parse(args[2]) : 3024;
int reps = Array.IndexOf(args, "--reps") is int r and >= 0 ? int.Parse(args[r + 1]) : 7;
var vit = new PreprocessPlan(new ResizeMode.Exact(224, 224), null, 1 / 255.0, new ChannelNormalization([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]), false);
var mobilevit = new PreprocessPlan(new ResizeMode.ShortestEdge(288), (256, 256), 1 / 255.0, null, true);
var deit = new PreprocessPlan(new ResizeMode.Exact(256, 256, ResampleFilter.Bicubic), (224, 224), 1 / 255.0,
    new ChannelNormalization([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]), false);
var pixels = new byte[width * height * 3];
new Random(1).NextBytes(pixels);
var image = new RgbImage(width, height, pixels);

double Time(Action a)
{
    var sw = Stopwatch.StartNew();
    a();
    return sw.Elapsed.TotalMilliseconds;
}

var cases = new List<(string Name, Action Run)>();
if (mode == "resize")
{
    foreach (var (w, h) in new[] { (224, 224), (256, 256), (width / 4, height / 4) })
    {
        var resized = new byte[w * h * 3];
        foreach (var filter in new[] { ResampleFilter.Bilinear, ResampleFilter.Bicubic })
        {
            cases.Add(($"PillowResize {filter.Name()} to {w}x{h}",
                       () => PillowResize.Resize(pixels, width, height, 3, resized, w, h, filter)));
        }
    }
}
else foreach (var (name, plan) in new[] { ("vit", vit), ("mobilevit", mobilevit), ("deit", deit) })
{
    var (c, h, w) = Preprocessor.OutputSize(plan, width, height);
    var output = new float[c * h * w];
    cases.Add(($"{name} whole image (Preprocessor.Run)", () => Preprocessor.Run(image, plan, output)));
    foreach (int orientation in new[] { 1, 6 })
    {
        var (c2, h2, w2) = Preprocessor.OutputSize(plan, orientation >= 5 ? height : width, orientation >= 5 ? width : height);
        var streamed = new float[c2 * h2 * w2];
        cases.Add(($"{name} streamed, orientation {orientation}, bands of 16 rows", () =>
        {
            using var s = new StreamingPreprocessor(plan, width, height, orientation);
            for (int y = 0; y < height; y += 16) s.OnRows(y, Math.Min(16, height - y), pixels.AsSpan(y * width * 3), width * 3);
            s.Finish(streamed);
        }));
    }
}
var times = cases.Select(_ => new List<double>()).ToArray();
foreach (var c in cases) c.Run();   // warm-up
for (int i = 0; i < reps; i++)
    for (int k = 0; k < cases.Count; k++) times[k].Add(Time(cases[k].Run));
Console.WriteLine($"{mode}: {width}x{height} RGB, median of {reps} interleaved runs, 1 thread");
for (int k = 0; k < cases.Count; k++)
{
    var sorted = times[k].Order().ToList();
    Console.WriteLine($"  {cases[k].Name,-58} {sorted[sorted.Count / 2],8:F1} ms   ({width * (double)height / 1e3 / sorted[sorted.Count / 2]:F0} MP/s)");
}
