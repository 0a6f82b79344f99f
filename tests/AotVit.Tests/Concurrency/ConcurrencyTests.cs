// One model instance shared by many threads, many instances side by side, Dispose racing with Run, and
// cancellation mid-batch. Results must be bit-identical to the single-threaded run: VisionModel serialises calls
// on one instance with a lock (one activation arena), and instances share nothing.
using AotVit.Tests.Models;
using Xunit;

namespace AotVit.Tests.Concurrency;

[Trait("Category", "Concurrency")]
public sealed class ConcurrencyTests(ViTFixture vit) : IClassFixture<ViTFixture>
{
    private const int Threads = 8;
    private static readonly ModelOptions Options = new() { Threads = 2, MaxBatch = 2 };

    private static float[] Pixels(VisionModel model, int seed)
    {
        var random = new Random(seed);
        var pixels = new float[model.InputFloatsPerImage];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (float)random.NextDouble();
        return pixels;
    }

    private static float[] Logits(ImageClassifier model, float[] pixels) => model.ClassifyPixelsBatch(1, pixels, 0)[0].Logits;

    [Fact]
    public void Shared_MobileViT_gives_bit_identical_results_from_8_threads()
    {
        using var model = ImageClassifier.CreateSynthetic("mobilevit-small", Options);
        const int perThread = 4;
        var inputs = Enumerable.Range(0, Threads * perThread).Select(i => Pixels(model, i)).ToArray();
        var expected = inputs.Select(p => Logits(model, p)).ToArray();
        var actual = new float[inputs.Length][];
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
        {
            for (int k = 0; k < perThread; k++) actual[t * perThread + k] = Logits(model, inputs[t * perThread + k]);
        });
        for (int i = 0; i < inputs.Length; i++) Assert.Equal(expected[i], actual[i]);
    }

    [Fact]
    public void Shared_MobileViT_classifies_a_large_JPEG_from_8_threads_while_decodes_borrow_its_threads()
    {
        // rocket.jpg is large enough for the two-thread decode, which takes the model's pool only while no forward
        // pass holds it; decodes and forwards of other callers interleave with it here.
        using var model = ImageClassifier.CreateSynthetic("mobilevit-small", Options);
        byte[] jpeg = File.ReadAllBytes(TestPaths.Data("images", "rocket.jpg"));
        float[] pixels = model.PreprocessEncoded(jpeg, useModelThreads: false);
        float[] expectedPixels = model.PreprocessEncoded(jpeg);
        Assert.Equal(pixels, expectedPixels);
        float[] expected = model.Classify(jpeg, 0).Logits;
        var failures = new List<string>();
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
        {
            for (int k = 0; k < 3; k++)
            {
                float[] got = (t % 2 == 0) ? model.Classify(jpeg, 0).Logits : Logits(model, model.PreprocessEncoded(jpeg));
                if (!got.AsSpan().SequenceEqual(expected))
                    lock (failures) failures.Add($"thread {t}, round {k}");
            }
        });
        Assert.Empty(failures);
    }

    [Fact]
    public void Separate_MobileViT_instances_on_8_threads_agree_bit_for_bit()
    {
        using var reference = ImageClassifier.CreateSynthetic("mobilevit-small", Options);
        var inputs = Enumerable.Range(0, 3).Select(i => Pixels(reference, 100 + i)).ToArray();
        var expected = inputs.Select(p => Logits(reference, p)).ToArray();
        var failures = new List<string>();
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
        {
            using var own = ImageClassifier.CreateSynthetic("mobilevit-small", Options);
            for (int i = 0; i < inputs.Length; i++)
                if (!Logits(own, inputs[i]).AsSpan().SequenceEqual(expected[i]))
                    lock (failures) failures.Add($"thread {t}, input {i}");
        });
        Assert.Empty(failures);
    }

    [Fact]
    public void Shared_ViT_gives_bit_identical_results_from_8_threads()
    {
        var model = vit.Model;
        var inputs = Enumerable.Range(0, Threads).Select(i => Pixels(model, 200 + i)).ToArray();
        var expected = inputs.Select(p => model.ExtractPixels(p)).ToArray();
        var actual = new Features[Threads];
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t => actual[t] = model.ExtractPixels(inputs[t]));
        for (int i = 0; i < Threads; i++)
        {
            Assert.Equal(expected[i].PoolerOutput, actual[i].PoolerOutput);
            Assert.Equal(expected[i].LastHiddenState, actual[i].LastHiddenState);
        }
    }

    [Fact]
    public async Task Dispose_racing_with_Run_gives_ObjectDisposedException_or_success()
    {
        for (int round = 0; round < 6; round++)
        {
            var model = ImageClassifier.CreateSynthetic("mobilevit-small", Options);
            var pixels = new float[3 * model.InputFloatsPerImage];
            var runs = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            {
                try { return model.ClassifyPixelsBatch(3, pixels).Length == 3 ? "ran" : "short"; }
                catch (ObjectDisposedException) { return "disposed"; }
            })).ToArray();
            await Task.Delay(round * 7);
            model.Dispose();
            string[] results = await Task.WhenAll(runs);
            Assert.All(results, r => Assert.Contains(r, new[] { "ran", "disposed" }));
            Assert.Throws<ObjectDisposedException>(() => model.ClassifyPixelsBatch(1, pixels.AsSpan(0, model.InputFloatsPerImage)));
            model.Dispose();
        }
    }

    [Fact]
    public void Cancellation_stops_a_batch_between_chunks()
    {
        // No clocks and no thread-pool timer: a dedicated thread watches the output buffer and cancels as soon as
        // the first chunk's logits are written. (CancelAfter runs on the thread pool, which the other test classes
        // running in parallel can starve for seconds on 2 cores; the whole batch then finished before the cancel.)
        using var model = ImageClassifier.CreateSynthetic("mobilevit-small", Options with { MaxBatch = 1 });
        var one = Pixels(model, 1);
        var expected = Logits(model, one);

        const int batch = 64;
        int classes = model.ClassCount;
        var pixels = new float[batch * model.InputFloatsPerImage];
        var logits = new float[batch * classes];
        logits.AsSpan().Fill(float.NaN);   // NaN = "this row was never written"
        using var cancel = new CancellationTokenSource();
        var watcher = new Thread(() =>
        {
            var spin = new SpinWait();
            while (float.IsNaN(Volatile.Read(ref logits[classes - 1]))) spin.SpinOnce(sleep1Threshold: -1);
            cancel.Cancel();
        }) { IsBackground = true, Name = "cancel-watcher" };
        watcher.Start();

        Assert.ThrowsAny<OperationCanceledException>(() => model.Run(batch, pixels, logits, default, cancel.Token));
        Assert.True(watcher.Join(TimeSpan.FromSeconds(30)), "the watcher never saw the first chunk");
        int written = 0;
        while (written < batch && !float.IsNaN(logits[written * classes])) written++;
        Assert.InRange(written, 1, batch - 1);
        // Chunks are written whole and in order: every row after the first unwritten one is untouched.
        for (int row = written; row < batch; row++)
            Assert.All(logits.AsSpan(row * classes, classes).ToArray(), v => Assert.True(float.IsNaN(v)));

        // Still usable afterwards, and a token that is never cancelled changes nothing.
        Assert.Equal(expected, model.ClassifyPixelsBatch(1, one, 0, CancellationToken.None)[0].Logits);
    }

    [Fact]
    public void Pre_cancelled_token_runs_nothing()
    {
        using var model = ImageClassifier.CreateSynthetic("mobilevit-small", Options);
        var token = new CancellationToken(canceled: true);
        var logits = new float[model.ClassCount];
        Assert.ThrowsAny<OperationCanceledException>(() => model.Run(1, new float[model.InputFloatsPerImage], logits, default, token));
        Assert.All(logits, v => Assert.Equal(0f, v));
        var image = new Runtime.Imaging.RgbImage(8, 8, new byte[8 * 8 * 3]);
        Assert.ThrowsAny<OperationCanceledException>(() => model.ClassifyBatch([image, image], 5, token));
        Assert.ThrowsAny<OperationCanceledException>(() => vit.Model.ExtractBatch([image], token));
        Assert.ThrowsAny<OperationCanceledException>(() => vit.Model.ExtractPixelsBatch(1, new float[vit.Model.InputFloatsPerImage], token));
    }
}
