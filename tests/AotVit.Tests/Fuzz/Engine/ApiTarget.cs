// `api`: random sequences of calls on the public C# API of one shared ImageClassifier (synthetic weights):
// wrong buffer sizes, batch 0 / -1 / huge / above MaxBatchPerCall, null arguments, bad `top`, random bytes as
// images, missing files, pre-cancelled tokens, TopK on wrong-length logits; every DisposeEvery-th input builds a
// fresh model and races Dispose against Run on another thread.
// Expected errors: the argument exception family, ObjectDisposedException, OperationCanceledException,
// ImageDecodeException, FileNotFoundException. Invariant: a successful classification of the reference pixels gives
// the reference logits bit for bit (no state leaks from earlier bad calls into later good ones).
using AotVit.Runtime;
using AotVit.Runtime.Imaging;

namespace AotVit.Fuzzing;

public sealed class ApiTarget : FuzzTarget
{
    private readonly int _disposeEvery;
    private readonly ModelOptions _options = new() { Threads = 1, MaxBatch = 2, MaxBatchPerCall = 8 };
    private readonly ImageClassifier _model;
    private readonly float[] _pixels;
    private readonly float[] _reference;

    public ApiTarget(int disposeEvery = 40)
    {
        _disposeEvery = disposeEvery;
        _model = ImageClassifier.CreateSynthetic("mobilevit-small", _options);
        _pixels = new float[_model.InputFloatsPerImage];
        for (int i = 0; i < _pixels.Length; i++) _pixels[i] = (i * 7 % 256) / 255f;
        _reference = _model.ClassifyPixelsBatch(1, _pixels, 0)[0].Logits;
    }

    public override string Name => "api";

    public override TimeSpan PerInputTimeout => TimeSpan.FromSeconds(60);

    public override void Dispose()
    {
        _model.Dispose();
        base.Dispose();
    }

    public override string? ExpectedError(Exception exception) => exception switch
    {
        InputException or ArgumentException or ObjectDisposedException or OperationCanceledException or ImageDecodeException or FileNotFoundException => Bucket(exception),
        _ => null,
    };

    private static readonly int[] Batches = [-1, 0, 1, 2, 3, 8, 9, int.MaxValue, int.MinValue, 1 << 20];

    public override FuzzCase Next(Random random, long index)
    {
        if (_disposeEvery > 0 && index % _disposeEvery == _disposeEvery - 1)
        {
            int delay = random.Next(0, 30);
            // The delay is part of the input; which call wins the race is up to the scheduler (by design).
            return new FuzzCase("dispose race", System.Text.Encoding.UTF8.GetBytes($"dispose race after {delay} ms"), ".txt", () => DisposeRace(delay));
        }
        var calls = new List<(string Name, Func<FuzzResult> Call)>();
        for (int n = random.Next(1, 5); n > 0; n--) calls.Add(NextCall(random));
        string kind = string.Join(", ", calls.Select(c => c.Name));
        return new FuzzCase(calls[^1].Name, System.Text.Encoding.UTF8.GetBytes(kind), ".txt", () =>
        {
            // Earlier calls may fail (expected errors); the last call's outcome is the input's outcome.
            for (int i = 0; i < calls.Count - 1; i++)
            {
                try { calls[i].Call(); }
                catch (Exception e) when (ExpectedError(e) is not null) { }
            }
            return calls[^1].Call();
        });
    }

