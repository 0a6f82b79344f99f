// ImageBench: preprocessing stages on a synthetic photo-sized image, medians of interleaved repetitions.
//   dotnet run -c Release --project tools/ImageBench -- preprocess [WIDTH HEIGHT] [--reps N]
using System.Diagnostics;
using AotVit.Runtime.Imaging;

string mode = args.Length > 0 ? args[0] : "preprocess";
int width = args.Length > 2 ? int.Parse(args[1]) : 4032, height = args.Length > 2 ? int.Parse(args[2]) : 3024;
int reps = Array.IndexOf(args, "--reps") is int r and >= 0 ? int.Parse(args[r + 1]) : 7;
var vit = new PreprocessPlan(new ResizeMode.Exact(224, 224), null, 1 / 255.0, new ChannelNormalization([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]), false);
var mobilevit = new PreprocessPlan(new ResizeMode.ShortestEdge(288), (256, 256), 1 / 255.0, null, true);
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
foreach (var (name, plan) in new[] { ("vit", vit), ("mobilevit", mobilevit) })
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
