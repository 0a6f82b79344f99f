// `aotvit selftest [--image chelsea.png] [--kernels]`: what a user runs on a new machine (an ARM64 board, a CPU without
// AVX-512) before trusting its results. --kernels runs part 1 only (the model forwards of part 2 take minutes under
// emulation; CI checks the models against the goldens separately).
//  1. Every kernel this binary runs on this CPU against its scalar double-precision Reference, on awkward shapes (tails
//     of every row/column block, several K blocks, strides, aliasing), on 1 thread and on a 2-thread pool. NativeAOT
//     compiles one SIMD path per kernel (the publish baseline: Vector512, Vector256 or Vector128/NEON), so the path
//     that runs here is the one every model uses.
//  2. One forward of each seed model on chelsea.png (shipped next to aotvit) with its synthetic seed-0 checkpoint,
//     against values taken from the PyTorch goldens (tests/AotVit.Tests/data/golden/*_chelsea.safetensors): sampled
//     elements within 5e-5, and the output's sum and L2 norm within the bounds those 5e-5 per element imply.
// Prints one line per check (numbers in the invariant culture: InvariantGlobalization); exit code 0 when all pass,
// 4 on any mismatch (2 when the image is missing).
using AotVit.Runtime.Diagnostics;
using AotVit.Runtime.Kernels;
using AotVit.Runtime.Threading;

namespace AotVit.Cli;

internal static unsafe class SelfTest
{
    public const int MismatchExitCode = 4;
    private const double ModelTolerance = 5e-5;

    private static int s_checks, s_failures;

    public static int Run(Options o)
    {
        bool models = !o.Has("--kernels");
        if (!models && o.Get("--image") is not null) throw new UsageException("--image is for the model checks, which --kernels leaves out");
        string image = o.Get("--image") ?? Path.Combine(AppContext.BaseDirectory, "chelsea.png");
        if (models && !File.Exists(image))
            throw new FileNotFoundException($"selftest needs chelsea.png (published next to aotvit; tests/AotVit.Tests/data/images/chelsea.png in the repo): not found at {image}; pass --image PATH");
        StdStream.Out.WriteLine($"aotvit selftest: {(MachineInfo.IsNativeAot ? "NativeAOT" : "JIT")}, kernels {MachineInfo.SimdDescription}, {Environment.ProcessorCount} cores");
        using var pool = new WorkerPool(2);
        foreach (var threads in new[] { 1, 2 })
        {
            WorkerPool? p = threads == 1 ? null : pool;
            foreach (int[] g in GemmShapes) CheckGemm(p, g[0], g[1], g[2]);
            foreach (int[] l in LayerNormShapes) CheckLayerNorm(p, l[0], l[1]);
            foreach (int[] a in AttentionShapes) CheckAttention(p, a[0], a[1], a[2], a[3]);
            foreach (int[] c in ConvShapes) CheckConv(p, c[0], c[1], c[2], c[3], c[4], c[5], c[6]);
            foreach (int[] d in DepthwiseShapes) CheckDepthwise(p, d[0], d[1], d[2], d[3]);
            foreach (int[] g in Int8GemmShapes) CheckInt8Gemm(p, g[0], g[1], g[2]);
        }
        CheckElementwise();
        StdStream.Out.WriteLine($"  kernels: {s_checks} checks, {s_failures} failed");

        int kernelFailures = s_failures;
        if (models)
        {
            CheckMobileViT(image);
            CheckViT(image);
        }
        StdStream.Out.WriteLine(s_failures == 0
            ? $"selftest: all {s_checks} checks passed"
            : $"selftest: FAILED: {s_failures} of {s_checks} checks ({kernelFailures} kernel, {s_failures - kernelFailures} model)");
        return s_failures == 0 ? 0 : MismatchExitCode;
    }

    // Shapes as int arrays, not tuples: each tuple arity is more generic code in the NativeAOT binary.
    // GEMM {M, N, K}: row-block tails (8/10/6-row kernels), column tails of a 32-wide panel, K over one 256 block, panel runs.
    private static readonly int[][] GemmShapes =
        [[1, 1, 1], [7, 15, 27], [9, 33, 17], [10, 40, 5], [17, 64, 257], [15, 64, 48], [13, 96, 256], [50, 96, 64], [30, 200, 520], [90, 3072, 40]];
    private static readonly int[][] LayerNormShapes = [[1, 1], [3, 7], [5, 33], [50, 768], [17, 144]];                 // rows, cols
    private static readonly int[][] AttentionShapes = [[1, 50, 12, 64], [2, 17, 3, 32], [1, 1, 1, 5], [1, 33, 2, 70], [3, 9, 2, 36]]; // sequences, tokens, heads, head dim
    // h, w, c0, c1 (concatenated input), cout, kernel, stride: the 3→16 stem, a 1×1, a concat, a strided 3×3
    private static readonly int[][] ConvShapes = [[9, 11, 3, 0, 16, 3, 2], [8, 8, 5, 0, 21, 1, 1], [7, 6, 4, 3, 10, 3, 1], [10, 9, 6, 2, 40, 3, 2]];
    private static readonly int[][] DepthwiseShapes = [[7, 9, 17, 1], [8, 8, 33, 2], [1, 1, 4, 1]];                  // h, w, c, stride

