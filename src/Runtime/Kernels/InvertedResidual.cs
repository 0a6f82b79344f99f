// InvertedResidual: MobileNetV2's block (HF MobileViTInvertedResidual) as one pass over bands of output rows:
//   expand 1x1 (+ bias, act) → depthwise 3x3, stride 1 or 2 (+ bias, act) → reduce 1x1 (+ bias) (+ residual).
// Run as three kernels, the expanded and depthwise tensors (H·W·Cexp floats, 8 MiB per image for MobileViT-S's
// encoder.layer.1.layer.0) are written to L3/DRAM by one parallel loop and read back by the next. Here each thread
// expands only the input rows its band of output rows reads, into a ring of rows that stays in its L2, runs the
// depthwise into a band buffer (also L2) and reduces that straight into the output.
//
// The ring holds the last RingRows expanded input rows, tagged by (image, row): a thread that goes on with the next band
// of its own share (the WorkerPool hands each thread a contiguous share, front first) finds the rows the two bands share
// already expanded; only a band that starts elsewhere (a steal, or a thread's first band) recomputes its halo rows.
// The tags are valid for one Run only (the job id).
// The result is bit-identical to running the three kernels one after another: every output element is computed by the
// same kernels with the same summation order (tests/…/InvertedResidualTests).
using AotVit.Runtime.Kernels.Common;
using AotVit.Runtime.Threading;

namespace AotVit.Runtime.Kernels;

