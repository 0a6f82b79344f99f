// AotVit.Bench: aot-vit vs ONNX Runtime (and PyTorch eager numbers from tools/reference.py), see docs/BENCHMARKS.md.
//   AotVit.Bench [--cache DIR] [--onnx-dir DIR] [--seconds S] [--models vit,mobilevit,NAME...|all] [--threads 1,2] [--batch 1,8] [--json OUT]
//                [--cold-reps N (0: no cold-start children)] [--profile-runs N (per-op profiles of both engines at batch 1; 0: none)]
//   AotVit.Bench --cold aotvit|ort|none MODEL THREADS [--cache DIR] [--onnx-dir DIR]      (child: cold start + peak RSS)
//   AotVit.Bench --jpeg-serve | --jpeg-rss ...   (the aot-vit side of tools/jpeg_bench.py, see JpegBench.cs)
//   AotVit.Bench --int8 [...] | --int8-report RUN.json --md OUT   (issue 20: aot-vit and ORT, fp32 and int8, see Int8Bench.cs)
//   AotVit.Bench --report --jit RUN.json [--aot RUN.json] [--torch TORCH.json] [--size NAME=PATH]... [--md OUT] [--svg OUT]
using System.Globalization;
using AotVit.Bench;

var a = new Args(args);
try
{
    if (a.Positional("--cold", 3) is { } cold)
        return Runner.Cold(a, cold[0], cold[1], int.Parse(cold[2], CultureInfo.InvariantCulture));
    if (a.Has("--int8-report"))
        return Int8Bench.Report(a);
    if (a.Has("--int8"))
        return Int8Bench.Run(a);
    if (a.Has("--report"))
        return Report.Write(a);
    if (a.Has("--jpeg-serve"))
        return JpegBench.Serve(a);
    if (a.Positional("--jpeg-rss", 3) is { } rss)
        return JpegBench.Rss(a, rss);
    return Runner.Run(a);
}
catch (Exception e) when (e is ArgumentException or FileNotFoundException or FormatException)
{
    Console.Error.WriteLine($"AotVit.Bench: {e.Message}");
    return 2;
}

namespace AotVit.Bench
{
    internal sealed class Args(string[] args)
    {
        public bool Has(string flag) => args.Contains(flag);

        public string? Get(string flag)
        {
            int i = Array.LastIndexOf(args, flag);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }

        public List<string> GetAll(string flag)
        {
            var list = new List<string>();
            for (int i = 0; i + 1 < args.Length; i++)
                if (args[i] == flag) list.Add(args[i + 1]);
            return list;
        }

        public string[]? Positional(string flag, int count)
        {
            int i = Array.IndexOf(args, flag);
            if (i < 0) return null;
            if (i + count >= args.Length) throw new ArgumentException($"{flag} needs {count} values");
            return args[(i + 1)..(i + 1 + count)];
        }
    }
}