    private static void CheckGemm(WorkerPool? pool, int m, int n, int k)
    {
        using var a = Random((long)m * k, 1);
        using var bias = Random(n, 2);
        float[] b = RandomArray(k * n, 3, 1f / MathF.Sqrt(k));
        using var packed = PackedMatrix.FromKN(b, k, n);
        int ldc = n + 3;
        using var expected = new NativeBuffer((long)m * ldc);
        using var actual = new NativeBuffer((long)m * ldc);
        for (var act = Activation.None; act <= Activation.Tanh; act++)
        {
            using var residual = Random((long)m * ldc, 4);
            fixed (float* bp = b)
                Gemm.Reference(m, n, k, a.Pointer, k, bp, n, bias.Pointer, act, residual.Pointer, ldc, expected.Pointer, ldc);
            Gemm.Run(pool, m, a.Pointer, k, packed, bias.Pointer, act, residual.Pointer, ldc, actual.Pointer, ldc);
            Compare($"gemm {m}x{n}x{k} {Name(act)}", pool, expected.Pointer, actual.Pointer, m, n, ldc, 2e-6 * Math.Sqrt(k) + 1e-6);
        }
    }

    // int8 GEMM {M, N, K}: row tails of the 4/5-row kernels, narrow last panels, K not a multiple of 4, ViT's 50 × 768.
    private static readonly int[][] Int8GemmShapes = [[1, 1, 1], [5, 17, 3], [7, 130, 63], [13, 64, 4], [50, 65, 768]];

    /// <summary>
    /// int8 GEMM on values that quantize exactly: every A row holds integers in [0, 127] including 0 and 127 (scale 1,
    /// zero point 0), every weight row integers in [−127, 127] including ±127 (scale 1). The int8 result is then the exact
    /// integer product (below 2^24, so exact in float too) plus the epilogue, and must match the float reference.
    /// </summary>
    private static void CheckInt8Gemm(WorkerPool? pool, int m, int n, int k)
    {
        var a = new float[(long)m * k];
        var w = new float[(long)n * k];
        var b = new float[(long)k * n];
        uint state = (uint)(m * 7919 + n * 104729 + k);
        for (int i = 0; i < a.Length; i++) { state = state * 1664525 + 1013904223; a[i] = (state >> 8) % 128; }
        for (int i = 0; i < m; i++) { a[(long)i * k] = 0; a[(long)i * k + k - 1] = 127; }
        for (int i = 0; i < w.Length; i++) { state = state * 1664525 + 1013904223; w[i] = (int)((state >> 8) % 255) - 127; }
        for (int j = 0; j < n; j++) w[(long)j * k + (j % k)] = j % 2 == 0 ? 127 : -127;
        for (int j = 0; j < n; j++)
            for (int p = 0; p < k; p++) b[(long)p * n + j] = w[(long)j * k + p];
        if (k == 1) for (int i = 0; i < m; i++) a[i] = 127;   // one column: the row's only value is its max
        using var int8 = Int8Matrix.FromOutIn(w, n, k);
        using var bias = Random(n, 2);
        int ldc = n + 3;
        using var expected = new NativeBuffer((long)m * ldc);
        using var actual = new NativeBuffer((long)m * ldc);
        for (var act = Activation.None; act <= Activation.Gelu; act++)   // None, Gelu: a range, not an Activation[] (see Name)
        {
            using var residual = Random((long)m * ldc, 4);
            fixed (float* ap = a)
            fixed (float* bp = b)
            {
                Gemm.Reference(m, n, k, ap, k, bp, n, bias.Pointer, act, residual.Pointer, ldc, expected.Pointer, ldc);
                Int8Gemm.Run(pool, m, ap, k, int8, bias.Pointer, act, residual.Pointer, ldc, actual.Pointer, ldc);
            }
            Compare($"int8 gemm {m}x{n}x{k} {Name(act)}", pool, expected.Pointer, actual.Pointer, m, n, ldc, 1e-5);
        }
    }

