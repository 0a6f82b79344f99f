// Layout: pure data movement between the layouts the models use (NCHW pixels, NHWC feature maps, ViT patch rows,
// MobileViT 2x2-unfolded token sequences, the first token rows of each image). No arithmetic.
// Each runs on the pool over its output rows, in order, like the kernels around it: thread t writes the t-th 1/T of
// the output, which the next kernel's thread t then reads (WorkerPool affinity). Single-threaded, these copies kept
// the worker idle long enough to fall asleep, and the next kernel began without it (MobileViT-S: the stem convolution
// after the NCHW → NHWC copy ran no faster on 2 threads than on 1).
using System.Runtime.InteropServices;
using AotVit.Runtime.Threading;

namespace AotVit.Runtime.Kernels;

/// <summary>Layout conversions.</summary>
/// <remarks>Infrastructure for the generated model code (AotVit.Models.*), public because that code lives in another
/// assembly; not part of the supported API (use VisionModel, ImageClassifier, FeatureExtractor).</remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static unsafe class Layout
{
    private struct Job
    {
        public int Batch, C, H, W, Patch;
        public float* Input, Output;
    }

    /// <summary>output[b, y, x, ch] = input[b, ch, y, x]</summary>
    /// <param name="pool">worker pool, or null for single-threaded</param>
    /// <param name="input">[batch, c, h, w]</param>
    /// <param name="output">[batch, h, w, c]</param>
    public static void NchwToNhwc(WorkerPool? pool, int batch, int c, int h, int w, float* input, float* output)
    {
        Job job = new() { Batch = batch, C = c, H = h, W = w, Input = input, Output = output };
        Run(pool, batch * h, &NchwToNhwcRows, &job);
    }

    // Output rows [begin, end), row = b·H + y.
    private static void NchwToNhwcRows(void* context, int begin, int end)
    {
        Job* job = (Job*)context;
        int c = job->C, h = job->H, w = job->W;
        long plane = (long)h * w;
        for (int row = begin; row < end; row++)
        {
            int b = row / h, y = row % h;
            float* source = job->Input + b * plane * c + (long)y * w;       // channel ch at source + ch·plane, [w]
            float* destination = job->Output + (long)row * w * c;          // [w, c]
            if (c == 3)
            {
                float* red = source, green = source + plane, blue = source + 2 * plane;
                for (int x = 0; x < w; x++, destination += 3)
                {
                    destination[0] = red[x];
                    destination[1] = green[x];
                    destination[2] = blue[x];
                }

                continue;
            }

            for (int x = 0; x < w; x++)
            {
                for (int ch = 0; ch < c; ch++)
                {
                    destination[(long)x * c + ch] = source[ch * plane + x];
                }
            }
        }
    }

    /// <summary>
    /// im2col of non-overlapping p×p patches: output[(b·(H/p) + py)·(W/p) + px, (ch·p + ky)·p + kx] = input[b, ch, py·p + ky, px·p + kx].
    /// </summary>
    /// <param name="pool">worker pool, or null for single-threaded</param>
    /// <param name="input">[batch, c, h, w]</param>
    /// <param name="output">[batch·(h/p)·(w/p), c·p·p]</param>
    public static void Patches(WorkerPool? pool, int batch, int c, int h, int w, int patch, float* input, float* output)
    {
        Job job = new() { Batch = batch, C = c, H = h, W = w, Patch = patch, Input = input, Output = output };
        Run(pool, batch * (h / patch), &PatchRows, &job);
    }

    // Rows of patches [begin, end), row = b·(H/p) + py.
    private static void PatchRows(void* context, int begin, int end)
    {
        Job* job = (Job*)context;
        int c = job->C, h = job->H, w = job->W, patch = job->Patch;
        int rowsOfPatches = h / patch, columnsOfPatches = w / patch;
        long rowLength = (long)c * patch * patch;
        for (int row = begin; row < end; row++)
        {
            int b = row / rowsOfPatches, py = row % rowsOfPatches;
            for (int px = 0; px < columnsOfPatches; px++)
            {
                float* destination = job->Output + ((long)row * columnsOfPatches + px) * rowLength;
                for (int ch = 0; ch < c; ch++)
                {
                    for (int ky = 0; ky < patch; ky++, destination += patch)
                    {
                        float* source = job->Input + (((long)b * c + ch) * h + py * patch + ky) * w + px * patch;
                        NativeMemory.Copy(source, destination, (nuint)patch * sizeof(float));
                    }
                }
            }
        }
    }

    /// <summary>
    /// tokens[b·4 + ph·2 + pw, ih·(w/2) + iw, :] = nhwc[b, 2ih + ph, 2iw + pw, :]
    /// </summary>
    /// <param name="pool">worker pool, or null for single-threaded</param>
    /// <param name="nhwc">[batch, h, w, d]</param>
    /// <param name="tokens">[batch·4, (h/2)·(w/2), d]</param>
    public static void Unfold2x2(WorkerPool? pool, int batch, int h, int w, int d, float* nhwc, float* tokens)
    {
        Job job = new() { Batch = batch, C = d, H = h, W = w, Input = nhwc, Output = tokens };
        Run(pool, batch * 4 * (h / 2), &UnfoldRows, &job);
    }

    // Token rows [begin, end) of w/2 tokens each, row = (b·4 + ph·2 + pw)·(h/2) + ih: the tokens the next GEMM reads in order.
    private static void UnfoldRows(void* context, int begin, int end)
    {
        Job* job = (Job*)context;
        int h = job->H, w = job->W, halfH = h / 2, halfW = w / 2;
        long d = job->C;
        for (int row = begin; row < end; row++)
        {
            int sequence = row / halfH, ih = row % halfH;
            int b = sequence / 4, ph = sequence / 2 % 2, pw = sequence % 2;
            float* pixel = job->Input + (((long)b * h + 2 * ih + ph) * w + pw) * d;   // nhwc[b, 2ih + ph, pw, :]
            float* token = job->Output + (long)row * halfW * d;
            for (int iw = 0; iw < halfW; iw++, pixel += 2 * d, token += d)
            {
                NativeMemory.Copy(pixel, token, (nuint)d * sizeof(float));
            }
        }
    }

    /// <summary>nhwc[b, 2ih + ph, 2iw + pw, :] = tokens[b·4 + ph·2 + pw, ih·(w/2) + iw, :] (inverse of <see cref="Unfold2x2"/>).</summary>
    /// <param name="pool">worker pool, or null for single-threaded</param>
    /// <param name="tokens">[batch·4, (h/2)·(w/2), d]</param>
    /// <param name="nhwc">[batch, h, w, d]</param>
    public static void Fold2x2(WorkerPool? pool, int batch, int h, int w, int d, float* tokens, float* nhwc)
    {
        Job job = new() { Batch = batch, C = d, H = h, W = w, Input = tokens, Output = nhwc };
        Run(pool, batch * h, &FoldRows, &job);
    }

    // Image rows [begin, end), row = b·h + y: the rows the next convolution reads in order.
    private static void FoldRows(void* context, int begin, int end)
    {
        Job* job = (Job*)context;
        int h = job->H, w = job->W, halfH = h / 2, halfW = w / 2;
        long d = job->C;
        for (int row = begin; row < end; row++)
        {
            int b = row / h, y = row % h;
            float* pixel = job->Output + (long)row * w * d;
            for (int x = 0; x < w; x++, pixel += d)
            {
                long sequence = (long)b * 4 + (y % 2) * 2 + x % 2;
                float* token = job->Input + (sequence * halfH * halfW + (long)(y / 2) * halfW + x / 2) * d;
                NativeMemory.Copy(token, pixel, (nuint)d * sizeof(float));
            }
        }
    }

    /// <summary>output[b, r, :] = input[b, r, :] for r &lt; rows: the first rows of every image's [tokens, cols] block, compacted.</summary>
    /// <param name="pool">worker pool, or null for single-threaded</param>
    /// <param name="input">[batch, tokens, cols]</param>
    /// <param name="output">[batch, rows, cols]; must not overlap input</param>
    public static void FirstRows(WorkerPool? pool, int batch, int tokens, int rows, int cols, float* input, float* output)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rows, tokens);
        Job job = new() { Batch = batch, C = cols, H = tokens, W = rows, Input = input, Output = output };
        Run(pool, batch, &FirstRowsOfImages, &job);
    }

    // Images [begin, end): H = tokens per image, W = rows kept, C = columns; the kept rows are contiguous in both.
    private static void FirstRowsOfImages(void* context, int begin, int end)
    {
        Job* job = (Job*)context;
        long cols = job->C, kept = (long)job->W * cols;
        for (int b = begin; b < end; b++)
        {
            NativeMemory.Copy(job->Input + (long)b * job->H * cols, job->Output + (long)b * kept, (nuint)kept * sizeof(float));
        }
    }

    private static void Run(WorkerPool? pool, int rows, delegate*<void*, int, int, void> body, Job* job)
    {
        if (pool == null)
        {
            body(job, 0, rows);
        }
        else
        {
            pool.For(rows, body, job);
        }
    }
}