/// <summary>A fused MobileNetV2 inverted-residual block over NHWC feature maps.</summary>
/// <remarks>Infrastructure for the generated model code (AotVit.Models.*), public because that code lives in another
/// assembly; not part of the supported API (use VisionModel, ImageClassifier, FeatureExtractor).</remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static unsafe class InvertedResidual
{
    // Ring and band buffer together, in floats (128 KiB): one-row bands for every MobileViT-S block. KernelBench mv2, best of,
    // 2 threads, summed over its 6 blocks: 32 Ki floats 3.1 ms, 64 Ki 3.2, 160 Ki 3.2, 256 Ki 3.4 (wider bands gain nothing
    // at 1 thread and lose L2 room at 2).
    private const long BudgetFloats = 32 * 1024;
    // At least this many output pixels per band, so that the reduce GEMM is not a few rows long (MobileViT-S's
    // encoder.layer.4 is 8 pixels wide: one-row bands gave 8-row GEMMs, which the 6-row AVX2 kernel runs as 6 + 2).
    // KernelBench mv2, 1 thread, 16×16 block: AVX2 0.545 → 0.484 ms, AVX-512 unchanged (0.222–0.226).
    private const int MinBandPixels = 48;

    // Ring rows start one cache line (16 floats) past the end of the previous row: a row of W·Cexp floats is a multiple
    // of 4 KiB for every MobileViT block, and rows that far apart would fall into the same L1 sets as the three rows the
    // depthwise reads together (and each row's pixels, Cexp floats apart, already share few sets).
    private const int RingSkew = 16;
    private static long s_nextJobId;
    [ThreadStatic] private static long t_jobId;
    [ThreadStatic] private static int[]? t_tags;

    // The geometry lives in the three sub-jobs: H, W, HOut, WOut, Stride and Cexp (= C) in Depthwise, Cin = Expand.K,
    // Cout = Reduce.N.
    private struct Job
    {
        public int BandRows, RingRows;
        public long RowStride;        // floats between ring rows: W·Cexp + RingSkew
        public float* Input;          // [batch, H, W, Cin]
        public Gemm.Job Expand;       // B, K = Cin, N = Cexp, Panels, Bias, Act of the expand GEMM
        public Conv2d.DepthwiseJob Depthwise;
        public Gemm.Job Reduce;       // B, K = Cexp, N = Cout, Panels, Bias, Act of the reduce GEMM
        public float* Residual;       // [batch, HOut, WOut, Cout] or null
        public float* Output;         // [batch, HOut, WOut, Cout]
        public long Id;
    }

    /// <summary>
    /// output = reduce(depthwise(expand(input))) + residual, where expand(x) = expandAct(x·E + expandBias) per pixel,
    /// depthwise is <see cref="Conv2d.Depthwise3x3"/> with <paramref name="stride"/>, and reduce(y) = y·R + reduceBias.
    /// </summary>
    /// <param name="input">[batch, h, w, Cin], Cin = expand.K</param>
    /// <param name="expand">[Cin, Cexp] packed</param>
    /// <param name="expandBias">[Cexp] or null</param>
    /// <param name="taps">[9, Cexp] depthwise taps, ky·3 + kx major</param>
    /// <param name="depthwiseBias">[Cexp] or null</param>
    /// <param name="reduce">[Cexp, Cout] packed</param>
    /// <param name="reduceBias">[Cout] or null</param>
    /// <param name="residual">[batch, hOut, wOut, Cout] or null; may be <paramref name="input"/> (stride 1, Cin = Cout)</param>
    /// <param name="output">[batch, hOut, wOut, Cout], hOut = (h − 1)/stride + 1; must not overlap input or residual</param>
    public static void Run(WorkerPool? pool, int batch, int h, int w, float* input,
                           PackedMatrix expand, float* expandBias, Activation expandAct,
                           int stride, float* taps, float* depthwiseBias, Activation depthwiseAct,
                           PackedMatrix reduce, float* reduceBias, float* residual, float* output)
    {
        ArgumentNullException.ThrowIfNull(expand);
        ArgumentNullException.ThrowIfNull(reduce);
        if (batch < 1 || h < 1 || w < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(batch), $"batch {batch}, h {h}, w {w} must all be positive.");
        }

        if (stride is not (1 or 2))
        {
            throw new ArgumentOutOfRangeException(nameof(stride), stride, "stride must be 1 or 2.");
        }

        if (reduce.K != expand.N)
        {
            throw new ArgumentException($"reduce has K = {reduce.K} but expand produces {expand.N} channels.", nameof(reduce));
        }

        if (input == null || taps == null || output == null)
        {
            throw new ArgumentNullException(input == null ? nameof(input) : taps == null ? nameof(taps) : nameof(output));
        }

        int hOut = (h - 1) / stride + 1, wOut = (w - 1) / stride + 1;
        long inputFloats = (long)batch * h * w * expand.K, outputFloats = (long)batch * hOut * wOut * reduce.N;
        if (Overlaps(output, outputFloats, input, inputFloats) || (residual != null && residual != output && Overlaps(output, outputFloats, residual, outputFloats)))
        {
            throw new ArgumentException("output must not overlap the input or the residual: bands read input rows that other bands write.", nameof(output));
        }

        int cexp = expand.N;
        long inRow = (long)w * cexp, ringRow = inRow + RingSkew, dwRow = (long)wOut * cexp;
        // ring((R − 1)·s + 3 rows, RowStride apart) + band(R rows) within the budget; at least 2 bands per thread when
        // there is more than one.
        int bandRows = (int)Math.Clamp((BudgetFloats - (3 - stride) * ringRow) / (stride * ringRow + dwRow), 1, hOut);
        bandRows = Math.Min(hOut, Math.Max(bandRows, (MinBandPixels + wOut - 1) / wOut));
        int threads = pool?.ThreadCount ?? 1;
        if (threads > 1)
        {
            bandRows = Math.Max(1, Math.Min(bandRows, batch * hOut / (2 * threads)));
        }

        Job job = new()
        {
            BandRows = bandRows, RingRows = (bandRows - 1) * stride + 3, RowStride = ringRow, Input = input,
            Expand = new Gemm.Job { B = expand.Data, K = expand.K, N = cexp, Panels = expand.Panels, Bias = expandBias, Act = expandAct },
            Depthwise = new Conv2d.DepthwiseJob
            {
                H = h, W = w, C = cexp, Stride = stride, HOut = hOut, WOut = wOut, Weight = taps, Bias = depthwiseBias, Act = depthwiseAct,
            },
            Reduce = new Gemm.Job { B = reduce.Data, K = cexp, N = reduce.N, Panels = reduce.Panels, Bias = reduceBias, Act = Activation.None },
            Residual = residual, Output = output, Id = Interlocked.Increment(ref s_nextJobId),
        };
        int rows = batch * hOut;
        if (pool == null)
        {
            RunRows(&job, 0, rows);
        }
        else
        {
            pool.For(rows, &RunRows, &job, bandRows);
        }
    }

    private static bool Overlaps(float* a, long aFloats, float* b, long bFloats) => a < b + bFloats && b < a + aFloats;

    // Output rows [begin, end) of all images (row = b·HOut + oy), in bands of at most BandRows rows within one image.
    private static void RunRows(void* context, int begin, int end)
    {
        Job* job = (Job*)context;
        Conv2d.DepthwiseJob* g = &job->Depthwise;
        long ringFloats = job->RingRows * job->RowStride;
        float* ring = Scratch.InvertedResidual(ringFloats + (long)job->BandRows * g->WOut * g->C);
        float* band = ring + ringFloats;
        if (t_tags == null || t_tags.Length < job->RingRows)
        {
            t_tags = new int[Math.Max(job->RingRows, 16)];
            t_jobId = 0;
        }

        int[] tags = t_tags;
        if (t_jobId != job->Id)
        {
            Array.Fill(tags, -1);
            t_jobId = job->Id;
        }

        for (int row = begin; row < end;)
        {
            int image = row / g->HOut, oy = row % g->HOut;
            int rows = Math.Min(Math.Min(job->BandRows, end - row), g->HOut - oy);
            Band(job, image, oy, rows, ring, band, tags);
            row += rows;
        }
    }

    // Output rows [oy, oy + rows) of one image.
    private static void Band(Job* job, int image, int oy, int rows, float* ring, float* band, int[] tags)
    {
        Conv2d.DepthwiseJob* g = &job->Depthwise;
        int h = g->H, w = g->W, cexp = g->C, stride = g->Stride, wOut = g->WOut, ringRows = job->RingRows;
        int cin = job->Expand.K, cout = job->Reduce.N;
        long rowStride = job->RowStride;
        // Input rows the band reads: [oy·s − 1, (oy + rows − 1)·s + 1] within the image; at most RingRows of them.
        int first = Math.Max(0, oy * stride - 1), last = Math.Min(h - 1, (oy + rows - 1) * stride + 1);
        for (int iy = first; iy <= last; iy++)
        {
            if (tags[iy % ringRows] == image * h + iy)
            {
                continue;
            }

            // one GEMM per missing row: ring rows are RingSkew floats apart, not contiguous
            Gemm.Job expand = job->Expand;
            expand.M = w;
            expand.A = job->Input + ((long)image * h + iy) * w * cin;
            expand.Lda = cin;
            expand.C = ring + iy % ringRows * rowStride;
            expand.Ldc = cexp;
            Gemm.Execute(null, &expand);
            tags[iy % ringRows] = image * h + iy;
        }

        for (int r = 0; r < rows; r++)
        {
            int iy = (oy + r) * stride - 1;           // the row above the tap centre
            float* middle = ring + (iy + 1) % ringRows * rowStride;
            float* above = iy >= 0 ? ring + iy % ringRows * rowStride : null;
            float* below = iy + 2 < h ? ring + (iy + 2) % ringRows * rowStride : null;
            Conv2d.DepthwiseRow(g, above, middle, below, band + (long)r * wOut * cexp);
        }

        long offset = ((long)image * g->HOut + oy) * wOut * cout;
        Gemm.Job reduce = job->Reduce;
        reduce.M = rows * wOut;
        reduce.A = band;
        reduce.Lda = cexp;
        reduce.Residual = job->Residual != null ? job->Residual + offset : null;
        reduce.Ldr = cout;
        reduce.C = job->Output + offset;
        reduce.Ldc = cout;
        Gemm.Execute(null, &reduce);
    }
}