    private static void CheckLayerNorm(WorkerPool? pool, int rows, int cols)
    {
        int ld = cols + 5;
        using var x = Random((long)rows * ld, 5, 3f);
        using var gamma = Random(cols, 6);
        using var beta = Random(cols, 7);
        using var expected = new NativeBuffer((long)rows * ld);
        using var actual = new NativeBuffer((long)rows * ld);
        LayerNorm.Reference(rows, cols, x.Pointer, ld, gamma.Pointer, beta.Pointer, 1e-5f, expected.Pointer, ld);
        LayerNorm.Run(pool, rows, cols, x.Pointer, ld, gamma.Pointer, beta.Pointer, 1e-5f, actual.Pointer, ld);
        Compare($"layernorm {rows}x{cols}", pool, expected.Pointer, actual.Pointer, rows, cols, ld, 2e-5);
    }

    private static void CheckAttention(WorkerPool? pool, int sequences, int tokens, int heads, int headDim)
    {
        int width = heads * headDim, ldqkv = 3 * width + 2, ldo = width + 3;
        long rows = (long)sequences * tokens;
        using var qkv = Random(rows * ldqkv, 8, 2f);
        using var expected = new NativeBuffer(rows * ldo);
        using var actual = new NativeBuffer(rows * ldo);
        float scale = 1f / MathF.Sqrt(headDim);
        float* q = qkv.Pointer, k = q + width, v = q + 2 * width;
        Attention.Reference(sequences, tokens, heads, headDim, scale, q, k, v, ldqkv, expected.Pointer, ldo);
        // Both variants the generator may pick for a model's shape (key panels, query lanes).
        Attention.RunKeyPanels(pool, sequences, tokens, heads, headDim, scale, q, k, v, ldqkv, actual.Pointer, ldo);
        Compare($"attention (key panels) {sequences}x{tokens} tokens, {heads}x{headDim}", pool, expected.Pointer, actual.Pointer, (int)rows, width, ldo, 2e-5);
        Attention.RunQueryLanes(pool, sequences, tokens, heads, headDim, scale, q, k, v, ldqkv, actual.Pointer, ldo);
        Compare($"attention (query lanes) {sequences}x{tokens} tokens, {heads}x{headDim}", pool, expected.Pointer, actual.Pointer, (int)rows, width, ldo, 2e-5);
    }

    private static void CheckConv(WorkerPool? pool, int h, int w, int c0, int c1, int cout, int kernel, int stride)
    {
        const int batch = 2;
        int cin = c0 + c1, k = kernel * kernel * cin;
        long pixels = (long)batch * h * w;
        using var in0 = Random(pixels * c0, 9);
        using var in1 = Random(Math.Max(1, pixels * c1), 10);
        using var concat = new NativeBuffer(pixels * cin);
        for (long px = 0; px < pixels; px++)
            for (int ch = 0; ch < cin; ch++)
                concat.Pointer[px * cin + ch] = ch < c0 ? in0.Pointer[px * c0 + ch] : in1.Pointer[px * c1 + ch - c0];
        float[] weight = RandomArray(k * cout, 11, 1f / MathF.Sqrt(k));
        using var packed = PackedMatrix.FromKN(weight, k, cout);
        using var bias = Random(cout, 12);
        int pad = (kernel - 1) / 2, hOut = (h + 2 * pad - kernel) / stride + 1, wOut = (w + 2 * pad - kernel) / stride + 1;
        int outRows = batch * hOut * wOut;
        using var expected = new NativeBuffer((long)outRows * cout);
        using var actual = new NativeBuffer((long)outRows * cout);
        fixed (float* wp = weight)
            Conv2d.Reference(batch, h, w, cin, concat.Pointer, cout, kernel, stride, 1, wp, bias.Pointer, Activation.Silu, expected.Pointer);
        Conv2d.Run(pool, batch, h, w, in0.Pointer, c0, c1 == 0 ? null : in1.Pointer, c1, kernel, stride, packed, bias.Pointer, Activation.Silu, actual.Pointer);
        Compare($"conv {kernel}x{kernel}/{stride} {h}x{w}x({c0}+{c1})→{cout} silu", pool, expected.Pointer, actual.Pointer, outRows, cout, cout, 2e-6 * Math.Sqrt(k) + 1e-6);
        if (c1 == 0 && cout == 16 && kernel > 1 && c0 <= 4)
        {
            // The direct variant the generator names for such a shape (MobileViT's stem).
            Conv2d.RunDirect16(pool, batch, h, w, in0.Pointer, c0, kernel, stride, packed, bias.Pointer, Activation.Silu, actual.Pointer);
            Compare($"conv (direct 16) {kernel}x{kernel}/{stride} {h}x{w}x{c0}→16 silu", pool, expected.Pointer, actual.Pointer, outRows, cout, cout, 2e-6 * Math.Sqrt(k) + 1e-6);
        }
    }

