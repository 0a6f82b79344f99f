// The two-thread JPEG decode (JpegOverlap: entropy decoding ahead of the pixel stage through a ring of MCU rows) gives
// the one-thread decode's bytes and errors on every corpus file, never hangs when either side fails, and is what the
// model's file paths use when the model has threads and is idle.
using System.Security.Cryptography;
using AotVit.Runtime.Imaging;
using AotVit.Runtime.Imaging.Jpeg;
using AotVit.Runtime.Threading;
using Xunit;

namespace AotVit.Tests.Imaging.Jpeg;

public sealed class JpegOverlapTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    // "sha256:…" of the decode, or "error:…" (ImageDecodeException); anything else escapes.
    private static string Outcome(byte[] data, WorkerPool? pool, bool anySize = true)
    {
        try
        {
            JpegReader reader = JpegDecoder.ReadHeader(data, null);
            RgbImage image = JpegDecoder.Decode(reader, data, pool, anySize);
            return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(image.Pixels));
        }
        catch (ImageDecodeException e)
        {
            return "error:" + e.Message;
        }
    }

    // Runs f on another thread and fails instead of hanging the suite.
    private static T WithinPatience<T>(Func<T> f)
    {
        var task = Task.Run(f);
        Assert.True(task.Wait(Patience), "the two-thread decode did not finish (hang)");
        return task.Result;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Every_corpus_file_decodes_as_on_one_thread(int threads)
    {
        using var pool = new WorkerPool(threads);
        var failures = new List<string>();
        int overlapped = 0;
        foreach (var e in JpegCorpusEntry.Corpus.Value)
        {
            byte[] data = File.ReadAllBytes(e.Path);
            string one = Outcome(data, null);
            string two = WithinPatience(() => Outcome(data, pool));
            if (one != two) failures.Add($"{e.File}: one thread {one}, two threads {two}");
            if (one.StartsWith("sha256:", StringComparison.Ordinal) && !e.On.StartsWith("error:", StringComparison.Ordinal))
            {
                try
                {
                    if (JpegDecoder.ReadHeader(data, null).IsSingleScan) overlapped++;
                }
                catch (ImageDecodeException)
                {
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(overlapped >= 200, $"only {overlapped} single-scan corpus files went through the two-thread path");
    }

    [Fact]
    public void Truncated_and_corrupted_files_fail_as_on_one_thread()
    {
        byte[] good = File.ReadAllBytes(TestPaths.Data("images", "rocket.jpg"));
        using var pool = new WorkerPool(2);
        var failures = new List<string>();
        var rng = new Random(15);
        for (int i = 0; i < 40; i++)
        {
            byte[] bad;
            if (i < 20)
            {
                bad = good[..(good.Length * (i + 1) / 21)];                // truncated inside the scan
            }
            else
            {
                bad = (byte[])good.Clone();                                  // bytes of the scan overwritten
                for (int k = 0; k < 8; k++) bad[rng.Next(1000, bad.Length - 2)] = (byte)rng.Next(256);
            }
            string one = Outcome(bad, null);
            string two = WithinPatience(() => Outcome(bad, pool));
            if (one != two) failures.Add($"case {i}: one thread {one}, two threads {two}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private sealed class FailingSink(int failAtRow) : IRgbRowSink
    {
        public int Rows;

        public void OnRows(int y, int count, ReadOnlySpan<byte> rgb, int strideBytes)
        {
            if (y + count > failAtRow) throw new InvalidOperationException($"sink fails at row {failAtRow}");
            Rows += count;
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(426)]
    public void A_failing_pixel_stage_stops_the_entropy_side(int failAtRow)
    {
        byte[] data = File.ReadAllBytes(TestPaths.Data("images", "rocket.jpg"));
        using var pool = new WorkerPool(2);
        var error = WithinPatience(() =>
        {
            JpegReader reader = JpegDecoder.ReadHeader(data, null);
            var pipeline = new JpegPixelPipeline(reader.Frame, null, new FailingSink(failAtRow), null);
            return Record.Exception(() => JpegOverlap.Run(reader, data, pipeline, pool));
        });
        Assert.IsType<InvalidOperationException>(error);
        Assert.Equal($"sink fails at row {failAtRow}", error.Message);
        // The pool is usable afterwards.
        Assert.Equal(Outcome(data, null), Outcome(data, pool));
    }

    [Fact]
    public void Streaming_into_the_preprocessor_gives_the_one_thread_pixel_values()
    {
        byte[] data = File.ReadAllBytes(TestPaths.Data("images", "rocket.jpg"));
        var plan = new PreprocessPlan(new ResizeMode.ShortestEdge(288), (256, 256), 1 / 255.0, null, true);
        using var pool = new WorkerPool(2);
        float[] Run(WorkerPool? p)
        {
            var values = new float[3 * 256 * 256];
            using var s = ImageDecoder.DecodeStreaming(data, plan, pool: p);
            s.Finish(values);
            return values;
        }
        Assert.True(JpegOverlap.Worthwhile(JpegDecoder.ReadHeader(data, null).Frame), "rocket.jpg should take the two-thread path by size");
        Assert.Equal(Run(null), Run(pool));
    }
}
