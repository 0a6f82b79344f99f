// Stage timings of the JPEG decoder on one file (a Stopwatch harness, not a test of correctness): runs only when
// AOTVIT_JPEG_BENCH names a JPEG, e.g.
//   AOTVIT_JPEG_BENCH=/tmp/12mp.jpg dotnet test tests/AotVit.Tests -c Release --filter "FullyQualifiedName~JpegStageTimings" \
//     --logger "console;verbosity=detailed"
// Medians of 7 runs after a warm-up, one thread unless the case says otherwise; wall time and the calling thread's
// CPU time (the latter is the stable figure on a shared host, and is only the caller's share in the 2-thread cases).
using System.Diagnostics;
using AotVit.Runtime.Imaging;
using AotVit.Runtime.Imaging.Jpeg;
using Xunit;
using Xunit.Abstractions;

namespace AotVit.Tests.Imaging.Jpeg;

public sealed unsafe class JpegStageTimings(ITestOutputHelper output)
{
    private sealed class NullRows : IJpegMcuRowSink
    {
        public void OnMcuRows(JpegCoefficients rows) { }
    }

    [Fact]
    public void Report()
    {
        string? path = Environment.GetEnvironmentVariable("AOTVIT_JPEG_BENCH");
        if (path is null) return;
        byte[] data = File.ReadAllBytes(path);
        var vit = new PreprocessPlan(new ResizeMode.Exact(224, 224), null, 1 / 255.0, new ChannelNormalization([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]), false);
        var mobilevit = new PreprocessPlan(new ResizeMode.ShortestEdge(288), (256, 256), 1 / 255.0, null, true);
        JpegCoefficients all = JpegReader.ReadHeader(data).DecodeAll(data);
        JpegFrame frame = all.Frame;
        byte[] scratch = new byte[8 * 8 * 64];
        var pv = new float[3 * 256 * 256];
        var cases = new (string Name, Action Run)[]
        {
            ("entropy: Huffman decode, whole coefficients (DecodeAll)", () => JpegReader.ReadHeader(data).DecodeAll(data)),
            ("entropy: Huffman decode, streamed MCU rows (DecodeRows, no pixels)", () =>
            {
                var r = JpegReader.ReadHeader(data);
                if (r.IsSingleScan) r.DecodeRows(data, new NullRows()); else r.DecodeAll(data);
            }),
            ("pixels: IDCT of every block alone", () => IdctAll(all, scratch)),
            ("pixels: fancy h2v2 upsampling of 2 chroma planes alone", () => UpsampleAll(frame)),
            ("pixels: YCbCr -> RGB of every row alone", () => ColourAll(frame)),
            ("pixels: whole pipeline from coefficients (IDCT + upsample + colour)", () => JpegPixelPipeline.DecodeImage(all)),
            ("decode: JpegDecoder to RgbImage (ImageDecoder.Decode)", () => ImageDecoder.Decode(data)),
            ("decode + ViT preprocess (DecodeStreaming + Finish, 224x224)", () =>
            {
                using var s = ImageDecoder.DecodeStreaming(data, vit);
                s.Finish(new float[3 * 224 * 224]);
            }),
            ("decode + MobileViT preprocess (DecodeStreaming + Finish, crop 256)", () =>
            {
                using var s = ImageDecoder.DecodeStreaming(data, mobilevit);
                s.Finish(pv);
            }),
            ("decode, 2 threads: JpegDecoder to RgbImage (DecodeStored, pool of 2)", () => ImageDecoder.DecodeStored(data, pool: Pool2)),
            ("decode + MobileViT preprocess, 2 threads (DecodeStreaming, pool of 2)", () =>
            {
                using var s = ImageDecoder.DecodeStreaming(data, mobilevit, pool: Pool2);
                s.Finish(pv);
            }),
        };
        foreach (var c in cases) c.Run();
        output.WriteLine("sha256 of the decoded RGB: " + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(ImageDecoder.Decode(data, applyExifOrientation: false).Pixels)));
        long before = GC.GetAllocatedBytesForCurrentThread();
        using (var s = ImageDecoder.DecodeStreaming(data, mobilevit)) s.Finish(pv);
        output.WriteLine($"managed bytes allocated by one decode + MobileViT preprocess: {(GC.GetAllocatedBytesForCurrentThread() - before) / 1e6:F1} MB " +
                         $"(a full-resolution RGB image would be {frame.Width * (long)frame.Height * 3 / 1e6:F1} MB)");
        var times = cases.Select(_ => new List<double>()).ToArray();
        var cpu = cases.Select(_ => new List<double>()).ToArray();
        for (int rep = 0; rep < 7; rep++)
        {
            for (int i = 0; i < cases.Length; i++)
            {
                double c0 = ThreadCpuMs();
                var sw = Stopwatch.StartNew();
                cases[i].Run();
                times[i].Add(sw.Elapsed.TotalMilliseconds);
                cpu[i].Add(ThreadCpuMs() - c0);
            }
        }
        output.WriteLine($"{Path.GetFileName(path)}: {frame.Width}x{frame.Height}, {frame.Components.Length} components, " +
                         $"sampling {string.Join(",", frame.Components.Select(c => $"{c.H}x{c.V}"))}, progressive {frame.Progressive}, IDCT path {JpegIdct.Path}, Vector512 {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}");
        for (int i = 0; i < cases.Length; i++)
        {
            var sorted = times[i].OrderBy(t => t).ToList();
            var sortedCpu = cpu[i].OrderBy(t => t).ToList();
            output.WriteLine($"{sorted[sorted.Count / 2],8:F1} ms  (calling thread's CPU {sortedCpu[sortedCpu.Count / 2],6:F1} ms)  {cases[i].Name}");
        }
    }

    private static readonly AotVit.Runtime.Threading.WorkerPool Pool2 = new(2);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, long* timespec);

    // CLOCK_THREAD_CPUTIME_ID: time the scheduler gave other processes on a shared host is not counted.
    private static double ThreadCpuMs()
    {
        long* ts = stackalloc long[2];
        return ClockGetTime(3, ts) == 0 ? ts[0] * 1e3 + ts[1] / 1e6 : double.NaN;
    }

    private static readonly byte[] Near = new byte[8192], Far = new byte[8192], Up = new byte[8192], Rgb = new byte[3 * 8192];

    private static void UpsampleAll(JpegFrame frame)
    {
        fixed (byte* n = Near, f = Far, u = Up)
        {
            for (int c = 0; c < 2; c++)
            {
                for (int y = 0; y < frame.Height; y++) JpegUpsample.FancyH2V2(n, f, u, 0, frame.Width, (frame.Width + 1) / 2);
            }
        }
    }

    private static void ColourAll(JpegFrame frame)
    {
        fixed (byte* n = Near, f = Far, u = Up, o = Rgb)
        {
            for (int y = 0; y < frame.Height; y++) JpegColor.YccToRgb(n, f, u, o, 0, frame.Width);
        }
    }

    private static void IdctAll(JpegCoefficients all, byte[] scratch)
    {
        fixed (byte* o = scratch)
        {
            foreach (var (comp, ci) in all.Frame.Components.Select((c, i) => (c, i)))
            {
                int[] dq = JpegIdct.DequantTable(comp.Quant!);
                fixed (short* b = all.Blocks[ci])
                fixed (int* q = dq)
                {
                    for (int by = 0; by < comp.HeightInBlocks; by++)
                    {
                        short* row = b + (long)by * comp.BlocksPerLine * 64;
                        for (int bx = 0; bx < comp.WidthInBlocks; bx++) JpegIdct.Transform(row + bx * 64, q, o + (bx & 7) * 8, 64);
                    }
                }
            }
        }
    }
}