    private (string, Func<FuzzResult>) NextCall(Random random)
    {
        int batch = random.Pick(Batches);
        int per = _model.InputFloatsPerImage;
        int Length(int b) => random.Next(4) == 0 ? Math.Max(0, (int)Math.Clamp((long)b * per + random.Next(-1, 2), 0, 64L * per)) : (int)Math.Clamp((long)b * per, 0, 64L * per);
        switch (random.Next(11))
        {
            case 0:
                {
                    int pixels = Length(batch), outputs = random.Next(4) == 0 ? random.Next(3000) : (int)Math.Clamp((long)batch * 1000, 0, 64_000);
                    bool second = random.Next(8) == 0;
                    return ($"Run(batch {batch}, pixels {pixels}, outputs {outputs}{(second ? ", second output 1" : "")})", () =>
                    {
                        _model.Run(batch, new float[pixels], new float[outputs], second ? new float[1] : default);
                        return FuzzResult.Ok("Run");
                    });
                }
            case 1:
                {
                    int pixels = Length(batch), top = random.Pick([-1, 0, 1, 5, 1000, 1001]);
                    return ($"ClassifyPixelsBatch(batch {batch}, pixels {pixels}, top {top})", () => { _model.ClassifyPixelsBatch(batch, new float[pixels], top); return FuzzResult.Ok("ClassifyPixelsBatch"); });
                }
            case 2:
                {
                    int count = random.Next(-1, 4);
                    List<RgbImage>? images = count < 0 ? null : Enumerable.Range(0, count).Select(i => i == 1 && random.Next(2) == 0 ? null! : SmallImage(random)).ToList();
                    string list = images is null ? "null" : "[" + string.Join(", ", images.Select(Describe)) + "]";
                    return ($"ClassifyBatch({list})", () =>
                    {
                        _model.ClassifyBatch(images!);
                        return FuzzResult.Ok("ClassifyBatch");
                    });
                }
            case 3:
                {
                    var bytes = new byte[random.Next(0, 64)];
                    random.NextBytes(bytes);
                    return ($"Classify({bytes.Length} random bytes {Fingerprint(bytes)})", () => { _model.Classify(bytes); return FuzzResult.Ok("Classify bytes"); });
                }
            case 4:
                {
                    string? path = random.Next(2) == 0 ? null : "/nonexistent/fuzz.png";
                    return ($"Classify(path {path ?? "null"})", () => { _model.Classify(path!); return FuzzResult.Ok("Classify path"); });
                }
            case 5:
                {
                    int length = random.Pick([0, 999, 1000, 1001, 5000]), k = random.Pick([-1, 0, 3, 1000, 1001]);
                    return ($"TopK({length} logits, {k})", () => { _model.TopK(new float[length], k); return FuzzResult.Ok("TopK"); });
                }
            case 6:
                {
                    int length = Length(1);
                    RgbImage image = SmallImage(random);
                    return ($"Preprocess({Describe(image)}, dest {length})", () => { _model.Preprocess(image, new float[length]); return FuzzResult.Ok("Preprocess"); });
                }
            case 7:
                return ("ClassifyPixelsBatch(cancelled)", () =>
                {
                    _model.ClassifyPixelsBatch(2, new float[2 * per], 5, new CancellationToken(canceled: true));
                    return FuzzResult.Ok("cancelled call ran");
                });
            case 8:
                return ("Preprocess(null)", () => { _model.Preprocess(null!); return FuzzResult.Ok("Preprocess null"); });
            default:
                return ("reference", () =>
                {
                    float[] logits = _model.ClassifyPixelsBatch(1, _pixels, 0)[0].Logits;
                    if (!logits.AsSpan().SequenceEqual(_reference)) throw new FuzzInvariantException("the reference image's logits changed after earlier calls");
                    return FuzzResult.Ok("reference logits");
                });
        }
    }

    private static RgbImage SmallImage(Random random)
    {
        int w = random.Next(1, 40), h = random.Next(1, 40);
        var pixels = new byte[w * h * 3];
        random.NextBytes(pixels);
        return new RgbImage(w, h, pixels);
    }

    private static string Describe(RgbImage? image) => image is null ? "null" : $"{image.Width}x{image.Height} {Fingerprint(image.Pixels)}";

    /// <summary>Run on one thread, Dispose on another after a delay: Run either completes or throws ObjectDisposedException.</summary>
    private FuzzResult DisposeRace(int delayMilliseconds)
    {
        var model = ImageClassifier.CreateSynthetic("mobilevit-small", _options);
        var pixels = new float[4 * model.InputFloatsPerImage];
        var runs = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            try { model.ClassifyPixelsBatch(4, pixels); return "ran"; }
            catch (ObjectDisposedException) { return "disposed"; }
        })).ToArray();
        Thread.Sleep(delayMilliseconds);
        model.Dispose();
        Task.WaitAll(runs);
        model.Dispose();   // twice: a no-op
        try
        {
            model.ClassifyPixelsBatch(1, pixels.AsSpan(0, model.InputFloatsPerImage));
            throw new FuzzInvariantException("a disposed model ran");
        }
        catch (ObjectDisposedException) { }
        return FuzzResult.Ok("dispose race: " + string.Join("/", runs.Select(r => r.Result).Order(StringComparer.Ordinal)));
    }
}