    private static void CheckDepthwise(WorkerPool? pool, int h, int w, int c, int stride)
    {
        const int batch = 2;
        using var input = Random((long)batch * h * w * c, 13);
        using var weight = Random(9L * c, 14);
        using var bias = Random(c, 15);
        int outRows = batch * ((h - 1) / stride + 1) * ((w - 1) / stride + 1);
        using var expected = new NativeBuffer((long)outRows * c);
        using var actual = new NativeBuffer((long)outRows * c);
        Conv2d.Reference(batch, h, w, c, input.Pointer, c, 3, stride, c, weight.Pointer, bias.Pointer, Activation.Silu, expected.Pointer);
        Conv2d.Depthwise3x3(pool, batch, h, w, c, input.Pointer, stride, weight.Pointer, bias.Pointer, Activation.Silu, actual.Pointer);
        Compare($"depthwise 3x3/{stride} {h}x{w}x{c} silu", pool, expected.Pointer, actual.Pointer, outRows, c, c, 1e-5);
    }

    private static void CheckElementwise()
    {
        const int n = 1037;   // not a multiple of any vector width
        using var x = Random(n, 16, 9f);
        using var y = Random(n, 17, 9f);
        using var expected = new NativeBuffer(n);
        using var actual = new NativeBuffer(n);
        for (var act = Activation.None; act <= Activation.Tanh; act++)
        {
            Elementwise.ReferenceApply(act, n, x.Pointer, expected.Pointer);
            Elementwise.Apply(act, n, x.Pointer, actual.Pointer);
            Compare($"activation {Name(act)} x{n}", null, expected.Pointer, actual.Pointer, 1, n, n, 2e-6);
        }
        Elementwise.ReferenceAdd(n, x.Pointer, y.Pointer, expected.Pointer);
        Elementwise.Add(n, x.Pointer, y.Pointer, actual.Pointer);
        Compare($"add x{n}", null, expected.Pointer, actual.Pointer, 1, n, n, 1e-7);
        const int batch = 3, hw = 49, c = 37;
        using var pooled = Random((long)batch * hw * c, 18);
        Pooling.Reference(batch, hw, c, pooled.Pointer, expected.Pointer);
        Pooling.GlobalAverage(batch, hw, c, pooled.Pointer, actual.Pointer);
        Compare($"global average {batch}x{hw}x{c}", null, expected.Pointer, actual.Pointer, batch, c, c, 1e-6);
    }

    // Values from tests/AotVit.Tests/data/golden/mobilevit-small_chelsea.safetensors (PyTorch float32, synthetic seed 0):
    // logits[0, i] for i = 0, 125, …, 875, their top 5, and Σ logits and Σ logits² in float64.
    private static readonly float[] MobileViTLogits = [-0.037995405f, 0.044960365f, -0.11418682f, -0.017198706f, 0.02634144f, -0.021214958f, 0.2253121f, -0.01757555f];
    private static readonly int[] MobileViTTop5 = [14, 101, 944, 520, 954];

    private static void CheckMobileViT(string image)
    {
        long start = Environment.TickCount64;
        using var model = ImageClassifier.CreateSynthetic("mobilevit-small", new ModelOptions { Threads = 2 });
        var result = model.Classify(image, top: 5);
        string what = $"mobilevit-small forward ({Path.GetFileName(image)}, synthetic seed 0, {Environment.TickCount64 - start} ms with load)";
        var top = new int[result.Top.Count];
        bool topSame = top.Length == MobileViTTop5.Length;
        for (int i = 0; i < top.Length; i++)
        {
            top[i] = result.Top[i].ClassIndex;
            topSame &= i < MobileViTTop5.Length && top[i] == MobileViTTop5[i];
        }
        CheckOutput(what + " logits", result.Logits, 125, MobileViTLogits, -6.048355782870203, 12.580656648570068);
        Report($"{what} top-5 {string.Join(",", top)}", topSame, topSame ? "" : $"golden {string.Join(",", MobileViTTop5)}");
    }

    // Values from tests/AotVit.Tests/data/golden/vit-base-patch32-224-in21k_chelsea.safetensors: pooler_output[i] for
    // i = 0, 96, …, 672 and last_hidden_state (flattened) at 0, 4801, …, 33607, with Σ and Σ² of each in float64.
    private static readonly float[] VitPooler = [0.82412636f, -0.181063f, -0.39763877f, -0.6932831f, 0.021684764f, -0.07947449f, 0.05507767f, 0.43979788f];
    private static readonly float[] VitHidden = [-1.6287898f, -0.06742277f, 1.5467699f, 0.20082468f, 0.5426089f, 0.8635368f, 0.41141716f, 0.9607328f];

    private static void CheckViT(string image)
    {
        long start = Environment.TickCount64;
        using var model = FeatureExtractor.CreateSynthetic("vit-base-patch32-224-in21k", new ModelOptions { Threads = 2 });
        var features = model.Extract(image);
        string what = $"vit-base-patch32-224-in21k forward ({Path.GetFileName(image)}, synthetic seed 0, {Environment.TickCount64 - start} ms with load)";
        CheckOutput(what + " pooler_output", features.PoolerOutput ?? [], 96, VitPooler, 23.083979604183696, 168.85652028906162);
        CheckOutput(what + " last_hidden_state", features.LastHiddenState, 4801, VitHidden, 1.0808960429676517, 38607.76525931195);
    }

    /// <summary>values[i·stride] against <paramref name="samples"/> within 5e-5 each; Σ and the L2 norm within the bounds
    /// that 5e-5 per element implies (n·5e-5 and √n·5e-5).</summary>
    private static void CheckOutput(string what, float[] values, int stride, float[] samples, double sum, double sumOfSquares)
    {
        double worst = 0, s = 0, s2 = 0;
        for (int i = 0; i < samples.Length && i * stride < values.Length; i++) worst = Math.Max(worst, Math.Abs((double)values[i * stride] - samples[i]));
        foreach (float v in values) { s += v; s2 += (double)v * v; }
        int n = values.Length;
        bool ok = n > (samples.Length - 1) * stride && worst <= ModelTolerance
                  && Math.Abs(s - sum) <= n * ModelTolerance && Math.Abs(Math.Sqrt(s2) - Math.Sqrt(sumOfSquares)) <= Math.Sqrt(n) * ModelTolerance;
        Report(what, ok, $"max |diff| of {samples.Length} samples {worst:E1}, Σ {s:F5} (golden {sum:F5}), L2 {Math.Sqrt(s2):F5} (golden {Math.Sqrt(sumOfSquares):F5})");
    }

    private static void Compare(string what, WorkerPool? pool, float* expected, float* actual, int rows, int cols, int ld, double tolerance)
    {
        double worst = 0;
        bool ok = true;
        for (long r = 0; r < rows; r++)
            for (long c = 0; c < cols; c++)
            {
                double e = expected[r * ld + c], error = Math.Abs(actual[r * ld + c] - e);
                worst = Math.Max(worst, error);
                ok &= error <= tolerance * (1 + Math.Abs(e));   // false for NaN
            }
        // The summary line counts these; only a mismatch prints its own line.
        s_checks++;
        if (!ok)
        {
            s_failures++;
            StdStream.Out.WriteLine($"  FAIL {what}, {(pool is null ? 1 : pool.ThreadCount)} thread(s): max |diff| {worst:E2} over tolerance {tolerance:E1}·(1 + |x|)");
        }
    }

    private static void Report(string what, bool ok, string detail)
    {
        s_checks++;
        if (!ok) s_failures++;
        StdStream.Out.WriteLine($"  {(ok ? "ok  " : "FAIL")} {what}{(detail.Length > 0 ? ": " + detail : "")}");
    }

    // Spelled out: formatting an enum value needs the runtime's enum formatting and reflection metadata (~30 KB in
    // NativeAOT). For the same reason the checks walk the activations as a range (None..Tanh), never as an Activation[]:
    // an array of an enum type keeps that formatting code in the binary too.
    private static string Name(Activation act) => act switch
    {
        Activation.None => "none", Activation.Gelu => "gelu", Activation.Silu => "silu", Activation.Tanh => "tanh", _ => "?",
    };

    /// <summary>Uniform values in [−scale, scale) from a fixed seed (xorshift; the same on every platform).</summary>
    private static NativeBuffer Random(long floats, int seed, float scale = 1f)
    {
        var buffer = new NativeBuffer(floats);
        ulong state = 0x9E3779B97F4A7C15UL * (ulong)(seed + 1);
        for (long i = 0; i < floats; i++)
        {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            buffer.Pointer[i] = ((state >> 40) / (float)(1 << 24) * 2 - 1) * scale;
        }
        return buffer;
    }

    private static float[] RandomArray(int floats, int seed, float scale)
    {
        using var buffer = Random(floats, seed, scale);
        return buffer.AsSpan().ToArray();
    }
}
